//! One kustomization built in Rust: resources, bases and components
//! accumulated, then this kustomization's transformers in kustomize's order
//! (strategic-merge patches, patches, namespace, name prefix and suffix,
//! labels, annotations, JSON 6902 patches, replicas, images), then name
//! references fixed. Every node keeps its origin.

use super::patch::{json6902_op, size, strategic_merge, Outcome};
use super::tree::{Pos, P, V};
use crate::finding::Finding;
use crate::manifest::{yaml, Limits};
use crate::source::Span;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Kustomization file names, in the order kustomize looks for them.
pub const NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];
/// How deep bases may nest (a cycle is caught before this).
const MAX_DEPTH: usize = 40;
/// The largest file a build reads.
const MAX_FILE: u64 = 8 * 1024 * 1024;
/// The most resources one build may hold.
const MAX_RESOURCES: usize = 20_000;

/// Fields the Rust build does not do: the overlay goes to kubectl, or is skipped.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("replacements", "replacements"),
    ("vars", "vars"),
    ("helmCharts", "helmCharts"),
    ("helmChartInflationGenerator", "helmChartInflationGenerator"),
    ("generators", "generators (plugins)"),
    ("validators", "validators (plugins)"),
    ("openapi", "openapi"),
    ("crds", "crds"),
    ("configurations", "configurations (custom field specs)"),
    ("buildMetadata", "buildMetadata"),
    ("nameReference", "nameReference"),
];

/// Kinds without a namespace (the namespace transformer leaves them).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "APIService",
    "CSIDriver",
    "CSINode",
    "RuntimeClass",
    "IngressClass",
    "PodSecurityPolicy",
    "VolumeSnapshotClass",
    "ClusterIssuer",
    "Node",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "CertificateSigningRequest",
    "VolumeAttachment",
    "ComponentStatus",
];

const WORKLOADS: &[&str] = &["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"];

/// A resource being built: the object, and every name and namespace it had
/// (kustomize matches patches and references by the original or current).
#[derive(Debug, Clone)]
pub struct Res {
    pub obj: P,
    pub names: Vec<String>,
    pub namespaces: Vec<String>,
    /// Generated, and named with a hash of its content at the end.
    pub hash: bool,
    /// The object as its resource file holds it (None when generated): an
    /// overlay that leaves it unchanged adds nothing to the file's own scan.
    pub source: Option<Arc<P>>,
}

pub(super) fn text_of(p: Option<&P>) -> &str {
    p.and_then(P::as_str).unwrap_or("")
}

impl Res {
    /// As its resource file holds it (every value; `$patch` objects aside).
    pub fn unchanged(&self) -> bool {
        self.source
            .as_deref()
            .is_some_and(|s| *s == self.obj && s.get("$patch").is_none())
    }
    pub fn kind(&self) -> &str {
        text_of(self.obj.get("kind"))
    }
    pub fn api_version(&self) -> &str {
        text_of(self.obj.get("apiVersion"))
    }
    pub fn group(&self) -> &str {
        let av = self.api_version();
        av.rsplit_once('/').map_or("", |(g, _)| g)
    }
    pub fn name(&self) -> &str {
        text_of(self.obj.path(&["metadata", "name"]))
    }
    pub fn namespace(&self) -> &str {
        text_of(self.obj.path(&["metadata", "namespace"]))
    }
    pub(super) fn id(&self) -> String {
        format!(
            "{}.{}/{}.{}",
            self.kind(),
            self.api_version(),
            self.name(),
            effective_ns(self.namespace())
        )
    }
    pub(super) fn set_name(&mut self, name: String, pos: &Pos) {
        let meta = self.obj.map_at("metadata", pos);
        let p = match meta.get("name") {
            Some(old) => P::new(V::Str(name.clone()), &old.pos),
            None => P::str(&name, pos),
        };
        meta.set("name", p);
        if !self.names.contains(&name) {
            self.names.push(name);
        }
    }
    /// The names kustomize matches by: the original and the current.
    pub(super) fn matches_name(&self, f: impl Fn(&str) -> bool) -> bool {
        self.names.first().is_some_and(|n| f(n)) || f(self.name())
    }
    pub(super) fn matches_ns(&self, f: impl Fn(&str) -> bool) -> bool {
        self.namespaces.first().is_some_and(|n| f(effective_ns(n)))
            || f(effective_ns(self.namespace()))
    }
}

pub(super) fn effective_ns(ns: &str) -> &str {
    if ns.is_empty() {
        "default"
    } else {
        ns
    }
}

/// Why a build stopped.
#[derive(Debug)]
pub enum Stop {
    /// Features the Rust build does not do ("configMapGenerator at k.yaml:3").
    Unsupported(Vec<String>),
    /// The build fails (kustomize would fail too): the message and where.
    Fail { message: String, pos: Pos },
}

/// The state of one root's build.
pub struct Builder {
    /// The scanned root (canonical): nothing outside it is read.
    pub root: PathBuf,
    /// What paths are shown relative to (the current directory, canonical).
    pub display_base: PathBuf,
    /// Non-fatal findings: patches without a target, patches that fail.
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    /// Every file read (display path → text), for snippets.
    pub texts: HashMap<Arc<str>, Arc<str>>,
    stack: Vec<PathBuf>,
    /// Resource files already read into objects, shared by the overlays of
    /// one run: a base that twenty overlays use is parsed once.
    cache: Arc<ObjectCache>,
}

/// A resource file's objects, or why they cannot be read.
type Objects = Result<Vec<Res>, String>;

/// Resource files' objects (or why they cannot be read), by display path.
#[derive(Default)]
pub struct ObjectCache {
    objects: std::sync::Mutex<HashMap<Arc<str>, Objects>>,
    /// Each file's parse, beside the text it was made from.
    parsed: std::sync::Mutex<crate::render::ParsedFiles>,
}

