"""The agent console's source (console/*.js), checked without a browser: the words the server
owns are not typed again in the console, and its modules import each other without a circle.

    python3 -m unittest discover -s scripts/stack -p 'test_*.py'

The intent, order-node and action labels are the domain's (`pub fn label(self) -> &'static str`
in shared/domain); the server sends them in its answers (`intent.label`, `node_label`,
`actions[].label`), and the console shows them from there. A copy in the console would drift
from the server's the day a label changes.
"""

from __future__ import annotations

import re
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LABEL_FN = re.compile(r"pub fn label\(self\) -> &'static str \{(.*?)\n    \}", re.S)
ARM = re.compile(r'=>\s*"([^"]+)"')
JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`((?:[^`\\]|\\.)*)`')


def server_labels() -> set[str]:
    """Every label a domain `label()` function returns, wherever the file sits in the crate."""
    labels: set[str] = set()
    for rs in (ROOT / "shared" / "domain" / "src").rglob("*.rs"):
        for body in LABEL_FN.findall(rs.read_text(encoding="utf-8")):
            labels.update(ARM.findall(body))
    return labels


def console_strings() -> dict[str, set[str]]:
    """Per console module, its string literals (a template literal's text around its `${…}`)."""
    out: dict[str, set[str]] = {}
    for js in sorted((ROOT / "console").glob("*.js")):
        found: set[str] = set()
        # Comments out first (their apostrophes and `names` are no strings).
        code = re.sub(r"/\*.*?\*/", "", js.read_text(encoding="utf-8"), flags=re.S)
        code = re.sub(r"^\s*//.*$", "", code, flags=re.M)
        for m in JS_STRING.finditer(code):
            text = next(g for g in m.groups() if g is not None)
            found.update(p for p in re.split(r"\$\{[^}]*\}", text) if p)
        out[js.name] = found
    return out


class ServerOwnedLabels(unittest.TestCase):
    def test_the_domain_labels_are_found(self):
        labels = server_labels()
        # 10 intents, 7 order nodes, 12 actions; one each at least of these.
        for known in ("什么时候发货", "超时未发货", "提醒仓库发货"):
            self.assertIn(known, labels)
        self.assertGreaterEqual(len(labels), 29)

    def test_the_console_does_not_retype_them(self):
        labels = server_labels()
        # A label as it is, or done ("已" + the action's label), as a toast after an action says it.
        copies = labels | {f"已{label}" for label in labels}
        strings = console_strings()
        self.assertIn("main.js", strings)
        self.assertIn("确认订单", strings["messages.js"])  # the console's own words are seen
        for module, found in strings.items():
            self.assertEqual(sorted(found & copies), [], f"console/{module} types a label the server sends")

    def test_the_check_sees_a_copied_label_table(self):
        # What the console had before the modules: the action labels typed again, done.
        table = 'const ACTION_DONE = { send_order_card: "已发送订单卡片", hold_shipment: `已通知仓库暂停发货` };'
        found = set()
        for m in JS_STRING.finditer(table):
            found.add(next(g for g in m.groups() if g is not None))
        labels = server_labels()
        self.assertEqual(found & {f"已{label}" for label in labels}, {"已发送订单卡片", "已通知仓库暂停发货"})


IMPORT = re.compile(r'^\s*import\b[^;]*?from\s+"\./([^"]+)";', re.M | re.S)


class Modules(unittest.TestCase):
    def test_no_module_imports_itself_through_others(self):
        graph = {js.name: IMPORT.findall(js.read_text(encoding="utf-8"))
                 for js in (ROOT / "console").glob("*.js")}
        self.assertIn("agent.js", graph["main.js"])
        done: set[str] = set()

        def visit(name: str, path: list[str]) -> None:
            self.assertNotIn(name, path, f"import circle: {' -> '.join(path + [name])}")
            if name in done:
                return
            for dep in graph[name]:
                self.assertIn(dep, graph, f"{name} imports a missing module {dep}")
                visit(dep, path + [name])
            done.add(name)

        for name in graph:
            visit(name, [])
        self.assertEqual(done, set(graph))

    def test_the_panes_do_not_import_each_other(self):
        # They call each other only through what main.js connects (connectAgent / connectBuyer).
        for pane, other in (("buyer.js", "agent.js"), ("agent.js", "buyer.js")):
            text = (ROOT / "console" / pane).read_text(encoding="utf-8")
            self.assertNotIn(other, IMPORT.findall(text), pane)


if __name__ == "__main__":
    unittest.main()
