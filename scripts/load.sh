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
raise_buyer_limits
start_stack load-stack
echo "[load] local stack at $url; ${seconds}s, ${workers} workers, ${conversations} conversations, ${agents} agent connections" >&2
python3 scripts/load.py --url "$url" --seconds "$seconds" --workers "$workers" \
  --conversations "$conversations" --agents "$agents" --json target/artifacts/load.json
