//! What changed between two snapshots of objects, and why it is risky.

use super::{Key, Reason, Weights};
use crate::manifest::{Manifest, Node};
use std::collections::{BTreeMap, BTreeSet};

const RBAC: &str = "rbac.authorization.k8s.io";
const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
];
/// Kinds with `spec.replicas`.
const SCALED: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];
/// At most this many schema reasons per CRD version.
const MAX_FIELD_REASONS: usize = 20;

/// The objects of a snapshot by identity; several when a key repeats (a
/// kustomize base and its overlays' patches, say).
pub(crate) type Objects<'a> = BTreeMap<Key, Vec<&'a Manifest>>;

struct Out<'w> {
    weights: &'w Weights,
    reasons: Vec<Reason>,
}

impl Out<'_> {
    fn push(&mut self, id: &str, m: &Manifest, line: usize, detail: String) {
        let (weight, text) = self.weights.get(id);
        if weight == 0 {
            return;
        }
        self.reasons.push(Reason {
            id: id.into(),
            reason: format!("{text}: {detail}"),
            weight,
            path: m.path.to_string(),
            line,
        });
    }
}

fn line(n: Option<&Node>, m: &Manifest) -> usize {
    n.map_or(m.anchor().line, |n| n.span.line)
}

/// The line of `key:` in `parent` (a block value starts on the next line).
fn key_line(parent: Option<&Node>, key: &str) -> Option<usize> {
    parent.and_then(|p| p.entry(key)).map(|e| e.key.span.line)
}

/// The reasons of the change from `base` to `head`.
pub(crate) fn compare(base: &Objects<'_>, head: &Objects<'_>, weights: &Weights) -> Vec<Reason> {
    let mut out = Out {
        weights,
        reasons: Vec::new(),
    };
    let mut deleted: Vec<&Manifest> = Vec::new();
    let mut pairs: Vec<(Option<&Manifest>, &Manifest)> = Vec::new();
    let mut added: Vec<&Manifest> = Vec::new();
    let keys: BTreeSet<&Key> = base.keys().chain(head.keys()).collect();
    for k in keys {
        let mut bs = base.get(k).cloned().unwrap_or_default();
        let mut hs = head.get(k).cloned().unwrap_or_default();
        // A repeated key pairs by file first; one left on each side is a move.
        hs.retain(|h| match bs.iter().position(|b| b.path == h.path) {
            Some(i) => {
                pairs.push((Some(bs.remove(i)), h));
                false
            }
            None => true,
        });
        if let ([b], [h]) = (bs.as_slice(), hs.as_slice()) {
            pairs.push((Some(b), h));
        } else {
            deleted.extend(bs);
            added.extend(hs);
        }
    }
    // Renames: deleted and added with the same kind in the same file.
    added.retain(|h| {
        let same = deleted
            .iter()
            .position(|d| d.path == h.path && d.kind == h.kind && d.group() == h.group());
        match same {
            Some(i) => {
                pairs.push((Some(deleted.remove(i)), h));
                false
            }
            None => true,
        }
    });
    // Role → ClusterRole, RoleBinding → ClusterRoleBinding of the same name.
    added.retain(|h| {
        let from = match (h.group(), h.kind.as_str()) {
            (RBAC, "ClusterRole") => "Role",
            (RBAC, "ClusterRoleBinding") => "RoleBinding",
            _ => return true,
        };
        let same = deleted
            .iter()
            .position(|d| d.group() == RBAC && d.kind == from && d.name == h.name);
        match same {
            Some(i) => {
                let d = deleted.remove(i);
                out.push(
                    "rbac-cluster-scope",
                    h,
                    h.anchor().line,
                    format!("{} is now {}", d.display_name(), h.display_name()),
                );
                pairs.push((Some(d), h));
                false
            }
            None => true,
        }
    });
    for h in added {
        pairs.push((None, h));
    }
    for (b, h) in pairs {
        object(&mut out, b, h, base, head);
    }
    for d in deleted {
        deletion(&mut out, d);
    }
    out.reasons
}

