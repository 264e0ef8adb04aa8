#!/usr/bin/env bash
# Our intent engine beside two peers trained on the same shared/data/intents/train.tsv, scored by
# the same `assistant eval` in one run, on dev.tsv and on the real buyer lines (real-dev.tsv, kept
# outside the repository: $ASSISTANT_REAL_DEV or ../shared/eval/real-dev.tsv; skipped with a note
# when absent):
#   - fastText (Debian package `fasttext`, its CLI), characters as tokens, word n-grams up to 3;
#   - scikit-learn (PyPI): TF-IDF character 1-3-grams and a logistic regression.
# Both are installed here when missing (idempotent). Then all three are timed on the same large
# file (dev.tsv's texts repeated to LINES lines), single thread.
#   bash scripts/peer.sh [LINES]   (default 1000000; 0 skips the timing)
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
if ! python3 -c "import sklearn" >/dev/null 2>&1; then
  echo "[peer] installing scikit-learn (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "scikit-learn==1.5.2"
fi
cargo build --quiet --release --bin assistant
bin="$root/target/release/assistant"
data="$root/shared/data/intents"
real="${ASSISTANT_REAL_DEV:-$root/../shared/eval/real-dev.tsv}"
sets=("$data/dev.tsv")
if [ -f "$real" ]; then
  sets+=("$real")
else
  echo "[peer] real-dev not found at $real (set ASSISTANT_REAL_DEV): scoring dev.tsv only" >&2
fi

# The texts of a labelled file (header line of real-dev skipped), one per line.
texts() { awk -F'\t' 'NR == 1 && $1 == "text" { next } NF >= 2 && $1 != "" { print $1 }' "$1"; }

# fastText input: characters as tokens (white space dropped, lower case).
ft_chars() { python3 -c '
import sys
for line in sys.stdin:
    print(" ".join(c for c in line.rstrip("\n").lower() if not c.isspace()))'; }

awk -F'\t' 'NF >= 2 && $1 != "" { print "__label__" $2 " " $1 }' "$data/train.tsv" \
  | python3 -c '
import sys
for line in sys.stdin:
    label, _, text = line.rstrip("\n").partition(" ")
    print(label, " ".join(c for c in text.lower() if not c.isspace()))' > "$work/train.ft"
fasttext supervised -input "$work/train.ft" -output "$work/model" -wordNgrams 3 -minn 0 -maxn 0 \
  -dim 64 -epoch 30 -lr 0.5 -loss softmax -thread 1 -seed 1 -verbose 0

# scikit-learn: fitted once, pickled, then used for every file (and for the timing).
python3 - "$data/train.tsv" "$work/sklearn.pkl" <<'PY'
import pickle, sys
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
texts, labels = [], []
for line in open(sys.argv[1], encoding="utf-8"):
    cols = line.rstrip("\n").split("\t")
    if len(cols) >= 2 and cols[0].strip():
        texts.append(cols[0].strip()); labels.append(cols[1].strip())
model = make_pipeline(
    TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, lowercase=True),
    LogisticRegression(C=10.0, max_iter=2000),
)
model.fit(texts, labels)
pickle.dump(model, open(sys.argv[2], "wb"))
PY
cat > "$work/sk_predict.py" <<'PY'
import pickle, sys
model = pickle.load(open(sys.argv[1], "rb"))
texts = [l.rstrip("\n") for l in sys.stdin]
for i in range(0, len(texts), 10000):
    for p in model.predict(texts[i:i + 10000]):
        print(p)
PY
sk_predict() { OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 "$work/sk_predict.py" "$work/sklearn.pkl"; }

for set in "${sets[@]}"; do
  name="$(basename "$set" .tsv)"
  texts "$set" | ft_chars > "$work/$name.ft"
  fasttext predict "$work/model.bin" "$work/$name.ft" > "$work/$name.fasttext"
  texts "$set" | sk_predict > "$work/$name.sklearn"
  echo "=================== $name: ours, fastText, scikit-learn ==================="
  "$bin" eval "$set" --peer "fasttext=$work/$name.fasttext" --peer "sklearn=$work/$name.sklearn"
  echo
done

[ "$lines" -gt 0 ] || exit 0
texts "$data/dev.tsv" > "$work/dev.txt"
python3 - "$work/dev.txt" "$work/big.txt" "$lines" <<'PY'
import sys, itertools
dev = [l for l in open(sys.argv[1], encoding="utf-8")]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.writelines(itertools.islice(itertools.cycle(dev), int(sys.argv[3])))
PY
ft_chars < "$work/big.txt" > "$work/big.ft"

seconds() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.3f}')"; }
echo "=================== throughput on $lines lines, single thread ==================="
ft_s=$(seconds sh -c "fasttext predict '$work/model.bin' '$work/big.ft' > /dev/null")
our_s=$(seconds sh -c "'$bin' classify < '$work/big.txt' > '$work/big.out'")
our_lines=$(wc -l < "$work/big.out")
sk_s=$(seconds sh -c "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 '$work/sk_predict.py' '$work/sklearn.pkl' < '$work/big.txt' > /dev/null")
python3 - "$lines" "$ft_s" "$our_s" "$our_lines" "$sk_s" <<'PY'
import sys
n, ft, ours, out, sk = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
print(f"fastText predict  : {ft:8.2f} s  {n/ft:12,.0f} lines/s")
print(f"scikit-learn      : {sk:8.2f} s  {n/sk:12,.0f} lines/s")
print(f"assistant classify: {ours:8.2f} s  {n/ours:12,.0f} lines/s  ({out} JSON lines out)")
print(f"ratio (ours / fastText): {ft/ours:.2f}x")
PY
