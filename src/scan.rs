//! The pipeline: discover → read → parse once → packs (per file in parallel,
//! then once for run-wide checks) → suppressions and config → sorted,
//! fingerprinted findings.

use crate::discover::{self, Input};
use crate::finding::{Finding, Snippet};
use crate::git::{self, GitMode};
use crate::manifest;
use crate::packs::{self, Context, Pack, Rule};
use crate::settings::Settings;
use crate::shard::Shard;
use crate::source::{has_manifest_extension, SourceFile};
use crate::suppress::{self, DocIgnore};
use anyhow::{Context as _, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct ScanRequest {
    pub paths: Vec<String>,
    pub settings: Settings,
    /// Display paths are relative to this folder (normally the current one).
    pub base: PathBuf,
    /// Report only this shard's files (`--shard i/n`).
    pub shard: Option<Shard>,
    /// Git modes: also honour the `exclude:` of the scanned revision's
    /// `.shiplint.yaml` (the index, HEAD, each commit); off with `--config`
    /// or `--no-config`.
    pub revision_config: bool,
}

#[derive(Debug, Default, Serialize, Clone)]
pub struct Stats {
    pub files: usize,
    pub resources: usize,
    pub skipped_binary: usize,
    pub skipped_large: usize,
    pub skipped_templates: usize,
    /// Every file skipped unread or unparsed: (path, why), for reports
    /// that list them all (JSON); notes name the first few.
    #[serde(skip)]
    pub skipped_files: Vec<(String, &'static str)>,
    #[serde(skip)]
    pub duration: Duration,
    pub duration_ms: u128,
}

pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub stats: Stats,
    pub notes: Vec<String>,
    /// Rules of the packs that ran.
    pub rules: Vec<&'static Rule>,
    /// Facts about the run for reporters (Kubernetes version, packs …).
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Findings that `exemptions:` in the config silenced.
    pub exempted: Vec<crate::exempt::Exempted>,
}

struct FileResult {
    findings: Vec<Finding>,
    doc_ignores: Vec<DocIgnore>,
    note: Option<String>,
    /// Not valid UTF-8: the line of the first bad byte (all such files get
    /// one note between them).
    invalid_utf8: Option<usize>,
    /// Skipped (large or binary) and worth naming in that kind's note.
    named_skip: bool,
    kind: FileKind,
    /// Resources the file held.
    resources: usize,
    /// Where its resources and containers are, for the findings made after
    /// every file (a reported file with resources only).
    layout: Option<crate::locate::Layout>,
}

#[derive(PartialEq)]
enum FileKind {
    Scanned,
    Binary,
    Large,
    Template,
    /// Outside `--shard`: read for the index only (or not at all).
    OutOfShard,
}

/// The path findings on this input carry (what `--shard` hashes).
fn input_path(input: &Input) -> &str {
    match input {
        Input::Stdin => "<stdin>",
        Input::File { display, .. } | Input::Blob { display, .. } => display,
    }
}

fn read_input(
    input: &Input,
    settings: &Settings,
    stdin: Option<&String>,
) -> Result<Result<(SourceFile, Option<usize>), FileKind>> {
    match input {
        Input::Stdin => {
            let mut f = SourceFile::new("<stdin>", stdin.cloned().unwrap_or_default());
            f.explicit = true;
            Ok(Ok((f, None)))
        }
        Input::File {
            disk,
            display,
            explicit,
        } => {
            // The file may have gone (or changed) since discovery: every
            // failure here is a note for this file, never the end of the run.
            let meta = std::fs::metadata(disk).with_context(|| format!("cannot read {display}"))?;
            if !meta.is_file() {
                // A FIFO or device would block or never end.
                anyhow::bail!("skipped {display}: not a regular file");
            }
            if meta.len() > settings.max_file_size {
                return Ok(Err(FileKind::Large));
            }
            // Read at most one byte past the limit: the file may have grown.
            // Sized from the metadata, so a file takes one read, not a
            // series of probing ones.
            let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
            std::fs::File::open(disk)
                .and_then(|f| {
                    f.take(settings.max_file_size.saturating_add(1))
                        .read_to_end(&mut bytes)
                })
                .with_context(|| format!("cannot read {display}"))?;
            if bytes.len() as u64 > settings.max_file_size {
                return Ok(Err(FileKind::Large));
            }
            if bytes[..bytes.len().min(8192)].contains(&0) {
                return Ok(Err(FileKind::Binary));
            }
            let (text, bad_line) = match String::from_utf8(bytes) {
                Ok(t) => (t, None),
                Err(e) => {
                    // Scanned anyway (a Latin-1 comment should not hide a
                    // manifest), but said: the bad bytes read as U+FFFD.
                    let at = e.utf8_error().valid_up_to();
                    let line = memchr::memchr_iter(b'\n', &e.as_bytes()[..at]).count() + 1;
                    let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    (text, Some(line))
                }
            };
            let mut f = SourceFile::new(display.as_str(), text);
            f.disk_path = Some(disk.clone());
            f.explicit = *explicit;
            Ok(Ok((f, bad_line)))
        }
        Input::Blob { display, text, .. } => {
            if text.len() as u64 > settings.max_file_size {
                return Ok(Err(FileKind::Large));
            }
            Ok(Ok((
                SourceFile::new(display.as_str(), text.to_string()),
                None,
            )))
        }
    }
}

/// What the run already holds for a file: stdin's text, and the parse
/// of each resource file the overlays read (taken once, by display path).
struct Held<'a> {
    stdin: Option<&'a String>,
    parsed: std::sync::Mutex<crate::render::ParsedFiles>,
}

