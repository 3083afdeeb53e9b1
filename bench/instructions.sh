#!/usr/bin/env bash
# Instructions executed (valgrind's callgrind "Collected" count) by several
# shiplint builds on one directory: unlike CPU seconds, the count does not
# move with the machine's load, so two builds can be compared while other
# work shares the cores. It does not see cache misses or page faults, so
# quote it beside bench/compare.sh's CPU and RSS figures, not instead.
# Each run takes ~50x the native time.
#
#   bench/instructions.sh DIR PACKS BIN...
#   bench/instructions.sh ../shared/corpus/k8s schema /tmp/shiplint-old target/release/shiplint
set -euo pipefail
dir=$1 packs=$2
shift 2
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '| binary | packs | instructions (G) | vs first |\n|---|---|---:|---:|\n'
first=""
for bin in "$@"; do
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
    "$bin" scan --no-config --packs "$packs" --format json --fail-on never "$dir" \
    >/dev/null 2>"$tmp/err" || true
  ir=$(grep -o 'Collected : [0-9]*' "$tmp/err" | awk '{print $3}')
  [ -n "$ir" ] || { echo "no count for $bin:" >&2; tail -5 "$tmp/err" >&2; exit 2; }
  [ -n "$first" ] || first=$ir
  awk -v b="$bin" -v p="$packs" -v ir="$ir" -v f="$first" \
    'BEGIN { printf "| %s | %s | %.3f | %+.1f%% |\n", b, p, ir / 1e9, (ir / f - 1) * 100 }'
done
