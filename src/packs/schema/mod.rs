//! `schema`: Kubernetes manifests the API server would reject, validated
//! offline against the JSON schemas of the chosen Kubernetes version
//! (strict by default), custom resources against CRDs found in the run,
//! in `--crd-dir`, or in the embedded catalog of widely used projects.

pub mod catalog;
mod crd;
mod locations;
mod tape;

use super::{Context, Pack, Rule};
use crate::finding::{Finding, Severity};
use crate::k8s::schemas::{self as store, Compiled, EmbeddedSchemas};
use crate::manifest::{Manifest, ParsedFile, Problem};
use crate::settings::Settings;
use crate::source::{SourceFile, Span};
use anyhow::Result;
use catalog::Catalog;
use crd::CrdSchemas;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use locations::{Location, RemoteSchemas, TemplateInput};

/// Kubernetes' own API groups that the embedded schemas may not hold (removed
/// before the oldest embedded version, or alpha-only). With the groups the
/// embedded schemas know, these are the built-in groups: a kind there
/// without a schema is not served. Any other group (even `*.k8s.io`, like
/// Gateway API or `snapshot.storage.k8s.io`) is a custom resource.
const CORE_GROUPS: &[&str] = &[
    "",
    "extensions",
    "apps",
    "batch",
    "policy",
    "autoscaling",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "settings.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// Is this one of Kubernetes' own API groups (served by the API server itself)?
pub fn is_builtin_group(group: &str) -> bool {
    CORE_GROUPS.contains(&group) || store::known_groups().contains(group)
}

/// Tool configuration that looks like a resource (one list for every pack:
/// `manifest::is_tool_config`; parsing already leaves such documents out,
/// this keeps a manifest built elsewhere from being validated as one).
fn is_config_file_kind(m: &Manifest) -> bool {
    crate::manifest::is_tool_config(&m.api_version, &m.kind)
}

struct Loaded {
    embedded: Option<EmbeddedSchemas>,
    /// The embedded CRD catalog: with the embedded schemas only, after the
    /// CRDs of the run and of `--crd-dir`.
    catalog: Option<Catalog>,
    locations: Vec<Location>,
    remote: RemoteSchemas,
    normalized_version: String,
}

pub struct SchemaPack {
    /// What the settings name, loaded when the pack is built. The compiled
    /// schemas inside (`EmbeddedSchemas`, `Catalog`, `RemoteSchemas`) are
    /// caches filled on first use: compile-once, shared by the files.
    loaded: Loaded,
    /// Schemas from every CRD seen so far (only their openAPIV3Schema is
    /// kept, once per group/version/kind, so memory does not grow with
    /// repeated CRDs).
    crds: std::sync::Mutex<Option<CrdSchemas>>,
    /// The resources whose schema may come from a CRD seen later, per
    /// file: only they are kept parsed (not the rest of their files), so
    /// the index phase neither reads nor parses a file a second time.
    deferred: std::sync::Mutex<Vec<Deferred>>,
}

/// A file's custom resources, validated once every CRD of the run is known.
struct Deferred {
    resources: Vec<(Manifest, Partial)>,
    /// The file's ignore annotations, which may cover these resources.
    ignores: Vec<crate::suppress::DocIgnore>,
    /// The file's lines that hold an ignore comment, by 1-based number
    /// (few or none: only they can silence a finding by comment).
    ignore_lines: Vec<(usize, String)>,
}

impl SchemaPack {
    /// Loads the schemas the settings name (embedded, catalog, schema
    /// locations): an error here stops the run before any file.
    pub fn new(s: &Settings) -> Result<Self> {
        let locations = if s.schema_locations.is_empty() {
            vec![Location::Embedded]
        } else {
            s.schema_locations
                .iter()
                .map(|l| Location::parse(l))
                .collect::<Result<Vec<_>>>()?
        };
        let wants_embedded = locations.iter().any(|l| matches!(l, Location::Embedded));
        let embedded = if wants_embedded || s.kubernetes_version.is_none() {
            match EmbeddedSchemas::load(s.kubernetes_version, s.strict) {
                Ok(e) => Some(e),
                Err(e) if wants_embedded => return Err(e),
                Err(_) => None,
            }
        } else {
            EmbeddedSchemas::load(s.kubernetes_version, s.strict).ok()
        };
        let normalized_version = match (s.kubernetes_version, &embedded) {
            (_, Some(e)) => format!("v{}", e.full_version()),
            (Some(v), None) => format!("v{v}.0"),
            (None, None) => "master".to_string(),
        };
        let remote = RemoteSchemas::new(s.cache_dir.clone(), s.http_timeout);
        let embedded = if wants_embedded { embedded } else { None };
        let catalog = wants_embedded.then(|| Catalog::new(s.strict));
        Ok(SchemaPack {
            loaded: Loaded {
                embedded,
                catalog,
                locations,
                remote,
                normalized_version,
            },
            crds: Default::default(),
            deferred: Default::default(),
        })
    }

    fn loaded(&self) -> &Loaded {
        &self.loaded
    }
}

impl Pack for SchemaPack {
    fn name(&self) -> &'static str {
        "schema"
    }

    fn check_file(
        &self,
        ctx: &Context,
        file: &SourceFile,
        parsed: Option<&ParsedFile>,
        out: &mut Vec<Finding>,
    ) {
        let Some(parsed) = parsed else { return };
        for p in &parsed.problems {
            out.push(problem_finding(file, p));
        }
        let s = ctx.settings;
        let mut resources = Vec::new();
        for m in &parsed.manifests {
            if skipped(s, m) || !self.resolve(s, m).is_ok_and(|v| v.is_none()) {
                continue;
            }
            // The catalog compiles a kind once, for every resource of it.
            if let Some(c) = &self.loaded().catalog {
                c.note(&m.api_version, &m.kind, &m.root);
            }
            resources.push((m.clone(), Partial::of(ctx, m)));
        }
        if !resources.is_empty() {
            let deferred = Deferred {
                resources,
                ignores: parsed
                    .manifests
                    .iter()
                    .filter_map(crate::suppress::doc_ignore)
                    .collect(),
                ignore_lines: ignore_comment_lines(&file.text),
            };
            if let Ok(mut d) = self.deferred.lock() {
                d.push(deferred);
            }
        }
        self.gather_file_facts(ctx, file, Some(parsed));
        for m in &parsed.manifests {
            self.check_manifest(ctx.settings, m, None, Partial::of(ctx, m), out);
        }
    }

    /// The CRDs in the file: every file's custom resources validate against them.
    fn gather_file_facts(&self, ctx: &Context, _file: &SourceFile, parsed: Option<&ParsedFile>) {
        let crds = parsed
            .into_iter()
            .flat_map(|p| &p.manifests)
            .filter(|m| m.kind == "CustomResourceDefinition");
        for m in crds {
            if let Ok(mut all) = self.crds.lock() {
                all.get_or_insert_with(|| CrdSchemas::new(ctx.settings.strict))
                    .add_crd(m);
            }
        }
    }

    fn gathers_file_facts(&self) -> bool {
        true
    }

    fn check_index(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let s = ctx.settings;
        let mut crds = match self.crds.lock() {
            Ok(mut c) => c.take().unwrap_or_else(|| CrdSchemas::new(s.strict)),
            Err(_) => CrdSchemas::new(s.strict),
        };
        for dir in &s.crd_dirs {
            if let Err(e) = crds.add_dir(dir) {
                let path: std::sync::Arc<str> = dir.display().to_string().into();
                out.push(Finding::from_rule(
                    &SCHEMA_ERROR,
                    &path,
                    Span::line(1),
                    format!("{e:#}"),
                ));
            }
        }
        let deferred = self
            .deferred
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default();
        // Files are independent here: validated in parallel, in order.
        use rayon::prelude::*;
        let found: Vec<Finding> = deferred
            .into_par_iter()
            .flat_map_iter(|d| self.check_deferred(ctx, &crds, d))
            .collect();
        out.extend(merge_missing_schemas(found, |f| {
            ctx.place(&f.path, f.span.line)
        }));
    }
}