impl Held<'_> {
    /// The overlays' parse of `file`, when it was made from the same text.
    fn take_parsed(&self, file: &SourceFile) -> Option<crate::manifest::yaml::Stream> {
        let (text, stream) = self.parsed.lock().ok()?.remove(&file.path)?;
        (*text == *file.text).then_some(stream)
    }
}

fn scan_one(
    input: &Input,
    packs: &[Box<dyn Pack>],
    ctx: &Context,
    held: &Held,
    reports: bool,
    levels: &Levels,
    origin: Option<&crate::render::Origin>,
) -> FileResult {
    let mut r = FileResult {
        findings: Vec::new(),
        doc_ignores: Vec::new(),
        note: None,
        invalid_utf8: None,
        named_skip: false,
        kind: FileKind::Scanned,
        resources: 0,
        layout: None,
    };
    if !reports
        && (!has_manifest_extension(input_path(input))
            || !packs.iter().any(|p| p.gathers_file_facts()))
    {
        // Another shard's file with nothing for the index: skip it unread.
        r.kind = FileKind::OutOfShard;
        return r;
    }
    let file = match read_input(input, ctx.settings, held.stdin) {
        Ok(Ok((f, bad_line))) => {
            r.invalid_utf8 = bad_line;
            f
        }
        Ok(Err(kind)) => {
            // Large files are named in a note; binaries are counted, and
            // named too when the user named them or they look like a
            // manifest, since then they were expected to be scanned.
            r.named_skip = match (&kind, input) {
                (FileKind::Large, _) => true,
                (
                    FileKind::Binary,
                    Input::File {
                        display, explicit, ..
                    },
                ) => *explicit || has_manifest_extension(display),
                _ => false,
            };
            r.kind = kind;
            return r;
        }
        Err(e) => {
            r.note = Some(format!("{e:#}"));
            return r;
        }
    };
    let parsed = if origin.is_some() {
        // Rendered by Helm: YAML, even where it holds `{{ }}` (alert rules).
        Some(manifest::parse_file(&file, ctx.settings.limits))
    } else if has_manifest_extension(&file.path) {
        let parsed = manifest::parse_unless_template_with(&file, || {
            held.take_parsed(&file)
                .unwrap_or_else(|| manifest::yaml::parse_stream(&file.text, ctx.settings.limits))
        });
        if parsed.is_none() {
            r.kind = FileKind::Template;
        }
        parsed
    } else {
        None
    };
    for pack in packs {
        if reports {
            pack.check_file(ctx, &file, parsed.as_ref(), &mut r.findings);
        } else if pack.gathers_file_facts() {
            // Another shard's file: only its run-wide facts count here.
            pack.gather_file_facts(ctx, &file, parsed.as_ref());
        }
    }
    if !reports {
        r.kind = FileKind::OutOfShard;
    }
    // Split into lines only when there is something to look up.
    let lines: Vec<&str> = if r.findings.is_empty() {
        Vec::new()
    } else {
        file.text.split('\n').collect()
    };
    let line = |n: usize| {
        lines
            .get(n.wrapping_sub(1))
            .map(|l| l.trim_end_matches('\r').to_string())
    };
    r.findings
        .retain(|f| !suppress::suppressed_by_comment(f, line));
    if let Input::Blob {
        lines: filter,
        properties,
        ..
    } = input
    {
        if let Some(keep) = filter {
            r.findings.retain(|f| keep.contains(&f.span.line));
        }
        for f in &mut r.findings {
            for (k, v) in properties.iter() {
                f.set_property(k.clone(), v.clone());
            }
        }
    }
    // Lines where the secrets pack redacted a value: other packs' findings
    // on those lines show the redacted text too, never the raw line.
    let redacted: HashMap<usize, String> = r
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("secrets/"))
        .filter_map(|f| f.snippet.as_ref())
        .map(|s| (s.line, s.text.clone()))
        .collect();
    // One problem, one finding: where the secrets pack recognised the value
    // of a plain env var, its finding (which names the credential) stands
    // for practices/env-secret's.
    if !redacted.is_empty() {
        r.findings.retain(|f| {
            &*f.rule != packs::practices::ENV_SECRET.id || !redacted.contains_key(&f.span.line)
        });
    }
    for f in &mut r.findings {
        if f.snippet.is_none() {
            let text = redacted
                .get(&f.span.line)
                .cloned()
                .or_else(|| line(f.span.line));
            f.snippet = text.map(|text| Snippet {
                line: f.span.line,
                text,
            });
        }
    }
    if let Some(parsed) = &parsed {
        let layout = crate::locate::Layout::of(&parsed.manifests);
        layout.annotate(&mut r.findings);
        if reports && !layout.is_empty() {
            r.layout = Some(layout);
        }
    }
    if let Some(parsed) = parsed {
        r.doc_ignores = parsed
            .manifests
            .iter()
            .filter_map(suppress::doc_ignore)
            .collect();
        if reports {
            r.resources = parsed.manifests.len();
        }
    }
    // Settle here what needs only this file, so that the run keeps only the
    // findings it will report, each in its compact form.
    r.findings
        .retain(|f| !suppress::suppressed_by_annotation(f, &r.doc_ignores));
    if let Some(origin) = origin {
        // A rendered document: its findings belong to the template (or the
        // values line) that produced them; its lines are not the file's.
        crate::render::map_back(&mut r.findings, &file.text, origin);
        // Kustomize: the base or patch line may carry a suppression comment.
        r.findings
            .retain(|f| !crate::render::suppressed_in_origin(f, origin));
        r.doc_ignores.clear();
    }
    levels.apply(&mut r.findings, ctx.settings);
    if !matches!(ctx.settings.git_mode, GitMode::History { .. }) {
        // The history walk still needs each finding's key.
        r.findings.iter_mut().for_each(Finding::compact);
    }
    r.findings.shrink_to_fit();
    r
}

