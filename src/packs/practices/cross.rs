//! Checks that relate objects: selectors against pod templates, StatefulSet
//! services, HPA targets, PodDisruptionBudgets, NetworkPolicies, duplicates.
//!
//! Namespaces: a resource without `metadata.namespace` counts as "default"
//! (so it matches an explicit "default" and other namespace-less resources).
//! Checks that complain about something *absent* from the run only run in a
//! namespace that has at least one workload (or Service) in the run, so a
//! partial checkout does not drown in noise.

use super::podspec::{self, string_map, Workload};
use super::{rule, Emit};
use crate::finding::{Finding, Severity};
use crate::manifest::{Manifest, Node};
use crate::packs::{Context, ManifestIndex, Rule};
use std::collections::{BTreeMap, HashMap, HashSet};

pub const SELECTOR_MISMATCH: &str = "practices/selector-mismatch";
pub const SERVICE_NO_MATCH: &str = "practices/service-selector-no-match";
pub const STS_SERVICE: &str = "practices/statefulset-service-missing";
pub const HPA_TARGET: &str = "practices/hpa-target-missing";
pub const PDB_MISSING: &str = "practices/pdb-missing";
pub const NETPOL_MISSING: &str = "practices/network-policy-missing";
pub const DUPLICATE: &str = "practices/duplicate-object";

/// Labels the controllers set on pods themselves: a selector on them
/// matches pods no template declares.
const CONTROLLER_LABELS: &[&str] = &[
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "pod-template-hash",
    "controller-revision-hash",
    "batch.kubernetes.io/job-name",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "controller-uid",
];

pub fn namespace(m: &Manifest) -> &str {
    m.namespace.as_deref().unwrap_or("default")
}

