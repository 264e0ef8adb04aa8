#!/usr/bin/env bash
# The documented load run: starts the local stack (as scripts/run.sh does, fresh data), drives many
# concurrent conversations through the gateway for a while, reads every accepted message back,
# prints throughput, latency and errors, and stops the stack. Meanwhile `agents` WebSocket
# connections follow the shop's queue and the conversations (half of them reconnect part-way
# through) and every pushed message is counted: each must arrive once, or in a catch-up.
#   bash scripts/load.sh [seconds=180] [workers=16] [conversations=400] [agents=8]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh >&2
export PATH="$HOME/.local/bin:$PATH"
seconds="${1:-180}"; workers="${2:-16}"; conversations="${3:-400}"; agents="${4:-8}"

# shellcheck source=lib/stack.sh
source scripts/lib/stack.sh
# One test buyer sends thousands of messages here: the buyers' limits (429 beyond them) are
# raised for this run; their own tests are shared/domain/tests/limits.rs and
# tests/integration/limits.rs. scripts/run.sh keeps the template's defaults.
export STACK_PARAMETERS="${STACK_PARAMETERS:-BuyerMessagesPerMinute=1000000 BuyerConversationsPerShopPerDay=1000000}"
start_stack load-stack
echo "[load] local stack at $url; ${seconds}s, ${workers} workers, ${conversations} conversations, ${agents} agent connections" >&2
python3 scripts/load.py --url "$url" --seconds "$seconds" --workers "$workers" \
  --conversations "$conversations" --agents "$agents" --json target/artifacts/load.json