/// How complete a file's resources are before kustomize builds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Partial {
    Whole,
    /// A kustomize patch: required fields may be absent, `$patch` allowed.
    Patch,
    /// A resource of a kustomization that writes some of its fields: the
    /// selector (commonLabels), namespaces (namespace field specs).
    Filled {
        selector: bool,
        namespace: bool,
    },
}

impl Partial {
    fn of(ctx: &Context, m: &Manifest) -> Self {
        let path = &*m.path;
        let selector = ctx.kustomize.selector_filled.contains(path);
        let namespace = ctx.kustomize.namespace_filled.contains(path);
        if ctx.is_patch(path) || looks_like_patch(m) {
            Partial::Patch
        } else if selector || namespace {
            Partial::Filled {
                selector,
                namespace,
            }
        } else {
            Partial::Whole
        }
    }

    /// Whether kustomize writes a required field named `property`.
    fn fills(self, property: &str) -> bool {
        match self {
            Partial::Patch => true,
            Partial::Filled {
                selector,
                namespace,
            } => (selector && property == "selector") || (namespace && property == "namespace"),
            Partial::Whole => false,
        }
    }
}

/// A kustomize patch whose kustomization is not in the scan, or lists it
/// only in a comment (kubebuilder scaffolds ship `#- manager_webhook_patch.yaml`):
/// a strategic-merge directive (`$patch: delete`) at the top, a file named
/// like a patch (`manager_auth_proxy_patch.yaml`, `patch-replicas.yaml`), or
/// a file in a `patches/` folder. Its unknown fields are still reported;
/// only the required fields a patch leaves to its target are not.
fn looks_like_patch(m: &Manifest) -> bool {
    m.root.get("$patch").is_some()
        || crate::kustomize::named_like_patch(&m.path)
        || unlabelled_workload(m)
}

