#!/usr/bin/env bash
# Interleaved timing of several shiplint builds on one directory: each round
# runs every binary once (in turn), so load from other processes spreads over
# all of them alike. Prints the median CPU s (user+sys), wall s and max RSS MB.
#
#   bench/compare.sh DIR PACKS RUNS BIN...
#   bench/compare.sh ../shared/corpus/k8s schema 9 /tmp/shiplint-old target/release/shiplint
set -euo pipefail
dir=$1 packs=$2 runs=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq 1 "$runs"); do
  i=0
  for bin in "$@"; do
    /usr/bin/time -f "%e %U %S %M" -a -o "$tmp/$i" \
      "$bin" scan --no-config --packs "$packs" --format json --fail-on never "$dir" >/dev/null 2>&1 || true
    i=$((i + 1))
  done
done
i=0
printf '| binary | packs | runs | CPU s (median) | wall s (median) | RSS MB |\n|---|---|---:|---:|---:|---:|\n'
for bin in "$@"; do
  awk -v b="$bin" -v p="$packs" -v n="$runs" '
    { cpu[NR] = $2 + $3; wall[NR] = $1; rss[NR] = $4 }
    function med(a,   k, m, t, i, j) { m = 0; for (k in a) { m++; t[m] = a[k] }
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
      return t[int((m + 1) / 2)] }
    END { printf "| %s | %s | %d | %.3f | %.3f | %.0f |\n", b, p, n, med(cpu), med(wall), med(rss) / 1024 }' "$tmp/$i"
  i=$((i + 1))
done
