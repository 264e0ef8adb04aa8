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

mkdir -p .local target/artifacts
ready="$root/.local/load-ready.json"
log="$root/target/artifacts/load-stack.log"
rm -f "$ready"
python3 scripts/stack/main.py --ready-file "$ready" >"$log" 2>&1 &
stack_pid=$!
stop_stack() {
  if kill -0 "$stack_pid" 2>/dev/null; then
    kill -INT "$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
  fi
}
trap stop_stack EXIT
for _ in $(seq 1 900); do
  [ -f "$ready" ] && break
  kill -0 "$stack_pid" 2>/dev/null || { tail -30 "$log" >&2; exit 1; }
  sleep 1
done
url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$ready")"
echo "[load] local stack at $url; ${seconds}s, ${workers} workers, ${conversations} conversations" >&2
python3 scripts/load.py --url "$url" --seconds "$seconds" --workers "$workers" \
  --conversations "$conversations" --json target/artifacts/load.json
