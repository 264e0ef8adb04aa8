#!/usr/bin/env bash
# Starts or stops DynamoDB Local (in memory) on 127.0.0.1 and a free port.
#   scripts/dynamodb-local.sh start   -> prints the endpoint URL; the pid goes to .local/dynamodb.pid
#   scripts/dynamodb-local.sh stop
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ddb_dir="$root/.local/dynamodb-local"
# shellcheck source=lib/server.sh
source "$root/scripts/lib/server.sh"

case "${1:-}" in
  start)
    port="$(free_port)"
    start_server dynamodb "$port" http java -Djava.library.path="$ddb_dir/DynamoDBLocal_lib" \
      -jar "$ddb_dir/DynamoDBLocal.jar" -inMemory -port "$port"
    ;;
  stop)
    stop_server dynamodb
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