fn deletion(out: &mut Out, d: &Manifest) {
    let id = match (d.group(), d.kind.as_str()) {
        ("", "Namespace") => "namespace-deleted",
        ("apiextensions.k8s.io", "CustomResourceDefinition") => "crd-deleted",
        ("apps", "StatefulSet") => "statefulset-deleted",
        ("", "PersistentVolumeClaim") => "pvc-deleted",
        ("policy", "PodDisruptionBudget") => "pdb-removed",
        ("networking.k8s.io", "NetworkPolicy") => "networkpolicy-removed",
        _ => "object-deleted",
    };
    out.push(id, d, d.anchor().line, d.display_name());
}

/// One object at the head, with its base version when it had one.
fn object(out: &mut Out, b: Option<&Manifest>, h: &Manifest, base: &Objects, head: &Objects) {
    let kind = h.kind.as_str();
    if let Some(spec) = pod_spec(h) {
        pod(out, b.and_then(pod_spec), spec, h);
    }
    if SCALED.contains(&kind) {
        if let Some(b) = b {
            replicas(out, b, h, head);
        }
    }
    match (h.group(), kind) {
        (RBAC, "Role" | "ClusterRole") => role(out, b, h),
        (RBAC, "RoleBinding" | "ClusterRoleBinding") => binding(out, b, h, base, head),
        ("", "Secret") if b.is_none() => {
            out.push("secret-added", h, h.anchor().line, h.display_name());
        }
        ("", "Service") => service(out, b, h),
        ("networking.k8s.io" | "extensions", "Ingress") => ingress(out, b, h),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            if let Some(b) = b {
                crd(out, b, h);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- workloads

fn pod_spec(m: &Manifest) -> Option<&Node> {
    match m.kind.as_str() {
        "Pod" => m.root.get("spec"),
        "CronJob" => m
            .root
            .path(&["spec", "jobTemplate", "spec", "template", "spec"]),
        k if WORKLOADS.contains(&k) => m.root.path(&["spec", "template", "spec"]),
        _ => None,
    }
}

fn containers(spec: &Node) -> impl Iterator<Item = &Node> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |k| spec.get(k).map(Node::as_seq).unwrap_or_default())
}

fn cname(c: &Node) -> &str {
    c.get("name").and_then(Node::as_str).unwrap_or("?")
}

fn is_true(n: Option<&Node>) -> bool {
    n.and_then(Node::as_bool) == Some(true)
}

fn str_set(n: Option<&Node>) -> BTreeSet<String> {
    n.map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::scalar_text)
        .collect()
}

fn pod(out: &mut Out, bp: Option<&Node>, hp: &Node, m: &Manifest) {
    let who = m.display_name();
    for (field, id) in [
        ("hostNetwork", "host-network-added"),
        ("hostPID", "host-pid-added"),
        ("hostIPC", "host-ipc-added"),
    ] {
        let n = hp.get(field);
        if is_true(n) && !is_true(bp.and_then(|b| b.get(field))) {
            out.push(id, m, line(n, m), who.clone());
        }
    }
    let base_host_paths: BTreeSet<String> = bp
        .and_then(|b| b.get("volumes"))
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.path(&["hostPath", "path"]).and_then(Node::scalar_text))
        .collect();
    for v in hp.get("volumes").map(Node::as_seq).unwrap_or_default() {
        let Some(hpath) = v.get("hostPath") else {
            continue;
        };
        let at = key_line(Some(v), "hostPath").unwrap_or(hpath.span.line);
        let p = hpath
            .get("path")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        if !base_host_paths.contains(&p) {
            out.push("hostpath-added", m, at, format!("{who} mounts {p}"));
        }
    }
    let non_root = |c: &Node, p: &Node| -> Option<bool> {
        c.path(&["securityContext", "runAsNonRoot"])
            .or_else(|| p.path(&["securityContext", "runAsNonRoot"]))
            .and_then(Node::as_bool)
    };
    for hc in containers(hp) {
        let name = cname(hc);
        let bc = bp.and_then(|b| containers(b).find(|c| cname(c) == name));
        let who = format!("{who} container {name}");
        let priv_node = hc.path(&["securityContext", "privileged"]);
        if is_true(priv_node)
            && !is_true(bc.and_then(|c| c.path(&["securityContext", "privileged"])))
        {
            out.push("privileged-added", m, line(priv_node, m), who.clone());
        }
        let base_caps =
            str_set(bc.and_then(|c| c.path(&["securityContext", "capabilities", "add"])));
        for cap in hc
            .path(&["securityContext", "capabilities", "add"])
            .map(Node::as_seq)
            .unwrap_or_default()
        {
            let Some(text) = cap.scalar_text() else {
                continue;
            };
            if !base_caps.contains(&text) {
                out.push(
                    "capabilities-added",
                    m,
                    cap.span.line,
                    format!("{who} adds {text}"),
                );
            }
        }
        image(out, bc, hc, m, &who);
        let (Some(bc), Some(bp)) = (bc, bp) else {
            continue;
        };
        if non_root(bc, bp) == Some(true) && non_root(hc, hp) != Some(true) {
            let n = hc
                .path(&["securityContext", "runAsNonRoot"])
                .or_else(|| hp.path(&["securityContext", "runAsNonRoot"]))
                .or_else(|| hc.get("name"));
            out.push("runasnonroot-dropped", m, line(n, m), who.clone());
        }
        let limits = |c: &Node| -> BTreeSet<String> {
            c.path(&["resources", "limits"])
                .map(Node::entries)
                .unwrap_or_default()
                .iter()
                .filter_map(|e| e.key.key_str().map(|k| k.into_owned()))
                .collect()
        };
        let gone: Vec<String> = limits(bc).difference(&limits(hc)).cloned().collect();
        if !gone.is_empty() {
            let at = key_line(Some(hc), "resources").unwrap_or_else(|| line(hc.get("name"), m));
            out.push(
                "limits-removed",
                m,
                at,
                format!("{who}: {}", gone.join(", ")),
            );
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if bc.get(probe).is_some() && hc.get(probe).is_none() {
                out.push(
                    "probe-removed",
                    m,
                    line(hc.get("name"), m),
                    format!("{who}: {probe}"),
                );
            }
        }
    }
}

