#!/usr/bin/env python3
"""Compares `shiplint render DIR` (the Rust kustomize build) with
`kubectl kustomize DIR` for every directory BUILDS.txt lists as `ok`.

usage: scripts/kustomize-parity.py CORPUS_DIR [SHIPLINT_BINARY] [-v] [--with-kubectl]
Objects are compared after normalising key order (PyYAML loads both).
Without --with-kubectl, shiplint gets no external kustomize
(SHIPLINT_KUSTOMIZE=): only its Rust build counts; with it, overlays using
what the Rust build does not do are built by kubectl, as in a scan."""
import json, os, subprocess, sys, yaml

corpus = os.path.abspath([a for a in sys.argv[1:] if not a.startswith("-")][0])
args = [a for a in sys.argv[1:] if not a.startswith("-")]
fallback = "--with-kubectl" in sys.argv
binary = os.path.abspath(args[1] if len(args) > 1 else "target/debug/shiplint")

def canon(docs):
    return sorted(json.dumps(d, sort_keys=True, default=str) for d in docs if d is not None)

def ours(d):
    env = dict(os.environ)
    if fallback:
        env.pop("SHIPLINT_KUSTOMIZE", None)
    else:
        env["SHIPLINT_KUSTOMIZE"] = ""
    p = subprocess.run([binary, "render", d], cwd=corpus, capture_output=True, text=True, env=env)
    docs, keep, cur = [], False, []
    for chunk in p.stdout.split("---\n"):
        if not chunk.strip():
            continue
        first, _, body = chunk.partition("\n")
        if first.startswith("# Source: "):
            if first[len("# Source: "):] == d:
                docs.append(yaml.safe_load(body))
    return docs, p.stderr

total = same = 0
for line in open(os.path.join(corpus, "BUILDS.txt")):
    parts = line.rstrip("\n").split("\t")
    if len(parts) < 2 or parts[0] != "ok":
        continue
    d = parts[1]
    total += 1
    k = subprocess.run(["kubectl", "kustomize", d], cwd=corpus, capture_output=True, text=True)
    theirs = canon(yaml.safe_load_all(k.stdout))
    mine, err = ours(d)
    mine = canon(mine)
    if mine == theirs:
        same += 1
        print(f"same   {d} ({len(theirs)} objects)")
    else:
        extra = [m for m in mine if m not in theirs]
        missing = [t for t in theirs if t not in mine]
        print(f"DIFFER {d}: ours {len(mine)} objects, kubectl {len(theirs)}; {len(missing)} kubectl objects not matched")
        note = " ".join(l for l in err.splitlines() if "not built" in l or "error" in l)[:400]
        if note:
            print(f"       {note}")
        if "-v" in sys.argv:
            for t in missing[:2]:
                print("   kubectl:", t[:1500])
            for m in extra[:2]:
                print("   ours:   ", m[:1500])
how = "shiplint (Rust build, kubectl for unsupported features)" if fallback else "shiplint's Rust build"
print(f"{same}/{total} overlays that kubectl builds: {how} gives the same objects")
