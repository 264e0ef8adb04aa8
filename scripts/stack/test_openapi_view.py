"""openapi_view: the per-role spec schemathesis checks each role's answers against."""

import pathlib
import unittest

import yaml

from openapi_view import load, view

ROOT = pathlib.Path(__file__).resolve().parents[2]


def spec():
    return load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))


def answer(s, path, method, status):
    return s["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


class OpenApiViewTest(unittest.TestCase):
    def test_each_role_gets_its_own_schema_and_no_marks_remain(self):
        s = spec()
        messages = "/conversations/{conversation_id}/messages"
        card = "/conversations/{conversation_id}/prediction-card"
        for role, listed, opened in [
            ("buyer", "#/components/schemas/BuyerMessages", "#/components/schemas/BuyerCard"),
            ("staff", "#/components/schemas/StaffMessages", "#/components/schemas/PredictionCard"),
        ]:
            v = view(s, role)
            self.assertEqual(answer(v, messages, "get", "200"), {"$ref": listed})
            self.assertEqual(answer(v, card, "get", "200"), {"$ref": opened})
            self.assertNotIn("x-role", yaml.safe_dump(v))
        posted = answer(view(s, "staff"), messages, "post", "201")
        self.assertEqual(posted["required"], ["message"])

    def test_the_buyers_schemas_are_closed_and_name_nothing_a_buyer_may_not_see(self):
        schemas = spec()["components"]["schemas"]
        forbidden = {"classification", "intent", "evidence", "confidence", "confident", "panel",
                     "solution", "solution_id", "action_id", "note", "internal", "sent_as",
                     "sender_id", "reason", "visible_to_buyer", "robot_answer"}
        buyer = [name for name in schemas if name.startswith("Buyer")]
        self.assertGreaterEqual(len(buyer), 8, buyer)

        def walk(node, where):
            if isinstance(node, dict):
                if node.get("type") == "object":
                    self.assertIs(node.get("additionalProperties"), False, where)
                for key in node.get("properties", {}):
                    self.assertNotIn(key, forbidden, where)
                for k, v in node.items():
                    walk(v, f"{where}.{k}")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{where}[{i}]")

        for name in buyer:
            walk(schemas[name], name)

    def test_the_robots_on_stays_a_field_name_through_the_round_trip(self):
        robot = spec()["components"]["schemas"]["Robot"]
        self.assertIn("on", robot["required"])
        self.assertIn("on", robot["properties"])
        again = load(yaml.safe_dump(view(spec(), "staff"), allow_unicode=True, sort_keys=False))
        self.assertEqual(again["components"]["schemas"]["Robot"], robot)

    def test_a_role_marked_choice_without_that_role_is_refused(self):
        with self.assertRaises(ValueError):
            view({"oneOf": [{"x-role": "staff", "type": "object"}]}, "buyer")


if __name__ == "__main__":
    unittest.main()
