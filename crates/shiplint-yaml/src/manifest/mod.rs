//! Kubernetes manifests: documents with `apiVersion` and `kind`, `*List`
//! kinds expanded, each keeping the spans of its YAML tree.

pub mod yaml;

use crate::source::{SourceFile, Span};
use std::sync::Arc;
pub use yaml::{Document, DuplicateKey, Limits, Node, Value};

#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: Arc<str>,
    /// 0-based number of the YAML document in its file.
    pub doc_index: usize,
    /// Position inside a `kind: List`, when it came from one.
    pub item_index: Option<usize>,
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub root: Node,
    /// Duplicate keys inside this resource.
    pub duplicates: Vec<DuplicateKey>,
}

impl Manifest {
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    pub fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or(&self.api_version, |(_, v)| v)
    }

    /// `Kind/namespace/name`, for messages and cross-object checks.
    pub fn display_name(&self) -> String {
        let name = self.name.as_deref().unwrap_or("<unnamed>");
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, name),
            None => format!("{}/{}", self.kind, name),
        }
    }

    /// Where a finding about the whole resource goes: `metadata.name` if
    /// present, else the `kind:` line.
    pub fn anchor(&self) -> Span {
        self.root
            .path(&["metadata", "name"])
            .or_else(|| self.root.get("kind"))
            .map_or(self.root.span, |n| n.span)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.root
            .path(&["metadata", "annotations", key])
            .and_then(Node::as_str)
    }

    pub fn annotations(&self) -> impl Iterator<Item = (String, &Node)> {
        self.root
            .path(&["metadata", "annotations"])
            .map(Node::entries)
            .unwrap_or(&[])
            .iter()
            .filter_map(|e| e.key.key_str().map(|k| (k.into_owned(), &e.value)))
    }
}

/// Why a YAML document could not be taken as a resource.
#[derive(Debug, Clone)]
pub enum Problem {
    /// The YAML does not parse.
    Syntax { message: String, span: Span },
    /// A document that looks like a resource but lacks a type field.
    MissingField {
        field: &'static str,
        span: Span,
        detail: String,
        /// The document as JSON: a line-independent identity.
        content: String,
    },
}

#[derive(Debug, Default)]
pub struct ParsedFile {
    pub manifests: Vec<Manifest>,
    pub problems: Vec<Problem>,
    /// Documents that are YAML but not Kubernetes resources (workflows,
    /// Chart.yaml, compose files …): counted, never reported.
    pub other_documents: usize,
}

/// True for text with Go-template braces (`{{ }}`): a cheap first test.
/// Whether the file really needs rendering is [`needs_rendering`].
pub fn is_template(text: &str) -> bool {
    text.contains("{{") && text.contains("}}")
}

/// Whether a file is a template that cannot be read before it is rendered:
/// a file under a chart's `templates/` folder with `{{ }}` in it, or `{{ }}`
/// text that is not plain YAML — it does not parse, or its braces parse as
/// flow mappings (`name: {{ .Values.name }}`). Valid YAML that only holds
/// `{{` inside strings (Prometheus rules' `{{ $labels.pod }}`, a ConfigMap's
/// script) is a manifest like any other.
pub fn needs_rendering(path: &str, text: &str) -> bool {
    is_template(text)
        && (in_chart_templates(path)
            || template_stream(&yaml::parse_stream(text, Limits::default())))
}

/// `{{ }}` text whose parse shows it is a template: it does not parse, or
/// its braces became flow mappings.
fn template_stream(stream: &yaml::Stream) -> bool {
    stream.error.is_some() || stream.documents.iter().any(|d| has_node_key(&d.root))
}

/// The file's manifests, or `None` when it is a template that needs
/// rendering first ([`needs_rendering`]); the text is parsed once either way.
pub fn parse_unless_template(file: &SourceFile, limits: Limits) -> Option<ParsedFile> {
    parse_unless_template_with(file, || yaml::parse_stream(&file.text, limits))
}

/// `parse_unless_template`, with `stream` giving the file's parse (one the
/// run already made of the same text, or a fresh one).
pub fn parse_unless_template_with(
    file: &SourceFile,
    stream: impl FnOnce() -> yaml::Stream,
) -> Option<ParsedFile> {
    let braces = is_template(&file.text);
    if braces && in_chart_templates(&file.path) {
        return None;
    }
    let stream = stream();
    if braces && template_stream(&stream) {
        return None;
    }
    Some(from_stream(file, stream))
}

/// Under the `templates/` folder of a chart (a `Chart.yaml` beside it).
fn in_chart_templates(path: &str) -> bool {
    let p = std::path::Path::new(path);
    p.ancestors()
        .skip(1)
        .filter(|a| a.file_name().is_some_and(|n| n == "templates"))
        .any(|t| {
            t.parent()
                .is_some_and(|chart| chart.join("Chart.yaml").is_file())
        })
}