impl ObjectCache {
    /// The parses of the resource files read (by display path, with their
    /// texts): the scan takes them instead of parsing the files again.
    pub fn into_parsed(self) -> crate::render::ParsedFiles {
        self.parsed.into_inner().unwrap_or_default()
    }
}

/// A kustomization read: its folder, file, display path, text and tree.
pub(super) struct Kust {
    pub(super) dir: PathBuf,
    pub(super) display: Arc<str>,
    pub(super) text: Arc<str>,
    pub(super) root: yaml::Node,
}

impl Kust {
    pub(super) fn pos(&self, line: usize) -> Pos {
        Pos {
            file: self.display.clone(),
            line: line.max(1),
        }
    }
    /// The line of a top-level key.
    fn key_pos(&self, key: &str) -> Pos {
        self.pos(self.root.entry(key).map_or(1, |e| e.key.span.line))
    }
    pub(super) fn fail(&self, line: usize, message: impl Into<String>) -> Stop {
        Stop::Fail {
            message: message.into(),
            pos: self.pos(line),
        }
    }
    /// A scalar as kustomize's string fields read it (`newTag: 1.10` is
    /// "1.10", not the float 1.1): the text as written.
    pub(super) fn scalar_string(&self, n: &yaml::Node) -> Option<String> {
        match &n.value {
            yaml::Value::Str(s) => Some(s.clone()),
            yaml::Value::Seq(_) | yaml::Value::Map(_) => None,
            _ => {
                let line = self.text.split('\n').nth(n.span.line.checked_sub(1)?)?;
                super::tree::plain_token(line, n.span.col).or_else(|| n.scalar_text())
            }
        }
    }
}

/// The kustomization file of a folder, if any.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// `..` and `.` resolved without touching the disk.
pub use crate::kustomize::normalize;

/// A resource entry that names something remote (kustomize would fetch it).
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.contains("?ref=")
        || entry.contains(".git//")
}

impl Builder {
    pub fn new(root: PathBuf, display_base: PathBuf) -> Builder {
        Builder {
            root,
            display_base,
            findings: Vec::new(),
            notes: Vec::new(),
            texts: HashMap::new(),
            stack: Vec::new(),
            cache: Arc::default(),
        }
    }

    /// Shares `cache` with the other overlays of the run.
    pub fn with_cache(mut self, cache: Arc<ObjectCache>) -> Builder {
        self.cache = cache;
        self
    }

    /// `objects` of a resource file, read once per run.
    fn cached_objects(&self, display: &Arc<str>, text: &Arc<str>) -> Result<Vec<Res>, String> {
        let hit = self
            .cache
            .objects
            .lock()
            .ok()
            .and_then(|c| c.get(display).cloned());
        if let Some(hit) = hit {
            return hit;
        }
        let stream = yaml::parse_stream(text, Limits::default());
        let got = objects(display, text, &stream);
        if let Ok(mut c) = self.cache.objects.lock() {
            c.insert(display.clone(), got.clone());
        }
        if let Ok(mut p) = self.cache.parsed.lock() {
            p.insert(display.clone(), (text.clone(), stream));
        }
        got
    }

    fn display(&self, p: &Path) -> Arc<str> {
        crate::discover::display_path(p, &self.display_base).into()
    }

