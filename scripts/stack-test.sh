#!/usr/bin/env bash
# The local stack under test: starts it as scripts/run.sh does (fresh data), drives the agent
# console in chromium (tests/browser, screenshot in target/artifacts/console.png), checks push with
# the buyer and the agent in two browser contexts (tests/browser/push-bench.mjs), runs schemathesis
# against the local API with openapi.yaml, and stops the stack whatever happens.
# Part of scripts/test.sh; run alone after scripts/setup.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.local/bin:$PATH"

# shellcheck source=lib/stack.sh
source scripts/lib/stack.sh
raise_buyer_limits
# /local/counts counts DynamoDB requests too: the push check below reads them.
export STACK_COUNT_DYNAMODB=1
start_stack stack

echo "[test] the agent console in chromium (playwright-core)"
(cd tests/browser && STACK_URL="$url" node --test --test-reporter=spec console.test.mjs)

echo "[test] the agent's socket drops while the buyer asks: the console catches up, line and panel"
(cd tests/browser && STACK_URL="$url" node --test --test-reporter=spec reconnect.test.mjs)

echo "[test] push in two browser contexts: every line and panel reaches the agent; an idle console reads ≤ 10 a minute"
(STACK_URL="$url" node tests/browser/push-bench.mjs --messages 20 --idle-seconds 60 --check \
  --label stack-test --out target/artifacts/push-bench-stack-test.json)

echo "[test] schemathesis against the local API (openapi.yaml)"
bash scripts/schemathesis.sh "$url"
