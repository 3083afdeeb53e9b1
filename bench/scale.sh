#!/usr/bin/env bash
# Scale bench: does `shiplint scan` stay linear in time and flat in memory?
#
# Builds synthetic monorepos of 1k, 10k and 100k files (override with
# SIZES="1000 10000") under bench/out/scale: half real Kubernetes manifests
# from ../shared/corpus/k8s (or $CORPUS), half source-like text (this repo's
# src/**/*.rs under other names) so the secrets pack has non-YAML work. Files
# are hard links into one pool, so 100k files cost little disk. Then runs the
# release build (all default packs, JSON to /dev/null) on each tree and
# prints files/s, wall, CPU and peak RSS (/usr/bin/time).
#
#   bash bench/scale.sh            # all sizes
#   SIZES="1000 10000" bash bench/scale.sh
#   SHARD=1/4 bash bench/scale.sh  # one shard of a matrix
#   PACKS=schema,deprecations,secrets bash bench/scale.sh  # other packs
#   BUILD_ONLY=1 bash bench/scale.sh  # only build the trees
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
CORPUS="${CORPUS:-$ROOT/../shared/corpus/k8s}"
OUT="$ROOT/bench/out/scale"
SIZES="${SIZES:-1000 10000 100000}"
BIN="${SHIPLINT:-${CARGO_TARGET_DIR:-$ROOT/target}/release/shiplint}"

[ -d "$CORPUS" ] || { echo "no corpus at $CORPUS (set CORPUS)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "no release build at $BIN: cargo build --release (or set SHIPLINT)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 2; }

mkdir -p "$OUT"
python3 - "$CORPUS" "$ROOT/src" "$OUT" $SIZES <<'PY'
import os, sys, shutil
corpus, src, out, *sizes = sys.argv[1:]
pool = os.path.join(out, "pool")
if not os.path.isdir(pool):
    os.makedirs(pool + ".tmp", exist_ok=True)
    n = 0
    for base, exts, prefix in ((corpus, (".yaml", ".yml", ".json"), "m"), (src, (".rs",), "s")):
        for d, _, files in sorted(os.walk(base)):
            for f in sorted(files):
                if f.endswith(exts):
                    # Source files become .txt, .py, .go … look-alikes.
                    name = f if prefix == "m" else f[:-3] + (".txt", ".py", ".go", ".ts")[n % 4]
                    shutil.copyfile(os.path.join(d, f), os.path.join(pool + ".tmp", f"{prefix}{n:05d}-{name}"))
                    n += 1
    os.rename(pool + ".tmp", pool)
entries = sorted(os.listdir(pool))
manifests = [e for e in entries if e.startswith("m")]
sources = [e for e in entries if e.startswith("s")]
for size in map(int, sizes):
    tree = os.path.join(out, str(size))
    if os.path.isdir(tree):
        continue
    os.makedirs(tree + ".tmp")
    for i in range(size):
        # Half manifests, half source; 100 files per folder, like a monorepo.
        name = manifests[(i // 2) % len(manifests)] if i % 2 == 0 else sources[(i // 2) % len(sources)]
        d = os.path.join(tree + ".tmp", f"team{i // 5000:02d}", f"svc{i // 100:04d}")
        os.makedirs(d, exist_ok=True)
        os.link(os.path.join(pool, name), os.path.join(d, name))
    os.rename(tree + ".tmp", tree)
    print(f"built {tree}: {size} files ({len(manifests)} manifests, {len(sources)} sources in the pool)", file=sys.stderr)
PY
[ -n "${BUILD_ONLY:-}" ] && exit 0

printf '| files | wall s | CPU s (user+sys) | files/s | peak RSS MB | findings |\n'
printf '|---:|---:|---:|---:|---:|---:|\n'
for size in $SIZES; do
  tree="$OUT/$size"
  extra=()
  [ -n "${SHARD:-}" ] && extra+=(--shard "$SHARD")
  [ -n "${PACKS:-}" ] && extra+=(--packs "$PACKS")
  /usr/bin/time -f '%e %U %S %M' -o "$OUT/time-$size.txt" \
    "$BIN" scan "$tree" --no-config -f json -o "$OUT/report-$size.json" --fail-on never "${extra[@]}" \
    2>"$OUT/stderr-$size.txt" || true
  read -r wall user sys rss < <(tail -n 1 "$OUT/time-$size.txt")
  findings=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["findings"])' "$OUT/report-$size.json" 2>/dev/null || echo "?")
  awk -v n="$size" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v f="$findings" \
    'BEGIN { printf "| %d | %.2f | %.2f | %.0f | %.0f | %s |\n", n, w, u + s, (w > 0 ? n / w : 0), r / 1024, f }'
done
