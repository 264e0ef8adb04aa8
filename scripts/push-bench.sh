#!/usr/bin/env bash
# Issue 17, item 4: the browser measurement of push (tests/browser/push-bench.mjs) on a fresh local
# stack that counts DynamoDB requests (STACK_COUNT_DYNAMODB=1). Arguments go to push-bench.mjs:
#
#   bash scripts/push-bench.sh                       # 100 buyer messages, then 5 idle minutes
#   bash scripts/push-bench.sh --messages 20 --idle-seconds 30 --check
#
# STACK_CONSOLE_DIR=DIR serves another console (the polling one before push: see BENCHMARKS.md).
# Run after scripts/setup.sh; the stack stops whatever happens.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.local/bin:$PATH"

# shellcheck source=lib/stack.sh
source scripts/lib/stack.sh
raise_buyer_limits
export STACK_COUNT_DYNAMODB="${STACK_COUNT_DYNAMODB:-1}"
start_stack push-bench

echo "[push-bench] the buyer and the agent in two browser contexts" >&2
STACK_URL="$url" node tests/browser/push-bench.mjs "$@"