/// A workload with neither a selector nor pod labels: no one can create it
/// (the API server requires a selector that matches the pods' labels), so
/// it is the partial object a kustomize patch, or `kubectl apply` over the
/// installed one, completes (argo-cd's `replicas: 0` StatefulSet, patches
/// whose kustomization lists them from elsewhere).
fn unlabelled_workload(m: &Manifest) -> bool {
    if m.api_version != "apps/v1"
        || !matches!(
            m.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        )
    {
        return false;
    }
    let Some(spec) = m.root.get("spec") else {
        return false;
    };
    spec.get("selector").is_none()
        && spec
            .get("template")
            .and_then(|t| t.get("metadata"))
            .and_then(|md| md.get("labels"))
            .is_none_or(|l| l.entries().is_empty())
}

/// The lines of `text` that hold an ignore comment, with their numbers.
fn ignore_comment_lines(text: &str) -> Vec<(usize, String)> {
    use crate::suppress::COMMENT;
    if !text.contains(COMMENT) {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(COMMENT))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

fn skipped(s: &Settings, m: &Manifest) -> bool {
    let gvk = format!("{}/{}", m.api_version, m.kind);
    s.skip_kinds.iter().any(|k| k == &m.kind || k == &gvk) || is_config_file_kind(m)
}

impl SchemaPack {
    /// Validates the custom resources of one deferred file against the
    /// run's CRDs and the catalog.
    fn check_deferred(&self, ctx: &Context, crds: &CrdSchemas, d: Deferred) -> Vec<Finding> {
        let s = ctx.settings;
        let mut found = Vec::new();
        for (m, partial) in &d.resources {
            self.check_manifest(s, m, Some(crds), *partial, &mut found);
        }
        // Merged per kind later, so a place silenced by its comment or
        // annotation must leave before it could silence the others.
        found.retain(|f| {
            !(&*f.rule == MISSING_SCHEMA.id
                && (crate::suppress::suppressed_by_annotation(f, &d.ignores)
                    || crate::suppress::suppressed_by_comment(f, |l| {
                        d.ignore_lines
                            .iter()
                            .find(|(n, _)| *n == l)
                            .map(|(_, t)| t.clone())
                    })))
        });
        found
    }

    /// The schema for a manifest from the configured locations, or None.
    fn resolve(&self, s: &Settings, m: &Manifest) -> Result<Option<Compiled>> {
        let l = self.loaded();
        for loc in &l.locations {
            match loc {
                Location::Embedded => {
                    if let Some(e) = &l.embedded {
                        if let Some(v) = e.validator(&m.api_version, &m.kind)? {
                            return Ok(Some(v));
                        }
                    }
                }
                Location::Template(t) => {
                    let input = TemplateInput {
                        normalized_version: &l.normalized_version,
                        strict: s.strict,
                        api_version: &m.api_version,
                        kind: &m.kind,
                    };
                    if let Some(v) = l.remote.get(&locations::render(t, &input))? {
                        return Ok(Some(v));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Without `crds`, custom resources are left for the index phase.
    /// Validates one resource; its findings know the resource and
    /// container they are in (so later phases need not parse it again).
    fn check_manifest(
        &self,
        s: &Settings,
        m: &Manifest,
        crds: Option<&CrdSchemas>,
        partial: Partial,
        out: &mut Vec<Finding>,
    ) {
        let start = out.len();
        self.check_manifest_inner(s, m, crds, partial, out);
        crate::locate::annotate(&mut out[start..], std::slice::from_ref(m));
    }

    fn check_manifest_inner(
        &self,
        s: &Settings,
        m: &Manifest,
        crds: Option<&CrdSchemas>,
        partial: Partial,
        out: &mut Vec<Finding>,
    ) {
        let patch = partial == Partial::Patch;
        if skipped(s, m) {
            return;
        }
        let gvk = format!("{}/{}", m.api_version, m.kind);
        let key = format!("{}:{}", m.display_name(), m.api_version);
        let file_phase = crds.is_none();
        let rejected = s.reject_kinds.iter().any(|k| k == &m.kind || k == &gvk);
        if rejected && !file_phase {
            return;
        }
        if rejected {
            out.push(
                Finding::from_rule(
                    &REJECTED_KIND,
                    &m.path,
                    m.root.get("kind").map_or(m.anchor(), |n| n.span),
                    format!("kind {} is rejected by the run's reject-kinds (--reject-kinds or schema.reject-kinds in the config)", m.kind),
                )
                .with_key(key.clone()),
            );
            return;
        }
        if s.strict && file_phase {
            for d in &m.duplicates {
                out.push(
                    Finding::from_rule(&DUPLICATE_KEY, &m.path, d.second,
                        format!("key '{}' appears twice in one mapping (first on line {}); the API server rejects duplicate fields in strict mode and YAML tools disagree on which one wins", d.key, d.first.line))
                    .with_key(format!("{key}:{}", d.key)),
                );
            }
        }
        // Configured locations first; in the index phase, then the CRDs.
        // A CRD of the run or of --crd-dir wins over the embedded catalog.
        let located = self.resolve(s, m);
        let custom = matches!(located, Ok(None));
        if custom && crds.is_none() {
            return;
        }
        let mut instance = m.root.to_json();
        let sops = is_sops(&instance);
        if sops {
            if let Some(o) = instance.as_object_mut() {
                o.remove("sops");
            }
        }
        let resolved = match (located, crds) {
            (Ok(None), Some(crds)) => match crds.validator(&m.api_version, &m.kind) {
                Ok(None) => match &self.loaded().catalog {
                    Some(c) => c.validator(&m.api_version, &m.kind, &instance),
                    None => Ok(None),
                },
                other => other,
            },
            (other, _) => other,
        };
        let validator = match resolved {
            Ok(Some(v)) => v,
            Ok(None) => {
                // Reported (with its replacement) by the deprecations pack.
                // A removed apiVersion's missing schema is superseded by
                // `deprecations/removed-api` in the pipeline (scan::supersede).
                if !s.ignore_missing_schemas {
                    out.push(missing_schema(self.loaded(), s, m));
                }
                return;
            }
            Err(e) => {
                out.push(
                    Finding::from_rule(&SCHEMA_ERROR, &m.path, m.anchor(), format!("{e:#}"))
                        .with_key(key),
                );
                return;
            }
        };
        for err in validator.iter_errors(&instance) {
            let pointer = err.instance_path().as_str().to_string();
            match err.kind() {
                // A kustomize patch is a partial resource with merge directives.
                ValidationErrorKind::Required { .. } if patch => {}
                ValidationErrorKind::Required { property }
                    if property.as_str().is_some_and(|p| partial.fills(p)) => {}
                // The API server prunes a null it was not told to keep from a
                // custom resource before it validates.
                ValidationErrorKind::Type { .. } if custom && err.instance().is_null() => {}
                // `${PORT}` or `{{ .port }}`: a placeholder some tool fills in later.
                ValidationErrorKind::Type { .. }
                    if err.instance().as_str().is_some_and(is_template_placeholder) => {}
                // SOPS encrypts values in place: `replicas: ENC[AES256_GCM,data:…]`.
                ValidationErrorKind::Type { .. }
                | ValidationErrorKind::Enum { .. }
                | ValidationErrorKind::Pattern { .. }
                | ValidationErrorKind::Format { .. }
                | ValidationErrorKind::MinLength { .. }
                | ValidationErrorKind::MaxLength { .. }
                | ValidationErrorKind::OneOfNotValid { .. }
                | ValidationErrorKind::AnyOf { .. }
                    if sops && err.instance().as_str().is_some_and(is_sops_value) => {}
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for field in unexpected.iter().filter(|f| !(patch && f.starts_with('$'))) {
                        let child =
                            format!("{pointer}/{}", field.replace('~', "~0").replace('/', "~1"));
                        // `field: null` in a strategic-merge patch deletes
                        // the field: the built resource does not have it.
                        if patch && instance.pointer(&child).is_some_and(|v| v.is_null()) {
                            continue;
                        }
                        let span = m
                            .root
                            .pointer(&child)
                            .and_then(|(_, k)| k.map(|k| k.span))
                            .unwrap_or_else(|| span_at(m, &pointer));
                        let at = display_path(&pointer);
                        out.push(
                            Finding::from_rule(&INVALID, &m.path, span,
                                format!("{}: unknown field '{field}'{} (strict validation rejects fields the schema does not define)", m.display_name(), if at.is_empty() { String::new() } else { format!(" in {at}") }))
                            .with_key(format!("{key}:{child}:unknown")),
                        );
                    }
                }
                kind => {
                    let msg = describe(kind, &err.to_string(), &pointer);
                    out.push(
                        Finding::from_rule(
                            &INVALID,
                            &m.path,
                            span_at(m, &pointer),
                            format!("{}: {msg}", m.display_name()),
                        )
                        .with_key(format!("{key}:{pointer}:{}", kind.keyword())),
                    );
                }
            }
        }
    }
}

/// A SOPS-encrypted file: a top-level `sops` mapping with its metadata.
fn is_sops(doc: &serde_json::Value) -> bool {
    doc.get("sops")
        .and_then(|s| s.as_object())
        .is_some_and(|s| s.contains_key("mac") || s.contains_key("lastmodified"))
}

/// A value SOPS encrypted: `ENC[AES256_GCM,data:…,type:int]`.
fn is_sops_value(s: &str) -> bool {
    s.starts_with("ENC[") && s.ends_with(']')
}

fn is_template_placeholder(s: &str) -> bool {
    (s.contains("${") && s.contains('}')) || (s.contains("{{") && s.contains("}}"))
}

fn span_at(m: &Manifest, pointer: &str) -> Span {
    match m.root.pointer(pointer) {
        Some((node, key)) => match &node.value {
            // For a mapping or a list, the key that holds it reads better than
            // its first child.
            crate::manifest::Value::Map(_) | crate::manifest::Value::Seq(_) => {
                key.map_or(node.span, |k| k.span)
            }
            _ => node.span,
        },
        None => m.anchor(),
    }
}

/// `/spec/template/spec/containers/0/ports/0` → `spec.template.spec.containers[0].ports[0]`
fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        if part.parse::<usize>().is_ok() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

fn describe(kind: &ValidationErrorKind, fallback: &str, pointer: &str) -> String {
    let at = display_path(pointer);
    let at = if at.is_empty() {
        "the resource".to_string()
    } else {
        at
    };
    match kind {
        ValidationErrorKind::Required { property } => {
            format!("{at} is missing required field {}", property)
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => {
                    let names: Vec<String> = set
                        .iter()
                        .map(|t| t.to_string())
                        .filter(|t| t != "null")
                        .collect();
                    names.join(" or ")
                }
            };
            format!(
                "{at} must be {} {expected}, got {}",
                article(&expected),
                truncate(
                    fallback.split(" is not of type").next().unwrap_or(fallback),
                    80
                )
            )
        }
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => {
            format!(
                "{at} has the wrong type or shape ({})",
                truncate(fallback, 160)
            )
        }
        ValidationErrorKind::Enum { options } => {
            format!(
                "{at} must be one of {}",
                truncate(&options.to_string(), 200)
            )
        }
        _ => format!("{at}: {}", truncate(fallback, 200)),
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn missing_schema(l: &Loaded, s: &Settings, m: &Manifest) -> Finding {
    let version = l
        .embedded
        .as_ref()
        .map(|e| e.version().to_string())
        .unwrap_or_else(|| l.normalized_version.clone());
    // `v1` is the core group; a bare `apiVersion: foo` is nobody's.
    let core_version = m.api_version.contains('/')
        || (m.api_version.starts_with('v')
            && m.api_version[1..].starts_with(|c: char| c.is_ascii_digit()));
    let builtin_group = core_version && is_builtin_group(m.group());
    let msg = if builtin_group
        && l.embedded.as_ref().is_some_and(|e| {
            !e.knows_group_version(&m.api_version) || !e.has_kind(&m.api_version, &m.kind)
        }) {
        format!(
            "Kubernetes {version} serves no {} in {} — the API server would reject it (see `deprecations` for a replacement)",
            m.kind, m.api_version
        )
    } else if let Some((versions, project)) = l
        .catalog
        .as_ref()
        .and_then(|_| catalog::other_versions(m.group(), &m.kind))
    {
        format!(
            "no schema for {} {}: the embedded catalog has {} {} only in {} (from {} {}), and no CustomResourceDefinition for this version is in the scanned files{}; an apiVersion the project no longer serves? Otherwise add its CRD with --crd-dir, or skip with --ignore-missing-schemas",
            m.api_version, m.kind, m.group(), m.kind, versions.join(", "), project.name, project.version,
            if s.crd_dirs.is_empty() { "" } else { " or --crd-dir" }
        )
    } else {
        format!(
            "no schema for {} {} (not a built-in kind, not in the embedded CRD catalog, and no CustomResourceDefinition for it in the scanned files{}); add its CRD with --crd-dir, a --schema-location, or skip with --ignore-missing-schemas",
            m.api_version, m.kind,
            if s.crd_dirs.is_empty() { "" } else { " or --crd-dir" }
        )
    };
    Finding::from_rule(
        &MISSING_SCHEMA,
        &m.path,
        m.root.get("apiVersion").map_or(m.anchor(), |n| n.span),
        msg,
    )
    .with_key(format!("{}/{}", m.api_version, m.kind))
    .with_property("resource", m.display_name())
}

/// How many places a merged `missing-schema` message names.
const MISSING_PLACES_SHOWN: usize = 3;

/// One `missing-schema` per apiVersion/kind, at its first place (by path and
/// line), naming the first few places; all of them in `properties.locations`.
/// `place(f)`: where a person finds `f`'s resource (a rendered document's
/// origin), for the list of places.
fn merge_missing_schemas(
    found: Vec<Finding>,
    place: impl Fn(&Finding) -> (std::sync::Arc<str>, usize),
) -> Vec<Finding> {
    let (missing, mut out): (Vec<Finding>, Vec<Finding>) = found
        .into_iter()
        .partition(|f| &*f.rule == MISSING_SCHEMA.id && f.properties.is_some());
    let mut by_kind: std::collections::BTreeMap<String, Vec<Finding>> = Default::default();
    for f in missing {
        by_kind.entry(f.key.clone()).or_default().push(f);
    }
    for (gvk, all) in by_kind {
        // A resource an overlay changed is the one its file holds: one place.
        let mut placed: Vec<((std::sync::Arc<str>, usize), Finding)> =
            all.into_iter().map(|f| (place(&f), f)).collect();
        // The file's own resource first where an overlay's maps to it.
        placed.sort_by(|(a, fa), (b, fb)| {
            (a, fa.path != a.0, &*fa.path, fa.span.col).cmp(&(
                b,
                fb.path != b.0,
                &*fb.path,
                fb.span.col,
            ))
        });
        placed.dedup_by(|(a, _), (b, _)| a == b);
        let all: Vec<&Finding> = placed.iter().map(|(_, f)| f).collect();
        let place =
            |((path, line), _): &((std::sync::Arc<str>, usize), Finding)| format!("{path}:{line}");
        let locations: Vec<serde_json::Value> = placed
            .iter()
            .map(|((path, line), f)| {
                serde_json::json!({
                    "path": &**path,
                    "line": line,
                    "resource": f.properties.as_ref().and_then(|p| p.get("resource")).cloned(),
                })
            })
            .collect();
        let n = all.len();
        let mut first = all[0].clone();
        let resource = first
            .properties
            .as_mut()
            .and_then(|p| p.remove("resource"))
            .and_then(|r| r.as_str().map(String::from))
            .unwrap_or_default();
        let what = if n == 1 {
            format!("{resource}: ")
        } else {
            let shown: Vec<String> = placed
                .iter()
                .take(MISSING_PLACES_SHOWN)
                .map(place)
                .collect();
            let more = n.saturating_sub(MISSING_PLACES_SHOWN);
            format!(
                "{n} resources ({}{}): ",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        };
        first.message = format!("{what}{}", first.message);
        first.key = format!("missing-schema:{gvk}");
        first = first
            .with_property("locations", serde_json::Value::Array(locations))
            .with_property("count", n);
        out.push(first);
    }
    out
}

/// `schema/missing-schema`'s help: it lists the embedded CRD catalog.
fn missing_schema_help(_: &Rule) -> String {
    let mut catalog = String::new();
    for p in catalog::projects().unwrap_or_default() {
        catalog.push_str(&format!(
            "- {}: {} ([{}](https://github.com/{}/tree/{}), {})\n",
            p.name, p.version, p.repo, p.repo, p.commit, p.licence
        ));
    }
    format!(
        r#"
## What it finds
A resource whose kind has no schema: not built into the chosen Kubernetes version, no `CustomResourceDefinition` for it anywhere in the scanned files, none in `--crd-dir`, none at a `--schema-location`, and not in the embedded CRD catalog. Reported once per apiVersion/kind: the message names the first places, `properties.locations` lists them all.

## Why it matters
For one of Kubernetes' own API groups it means the API version is not served (often a removed beta API) and the apply fails. For a custom resource it means nothing validates it.

## How to fix
Add the CRD to the scan (`--crd-dir crds/`, or a folder in the CRDs-catalog layout `{{group}}/{{kind}}_{{version}}.json`), point `--schema-location` at a schema store, or accept the gap with `--ignore-missing-schemas` (or `--skip-kinds Kind`).

## The embedded CRD catalog
Custom resources of these projects validate offline, strictly, against the projects' own CRDs ({} group/version/kinds; `schemas/CRDS.md` lists them, `python3 schemas/generate_crds.py` regenerates them). A CRD in the scanned files wins over `--crd-dir`, which wins over the catalog, so a repository on a newer release is validated against its own CRD.

{catalog}"#,
        catalog::kind_count()
    )
}

fn problem_finding(file: &SourceFile, p: &Problem) -> Finding {
    match p {
        Problem::Syntax { message, span } => Finding::from_rule(
            &YAML_SYNTAX,
            &file.path,
            *span,
            format!("YAML syntax error: {message}"),
        )
        .with_key(format!("syntax:{message}")),
        Problem::MissingField {
            field,
            span,
            detail,
            content,
        } => Finding::from_rule(&MISSING_TYPE_META, &file.path, *span, detail.clone())
            .with_key(format!("missing:{field}:{content}")),
    }
}

pub static INVALID: Rule = Rule::new("schema/invalid", Severity::Error, "The resource does not match the Kubernetes schema: the API server would reject it.", r#"
## What it finds
A field with the wrong type (`containerPort: "8080"`), a missing required field, a value outside an enum, or — in strict mode, the default — a field the schema does not define (usually a typo or a wrong indentation level).

## Why it matters
`kubectl apply` and GitOps controllers fail at deploy time, often after the pull request has merged. Unknown fields are worse: older clients drop them silently, so a misspelt `resources` or `livenessProbe` never takes effect.

## How to fix
Correct the field as the message says. For example:
```yaml
ports:
- containerPort: 8080   # an integer, not "8080"
```
Validate against the version your cluster runs with `--kubernetes-version 1.30`. Use `--no-strict` only if you rely on fields outside the schema.
"#).tags(&["kubernetes", "correctness"]).precision("very-high");

pub static YAML_SYNTAX: Rule = Rule::new("schema/yaml-syntax", Severity::Error, "The file looks like a Kubernetes manifest but is not valid YAML.", r#"
## What it finds
A YAML syntax error in a file that holds `apiVersion:` and `kind:` lines: a bad indent, an unclosed bracket or quote, a tab.

## Why it matters
Nothing in the file can be applied, and every other check is blind to it.

## How to fix
Fix the YAML at the reported line and column. Files that are templates (Helm `{{ }}`) are not parsed as YAML and never get this finding.
"#).tags(&["kubernetes", "correctness"]).precision("very-high");

pub static MISSING_TYPE_META: Rule = Rule::new("schema/missing-type-meta", Severity::Error, "A resource without `apiVersion` or `kind`.", r#"
## What it finds
A YAML document that looks like a Kubernetes resource (it has `metadata`, `spec` or one of the two type fields) but lacks `apiVersion` or `kind`, or has them empty. When you name a file (or pipe a stream to `shiplint scan -`), every document in it must be a resource.

## Why it matters
The API server cannot tell what the object is and rejects it.

## How to fix
```yaml
apiVersion: apps/v1
kind: Deployment
```
"#).tags(&["kubernetes", "correctness"]).precision("very-high");

pub static DUPLICATE_KEY: Rule = Rule::new("schema/duplicate-key", Severity::Error, "A key appears twice in the same mapping.", r#"
## What it finds
The same key twice in one YAML mapping, e.g. two `containers:` under one pod spec (strict mode only).

## Why it matters
YAML parsers disagree about which value wins (the last one, usually), so half of what you wrote silently disappears; the API server's strict field validation rejects it.

## How to fix
Merge the two entries into one key.
"#).tags(&["kubernetes", "correctness"]).precision("very-high");

pub static MISSING_SCHEMA: Rule = Rule::new("schema/missing-schema", Severity::Error, "No schema for this apiVersion/kind: a custom resource without its CRD, or an API the chosen Kubernetes version does not serve.", "").tags(&["kubernetes"]).precision("high").help_more(missing_schema_help);

pub static REJECTED_KIND: Rule = Rule::new("schema/rejected-kind", Severity::Error, "A kind listed in --reject-kinds.", r#"
## What it finds
A resource whose kind (or `apiVersion/kind`) you listed in `--reject-kinds` or `schema.reject-kinds`.

## Why it matters
The list is the team's policy: kinds that must not be applied from this repository (cluster-scoped RBAC managed elsewhere, `PodSecurityPolicy` after its removal, a kind another tool owns). A resource of such a kind would be applied by whoever runs the pipeline.

## How to fix
Remove the resource, or remove the kind from the list.
"#).tags(&["kubernetes", "policy"]).precision("very-high");

pub static SCHEMA_ERROR: Rule = Rule::new("schema/schema-unavailable", Severity::Error, "A schema could not be loaded (bad --schema-location, unreadable CRD, network failure).", r#"
## What it finds
A schema that exists but could not be read, downloaded or compiled: an invalid JSON file at a `--schema-location`, a download that failed or timed out, an unreadable `--crd-dir`.

## Why it matters
The resources that needed that schema were not validated: a typo or a wrong type in them passes unseen until the API server rejects the apply.

## How to fix
Check the location named in the message. Downloaded schemas are cached under `$XDG_CACHE_HOME/shiplint` (or `SHIPLINT_CACHE_DIR`).
"#).tags(&["kubernetes"]).precision("very-high");

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![
        &INVALID,
        &YAML_SYNTAX,
        &MISSING_TYPE_META,
        &DUPLICATE_KEY,
        &MISSING_SCHEMA,
        &REJECTED_KIND,
        &SCHEMA_ERROR,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_read_like_kubectl() {
        assert_eq!(
            display_path("/spec/template/spec/containers/0/ports/0"),
            "spec.template.spec.containers[0].ports[0]"
        );
        assert_eq!(display_path(""), "");
    }
}