/// Applies suppression comments and attaches snippets to the findings made
/// after the per-file phase, one file at a time: the text of at most one
/// file is held, however many files those findings touch.
fn attach_late_lines(
    late: &mut Vec<Finding>,
    inputs: &[Input],
    stdin: Option<&String>,
    layouts: &HashMap<String, crate::locate::Layout>,
) {
    let sources: HashMap<&str, &Input> = inputs.iter().map(|i| (input_path(i), i)).collect();
    late.sort_by(|a, b| a.path.cmp(&b.path));
    let mut kept = Vec::with_capacity(late.len());
    let mut rest = std::mem::take(late).into_iter().peekable();
    while let Some(first) = rest.next() {
        let path = first.path.clone();
        let text: Option<std::borrow::Cow<str>> = match sources.get(&*path) {
            Some(Input::Stdin) => stdin.map(|s| s.as_str().into()),
            Some(Input::Blob { text, .. }) => Some((&**text).into()),
            Some(Input::File { disk, .. }) => std::fs::read(disk)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned().into()),
            None => None,
        };
        let lines: Vec<&str> = text
            .as_deref()
            .map_or(Vec::new(), |t| t.split('\n').collect());
        let line = |n: usize| {
            lines
                .get(n.wrapping_sub(1))
                .map(|l| l.trim_end_matches('\r').to_string())
        };
        let mut group: Vec<Finding> = std::iter::once(first)
            .chain(std::iter::from_fn(|| rest.next_if(|f| f.path == path)))
            .collect();
        // Resources and containers from the layout the file's parse left:
        // the file is not parsed again.
        if let Some(layout) = layouts.get(&*path) {
            layout.annotate(&mut group);
        }
        for mut f in group {
            if suppress::suppressed_by_comment(&f, line) {
                continue;
            }
            if f.snippet.is_none() {
                f.snippet = line(f.span.line).map(|text| Snippet {
                    line: f.span.line,
                    text,
                });
            }
            kept.push(f);
        }
    }
    *late = kept;
}

