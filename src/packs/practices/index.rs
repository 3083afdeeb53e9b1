//! Cross-object checks over the whole run, on slim facts gathered while each
//! file is checked: the pack keeps no YAML tree after its file is done, so
//! memory stays flat and the serial phase is a few hash lookups.
//!
//! Namespaces: a resource without `metadata.namespace` counts as "default"
//! (so it matches an explicit "default" and other namespace-less resources).
//! Checks that complain about something *absent* from the run only run where
//! the run has what they need to judge (see each rule's help), so a partial
//! checkout does not drown in noise.

use super::cross::{
    dir, is_custom, namespace, Selector, CONTROLLER_LABELS, HPA_TARGET, NETPOL_MISSING,
    PDB_MISSING, SERVICE_NO_MATCH, STS_SERVICE,
};
use super::podspec::{self, string_map};
use super::probes::READINESS;
use super::rbac::{self, CLUSTER_ADMIN};
use super::security::AUTOMOUNT;
use super::{annotations, enabled};
use crate::finding::Finding;
use crate::finding::Rule;
use crate::manifest::{Manifest, Node};
use crate::packs::Context;
use crate::settings::Settings;
use crate::source::Span;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Where a finding goes and what silences it.
#[derive(Debug, Clone)]
struct Site {
    path: Arc<str>,
    display: String,
    ignores: Vec<String>,
}

impl Site {
    fn of(m: &Manifest, pod_meta: Option<&Node>) -> Self {
        Site {
            path: m.path.clone(),
            display: m.display_name(),
            ignores: annotations::ignores(m, pod_meta),
        }
    }

    fn push(
        &self,
        out: &mut Vec<Finding>,
        rule: &'static Rule,
        span: Span,
        msg: String,
        key: &str,
    ) {
        self.push_keyed(out, rule, span, msg, format!("{}:{key}", self.display));
    }

    /// With the whole key (as the per-file checks make it).
    fn push_keyed(
        &self,
        out: &mut Vec<Finding>,
        rule: &'static Rule,
        span: Span,
        msg: String,
        key: String,
    ) {
        out.push(
            Finding::from_rule(rule, &self.path, span, msg)
                .with_key(key)
                .with_doc_ignores(self.ignores.clone()),
        );
    }
}

#[derive(Debug, Clone)]
struct PodFacts {
    site: Site,
    kind: String,
    ns: String,
    dir: String,
    labels: BTreeMap<String, String>,
    anchor: Span,
    job_like: bool,
    replicas: i64,
    /// StatefulSet `spec.serviceName` and its span.
    service_name: Option<(String, Span)>,
    /// Long-running containers without a readinessProbe: (span, what, key).
    no_readiness: Vec<(Span, String, String)>,
    /// The pod spec leaves `automountServiceAccountToken` unset: where to
    /// report, and the ServiceAccount whose own setting then decides.
    automount_unset: Option<(Span, String)>,
}

#[derive(Debug, Clone)]
struct ServiceFacts {
    site: Site,
    name: String,
    ns: String,
    dir: String,
    headless: bool,
    selector: Option<(BTreeMap<String, String>, Span)>,
}

#[derive(Debug, Clone)]
struct HpaFacts {
    site: Site,
    ns: String,
    dir: String,
    kind: String,
    name: String,
    span: Span,
}

/// Everything the index checks read.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    pods: Vec<PodFacts>,
    services: Vec<ServiceFacts>,
    hpas: Vec<HpaFacts>,
    /// (namespace, selector) of every PodDisruptionBudget.
    pdbs: Vec<(String, Selector)>,
    /// (namespace, folder, podSelector) of every NetworkPolicy.
    netpols: Vec<(String, String, Selector)>,
    /// ClusterRoles granting `*` on `*/*` (cluster-admin-like), by name.
    admin_roles: HashSet<String>,
    /// Bindings of ServiceAccounts to a ClusterRole: (where, role, span of
    /// the roleRef name, the ServiceAccounts as `namespace/name`).
    cluster_role_bindings: Vec<(Site, String, Span, Vec<String>)>,
    /// Names of ServiceAccounts some RoleBinding or ClusterRoleBinding of the
    /// run grants a role: their pods call the API. By name only: kustomize
    /// rewrites namespaces (a subject in `system` is the Deployment's
    /// namespace after `namespace: kubeflow`), and a name match that is not
    /// the same account only keeps a note away.
    bound_sas: HashSet<String>,
    /// (namespace, name) of ServiceAccounts with `automountServiceAccountToken: false`.
    sa_no_automount: HashSet<(String, String)>,
    /// (kind, namespace, name) of every resource: HPA targets.
    objects: HashSet<(String, String, String)>,
    /// Folders with custom resources (operators create pods from them).
    cr_dirs: HashSet<String>,
    /// Folders with unrendered templates (their workloads are invisible).
    pub template_dirs: HashSet<String>,
}

