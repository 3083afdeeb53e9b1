#!/usr/bin/env bash
# Findings per practices rule on the real-repository corpus, and a fixed
# random sample per rule to judge by hand (bench/precision.md).
#
#   bench/precision.sh [corpus-dir] [sample-size]
#
# Needs a built shiplint (SHIPLINT=path, default target/debug/shiplint) and
# python3. Reads the corpus, writes nothing but /tmp/shiplint-precision.json.
set -euo pipefail
corpus=${1:-../shared/corpus/k8s}
n=${2:-12}
bin=${SHIPLINT:-target/debug/shiplint}
out=/tmp/shiplint-precision.json
"$bin" scan --no-config --packs practices --format json --fail-on never "$corpus" >"$out"
python3 - "$out" "$n" "$corpus" <<'PY'
import json, random, sys, collections
findings = json.load(open(sys.argv[1]))["findings"]
n, root = int(sys.argv[2]), sys.argv[3].rstrip("/") + "/"
by = collections.defaultdict(list)
for f in findings:
    by[f["rule"]].append(f)
print("| rule | findings |\n|---|---:|")
for rule in sorted(by):
    print(f"| `{rule}` | {len(by[rule])} |")
print(f"| total | {len(findings)} |\n")
for rule in sorted(by):
    random.seed(13)
    print(f"## {rule}")
    for f in random.sample(by[rule], min(n, len(by[rule]))):
        print(f"- {f['path'].replace(root, '')}:{f['span']['line']} {f['message'][:160]}")
    print()
PY