/// `registry/repo[:tag][@digest]` → (registry, tag-or-digest).
fn split_image(image: &str) -> (String, Option<String>) {
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    let registry = if !rest.is_empty()
        && image.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost")
    {
        first.to_string()
    } else {
        "docker.io".to_string()
    };
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = if let Some((_, d)) = image.split_once('@') {
        Some(d.to_string())
    } else {
        last.split_once(':').map(|(_, t)| t.to_string())
    };
    (registry, tag)
}

fn floating(image: &str) -> bool {
    matches!(split_image(image).1.as_deref(), None | Some("latest"))
}

fn image(out: &mut Out, bc: Option<&Node>, hc: &Node, m: &Manifest, who: &str) {
    let Some(hn) = hc.get("image") else { return };
    let Some(hi) = hn.as_str() else { return };
    let bi = bc.and_then(|c| c.get("image")).and_then(Node::as_str);
    if bi == Some(hi) {
        return;
    }
    if floating(hi) && !bi.is_some_and(floating) {
        out.push("image-latest", m, hn.span.line, format!("{who} runs {hi}"));
    }
    if let Some(bi) = bi {
        let (br, hr) = (split_image(bi).0, split_image(hi).0);
        if br != hr {
            out.push(
                "image-registry-changed",
                m,
                hn.span.line,
                format!("{who}: {br} → {hr}"),
            );
        }
    }
}

fn replicas(out: &mut Out, b: &Manifest, h: &Manifest, head: &Objects) {
    let count = |m: &Manifest| {
        m.root
            .path(&["spec", "replicas"])
            .and_then(Node::as_i64)
            .unwrap_or(1)
    };
    let (was, now) = (count(b), count(h));
    if now >= was {
        return;
    }
    let n = h.root.path(&["spec", "replicas"]);
    let at = line(n, h);
    out.push(
        "replicas-cut",
        h,
        at,
        format!("{} {was} → {now}", h.display_name()),
    );
    let labels: BTreeMap<String, String> = h
        .root
        .path(&["spec", "template", "metadata", "labels"])
        .map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| Some((e.key.key_str()?.into_owned(), e.value.scalar_text()?)))
        .collect();
    let ns = h.namespace.clone().unwrap_or_default();
    for pdb in head.values().flatten() {
        if pdb.kind != "PodDisruptionBudget" || pdb.namespace.clone().unwrap_or_default() != ns {
            continue;
        }
        let selector = pdb
            .root
            .path(&["spec", "selector", "matchLabels"])
            .map(Node::entries)
            .unwrap_or_default();
        let matches = !selector.is_empty()
            && selector.iter().all(|e| {
                e.key
                    .key_str()
                    .is_some_and(|k| labels.get(k.as_ref()) == e.value.scalar_text().as_ref())
            });
        let min = pdb
            .root
            .path(&["spec", "minAvailable"])
            .and_then(Node::as_i64);
        if let Some(min) = min.filter(|m| matches && *m > now) {
            out.push(
                "replicas-below-pdb",
                h,
                at,
                format!(
                    "{} has {now}, {} wants minAvailable {min}",
                    h.display_name(),
                    pdb.display_name()
                ),
            );
        }
    }
}