impl Facts {
    pub fn extend(&mut self, other: Facts) {
        self.pods.extend(other.pods);
        self.services.extend(other.services);
        self.hpas.extend(other.hpas);
        self.pdbs.extend(other.pdbs);
        self.netpols.extend(other.netpols);
        self.sa_no_automount.extend(other.sa_no_automount);
        self.bound_sas.extend(other.bound_sas);
        self.admin_roles.extend(other.admin_roles);
        self.cluster_role_bindings
            .extend(other.cluster_role_bindings);
        self.objects.extend(other.objects);
        self.cr_dirs.extend(other.cr_dirs);
        self.template_dirs.extend(other.template_dirs);
    }

    /// Gathers what the index checks need from one manifest.
    pub fn add(&mut self, ctx: &Context, m: &Manifest) {
        if ctx.is_patch(&m.path) {
            return;
        }
        let ns = namespace(m).to_string();
        let d = dir(&m.path).to_string();
        if let Some(name) = &m.name {
            self.objects
                .insert((m.kind.clone(), ns.clone(), name.clone()));
        }
        if is_custom(m) {
            self.cr_dirs.insert(d.clone());
        }
        if let Some(name) = rbac::full_wildcard_cluster_role(m) {
            self.admin_roles.insert(name);
        }
        // Not `default`: binding it is a finding of its own, and says nothing
        // about which of the namespace's pods call the API.
        self.bound_sas.extend(
            rbac::bound_service_accounts(m)
                .into_iter()
                .map(|(_, n)| n)
                .filter(|n| n != "default"),
        );
        if let Some((role, span, sas)) = rbac::binding_to_cluster_role(m) {
            let sas = sas
                .into_iter()
                .map(|(sa_ns, name)| {
                    let sa_ns = if sa_ns.is_empty() { ns.clone() } else { sa_ns };
                    format!("{sa_ns}/{name}")
                })
                .collect();
            self.cluster_role_bindings
                .push((Site::of(m, None), role, span, sas));
            return;
        }
        if let Some(w) = podspec::locate(m) {
            if w.is_partial() {
                return;
            }
            let spec = m.root.get("spec");
            self.pods.push(PodFacts {
                site: Site::of(m, w.pod_meta),
                kind: m.kind.clone(),
                ns,
                dir: d,
                labels: w.labels(),
                anchor: m.anchor(),
                job_like: w.job_like,
                replicas: spec
                    .and_then(|s| s.get("replicas"))
                    .and_then(Node::as_i64)
                    .unwrap_or(1),
                service_name: spec
                    .and_then(|s| s.get("serviceName"))
                    .filter(|_| m.kind == "StatefulSet")
                    .and_then(|n| Some((n.as_str()?.to_string(), n.span)))
                    .filter(|(n, _)| !n.is_empty()),
                no_readiness: super::probes::missing_readiness(&w),
                automount_unset: super::security::automount_unset(&w),
            });
            return;
        }
        let spec = m.root.get("spec");
        match m.kind.as_str() {
            "Service" if m.group().is_empty() => self.services.push(ServiceFacts {
                site: Site::of(m, None),
                name: m.name.clone().unwrap_or_default(),
                ns,
                dir: d,
                headless: spec.and_then(|s| s.get("clusterIP")).and_then(Node::as_str)
                    == Some("None"),
                selector: spec.and_then(|s| s.entry("selector")).map(|e| {
                    (
                        string_map(Some(&e.value))
                            .into_iter()
                            .filter(|(k, _)| !CONTROLLER_LABELS.contains(&k.as_str()))
                            .collect(),
                        e.key.span,
                    )
                }),
            }),
            "HorizontalPodAutoscaler" => {
                let target = spec.and_then(|s| s.get("scaleTargetRef"));
                if let Some(name) = target.and_then(|t| t.get("name")) {
                    self.hpas.push(HpaFacts {
                        site: Site::of(m, None),
                        ns,
                        dir: d,
                        kind: target
                            .and_then(|t| t.get("kind"))
                            .and_then(Node::scalar_text)
                            .unwrap_or_default(),
                        name: name.scalar_text().unwrap_or_default(),
                        span: name.span,
                    });
                }
            }
            "PodDisruptionBudget" => {
                if let Some(sel) = spec.and_then(|s| s.get("selector")) {
                    self.pdbs.push((ns, Selector::from_node(sel)));
                }
            }
            "NetworkPolicy" => {
                if let Some(sel) = spec.and_then(|s| s.get("podSelector")) {
                    self.netpols.push((ns, d, Selector::from_node(sel)));
                }
            }
            "ServiceAccount"
                if m.group().is_empty()
                    && m.root
                        .get("automountServiceAccountToken")
                        .and_then(Node::as_bool)
                        == Some(false) =>
            {
                if let Some(name) = &m.name {
                    self.sa_no_automount.insert((ns, name.clone()));
                }
            }
            _ => {}
        }
    }
}

