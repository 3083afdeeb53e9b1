//! Checks that relate objects: per file, a controller's selector against its
//! template and duplicate objects; the rules (and shared helpers) of the
//! run-wide checks in `index.rs` (Service selectors, StatefulSet services,
//! HPA targets, PodDisruptionBudgets, NetworkPolicies).

use super::podspec::{self, string_map};
use super::{rule, Emit};
use crate::finding::{Finding, Severity};
use crate::manifest::{Manifest, Node};
use crate::packs::{Context, Rule};
use std::collections::{BTreeMap, HashMap};

/// Labels the controllers set on pods themselves: a selector on them
/// matches pods no template declares.
pub const CONTROLLER_LABELS: &[&str] = &[
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

/// A `LabelSelector` (matchLabels + matchExpressions). An empty selector
/// matches everything (a NetworkPolicy's `podSelector: {}`, a policy/v1 PDB's).
#[derive(Debug, Clone, Default)]
pub struct Selector {
    labels: BTreeMap<String, String>,
    /// (key, operator, values)
    exprs: Vec<(String, String, Vec<String>)>,
}

impl Selector {
    pub fn from_node(sel: &Node) -> Self {
        let exprs = sel
            .get("matchExpressions")
            .map(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .map(|e| {
                (
                    e.get("key").and_then(Node::scalar_text).unwrap_or_default(),
                    e.get("operator")
                        .and_then(Node::scalar_text)
                        .unwrap_or_default(),
                    e.get("values")
                        .map(Node::as_seq)
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(Node::scalar_text)
                        .collect(),
                )
            })
            .collect();
        Selector {
            labels: string_map(sel.get("matchLabels")),
            exprs,
        }
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.exprs.iter().all(|(key, op, values)| {
                let have = labels.get(key);
                match op.as_str() {
                    "In" => have.is_some_and(|v| values.contains(v)),
                    "NotIn" => have.is_none_or(|v| !values.contains(v)),
                    "Exists" => have.is_some(),
                    "DoesNotExist" => have.is_none(),
                    _ => true,
                }
            })
    }
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
    if Selector::from_node(&entry.value).matches(&labels) {
        return;
    }
    emit.push(
        &SELECTOR_MISMATCH,
        entry.key.span,
        format!(
            "{}: spec.selector does not match the pod template's labels ({}); the API server rejects it",
            m.display_name(),
            if labels.is_empty() { "the template has none".to_string() } else { labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ") }
        ),
        format!("{}:selector", m.display_name()),
    );
}

pub fn dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// A resource of an API group Kubernetes does not build in.
pub fn is_custom(m: &Manifest) -> bool {
    let g = m.group();
    g.contains('.') && !g.ends_with(".k8s.io")
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
                Emit::new(ctx.settings, m, out).push(
                    &DUPLICATE,
                    m.anchor(),
                    format!("{} is defined twice in this file (first on line {line}); the second silently overwrites the first", m.display_name()),
                    format!("{}:duplicate", m.display_name()),
                );
            }
        }
    }
}

pub static SELECTOR_MISMATCH: Rule = rule("practices/selector-mismatch", Severity::Error, "A controller's selector does not match its own pod template labels.", r#"
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
"#).precision("very-high");

pub static SERVICE_NO_MATCH: Rule = rule("practices/service-selector-no-match", Severity::Warning, "A Service's selector matches no pod template in the run.", r#"
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
"#).precision("medium");

pub static STS_SERVICE: Rule = rule("practices/statefulset-service-missing", Severity::Warning, "A StatefulSet's serviceName is not a headless Service in the run.", r#"
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
"#).precision("medium");

pub static HPA_TARGET: Rule = rule("practices/hpa-target-missing", Severity::Warning, "A HorizontalPodAutoscaler targets an object that is not in the run.", r#"
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
"#).precision("medium");

pub static PDB_MISSING: Rule = rule("practices/pdb-missing", Severity::Note, "A Deployment or StatefulSet with several replicas has no PodDisruptionBudget.", r#"
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
"#).precision("medium");

pub static NETPOL_MISSING: Rule = rule("practices/network-policy-missing", Severity::Note, "A workload is not selected by any NetworkPolicy, where its namespace and folder use NetworkPolicies.", r#"
## What it finds
A workload that no NetworkPolicy selects, where its own unit of deployment uses NetworkPolicies: a NetworkPolicy of the same namespace (a missing namespace counts as `default` on both sides) sits in the workload's folder, in a folder above it, or in a folder right beside the workload's files (`k8s/policies/` next to `k8s/app.yaml`). Policies in unrelated folders — another sample of a monorepo of examples, another repository of the run — do not make a workload judged, and namespaces without any policy are left alone (that is a decision, not an oversight). Once judged, a policy of the namespace from any folder that selects the pod counts; an empty `podSelector: {}` selects every pod of its own namespace (and only that namespace).

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
"#).precision("medium");

pub static DUPLICATE: Rule = rule("practices/duplicate-object", Severity::Error, "The same object (group, kind, namespace, name) is defined twice in one file.", r#"
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
"#).precision("high");

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![
        &SELECTOR_MISMATCH,
        &SERVICE_NO_MATCH,
        &STS_SERVICE,
        &HPA_TARGET,
        &PDB_MISSING,
        &NETPOL_MISSING,
        &DUPLICATE,
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
        let text = format!("{DEPLOY}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  selector: {{app: api}}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\nspec:\n  scaleTargetRef:\n    kind: Deployment\n    name: api\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: other\nspec:\n  podSelector:\n    matchLabels: {{app: web}}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: api\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: dbx}}\n    spec:\n      containers: [{{name: db, image: \"db:1\"}}]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  type: ClusterIP\n");
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
