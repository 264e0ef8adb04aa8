#!/usr/bin/env bash
# The local stack under test: starts it as scripts/run.sh does (fresh data), drives the agent
# console in chromium (tests/browser, screenshot in target/artifacts/console.png), runs schemathesis
# against the local API with openapi.yaml, and stops the stack whatever happens.
# Part of scripts/test.sh; run alone after scripts/setup.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.local/bin:$PATH"

# shellcheck source=lib/stack.sh
source scripts/lib/stack.sh
start_stack stack

echo "[test] the agent console in chromium (playwright-core)"
(cd tests/browser && STACK_URL="$url" node --test --test-reporter=spec console.test.mjs)

echo "[test] schemathesis against the local API (openapi.yaml)"
bash scripts/schemathesis.sh "$url"