/// A mapping key that is itself a mapping or sequence: what `{{ x }}` parses
/// to when it is not quoted. Kubernetes objects never have one.
fn has_node_key(node: &Node) -> bool {
    match &node.value {
        yaml::Value::Map(entries) => entries.iter().any(|e| {
            matches!(e.key.value, yaml::Value::Map(_) | yaml::Value::Seq(_))
                || has_node_key(&e.value)
        }),
        yaml::Value::Seq(items) => items.iter().any(has_node_key),
        _ => false,
    }
}

/// True for files that look like Kubernetes manifests at the text level:
/// used to decide whether a YAML syntax error is worth a finding.
pub fn looks_like_manifest(text: &str) -> bool {
    let mut api = false;
    let mut kind = false;
    for line in text.lines() {
        let t = line.trim_start_matches([' ', '-']);
        api |= t.starts_with("apiVersion:") || t.starts_with("\"apiVersion\":");
        kind |= t.starts_with("kind:") || t.starts_with("\"kind\":");
        if api && kind {
            return true;
        }
    }
    false
}

pub fn parse_file(file: &SourceFile, limits: Limits) -> ParsedFile {
    from_stream(file, yaml::parse_stream(&file.text, limits))
}

fn from_stream(file: &SourceFile, stream: yaml::Stream) -> ParsedFile {
    let mut out = ParsedFile::default();
    for (doc_index, doc) in stream.documents.into_iter().enumerate() {
        classify(file, doc_index, doc, &mut out);
    }
    if let Some(e) = stream.error {
        if file.explicit || looks_like_manifest(&file.text) {
            let span = Span::point(e.line, e.col);
            out.problems.push(Problem::Syntax {
                message: e.message,
                span,
            });
        }
    }
    out
}

/// apiVersion groups of tool configuration that looks like a resource but
/// is never sent to an API server (kustomize, kind, kubeadm, kubeconfig,
/// scheduler and audit policies, Flux's schema plugin …). Exact names:
/// `flowcontrol.apiserver.k8s.io` is served though `apiserver.k8s.io` is a
/// config group.
const TOOL_CONFIG_GROUPS: &[&str] = &[
    "kustomize.config.k8s.io",
    "kind.x-k8s.io",
    "k3d.io",
    "kubeadm.k8s.io",
    "kubelet.config.k8s.io",
    "kubeproxy.config.k8s.io",
    "apiserver.config.k8s.io",
    "audit.k8s.io",
    "apiserver.k8s.io",
    "client.authentication.k8s.io",
    "kubescheduler.config.k8s.io",
    "skaffold",
    "config.kubernetes.io",
    "kpt.dev",
    "schema.plugin.fluxcd.io",
    // controller-runtime's and Katib's component configs: files a manager
    // reads (through a configMapGenerator), not resources.
    "controller-runtime.sigs.k8s.io",
    "config.kubeflow.org",
];

/// Whether a document with this type is a tool's configuration, not a
/// Kubernetes resource: no pack reads it.
pub fn is_tool_config(api_version: &str, kind: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    TOOL_CONFIG_GROUPS.contains(&group)
        || api_version.starts_with("skaffold/")
        // kustomize's built-in transformers and generators
        // (`transformers: [labels.yaml]`).
        || api_version == "builtin"
        // kubeconfig, and the scheduler's legacy Policy file: core v1
        // serves neither kind.
        || (api_version == "v1" && matches!(kind, "Config" | "Policy"))
}

fn non_empty_str(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::scalar_text)
        .filter(|s| !s.trim().is_empty())
}

fn classify(file: &SourceFile, doc_index: usize, doc: Document, out: &mut ParsedFile) {
    if doc.root.is_null() {
        return;
    }
    let Document {
        root, duplicates, ..
    } = doc;
    let kind = non_empty_str(root.get("kind"));
    let api_version = non_empty_str(root.get("apiVersion"));
    match (api_version, kind) {
        (Some(api_version), Some(kind)) if is_tool_config(&api_version, &kind) => {
            out.other_documents += 1;
        }
        (Some(api_version), Some(kind)) => {
            let items = root
                .get("items")
                .filter(|_| kind.ends_with("List"))
                .map(|n| n.as_seq().to_vec());
            if let Some(items) = items {
                for (i, item) in items.into_iter().enumerate() {
                    let dups = duplicates_within(&duplicates, &item);
                    let kind = non_empty_str(item.get("kind"));
                    let api = non_empty_str(item.get("apiVersion"));
                    match (api, kind) {
                        (Some(api), Some(kind)) => out.manifests.push(build(
                            file,
                            doc_index,
                            Some(i),
                            api,
                            kind,
                            item,
                            dups,
                        )),
                        (api, kind) => {
                            out.problems
                                .push(missing(&item, api.is_none(), kind.is_none()))
                        }
                    }
                }
            } else {
                out.manifests.push(build(
                    file,
                    doc_index,
                    None,
                    api_version,
                    kind,
                    root,
                    duplicates,
                ));
            }
        }
        (api, kind) => {
            let looks_like_resource = root.get("kind").is_some()
                || (root.get("apiVersion").is_some()
                    && (root.get("metadata").is_some() || root.get("spec").is_some()));
            if (file.explicit && root.is_map()) || looks_like_resource {
                out.problems
                    .push(missing(&root, api.is_none(), kind.is_none()));
            } else if file.explicit {
                out.problems.push(Problem::MissingField {
                    field: "kind",
                    span: root.span,
                    detail: "this document is not a mapping, so it cannot be a Kubernetes resource"
                        .into(),
                    content: root.to_json().to_string(),
                });
            } else {
                out.other_documents += 1;
            }
        }
    }
}

