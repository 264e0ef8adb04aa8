#!/usr/bin/env bash
# The workbench a person can try, on 127.0.0.1: installs what it needs, then starts DynamoDB Local,
# moto's S3, the function binaries under `cargo lambda watch` and the local gateway (the routes of
# template.yaml, with a JWT check like the deployed authorizer), seeds the demo shop, and prints
# the one URL of the agent console. Ctrl-C stops everything it started.
#
# The scripted terminal demo of earlier is still there: bash scripts/demo.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/setup.sh >&2
export PATH="$HOME/.local/bin:$PATH"
exec python3 scripts/stack/main.py "$@"