/// How far past the newest embedded Kubernetes version a target may be:
/// planning an upgrade a few releases ahead is fine; `1.99` is a typo.
const TARGET_AHEAD: u32 = 3;

/// Refuses a `--target-version` (or config `target-version`) that is not a
/// real Kubernetes version: 1.x, at most a few minors past the newest known.
fn check_target_version(settings: &Settings) -> Result<()> {
    let Some(v) = settings.target_version else {
        return Ok(());
    };
    let newest = crate::k8s::schemas::versions()
        .ok()
        .and_then(|v| v.last().copied());
    let limit = newest.map(|n| n.minor + TARGET_AHEAD);
    if v.major != 1 || limit.is_some_and(|l| v.minor > l) {
        let newest = newest.map_or_else(|| "unknown".into(), |n| n.to_string());
        anyhow::bail!(
            "--target-version {v} is not a Kubernetes version: expected 1.x up to 1.{} (the newest known is {newest}; Kubernetes has had no major version but 1)",
            limit.map_or_else(|| "?".into(), |l| l.to_string())
        );
    }
    Ok(())
}

pub fn run(req: ScanRequest) -> Result<ScanOutcome> {
    let started = Instant::now();
    let settings = &req.settings;
    check_target_version(settings)?;
    let mut found = match &settings.git_mode {
        GitMode::WorkingTree => discover::discover(
            &req.paths,
            &req.base,
            &settings.exclude,
            settings.follow_symlinks,
        )?,
        mode => git::discover(
            mode,
            &req.paths,
            &req.base,
            settings.max_file_size,
            &settings.exclude,
            req.revision_config,
        )?,
    };
    let stdin = if found.inputs.iter().any(|i| matches!(i, Input::Stdin)) {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading stdin")?;
        Some(s)
    } else {
        None
    };
    // Helm charts in the tree: what they render to is scanned like any file,
    // and its findings are mapped back to the templates and values.
    // Nothing outside this is read while rendering.
    let render_root = crate::render::root_for(&req.paths, &req.base);
    let kustomize = crate::kustomize::facts(&found.inputs);
    let mut rendered = if settings.git_mode == GitMode::WorkingTree {
        crate::render::helm::render_all(&found.inputs, settings, &render_root)
    } else {
        let mut r = crate::render::Rendered::default();
        if found.inputs.iter().any(|i| {
            let p = input_path(i);
            p == "Chart.yaml" || p.ends_with("/Chart.yaml")
        }) {
            r.notes.push(
                "charts not rendered in git modes (--staged, --diff-base, --history): their templates are read line by line for deprecated APIs".into(),
            );
        }
        r
    };
    // Kustomize overlays in the tree: built in Rust, their objects scanned
    // like any file, findings mapped to base, patch and kustomization lines.
    if settings.render.enabled {
        if settings.git_mode == GitMode::WorkingTree {
            // Files the scan reads as they are, as whole resources (not
            // over its size limit: those it names and skips).
            let whole: HashMap<&str, &PathBuf> = found
                .inputs
                .iter()
                .filter_map(|i| match i {
                    Input::File { display, disk, .. } if kustomize.whole(display) => {
                        Some((display.as_str(), disk))
                    }
                    _ => None,
                })
                .collect();
            let scanned_whole = |p: &str| {
                whole.get(p).is_some_and(|disk| {
                    std::fs::metadata(disk).is_ok_and(|m| m.len() <= settings.max_file_size)
                })
            };
            let k = crate::render::kustomize::build_all(
                &found.inputs,
                &render_root,
                &req.base,
                &scanned_whole,
            );
            rendered.docs.extend(k.docs);
            rendered.findings.extend(k.findings);
            rendered.notes.extend(k.notes);
            if settings.limits == crate::manifest::Limits::default() {
                rendered.parsed = k.parsed;
            }
        } else if found.inputs.iter().any(|i| {
            let p = input_path(i);
            crate::render::kustomize::build::NAMES
                .iter()
                .any(|n| p == *n || p.ends_with(&format!("/{n}")))
        }) {
            rendered.notes.push(
                "kustomize overlays not built in git modes (--staged, --diff-base, --history): their files are checked as they are".into(),
            );
        }
    }
    // `helm template … | shiplint scan -`: the stream's `# Source:` lines
    // name the templates its documents came from.
    if let Some(docs) = stdin.as_deref().and_then(|t| {
        crate::render::helm::stdin_stream(t, settings.render.stdin_chart_dir.as_deref(), &req.base)
    }) {
        found.inputs.retain(|i| !matches!(i, Input::Stdin));
        rendered.docs.extend(docs);
    }
    let mut origins: Vec<Option<std::sync::Arc<crate::render::Origin>>> =
        vec![None; found.inputs.len()];
    // Each rendered document has a path of its own while the packs run
    // (cross-object findings name it); findings leave with the template's.
    let mut rendered_paths: HashMap<String, usize> = HashMap::new();
    for (n, doc) in std::mem::take(&mut rendered.docs).into_iter().enumerate() {
        let display = format!("{}#rendered-{n}.yaml", doc.origin.template);
        rendered_paths.insert(display.clone(), found.inputs.len());
        found.inputs.push(Input::Blob {
            display,
            text: doc.text.into(),
            lines: None,
            properties: Default::default(),
            context: false,
        });
        origins.push(Some(doc.origin));
    }
    // Git modes: the rest of the tree, read for run-wide facts only.
    let context: HashSet<&str> = found
        .inputs
        .iter()
        .filter_map(|i| match i {
            Input::Blob {
                display,
                context: true,
                ..
            } => Some(display.as_str()),
            _ => None,
        })
        .collect();
    let origin_of = |path: &str, line: usize| {
        let i = *rendered_paths.get(path)?;
        match (found.inputs.get(i), origins.get(i)) {
            (Some(Input::Blob { text, .. }), Some(Some(origin))) => {
                Some(crate::render::origin_line(text, origin, line))
            }
            _ => None,
        }
    };
    let ctx = Context {
        settings,
        kustomize,
        origin_of: Some(&origin_of),
    };
    // Built ready: each pack loads its data and reads its options here,
    // before any file is checked.
    let packs: Vec<Box<dyn Pack>> = packs::build(settings)?;
    let mut notes = std::mem::take(&mut found.notes);
    notes.extend(std::mem::take(&mut rendered.notes));

    let reports =
        |path: &str| req.shard.is_none_or(|s| s.contains(path)) && !context.contains(path);
    let progress = progress_bar(found.inputs.len());
    let levels = Levels::new();
    let held = Held {
        stdin: stdin.as_ref(),
        parsed: std::sync::Mutex::new(std::mem::take(&mut rendered.parsed)),
    };
    let results: Vec<FileResult> = found
        .inputs
        .par_iter()
        .zip(origins.par_iter())
        .map(|(i, origin)| {
            let reports = reports(input_path(i));
            let r = scan_one(i, &packs, &ctx, &held, reports, &levels, origin.as_deref());
            progress.inc(1);
            r
        })
        .collect();
    progress.finish_and_clear();

    let mut stats = Stats::default();
    let mut findings = Vec::with_capacity(results.iter().map(|r| r.findings.len()).sum());
    let mut doc_ignores = Vec::new();
    let mut layouts: HashMap<String, crate::locate::Layout> = HashMap::new();
    // Paths named in the notes, one note per kind however many there are.
    let (mut invalid_utf8, mut templates) = (Vec::new(), Vec::new());
    let mut large = found.large;
    stats.skipped_large = large.len();
    let mut binary = found.binary;
    stats.skipped_binary = found.skipped_binary;
    for ((input, r), origin) in found.inputs.iter().zip(results).zip(&origins) {
        if let Some(line) = r.invalid_utf8 {
            invalid_utf8.push(format!("{} (line {line})", input_path(input)));
        }
        if r.named_skip {
            let names = if r.kind == FileKind::Large {
                &mut large
            } else {
                &mut binary
            };
            // A rendered document by what rendered it, not by its
            // internal path.
            names.push(match origin {
                Some(o) => format!("{} (a document it renders)", o.template),
                None => input_path(input).to_string(),
            });
        }
        match r.kind {
            // A rendered document is counted by its resources, not as a file.
            FileKind::Scanned if origin.is_some() => {}
            FileKind::Scanned => stats.files += 1,
            FileKind::Binary => stats.skipped_binary += 1,
            FileKind::Large => stats.skipped_large += 1,
            FileKind::Template if rendered.covers(input_path(input)) => {
                stats.files += 1;
            }
            FileKind::Template => {
                stats.files += 1;
                stats.skipped_templates += 1;
                templates.push(input_path(input).to_string());
            }
            FileKind::OutOfShard => {}
        }
        notes.extend(r.note);
        stats.resources += r.resources;
        findings.extend(r.findings);
        doc_ignores.extend(r.doc_ignores);
        if let Some(layout) = r.layout {
            layouts.insert(input_path(input).to_string(), layout);
        }
    }
    stats.skipped_files = large
        .iter()
        .map(|p| (p.clone(), "large"))
        .chain(binary.iter().map(|p| (p.clone(), "binary")))
        .chain(templates.iter().map(|p| (p.clone(), "template")))
        .collect();
    if !templates.is_empty() {
        notes.push(format!(
            "not parsed: {} with `{{{{ }}}}` that is not YAML until rendered (chart templates are read line by line for deprecated APIs): {}",
            crate::text::plural(templates.len(), "template"),
            discover::first_few(&templates)
        ));
    }
    if !large.is_empty() {
        notes.push(format!(
            "skipped {} larger than --max-file-size ({} bytes): {}",
            crate::text::plural(large.len(), "file"),
            settings.max_file_size,
            discover::first_few(&large)
        ));
    }
    if !binary.is_empty() {
        notes.push(format!(
            "skipped {} (NUL bytes): {}",
            crate::text::plural(binary.len(), "binary file"),
            discover::first_few(&binary)
        ));
    }
    if !invalid_utf8.is_empty() {
        notes.push(format!(
            "{} not valid UTF-8, scanned with U+FFFD in place of the bad bytes: {}",
            crate::text::plural(invalid_utf8.len(), "file"),
            discover::first_few(&invalid_utf8)
        ));
    }
    if matches!(settings.git_mode, GitMode::History { .. }) {
        first_introductions(&mut findings);
    }

    // A template of a chart that rendered: its line-by-line findings would
    // repeat what the rendered documents report.
    if !rendered.rendered_charts.is_empty() {
        findings.retain(|f| {
            f.property("rendered").is_some()
                || !f.rule.starts_with("deprecations/")
                || !rendered.covers(&f.path)
        });
    }
    let mut late = std::mem::take(&mut rendered.findings);
    let mut pack_properties = serde_json::Map::new();
    for p in &packs {
        let done = p.finish(&ctx);
        late.extend(done.findings);
        notes.extend(done.notes);
        pack_properties.extend(done.properties);
    }
    // Cross-object findings on rendered documents: to their templates.
    for f in late.iter_mut() {
        let Some(&i) = rendered_paths.get(&*f.path) else {
            continue;
        };
        if let (Some(Input::Blob { text, .. }), Some(Some(origin))) =
            (found.inputs.get(i), origins.get(i))
        {
            crate::render::map_back(std::slice::from_mut(f), text, origin);
        }
    }
    // Cross-object findings belong to the shard of the object's file.
    late.retain(|f| reports(&f.path));
    findings.retain(|f| reports(&f.path));
    if !late.is_empty() {
        attach_late_lines(&mut late, &found.inputs, stdin.as_ref(), &layouts);
        // Per-file findings met their files' annotations in `scan_one`.
        late.retain(|f| !suppress::suppressed_by_annotation(f, &doc_ignores));
        findings.extend(late);
    }

    // A base used by several overlays (and scanned as it is): once.
    crate::render::dedupe(&mut findings);
    supersede(&mut findings);
    finalize(&mut findings, settings);

    drop_baselined(&mut findings, settings);

    let mut properties = pack_properties;
    properties.insert(
        "packs".into(),
        packs.iter().map(|p| p.name()).collect::<Vec<_>>().into(),
    );
    if let Some(s) = req.shard {
        properties.insert("shard".into(), s.to_string().into());
        properties.insert("shardIndex".into(), s.index.into());
        properties.insert("shardCount".into(), s.total.into());
    }
    if let Some(v) = settings.kubernetes_version {
        properties.insert("kubernetesVersion".into(), v.to_string().into());
    } else if let Ok(v) = crate::k8s::schemas::versions() {
        if let Some(last) = v.last() {
            properties.insert("kubernetesVersion".into(), last.to_string().into());
        }
    }
    stats.duration = started.elapsed();
    stats.duration_ms = stats.duration.as_millis();
    Ok(ScanOutcome {
        findings,
        stats,
        notes,
        rules: packs::registry()
            .iter()
            .filter(|p| settings.pack_enabled(p.name))
            .flat_map(|p| (p.rules)())
            .collect(),
        properties,
        exempted: Vec::new(),
    })
}