    /// Reads a file the build needs; `dir` is the kustomization's folder
    /// (kustomize loads files only in or below it).
    pub(super) fn load(
        &mut self,
        k: &Kust,
        rel: &str,
        line: usize,
    ) -> Result<(Arc<str>, Arc<str>), Stop> {
        let path = self.resolve(k, rel, line)?;
        if !path.starts_with(&k.dir) {
            return Err(k.fail(
                line,
                format!(
                    "security: file {:?} is not in or below {:?} (kustomize's load restrictor)",
                    rel,
                    self.display(&k.dir).as_ref()
                ),
            ));
        }
        let meta =
            std::fs::metadata(&path).map_err(|_| k.fail(line, format!("cannot read {rel:?}")))?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return Err(k.fail(
                line,
                format!("{rel:?} is not a regular file of at most {MAX_FILE} bytes"),
            ));
        }
        let text: Arc<str> = std::fs::read_to_string(&path)
            .map_err(|_| k.fail(line, format!("cannot read {rel:?} as UTF-8 text")))?
            .into();
        let display = self.display(&path);
        self.texts.insert(display.clone(), text.clone());
        Ok((display, text))
    }

    /// A path relative to the kustomization, resolved, inside the root.
    pub(super) fn resolve(&self, k: &Kust, rel: &str, line: usize) -> Result<PathBuf, Stop> {
        let lexical = normalize(&k.dir.join(rel));
        if !lexical.starts_with(&self.root) {
            return Err(k.fail(
                line,
                format!("{rel:?} leaves the scanned repository (not read)"),
            ));
        }
        let real = lexical
            .canonicalize()
            .map_err(|_| k.fail(line, format!("{rel:?} does not exist")))?;
        if !real.starts_with(&self.root) {
            return Err(k.fail(
                line,
                format!("{rel:?} is a symbolic link out of the scanned repository (not read)"),
            ));
        }
        Ok(real)
    }

    fn read_kustomization(
        &mut self,
        dir: &Path,
        from: Option<(&Kust, usize)>,
    ) -> Result<Kust, Stop> {
        let Some(file) = kustomization_file(dir) else {
            let msg = format!("no kustomization.yaml in {:?}", self.display(dir).as_ref());
            return Err(fail_from(from, self.display(dir), msg));
        };
        let display = self.display(&file);
        if !file.canonicalize().is_ok_and(|f| f.starts_with(&self.root)) {
            let msg =
                format!("{display} is a symbolic link out of the scanned repository (not read)");
            return Err(fail_from(from, display, msg));
        }
        let pos = Pos {
            file: display.clone(),
            line: 1,
        };
        let meta = std::fs::metadata(&file).map_err(|_| Stop::Fail {
            message: "cannot read it".into(),
            pos: pos.clone(),
        })?;
        if meta.len() > MAX_FILE {
            return Err(Stop::Fail {
                message: "too large".into(),
                pos,
            });
        }
        let text: Arc<str> = std::fs::read_to_string(&file)
            .map_err(|_| Stop::Fail {
                message: "cannot read it as UTF-8 text".into(),
                pos: pos.clone(),
            })?
            .into();
        let stream = yaml::parse_stream(&text, Limits::default());
        if let Some(e) = stream.error {
            return Err(Stop::Fail {
                message: format!("not valid YAML: {}", e.message),
                pos: Pos {
                    file: display,
                    line: e.line.max(1),
                },
            });
        }
        let root = stream
            .documents
            .into_iter()
            .next()
            .map(|d| d.root)
            .unwrap_or(yaml::Node {
                value: yaml::Value::Map(Vec::new()),
                span: Span::default(),
            });
        self.texts.insert(display.clone(), text.clone());
        Ok(Kust {
            dir: dir.to_path_buf(),
            display,
            text,
            root,
        })
    }

    /// Builds the kustomization in `dir` (canonical) into `acc`; a component
    /// adds to and transforms its parent's resources.
    /// Builds the root kustomization in `dir` (canonical) into `acc`.
    pub fn build(&mut self, dir: &Path, acc: &mut Vec<Res>) -> Result<(), Stop> {
        self.run(dir, acc, None, false)
    }

    fn run(
        &mut self,
        dir: &Path,
        acc: &mut Vec<Res>,
        from: Option<(&Kust, usize)>,
        component: bool,
    ) -> Result<(), Stop> {
        if self.stack.iter().any(|d| d == dir) {
            let msg = format!("cycle: {:?} includes itself", self.display(dir).as_ref());
            return Err(fail_from(from, self.display(dir), msg));
        }
        if self.stack.len() >= MAX_DEPTH {
            let msg = format!("kustomizations nest deeper than {MAX_DEPTH}");
            return Err(fail_from(from, self.display(dir), msg));
        }
        let k = self.read_kustomization(dir, from)?;
        let kind = k
            .root
            .get("kind")
            .and_then(yaml::Node::as_str)
            .unwrap_or("Kustomization");
        let is_component = kind == "Component";
        if (component && !is_component) || (!component && is_component && from.is_some()) {
            let msg = if component {
                "a components entry must be a kustomization of kind Component"
            } else {
                "a Component may only be listed under components:"
            };
            return Err(match from {
                Some((p, line)) => p.fail(line, msg),
                None => k.fail(1, msg),
            });
        }
        let unsupported: Vec<String> = UNSUPPORTED
            .iter()
            .filter_map(|(key, what)| {
                let e = k.root.entry(key)?;
                (!e.value.is_null()).then(|| format!("{what} at {}:{}", k.display, e.key.span.line))
            })
            .chain(
                k.root
                    .get("labels")
                    .map(yaml::Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .filter(|l| l.get("fields").is_some())
                    .map(|l| format!("labels with fields at {}:{}", k.display, l.span.line)),
            )
            .collect();
        if !unsupported.is_empty() {
            return Err(Stop::Unsupported(unsupported));
        }
        self.stack.push(dir.to_path_buf());
        let r = self.run_in(&k, acc);
        self.stack.pop();
        r
    }

    fn run_in(&mut self, k: &Kust, acc: &mut Vec<Res>) -> Result<(), Stop> {
        // Resources (and the older `bases`), in order.
        for key in ["resources", "bases"] {
            for item in k.root.get(key).map(yaml::Node::as_seq).unwrap_or(&[]) {
                let Some(entry) = item.as_str().map(str::trim) else {
                    return Err(k.fail(
                        item.span.line,
                        format!("a {key} entry that is not a string"),
                    ));
                };
                if is_remote(entry) {
                    return Err(Stop::Unsupported(vec![format!(
                        "remote resource {} at {}:{} (never fetched)",
                        crate::render::inert_message(entry, 120),
                        k.display,
                        item.span.line
                    )]));
                }
                let path = self.resolve(k, entry, item.span.line)?;
                let mut got = Vec::new();
                if path.is_dir() {
                    self.run(&path, &mut got, Some((k, item.span.line)), false)?;
                } else {
                    if !path.starts_with(&k.dir) {
                        return Err(k.fail(
                            item.span.line,
                            format!("security: file {entry:?} is not in or below the kustomization's folder (kustomize's load restrictor)"),
                        ));
                    }
                    let (display, text) = self.load(k, entry, item.span.line)?;
                    got = self
                        .cached_objects(&display, &text)
                        .map_err(|m| k.fail(item.span.line, m))?;
                }
                for r in got {
                    if let Some(dup) = acc.iter().find(|o| o.id() == r.id()) {
                        return Err(k.fail(
                            item.span.line,
                            format!(
                                "may not add resource with an already registered id: {}",
                                dup.id()
                            ),
                        ));
                    }
                    acc.push(r);
                }
                if acc.len() > MAX_RESOURCES {
                    return Err(k.fail(
                        item.span.line,
                        format!("more than {MAX_RESOURCES} resources"),
                    ));
                }
            }
        }
        for item in k
            .root
            .get("components")
            .map(yaml::Node::as_seq)
            .unwrap_or(&[])
        {
            let Some(entry) = item.as_str().map(str::trim) else {
                continue;
            };
            if is_remote(entry) {
                return Err(Stop::Unsupported(vec![format!(
                    "remote component at {}:{} (never fetched)",
                    k.display, item.span.line
                )]));
            }
            let path = self.resolve(k, entry, item.span.line)?;
            self.run(&path, acc, Some((k, item.span.line)), true)?;
        }
        // kustomize reads these as maps of strings, and refuses others.
        for key in ["commonLabels", "commonAnnotations"] {
            check_strings(k, k.root.get(key), key)?;
        }
        for l in k.root.get("labels").map(yaml::Node::as_seq).unwrap_or(&[]) {
            check_strings(k, l.get("pairs"), "labels")?;
        }
        // Generators, then this kustomization's transformers, in
        // kustomize's order.
        self.generators(k, acc)?;
        self.strategic_merge_patches(k, acc)?;
        self.patches(k, acc, "patches")?;
        namespace(k, acc);
        prefix_suffix(k, acc);
        labels(k, acc);
        annotations(k, acc);
        self.patches(k, acc, "patchesJson6902")?;
        replicas(k, acc);
        images(k, acc);
        self.transformers(k, acc)?;
        Ok(())
    }

    fn finding(&mut self, rule: &'static crate::finding::Rule, pos: &Pos, message: String) {
        // Names and paths in the message come from the repository: inert.
        let message = crate::render::inert_message(&message, 400);
        let text = self
            .texts
            .get(&pos.file)
            .and_then(|t| t.split('\n').nth(pos.line.saturating_sub(1)))
            .unwrap_or("");
        let indent = text.len() - text.trim_start().len();
        self.findings.push(
            Finding::from_rule(
                rule,
                &pos.file,
                Span {
                    line: pos.line,
                    col: indent + 1,
                    end_line: pos.line,
                    end_col: text.trim_end().chars().count().max(indent) + 1,
                },
                message.clone(),
            )
            // What identifies it apart from the line: what it says.
            .with_key(message),
        );
    }

    /// A patch's documents, from a file or written inline.
    fn patch_docs(&mut self, k: &Kust, item: &yaml::Node) -> Result<Vec<P>, Stop> {
        let inline = item
            .get("patch")
            .map(|n| (n, k.root_entry_line(item, "patch")));
        let (display, text, offset) = if let Some(path) = item
            .as_str()
            .filter(|s| !s.contains('\n') && !s.trim_start().starts_with(['{', '[', '-']))
            .or_else(|| item.get("path").and_then(yaml::Node::as_str))
        {
            let (d, t) = self.load(k, path.trim(), item.span.line)?;
            (d, t.to_string(), 0)
        } else if let Some((n, key_line)) =
            inline.or_else(|| item.as_str().map(|_| (item, item.span.line)))
        {
            let Some(t) = n.as_str() else {
                return Err(k.fail(item.span.line, "a patch that is not text"));
            };
            let rest = k.text.split('\n').nth(key_line - 1).unwrap_or("");
            let block = rest
                .split_once(':')
                .map_or(rest, |(_, r)| r)
                .trim_start()
                .starts_with(['|', '>'])
                || rest.trim_start().starts_with("- |")
                || rest.trim_start().starts_with("- >");
            (
                k.display.clone(),
                t.to_string(),
                if block {
                    key_line
                } else {
                    key_line.saturating_sub(1)
                },
            )
        } else {
            return Err(k.fail(item.span.line, "a patch entry without path or patch"));
        };
        let stream = yaml::parse_stream(&text, Limits::default());
        if let Some(e) = stream.error {
            return Err(k.fail(
                item.span.line,
                format!("the patch is not valid YAML: {}", e.message),
            ));
        }
        Ok(stream
            .documents
            .iter()
            .filter(|d| !d.root.is_null())
            .map(|d| P::from_node_at(&d.root, &display, &text, offset))
            .collect())
    }

    fn strategic_merge_patches(&mut self, k: &Kust, acc: &mut Vec<Res>) -> Result<(), Stop> {
        for item in k
            .root
            .get("patchesStrategicMerge")
            .map(yaml::Node::as_seq)
            .unwrap_or(&[])
        {
            let docs = self.patch_docs(k, item)?;
            let pos = k.pos(item.span.line);
            for d in docs {
                self.smp_by_id(&pos, acc, &d);
            }
        }
        Ok(())
    }

    /// A strategic-merge patch applied to the one resource it names.
    fn smp_by_id(&mut self, pos: &Pos, acc: &mut Vec<Res>, patch: &P) {
        let kind = text_of(patch.get("kind"));
        let av = text_of(patch.get("apiVersion"));
        let (group, version) = av.rsplit_once('/').unwrap_or(("", av));
        let name = text_of(patch.path(&["metadata", "name"]));
        let ns = text_of(patch.path(&["metadata", "namespace"]));
        let hits: Vec<usize> = acc
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                let (rg, rv) = r
                    .api_version()
                    .rsplit_once('/')
                    .unwrap_or(("", r.api_version()));
                r.kind() == kind
                    && rg == group
                    && (version.is_empty() || rv == version)
                    && r.matches_name(|n| n == name)
                    && r.matches_ns(|n| n == effective_ns(ns))
            })
            .map(|(i, _)| i)
            .collect();
        let id = format!(
            "{kind}.{}/{name}.{}",
            if av.is_empty() { "?" } else { av },
            if ns.is_empty() { "[noNs]" } else { ns }
        );
        match hits.as_slice() {
            [] => self.finding(
                &crate::render::PATCH_TARGET_MISSING,
                pos,
                format!("no resource matches strategic merge patch {id}: the patch is skipped (kustomize build fails here)"),
            ),
            [i] => {
                if strategic_merge(&mut acc[*i].obj, patch) == Outcome::Delete {
                    acc.remove(*i);
                }
            }
            _ => self.finding(
                &crate::render::KUSTOMIZE_ERROR,
                pos,
                format!("strategic merge patch {id} matches {} resources: the patch is skipped", hits.len()),
            ),
        }
    }

    /// `patches:` (strategic merge or JSON 6902, with an optional target)
    /// and `patchesJson6902:` (JSON 6902 with a target).
    fn patches(&mut self, k: &Kust, acc: &mut Vec<Res>, key: &str) -> Result<(), Stop> {
        for item in k.root.get(key).map(yaml::Node::as_seq).unwrap_or(&[]) {
            let pos = k.pos(item.span.line);
            let docs = self.patch_docs(k, item)?;
            let target = item.get("target");
            let is_json = docs.first().is_some_and(|d| matches!(d.v, V::Seq(_)));
            let Some(target) = target else {
                if is_json || key == "patchesJson6902" {
                    self.finding(
                        &crate::render::KUSTOMIZE_ERROR,
                        &pos,
                        "a JSON 6902 patch needs a target: the patch is skipped".into(),
                    );
                    continue;
                }
                for d in &docs {
                    self.smp_by_id(&pos, acc, d);
                }
                continue;
            };
            let sel = match Selector::read(k, target) {
                Ok(s) => s,
                Err(m) => {
                    self.finding(&crate::render::KUSTOMIZE_ERROR, &pos, m);
                    continue;
                }
            };
            let hits: Vec<usize> = acc
                .iter()
                .enumerate()
                .filter(|(_, r)| sel.selects(r))
                .map(|(i, _)| i)
                .collect();
            if hits.is_empty() {
                self.notes.push(format!(
                    "{}:{}: the patch's target selects no resource (kustomize ignores it too)",
                    pos.file, pos.line
                ));
                continue;
            }
            let mut deleted = Vec::new();
            for i in hits {
                if is_json {
                    let mut obj = acc[i].obj.clone();
                    let mut nodes = size(&obj);
                    let mut failed = None;
                    for op in docs.iter().flat_map(P::as_seq) {
                        if let Err(e) = json6902_op(&mut obj, op, &mut nodes) {
                            failed = Some(format!(
                                "JSON patch operation at line {} on {} failed: {e}; the patch is skipped for it",
                                op.pos.line,
                                acc[i].id()
                            ));
                            break;
                        }
                    }
                    match failed {
                        Some(m) => self.finding(&crate::render::KUSTOMIZE_ERROR, &pos, m),
                        None => acc[i].obj = obj,
                    }
                } else {
                    for d in &docs {
                        if strategic_merge(&mut acc[i].obj, d) == Outcome::Delete {
                            deleted.push(i);
                            break;
                        }
                    }
                }
            }
            for i in deleted.into_iter().rev() {
                acc.remove(i);
            }
        }
        Ok(())
    }
}