// --------------------------------------------------------------------- RBAC

/// (apiGroup, resource, verb) triples a role grants, each with its rule's line.
fn grants(m: &Manifest) -> BTreeMap<(String, String, String), usize> {
    let mut out = BTreeMap::new();
    for rule in m.root.get("rules").map(Node::as_seq).unwrap_or_default() {
        let mut groups = str_set(rule.get("apiGroups"));
        let mut resources = str_set(rule.get("resources"));
        let urls = str_set(rule.get("nonResourceURLs"));
        if !urls.is_empty() {
            groups.insert(String::new());
            resources.extend(urls);
        }
        if groups.is_empty() {
            groups.insert(String::new());
        }
        for g in &groups {
            for r in &resources {
                for v in str_set(rule.get("verbs")) {
                    out.entry((g.clone(), r.clone(), v))
                        .or_insert(rule.span.line);
                }
            }
        }
    }
    out
}

fn role(out: &mut Out, b: Option<&Manifest>, h: &Manifest) {
    let old = b.map(grants).unwrap_or_default();
    // New grants, by the line of the rule that gives them.
    let mut by_line: BTreeMap<usize, Vec<(String, String, String)>> = BTreeMap::new();
    for (t, l) in grants(h) {
        if !old.contains_key(&t) {
            by_line.entry(l).or_default().push(t);
        }
    }
    for (l, ts) in by_line {
        let wild = ts.iter().any(|(g, r, v)| g == "*" || r == "*" || v == "*");
        let verbs: BTreeSet<&str> = ts.iter().map(|t| t.2.as_str()).collect();
        let resources: BTreeSet<String> = ts
            .iter()
            .map(|(g, r, _)| {
                if g.is_empty() {
                    r.clone()
                } else {
                    format!("{g}/{r}")
                }
            })
            .collect();
        out.push(
            if wild {
                "rbac-wildcard"
            } else {
                "rbac-widened"
            },
            h,
            l,
            format!(
                "{} grants {} on {}",
                h.display_name(),
                verbs.into_iter().collect::<Vec<_>>().join(","),
                resources.into_iter().collect::<Vec<_>>().join(",")
            ),
        );
    }
}

fn role_ref(m: &Manifest) -> (String, String) {
    let get = |k| {
        m.root
            .path(&["roleRef", k])
            .and_then(Node::scalar_text)
            .unwrap_or_default()
    };
    (get("kind"), get("name"))
}

/// The grants of the role a binding refers to, when the snapshot has it.
fn referenced(objs: &Objects, binding: &Manifest) -> Option<BTreeSet<(String, String, String)>> {
    let (kind, name) = role_ref(binding);
    let ns = if kind == "Role" {
        binding.namespace.clone().unwrap_or_default()
    } else {
        String::new()
    };
    objs.get(&(RBAC.to_string(), kind, ns, name))
        .and_then(|v| v.first())
        .map(|r| grants(r).into_keys().collect())
}

