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
start_stack load-stack
echo "[load] local stack at $url; ${seconds}s, ${workers} workers, ${conversations} conversations" >&2
python3 scripts/load.py --url "$url" --seconds "$seconds" --workers "$workers" \
  --conversations "$conversations" --json target/artifacts/load.json
