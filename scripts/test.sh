#!/usr/bin/env bash
# All the tests, on a fresh machine too: installs what they need, checks format and lints, starts
# DynamoDB Local, runs every test (unit, handler, integration against DynamoDB Local, the SAM
# template check, openapi.yaml against template.yaml, cargo lambda watch), then the deploy path
# (scripts/deploy-check.sh: `sam build --beta-features` for arm64, every bootstrap checked and run
# under qemu against the same DynamoDB Local), and stops DynamoDB Local again. Then the local
# stack: the gateway's unit tests, the whole stack started as `scripts/run.sh` starts it, the
# agent console driven in chromium (tests/browser), and schemathesis against the local API with
# openapi.yaml; the stack is stopped at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH"
# A test run builds once: no incremental caches (they would double the debug build's disk).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# What the build has taken and what the disk has left, at each phase (a CI machine may have only
# a few GB free; BENCHMARKS.md, "The test run's disk").
disk() {
  local used
  used="$( (du -sh "${CARGO_TARGET_DIR:-$root/target}" 2>/dev/null || true) | cut -f1)"
  echo "[test] disk $1: target ${used:-0}, $(df -h "$root" | awk 'NR==2 {print $4}') free"
}
disk "at the start"

echo "[test] cargo fmt --check"
cargo fmt --all -- --check
echo "[test] cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# The fuzz crate is its own workspace (cargo-fuzz builds it with nightly flags); checking it here,
# on stable, keeps its targets in step with the handlers they call. Running them: scripts/fuzz.sh.
echo "[test] the fuzz targets compile"
(cd fuzz && cargo fmt -- --check && cargo check --bins --locked)

endpoint="$(bash scripts/dynamodb-local.sh start)"
trap 'bash scripts/dynamodb-local.sh stop' EXIT
echo "[test] DynamoDB Local at $endpoint"
export AWS_ENDPOINT_URL_DYNAMODB="$endpoint"

cargo test --workspace --no-fail-fast

disk "after the workspace tests"
echo "[test] the deploy path: sam build for arm64, the bootstraps checked and run under qemu"
bash scripts/deploy-check.sh
bash scripts/dynamodb-local.sh stop
unset AWS_ENDPOINT_URL_DYNAMODB
disk "after the deploy path"

# The intent engine on our dev split and on the real buyer lines, which live outside the
# repository ($ASSISTANT_REAL_DEV, or ../shared/eval/real-dev.tsv beside it; never copied in). The
# quality gate: the payout decision's precision on real-dev must be at least 0.95.
echo "[test] intent eval: dev.tsv"
cargo run --quiet --bin assistant -- eval shared/data/intents/dev.tsv | tail -n 4
real_dev="${ASSISTANT_REAL_DEV:-$root/../shared/eval/real-dev.tsv}"
if [ -f "$real_dev" ]; then
  echo "[test] intent eval: real-dev ($real_dev), gate payout precision >= 0.95"
  cargo run --quiet --bin assistant -- eval "$real_dev" --gate-payout-precision 0.95 | tail -n 5
else
  echo "[test] intent gate SKIPPED: real-dev not found at $real_dev (set ASSISTANT_REAL_DEV)"
fi

echo "[test] the local gateway's unit tests"
python3 -m unittest discover -s scripts/stack -p 'test_*.py'

bash scripts/stack-test.sh
disk "at the end"