impl Kust {
    /// The line of `key` in the mapping `item`.
    fn root_entry_line(&self, item: &yaml::Node, key: &str) -> usize {
        item.entry(key).map_or(item.span.line, |e| e.key.span.line)
    }
}

/// A patch's `target:`.
struct Selector {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<regex::Regex>,
    namespace: Option<regex::Regex>,
    labels: Vec<(String, Option<String>, bool)>,
    annotations: Vec<(String, Option<String>, bool)>,
}

impl Selector {
    fn read(k: &Kust, t: &yaml::Node) -> Result<Selector, String> {
        let s = |key: &str| t.get(key).and_then(|n| k.scalar_string(n));
        let re = |key: &str| -> Result<Option<regex::Regex>, String> {
            s(key)
                .map(|v| {
                    regex::Regex::new(&format!("^(?:{v})$")).map_err(|_| {
                        format!(
                            "target {key} {:?} is not a regular expression",
                            crate::render::inert_message(&v, 80)
                        )
                    })
                })
                .transpose()
        };
        Ok(Selector {
            group: s("group"),
            version: s("version"),
            kind: s("kind"),
            name: re("name")?,
            namespace: re("namespace")?,
            labels: parse_selector(s("labelSelector").as_deref().unwrap_or("")),
            annotations: parse_selector(s("annotationSelector").as_deref().unwrap_or("")),
        })
    }

