//! `policies`: the CEL rules a cluster would enforce, evaluated offline.
//!
//! A CustomResourceDefinition carries `x-kubernetes-validations` rules in
//! its schema; the API server evaluates each one on every custom resource,
//! at the node of the schema that holds it (`self`). This pack finds the
//! CRDs of the run, compiles each rule once, and evaluates it on every
//! custom resource of that group, version and kind in the run, at every
//! node the rule's schema path reaches. A failing rule is a finding on that
//! node's line (or its `fieldPath`), with the rule's `message` or evaluated
//! `messageExpression`.
//!
//! The Kubernetes CEL libraries (lists, regex, strings, `url()`, `ip()`,
//! `cidr()`, `quantity()`) are provided ([`k8s_lib`]).
//!
//! What cannot be known offline is said in a note, never guessed: transition
//! rules (`oldSelf`) are skipped, as are rules that use a function this
//! build does not provide, and a library function refusing its argument (an
//! invalid quantity string) — each counted in a note. A rule must stay
//! within a static bound (its length and nesting) and, on each object, within
//! a cost budget estimated on that object's sizes ([`cost`]) so a hostile
//! CRD or policy cannot hang a run.

mod admission;
mod cel_env;
mod cost;
mod k8s_lib;

use super::{Context, Pack, Rule};
use crate::finding::{Finding, Severity};
use crate::manifest::{Manifest, Node, ParsedFile, Value};
use crate::source::{SourceFile, Span};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Objects kept for the run-wide phase (custom resources with CEL rules,
/// objects a policy can check), at most about twice this (a tree with more
/// is checked on the first ones, with a note).
const MAX_RESOURCES: usize = 20_000;

/// One `x-kubernetes-validations` entry, where its schema puts it.
#[derive(Debug, Clone)]
struct CrdRule {
    /// Schema path from the resource root: `spec`, `*` (a list item or a map
    /// value), property names.
    path: Vec<String>,
    rule: String,
    message: Option<String>,
    message_expression: Option<String>,
    field_path: Option<String>,
    /// Where the rule is written (for a compile error).
    file: Arc<str>,
    span: Span,
    /// The catalogued project whose embedded CRD holds it; None for a CRD
    /// of the run.
    embedded: Option<&'static str>,
    /// The whole schema of its CRD version (shared by its rules; the one
    /// that holds the rule is at `path`): its defaults are applied to the
    /// node first, as the API server applies them before it validates.
    schema: Arc<serde_json::Value>,
}

/// The subschema at a rule's path (`*`: the items or the map values).
fn subschema<'s>(root: &'s serde_json::Value, path: &[String]) -> Option<&'s serde_json::Value> {
    let mut cur = root;
    for part in path {
        cur = if part == "*" {
            cur.get("items")
                .filter(|i| i.is_object())
                .or_else(|| cur.get("additionalProperties").filter(|a| a.is_object()))?
        } else {
            cur.get("properties")?.get(part)?
        };
    }
    Some(cur)
}

/// Fills in the `default`s a structural schema declares for absent fields,
/// at every level (the API server defaults an object before validating it).
fn apply_defaults(schema: &serde_json::Value, v: &mut serde_json::Value) {
    use serde_json::Value as J;
    match v {
        J::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(J::as_object) {
                for (name, sub) in props {
                    if !map.contains_key(name) {
                        if let Some(d) = sub.get("default") {
                            map.insert(name.clone(), d.clone());
                        }
                    }
                    if let Some(child) = map.get_mut(name) {
                        apply_defaults(sub, child);
                    }
                }
            }
            if let Some(ap) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for child in map.values_mut() {
                    apply_defaults(ap, child);
                }
            }
        }
        J::Array(items) => {
            if let Some(is) = schema.get("items").filter(|i| i.is_object()) {
                for item in items {
                    apply_defaults(is, item);
                }
            }
        }
        _ => {}
    }
}

/// An object kept for evaluation.
struct Resource {
    path: Arc<str>,
    what: String,
    namespace: Option<String>,
    anchor: Span,
    root: Node,
}

