#!/usr/bin/env bash
# Starts or stops DynamoDB Local (in memory) on 127.0.0.1 and a free port.
#   scripts/dynamodb-local.sh start   -> prints the endpoint URL; the pid goes to .local/dynamodb.pid
#   scripts/dynamodb-local.sh stop
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ddb_dir="$root/.local/dynamodb-local"
pid_file="$root/.local/dynamodb.pid"

case "${1:-}" in
  start)
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    java -Djava.library.path="$ddb_dir/DynamoDBLocal_lib" -jar "$ddb_dir/DynamoDBLocal.jar" \
      -inMemory -port "$port" >"$root/.local/dynamodb.log" 2>&1 &
    echo $! >"$pid_file"
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "http://127.0.0.1:$port"
        exit 0
      fi
      sleep 0.2
    done
    echo "DynamoDB Local did not start; see .local/dynamodb.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$pid_file" ]; then
      kill "$(cat "$pid_file")" 2>/dev/null || true
      rm -f "$pid_file"
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