    fn selects(&self, r: &Res) -> bool {
        let (g, v) = r
            .api_version()
            .rsplit_once('/')
            .unwrap_or(("", r.api_version()));
        self.group.as_deref().is_none_or(|x| x == g)
            && self.version.as_deref().is_none_or(|x| x == v)
            && self.kind.as_deref().is_none_or(|x| x == r.kind())
            && self
                .name
                .as_ref()
                .is_none_or(|re| r.matches_name(|n| re.is_match(n)))
            && self
                .namespace
                .as_ref()
                .is_none_or(|re| r.matches_ns(|n| re.is_match(n)) || re.is_match(r.namespace()))
            && matches_selector(&self.labels, r.obj.path(&["metadata", "labels"]))
            && matches_selector(&self.annotations, r.obj.path(&["metadata", "annotations"]))
    }
}

/// `a=b,c!=d,e,!f` → (key, value, wanted).
fn parse_selector(s: &str) -> Vec<(String, Option<String>, bool)> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            if let Some((k, v)) = p.split_once("!=") {
                (k.trim().into(), Some(v.trim().into()), false)
            } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
                (k.trim().into(), Some(v.trim().into()), true)
            } else if let Some(k) = p.strip_prefix('!') {
                (k.trim().into(), None, false)
            } else {
                (p.into(), None, true)
            }
        })
        .collect()
}

fn matches_selector(sel: &[(String, Option<String>, bool)], map: Option<&P>) -> bool {
    sel.iter().all(|(k, v, want)| {
        let got = map.and_then(|m| m.get(k)).map(|x| match &x.v {
            V::Str(s) => s.clone(),
            other => P::new(other.clone(), &x.pos).to_json().to_string(),
        });
        match (v, want) {
            (Some(v), true) => got.as_deref() == Some(v.as_str()),
            (Some(v), false) => got.as_deref() != Some(v.as_str()),
            (None, true) => got.is_some(),
            (None, false) => got.is_none(),
        }
    })
}

/// A build stop, on the entry that included `dir` (`from`), or on the
/// first line of `file` for the kustomization the run started from.
fn fail_from(from: Option<(&Kust, usize)>, file: Arc<str>, msg: String) -> Stop {
    match from {
        Some((k, line)) => k.fail(line, msg),
        None => Stop::Fail {
            message: msg,
            pos: Pos { file, line: 1 },
        },
    }
}