/// A file read again at the end, only if it holds an object of a kind with
/// CEL rules (a CRD's of the run, or an embedded one's) or of a kind the
/// run's admission policies can check: keeping every object of every run
/// would double the memory of a big tree, and parsing every file twice
/// would cost half a scan.
struct Deferred {
    path: Arc<str>,
    /// Re-read from here; files without one (stdin, git blobs) keep their
    /// text, compressed.
    disk: Option<std::path::PathBuf>,
    text: Option<Vec<u8>>,
    /// The (apiVersion, kind) of its objects.
    kinds: Vec<(String, String)>,
}

#[derive(Default)]
struct Facts {
    /// (apiVersion, kind) → rules.
    rules: HashMap<(String, String), Vec<CrdRule>>,
    /// (apiVersion, kind) → the plural a CRD declares.
    plurals: HashMap<(String, String), String>,
    /// Every file with resources: those holding a kind with CEL rules or
    /// one a policy can check are read again at the end.
    files: Vec<Deferred>,
    admission: admission::Facts,
}

fn resource(m: &Manifest) -> (String, String, Resource) {
    (
        m.api_version.clone(),
        m.kind.clone(),
        Resource {
            path: m.path.clone(),
            what: m.display_name(),
            namespace: m.namespace.clone(),
            anchor: m.anchor(),
            root: m.root.clone(),
        },
    )
}

#[derive(Default)]
pub struct PoliciesPack {
    facts: Mutex<Facts>,
    notes: Mutex<Vec<String>>,
}

/// The nodes a schema path reaches in an instance, with their JSON-pointer
/// path (for messages) — `*` is every list item or map value.
fn reach<'n>(node: &'n Node, path: &[String], at: String, out: &mut Vec<(String, &'n Node)>) {
    let Some((first, rest)) = path.split_first() else {
        out.push((at, node));
        return;
    };
    match (&node.value, first.as_str()) {
        (Value::Seq(items), "*") => {
            for (i, item) in items.iter().enumerate() {
                reach(item, rest, format!("{at}[{i}]"), out);
            }
        }
        (Value::Map(entries), "*") => {
            for e in entries {
                let key = e.key.key_str().unwrap_or_default();
                reach(&e.value, rest, format!("{at}[{key:?}]"), out);
            }
        }
        (Value::Map(_), name) => {
            if let Some(child) = node.get(name) {
                let sep = if at.is_empty() { "" } else { "." };
                reach(child, rest, format!("{at}{sep}{name}"), out);
            }
        }
        _ => {}
    }
}

/// Collects the validation rules of one CRD version's schema.
fn collect_rules(
    schema: &Node,
    root: &Arc<serde_json::Value>,
    path: &mut Vec<String>,
    file: &Arc<str>,
    out: &mut Vec<CrdRule>,
) {
    if path.len() > 64 {
        return;
    }
    if let Some(Value::Seq(rules)) = schema.get("x-kubernetes-validations").map(|n| &n.value) {
        for r in rules {
            let Some(rule) = r.get("rule").and_then(Node::as_str) else {
                continue;
            };
            out.push(CrdRule {
                path: path.clone(),
                rule: rule.to_string(),
                message: r.get("message").and_then(Node::as_str).map(String::from),
                message_expression: r
                    .get("messageExpression")
                    .and_then(Node::as_str)
                    .map(String::from),
                field_path: r.get("fieldPath").and_then(Node::as_str).map(String::from),
                file: file.clone(),
                span: r.get("rule").map_or(r.span, |n| n.span),
                embedded: None,
                schema: root.clone(),
            });
        }
    }
    if let Some(Value::Map(props)) = schema.get("properties").map(|n| &n.value) {
        for e in props {
            if let Some(name) = e.key.key_str() {
                path.push(name.to_string());
                collect_rules(&e.value, root, path, file, out);
                path.pop();
            }
        }
    }
    for child in ["items", "additionalProperties"] {
        if let Some(sub) = schema
            .get(child)
            .filter(|n| matches!(n.value, Value::Map(_)))
        {
            path.push("*".into());
            collect_rules(sub, root, path, file, out);
            path.pop();
        }
    }
}