fn missing(root: &Node, no_api: bool, no_kind: bool) -> Problem {
    let (field, other) = if no_kind {
        ("kind", "apiVersion")
    } else {
        ("apiVersion", "kind")
    };
    let span = root.entry(field).map_or(root.span, |e| e.key.span);
    let state = if root.get(field).is_some() {
        "is empty"
    } else {
        "is missing"
    };
    let detail = if no_api && no_kind {
        format!("'kind' and 'apiVersion' are both missing or empty: every Kubernetes resource needs them (found neither '{field}' nor '{other}')")
    } else {
        format!("'{field}' {state}: every Kubernetes resource needs both 'apiVersion' and 'kind'")
    };
    Problem::MissingField {
        field,
        span,
        detail,
        content: root.to_json().to_string(),
    }
}

fn duplicates_within(all: &[DuplicateKey], node: &Node) -> Vec<DuplicateKey> {
    all.iter()
        .filter(|d| d.second.line >= node.span.line && d.second.line <= node.span.end_line)
        .cloned()
        .collect()
}

fn build(
    file: &SourceFile,
    doc_index: usize,
    item_index: Option<usize>,
    api_version: String,
    kind: String,
    root: Node,
    duplicates: Vec<DuplicateKey>,
) -> Manifest {
    let meta = root.get("metadata");
    let name = non_empty_str(meta.and_then(|m| m.get("name")))
        .or_else(|| non_empty_str(meta.and_then(|m| m.get("generateName"))));
    let namespace = non_empty_str(meta.and_then(|m| m.get("namespace")));
    Manifest {
        path: file.path.clone(),
        doc_index,
        item_index,
        api_version: api_version.trim().to_string(),
        kind: kind.trim().to_string(),
        name,
        namespace,
        root,
        duplicates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, explicit: bool) -> ParsedFile {
        let mut f = SourceFile::new("x.yaml", text.to_string());
        f.explicit = explicit;
        parse_file(&f, Limits::default())
    }

    #[test]
    fn tool_configs_are_not_resources() {
        for (api, kind) in [
            ("builtin", "LabelTransformer"),
            ("schema.plugin.fluxcd.io/v1beta1", "Config"),
            ("v1", "Policy"),
            ("v1", "Config"),
            ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
            ("audit.k8s.io/v1", "Policy"),
        ] {
            let p = parse(
                &format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: x\n"),
                false,
            );
            assert!(p.manifests.is_empty(), "{api} {kind}");
            assert_eq!(p.other_documents, 1);
        }
        for (api, kind) in [
            ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"),
            ("v1", "ConfigMap"),
        ] {
            let p = parse(
                &format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: x\n"),
                false,
            );
            assert_eq!(p.manifests.len(), 1, "{api} {kind}");
        }
    }

    #[test]
    fn braces_in_strings_are_yaml_braces_as_values_are_templates() {
        let strings = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  s: \"{{ $labels.pod }}\"\n  t: |\n    {{PROJECT_ID}}\n";
        assert!(!needs_rendering("k8s/a.yaml", strings));
        assert!(needs_rendering(
            "k8s/a.yaml",
            "metadata:\n  name: {{ .name }}\n"
        ));
        assert!(needs_rendering(
            "k8s/a.yaml",
            "{{- if .x }}\nkind: A\n{{- end }}\n"
        ));
        assert!(!needs_rendering("k8s/a.yaml", "kind: A\n"));
    }

    #[test]
    fn lists_are_expanded() {
        let p = parse("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n", false);
        assert_eq!(p.manifests.len(), 2);
        assert_eq!(p.manifests[1].kind, "Pod");
        assert_eq!(p.manifests[1].item_index, Some(1));
        assert_eq!(p.manifests[1].anchor().line, 9);
    }

    #[test]
    fn non_manifests_are_skipped_in_a_walk_but_not_when_named() {
        let text = "name: build\non: push\njobs: {}\n";
        assert_eq!(parse(text, false).problems.len(), 0);
        assert_eq!(parse(text, false).other_documents, 1);
        assert_eq!(parse(text, true).problems.len(), 1);
    }

    #[test]
    fn missing_kind_is_a_problem_when_it_looks_like_a_resource() {
        let p = parse("apiVersion: v1\nmetadata:\n  name: x\n", false);
        match &p.problems[0] {
            Problem::MissingField { field, .. } => assert_eq!(*field, "kind"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_errors_only_for_manifest_looking_files() {
        assert_eq!(
            parse("apiVersion: v1\nkind: Pod\nmetadata: [\n", false)
                .problems
                .len(),
            1
        );
        assert_eq!(parse("foo: [\n", false).problems.len(), 0);
    }
}
