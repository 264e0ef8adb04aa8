"""openapi.yaml as one role receives it.

An answer whose shape depends on the caller's role is a `oneOf` whose alternatives are marked
`x-role: buyer` or `x-role: staff`. For ROLE, each such `oneOf` becomes its ROLE alternative, so
schemathesis checks a buyer's answers against the buyer's (closed) schemas only, and staff's
against the staff's; the `x-role` marks are dropped.

    python3 scripts/stack/openapi_view.py buyer|staff < openapi.yaml > openapi-buyer.yaml
"""

import re
import sys

import yaml

ROLES = ("buyer", "staff")


class Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only: keys such as the robot's `on` stay strings (YAML 1.1 reads them
    as true), as schemathesis reads openapi.yaml itself."""


Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(text):
    return yaml.load(text, Loader=Loader)


def view(node, role):
    """`node` with every role-marked `oneOf` resolved to `role`'s alternative."""
    if isinstance(node, dict):
        alternatives = node.get("oneOf")
        if (
            isinstance(alternatives, list)
            and alternatives
            and all(isinstance(a, dict) and "x-role" in a for a in alternatives)
        ):
            chosen = [a for a in alternatives if a["x-role"] == role]
            if len(chosen) != 1:
                raise ValueError(f"a role-marked oneOf needs exactly one {role} alternative")
            rest = {k: v for k, v in node.items() if k != "oneOf"}
            return view({**rest, **chosen[0]}, role)
        return {k: view(v, role) for k, v in node.items() if k != "x-role"}
    if isinstance(node, list):
        return [view(v, role) for v in node]
    return node


def main(argv):
    if len(argv) != 2 or argv[1] not in ROLES:
        sys.exit("usage: openapi_view.py buyer|staff < openapi.yaml")
    spec = load(sys.stdin)
    yaml.safe_dump(view(spec, argv[1]), sys.stdout, allow_unicode=True, sort_keys=False)


if __name__ == "__main__":
    main(sys.argv)
