#!/usr/bin/env python3
"""Regenerate schemas/crds.bin (the embedded CRD catalog) and schemas/CRDS.md.

    python3 schemas/generate_crds.py                  # clones each repository (blobless) at its pinned commit
    python3 schemas/generate_crds.py --mirror DIR     # or reads DIR/<owner>+<name>/repo (bare git dirs)

Each project's CustomResourceDefinitions are read from its own repository at
the commit pinned in SOURCES below. For every version of every CRD the
`openAPIV3Schema` is kept as is — minus the `description` prose, which
validation never reads; `x-kubernetes-validations` (CEL) and every other
`x-kubernetes-*` marker stay — and de-duplicated. shiplint converts each
schema to JSON Schema at load time exactly as it converts a CRD found in the
scanned repository (nullable, int-or-string, preserve-unknown-fields,
embedded resources, strict).

Layout of crds.bin (all integers little-endian u32):
    b"SLCRD1" | index length | index (zstd JSON) | one zstd frame per project
The index names the projects (repository, commit, version, licence, the byte
range of their frame) and maps `group/version/Kind` to [project, schema]. A
project's frame is a JSON array of its schemas, decompressed only when one of
its kinds is validated, so a scan pays only for the projects it uses.

When a project lists a (group, version, kind) twice (Gateway API's standard
then experimental channel), the later file wins: the experimental channel is
a superset, so repositories on either channel validate.
"""
import argparse
import fnmatch
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "crds.bin")
DOC = os.path.join(HERE, "CRDS.md")

