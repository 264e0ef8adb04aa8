#!/usr/bin/env bash
# The main job end to end on local defaults: installs what it needs, starts DynamoDB Local, creates
# the tables from template.yaml, seeds a demo shop with buyers and orders in every node, and plays a
# scripted conversation through the real handlers, printing what the buyer and the agent see.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/setup.sh >&2
endpoint="$(bash scripts/dynamodb-local.sh start)"
trap 'bash scripts/dynamodb-local.sh stop' EXIT
echo "[run] DynamoDB Local at $endpoint" >&2

cargo run --quiet --bin assistant -- demo --endpoint "$endpoint"