/// Collects the validation rules of an embedded CRD's schema (JSON).
fn collect_json_rules(
    schema: &serde_json::Value,
    root: &Arc<serde_json::Value>,
    path: &mut Vec<String>,
    project: &'static str,
    out: &mut Vec<CrdRule>,
) {
    use serde_json::Value as J;
    if path.len() > 64 {
        return;
    }
    let text = |r: &J, k: &str| r.get(k).and_then(J::as_str).map(String::from);
    for r in schema
        .get("x-kubernetes-validations")
        .and_then(J::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let Some(rule) = text(r, "rule") else {
            continue;
        };
        out.push(CrdRule {
            path: path.clone(),
            rule,
            message: text(r, "message"),
            message_expression: text(r, "messageExpression"),
            field_path: text(r, "fieldPath"),
            file: Arc::from(format!("<embedded {project} CRD>")),
            span: Span::default(),
            embedded: Some(project),
            schema: root.clone(),
        });
    }
    if let Some(props) = schema.get("properties").and_then(J::as_object) {
        for (name, sub) in props {
            path.push(name.clone());
            collect_json_rules(sub, root, path, project, out);
            path.pop();
        }
    }
    for child in ["items", "additionalProperties"] {
        if let Some(sub) = schema.get(child).filter(|n| n.is_object()) {
            path.push("*".into());
            collect_json_rules(sub, root, path, project, out);
            path.pop();
        }
    }
}

/// The rules of a catalogued kind's embedded CRD (none when the catalog
/// lacks the kind or its schema has none).
fn embedded_rules(api_version: &str, kind: &str) -> Vec<CrdRule> {
    if !crate::k8s::catalog::has_kind(api_version, kind) {
        return Vec::new();
    }
    let Some(project) = crate::k8s::catalog::project_of(api_version, kind) else {
        return Vec::new();
    };
    let Ok(Some(text)) = crate::k8s::catalog::schema_text(api_version, kind) else {
        return Vec::new();
    };
    if !text.contains("x-kubernetes-validations") {
        return Vec::new();
    }
    let Ok(schema) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let root = Arc::new(schema);
    collect_json_rules(
        &root,
        &root,
        &mut Vec::new(),
        project.name.as_str(),
        &mut out,
    );
    out
}

/// The rules of a CRD in the run, per served (apiVersion, kind).
fn crd_rules(m: &Manifest) -> Vec<((String, String), Vec<CrdRule>)> {
    let spec = m.root.get("spec");
    let group = spec.and_then(|s| s.get("group")).and_then(Node::as_str);
    let kind = spec
        .and_then(|s| s.path(&["names", "kind"]))
        .and_then(Node::as_str);
    let (Some(group), Some(kind)) = (group, kind) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for v in spec
        .and_then(|s| s.get("versions"))
        .map(Node::as_seq)
        .unwrap_or(&[])
    {
        let Some(version) = v.get("name").and_then(Node::as_str) else {
            continue;
        };
        let Some(schema) = v.path(&["schema", "openAPIV3Schema"]) else {
            continue;
        };
        let mut rules = Vec::new();
        let root = Arc::new(schema.to_json());
        collect_rules(schema, &root, &mut Vec::new(), &m.path, &mut rules);
        if !rules.is_empty() {
            out.push(((format!("{group}/{version}"), kind.to_string()), rules));
        }
    }
    out
}

/// `.spec.replicas` / `.items[0]` relative to a node → that node, if present.
fn field_node<'n>(node: &'n Node, field_path: &str) -> Option<&'n Node> {
    let mut cur = node;
    for part in field_path.split('.').filter(|p| !p.is_empty()) {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        if let Some(i) = index {
            cur = cur.as_seq().get(i)?;
        }
    }
    Some(cur)
}

