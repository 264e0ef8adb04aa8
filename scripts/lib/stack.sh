# Sourced by scripts that need a fresh local stack: `start_stack NAME` starts
# scripts/stack/main.py in the background (log in target/artifacts/NAME.log), waits until it
# answers, sets `url`, and stops it on exit, whatever happens. Needs `root` set and cwd = root.

start_stack() {
  local name="$1"
  mkdir -p .local target/artifacts
  stack_ready="$root/.local/$name-ready.json"
  stack_log="$root/target/artifacts/$name.log"
  rm -f "$stack_ready"
  python3 scripts/stack/main.py --ready-file "$stack_ready" >"$stack_log" 2>&1 &
  stack_pid=$!
  trap stop_stack EXIT
  echo "[$name] starting the local stack (log: $stack_log)" >&2
  for _ in $(seq 1 900); do
    [ -f "$stack_ready" ] && break
    if ! kill -0 "$stack_pid" 2>/dev/null; then
      echo "[$name] the local stack did not start:" >&2
      tail -30 "$stack_log" >&2
      exit 1
    fi
    sleep 1
  done
  [ -f "$stack_ready" ] || { echo "[$name] the local stack was not ready in 15 minutes" >&2; exit 1; }
  url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$stack_ready")"
  echo "[$name] local stack at $url" >&2
}

stop_stack() {
  if kill -0 "$stack_pid" 2>/dev/null; then
    kill -INT "$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
  fi
}

# One test buyer sends thousands of messages in the stack tests and benches: the buyers' limits
# (429 beyond them) are raised for the run, unless STACK_PARAMETERS says otherwise; their own
# tests are shared/domain/tests/limits.rs and tests/integration/limits.rs. scripts/run.sh keeps
# the template's defaults.
raise_buyer_limits() {
  export STACK_PARAMETERS="${STACK_PARAMETERS:-BuyerMessagesPerMinute=1000000 BuyerConversationsPerShopPerDay=1000000}"
}
