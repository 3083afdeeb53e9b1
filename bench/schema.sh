#!/usr/bin/env bash
# Times `shiplint scan --packs schema` against peer validators on the same
# corpus, in one run, and prints CPU/wall/memory with ratios.
#
#   bash bench/schema.sh [CORPUS_DIR]        # default: ../shared/corpus/k8s
#   BENCH_SCALE=20 bash bench/schema.sh      # also the corpus copied ×20 (hard links)
#   BENCH_CHECKOV=0 bash bench/schema.sh     # skip checkov (slow)
#
# Peers come from PyPI into bench/.venv: kubernetes-validate (the schemas we
# embed, Python jsonschema) and checkov --framework kubernetes.
# kubeconform is neither on PyPI nor npm nor Debian here, so it is not run;
# the issue's figure for it (0.66 CPU-s / 0.56 s wall on the 453-file corpus)
# is quoted in the README for scale.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CORPUS=$(cd "${1:-../shared/corpus/k8s}" && pwd)
SCALE=${BENCH_SCALE:-20}
OUT=$ROOT/bench/out
mkdir -p "$OUT"

cargo build --release --quiet
SHIPLINT=${CARGO_TARGET_DIR:-$ROOT/target}/release/shiplint

VENV=$ROOT/bench/.venv
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet kubernetes-validate
fi
if [ "${BENCH_CHECKOV:-1}" = 1 ] && [ ! -x "$VENV/bin/checkov" ]; then
  "$VENV/bin/pip" install --quiet checkov
fi

scaled() {
  local n=$1 dir=$OUT/corpus-x$1
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir.tmp"
    for i in $(seq 1 "$n"); do cp -al "$CORPUS" "$dir.tmp/copy$i"; done
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# Median of 3 runs of "wall user sys maxrss_kb".
measure() {
  local runs=${RUNS:-3} i
  for i in $(seq 1 "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.$i" "$@" >/dev/null 2>&1 || true
  done
  for i in $(seq 1 "$runs"); do tail -n 1 "$OUT/time.$i"; done | awk '{print $1+0, $2+$3, $4}' | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

row() { # name files wall cpu rss base_cpu
  awk -v n="$1" -v w="$2" -v c="$3" -v m="$4" -v b="$5" \
    'BEGIN { printf "| %-44s | %8.2f | %8.2f | %8.0f | %8s |\n", n, w, c, m/1024, (b > 0 ? sprintf("%.1fx", c / b) : "1.0x") }'
}

bench_corpus() {
  local dir=$1 label=$2
  local files; files=$(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | wc -l)
  echo
  echo "### $label: $files YAML/JSON files"
  echo
  echo "| tool | wall s | CPU s | RSS MB | CPU vs shiplint |"
  echo "|---|---:|---:|---:|---:|"
  read -r w c m < <(measure "$SHIPLINT" scan --no-config --packs schema "$dir")
  local base=$c
  row "shiplint scan --packs schema" "$w" "$c" "$m" 0
  read -r w c m < <(RUNS=1 measure "$SHIPLINT" scan --no-config --packs schema,deprecations,practices "$dir" 2>/dev/null || echo "0 0 0")
  [ "$c" != 0 ] && row "shiplint (schema+deprecations+practices)" "$w" "$c" "$m" "$base"
  find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print0 > "$OUT/files.lst"
  if [ "$label" = corpus ] || [ "${BENCH_PEERS_SCALED:-0}" = 1 ]; then
  read -r w c m < <(RUNS=1 measure sh -c "xargs -0 '$VENV/bin/kubernetes-validate' --strict --quiet --no-warn < '$OUT/files.lst'")
  row "kubernetes-validate --strict" "$w" "$c" "$m" "$base"
  fi
  if [ "${BENCH_CHECKOV:-1}" = 1 ] && [ "$label" = corpus ]; then
    read -r w c m < <(RUNS=1 measure "$VENV/bin/checkov" -d "$dir" --framework kubernetes --quiet -o json)
    row "checkov --framework kubernetes" "$w" "$c" "$m" "$base"
  fi
}

echo "shiplint $("$SHIPLINT" --version | cut -d' ' -f2) on $(nproc) cores, $(date -u +%F)"
bench_corpus "$CORPUS" corpus
if [ "$SCALE" -gt 1 ]; then
  bench_corpus "$(scaled "$SCALE")" "corpus x$SCALE"
fi