/// CRDs (their rules and plurals), admission policies, bindings and
/// namespaces: what applies to the objects of the run.
fn gather_definitions(facts: &mut Facts, m: &Manifest) {
    let admission_group = m.group() == "admissionregistration.k8s.io";
    match m.kind.as_str() {
        "CustomResourceDefinition" if m.group() == "apiextensions.k8s.io" => {
            let spec = m.root.get("spec");
            let plural = spec
                .and_then(|s| s.path(&["names", "plural"]))
                .and_then(Node::as_str);
            let group = spec.and_then(|s| s.get("group")).and_then(Node::as_str);
            let kind = spec
                .and_then(|s| s.path(&["names", "kind"]))
                .and_then(Node::as_str);
            if let (Some(p), Some(g), Some(k)) = (plural, group, kind) {
                for v in spec
                    .and_then(|s| s.get("versions"))
                    .map(Node::as_seq)
                    .unwrap_or(&[])
                {
                    if let Some(name) = v.get("name").and_then(Node::as_str) {
                        facts
                            .plurals
                            .insert((format!("{g}/{name}"), k.to_string()), p.to_string());
                    }
                }
            }
            for (gvk, rules) in crd_rules(m) {
                facts.rules.entry(gvk).or_default().extend(rules);
            }
        }
        "ValidatingAdmissionPolicy" if admission_group => {
            facts.admission.policies.push(admission::Written {
                path: m.path.clone(),
                name: m.name.clone().unwrap_or_default(),
                root: m.root.clone(),
            })
        }
        "ValidatingAdmissionPolicyBinding" if admission_group => {
            facts.admission.bindings.push(admission::Written {
                path: m.path.clone(),
                name: m.name.clone().unwrap_or_default(),
                root: m.root.clone(),
            })
        }
        "Namespace" if m.api_version == "v1" => {
            if let Some(name) = &m.name {
                let labels = m
                    .root
                    .path(&["metadata", "labels"])
                    .map(|l| l.to_json())
                    .and_then(|j| j.as_object().cloned())
                    .map(|o| {
                        o.into_iter()
                            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                facts.admission.namespaces.insert(name.clone(), labels);
            }
        }
        _ => {}
    }
}

impl PoliciesPack {
    fn note(&self, text: String) {
        if let Ok(mut n) = self.notes.lock() {
            if !n.contains(&text) {
                n.push(text);
            }
        }
    }
}

impl Pack for PoliciesPack {
    fn notes(&self) -> Vec<String> {
        self.notes.lock().map(|n| n.clone()).unwrap_or_default()
    }

    fn name(&self) -> &'static str {
        "policies"
    }

    fn check_file(
        &self,
        _ctx: &Context,
        file: &SourceFile,
        parsed: Option<&ParsedFile>,
        _out: &mut Vec<Finding>,
    ) {
        let Some(parsed) = parsed else { return };
        if parsed.manifests.is_empty() {
            return;
        }
        let Ok(mut facts) = self.facts.lock() else {
            return;
        };
        let mut kinds: Vec<(String, String)> = Vec::new();
        for m in &parsed.manifests {
            if !kinds
                .iter()
                .any(|(v, k)| *v == m.api_version && *k == m.kind)
            {
                kinds.push((m.api_version.clone(), m.kind.clone()));
            }
        }
        facts.files.push(Deferred {
            path: file.path.clone(),
            disk: file.disk_path.clone(),
            text: file
                .disk_path
                .is_none()
                .then(|| zstd::encode_all(file.text.as_bytes(), 1).ok())
                .flatten(),
            kinds,
        });
        for m in &parsed.manifests {
            gather_definitions(&mut facts, m);
        }
    }

    fn gathers_file_facts(&self) -> bool {
        true
    }

    fn gather_file_facts(&self, _ctx: &Context, _file: &SourceFile, parsed: Option<&ParsedFile>) {
        // Another shard reports these files; their CRDs, policies and
        // namespaces still apply here (their objects are not this shard's).
        let Some(parsed) = parsed else { return };
        if let Ok(mut facts) = self.facts.lock() {
            for m in &parsed.manifests {
                gather_definitions(&mut facts, m);
            }
        }
    }

    fn check_index(&self, ctx: &Context, out: &mut Vec<Finding>) {
        // The CEL parser and evaluator recurse over an expression's tree.
        // Rules are bounded before they are parsed (cel_env::shape); a
        // thread with a large stack keeps a margin on top, and a panic in the
        // library becomes a note, not the end of the run.
        let ran = std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("policies".into())
                .stack_size(64 << 20)
                .spawn_scoped(s, || {
                    let mut found = Vec::new();
                    self.evaluate(ctx, &mut found);
                    found
                })
                .map(|h| h.join())
        });
        match ran {
            Ok(Ok(found)) => out.extend(found),
            Ok(Err(_)) => self.note(
                "policies: CEL evaluation stopped on an internal error; its findings are missing from this run".into(),
            ),
            // No thread to be had: evaluate here.
            Err(_) => self.evaluate(ctx, out),
        }
    }
}