/// Files done / total on stderr while the per-file phase runs, only when
/// stderr is a terminal (never in CI logs or pipes).
fn progress_bar(total: usize) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || total < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::stderr_with_hz(10),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {bar:30} {pos}/{len} files ({per_sec}, eta {eta})",
    ) {
        pb.set_style(style);
    }
    pb
}

/// The configured rule levels, applied to findings as they are made.
pub struct Levels {
    /// Rules that only report when the config sets a level for them.
    default_off: std::collections::HashSet<&'static str>,
}

impl Levels {
    pub fn new() -> Self {
        Levels {
            default_off: packs::all_rules()
                .into_iter()
                .filter(|r| !r.default_enabled)
                .flat_map(|r| r.names())
                .collect(),
        }
    }

    /// Sets each finding's configured severity; drops rules that are off.
    pub fn apply(&self, findings: &mut Vec<Finding>, settings: &Settings) {
        findings.retain_mut(|f| {
            match settings
                .level_for_ids(&f.rule, f.aliases)
                .map(|l| l.severity())
            {
                Some(None) => false,
                Some(Some(sev)) => {
                    f.severity = sev;
                    true
                }
                None => !self.default_off.contains(&*f.rule),
            }
        });
    }
}

impl Default for Levels {
    fn default() -> Self {
        Self::new()
    }
}

