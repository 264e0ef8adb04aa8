# Sourced by the scripts that start one local server in the background and stop it later
# (dynamodb-local.sh, tls-front.sh). Needs `root` set.

# Prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME PORT SCHEME CMD...: runs CMD in the background (log in .local/NAME.log, pid in
# .local/NAME.pid), waits until 127.0.0.1:PORT accepts, prints SCHEME://127.0.0.1:PORT.
start_server() {
  local name="$1" port="$2" scheme="$3"
  shift 3
  mkdir -p "$root/.local"
  "$@" >"$root/.local/$name.log" 2>&1 &
  echo $! >"$root/.local/$name.pid"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$scheme://127.0.0.1:$port"
      return 0
    fi
    sleep 0.2
  done
  echo "$name did not start; see .local/$name.log" >&2
  return 1
}

# stop_server NAME: stops what start_server NAME started, if it runs.
stop_server() {
  local pid_file="$root/.local/$1.pid"
  if [ -f "$pid_file" ]; then
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file"
  fi
}