impl PoliciesPack {
    fn evaluate(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let Ok(mut facts) = self.facts.lock() else {
            return;
        };
        let facts = std::mem::take(&mut *facts);
        if facts.files.is_empty() {
            return;
        }
        let env = cel_env::Env::new();
        // Compile every rule once (per CRD version), reporting what fails.
        let mut compiled: BTreeMap<(String, String), Vec<(CrdRule, cel_env::Compiled)>> =
            BTreeMap::new();
        let (mut transition, mut unsupported) = (0usize, BTreeMap::<String, usize>::new());
        let mut lib_errors: Vec<String> = Vec::new();
        let mut too_costly: Vec<String> = Vec::new();
        for (gvk, rules) in facts.rules {
            let mut ok = Vec::new();
            for r in rules {
                match env.compile(&r.rule) {
                    Ok(c) if c.uses_old_self => transition += 1,
                    Ok(c) => ok.push((r, c)),
                    Err(cel_env::CompileError::TooCostly(why)) => {
                        out.push(
                            Finding::from_rule(
                                &COMPILE_ERROR,
                                &r.file,
                                r.span,
                                format!(
                                    "a validation rule of {} {} is not evaluated: {why}",
                                    gvk.0, gvk.1
                                ),
                            )
                            .with_key(format!("cost:{}/{}:{}", gvk.0, gvk.1, r.rule)),
                        );
                    }
                    Err(cel_env::CompileError::Syntax(msg)) => out.push(
                        Finding::from_rule(
                            &COMPILE_ERROR,
                            &r.file,
                            r.span,
                            format!(
                                "a validation rule of {} {} does not compile: {msg}",
                                gvk.0, gvk.1
                            ),
                        )
                        .with_key(format!("compile:{}/{}:{}", gvk.0, gvk.1, r.rule)),
                    ),
                }
            }
            compiled.insert(gvk, ok);
        }
        // The embedded CRDs' rules, for the kinds of the run's custom
        // resources that no CRD of the run defines (a CRD in the repository
        // wins over the embedded one).
        let (mut embedded_broken, mut embedded_kinds) = (0usize, 0usize);
        let custom: std::collections::BTreeSet<&(String, String)> = facts
            .files
            .iter()
            .flat_map(|d| d.kinds.iter())
            .filter(|(v, _)| v.split('/').next().is_some_and(|g| g.contains('.')))
            .collect();
        for (api_version, kind) in custom {
            let gvk = (api_version.clone(), kind.clone());
            if compiled.contains_key(&gvk) || facts.plurals.contains_key(&gvk) {
                continue;
            }
            let mut ok = Vec::new();
            for r in embedded_rules(api_version, kind) {
                match env.compile(&r.rule) {
                    Ok(c) if c.uses_old_self => transition += 1,
                    Ok(c) => ok.push((r, c)),
                    Err(_) => embedded_broken += 1,
                }
            }
            if !ok.is_empty() {
                embedded_kinds += 1;
            }
            compiled.insert(gvk, ok);
        }
        if embedded_broken > 0 {
            self.note(format!(
                "policies: {} of the embedded CRDs ({embedded_kinds} kinds checked) not evaluated: this build cannot compile them",
                crate::text::plural(embedded_broken, "validation rule")
            ));
        }
        // The objects the rules and the policies can check, read again (see
        // `Deferred`): parsed once more, only the files that hold them.
        let wanted = admission::Wanted::new(&facts.admission);
        let has_policies = !facts.admission.policies.is_empty();
        let for_rules = |v: &str, k: &str| {
            compiled
                .get(&(v.to_string(), k.to_string()))
                .is_some_and(|r| !r.is_empty())
        };
        let for_policies = |v: &str, k: &str| has_policies && wanted.wants(v, k, &facts.plurals);
        let (mut resources, mut all, mut dropped) = (Vec::new(), Vec::new(), 0usize);
        for d in &facts.files {
            if !d
                .kinds
                .iter()
                .any(|(v, k)| for_rules(v, k) || for_policies(v, k))
            {
                continue;
            }
            let bytes = match (&d.text, &d.disk) {
                (Some(t), _) => match zstd::decode_all(t.as_slice()) {
                    Ok(b) => b,
                    Err(_) => continue,
                },
                (None, Some(p)) => match std::fs::read(p) {
                    Ok(b) => b,
                    Err(_) => continue,
                },
                (None, None) => continue,
            };
            let text = String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            let file = SourceFile::new(d.path.clone(), text);
            for m in &crate::manifest::parse_file(&file, ctx.settings.limits).manifests {
                let (r, p) = (
                    for_rules(&m.api_version, &m.kind),
                    for_policies(&m.api_version, &m.kind),
                );
                if !(r || p) {
                    continue;
                }
                if resources.len() + all.len() >= 2 * MAX_RESOURCES {
                    dropped += 1;
                    continue;
                }
                if r {
                    resources.push(resource(m));
                }
                if p {
                    all.push(resource(m));
                }
            }
        }
        if dropped > 0 {
            self.note(format!(
                "policies: CEL rules and policies checked on the first {MAX_RESOURCES} objects; {dropped} more not checked"
            ));
        }
        for (api_version, kind, res) in &resources {
            let Some(rules) = compiled.get(&(api_version.clone(), kind.clone())) else {
                continue;
            };
            for (r, program) in rules {
                let mut nodes = Vec::new();
                reach(&res.root, &r.path, String::new(), &mut nodes);
                for (at, node) in nodes {
                    let mut json = node.to_json();
                    if let Some(sub) = subschema(&r.schema, &r.path) {
                        apply_defaults(sub, &mut json);
                    }
                    match env.holds(program, &json) {
                        cel_env::Verdict::Holds => {}
                        cel_env::Verdict::Unsupported(what) => {
                            *unsupported.entry(what).or_default() += 1;
                        }
                        cel_env::Verdict::LibraryError(m) => {
                            lib_errors.push(format!("{} ({m})", res.what));
                        }
                        cel_env::Verdict::TooCostly(cost) => too_costly.push(format!(
                            "`{}` on {} (about {cost:.0})",
                            crate::text::one_line(&r.rule, 80),
                            res.what
                        )),
                        cel_env::Verdict::Fails => {
                            let message = r
                                .message_expression
                                .as_deref()
                                .and_then(|e| env.message(e, &json))
                                .or_else(|| r.message.clone())
                                .unwrap_or_else(|| format!("failed rule: {}", r.rule));
                            let target = r
                                .field_path
                                .as_deref()
                                .and_then(|f| field_node(node, f))
                                .unwrap_or(node);
                            let place = if at.is_empty() {
                                "the resource".to_string()
                            } else {
                                at.clone()
                            };
                            out.push(
                                Finding::from_rule(
                                    &CRD_RULE,
                                    &res.path,
                                    target.span,
                                    format!(
                                        "{}: {} ({} rule on {place}: `{}`)",
                                        res.what,
                                        crate::text::one_line(&message, 200),
                                        match r.embedded {
                                            Some(p) => format!("the {p} CRD's (embedded)"),
                                            None => "its CRD's".to_string(),
                                        },
                                        crate::text::one_line(&r.rule, 120)
                                    ),
                                )
                                .with_key(format!("{}:{at}:{}", res.what, r.rule))
                                .with_property("rule", r.rule.clone()),
                            );
                        }
                    }
                }
            }
        }
        if has_policies {
            let objects: Vec<admission::Object> = all
                .iter()
                .map(|(api_version, kind, r)| admission::Object {
                    path: r.path.clone(),
                    what: r.what.clone(),
                    api_version: api_version.clone(),
                    kind: kind.clone(),
                    namespace: r.namespace.clone(),
                    json: r.root.to_json(),
                    anchor: r.anchor,
                })
                .collect();
            let mut unknown = admission::Unknowns {
                lib_errors: std::mem::take(&mut lib_errors),
                too_costly: std::mem::take(&mut too_costly),
                ..Default::default()
            };
            admission::check(
                &facts.admission,
                &objects,
                &facts.plurals,
                out,
                &mut unknown,
            );
            lib_errors = std::mem::take(&mut unknown.lib_errors);
            too_costly = std::mem::take(&mut unknown.too_costly);
            if !unknown.counts.is_empty() {
                let parts: Vec<String> = unknown
                    .counts
                    .iter()
                    .map(|(what, n)| format!("{n} {what}"))
                    .collect();
                self.note(format!(
                    "policies: admission checks a file cannot settle were skipped: {}",
                    parts.join("; ")
                ));
            }
        }
        if !lib_errors.is_empty() {
            self.note(format!(
                "policies: {} not settled: a Kubernetes CEL library function refused its argument (the API server would reject the object): {}",
                crate::text::plural(lib_errors.len(), "expression evaluation"),
                lib_errors.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
            ));
        }
        if !too_costly.is_empty() {
            self.note(format!(
                "policies: {} not evaluated: the estimated cost on the object is over the per-expression budget of {} units: {}",
                crate::text::plural(too_costly.len(), "expression evaluation"),
                cost::BUDGET,
                too_costly.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
            ));
        }
        if transition > 0 {
            self.note(format!(
                "policies: {} skipped (they compare with the object's previous version, which a file does not have)",
                crate::text::plural(transition, "transition rule")
            ));
        }
        if !unsupported.is_empty() {
            let names: Vec<String> = unsupported.keys().take(5).cloned().collect();
            self.note(format!(
                "policies: {} not evaluated offline: they use {} (not provided by this build)",
                crate::text::plural(unsupported.values().sum(), "rule evaluation"),
                names.join(", ")
            ));
        }
    }
}