/// The objects of a resource file (`List`s expanded), from its text and
/// the text's parse.
fn objects(display: &Arc<str>, text: &str, stream: &yaml::Stream) -> Result<Vec<Res>, String> {
    if let Some(e) = &stream.error {
        return Err(format!(
            "{display}: not valid YAML at line {}: {}",
            e.line,
            crate::render::inert_message(&e.message, 200)
        ));
    }
    let mut out = Vec::new();
    let last = stream.documents.len().saturating_sub(1);
    let trees = P::from_nodes(stream.documents.iter().map(|d| &d.root), display, text);
    for (i, (d, mut p)) in stream.documents.iter().zip(trees).enumerate() {
        if d.root.is_null() {
            continue;
        }
        if i == last && !text.ends_with('\n') {
            unclip_last(&mut p, text);
        }
        let list = text_of(p.get("kind")).ends_with("List") && p.get("items").is_some();
        let items = if list {
            p.get("items")
                .map(|i| i.as_seq().to_vec())
                .unwrap_or_default()
        } else {
            vec![p]
        };
        for obj in items {
            let name = text_of(obj.path(&["metadata", "name"])).to_string();
            if text_of(obj.get("kind")).is_empty() || name.is_empty() {
                return Err(format!(
                    "{display}: a document without kind or metadata.name (line {})",
                    obj.pos.line
                ));
            }
            let ns = text_of(obj.path(&["metadata", "namespace"])).to_string();
            out.push(Res {
                source: Some(Arc::new(obj.clone())),
                obj,
                names: vec![name],
                namespaces: vec![ns],
                hash: false,
            });
        }
    }
    Ok(out)
}

/// A file that ends inside a clipped block scalar (`|`, no newline at the
/// end of the file): the scalar has no final line break (the parser adds
/// one; kustomize does not).
fn unclip_last(p: &mut P, text: &str) {
    match &mut p.v {
        V::Map(m) => {
            if let Some((_, v)) = m.last_mut() {
                unclip_last(v, text);
            }
        }
        V::Seq(items) => {
            if let Some(v) = items.last_mut() {
                unclip_last(v, text);
            }
        }
        V::Str(s) => {
            let key_line = text
                .split('\n')
                .nth(p.pos.line.saturating_sub(1))
                .unwrap_or("");
            let clipped = (key_line.contains(": |")
                || key_line.contains(": >")
                || key_line.trim_start().starts_with("- |"))
                && !key_line.contains("|+")
                && !key_line.contains(">+");
            if clipped && s.ends_with('\n') {
                s.pop();
            }
        }
        _ => {}
    }
}

/// Runs `f` on every node at `path` (sequences on the way are entered),
/// making missing maps (at `pos`) when `create`.
pub(super) fn at_path(
    p: &mut P,
    path: &[&str],
    create: bool,
    pos: &Pos,
    f: &mut dyn FnMut(&mut P),
) {
    if let V::Seq(items) = &mut p.v {
        for i in items {
            at_path(i, path, create, pos, f);
        }
        return;
    }
    let Some((first, rest)) = path.split_first() else {
        f(p);
        return;
    };
    if !p.is_map() {
        return;
    }
    if p.get(first).is_none_or(|c| matches!(c.v, V::Null)) {
        if !create {
            return;
        }
        p.set(first, P::map(pos));
    }
    if let Some(c) = p.get_mut(first) {
        at_path(c, rest, create, pos, f);
    }
}

fn namespace(k: &Kust, acc: &mut [Res]) {
    let Some(e) = k.root.entry("namespace") else {
        return;
    };
    let Some(ns) = k.scalar_string(&e.value).filter(|s| !s.is_empty()) else {
        return;
    };
    let pos = k.pos(e.key.span.line);
    for r in acc.iter_mut() {
        let kind = r.kind().to_string();
        if kind == "Namespace" {
            r.set_name(ns.clone(), &pos);
            if let Some(n) = r.obj.map_at("metadata", &pos).get_mut("name") {
                n.pos = pos.clone();
            }
            continue;
        }
        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            if let Some(V::Seq(subjects)) = r.obj.get_mut("subjects").map(|s| &mut s.v) {
                for s in subjects {
                    if text_of(s.get("kind")) == "ServiceAccount"
                        && text_of(s.get("name")) == "default"
                    {
                        s.set("namespace", P::str(&ns, &pos));
                    }
                }
            }
        }
        // Services that cluster-scoped objects call into move with the rest.
        let service = match kind.as_str() {
            "APIService" => Some(&["spec", "service"][..]),
            "CustomResourceDefinition" => {
                Some(&["spec", "conversion", "webhook", "clientConfig", "service"][..])
            }
            _ => None,
        };
        if let Some(path) = service {
            if let Some(svc) = path.iter().try_fold(&mut r.obj, |n, k| n.get_mut(k)) {
                if svc.is_map() {
                    svc.set("namespace", P::str(&ns, &pos));
                }
            }
        }
        if CLUSTER_SCOPED.contains(&kind.as_str()) {
            continue;
        }
        r.obj
            .map_at("metadata", &pos)
            .set("namespace", P::str(&ns, &pos));
        if !r.namespaces.contains(&ns) {
            r.namespaces.push(ns.clone());
        }
    }
}

fn prefix_suffix(k: &Kust, acc: &mut [Res]) {
    let get = |key| {
        k.root
            .get(key)
            .and_then(|n| k.scalar_string(n))
            .unwrap_or_default()
    };
    let (prefix, suffix) = (get("namePrefix"), get("nameSuffix"));
    if prefix.is_empty() && suffix.is_empty() {
        return;
    }
    let pos = k.key_pos(if prefix.is_empty() {
        "nameSuffix"
    } else {
        "namePrefix"
    });
    for r in acc.iter_mut() {
        if matches!(
            r.kind(),
            "Namespace" | "CustomResourceDefinition" | "APIService"
        ) {
            continue;
        }
        let name = format!("{prefix}{}{suffix}", r.name());
        r.set_name(name, &pos);
    }
}

