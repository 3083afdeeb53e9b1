//! Which resource, and which container, a finding is about: read from the
//! finding's line and the file's parsed manifests, once, for every pack. The
//! JSON report carries both, and exemptions match on them.

use crate::finding::{Finding, ResourceRef};
use crate::manifest::{Manifest, Node, Value};

/// Pod-spec locations of each workload kind.
const POD_SPECS: &[&[&str]] = &[
    &["spec"],
    &["spec", "template", "spec"],
    &["spec", "jobTemplate", "spec", "template", "spec"],
];
const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// Sets `resource` and `container` on findings that lack them.
pub fn annotate(findings: &mut [Finding], manifests: &[Manifest]) {
    if manifests.is_empty() || findings.iter().all(|f| f.resource.is_some()) {
        return;
    }
    Layout::of(manifests).annotate(findings);
}

/// What locating needs of a file's manifests, kept after the file is
/// parsed: where each resource starts and the lines of its containers. The
/// findings made after every file (cross-object rules) are located from it,
/// without parsing the file again.
#[derive(Debug, Default)]
pub struct Layout {
    docs: Vec<DocLayout>,
}

#[derive(Debug)]
struct DocLayout {
    start: usize,
    resource: ResourceRef,
    /// Container lists in the order they are searched.
    lists: Vec<ListLayout>,
}

/// One container list: its first item's line, the line where the list
/// ends (the next key outside it), and each item's start and name.
#[derive(Debug)]
struct ListLayout {
    first: usize,
    end: usize,
    items: Vec<(usize, Option<String>)>,
}

impl Layout {
    pub fn of(manifests: &[Manifest]) -> Self {
        let docs = manifests
            .iter()
            .map(|m| DocLayout {
                start: start_line(&m.root),
                resource: ResourceRef::of(m),
                lists: container_lists(m),
            })
            .collect();
        Layout { docs }
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Sets `resource` and `container` on findings that lack them.
    pub fn annotate(&self, findings: &mut [Finding]) {
        for f in findings.iter_mut().filter(|f| f.resource.is_none()) {
            // The document holding the line: the last one that starts at
            // or before it (documents follow each other in a file).
            let Some(doc) = self
                .docs
                .iter()
                .filter(|d| d.start <= f.span.line)
                .max_by_key(|d| d.start)
            else {
                continue;
            };
            f.resource = Some(Box::new(doc.resource.clone()));
            if f.container.is_none() {
                f.container = doc.container_at(f.span.line).map(Into::into);
            }
        }
    }
}

impl DocLayout {
    /// The name of the container whose item holds `line`.
    fn container_at(&self, line: usize) -> Option<String> {
        let list = self
            .lists
            .iter()
            .find(|l| line >= l.first && line < l.end)?;
        list.items
            .iter()
            .filter(|(start, _)| *start <= line)
            .max_by_key(|(start, _)| *start)
            .and_then(|(_, name)| name.clone())
    }
}

fn start_line(n: &Node) -> usize {
    match &n.value {
        Value::Map(entries) => entries
            .iter()
            .map(|e| e.key.span.line)
            .min()
            .unwrap_or(n.span.line),
        _ => n.span.line,
    }
}

/// Every key line of a subtree, except inside `skip`.
fn key_lines(n: &Node, skip: &Node, out: &mut Vec<usize>) {
    if std::ptr::eq(n, skip) {
        return;
    }
    match &n.value {
        Value::Map(entries) => {
            for e in entries {
                out.push(e.key.span.line);
                key_lines(&e.value, skip, out);
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| key_lines(i, skip, out)),
        _ => {}
    }
}

/// The non-empty container lists of a workload, in search order.
fn container_lists(m: &Manifest) -> Vec<ListLayout> {
    let mut out = Vec::new();
    for path in POD_SPECS {
        let Some(spec) = m.root.path(path) else {
            continue;
        };
        for list in CONTAINER_LISTS {
            let Some(seq) = spec.get(list) else {
                continue;
            };
            let items = seq.as_seq();
            let Some(first) = items.first() else {
                continue;
            };
            // The list ends where the next key outside it starts.
            let mut others = Vec::new();
            key_lines(&m.root, seq, &mut others);
            let last_start = items.last().map_or(0, start_line);
            let end = others
                .into_iter()
                .filter(|l| *l > last_start)
                .min()
                .unwrap_or(usize::MAX);
            out.push(ListLayout {
                first: start_line(first),
                end,
                items: items
                    .iter()
                    .map(|i| {
                        (
                            start_line(i),
                            i.get("name").and_then(Node::as_str).map(String::from),
                        )
                    })
                    .collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::source::{SourceFile, Span};
    use std::sync::Arc;

    const TEXT: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: db:1
      containers:
        - name: app
          image: web:1
          securityContext:
            privileged: true
        - name: sidecar
          image: proxy:latest
      volumes: []
  strategy: {}
"#;

    fn located(line: usize) -> (Option<String>, Option<String>) {
        let file = SourceFile::new("a.yaml", TEXT.to_string());
        let parsed = crate::manifest::parse_file(&file, Default::default());
        let path: Arc<str> = "a.yaml".into();
        let mut f = vec![Finding::new(
            "x/y",
            Severity::Note,
            &path,
            Span::line(line),
            "m",
        )];
        annotate(&mut f, &parsed.manifests);
        let r = f[0].resource.as_ref().map(|r| {
            format!(
                "{}/{}/{}",
                r.kind,
                r.namespace.as_deref().unwrap_or("-"),
                r.name.as_deref().unwrap_or("-")
            )
        });
        (r, f[0].container.as_deref().map(String::from))
    }

    #[test]
    fn findings_know_their_resource_and_container() {
        assert_eq!(located(4), (Some("Service/-/web".into()), None));
        assert_eq!(located(9), (Some("Deployment/shop/web".into()), None));
        assert_eq!(located(16).1.as_deref(), Some("migrate"));
        assert_eq!(located(18).1.as_deref(), Some("app"));
        assert_eq!(located(21).1.as_deref(), Some("app"));
        assert_eq!(located(23).1.as_deref(), Some("sidecar"));
        assert_eq!(located(24), (Some("Deployment/shop/web".into()), None));
        assert_eq!(located(25).1, None);
    }
}
