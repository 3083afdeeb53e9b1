#!/usr/bin/env bash
# Findings per rule on the real-repository corpus, and a fixed random sample
# per rule to judge by hand (bench/precision.md).
#
#   bench/precision.sh [corpus-dir] [sample-size]
#   PACKS=schema,deprecations bench/precision.sh ../shared/corpus/k8s 20
#
# PACKS picks the packs (default: practices; the schema and deprecations
# tables use `schema,deprecations`, so a removed API is counted once, under
# deprecations, as a user with the default packs sees it). Several corpus
# directories may be given, separated by commas; a rule's sample is drawn
# from all of them. Needs a built shiplint (SHIPLINT=path, default
# target/debug/shiplint) and python3. Reads the corpus, writes nothing but
# /tmp/shiplint-precision*.json.
set -euo pipefail
corpora=${1:-../shared/corpus/k8s}
n=${2:-12}
packs=${PACKS:-practices}
bin=${SHIPLINT:-target/debug/shiplint}
outs=()
i=0
IFS=, read -ra dirs <<<"$corpora"
for corpus in "${dirs[@]}"; do
  out=/tmp/shiplint-precision$i.json
  "$bin" scan --no-config --packs "$packs" --format json --fail-on never "$corpus" >"$out"
  outs+=("$corpus=$out")
  i=$((i + 1))
done
python3 - "$n" "${outs[@]}" <<'PY'
import json, random, sys, collections
n = int(sys.argv[1])
by = collections.defaultdict(list)
for arg in sys.argv[2:]:
    root, out = arg.rsplit("=", 1)
    root = root.rstrip("/") + "/"
    for f in json.load(open(out))["findings"]:
        f["path"] = f["path"].replace(root, "")
        by[f["rule"]].append(f)
print("| rule | findings |\n|---|---:|")
for rule in sorted(by):
    print(f"| `{rule}` | {len(by[rule])} |")
print(f"| total | {sum(len(v) for v in by.values())} |\n")
for rule in sorted(by):
    random.seed(13)
    found = by[rule]  # in the reports' order (sorted by path and line)
    print(f"## {rule}")
    for f in random.sample(found, min(n, len(found))):
        print(f"- {f['path']}:{f['span']['line']} {f['message'][:300]}")
    print()
PY
