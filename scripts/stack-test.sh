#!/usr/bin/env bash
# The local stack under test: starts it as scripts/run.sh does (fresh data), drives the agent
# console in chromium (tests/browser, screenshot in target/artifacts/console.png), runs schemathesis
# against the local API with openapi.yaml, and stops the stack whatever happens.
# Part of scripts/test.sh; run alone after scripts/setup.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.local/bin:$PATH"

mkdir -p .local target/artifacts
ready="$root/.local/stack-test-ready.json"
log="$root/target/artifacts/stack.log"
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

echo "[test] starting the local stack (log: $log)"
for _ in $(seq 1 900); do
  [ -f "$ready" ] && break
  if ! kill -0 "$stack_pid" 2>/dev/null; then
    echo "[test] the local stack did not start:" >&2
    tail -30 "$log" >&2
    exit 1
  fi
  sleep 1
done
[ -f "$ready" ] || { echo "[test] the local stack was not ready in 15 minutes" >&2; exit 1; }
url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$ready")"
echo "[test] local stack at $url"

echo "[test] the agent console in chromium (playwright-core)"
(cd tests/browser && STACK_URL="$url" node --test --test-reporter=spec console.test.mjs)

echo "[test] schemathesis against the local API (openapi.yaml)"
bash scripts/schemathesis.sh "$url"