pub fn check(settings: &Settings, f: &Facts, all: &mut Vec<Finding>) {
    let mut found = Vec::new();
    let out = &mut found;
    let workload_ns: HashSet<&str> = f.pods.iter().map(|p| p.ns.as_str()).collect();
    let service_ns: HashSet<&str> = f.services.iter().map(|s| s.ns.as_str()).collect();
    let dirs_with_pods: HashSet<(&str, &str)> = f
        .pods
        .iter()
        .map(|p| (p.dir.as_str(), p.ns.as_str()))
        .collect();
    // (namespace, label, value) → pods carrying it.
    let mut by_label: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (i, p) in f.pods.iter().enumerate() {
        for (k, v) in &p.labels {
            by_label
                .entry((p.ns.as_str(), k.as_str(), v.as_str()))
                .or_default()
                .push(i);
        }
    }

    // Services whose selector picks no pod template. Judged only in a folder
    // that defines a workload of the Service's namespace, no custom resource
    // and no unrendered template.
    for s in &f.services {
        let d = s.dir.as_str();
        if !dirs_with_pods.contains(&(d, s.ns.as_str()))
            || f.cr_dirs.contains(d)
            || f.template_dirs.contains(d)
        {
            continue;
        }
        let Some((sel, span)) = &s.selector else {
            continue;
        };
        let Some((k0, v0)) = sel.iter().next() else {
            continue;
        };
        let hit = by_label
            .get(&(s.ns.as_str(), k0.as_str(), v0.as_str()))
            .is_some_and(|cands| {
                cands.iter().any(|&i| {
                    let labels = &f.pods[i].labels;
                    sel.iter().all(|(k, v)| labels.get(k) == Some(v))
                })
            });
        if !hit {
            let shown: Vec<String> = sel.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.site.push(
                out,
                &SERVICE_NO_MATCH,
                *span,
                format!("{}: selector {} matches no pod template in namespace '{}' among the scanned files; the Service has no endpoints", s.site.display, shown.join(","), s.ns),
                "selector",
            );
        }
    }

    // StatefulSets whose serviceName is not a headless Service of the run.
    // Several Services of one name (variants in different folders): any
    // headless one will do.
    let mut services: HashMap<(&str, &str), Vec<&ServiceFacts>> = HashMap::new();
    for s in &f.services {
        services
            .entry((s.ns.as_str(), s.name.as_str()))
            .or_default()
            .push(s);
    }
    for p in &f.pods {
        let Some((name, span)) = &p.service_name else {
            continue;
        };
        if !service_ns.contains(p.ns.as_str()) || f.template_dirs.contains(&p.dir) {
            continue;
        }
        let problem = match services.get(&(p.ns.as_str(), name.as_str())) {
            None => Some(format!(
                "names the Service '{name}', which is not among the scanned files"
            )),
            Some(all) if !all.iter().any(|s| s.headless) => Some(format!(
                "names the Service '{name}', which is not headless (clusterIP: None)"
            )),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            p.site.push(
                out,
                &STS_SERVICE,
                *span,
                format!(
                    "{}: serviceName {problem}; the pods get no stable DNS names",
                    p.site.display
                ),
                "serviceName",
            );
        }
    }

    // HPAs whose target is not in the run.
    for h in &f.hpas {
        if !workload_ns.contains(h.ns.as_str()) || f.template_dirs.contains(&h.dir) {
            continue;
        }
        let key = (h.kind.clone(), h.ns.clone(), h.name.clone());
        if !f.objects.contains(&key) {
            h.site.push(
                out,
                &HPA_TARGET,
                h.span,
                format!("{}: scaleTargetRef {}/{} is not among the scanned files in namespace '{}'; the autoscaler does nothing", h.site.display, h.kind, h.name, h.ns),
                "scaleTargetRef",
            );
        }
    }

    // Replicated Deployments and StatefulSets without a PodDisruptionBudget.
    for p in &f.pods {
        if !matches!(p.kind.as_str(), "Deployment" | "StatefulSet") || p.replicas <= 1 {
            continue;
        }
        let covered = f
            .pdbs
            .iter()
            .any(|(ns, sel)| *ns == p.ns && sel.matches(&p.labels));
        if !covered {
            p.site.push(
                out,
                &PDB_MISSING,
                p.anchor,
                format!("{} runs {} replicas but no PodDisruptionBudget in the scanned files selects its pods: a node drain can take them all down at once", p.site.display, p.replicas),
                "pdb",
            );
        }
    }

    // Workloads no NetworkPolicy selects, where their own unit of deployment
    // uses NetworkPolicies: a policy of the same namespace in the workload's
    // folder or above it (a namespace-wide default-deny at the top of the
    // tree), or in a folder next to the workload's files (`k8s/policies/`
    // beside `k8s/app.yaml`). Policies in unrelated folders (another sample
    // of a monorepo, another repository of the run) say nothing about it.
    for p in &f.pods {
        if p.kind == "Pod" && p.job_like {
            continue;
        }
        let judged = f
            .netpols
            .iter()
            .any(|(ns, d, _)| *ns == p.ns && same_unit(d, &p.dir));
        if !judged {
            continue;
        }
        // `podSelector: {}` selects every pod of its namespace; a policy of
        // any folder counts.
        let covered = f
            .netpols
            .iter()
            .any(|(ns, _, sel)| *ns == p.ns && sel.matches(&p.labels));
        if !covered {
            p.site.push(
                out,
                &NETPOL_MISSING,
                p.anchor,
                format!("{}: NetworkPolicies of namespace '{}' sit next to it, but none selects its pods, so they accept traffic from anywhere", p.site.display, p.ns),
                "netpol",
            );
        }
    }

    // Containers without a readinessProbe, where a Service sends them
    // traffic (kube-score's rule: readiness only gates Service endpoints).
    // Pod index → the first Service selecting it, through the label index
    // (services × candidates, not pods × services).
    let mut selected_by: HashMap<usize, &str> = HashMap::new();
    for s in &f.services {
        let Some((sel, _)) = &s.selector else {
            continue;
        };
        let Some((k0, v0)) = sel.iter().next() else {
            continue;
        };
        for &i in by_label
            .get(&(s.ns.as_str(), k0.as_str(), v0.as_str()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let p = &f.pods[i];
            if !p.no_readiness.is_empty() && selects(s, sel, p) {
                // Several Services may select it: name the first by name,
                // whatever order the files were read in.
                selected_by
                    .entry(i)
                    .and_modify(|cur| *cur = (*cur).min(s.name.as_str()))
                    .or_insert(s.name.as_str());
            }
        }
    }
    for (i, p) in f.pods.iter().enumerate() {
        let Some(svc) = selected_by.get(&i) else {
            continue;
        };
        for (span, what, key) in &p.no_readiness {
            p.site.push_keyed(
                out,
                &READINESS,
                *span,
                format!("{what} has no readinessProbe: Service/{svc} sends it traffic as soon as it starts, before it can serve"),
                key.clone(),
            );
        }
    }

    // Pods that leave the token mount unset, unless their ServiceAccount
    // (in the run) sets `automountServiceAccountToken: false`, or is granted
    // a role by a binding of the run (the pod calls the API: it needs the
    // token).
    for p in &f.pods {
        let Some((span, sa)) = &p.automount_unset else {
            continue;
        };
        let key = (p.ns.clone(), sa.clone());
        if f.sa_no_automount.contains(&key) || f.bound_sas.contains(sa) {
            continue;
        }
        p.site.push_keyed(
            out,
            &AUTOMOUNT,
            *span,
            format!("{} mounts a token of ServiceAccount '{sa}' (neither the pod nor the ServiceAccount sets automountServiceAccountToken: false): anyone who gets into the pod can call the Kubernetes API as it", p.site.display),
            format!("{}:pod", p.site.display),
        );
    }
    // ServiceAccounts bound to cluster-admin or a ClusterRole like it.
    for (site, role, span, sas) in &f.cluster_role_bindings {
        if role != "cluster-admin" && !f.admin_roles.contains(role) {
            continue;
        }
        let scope = if site.display.starts_with("ClusterRoleBinding/") {
            "in the whole cluster".to_string()
        } else {
            "in the binding's namespace".to_string()
        };
        site.push(
            out,
            &CLUSTER_ADMIN,
            *span,
            format!("{}: ServiceAccount {} gets '{role}', which grants every verb on every resource, {scope}: a compromised pod running as it owns the cluster", site.display, sas.join(", ")),
            "cluster-admin",
        );
    }
    let rules = super::rules();
    all.extend(found.into_iter().filter(|x| {
        rules
            .iter()
            .find(|r| *r.id == *x.rule)
            .is_none_or(|r| enabled(settings, r))
    }));
}

/// A policy folder governs a workload folder when it is the same folder or
/// above it, or a folder right beside the workload's files.
fn same_unit(policy_dir: &str, workload_dir: &str) -> bool {
    let under = |a: &str, b: &str| {
        a == b || a.is_empty() || (b.starts_with(a) && b.as_bytes().get(a.len()) == Some(&b'/'))
    };
    under(policy_dir, workload_dir) || dir(policy_dir) == workload_dir
}

/// Whether a Service of the pod's namespace (a missing namespace counts as
/// "default" on both sides) selects the pod, from the pod's folder tree (its
/// folder, above or below it, or a folder beside it): a Service of another
/// sample of a monorepo, or of another repository of the run, that happens
/// to select `app: web` does not send this pod traffic.
fn selects(s: &ServiceFacts, sel: &BTreeMap<String, String>, p: &PodFacts) -> bool {
    s.ns == p.ns
        && (same_unit(&s.dir, &p.dir) || same_unit(&p.dir, &s.dir))
        && sel.iter().all(|(k, v)| p.labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{only, pairs};
    use super::same_unit;

    #[test]
    fn a_policy_governs_its_folder_the_folders_below_and_the_folder_it_sits_in() {
        assert!(same_unit("k8s/app", "k8s/app"));
        assert!(same_unit("k8s", "k8s/app"));
        assert!(same_unit("", "k8s/app"));
        assert!(same_unit("k8s/policies", "k8s"));
        // Another sample of a monorepo, a prefix that is not a folder.
        assert!(!same_unit(
            "networking/network-policies",
            "quickstarts/hello"
        ));
        assert!(!same_unit(
            "networking/network-policies",
            "networking/other"
        ));
        assert!(!same_unit("k8s/app", "k8s/app2"));
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\nspec:\n  serviceAccountName: robot\n  containers:\n  - name: p\n    image: a:1\n";

    #[test]
    fn automount_honours_an_explicit_true_and_the_service_account() {
        assert_eq!(
            only(POD, &["automount-service-account-token"]),
            pairs(&[("automount-service-account-token", 6)])
        );
        let explicit = POD.replace("spec:\n", "spec:\n  automountServiceAccountToken: true\n");
        assert!(only(&explicit, &["automount-service-account-token"]).is_empty());
        let sa = |ns: &str| {
            format!("{POD}---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: robot\n  namespace: {ns}\nautomountServiceAccountToken: false\n")
        };
        assert!(only(&sa("a"), &["automount-service-account-token"]).is_empty());
        // The ServiceAccount of another namespace is another account.
        assert_eq!(
            only(&sa("b"), &["automount-service-account-token"]).len(),
            1
        );
    }

    #[test]
    fn services_select_pods_of_their_own_namespace_only() {
        let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: a:1\n";
        let svc = |ns: &str| {
            format!("{deploy}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n{ns}spec:\n  selector: {{app: web}}\n")
        };
        let rules = &["service-selector-no-match", "readiness-probe-missing"];
        // Unset on both sides: the same namespace.
        assert_eq!(
            only(&svc(""), rules),
            pairs(&[("readiness-probe-missing", 13)])
        );
        assert_eq!(
            only(&svc("  namespace: default\n"), rules),
            pairs(&[("readiness-probe-missing", 13)])
        );
        // Another namespace: the Service selects nothing here (not judged,
        // since no workload of its namespace is in its folder), and the pod
        // gets no traffic from it.
        assert!(only(&svc("  namespace: other\n"), rules).is_empty());
        let other = format!(
            "{}---\n{}",
            svc("  namespace: other\n"),
            deploy
                .replace("name: web\nspec", "name: api\n  namespace: other\nspec")
                .replace("{app: web}\n    spec", "{app: api}\n    spec")
                .replace("matchLabels: {app: web}", "matchLabels: {app: api}")
        );
        assert_eq!(
            only(&other, rules),
            pairs(&[("service-selector-no-match", 22)])
        );
    }
}
