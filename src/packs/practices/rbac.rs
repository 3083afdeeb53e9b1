//! RBAC: what a Role or ClusterRole grants (wildcards, cluster-wide read of
//! Secrets, the escalation verbs, admission webhook control, exec into
//! pods) and whom a binding grants it to (the `default` ServiceAccount, a
//! ServiceAccount made cluster admin — judged in the index phase, where the
//! ClusterRoles of the run are known).
//!
//! Not judged: ClusterRoles with an `aggregationRule` (their rules are
//! filled in by the controller from other ClusterRoles, which are judged
//! themselves) and roles named `system:…` (Kubernetes' own, reconciled by the
//! API server: a copy in a repository is not a decision of its authors).

use super::{rule, Emit};
use crate::finding::Severity;
use crate::manifest::{Manifest, Node};
use crate::packs::Rule;
use crate::source::Span;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One entry of `rules:` with its list items (value, span).
struct PolicyRule {
    index: usize,
    groups: Vec<(String, Span)>,
    resources: Vec<(String, Span)>,
    verbs: Vec<(String, Span)>,
    /// `resourceNames` narrows the rule to named objects.
    named: bool,
}

fn items(node: &Node, key: &str) -> Vec<(String, Span)> {
    node.get(key)
        .map(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| Some((n.scalar_text()?, n.span)))
        .collect()
}

impl PolicyRule {
    fn all(m: &Manifest) -> Vec<PolicyRule> {
        m.root
            .get("rules")
            .map(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_map())
            .map(|(index, r)| PolicyRule {
                index,
                groups: items(r, "apiGroups"),
                resources: items(r, "resources"),
                verbs: items(r, "verbs"),
                named: !r
                    .get("resourceNames")
                    .map(Node::as_seq)
                    .unwrap_or(&[])
                    .is_empty(),
            })
            .collect()
    }

    fn has_group(&self, group: &str) -> bool {
        self.groups.iter().any(|(g, _)| g == group || g == "*")
    }

    fn verb(&self, wanted: &[&str]) -> Option<&(String, Span)> {
        self.verbs
            .iter()
            .find(|(v, _)| v == "*" || wanted.contains(&v.as_str()))
    }

    /// The explicitly named resource (not `*`), if the rule grants it.
    fn resource(&self, name: &str) -> Option<&(String, Span)> {
        self.resources.iter().find(|(r, _)| r == name)
    }

    fn is_full_wildcard(&self) -> bool {
        let star = |v: &[(String, Span)]| v.iter().any(|(x, _)| x == "*");
        star(&self.groups) && star(&self.resources) && star(&self.verbs) && !self.named
    }
}

/// A Role or ClusterRole whose rules are its authors' decision.
fn judged_role(m: &Manifest) -> bool {
    m.group() == RBAC_GROUP
        && matches!(m.kind.as_str(), "Role" | "ClusterRole")
        && m.root.get("aggregationRule").is_none()
        && !m.name.as_deref().unwrap_or("").starts_with("system:")
}

/// A ClusterRole that grants every verb on every resource of every group
/// (what `cluster-admin` is), by name, for the index phase.
pub fn full_wildcard_cluster_role(m: &Manifest) -> Option<String> {
    (judged_role(m)
        && m.kind == "ClusterRole"
        && PolicyRule::all(m).iter().any(PolicyRule::is_full_wildcard))
    .then(|| m.name.clone())
    .flatten()
}

/// A binding's roleRef to a ClusterRole and its ServiceAccount subjects:
/// (role name, roleRef name span, [(namespace or "", name)]).
pub type ClusterRoleBinding = (String, Span, Vec<(String, String)>);

pub fn binding_to_cluster_role(m: &Manifest) -> Option<ClusterRoleBinding> {
    if m.group() != RBAC_GROUP || !matches!(m.kind.as_str(), "RoleBinding" | "ClusterRoleBinding") {
        return None;
    }
    let role = m.root.get("roleRef")?;
    if role.get("kind").and_then(Node::as_str) != Some("ClusterRole") {
        return None;
    }
    let name = role.get("name")?;
    let sas: Vec<(String, String)> = service_accounts(m).map(|(ns, n, _)| (ns, n)).collect();
    if sas.is_empty() {
        return None;
    }
    Some((name.scalar_text()?, name.span, sas))
}

/// The ServiceAccounts a RoleBinding or ClusterRoleBinding grants a role:
/// (namespace or "", name).
pub fn bound_service_accounts(m: &Manifest) -> Vec<(String, String)> {
    if m.group() != RBAC_GROUP || !matches!(m.kind.as_str(), "RoleBinding" | "ClusterRoleBinding") {
        return Vec::new();
    }
    service_accounts(m).map(|(ns, n, _)| (ns, n)).collect()
}

