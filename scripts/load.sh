#!/usr/bin/env bash
# The documented load run: starts the local stack (as scripts/run.sh does, fresh data), drives many
# concurrent conversations through the gateway for a while, reads every accepted message back,
# prints throughput, latency and errors, and stops the stack.
#   bash scripts/load.sh [seconds=180] [workers=16] [conversations=400]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh >&2
export PATH="$HOME/.local/bin:$PATH"
seconds="${1:-180}"; workers="${2:-16}"; conversations="${3:-400}"

# shellcheck source=lib/stack.sh
source scripts/lib/stack.sh
# One test buyer sends thousands of messages here: the buyers' limits (429 beyond them) are
# raised for this run; their own tests are shared/domain/tests/limits.rs and
# tests/integration/limits.rs. scripts/run.sh keeps the template's defaults.
export STACK_PARAMETERS="${STACK_PARAMETERS:-BuyerMessagesPerMinute=1000000 BuyerConversationsPerShopPerDay=1000000}"
start_stack load-stack
echo "[load] local stack at $url; ${seconds}s, ${workers} workers, ${conversations} conversations" >&2
python3 scripts/load.py --url "$url" --seconds "$seconds" --workers "$workers" \
  --conversations "$conversations" --json target/artifacts/load.json
