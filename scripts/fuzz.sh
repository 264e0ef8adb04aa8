#!/usr/bin/env bash
# Fuzzes every target in fuzz/ for SECONDS each (default 300), seeded from events/ and a sample of
# the intent corpus, and prints one line per target: runs, execs/s, corpus, result.
#   bash scripts/fuzz.sh            # 5 minutes per target
#   bash scripts/fuzz.sh 60 classify normalise
# Needs cargo-fuzz (installed here if missing) and a nightly toolchain (or RUSTC_BOOTSTRAP=1 on
# stable). Builds into fuzz/target, apart from the workspace's target/. Crashes are kept in
# fuzz/artifacts/<target>/; the script exits non-zero if any target found one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-300}"
shift || true

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
# Safe Rust throughout: no sanitizer, for speed (libFuzzer still catches panics and timeouts).
flags=(--sanitizer none --release)

cd "$root/fuzz"
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <("${fuzz[@]}" list); fi

# Seed corpora: the fixture events whole, their bodies alone, and buyer messages.
python3 - "$root" <<'EOF'
import json, os, sys, hashlib
root = sys.argv[1]
events = os.path.join(root, "events")
per_target = {
    "http_intake": ["intake-open-conversation.json", "intake-post-message.json", "intake-list-messages.json"],
    "http_order_card": ["order-card-get.json", "order-card-select.json"],
    "http_suggest": ["suggest-get-panel.json", "suggest-use-solution.json"],
    "http_replies": ["replies-get.json", "replies-put.json"],
    "http_feedback": ["feedback-post.json"],
    "http_shops": ["shops-put.json", "shops-deposit.json", "shops-ledger.json"],
    "push_socket": ["push-subscribe.json", "push-subscribe-conversation.json", "push-default.json"],
    "compensate_event": ["compensate-schedule.json"],
}
def put(target, data):
    d = os.path.join(root, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)
texts = []
for target, files in per_target.items():
    for name in files:
        raw = open(os.path.join(events, name), "rb").read()
        put(target, raw)
        body = json.loads(raw).get("body")
        if isinstance(body, str) and body.strip():
            put(target, body.encode())
            try:
                t = json.loads(body).get("text")
                if isinstance(t, str):
                    texts.append(t)
            except (ValueError, AttributeError):
                pass
with open(os.path.join(root, "shared", "data", "intents", "dev.tsv"), encoding="utf-8") as f:
    texts += [line.split("\t")[0] for line in f.read().splitlines()[:200]]
for i, t in enumerate(texts):
    put("normalise", t.encode())
    put("classify", bytes([i % 11]) + t.encode())
EOF

"${fuzz[@]}" build "${flags[@]}"
mkdir -p logs
printf '%-18s %8s %12s %10s %8s  %s\n' target seconds runs execs_per_s corpus result
failed=0
for t in "${targets[@]}"; do
  log="logs/$t.log"
  if "${fuzz[@]}" run "${flags[@]}" "$t" "corpus/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see fuzz/$log, fuzz/artifacts/$t/)"
    failed=1
  fi
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)"
  rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)"
  corpus="$(find "corpus/$t" -type f | wc -l)"
  printf '%-18s %8s %12s %10s %8s  %s\n' "$t" "$secs" "${runs:-?}" "${rate:-?}" "$corpus" "$result"
done
exit "$failed"