/// ServiceAccount subjects: (namespace or "", name, span of `name`).
fn service_accounts(m: &Manifest) -> impl Iterator<Item = (String, String, Span)> + '_ {
    m.root
        .get("subjects")
        .map(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter(|s| s.get("kind").and_then(Node::as_str) == Some("ServiceAccount"))
        .filter_map(|s| {
            let name = s.get("name")?;
            Some((
                s.get("namespace")
                    .and_then(Node::scalar_text)
                    .unwrap_or_default(),
                name.scalar_text()?,
                name.span,
            ))
        })
}

pub fn check(m: &Manifest, emit: &mut Emit) {
    if m.group() != RBAC_GROUP {
        return;
    }
    match m.kind.as_str() {
        "Role" | "ClusterRole" if judged_role(m) => check_role(m, emit),
        "RoleBinding" | "ClusterRoleBinding" => check_binding(m, emit),
        _ => {}
    }
}

fn check_role(m: &Manifest, emit: &mut Emit) {
    let who = m.display_name();
    let cluster = m.kind == "ClusterRole";
    for r in PolicyRule::all(m) {
        let key = |what: &str| format!("{who}:rules[{}]:{what}", r.index);
        // Wildcards: one finding per rule entry, on its first `*`.
        if let Some((span, what)) = wildcard(&r) {
            let what = if cluster {
                what
            } else {
                what.replace(
                    "(cluster-admin power)",
                    "in its namespace (namespace-admin power)",
                )
            };
            emit.push(
                &WILDCARD,
                span,
                format!("{who}: rules[{}] grants {what}", r.index),
                key("wildcard"),
            );
        }
        // Reading Secrets of every namespace.
        if cluster && !r.named && r.has_group("") {
            if let (Some((_, span)), Some((verb, _))) =
                (r.resource("secrets"), r.verb(&["get", "list", "watch"]))
            {
                emit.push(
                    &SECRETS,
                    *span,
                    format!("{who}: rules[{}] grants '{verb}' on secrets in every namespace (when bound with a ClusterRoleBinding): every credential of the cluster", r.index),
                    key("secrets"),
                );
            }
        }
        // escalate / bind / impersonate, named explicitly.
        for (verb, span) in &r.verbs {
            if matches!(verb.as_str(), "escalate" | "bind" | "impersonate") {
                let why = match verb.as_str() {
                    "escalate" => {
                        "lets it create or update roles with permissions it does not hold itself"
                    }
                    "bind" => "lets it bind roles with permissions it does not hold itself",
                    _ => "lets it act as other users, groups or ServiceAccounts",
                };
                emit.push(
                    &ESCALATION,
                    *span,
                    format!("{who}: rules[{}] grants '{verb}', which {why}", r.index),
                    key(verb),
                );
            }
        }
        // Control of admission webhooks (cluster-scoped objects).
        if cluster && !r.named && r.has_group("admissionregistration.k8s.io") {
            if let Some((verb, _)) = r.verb(&["create", "update", "patch", "delete"]) {
                for res in [
                    "mutatingwebhookconfigurations",
                    "validatingwebhookconfigurations",
                ] {
                    if let Some((_, span)) = r.resource(res) {
                        emit.push(
                            &WEBHOOKS,
                            *span,
                            format!("{who}: rules[{}] grants '{verb}' on {res} without resourceNames: it can intercept, rewrite or switch off admission of every object of the cluster", r.index),
                            key(res),
                        );
                    }
                }
            }
        }
        // A shell in other pods.
        if r.has_group("") {
            if let Some((verb, _)) = r.verb(&["create", "get"]) {
                for res in ["pods/exec", "pods/attach"] {
                    if let Some((_, span)) = r.resource(res) {
                        let scope = if cluster {
                            "in every namespace it is bound for"
                        } else {
                            "of its namespace"
                        };
                        emit.push(
                            &EXEC,
                            *span,
                            format!("{who}: rules[{}] grants '{verb}' on {res}: it can run commands in the pods {scope}, with their ServiceAccounts and secrets", r.index),
                            key(res),
                        );
                    }
                }
            }
        }
    }
}

/// Resources where `*` verbs add the dangerous ones, and what they add.
const STAR_VERB_SENSITIVE: &[(&str, &str)] = &[
    ("secrets", "reading and rewriting every Secret"),
    ("roles", "escalate and bind"),
    ("clusterroles", "escalate and bind"),
    ("serviceaccounts", "impersonate"),
    ("users", "impersonate"),
    ("groups", "impersonate"),
    ("userextras", "impersonate"),
];

