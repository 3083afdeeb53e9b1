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
use super::{annotations, enabled, severity};
use crate::config::Settings;
use crate::finding::Finding;
use crate::manifest::{Manifest, Node};
use crate::packs::Context;
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

    fn push(&self, out: &mut Vec<Finding>, rule: &str, span: Span, msg: String, key: &str) {
        out.push(
            Finding::new(rule, severity(rule), &self.path, span, msg)
                .with_key(format!("{}:{key}", self.display))
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
    /// (namespace, podSelector) of every NetworkPolicy.
    netpols: Vec<(String, Selector)>,
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
                    self.netpols.push((ns, Selector::from_node(sel)));
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
                SERVICE_NO_MATCH,
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
                STS_SERVICE,
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
                HPA_TARGET,
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
                PDB_MISSING,
                p.anchor,
                format!("{} runs {} replicas but no PodDisruptionBudget in the scanned files selects its pods: a node drain can take them all down at once", p.site.display, p.replicas),
                "pdb",
            );
        }
    }

    // Workloads no NetworkPolicy selects, in namespaces that use them.
    let netpol_ns: HashSet<&str> = f.netpols.iter().map(|(ns, _)| ns.as_str()).collect();
    for p in &f.pods {
        if (p.kind == "Pod" && p.job_like) || !netpol_ns.contains(p.ns.as_str()) {
            continue;
        }
        // `podSelector: {}` selects every pod of its namespace.
        let covered = f
            .netpols
            .iter()
            .any(|(ns, sel)| *ns == p.ns && sel.matches(&p.labels));
        if !covered {
            p.site.push(
                out,
                NETPOL_MISSING,
                p.anchor,
                format!("{}: no NetworkPolicy in namespace '{}' selects its pods, so they accept traffic from anywhere", p.site.display, p.ns),
                "netpol",
            );
        }
    }
    all.extend(found.into_iter().filter(|x| enabled(settings, &x.rule)));
}