/// Drops the findings `--baseline` lists: by fingerprint, or by the
/// fingerprint a renamed rule's finding had under a former id (a baseline
/// written before the rename). Runs after `finalize` (fingerprints made,
/// keys still there).
pub fn drop_baselined(findings: &mut Vec<Finding>, settings: &Settings) {
    let Some(known) = &settings.baseline else {
        return;
    };
    findings.retain(|f| {
        !known.contains(&f.fingerprint)
            && (f.aliases.is_empty() || !f.alias_fingerprints().iter().any(|fp| known.contains(fp)))
    });
}

/// Findings one rule makes redundant: (the rule that wins, the rule it
/// silences for the same apiVersion/kind). A removed apiVersion has no
/// schema, and `deprecations/removed-api` already says so, with the
/// replacement; `schema/missing-schema` would only repeat it.
const SUPERSEDES: &[(&str, &str)] = &[("deprecations/removed-api", "schema/missing-schema")];

/// Drops the findings `SUPERSEDES` names, before any filter (a baselined
/// `removed-api` still silences its `missing-schema`).
fn supersede(findings: &mut Vec<Finding>) {
    for (winner, loser) in SUPERSEDES {
        let gvks: std::collections::HashSet<String> = findings
            .iter()
            .filter(|f| &*f.rule == *winner)
            .filter_map(|f| f.resource.as_ref())
            .map(|r| format!("{}/{}", r.api_version, r.kind))
            .collect();
        if gvks.is_empty() {
            continue;
        }
        findings.retain(|f| {
            &*f.rule != *loser
                || !gvks.contains(f.key.strip_prefix("missing-schema:").unwrap_or(&f.key))
        });
    }
}