/// A kustomization map whose values must be strings (`version: 1` is
/// refused by kustomize: quote it).
fn check_strings(k: &Kust, map: Option<&yaml::Node>, key: &str) -> Result<(), Stop> {
    for e in map.map(yaml::Node::entries).unwrap_or(&[]) {
        // The kustomization itself is read as YAML 1.1 (`yes` is a boolean
        // there, and refused too).
        let string = matches!(e.value.value, yaml::Value::Str(_) | yaml::Value::Null);
        if !string {
            return Err(k.fail(
                e.key.span.line,
                format!(
                    "{key}: the value of {:?} must be a string (quote it)",
                    e.key.key_str().unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// Key/value pairs of a kustomization map, with each key's line.
pub(super) fn pairs(k: &Kust, n: &yaml::Node) -> Vec<(String, String, Pos)> {
    n.entries()
        .iter()
        .filter_map(|e| {
            Some((
                e.key.key_str()?.into_owned(),
                k.scalar_string(&e.value).unwrap_or_default(),
                k.pos(e.key.span.line),
            ))
        })
        .collect()
}

pub(super) fn put_pairs(target: &mut P, pairs: &[(String, String, Pos)]) {
    if !target.is_map() {
        return;
    }
    for (key, value, pos) in pairs {
        target.set(key, P::str(value, pos));
    }
}

/// (kinds, path, create) where selector labels go.
const SELECTOR_SPECS: &[(&[&str], &str, bool)] = &[
    (&["Service"], "spec/selector", true),
    (&["ReplicationController"], "spec/selector", true),
    (WORKLOADS, "spec/selector/matchLabels", true),
    (&["Job"], "spec/selector/matchLabels", false),
    (&["CronJob"], "spec/jobTemplate/spec/selector/matchLabels", false),
    (&["PodDisruptionBudget"], "spec/selector/matchLabels", false),
    (&["NetworkPolicy"], "spec/podSelector/matchLabels", false),
    (&["NetworkPolicy"], "spec/ingress/from/podSelector/matchLabels", false),
    (&["NetworkPolicy"], "spec/egress/to/podSelector/matchLabels", false),
    (WORKLOADS, "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", false),
    (WORKLOADS, "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", false),
    (WORKLOADS, "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", false),
    (WORKLOADS, "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", false),
    (WORKLOADS, "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", false),
];

/// Where pod template labels (and annotations) go.
const TEMPLATE_SPECS: &[(&[&str], &str, bool)] = &[
    (
        &[
            "ReplicationController",
            "Deployment",
            "ReplicaSet",
            "DaemonSet",
            "StatefulSet",
            "Job",
        ],
        "spec/template/metadata/",
        true,
    ),
    (&["CronJob"], "spec/jobTemplate/metadata/", true),
    (
        &["CronJob"],
        "spec/jobTemplate/spec/template/metadata/",
        true,
    ),
];

fn apply_specs(
    r: &mut Res,
    specs: &[(&[&str], &str, bool)],
    leaf: &str,
    pairs: &[(String, String, Pos)],
    pos: &Pos,
) {
    let kind = r.kind().to_string();
    for (kinds, path, create) in specs {
        if !kinds.contains(&kind.as_str()) {
            continue;
        }
        let full = format!("{path}{leaf}");
        let parts: Vec<&str> = full.split('/').filter(|s| !s.is_empty()).collect();
        at_path(&mut r.obj, &parts, *create, pos, &mut |m| {
            put_pairs(m, pairs)
        });
    }
}

type LabelSet = (Vec<(String, String, Pos)>, bool, bool, Pos);

fn labels(k: &Kust, acc: &mut [Res]) {
    // (pairs, into selectors, into pod templates, where)
    let mut sets: Vec<LabelSet> = Vec::new();
    if let Some(e) = k.root.entry("commonLabels") {
        sets.push((pairs(k, &e.value), true, true, k.pos(e.key.span.line)));
    }
    for l in k.root.get("labels").map(yaml::Node::as_seq).unwrap_or(&[]) {
        let Some(p) = l.get("pairs") else { continue };
        let sel = l.get("includeSelectors").and_then(yaml::Node::as_bool) == Some(true);
        let tmpl = sel || l.get("includeTemplates").and_then(yaml::Node::as_bool) == Some(true);
        sets.push((pairs(k, p), sel, tmpl, k.pos(l.span.line)));
    }
    for (pairs, sel, tmpl, pos) in &sets {
        if pairs.is_empty() {
            continue;
        }
        for r in acc.iter_mut() {
            at_path(&mut r.obj, &["metadata", "labels"], true, pos, &mut |m| {
                put_pairs(m, pairs)
            });
            if *sel {
                apply_specs(r, SELECTOR_SPECS, "", pairs, pos);
            }
            if *tmpl {
                if r.kind() == "StatefulSet" {
                    at_path(
                        &mut r.obj,
                        &["spec", "volumeClaimTemplates", "metadata", "labels"],
                        true,
                        pos,
                        &mut |m| put_pairs(m, pairs),
                    );
                }
                apply_specs(r, TEMPLATE_SPECS, "labels", pairs, pos);
            }
        }
    }
}

fn annotations(k: &Kust, acc: &mut [Res]) {
    let Some(e) = k.root.entry("commonAnnotations") else {
        return;
    };
    let pairs = pairs(k, &e.value);
    if pairs.is_empty() {
        return;
    }
    let pos = k.pos(e.key.span.line);
    for r in acc.iter_mut() {
        at_path(
            &mut r.obj,
            &["metadata", "annotations"],
            true,
            &pos,
            &mut |m| put_pairs(m, &pairs),
        );
        apply_specs(r, TEMPLATE_SPECS, "annotations", &pairs, &pos);
    }
}

fn replicas(k: &Kust, acc: &mut [Res]) {
    for item in k
        .root
        .get("replicas")
        .map(yaml::Node::as_seq)
        .unwrap_or(&[])
    {
        let Some(name) = item.get("name").and_then(yaml::Node::as_str) else {
            continue;
        };
        let Some(count) = item.entry("count") else {
            continue;
        };
        let Some(n) = count.value.as_i64() else {
            continue;
        };
        let pos = k.pos(count.key.span.line);
        for r in acc.iter_mut() {
            if matches!(
                r.kind(),
                "Deployment" | "ReplicationController" | "ReplicaSet" | "StatefulSet"
            ) && r.matches_name(|x| x == name)
            {
                r.obj
                    .map_at("spec", &pos)
                    .set("replicas", P::new(V::Int(n), &pos));
            }
        }
    }
}

/// `repo/name:tag@digest` → (name, tag, digest).
pub fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..]), digest),
        None => (rest, None, digest),
    }
}

struct ImageRule {
    name: String,
    new_name: Option<String>,
    new_tag: Option<String>,
    digest: Option<String>,
    pos: Pos,
}

fn images(k: &Kust, acc: &mut [Res]) {
    let mut rules = Vec::new();
    for item in k.root.get("images").map(yaml::Node::as_seq).unwrap_or(&[]) {
        let Some(name) = item.get("name").and_then(|n| k.scalar_string(n)) else {
            continue;
        };
        let field = |key: &str| {
            item.entry(key)
                .and_then(|e| Some((k.scalar_string(&e.value)?, e.key.span.line)))
        };
        let (new_name, new_tag, digest) = (field("newName"), field("newTag"), field("digest"));
        let line = digest
            .as_ref()
            .or(new_tag.as_ref())
            .or(new_name.as_ref())
            .map_or(item.span.line, |x| x.1);
        rules.push(ImageRule {
            name,
            new_name: new_name.map(|x| x.0),
            new_tag: new_tag.map(|x| x.0),
            digest: digest.map(|x| x.0),
            pos: k.pos(line),
        });
    }
    if rules.is_empty() {
        return;
    }
    for r in acc.iter_mut() {
        walk_containers(&mut r.obj, &rules);
    }
}

fn walk_containers(p: &mut P, rules: &[ImageRule]) {
    match &mut p.v {
        V::Map(m) => {
            for (k, v) in m.iter_mut() {
                if k == "containers" || k == "initContainers" {
                    if let V::Seq(items) = &mut v.v {
                        for c in items.iter_mut() {
                            if let Some(img) = c.get_mut("image") {
                                retag(img, rules);
                            }
                        }
                    }
                }
                walk_containers(v, rules);
            }
        }
        V::Seq(items) => items.iter_mut().for_each(|i| walk_containers(i, rules)),
        _ => {}
    }
}

fn retag(img: &mut P, rules: &[ImageRule]) {
    let Some(image) = img.as_str().map(str::to_string) else {
        return;
    };
    let (name, tag, digest) = split_image(&image);
    let Some(rule) = rules.iter().find(|r| r.name == name) else {
        return;
    };
    let name = rule.new_name.as_deref().unwrap_or(name);
    let out = if let Some(d) = &rule.digest {
        format!("{name}@{d}")
    } else if let Some(t) = &rule.new_tag {
        format!("{name}:{t}")
    } else {
        let mut s = name.to_string();
        if let Some(t) = tag {
            s = format!("{s}:{t}");
        }
        if let Some(d) = digest {
            s = format!("{s}@{d}");
        }
        s
    };
    *img = P::new(V::Str(out), &rule.pos);
}

#[cfg(test)]
mod tests {
    use super::super::generate::content_hash;
    use super::*;

    fn pos() -> Pos {
        Pos {
            file: "k".into(),
            line: 1,
        }
    }

    fn object(kind: &str, data: &[(&str, &str)]) -> P {
        let p = pos();
        let mut o = P::map(&p);
        o.set("apiVersion", P::str("v1", &p));
        o.set("kind", P::str(kind, &p));
        let mut meta = P::map(&p);
        meta.set("name", P::str("anything", &p));
        o.set("metadata", meta);
        if kind == "Secret" {
            o.set("type", P::str("Opaque", &p));
        }
        let mut d = P::map(&p);
        for (k, v) in data {
            d.set(k, P::str(v, &p));
        }
        o.set("data", d);
        o
    }

    /// The suffixes `kubectl kustomize` (kustomize v5.5) gives for
    /// `literals: [a=b]`.
    #[test]
    fn content_hashes_are_kustomizes() {
        assert_eq!(
            content_hash(&object("ConfigMap", &[("a", "b")])),
            "4h2mbtbbt6"
        );
        // Secret data is base64 ("b" is "Yg==").
        assert_eq!(
            content_hash(&object("Secret", &[("a", "Yg==")])),
            "k695gkmbtk"
        );
    }

    #[test]
    fn images_split() {
        assert_eq!(split_image("nginx"), ("nginx", None, None));
        assert_eq!(split_image("nginx:1.25"), ("nginx", Some("1.25"), None));
        assert_eq!(
            split_image("localhost:5000/a/b:v1@sha256:x"),
            ("localhost:5000/a/b", Some("v1"), Some("sha256:x"))
        );
        assert_eq!(
            split_image("localhost:5000/a"),
            ("localhost:5000/a", None, None)
        );
    }

    #[test]
    fn selectors() {
        let p = pos();
        let mut labels = P::map(&p);
        labels.set("app", P::str("web", &p));
        labels.set("tier", P::str("front", &p));
        let yes = |s: &str| matches_selector(&parse_selector(s), Some(&labels));
        assert!(yes("app=web"));
        assert!(yes("app==web,tier"));
        assert!(yes("app!=db,!missing"));
        assert!(!yes("app=db"));
        assert!(!yes("missing"));
    }

    #[test]
    fn remote_entries() {
        for r in [
            "https://github.com/a/b//c?ref=v1",
            "github.com/a/b/c?ref=v1",
            "git@github.com:a/b.git",
            "ssh://git@example.com/a.git",
        ] {
            assert!(is_remote(r), "{r}");
        }
        assert!(!is_remote("../base"));
    }
}