fn binding(out: &mut Out, b: Option<&Manifest>, h: &Manifest, base: &Objects, head: &Objects) {
    let (kind, name) = role_ref(h);
    let ref_line = line(h.root.path(&["roleRef", "name"]), h);
    let who = h.display_name();
    let old = b.map(role_ref);
    if name == "cluster-admin" && kind == "ClusterRole" {
        if old.as_ref().is_none_or(|(_, n)| n != "cluster-admin") {
            out.push("rbac-cluster-admin", h, ref_line, who);
        }
        return;
    }
    let Some(b) = b else { return };
    let (old_kind, old_name) = old.unwrap_or_default();
    if (old_kind.as_str(), old_name.as_str()) != (kind.as_str(), name.as_str()) {
        if old_kind == "Role" && kind == "ClusterRole" {
            out.push(
                "rbac-cluster-scope",
                h,
                ref_line,
                format!("{who} now binds ClusterRole {name}"),
            );
        } else {
            let wider = match (referenced(base, b), referenced(head, h)) {
                (Some(o), Some(n)) => !n.is_subset(&o),
                _ => true,
            };
            if wider {
                out.push(
                    "rbac-binding-widened",
                    h,
                    ref_line,
                    format!("{who} binds {kind} {name} (was {old_kind} {old_name})"),
                );
            }
        }
    }
    let subject = |s: &Node| {
        ["kind", "namespace", "name"]
            .map(|k| s.get(k).and_then(Node::scalar_text).unwrap_or_default())
            .join("/")
    };
    let old_subjects: BTreeSet<String> = b
        .root
        .get("subjects")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .map(subject)
        .collect();
    for s in h.root.get("subjects").map(Node::as_seq).unwrap_or_default() {
        let id = subject(s);
        if !old_subjects.contains(&id) {
            out.push(
                "rbac-binding-widened",
                h,
                s.span.line,
                format!("{who} adds subject {}", id.replace("//", "/")),
            );
        }
    }
}

// ------------------------------------------------------- services, ingress

fn service(out: &mut Out, b: Option<&Manifest>, h: &Manifest) {
    let n = h.root.path(&["spec", "type"]);
    let Some(t) = n.and_then(Node::as_str) else {
        return;
    };
    if !matches!(t, "LoadBalancer" | "NodePort") {
        return;
    }
    let was = b.and_then(|b| b.root.path(&["spec", "type"]).and_then(Node::as_str));
    if was != Some(t) {
        out.push(
            "service-exposed",
            h,
            line(n, h),
            format!(
                "{} is {t} (was {})",
                h.display_name(),
                was.unwrap_or("ClusterIP")
            ),
        );
    }
}

fn hosts(m: &Manifest) -> Vec<(String, usize)> {
    let spec = m.root.get("spec");
    let mut out = Vec::new();
    for r in spec
        .and_then(|s| s.get("rules"))
        .map(Node::as_seq)
        .unwrap_or_default()
    {
        if let Some(h) = r.get("host") {
            if let Some(t) = h.scalar_text() {
                out.push((t, h.span.line));
            }
        }
    }
    for t in spec
        .and_then(|s| s.get("tls"))
        .map(Node::as_seq)
        .unwrap_or_default()
    {
        for h in t.get("hosts").map(Node::as_seq).unwrap_or_default() {
            if let Some(text) = h.scalar_text() {
                out.push((text, h.span.line));
            }
        }
    }
    out
}

fn ingress(out: &mut Out, b: Option<&Manifest>, h: &Manifest) {
    let old: BTreeSet<String> = b
        .map(hosts)
        .unwrap_or_default()
        .into_iter()
        .map(|x| x.0)
        .collect();
    let mut seen = BTreeSet::new();
    for (host, l) in hosts(h) {
        if !old.contains(&host) && seen.insert(host.clone()) {
            out.push(
                "ingress-host-added",
                h,
                l,
                format!("{} serves {host}", h.display_name()),
            );
        }
    }
}

// --------------------------------------------------------------------- CRDs

fn versions(m: &Manifest) -> Vec<&Node> {
    m.root
        .path(&["spec", "versions"])
        .map(|v| v.as_seq().iter().collect())
        .unwrap_or_default()
}

fn vname(v: &Node) -> String {
    v.get("name")
        .and_then(Node::scalar_text)
        .unwrap_or_default()
}

/// The schema of a version (v1), else the CRD-wide one (v1beta1).
fn schema<'a>(m: &'a Manifest, v: &'a Node) -> Option<&'a Node> {
    v.path(&["schema", "openAPIV3Schema"])
        .or_else(|| m.root.path(&["spec", "validation", "openAPIV3Schema"]))
}

/// Field path → (its schema node, its required names with their nodes).
fn fields<'a>(n: &'a Node, prefix: &str, out: &mut BTreeMap<String, &'a Node>) {
    for e in n.get("properties").map(Node::entries).unwrap_or_default() {
        let Some(k) = e.key.key_str() else { continue };
        let p = format!("{prefix}.{k}");
        out.insert(p.clone(), &e.value);
        fields(&e.value, &p, out);
    }
    if let Some(items) = n.get("items") {
        let p = format!("{prefix}[]");
        out.insert(p.clone(), items);
        fields(items, &p, out);
    }
}