/// Moves exempted findings out of `findings` (into `exempted`); adds a
/// finding per expired entry on the config file's line.
pub fn apply_exemptions(outcome: &mut ScanOutcome, settings: &Settings) {
    if settings.exemptions.is_empty() {
        return;
    }
    let (kept, mut exempted, expired) =
        crate::exempt::partition(std::mem::take(&mut outcome.findings), &settings.exemptions);
    outcome.findings = kept;
    outcome.exempted.append(&mut exempted);
    if expired.is_empty() {
        return;
    }
    let path: std::sync::Arc<str> = settings
        .config_path
        .as_deref()
        .unwrap_or(".shiplint.yaml")
        .into();
    outcome.findings.extend(
        expired
            .into_iter()
            .map(|e| crate::exempt::expired_finding(e, &path)),
    );
    if !outcome
        .rules
        .iter()
        .any(|r| r.id == crate::exempt::EXPIRED.id)
    {
        outcome.rules.push(&crate::exempt::EXPIRED);
    }
    finalize(&mut outcome.findings, settings);
}

/// Applies the configured rule levels (dropping rules that are off), sorts,
/// removes exact duplicates and computes unique fingerprints. Every command
/// that reports findings ends with this.
pub fn finalize(findings: &mut Vec<Finding>, settings: &Settings) {
    Levels::new().apply(findings, settings);
    findings.sort_by(|a, b| {
        (&a.path, a.span.line, a.span.col, &a.rule, &a.message).cmp(&(
            &b.path,
            b.span.line,
            b.span.col,
            &b.rule,
            &b.message,
        ))
    });
    // History findings keep their keys until here: two values on one line
    // (a rotated key) are two findings.
    findings.dedup_by(|a, b| {
        a.path == b.path
            && a.span == b.span
            && a.rule == b.rule
            && a.message == b.message
            && a.key == b.key
    });
    let mut seen: HashMap<String, usize> = HashMap::new();
    for f in findings.iter_mut() {
        f.finish_fingerprint();
        let n = seen.entry(f.fingerprint.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            // Identical content twice in a file: keep fingerprints unique.
            f.fingerprint = format!("{}:{}", f.fingerprint, n);
        }
    }
}

