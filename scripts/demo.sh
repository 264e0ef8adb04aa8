#!/usr/bin/env bash
# The scripted terminal demo: DynamoDB Local and moto's S3 on free ports, fresh tables from
# template.yaml, the demo shop seeded, and a conversation played through the real handlers,
# printing what the buyer and the agent see (the card, the panel, the shop's edited reply, a
# feedback with its screenshot, the robot's answer and the handoff, the coupon) and the DynamoDB
# requests of every step. Stops both servers at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh >&2
export PATH="$HOME/.local/bin:$PATH"

endpoint="$(bash scripts/dynamodb-local.sh start)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto_pid=$!
cleanup() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  bash scripts/dynamodb-local.sh stop
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
  sleep 0.2
done
echo "[demo] DynamoDB Local at $endpoint, moto S3 at http://127.0.0.1:$port" >&2
cargo run --quiet --bin assistant -- demo --endpoint "$endpoint" --s3-endpoint "http://127.0.0.1:$port"
