#!/usr/bin/env bash
# The deploy path, proven (README, "Deploy"; part of scripts/test.sh):
#   1. `sam validate --lint`, then `sam build --beta-features`: every function of template.yaml
#      built by cargo-lambda (Zig from PyPI as the cross linker) for arm64 into .aws-sam/build;
#   2. every function's `bootstrap` is a 64-bit aarch64 ELF executable within its size limit, asking
#      for no glibc newer than provided.al2023's (scripts/deploy_check.py);
#   3. the emulator is strict: a probe using SHA3's EOR3, which Graviton2 lacks, dies of SIGILL;
#   4. every bootstrap runs: under qemu-user-static emulating a Graviton2 core (Neoverse N1, what
#      Lambda's arm64 hosts are), started through the local Lambda Runtime API harness (`assistant
#      bench coldstart --bootstrap ...`), it answers its events/ fixture against DynamoDB Local with
#      the same answer as the host's x86_64 build of the same function. Emulated timings mean
#      nothing: none are taken.
# Uses $AWS_ENDPOINT_URL_DYNAMODB when set (scripts/test.sh has DynamoDB Local running), else starts
# and stops its own. The wall clock of each step goes to target/artifacts/deploy-check.txt.
# Needs what scripts/setup.sh installs (scripts/test.sh runs it first).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.local/bin:$PATH"
# No usage metrics sent from a test run.
export SAM_CLI_TELEMETRY=0

say() { printf '[deploy-check] %s\n' "$*"; }

target_dir="${CARGO_TARGET_DIR:-$root/target}"
build_dir="$root/.aws-sam/build"
artifacts="$target_dir/artifacts"
mkdir -p "$artifacts"
timings="$artifacts/deploy-check.txt"
: >"$timings"
# Debian's libc6-arm64-cross: the aarch64 loader and libc the dynamically linked bootstraps need.
arm64_sysroot=/usr/aarch64-linux-gnu
runner="qemu-aarch64-static -L $arm64_sysroot -cpu neoverse-n1"

step_start=0
begin() { step_start=$(date +%s); say "$*"; }
took() {
  local s=$(($(date +%s) - step_start))
  say "$1: ${s} s"
  printf '%s\t%s s\n' "$1" "$s" >>"$timings"
}

begin "sam validate --lint"
sam validate --lint
took "sam validate --lint"

# cargo-lambda builds each function into the workspace's own target directory (aws-lambda-builders
# sets CARGO_TARGET_DIR to it, or keeps the one given), so the six builds share their dependencies
# and a second run only relinks what changed.
begin "sam build --beta-features (arm64, cargo-lambda with Zig)"
sam build --beta-features
took "sam build --beta-features"

begin "the bootstraps in $build_dir"
python3 -m unittest -q scripts/test_deploy_check.py
status=0
report="$(python3 scripts/deploy_check.py check template.yaml "$build_dir")" || status=$?
printf '%s\n' "$report" | grep -v '^bootstrap '
[ "$status" -eq 0 ] || exit "$status"
bootstraps=()
while IFS='=' read -r name path; do
  bootstraps+=(--bootstrap "$name=$path")
done < <(printf '%s\n' "$report" | sed -n 's/^bootstrap //p')
took "ELF, size and glibc checks"

# The emulated core must be as strict as Lambda's: a binary using an instruction Graviton2 lacks
# (SHA3's EOR3, as in cargo-lambda#934) must die here of SIGILL as it would there.
begin "the emulated core is a Neoverse N1: an instruction it lacks is a SIGILL"
probe="$artifacts/sha3-probe"
python3 scripts/deploy_check.py sha3-probe "$probe"
# shellcheck disable=SC2086 # the runner is a command and its options
on_n1="$( (ulimit -c 0; $runner "$probe" >/dev/null 2>&1 && echo 0 || echo $?) 2>/dev/null)"
on_max="$( (ulimit -c 0; qemu-aarch64-static -cpu max "$probe" >/dev/null 2>&1 && echo 0 || echo $?) 2>/dev/null)"
if [ "$on_n1" != 132 ] || [ "$on_max" != 0 ]; then
  say "FAIL: the SHA3 probe exited $on_n1 under '$runner' (SIGILL, 132, expected) and $on_max under -cpu max (0 expected)"
  exit 1
fi
say "the SHA3 probe: SIGILL on the emulated Neoverse N1, exit 0 on a core with SHA3"
took "the emulated core refuses what Graviton2 lacks"

# The same command as the local stack's (scripts/stack/main.py): whichever runs first builds them.
begin "the host's builds of the same functions (x86_64, debug, as the tests run them: cargo build --bins)"
cargo build --quiet --bins
took "host builds (cargo build --bins)"

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  AWS_ENDPOINT_URL_DYNAMODB="$(bash scripts/dynamodb-local.sh start)"
  trap 'bash scripts/dynamodb-local.sh stop' EXIT
fi
begin "every arm64 bootstrap under '$runner' against DynamoDB Local at $AWS_ENDPOINT_URL_DYNAMODB"
"$target_dir/debug/assistant" bench coldstart --endpoint "$AWS_ENDPOINT_URL_DYNAMODB" \
  --target-dir "$target_dir" --runner "$runner" "${bootstraps[@]}"
took "arm64 bootstraps answered as the host build"

say "wall clock per step (also in $timings):"
cat "$timings"