/// History mode: inputs come oldest commit first, so the first finding with
/// a given identity — (rule, path, key: for secrets the value's hash), never
/// the line, since a rotated key often lands on the line of the old one — is
/// where the value was introduced; later copies go. The HEAD versions of the
/// paths (marked by `git::HEAD_MARK`) only tell whether each value is still
/// there: `inHead`, and the message says it with the commit.
fn first_introductions(findings: &mut Vec<Finding>) {
    let id = |f: &Finding| {
        if f.key.is_empty() {
            format!("{}\0{}\0{}", f.rule, f.path, f.message)
        } else {
            format!("{}\0{}\0{}\0{}", f.rule, f.path, f.key, f.message)
        }
    };
    let is_head = |f: &Finding| {
        f.properties
            .as_ref()
            .is_some_and(|p| p.contains_key(git::HEAD_MARK))
    };
    let at_head: HashSet<String> = findings.iter().filter(|f| is_head(f)).map(id).collect();
    let mut seen = HashSet::new();
    findings.retain_mut(|f| {
        if is_head(f) || !seen.insert(id(f)) {
            return false;
        }
        let still = at_head.contains(&id(f));
        let commit = f
            .properties
            .as_ref()
            .and_then(|p| p.get("commit"))
            .and_then(|c| c.as_str())
            .map(|c| c[..c.len().min(12)].to_string());
        let date = f
            .properties
            .as_ref()
            .and_then(|p| p.get("authorDate"))
            .and_then(|c| c.as_str())
            .map(|d| d[..d.len().min(10)].to_string());
        if let Some(commit) = commit {
            f.message = format!(
                "{} (introduced in commit {commit}{}; {})",
                f.message,
                date.map(|d| format!(" on {d}")).unwrap_or_default(),
                if still {
                    "still in HEAD"
                } else {
                    "no longer in HEAD"
                }
            );
        }
        f.set_property("inHead".into(), still.into());
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file deleted between discovery and read is an error for that file
    /// (a note in `scan_one`), not a panic.
    #[test]
    fn vanished_file_is_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("gone.yaml");
        std::fs::write(&disk, "a: 1\n").unwrap();
        let input = Input::File {
            disk: disk.clone(),
            display: "gone.yaml".into(),
            explicit: false,
        };
        std::fs::remove_file(&disk).unwrap();
        let err = read_input(&input, &Settings::default(), None)
            .err()
            .expect("a read error");
        assert!(
            format!("{err:#}").contains("cannot read gone.yaml"),
            "{err:#}"
        );
    }

    /// A file over the limit is skipped as large, never parsed.
    #[test]
    fn size_limit_holds_while_reading() {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("big.yaml");
        std::fs::write(&disk, "a: 1\n".repeat(100)).unwrap();
        let input = Input::File {
            disk,
            display: "big.yaml".into(),
            explicit: false,
        };
        let settings = Settings {
            max_file_size: 10,
            ..Settings::default()
        };
        assert!(matches!(
            read_input(&input, &settings, None),
            Ok(Err(FileKind::Large))
        ));
    }
}