/// Kubernetes' own API groups (the metrics APIs left out: they only serve
/// reads).
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "extensions",
    "policy",
    "autoscaling",
    "rbac.authorization.k8s.io",
    "networking.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
    "scheduling.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "resource.k8s.io",
    "flowcontrol.apiserver.k8s.io",
];

/// Where a rule's wildcard is a finding, and what it grants:
/// - `*` on `*` on `*`: cluster-admin;
/// - `*` in apiGroups, or `*` resources of a Kubernetes API group, with
///   verbs that write: every resource that matches, today and later;
///   read-only, only when it covers every resource of the core group
///   (Secrets among them);
/// - `*` resources of a custom group (an operator's own CRDs) or of the
///   read-only metrics APIs: not a finding;
/// - `*` verbs on named resources: only on Secrets, roles and identities,
///   where `*` includes reading every credential, `escalate`, `bind` or
///   `impersonate`; `*` verbs on an operator's own CRDs or on Deployments
///   add nothing dangerous (`deletecollection`).
fn wildcard(r: &PolicyRule) -> Option<(Span, String)> {
    let star = |v: &[(String, Span)]| v.iter().find(|(x, _)| x == "*").map(|(_, s)| *s);
    let (groups, resources, verbs) = (star(&r.groups), star(&r.resources), star(&r.verbs));
    if r.is_full_wildcard() {
        return Some((
            groups?,
            "every verb on every resource of every API group (cluster-admin power)".into(),
        ));
    }
    let read_only = !r.verbs.is_empty()
        && r.verbs
            .iter()
            .all(|(v, _)| matches!(v.as_str(), "get" | "list" | "watch"));
    let shown = |v: &[(String, Span)]| {
        v.iter()
            .map(|(x, _)| {
                if x.is_empty() {
                    "\"\"".to_string()
                } else {
                    x.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let builtin = groups.is_some()
        || r.groups
            .iter()
            .any(|(g, _)| BUILTIN_GROUPS.contains(&g.as_str()));
    if let Some(span) = groups.or(resources) {
        if !builtin || (read_only && !(resources.is_some() && r.has_group(""))) {
            return None;
        }
        let what = if resources.is_some() && groups.is_some() {
            "every resource of every API group, Secrets included".to_string()
        } else if resources.is_some() && r.has_group("") {
            "every resource of the core API group, Secrets included".to_string()
        } else if resources.is_some() {
            format!("every resource of the API groups [{}]", shown(&r.groups))
        } else {
            format!("[{}] of every API group", shown(&r.resources))
        };
        return Some((
            span,
            format!(
                "[{}] on {what}, including resources added later",
                shown(&r.verbs)
            ),
        ));
    }
    let span = verbs?;
    if r.named {
        return None;
    }
    let sensitive: Vec<String> = r
        .resources
        .iter()
        .filter_map(|(x, _)| {
            STAR_VERB_SENSITIVE
                .iter()
                .find(|(res, _)| res == x)
                .map(|(res, adds)| format!("{res} ({adds})"))
        })
        .collect();
    if sensitive.is_empty() {
        return None;
    }
    Some((
        span,
        format!(
            "every verb (`*`) on {}, which it most likely does not need",
            sensitive.join(", ")
        ),
    ))
}

fn check_binding(m: &Manifest, emit: &mut Emit) {
    let who = m.display_name();
    let role = m
        .root
        .path(&["roleRef", "name"])
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    for (_, name, span) in service_accounts(m) {
        if name == "default" {
            emit.push(
                &DEFAULT_SA,
                span,
                format!("{who} grants '{role}' to the 'default' ServiceAccount, which every pod of the namespace that names no ServiceAccount runs as"),
                format!("{who}:default-sa"),
            );
        }
    }
}

pub static WILDCARD: Rule = rule("practices/rbac-wildcard", Severity::Warning, "A Role or ClusterRole grants `*` verbs, resources or API groups.", r#"
## What it finds
A rule of a Role or ClusterRole with a wildcard that widens it in a way that matters (one finding per rule, on its `*`):
- `*` verbs on `*` resources of `*` API groups (cluster-admin power);
- `*` in `apiGroups`, or `*` resources of a Kubernetes API group, with verbs that write; with read-only verbs (`get`, `list`, `watch`) only when it covers every resource of the core group, Secrets included;
- `*` verbs on Secrets, roles (`roles`, `clusterroles`) or identities (`serviceaccounts`, `users`, `groups`), where `*` includes reading every credential, `escalate`, `bind` or `impersonate`.

Not reported: `*` resources of a custom API group (an operator's own CRDs) or of the read-only metrics APIs (`metrics.k8s.io` …), and `*` verbs on other named resources (an operator's CRDs, Deployments: `*` adds only `deletecollection` there). checkov's CKV_K8S_49 and kube-linter's `wildcard-in-rules` report every `*`; on real repositories most of those are operators managing their own resources.

ClusterRoles with an `aggregationRule` (their rules come from the ClusterRoles they select, which are judged themselves) and Kubernetes' own `system:` roles are not judged.

## Why it matters
A wildcard grants everything that matches today and everything added later (new resources of a CRD, new subresources, new verbs such as `escalate`): least privilege becomes impossible to review, and `*` on `*` is cluster-admin.

## How to fix
List what the workload uses:
```yaml
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, update]
```
"#).security(7.0).precision("high");

pub static SECRETS: Rule = rule("practices/rbac-secrets-read-cluster-wide", Severity::Warning, "A ClusterRole can read Secrets of every namespace.", r#"
## What it finds
A ClusterRole rule of the core API group (`""` or `*`) that grants `get`, `list`, `watch` or `*` on `secrets` without `resourceNames`. (A rule on `*` resources is reported by `practices/rbac-wildcard`.)

## Why it matters
Bound with a ClusterRoleBinding, it reads every credential of the cluster: ServiceAccount tokens of other namespaces, TLS keys, database passwords. Whoever takes over the pod that holds it owns them all.

## How to fix
Use a Role in the namespaces that hold the Secrets, or name the Secrets:
```yaml
kind: Role
metadata:
  namespace: app
rules:
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [app-tls]
  verbs: [get]
```
"#).security(7.0).precision("high");

pub static ESCALATION: Rule = rule("practices/rbac-escalation-verbs", Severity::Warning, "A Role or ClusterRole grants escalate, bind or impersonate.", r#"
## What it finds
A rule of a Role or ClusterRole with the verb `escalate`, `bind` or `impersonate` (the line of the verb). A `*` verb is reported by `practices/rbac-wildcard`.

## Why it matters
These verbs bypass RBAC's own protection against privilege escalation: `escalate` writes roles with more permissions than the holder has, `bind` binds such roles, `impersonate` acts as any user, group or ServiceAccount.

## How to fix
Remove the verb, or narrow it with `resourceNames` to the roles the controller manages:
```yaml
rules:
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  resourceNames: [my-operator-managed]
  verbs: [bind]
```
"#).security(8.0).precision("high");

pub static WEBHOOKS: Rule = rule("practices/rbac-webhook-control", Severity::Warning, "A ClusterRole can create, change or delete admission webhook configurations.", r#"
## What it finds
A ClusterRole rule that grants `create`, `update`, `patch`, `delete` or `*` on `mutatingwebhookconfigurations` or `validatingwebhookconfigurations` (API group `admissionregistration.k8s.io`) without `resourceNames` (controllers that patch their own webhook's CA bundle name it and are fine).

## Why it matters
An admission webhook sees, and may rewrite, every object sent to the API server, Secrets included; deleting one switches off the policy it enforces.

## How to fix
Name the configurations the controller manages:
```yaml
rules:
- apiGroups: [admissionregistration.k8s.io]
  resources: [validatingwebhookconfigurations]
  resourceNames: [my-webhook]
  verbs: [get, update, patch]
```
"#).security(8.0).precision("high");

pub static EXEC: Rule = rule("practices/rbac-pods-exec", Severity::Warning, "A Role or ClusterRole can exec or attach into pods.", r#"
## What it finds
A rule of the core API group that grants `create`, `get` (exec over websockets is authorised with `get` on clusters without the newer create-permission check) or `*` on `pods/exec` or `pods/attach`.

## Why it matters
Exec runs any command in the target pods, with their ServiceAccount tokens, mounted Secrets and network position: a ServiceAccount holding it reaches everything those pods can.

## How to fix
Keep exec to people (short-lived, audited bindings), not ServiceAccounts; if a controller needs it, a Role in one namespace:
```yaml
kind: Role
metadata:
  namespace: ci-runners
rules:
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [create]
```
"#).security(7.0).precision("high");

pub static DEFAULT_SA: Rule = rule("practices/rbac-default-service-account-bound", Severity::Warning, "A RoleBinding or ClusterRoleBinding grants a role to the `default` ServiceAccount.", r#"
## What it finds
A RoleBinding or ClusterRoleBinding with a subject `kind: ServiceAccount, name: default` (the line of its name).

## Why it matters
Every pod of the namespace that names no ServiceAccount runs as `default`: the permissions go to all of them, including ones added later that never needed them.

## How to fix
Create a ServiceAccount for the workload that needs the role, bind that one and set `serviceAccountName`:
```yaml
subjects:
- kind: ServiceAccount
  name: my-controller
  namespace: app
```
"#).security(6.0).precision("high");

pub static CLUSTER_ADMIN: Rule = rule("practices/rbac-cluster-admin-bound", Severity::Warning, "A ServiceAccount is bound to cluster-admin or a ClusterRole granting `*` on `*/*`.", r#"
## What it finds
A ClusterRoleBinding or RoleBinding that binds a ServiceAccount to `cluster-admin`, or to a ClusterRole of the scanned files with a rule granting every verb on every resource of every API group (`*`, `*`, `*`).

## Why it matters
The pods running as that ServiceAccount can do anything in the cluster (in the binding's namespace, for a RoleBinding): read every Secret, run privileged pods on every node, change RBAC. One compromised pod is a compromised cluster.

## How to fix
Write a ClusterRole with the verbs and resources the controller uses and bind that:
```yaml
kind: ClusterRoleBinding
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: my-controller
subjects:
- kind: ServiceAccount
  name: my-controller
  namespace: app
```
"#).security(9.0).precision("high");

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![
        &WILDCARD,
        &SECRETS,
        &ESCALATION,
        &WEBHOOKS,
        &EXEC,
        &DEFAULT_SA,
        &CLUSTER_ADMIN,
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{only, pairs};

    const RULES: &[&str] = &[
        "rbac-wildcard",
        "rbac-secrets-read-cluster-wide",
        "rbac-escalation-verbs",
        "rbac-webhook-control",
        "rbac-pods-exec",
        "rbac-default-service-account-bound",
        "rbac-cluster-admin-bound",
    ];

    #[test]
    fn risky_grants_fire_on_their_list_items() {
        let text = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: risky
rules:
- apiGroups: ['*']
  resources: ['*']
  verbs: ['*']
- apiGroups: ['']
  resources:
  - configmaps
  - secrets
  verbs: [get, list]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  verbs:
  - bind
  - escalate
- apiGroups: [admissionregistration.k8s.io]
  resources:
  - validatingwebhookconfigurations
  verbs: [create, delete]
- apiGroups: ['']
  resources:
  - pods/exec
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: risky
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: risky
subjects:
- kind: ServiceAccount
  name: default
  namespace: app
";
        assert_eq!(
            only(text, RULES),
            pairs(&[
                ("rbac-wildcard", 6),
                ("rbac-secrets-read-cluster-wide", 12),
                ("rbac-escalation-verbs", 17),
                ("rbac-escalation-verbs", 18),
                ("rbac-webhook-control", 21),
                ("rbac-pods-exec", 25),
                ("rbac-cluster-admin-bound", 35),
                ("rbac-default-service-account-bound", 38),
            ])
        );
    }

    #[test]
    fn narrow_aggregated_and_system_roles_are_quiet() {
        let text = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: narrow
rules:
- apiGroups: ['']
  resources: [secrets]
  resourceNames: [my-tls]
  verbs: [get]
- apiGroups: [admissionregistration.k8s.io]
  resources: [validatingwebhookconfigurations]
  resourceNames: [mine]
  verbs: [get, update, patch]
- apiGroups: ['']
  resources: [pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [monitoring.coreos.com]
  resources: [prometheuses, alertmanagers]
  verbs: ['*']
- apiGroups: [metrics.k8s.io]
  resources: ['*']
  verbs: ['*']
- apiGroups: [cilium.io, apps]
  resources: ['*']
  verbs: [get, list, watch]
- apiGroups: [dex.coreos.com]
  resources: ['*']
  verbs: ['*']
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ns-secrets
  namespace: app
rules:
- apiGroups: ['']
  resources: [secrets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-monitoring: 'true'}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:copy
rules:
- apiGroups: ['*']
  resources: ['*']
  verbs: ['*']
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: view
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: narrow}
subjects:
- {kind: ServiceAccount, name: robot, namespace: app}
- {kind: Group, name: default}
";
        assert!(only(text, RULES).is_empty(), "{:?}", only(text, RULES));
    }

    #[test]
    fn cluster_admin_by_name_and_the_annotation_that_silences() {
        let text = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: robot
  namespace: app
- kind: Group
  name: ops
";
        assert_eq!(only(text, RULES), pairs(&[("rbac-cluster-admin-bound", 8)]));
        let silenced = text.replace(
            "  name: admin\n",
            "  name: admin\n  annotations:\n    ignore-check.kube-linter.io/cluster-admin-role-binding: installer\n",
        );
        assert!(only(&silenced, RULES).is_empty());
    }
}