fn crd(out: &mut Out, b: &Manifest, h: &Manifest) {
    let who = h.display_name();
    let scope = |m: &Manifest| {
        m.root
            .path(&["spec", "scope"])
            .and_then(Node::scalar_text)
            .unwrap_or_default()
    };
    if scope(b) != scope(h) {
        out.push(
            "crd-scope-changed",
            h,
            line(h.root.path(&["spec", "scope"]), h),
            format!("{who}: {} → {}", scope(b), scope(h)),
        );
    }
    let hv = versions(h);
    let find = |name: &str| hv.iter().copied().find(|v| vname(v) == name);
    let versions_line = key_line(h.root.get("spec"), "versions").unwrap_or_else(|| h.anchor().line);
    for bv in versions(b) {
        let name = vname(bv);
        let served = |v: &Node| v.get("served").and_then(Node::as_bool) != Some(false);
        if !served(bv) {
            continue;
        }
        match find(&name) {
            None => out.push(
                "crd-version-unserved",
                h,
                versions_line,
                format!("{who}: {name} removed"),
            ),
            Some(v) if !served(v) => out.push(
                "crd-version-unserved",
                h,
                line(v.get("served"), h),
                format!("{who}: {name} has served: false"),
            ),
            Some(_) => {}
        }
    }
    let storage = |vs: Vec<&Node>| {
        vs.into_iter()
            .find(|v| is_true(v.get("storage")))
            .map(|v| (vname(v), v.get("storage").map(|s| s.span.line)))
    };
    let (bs, hs) = (storage(versions(b)), storage(hv.clone()));
    if let (Some((bs, _)), Some((hs, hl))) = (&bs, &hs) {
        if bs != hs {
            out.push(
                "crd-storage-changed",
                h,
                hl.unwrap_or(versions_line),
                format!("{who}: {bs} → {hs}"),
            );
        }
    }
    for bv in versions(b) {
        let name = vname(bv);
        let Some(v) = find(&name) else { continue };
        let (Some(bsch), Some(hsch)) = (schema(b, bv), schema(h, v)) else {
            continue;
        };
        let (mut bf, mut hf) = (BTreeMap::new(), BTreeMap::new());
        bf.insert(String::new(), bsch);
        hf.insert(String::new(), hsch);
        fields(bsch, "", &mut bf);
        fields(hsch, "", &mut hf);
        let mut n = 0;
        let vline = line(v.get("name"), h);
        for p in bf.keys() {
            // A removed parent is reason enough.
            let parent_gone = p
                .rfind(['.', '['])
                .is_some_and(|i| i > 0 && !hf.contains_key(&p[..i]));
            if !hf.contains_key(p) && !parent_gone && n < MAX_FIELD_REASONS {
                n += 1;
                out.push(
                    "crd-field-removed",
                    h,
                    vline,
                    format!("{who} {name}: {}", p.trim_start_matches('.')),
                );
            }
        }
        for (p, hn) in &hf {
            let Some(bn) = bf.get(p) else { continue };
            let old = str_set(bn.get("required"));
            for r in hn.get("required").map(Node::as_seq).unwrap_or_default() {
                let Some(text) = r.scalar_text() else {
                    continue;
                };
                if !old.contains(&text) && n < MAX_FIELD_REASONS {
                    n += 1;
                    out.push(
                        "crd-field-required",
                        h,
                        r.span.line,
                        format!("{who} {name}: {p}.{text}", p = p.trim_start_matches('.'))
                            .replace(": .", ": "),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images() {
        assert_eq!(split_image("nginx"), ("docker.io".into(), None));
        assert_eq!(
            split_image("ghcr.io/a/b:1.2"),
            ("ghcr.io".into(), Some("1.2".into()))
        );
        assert_eq!(
            split_image("localhost:5000/app"),
            ("localhost:5000".into(), None)
        );
        assert_eq!(split_image("library/nginx:1").0, "docker.io");
        assert!(floating("nginx:latest"));
        assert!(floating("nginx"));
        assert!(!floating("nginx@sha256:abc"));
        assert!(!floating("registry:5000/nginx:1.2"));
    }
}
