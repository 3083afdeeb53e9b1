//! The pod spec locator: where a workload keeps its pod spec, its template
//! labels, and every container with its span and role.

use crate::manifest::{Manifest, Node};
use crate::source::Span;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Regular,
    /// `initContainers` that run to completion before the others start.
    Init,
    /// `initContainers` with `restartPolicy: Always`: native sidecars that
    /// keep running next to the regular containers.
    Sidecar,
    Ephemeral,
}

impl ContainerKind {
    pub fn label(self) -> &'static str {
        match self {
            ContainerKind::Regular => "container",
            ContainerKind::Init => "init container",
            ContainerKind::Sidecar => "sidecar container",
            ContainerKind::Ephemeral => "ephemeral container",
        }
    }

    /// Long-running: regular containers and native sidecars.
    pub fn long_running(self) -> bool {
        matches!(self, ContainerKind::Regular | ContainerKind::Sidecar)
    }
}

pub struct Container<'a> {
    pub node: &'a Node,
    pub name: String,
    pub kind: ContainerKind,
    /// The `name:` key of the container (the `- name:` line), else the item.
    pub span: Span,
}

impl<'a> Container<'a> {
    /// A field of the container's `securityContext`.
    pub fn security(&self, field: &str) -> Option<&'a Node> {
        self.node.path(&["securityContext", field])
    }
}

/// A resource that carries a pod spec.
pub struct Workload<'a> {
    pub m: &'a Manifest,
    /// The pod spec mapping.
    pub spec: &'a Node,
    /// The `spec:` key of the pod spec (or the manifest anchor).
    pub spec_span: Span,
    /// The pod's metadata (template metadata for controllers).
    pub pod_meta: Option<&'a Node>,
    /// Job, CronJob, or a bare Pod that runs to completion.
    pub job_like: bool,
}

const POD_GROUPS: &[&str] = &["", "apps", "extensions", "batch"];

/// The pod spec of a workload kind, or None for any other resource.
pub fn locate(m: &Manifest) -> Option<Workload<'_>> {
    if !POD_GROUPS.contains(&m.group()) {
        return None;
    }
    let holder = match m.kind.as_str() {
        "Pod" => Some(&m.root),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => m.root.path(&["spec", "template"]),
        "CronJob" => m.root.path(&["spec", "jobTemplate", "spec", "template"]),
        _ => return None,
    }?;
    let entry = holder.entry("spec")?;
    if !entry.value.is_map() {
        return None;
    }
    let spec = &entry.value;
    let job_like = match m.kind.as_str() {
        "Job" | "CronJob" => true,
        "Pod" => {
            matches!(
                spec.get("restartPolicy").and_then(Node::as_str),
                Some("Never" | "OnFailure")
            ) || m
                .root
                .path(&["metadata", "ownerReferences"])
                .is_some_and(|o| {
                    o.as_seq()
                        .iter()
                        .any(|r| r.get("kind").and_then(Node::as_str) == Some("Job"))
                })
        }
        _ => false,
    };
    Some(Workload {
        m,
        spec,
        spec_span: entry.key.span,
        pod_meta: holder.get("metadata"),
        job_like,
    })
}

impl<'a> Workload<'a> {
    pub fn containers(&self) -> Vec<Container<'a>> {
        let mut out = Vec::new();
        for (field, kind) in [
            ("initContainers", ContainerKind::Init),
            ("containers", ContainerKind::Regular),
            ("ephemeralContainers", ContainerKind::Ephemeral),
        ] {
            for (i, node) in self
                .spec
                .get(field)
                .map(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                if !node.is_map() {
                    continue;
                }
                let kind = if kind == ContainerKind::Init
                    && node.get("restartPolicy").and_then(Node::as_str) == Some("Always")
                {
                    ContainerKind::Sidecar
                } else {
                    kind
                };
                let name = node
                    .get("name")
                    .and_then(Node::scalar_text)
                    .unwrap_or_else(|| format!("{field}[{i}]"));
                let span = node.entry("name").map_or(node.span, |e| e.key.span);
                out.push(Container {
                    node,
                    name,
                    kind,
                    span,
                });
            }
        }
        out
    }

    /// No container names an image: a strategic-merge patch whose
    /// kustomization is not in the run, not a resource to judge.
    pub fn is_partial(&self) -> bool {
        !self
            .containers()
            .iter()
            .any(|c| c.kind != ContainerKind::Ephemeral && c.node.get("image").is_some())
    }

    /// A field of the pod-level `securityContext`.
    pub fn pod_security(&self, field: &str) -> Option<&'a Node> {
        self.spec.path(&["securityContext", field])
    }

    /// The container's setting, else the pod's (container overrides pod).
    pub fn effective<'c>(&self, c: &Container<'c>, field: &str) -> Option<&'c Node>
    where
        'a: 'c,
    {
        c.security(field).or_else(|| self.pod_security(field))
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        string_map(self.pod_meta.and_then(|m| m.get("labels")))
    }

    pub fn key(&self, c: &Container) -> String {
        format!("{}:{}={}", self.m.display_name(), c.kind.label(), c.name)
    }

    pub fn pod_key(&self) -> String {
        format!("{}:pod", self.m.display_name())
    }

    /// `Deployment/web container "app"` for messages.
    pub fn what(&self, c: &Container) -> String {
        format!("{} {} '{}'", self.m.display_name(), c.kind.label(), c.name)
    }
}

/// A mapping of scalars as strings (labels, selectors).
pub fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    node.map(Node::entries)
        .unwrap_or(&[])
        .iter()
        .filter_map(|e| Some((e.key.key_str()?.into_owned(), e.value.scalar_text()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{parse_file, Limits};
    use crate::source::SourceFile;

    #[test]
    fn finds_containers_of_every_kind() {
        let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n          labels: {app: c}\n        spec:\n          initContainers:\n          - name: setup\n            image: a\n          - image: b\n            name: proxy\n            restartPolicy: Always\n          containers:\n          - name: main\n            image: c\n";
        let p = parse_file(&SourceFile::new("c.yaml", text.into()), Limits::default());
        let w = locate(&p.manifests[0]).unwrap();
        assert!(w.job_like);
        assert_eq!(w.spec_span.line, 11);
        assert_eq!(w.labels().get("app").map(String::as_str), Some("c"));
        let c = w.containers();
        let got: Vec<_> = c
            .iter()
            .map(|c| (c.name.as_str(), c.kind, c.span.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("setup", ContainerKind::Init, 13),
                ("proxy", ContainerKind::Sidecar, 16),
                ("main", ContainerKind::Regular, 19)
            ]
        );
    }

    #[test]
    fn other_kinds_and_groups_have_no_pod_spec() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Deployment\nspec:\n  template:\n    spec: {}\n";
        let p = parse_file(&SourceFile::new("c.yaml", text.into()), Limits::default());
        assert!(locate(&p.manifests[0]).is_none());
    }
}
