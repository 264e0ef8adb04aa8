#!/usr/bin/env bash
# Our intent engine and fastText (Debian package `fasttext`, its CLI), side by side in one run:
# trained on the same shared/data/intents/train.tsv, scored by the same `assistant eval` on dev.tsv,
# and timed on the same large file (dev.tsv's texts repeated to LINES lines), single thread.
#   bash scripts/peer.sh [LINES]   (default 1000000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
lines="${1:-1000000}"
work="$root/.local/peer"
mkdir -p "$work"

if ! command -v fasttext >/dev/null 2>&1; then
  echo "[peer] installing fasttext (Debian)" >&2
  apt-get update -qq && apt-get install -y -qq fasttext >/dev/null
fi
cargo build --quiet --release --bin assistant
bin="$root/target/release/assistant"
data="$root/shared/data/intents"

# fastText input: characters as tokens (white space dropped, lower case), word n-grams up to 3,
# so that it sees the same character 1-3-grams our engine does.
python3 - "$data" "$work" "$lines" <<'PY'
import sys, itertools
data, work, lines = sys.argv[1], sys.argv[2], int(sys.argv[3])
def chars(t): return " ".join(c for c in t.lower() if not c.isspace())
def rows(name):
    for line in open(f"{data}/{name}", encoding="utf-8"):
        cols = line.rstrip("\n").split("\t")
        if len(cols) >= 2 and cols[0].strip():
            yield cols[0].strip(), cols[1].strip()
with open(f"{work}/train.ft", "w", encoding="utf-8") as f:
    for t, l in rows("train.tsv"):
        f.write(f"__label__{l} {chars(t)}\n")
dev = list(rows("dev.tsv"))
with open(f"{work}/dev.ft", "w", encoding="utf-8") as f:
    for t, _ in dev:
        f.write(chars(t) + "\n")
with open(f"{work}/big.txt", "w", encoding="utf-8") as raw, open(f"{work}/big.ft", "w", encoding="utf-8") as ft:
    for t, _ in itertools.islice(itertools.cycle(dev), lines):
        raw.write(t + "\n")
        ft.write(chars(t) + "\n")
PY

fasttext supervised -input "$work/train.ft" -output "$work/model" -wordNgrams 3 -minn 0 -maxn 0 \
  -dim 64 -epoch 30 -lr 0.5 -loss softmax -thread 1 -seed 1 -verbose 0
fasttext predict "$work/model.bin" "$work/dev.ft" > "$work/dev.pred"

echo "=================== ours: assistant eval dev.tsv ==================="
"$bin" eval "$data/dev.tsv"
echo
echo "=================== fastText (same train, same scorer) ==================="
"$bin" eval "$data/dev.tsv" --predictions "$work/dev.pred"
echo

seconds() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.3f}')"; }
echo "=================== throughput on $lines lines, single thread ==================="
ft_s=$(seconds sh -c "fasttext predict '$work/model.bin' '$work/big.ft' > /dev/null")
our_s=$(seconds sh -c "'$bin' classify < '$work/big.txt' > '$work/big.out'")
our_lines=$(wc -l < "$work/big.out")
python3 - "$lines" "$ft_s" "$our_s" "$our_lines" <<'PY'
import sys
n, ft, ours, out = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"fastText predict : {ft:8.2f} s  {n/ft:12,.0f} lines/s")
print(f"assistant classify: {ours:8.2f} s  {n/ours:12,.0f} lines/s  ({out} JSON lines out)")
print(f"ratio (ours / fastText): {ft/ours:.2f}x")
PY