pub static CRD_RULE: Rule = Rule::new("policies/crd-rule", Severity::Error, "A custom resource breaks a validation rule (x-kubernetes-validations) of its CRD: the API server would reject it.", r#"
## What it finds
A custom resource whose CRD (found in the scanned files, or else in the
embedded catalog: Gateway API, cert-manager, Flux, Argo, Prometheus
Operator, Istio …) has an `x-kubernetes-validations` CEL rule that evaluates
to false on it, for example `self.minReplicas <= self.maxReplicas`, once the
schema's defaults are applied. The finding sits on the node
the rule is attached to (or on its `fieldPath`) and carries the rule's
`message` or evaluated `messageExpression`.

## Why it matters
The API server evaluates these rules on every create and update: the apply
fails, usually in the middle of a rollout, with the same message. Seeing it
in the pull request is cheaper.

## How to fix
Change the resource so the rule holds; the message says what the CRD's
authors expect. Transition rules (`oldSelf`) and rules that use functions
this build does not provide are skipped with a note, never guessed.

## CEL environment
The `cel` crate's standard library and its strings, lists and math
extensions, plus the Kubernetes libraries: lists (`isSorted`, `sum`, `min`,
`max`, `indexOf`, `lastIndexOf`), regex `find`/`findAll`, `url()` and
`isURL`, `ip()`/`cidr()` and `isIP`/`isCIDR`, `quantity()` and
`isQuantity`, `cel.bind`. A library function refusing its argument (an
invalid quantity string) is a note. Each expression's cost is estimated on
the object before it runs (nested comprehensions multiply the actual list
lengths; string functions cost the lengths they walk); over 1,000,000 units
it is not evaluated, with a note.
"#).tags(&["kubernetes", "correctness", "cel"]).precision("high");

pub static ADMISSION: Rule = Rule::new("policies/admission", Severity::Error, "An object fails a ValidatingAdmissionPolicy of the run: the API server would deny it (or warn, or audit).", r#"
## What it finds
An object that a `ValidatingAdmissionPolicy` in the scanned files, through a
`ValidatingAdmissionPolicyBinding`, checks — matched by the policy's
`matchConstraints` (resource rules for CREATE, `namespaceSelector` against
the `Namespace` objects of the run, `objectSelector`), the binding's
`matchResources`, `matchConditions` and `paramRef` (params found in the run) —
and whose `validations` expression is false. The level follows the binding's
`validationActions`: Deny is an error, Warn a warning, Audit a note.
Expressions may use the Kubernetes CEL libraries (lists, regex, `url()`,
`ip()`, `cidr()`, `quantity()`, `cel.bind`); each is evaluated only if its
cost, estimated on the object, is within 1,000,000 units (else a note).

## Why it matters
The cluster enforces the same policy at apply time: a Deny rejects the object
mid-rollout. Seeing it in the pull request, next to the policy the team keeps
in the same repository, is cheaper.

## How to fix
Change the object so the policy's expression holds (the message is the
policy's `message` or evaluated `messageExpression`), or change the policy or
its binding if the object is a justified exception. What a file cannot tell —
`authorizer`, `request.userInfo`, params or namespaces not in the run — is
counted in a note, never guessed.
"#).tags(&["kubernetes", "policy", "cel"]).precision("high");

pub static COMPILE_ERROR: Rule = Rule::new("policies/compile-error", Severity::Warning, "A CEL expression of a CRD validation rule or an admission policy does not compile, or is too costly to evaluate offline.", r#"
## What it finds
An `x-kubernetes-validations` rule of a CRD, or an expression of a
ValidatingAdmissionPolicy, in the scanned files that is not valid CEL, or whose static cost (length, nesting of `all`/`exists`/`map`/
`filter` macros) is above the bound shiplint evaluates. (An expression
within that bound whose cost estimated on a given object is over the
per-expression budget of 1,000,000 units is not evaluated on that object,
and counted in a note.)

## Why it matters
The API server refuses a CRD whose rules do not compile, so the CRD itself
does not apply; a rule that is too costly is refused too (its cost budget)
or slows every write of that resource.

## How to fix
Fix the expression (the message quotes the parser). Keep rules small, and
bound lists with `maxItems` so their cost is known.
"#).tags(&["kubernetes", "cel"]).precision("high");

/// The `policies/…` rules.
pub fn rules() -> Vec<&'static Rule> {
    vec![&CRD_RULE, &ADMISSION, &COMPILE_ERROR]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{parse_file, yaml};

    fn node(text: &str) -> Node {
        yaml::parse_stream(text, Default::default())
            .documents
            .remove(0)
            .root
    }

    #[test]
    fn schema_paths_reach_items_and_values() {
        let n = node("spec:\n  items:\n    - a: 1\n    - a: 2\n  labels:\n    x: y\n");
        let mut out = Vec::new();
        reach(
            &n,
            &["spec".into(), "items".into(), "*".into()],
            String::new(),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].0, "spec.items[1]");
        let mut out = Vec::new();
        reach(
            &n,
            &["spec".into(), "labels".into(), "*".into()],
            String::new(),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(
            field_node(&n, ".spec.items[1].a").map(|n| n.span.line),
            Some(4)
        );
    }

    #[test]
    fn rules_are_collected_with_their_paths() {
        let text = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names:\n    kind: Widget\n  versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              x-kubernetes-validations:\n                - rule: self.min <= self.max\n                  message: min must not exceed max\n              properties:\n                ports:\n                  type: array\n                  items:\n                    type: object\n                    x-kubernetes-validations:\n                      - rule: self.port > 0\n";
        let file = SourceFile::new("crd.yaml", text.to_string());
        let parsed = parse_file(&file, Default::default());
        let rules = crd_rules(&parsed.manifests[0]);
        assert_eq!(rules.len(), 1);
        let ((av, kind), rs) = &rules[0];
        assert_eq!((av.as_str(), kind.as_str()), ("example.com/v1", "Widget"));
        assert_eq!(rs[0].path, vec!["spec"]);
        assert_eq!(rs[0].span.line, 18);
        assert_eq!(rs[1].path, vec!["spec", "ports", "*"]);
    }
}