# (project, repository, commit, version at that commit, licence, [path globs][, "merge"])
#
# A group/version/kind already catalogued by an earlier entry is ignored,
# unless the entry says "merge": then the two schemas are united (properties
# of either, required only if both require it, enums of either), so
# repositories on either release validate (Crossplane 2 dropped fields of
# Composition v1 that 1.x repositories use).
SOURCES = [
    ("Gateway API", "kubernetes-sigs/gateway-api", "4564255ac2c35d582249b3cdf261bdf51c8bca32", "main 2026-08-21 (after monthly-2026.06)", "Apache-2.0",
     ["config/crd/standard/*.yaml", "config/crd/experimental/*.yaml"]),
    ("cert-manager", "cert-manager/cert-manager", "2d0d7f7f74241a9cbf79f0e2a7bb247238ee09fd", "main 2026-08-22 (after v1.21.0-beta.0)", "Apache-2.0",
     ["deploy/crds/*.yaml"]),
    ("Flux source-controller", "fluxcd/source-controller", "39b711b111fa906c3db0a424e252a5d12e48646d", "v1.9.0+ (main 2026-07-02)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux kustomize-controller", "fluxcd/kustomize-controller", "186fb3b29138ce82ff61ba1a9370b96a3dd598fe", "v1.9.0+ (main 2026-08-01)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux helm-controller", "fluxcd/helm-controller", "0f61a8607a62be64638f2f912d9487e653960a6e", "v1.6.0+ (main 2026-07-23)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux notification-controller", "fluxcd/notification-controller", "2e46958a67f3af0e3e755a4fcaf7397d5803725e", "v1.9.0+ (main 2026-08-07)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux image-reflector-controller", "fluxcd/image-reflector-controller", "debe2aaa3a98ad3ca69e178638402a5a0feec4a6", "v1.2.0+ (main 2026-06-23)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux image-automation-controller", "fluxcd/image-automation-controller", "d36e2ea07a3973a0e8ace7678d933a89b76f9dda", "v1.2.0+ (main 2026-07-01)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux source-watcher", "fluxcd/source-watcher", "825fa15baf96858578d8dd0ed3c75ff7a75f01ce", "v2.2.0+ (main 2026-07-01)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    # Older API versions that current releases no longer ship (later entries
    # only add the group/version/kinds not already catalogued above).
    ("Flux source-controller (older APIs)", "fluxcd/source-controller", "a80a99b359f964d92c70f119195be34ca8438f89", "v1.3.0 (Flux 2.3)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux kustomize-controller (older APIs)", "fluxcd/kustomize-controller", "83fbfeee89313a3007456a84e90e91dcb6279203", "v1.3.0 (Flux 2.3)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux helm-controller (older APIs)", "fluxcd/helm-controller", "6085b4f02224b0fb5d6f819ed7c8d63628cc3adf", "v1.0.1 (Flux 2.3)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux notification-controller (older APIs)", "fluxcd/notification-controller", "e0a1f00358f21b7e3790c1bb38583e1d2548f98b", "v1.3.0 (Flux 2.3)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux image-reflector-controller (older APIs)", "fluxcd/image-reflector-controller", "c06e82bf4c5bee7cb6b4668d09ecd6ec2c0dcaf0", "v0.32.0 (Flux 2.3)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Flux image-automation-controller (older APIs)", "fluxcd/image-automation-controller", "e093c3ecd3a3533b7332834778c58237175a85e8", "v0.38.0 (Flux 2.3)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Argo CD", "argoproj/argo-cd", "37ee0097cf851bc2dd7665fc081bbce61a7e836e", "master 2026-08-22", "Apache-2.0",
     ["manifests/crds/*-crd.yaml"]),
    ("Argo Rollouts", "argoproj/argo-rollouts", "9f8d111d8f8e3e88b6d7f8bbdf62fd3cd863ef9d", "master 2026-08-17 (after v1.10.0-rc1)", "Apache-2.0",
     ["manifests/crds/*.yaml"]),
    ("Prometheus Operator", "prometheus-operator/prometheus-operator", "6adcebc5076c34f4f55f8f5f7b1e528929373ac7", "main 2026-08-08 (after v0.93.0)", "Apache-2.0",
     ["example/prometheus-operator-crd/*.yaml"]),
    ("Istio", "istio/istio", "86c9f01fd735fb01d8192f5bcaf0d424afb7f14c", "master 2026-08-22 (1.31 development)", "Apache-2.0",
     ["manifests/charts/base/files/crd-all.gen.yaml"]),
    ("External Secrets Operator", "external-secrets/external-secrets", "cc5bfbc2234ace9cb0caff4ea89c435cf517b27b", "main 2026-08-08 (after helm-chart-2.9.0)", "Apache-2.0",
     ["config/crds/bases/*.yaml"]),
    ("Sealed Secrets", "bitnami-labs/sealed-secrets", "86671a8851be1e6c2dfef4e12e2d7c19ed24ac94", "main 2026-04-22 (helm-v2.18.5)", "Apache-2.0",
     ["helm/sealed-secrets/crds/*.yaml"]),
    ("KEDA", "kedacore/keda", "8b4f083ca8c8c2baf8477e322bd4d16ac4dfa09a", "v2.20.1+ (main 2026-08-20)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Kyverno", "kyverno/kyverno", "111e07bbecc66abfde36ab99969af22d7a961003", "main 2026-08-21", "Apache-2.0",
     ["config/crds/*/*.yaml"]),
    ("Crossplane", "crossplane/crossplane", "2d040d2daf4e001799c4154a4a09b9e1f40d7fde", "main 2026-08-07 (v2.4 development)", "Apache-2.0",
     ["cluster/crds/*.yaml"]),
    ("Crossplane 1.x (merged)", "crossplane/crossplane", "7e2a292f1493b86504ede4db22bff2a78608157c", "v1.20.11", "Apache-2.0",
     ["cluster/crds/*.yaml"], "merge"),
    ("Traefik", "traefik/traefik", "fd5a576df2e8aeb0bfc8a96b6ef6e60a61f7ec0a", "v3.7.9+ (2026-07-24)", "MIT",
     ["docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"]),
    ("Traefik 2.x (traefik.containo.us)", "traefik/traefik", "e31d5708e4b00535a0e965709c11433790b54176", "v2.11.53", "MIT",
     ["docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"]),
    ("KubeRay", "ray-project/kuberay", "feeaf72facab4881ba2b179248bb67315634e229", "master 2026-08-19 (v1.7 development)", "Apache-2.0",
     ["ray-operator/config/crd/bases/*.yaml"]),
    ("Kueue", "kubernetes-sigs/kueue", "ff69552e79ad21652c36caa97038382e55625cf7", "main 2026-08-22 (v0.20 development)", "Apache-2.0",
     ["config/components/crd/bases/*.yaml"]),
    ("JobSet", "kubernetes-sigs/jobset", "08dfbdfd682714a9ab929633eca8dc95315187e7", "main 2026-08-18 (v0.13 development)", "Apache-2.0",
     ["config/components/crd/bases/*.yaml"]),
    ("LeaderWorkerSet", "kubernetes-sigs/lws", "060ab4da17eea1f0865fcbd3236bb1075e2cea32", "v0.10.0+ (main 2026-08-21)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("CloudNativePG", "cloudnative-pg/cloudnative-pg", "a95a534dbe0854495b863bbc1b7651f74d310916", "v1.30.0+ (main 2026-08-21)", "Apache-2.0",
     ["config/crd/bases/*.yaml"]),
    ("Strimzi", "strimzi/strimzi-kafka-operator", "8541da1e336bdcda9647aeacfbc2048e57580a52", "main 2026-08-22 (after 0.51.0)", "Apache-2.0",
     ["packaging/install/cluster-operator/04*-Crd-*.yaml"]),
    ("Strimzi 0.51 (v1beta2 APIs)", "strimzi/strimzi-kafka-operator", "54081abf97d0e5e524de773b88343756934db1a8", "0.51.0", "Apache-2.0",
     ["packaging/install/cluster-operator/04*-Crd-*.yaml"]),
    ("Google Cloud Managed Service for Prometheus", "GoogleCloudPlatform/prometheus-engine", "2ffde4ec7b7e4ca1da4e32f36b692945b78a60e4", "main 2026-07-02 (v0.17 development)", "Apache-2.0",
     ["charts/operator/crds/*.yaml"]),
    ("Knative Serving", "knative/serving", "98e5ef90aa7033797aa0a61ef97f3ff7e49a3944", "main 2026-08-21 (after knative-v1.23.0)", "Apache-2.0",
     ["config/core/300-resources/*.yaml", "config/core/300-imagecache.yaml", "config/core/300-knativecertificate.yaml"]),
    ("Knative Eventing", "knative/eventing", "8cf4c4b673034020f5ecab731fb6a2a7f9350244", "main 2026-06-17 (after knative-v1.22.0)", "Apache-2.0",
     ["config/core/resources/*.yaml"]),
    ("Tekton Pipelines", "tektoncd/pipeline", "3ee1745ae5b2d9175b11917d7c1935eaad44910c", "v1.15.0+ (main 2026-08-20)", "Apache-2.0",
     ["config/300-crds/*.yaml"]),
    ("Tekton Triggers", "tektoncd/triggers", "088902973c89e356b40bc0745618df0e9b2d8198", "v0.37.0+ (main 2026-08-18)", "Apache-2.0",
     ["config/300-*.yaml"]),
]


class Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """YAML 1.2-ish: dates stay strings (JSON has no date type)."""


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def clean(node):
    """Drop the prose; keep property names (a field may be called `description`)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "description":
                continue
            if k in ("properties", "patternProperties", "definitions") and isinstance(v, dict):
                out[k] = {pk: clean(pv) for pk, pv in v.items()}
            else:
                out[k] = clean(v)
        return out
    if isinstance(node, list):
        return [clean(v) for v in node]
    return node


class Repo:
    def __init__(self, repo, commit, mirror, tmp):
        self.commit = commit
        if mirror:
            self.git_dir = os.path.join(mirror, repo.replace("/", "+"), "repo")
        else:
            self.git_dir = os.path.join(tmp, repo.replace("/", "+"))
            subprocess.check_call(["git", "clone", "--quiet", "--bare", "--filter=blob:none",
                                   f"https://github.com/{repo}", self.git_dir])
        have = subprocess.run(["git", "--git-dir", self.git_dir, "cat-file", "-e", commit + "^{commit}"])
        if have.returncode != 0:
            sys.exit(f"{repo}: commit {commit} not found in {self.git_dir}")

    def files(self, patterns):
        names = subprocess.check_output(["git", "--git-dir", self.git_dir, "ls-tree", "-r", "--name-only",
                                         self.commit], text=True).splitlines()
        out = []
        for p in patterns:
            hits = sorted(n for n in names if fnmatch.fnmatchcase(n, p) and n.count("/") == p.count("/"))
            if not hits:
                sys.exit(f"{self.git_dir}: nothing matches {p}")
            out += hits
        return out

    def read(self, path):
        return subprocess.check_output(["git", "--git-dir", self.git_dir, "show", f"{self.commit}:{path}"])


def merge_schema(a, b):
    """The union of two schemas of one kind (from two releases)."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return a
    out = dict(a)
    for k, bv in b.items():
        if k not in out:
            if k not in ("required", "enum", "additionalProperties", "maxItems", "maxLength", "x-kubernetes-validations"):
                out[k] = bv
            continue
        av = out[k]
        if k in ("properties", "patternProperties") and isinstance(av, dict) and isinstance(bv, dict):
            out[k] = {pk: merge_schema(av[pk], bv[pk]) if pk in av and pk in bv else av.get(pk, bv.get(pk))
                      for pk in list(av) + [x for x in bv if x not in av]}
        elif k == "required" and isinstance(av, list) and isinstance(bv, list):
            out[k] = [x for x in av if x in bv]
        elif k == "enum" and isinstance(av, list) and isinstance(bv, list):
            out[k] = av + [x for x in bv if x not in av]
        elif k in ("items", "additionalProperties"):
            out[k] = merge_schema(av, bv)
    # Rules written for one release's fields may not hold for the other's.
    if out.get("x-kubernetes-validations") != b.get("x-kubernetes-validations"):
        out.pop("x-kubernetes-validations", None)
    for k in ("required", "enum"):
        if k in out and k not in b:
            del out[k]
    return out


def crd_schemas(text):
    """(group/version/Kind, openAPIV3Schema) for every version of every CRD."""
    for doc in yaml.load_all(text, Loader=Loader):
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc.get("spec") or {}
        group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
        if not group or not kind:
            continue
        shared = (spec.get("validation") or {}).get("openAPIV3Schema")
        for v in spec.get("versions") or []:
            # Versions no longer served are kept: repositories on an older
            # release of the operator still use them.
            schema = ((v.get("schema") or {}).get("openAPIV3Schema")) or shared
            if schema:
                yield f"{group}/{v['name']}/{kind}", clean(schema)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirror", help="directory of bare git dirs named <owner>+<name>/repo")
    args = ap.parse_args()
    try:
        import zstandard
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "zstandard"])
        import zstandard
    cctx = zstandard.ZstdCompressor(level=19)
    projects, kinds, frames, rows = [], {}, [], []
    raw_total = 0
    collected = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, repo, commit, version, licence, patterns, *flags in SOURCES:
            r = Repo(repo, commit, args.mirror, tmp)
            mine = {}
            for path in r.files(patterns):
                for gvk, schema in crd_schemas(r.read(path)):
                    mine[gvk] = schema  # later files win (Gateway API experimental ⊇ standard)
            collected.append(((name, repo, commit, version, licence), mine, "merge" in flags))
    owner = {}
    for i, ((name, *_), mine, merge) in enumerate(collected):
        for gvk in sorted(mine):
            if gvk not in owner:
                owner[gvk] = i
            elif merge:
                o = collected[owner[gvk]][1]
                o[gvk] = merge_schema(o[gvk], mine[gvk])
            else:
                print(f"note: {gvk} from {name} ignored, already from {collected[owner[gvk]][0][0]}")
    for i, ((name, repo, commit, version, licence), mine, _) in enumerate(collected):
        own = sorted(g for g in mine if owner[g] == i)
        if not own:
            print(f"{name}: nothing new, left out")
            continue
        pool, index = [], {}
        pi = len(projects)
        for gvk in own:
            blob = json.dumps(mine[gvk], sort_keys=True, separators=(",", ":"), default=str)
            h = hashlib.sha256(blob.encode()).hexdigest()
            if h not in index:
                index[h] = len(pool)
                pool.append(blob)
            kinds[gvk] = [pi, index[h]]
        raw = ("[" + ",".join(pool) + "]").encode()
        raw_total += len(raw)
        frames.append(cctx.compress(raw))
        merged = sorted({collected[j][0][0] for j, (_, m, mg) in enumerate(collected)
                         if mg and j != i and any(owner.get(g) == i for g in m)})
        projects.append({"name": name, "repo": repo, "commit": commit, "licence": licence,
                         "version": version + (f"; united with {', '.join(merged)}" if merged else "")})
        groups = sorted({g.rsplit("/", 2)[0] for g in own})
        rows.append((name, repo, commit, projects[-1]["version"], licence, groups,
                     sorted(g.split("/", 1)[1] for g in own)))
        print(f"{name}: {len(own)} kinds/versions, {len(pool)} schemas, {len(raw)} bytes raw, "
              f"{len(frames[-1])} compressed")
    offset = 0
    for p, f in zip(projects, frames):
        p["frame"] = [offset, len(f)]
        offset += len(f)
    index = cctx.compress(json.dumps({"format": 1, "projects": projects, "kinds": kinds},
                                     sort_keys=True, separators=(",", ":")).encode())
    data = b"SLCRD1" + struct.pack("<I", len(index)) + index + b"".join(frames)
    with open(OUT, "wb") as f:
        f.write(data)
    with open(DOC, "w") as f:
        f.write("# The embedded CRD catalog\n\n"
                "Generated by `python3 schemas/generate_crds.py` into `schemas/crds.bin` "
                "(only the `openAPIV3Schema` of each version, without `description`; "
                "`x-kubernetes-validations` kept). A CRD in the scanned repository wins over "
                "`--crd-dir`, which wins over this catalog. To update a project, change its commit in "
                "`SOURCES` and re-run the script.\n\n"
                "| project | repository | commit | version | licence | API groups | kinds |\n"
                "|---|---|---|---|---|---|---|\n")
        for name, repo, commit, version, licence, groups, gvks in rows:
            by_kind = {}
            for vk in gvks:
                v, k = vk.split("/")
                by_kind.setdefault(k, []).append(v)
            kinds_txt = ", ".join(f"{k} ({'/'.join(vs)})" for k, vs in sorted(by_kind.items()))
            f.write(f"| {name} | [{repo}](https://github.com/{repo}) | [`{commit[:12]}`](https://github.com/{repo}/tree/{commit}) | {version} | {licence} "
                    f"| {', '.join(groups)} | {kinds_txt} |\n")
        f.write(f"\n{len(kinds)} group/version/kinds from {len(projects)} projects; "
                f"{raw_total} bytes of JSON, {len(data)} bytes in `crds.bin`.\n")
    print(f"{OUT}: {len(kinds)} kinds, {len(projects)} projects, {raw_total} bytes raw, {len(data)} bytes")


if __name__ == "__main__":
    main()