/// A `LabelSelector` (matchLabels + matchExpressions) against labels.
pub fn selector_matches(sel: &Node, labels: &BTreeMap<String, String>) -> bool {
    let ml = string_map(sel.get("matchLabels"));
    if !ml.iter().all(|(k, v)| labels.get(k) == Some(v)) {
        return false;
    }
    for e in sel.get("matchExpressions").map(Node::as_seq).unwrap_or(&[]) {
        let key = e.get("key").and_then(Node::scalar_text).unwrap_or_default();
        let values: Vec<String> = e
            .get("values")
            .map(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::scalar_text)
            .collect();
        let have = labels.get(&key);
        let ok = match e.get("operator").and_then(Node::as_str).unwrap_or("") {
            "In" => have.is_some_and(|v| values.contains(v)),
            "NotIn" => have.is_none_or(|v| !values.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn selector_is_empty(sel: &Node) -> bool {
    sel.get("matchLabels")
        .is_none_or(|n| n.entries().is_empty())
        && sel
            .get("matchExpressions")
            .is_none_or(|n| n.as_seq().is_empty())
}

/// Per file: a controller's selector must select its own template.
pub fn check_selector(ctx: &Context, m: &Manifest, emit: &mut Emit) {
    if !matches!(
        m.kind.as_str(),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
    ) || !matches!(m.group(), "apps" | "extensions")
        || ctx.kustomize.selector_filled.contains(&*m.path)
    {
        return;
    }
    let Some(w) = podspec::locate(m) else { return };
    let Some(entry) = m.root.get("spec").and_then(|s| s.entry("selector")) else {
        return;
    };
    let labels = w.labels();
    if selector_matches(&entry.value, &labels) {
        return;
    }
    emit.push(
        SELECTOR_MISMATCH,
        entry.key.span,
        format!(
            "{}: spec.selector does not match the pod template's labels ({}); the API server rejects it",
            m.display_name(),
            if labels.is_empty() { "the template has none".to_string() } else { labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ") }
        ),
        format!("{}:selector", m.display_name()),
    );
}

fn dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// A resource of an API group Kubernetes does not build in.
fn is_custom(m: &Manifest) -> bool {
    let g = m.group();
    g.contains('.') && !g.ends_with(".k8s.io")
}

struct Pod<'a> {
    w: Workload<'a>,
    labels: BTreeMap<String, String>,
}

fn emit_for<'a>(m: &'a Manifest, out: &'a mut Vec<Finding>) -> Emit<'a> {
    Emit::new(m, out)
}

pub fn check_index(
    ctx: &Context,
    index: &ManifestIndex,
    template_dirs: &HashSet<String>,
    out: &mut Vec<Finding>,
) {
    let all: Vec<&Manifest> = index
        .manifests
        .iter()
        .filter(|m| !ctx.is_patch(&m.path))
        .collect();
    let pods: Vec<Pod> = all
        .iter()
        .filter_map(|m| podspec::locate(m))
        .filter(|w| !w.is_partial())
        .map(|w| {
            let labels = w.labels();
            Pod { w, labels }
        })
        .collect();
    let workload_ns: HashSet<&str> = pods.iter().map(|p| namespace(p.w.m)).collect();
    let by_kind =
        |kind: &str| -> Vec<&Manifest> { all.iter().copied().filter(|m| m.kind == kind).collect() };
    let services = by_kind("Service");
    let service_ns: HashSet<&str> = services.iter().map(|m| namespace(m)).collect();

    // Services whose selector picks no pod template. Judged only in a folder
    // that defines a workload of the Service's namespace and no custom
    // resource (operators create pods from those: CloudNativePG, ECK,
    // LeaderWorkerSet, Prometheus …).
    let mut dirs_with_pods: HashSet<(&str, &str)> = HashSet::new();
    for p in &pods {
        dirs_with_pods.insert((dir(&p.w.m.path), namespace(p.w.m)));
    }
    let dirs_with_crs: HashSet<&str> = all
        .iter()
        .filter(|m| is_custom(m))
        .map(|m| dir(&m.path))
        .collect();
    for s in &services {
        let d = dir(&s.path);
        if !dirs_with_pods.contains(&(d, namespace(s)))
            || dirs_with_crs.contains(d)
            || template_dirs.contains(d)
        {
            continue;
        }
        let Some(entry) = s.root.get("spec").and_then(|sp| sp.entry("selector")) else {
            continue;
        };
        let sel: BTreeMap<String, String> = string_map(Some(&entry.value))
            .into_iter()
            .filter(|(k, _)| !CONTROLLER_LABELS.contains(&k.as_str()))
            .collect();
        if sel.is_empty() {
            continue;
        }
        let hit = pods.iter().any(|p| {
            namespace(p.w.m) == namespace(s) && sel.iter().all(|(k, v)| p.labels.get(k) == Some(v))
        });
        if !hit {
            let shown: Vec<String> = sel.iter().map(|(k, v)| format!("{k}={v}")).collect();
            emit_for(s, out).push(
                SERVICE_NO_MATCH,
                entry.key.span,
                format!("{}: selector {} matches no pod template in namespace '{}' among the scanned files; the Service has no endpoints", s.display_name(), shown.join(","), namespace(s)),
                format!("{}:selector", s.display_name()),
            );
        }
    }

    // StatefulSets whose serviceName is not a headless Service of the run.
    for p in pods.iter().filter(|p| p.w.m.kind == "StatefulSet") {
        let m = p.w.m;
        if !service_ns.contains(namespace(m)) || template_dirs.contains(dir(&m.path)) {
            continue;
        }
        let Some(node) = m.root.path(&["spec", "serviceName"]) else {
            continue;
        };
        let Some(name) = node.as_str().filter(|n| !n.is_empty()) else {
            continue;
        };
        let svc = services
            .iter()
            .find(|s| s.name.as_deref() == Some(name) && namespace(s) == namespace(m));
        let problem = match svc {
            None => Some(format!(
                "names the Service '{name}', which is not among the scanned files"
            )),
            Some(s) => {
                let headless =
                    s.root.path(&["spec", "clusterIP"]).and_then(Node::as_str) == Some("None");
                (!headless).then(|| {
                    format!("names the Service '{name}', which is not headless (clusterIP: None)")
                })
            }
        };
        if let Some(problem) = problem {
            emit_for(m, out).push(
                STS_SERVICE,
                node.span,
                format!(
                    "{}: serviceName {problem}; the pods get no stable DNS names",
                    m.display_name()
                ),
                format!("{}:serviceName", m.display_name()),
            );
        }
    }

    // HPAs whose target is not in the run.
    for h in by_kind("HorizontalPodAutoscaler") {
        if !workload_ns.contains(namespace(h)) || template_dirs.contains(dir(&h.path)) {
            continue;
        }
        let Some(target) = h.root.path(&["spec", "scaleTargetRef"]) else {
            continue;
        };
        let kind = target
            .get("kind")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        let Some(name_node) = target.get("name") else {
            continue;
        };
        let name = name_node.scalar_text().unwrap_or_default();
        let found = all.iter().any(|m| {
            m.kind == kind
                && m.name.as_deref() == Some(name.as_str())
                && namespace(m) == namespace(h)
        });
        if !found {
            emit_for(h, out).push(
                HPA_TARGET,
                name_node.span,
                format!("{}: scaleTargetRef {kind}/{name} is not among the scanned files in namespace '{}'; the autoscaler does nothing", h.display_name(), namespace(h)),
                format!("{}:scaleTargetRef", h.display_name()),
            );
        }
    }

    // Replicated workloads without a PodDisruptionBudget.
    let pdbs = by_kind("PodDisruptionBudget");
    for p in &pods {
        let m = p.w.m;
        if !matches!(m.kind.as_str(), "Deployment" | "StatefulSet") {
            continue;
        }
        let replicas = m
            .root
            .path(&["spec", "replicas"])
            .and_then(Node::as_i64)
            .unwrap_or(1);
        if replicas <= 1 {
            continue;
        }
        let covered = pdbs.iter().any(|d| {
            namespace(d) == namespace(m)
                && d.root
                    .path(&["spec", "selector"])
                    .is_some_and(|sel| selector_matches(sel, &p.labels))
        });
        if !covered {
            emit_for(m, out).push(
                PDB_MISSING,
                m.anchor(),
                format!("{} runs {replicas} replicas but no PodDisruptionBudget in the scanned files selects its pods: a node drain can take them all down at once", m.display_name()),
                format!("{}:pdb", m.display_name()),
            );
        }
    }

    // Workloads no NetworkPolicy selects (only in namespaces that use NetworkPolicies).
    let netpols = by_kind("NetworkPolicy");
    let netpol_ns: HashSet<&str> = netpols.iter().map(|m| namespace(m)).collect();
    if !netpols.is_empty() {
        for p in &pods {
            let m = p.w.m;
            if (m.kind == "Pod" && p.w.job_like) || !netpol_ns.contains(namespace(m)) {
                continue;
            }
            let covered = netpols.iter().any(|np| {
                namespace(np) == namespace(m)
                    && match np.root.path(&["spec", "podSelector"]) {
                        // `podSelector: {}` selects every pod of the namespace.
                        Some(sel) => selector_is_empty(sel) || selector_matches(sel, &p.labels),
                        None => false,
                    }
            });
            if !covered {
                emit_for(m, out).push(
                    NETPOL_MISSING,
                    m.anchor(),
                    format!("{}: no NetworkPolicy in namespace '{}' selects its pods, so they accept traffic from anywhere", m.display_name(), namespace(m)),
                    format!("{}:netpol", m.display_name()),
                );
            }
        }
    }
}

/// Per file: the same object twice in one file (one stream, one apply).
pub fn check_duplicates(ctx: &Context, manifests: &[Manifest], out: &mut Vec<Finding>) {
    let mut seen: HashMap<(&str, &str, &str, &str), &Manifest> = HashMap::new();
    for m in manifests {
        let Some(name) = m.name.as_deref() else {
            continue;
        };
        if ctx.is_patch(&m.path)
            || (m.root.path(&["metadata", "generateName"]).is_some()
                && m.root.path(&["metadata", "name"]).is_none())
        {
            continue;
        }
        let key = (m.group(), m.kind.as_str(), namespace(m), name);
        match seen.get(&key) {
            None => {
                seen.insert(key, m);
            }
            Some(first) => {
                let line = first.anchor().line;
                emit_for(m, out).push(
                    DUPLICATE,
                    m.anchor(),
                    format!("{} is defined twice in this file (first on line {line}); the second silently overwrites the first", m.display_name()),
                    format!("{}:duplicate", m.display_name()),
                );
            }
        }
    }
}

/// The manifests `check_index` reads: pod templates, the kinds that point
/// at them, and custom resources (scale targets, operator-made pods).
pub fn wanted_in_index(m: &Manifest) -> bool {
    podspec::locate(m).is_some()
        || matches!(
            m.kind.as_str(),
            "Service" | "HorizontalPodAutoscaler" | "PodDisruptionBudget" | "NetworkPolicy"
        )
        || is_custom(m)
}

pub fn rules() -> Vec<Rule> {
    vec![
        rule("selector-mismatch", Severity::Error, "A controller's selector does not match its own pod template labels.", r#"
## What it finds
A Deployment, StatefulSet, DaemonSet or ReplicaSet whose `spec.selector` (matchLabels and matchExpressions) does not select `spec.template.metadata.labels`. Resources whose selector kustomize writes (`commonLabels`) are skipped.

## Why it matters
The API server rejects it (`selector does not match template labels`); with older APIs the controller orphaned its own pods.

## How to fix
```yaml
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
```
"#).precision("very-high"),
        rule("service-selector-no-match", Severity::Warning, "A Service's selector matches no pod template in the run.", r#"
## What it finds
A Service whose `spec.selector` matches the labels of no pod template (Deployment, StatefulSet, DaemonSet, Job, Pod …) in the same namespace among the scanned files. Only checked when the Service's folder defines at least one workload of its namespace, holds no unrendered template (`{{ }}`) and no custom resource (operators such as CloudNativePG, ECK, LeaderWorkerSet or the Prometheus operator create pods the run cannot see), so partial checkouts stay quiet; labels the controllers add themselves (`statefulset.kubernetes.io/pod-name`, `pod-template-hash` …) are ignored.

## Why it matters
The Service gets no endpoints: clients get connection refused, usually after a label rename on one side only.

## How to fix
Make the selector a subset of the pod template's labels:
```yaml
kind: Service
spec:
  selector:
    app: web      # the Deployment's template has app: web
```
"#).precision("medium"),
        rule("statefulset-service-missing", Severity::Warning, "A StatefulSet's serviceName is not a headless Service in the run.", r#"
## What it finds
A StatefulSet whose `spec.serviceName` names no Service in its namespace among the scanned files, or a Service that is not headless. Only checked when the run has Services in that namespace.

## Why it matters
The governing headless Service gives each pod its stable DNS name (`web-0.web`); without it peers cannot find each other.

## How to fix
```yaml
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector:
    app: db
```
"#).precision("medium"),
        rule("hpa-target-missing", Severity::Warning, "A HorizontalPodAutoscaler targets an object that is not in the run.", r#"
## What it finds
An HPA whose `spec.scaleTargetRef` (kind and name) matches no resource of its namespace among the scanned files (checked only when the run has workloads in that namespace).

## Why it matters
An HPA with a dangling target does nothing, usually after a rename.

## How to fix
```yaml
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
```
"#).precision("medium"),
        rule("pdb-missing", Severity::Note, "A Deployment or StatefulSet with several replicas has no PodDisruptionBudget.", r#"
## What it finds
A Deployment or StatefulSet with `replicas` > 1 that no PodDisruptionBudget of its namespace in the run selects.

## Why it matters
Node drains (upgrades, autoscaler scale-down) may evict every replica at once; the replicas then do not buy any availability.

## How to fix
```yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: web
```
"#).precision("medium"),
        rule("network-policy-missing", Severity::Note, "A workload is not selected by any NetworkPolicy of its namespace (in namespaces that use NetworkPolicies).", r#"
## What it finds
A workload that no NetworkPolicy selects, in a namespace where the scanned files define at least one NetworkPolicy (namespaces without any policy are left alone: that is a decision, not an oversight). An empty `podSelector: {}` selects every pod of its own namespace (and only that namespace).

## Why it matters
Pods that no policy selects accept traffic from every pod of the cluster; one forgotten workload is enough for lateral movement.

## How to fix
Add a default-deny policy per namespace, then allow what is needed:
```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
spec:
  podSelector: {}
  policyTypes: [Ingress]
```
"#).precision("medium"),
        rule("duplicate-object", Severity::Error, "The same object (group, kind, namespace, name) is defined twice in one file.", r#"
## What it finds
Two resources in the same file (one YAML stream, as `kubectl apply -f` or a rendered chart sees it) with the same API group, kind, namespace and name; a missing namespace counts as `default`, so it equals an explicit `default`. Different files are not compared: kustomize overlays, alternative examples and `install.yaml` bundles legitimately repeat names across files.

## Why it matters
`kubectl apply` applies both and the second silently wins; GitOps tools report a conflict or flap between the two.

## How to fix
Delete one copy, or rename it (or put it in another namespace):
```yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config-v2   # was a second "web-config"
```
"#).precision("high"),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{only, pairs};

    const RULES: &[&str] = &[
        "selector-mismatch",
        "service-selector-no-match",
        "statefulset-service-missing",
        "hpa-target-missing",
        "pdb-missing",
        "network-policy-missing",
        "duplicate-object",
    ];

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web, tier: fe}\n    spec:\n      containers:\n      - name: web\n        image: a:1\n";

    #[test]
    fn quiet_when_everything_lines_up() {
        let text = format!("{DEPLOY}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  selector: {{app: web}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n  maxUnavailable: 1\n  selector:\n    matchExpressions:\n    - {{key: tier, operator: In, values: [fe]}}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: all\nspec:\n  podSelector: {{}}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: db}}\n    spec:\n      containers: [{{name: db, image: \"db:1\"}}]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  clusterIP: None\n  selector: {{app: db}}\n");
        assert!(only(&text, RULES).is_empty(), "{:?}", only(&text, RULES));
    }

    #[test]
    fn fires_on_dangling_references() {
        let text = format!("{DEPLOY}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  selector: {{app: api}}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\nspec:\n  scaleTargetRef:\n    kind: Deployment\n    name: api\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: other\nspec:\n  podSelector:\n    matchLabels: {{app: web}}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: api\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: dbx}}\n    spec:\n      containers: [{{name: db, image: \"db:1\"}}]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  clusterIP: None\n");
        assert_eq!(
            only(&text, RULES),
            pairs(&[
                ("pdb-missing", 4),
                ("service-selector-no-match", 22),
                ("hpa-target-missing", 31),
                ("network-policy-missing", 44),
                ("statefulset-service-missing", 46),
                ("selector-mismatch", 47),
                ("duplicate-object", 58),
            ])
        );
    }

    #[test]
    fn service_alone_in_a_namespace_is_not_judged() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: x\nspec:\n  selector: {app: api}\n";
        assert!(only(text, RULES).is_empty());
    }
}
