//! Kustomize overlays built in Rust (`build`: resources, bases, components,
//! namespace, prefixes, labels, annotations, images, replicas; `patch`:
//! strategic merge and JSON 6902; `generate`: ConfigMap and Secret
//! generators, builtin label/annotation transformers; `names`: references
//! kept in step with renamed objects), every node keeping the file and line
//! it came from (`tree`), so findings on what an overlay builds land on the
//! base line, the patch line or the kustomization line that made them.
//! What the Rust build does not do goes to `kubectl kustomize` /
//! `kustomize build` when one is on PATH (findings then land on the
//! kustomization file), else the overlay is skipped with a note.

pub mod build;
pub mod generate;
pub mod names;
pub mod patch;
pub mod tree;

use super::{inert_message, LineMap, Origin, Rendered, RenderedDoc, KUSTOMIZE_ERROR};
use crate::discover::Input;
use crate::finding::Finding;
use crate::manifest::{yaml, Limits};
use crate::source::Span;
use build::{Builder, Res, Stop};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// The most an external kustomize may print.
const MAX_OUTPUT: u64 = 32 * 1024 * 1024;
/// How long an external kustomize may run.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The kustomizations among the inputs that are not only a base or a
/// component of another one, and not a `kind: Component` unless there are
/// only components (canonical folders).
pub fn roots(inputs: &[Input], root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::File { disk, .. }
                if disk
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| build::NAMES.contains(&n)) =>
            {
                disk.parent()?.canonicalize().ok()
            }
            _ => None,
        })
        .filter(|d| d.starts_with(root))
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut used: HashSet<PathBuf> = HashSet::new();
    let mut edges: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
    let mut components: HashSet<PathBuf> = HashSet::new();
    let mut not_kustomize: HashSet<PathBuf> = HashSet::new();
    for d in &dirs {
        let Ok(Some(doc)) = read_kustomization(d, root) else {
            continue;
        };
        // A file named like a kustomization that is something else (a Flux
        // `Kustomization` object, say): not built.
        if doc
            .root
            .get("apiVersion")
            .and_then(yaml::Node::as_str)
            .is_some_and(|v| !v.starts_with("kustomize.config.k8s.io/"))
        {
            not_kustomize.insert(d.clone());
            continue;
        }
        if doc.root.get("kind").and_then(yaml::Node::as_str) == Some("Component") {
            // Built only into the overlays that include it (alone, its
            // patches have nothing to patch).
            components.insert(d.clone());
        }
        for key in ["resources", "bases", "components"] {
            for item in doc.root.get(key).map(yaml::Node::as_seq).unwrap_or(&[]) {
                let Some(rel) = item.as_str() else { continue };
                if build::is_remote(rel) {
                    continue;
                }
                if let Ok(target) = build::normalize(&d.join(rel.trim())).canonicalize() {
                    if target != *d {
                        edges.entry(d.clone()).or_default().push(target.clone());
                        used.insert(target);
                    }
                }
            }
        }
    }
    let mut roots: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| !used.contains(*d))
        .cloned()
        .collect();
    // Kustomizations that include each other (a cycle) are reached from no
    // root: each is built, so that the cycle is reported, not passed over.
    let mut reached: HashSet<PathBuf> = HashSet::new();
    let mut stack = roots.clone();
    while let Some(d) = stack.pop() {
        if reached.insert(d.clone()) {
            stack.extend(edges.get(&d).into_iter().flatten().cloned());
        }
    }
    roots.extend(dirs.into_iter().filter(|d| !reached.contains(d)));
    roots.retain(|d| !not_kustomize.contains(d));
    // A component scanned (or rendered) on its own is built on its own.
    if roots.iter().any(|d| !components.contains(d)) {
        roots.retain(|d| !components.contains(d));
    }
    roots.sort();
    roots
}

/// The `kubectl` or `kustomize` to fall back to: `SHIPLINT_KUSTOMIZE` when
/// set (empty: none), else `kustomize` then `kubectl` on PATH.
pub fn find_external() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("SHIPLINT_KUSTOMIZE") {
        let p = PathBuf::from(h);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    ["kustomize", "kubectl"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| is_executable(p))
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Builds every root kustomization among the inputs (working tree only):
/// nothing outside `root` is read (`render::root_for`); paths are shown
/// relative to `base`, as discovery shows the scanned files.
/// `scanned_whole(path)`: the scan checks that file as it is, as a whole
/// resource; an object an overlay leaves as that file holds it is then not
/// printed again (its findings would be the file's own).
pub fn build_all(
    inputs: &[Input],
    root: &Path,
    base: &Path,
    scanned_whole: &(dyn Fn(&str) -> bool + Sync),
) -> Rendered {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    let dirs = roots(inputs, &root);
    if dirs.is_empty() {
        return Rendered::default();
    }
    let external = find_external();
    let cache = Arc::new(build::ObjectCache::default());
    let results: Vec<Rendered> = {
        use rayon::prelude::*;
        dirs.par_iter()
            .map(|d| build_with(d, &root, &base, external.as_deref(), &cache, scanned_whole))
            .collect()
    };
    let mut out = Rendered::default();
    for r in results {
        out.docs.extend(r.docs);
        out.findings.extend(r.findings);
        out.notes.extend(r.notes);
    }
    // The builders are gone: the cache is this function's alone.
    if let Ok(cache) = Arc::try_unwrap(cache) {
        out.parsed = cache.into_parsed();
    }
    out
}

fn display(p: &Path, root: &Path) -> String {
    crate::discover::display_path(p, root)
}

/// Builds one overlay: in Rust, or with the external tool for what the
/// Rust build does not do.
pub fn build_one(dir: &Path, root: &Path, base: &Path, external: Option<&Path>) -> Rendered {
    build_with(dir, root, base, external, &Arc::default(), &|_| false)
}

/// `build_one`, with the run's cache of resource files' objects.
fn build_with(
    dir: &Path,
    root: &Path,
    base: &Path,
    external: Option<&Path>,
    cache: &Arc<build::ObjectCache>,
    scanned_whole: &(dyn Fn(&str) -> bool + Sync),
) -> Rendered {
    let mut out = Rendered::default();
    let dir_display = display(dir, base);
    let mut b = Builder::new(root.to_path_buf(), base.to_path_buf()).with_cache(cache.clone());
    let mut acc: Vec<Res> = Vec::new();
    let result = b.build(dir, &mut acc);
    let Some(file) = build::kustomization_file(dir) else {
        return out;
    };
    let file_display: Arc<str> = display(&file, base).into();
    let text: Arc<str> = b
        .texts
        .get(&file_display)
        .cloned()
        .unwrap_or_else(|| Arc::from(""));
    let origin = |lines: Option<Arc<LineMap>>| {
        Arc::new(Origin {
            chart: dir_display.clone(),
            values_label: "kustomize".into(),
            template: file_display.to_string(),
            template_text: text.clone(),
            values: Arc::new(Vec::new()),
            lines,
        })
    };
    out.notes.append(&mut b.notes);
    match result {
        Ok(()) => {
            out.findings.append(&mut b.findings);
            generate::add_hashes(&mut acc);
            names::fix_name_references(&mut acc);
            names::sort(&mut acc);
            let texts = Arc::new(std::mem::take(&mut b.texts));
            for r in acc
                .iter()
                .filter(|r| !r.unchanged() || !scanned_whole(&r.obj.pos.file))
            {
                let mut e = tree::Emitter::default();
                e.object(&r.obj);
                out.docs.push(RenderedDoc {
                    text: e.out,
                    origin: origin(Some(Arc::new(LineMap {
                        lines: e.lines,
                        texts: texts.clone(),
                    }))),
                });
            }
        }
        Err(Stop::Fail { message, pos }) => {
            // A failure in a base reads the same from every overlay that
            // uses it (one finding, however many overlays).
            let message = if pos.file == file_display {
                format!(
                    "kustomization {dir_display} does not build: {}",
                    inert_message(&message, 400)
                )
            } else {
                format!(
                    "kustomization does not build: {}",
                    inert_message(&message, 400)
                )
            };
            let line_text = b
                .texts
                .get(&pos.file)
                .and_then(|t| t.split('\n').nth(pos.line.saturating_sub(1)))
                .unwrap_or("");
            let indent = line_text.len() - line_text.trim_start().len();
            out.findings.push(
                Finding::from_rule(
                    &KUSTOMIZE_ERROR,
                    &pos.file,
                    Span {
                        line: pos.line,
                        col: indent + 1,
                        end_line: pos.line,
                        end_col: line_text.trim_end().chars().count().max(indent) + 1,
                    },
                    message.clone(),
                )
                .with_key(message),
            );
        }
        Err(Stop::Unsupported(what)) => {
            let what = what.join(", ");
            // kubectl would fetch what is not here: never handed over then.
            if let Some(remote) = not_local(dir, root) {
                out.notes.push(format!(
                    "kustomization {dir_display} not built: it uses what shiplint's kustomize build does not do ({what}), and {remote}: nothing is fetched while scanning"
                ));
                return out;
            }
            let Some(tool) = external else {
                out.notes.push(format!(
                    "kustomization {dir_display} not built: it uses what shiplint's kustomize build does not do ({what}) and there is no kustomize or kubectl on PATH"
                ));
                return out;
            };
            match run_external(tool, dir) {
                Ok(stream) => {
                    out.notes.push(format!(
                        "kustomization {dir_display} built with {} (it uses what shiplint's kustomize build does not do: {what}); its findings are reported on {file_display}",
                        tool.file_name().and_then(|n| n.to_str()).unwrap_or("kustomize")
                    ));
                    for doc in split_docs(&stream) {
                        let n = doc.split('\n').count();
                        let pos = tree::Pos {
                            file: file_display.clone(),
                            line: 1,
                        };
                        let mut texts = HashMap::new();
                        texts.insert(file_display.clone(), text.clone());
                        out.docs.push(RenderedDoc {
                            text: doc,
                            origin: origin(Some(Arc::new(LineMap {
                                lines: vec![pos; n],
                                texts: Arc::new(texts),
                            }))),
                        });
                    }
                }
                Err(e) => out.findings.push(
                    Finding::from_rule(
                        &KUSTOMIZE_ERROR,
                        &file_display,
                        Span {
                            line: 1,
                            col: 1,
                            end_line: 1,
                            end_col: 1,
                        },
                        format!(
                            "kustomization {dir_display} does not build: {}",
                            inert_message(&relative_to(&format!("{e:#}"), base), 400)
                        ),
                    )
                    .with_key(format!("kustomize-error:{dir_display}")),
                ),
            }
        }
    }
    out
}

/// A kustomization file that resolves outside the repository.
struct LinksOut;

/// The first document of `dir`'s kustomization: None when there is none or
/// it cannot be read; never read when its file resolves outside `root`.
fn read_kustomization(dir: &Path, root: &Path) -> Result<Option<yaml::Document>, LinksOut> {
    let Some(file) = build::kustomization_file(dir) else {
        return Ok(None);
    };
    if !file.canonicalize().is_ok_and(|f| f.starts_with(root)) {
        return Err(LinksOut);
    }
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(None);
    };
    Ok(yaml::parse_stream(&text, Limits::default())
        .documents
        .into_iter()
        .next())
}

/// Why the kustomization in `dir`, or one it includes, may make kustomize
/// reach the network or leave the repository: a remote entry, or an entry
/// that is not a file or folder here (kustomize then tries it as a URL).
fn not_local(dir: &Path, root: &Path) -> Option<String> {
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    let mut seen: HashSet<PathBuf> = HashSet::new();
    while let Some((d, depth)) = stack.pop() {
        if depth > 40 || !seen.insert(d.clone()) {
            continue;
        }
        let doc = match read_kustomization(&d, root) {
            Ok(Some(doc)) => doc,
            Ok(None) => continue,
            Err(LinksOut) => {
                return Some("a kustomization file links out of the repository".into())
            }
        };
        for key in ["resources", "bases", "components"] {
            for item in doc.root.get(key).map(yaml::Node::as_seq).unwrap_or(&[]) {
                let Some(entry) = item.as_str().map(str::trim) else {
                    continue;
                };
                let shown = inert_message(entry, 120);
                if build::is_remote(entry) {
                    return Some(format!("{shown} is remote"));
                }
                let Ok(target) = build::normalize(&d.join(entry)).canonicalize() else {
                    return Some(format!("{shown} is not in the repository"));
                };
                if !target.starts_with(root) {
                    return Some(format!("{shown} is outside the repository"));
                }
                if target.is_dir() {
                    stack.push((target, depth + 1));
                }
            }
        }
    }
    None
}

/// The documents of a YAML stream (split at `---` lines).
pub fn split_docs(stream: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in stream.split_inclusive('\n') {
        if line.trim_end() == "---" {
            if !cur.trim().is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur.clear();
        } else {
            cur.push_str(line);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// `kubectl kustomize DIR` or `kustomize build DIR`, with a clean
/// environment (no proxy, no credentials), a timeout and a cap on output.
/// Kustomize's own load restrictor holds; remote bases never reach it (the
/// Rust build refuses them first).
pub fn run_external(tool: &Path, dir: &Path) -> anyhow::Result<String> {
    use anyhow::Context as _;
    let home = std::env::temp_dir().join("shiplint-kustomize-home");
    std::fs::create_dir_all(&home).context("creating kustomize's home")?;
    let mut cmd = Command::new(tool);
    if tool.file_name().is_some_and(|n| n == "kustomize") {
        cmd.arg("build");
    } else {
        cmd.arg("kustomize");
    }
    cmd.arg(dir)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("KUBECONFIG", home.join("none"));
    let super::tool::Run {
        status,
        stdout: out,
        stderr: err,
    } = super::tool::run(&mut cmd, "kustomize", TIMEOUT, MAX_OUTPUT, 64 * 1024)?;
    let Some(status) = status else {
        anyhow::bail!("timed out after {}s", TIMEOUT.as_secs());
    };
    if out.len() as u64 > MAX_OUTPUT {
        anyhow::bail!("printed more than {MAX_OUTPUT} bytes");
    }
    if !status.success() {
        anyhow::bail!("{}", external_error(&String::from_utf8_lossy(&err)));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `msg` with the absolute paths under `base` written as display paths
/// (kustomize names every file by its absolute path).
fn relative_to(msg: &str, base: &Path) -> String {
    match base.to_str() {
        Some(b) if !b.is_empty() && b != "/" => {
            msg.replace(&format!("{}/", b.trim_end_matches('/')), "")
        }
        _ => msg.to_string(),
    }
}

/// What a failed kustomize printed, told as its cause: kustomize's
/// deprecation warnings go (they are not why it failed), so does kubectl's
/// log framing, and a failure deep in a base reads as that base's error
/// followed by the chain of resources that led there, not as kustomize's
/// nested `accumulation err='…'` text, whose cause comes last and is cut.
fn external_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(strip_klog_header)
        .filter(|l| !l.trim_start().starts_with("# Warning:"))
        .collect();
    let msg = lines.join("\n");
    let msg = msg.trim().trim_start_matches("error: ");
    let msg = match msg.split_once("\"command failed\" err=\"") {
        Some((_, inner)) => inner
            .strip_suffix('"')
            .unwrap_or(inner)
            .replace("\\\"", "\""),
        None => msg.to_string(),
    };
    let msg = said_missing(&msg);
    const FROM: &str = "accumulating resources from '";
    let via: Vec<&str> = msg
        .match_indices(FROM)
        .filter_map(|(i, _)| msg[i + FROM.len()..].split('\'').next())
        .collect();
    if via.is_empty() {
        return msg;
    }
    // The innermost failure: after the last step into a resource.
    let recursed = msg.rfind("recursed accumulation of path '").and_then(|i| {
        let rest = &msg[i..];
        rest.find("': ").map(|j| i + j + 3)
    });
    let not_file = msg
        .rfind("must resolve to a file': ")
        .map(|i| i + "must resolve to a file': ".len());
    let cause = match recursed.max(not_file) {
        Some(start) => &msg[start..],
        None => return msg,
    };
    format!("{cause} (through {})", via.join(" → "))
}

/// Go's way of saying a file is missing (`evalsymlink failure on 'P' :
/// lstat P: no such file or directory`), said as the Rust build says it.
fn said_missing(msg: &str) -> String {
    const START: &str = "evalsymlink failure on '";
    const END: &str = ": no such file or directory";
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find(START) {
        let after = &rest[i + START.len()..];
        let Some((path, tail)) = after.split_once('\'') else {
            break;
        };
        // `lstat` names the first missing part of the path (a folder, say).
        let missing = tail.strip_prefix(" : lstat ").and_then(|t| {
            let (q, tail) = t.split_once(END)?;
            (!q.contains(": ") && !q.contains('\'')).then_some(tail)
        });
        let Some(tail) = missing else {
            out.push_str(&rest[..i + START.len()]);
            rest = after;
            continue;
        };
        out.push_str(&rest[..i]);
        out.push_str(&format!("\"{path}\" does not exist"));
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// A log line without kubectl's klog header (`E1129 13:12:53.281439 11817
/// run.go:72] `): its time and process id would make the same error read
/// differently in every run (and move its fingerprint).
fn strip_klog_header(line: &str) -> &str {
    let b = line.as_bytes();
    let header = b.len() > 22
        && matches!(b[0], b'I' | b'W' | b'E' | b'F')
        && b[1..5].iter().all(u8::is_ascii_digit)
        && b[5] == b' '
        && b[8] == b':'
        && b[11] == b':';
    match (header, line.find("] ")) {
        (true, Some(i)) => &line[i + 2..],
        _ => line,
    }
}

/// What `shiplint render` prints for the overlays under the inputs: one
/// stream with `# Source: <kustomization folder>` before each object.
pub fn stream(r: &Rendered) -> String {
    let mut out = String::new();
    for d in &r.docs {
        if d.origin.values_label != "kustomize" {
            continue;
        }
        out.push_str("---\n# Source: ");
        out.push_str(&d.origin.chart);
        out.push('\n');
        out.push_str(&d.text);
        if !d.text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klog_headers_are_dropped() {
        assert_eq!(
            strip_klog_header(
                "E1129 13:12:53.281439 11817 run.go:72] \"command failed\" err=\"x\""
            ),
            "\"command failed\" err=\"x\""
        );
        assert_eq!(
            strip_klog_header("error: no such file"),
            "error: no such file"
        );
    }

    /// kubectl's stderr for an overlay whose base's base has no
    /// kustomization (real text, kubeflow's profiles/pss, paths shortened).
    #[test]
    fn a_failure_deep_in_a_base_reads_as_its_cause() {
        let stderr = "# Warning: 'commonLabels' is deprecated. Please use 'labels' instead. Run 'kustomize edit fix' to update your Kustomization automatically.\n\
            # Warning: 'vars' is deprecated. Please use 'replacements' instead. [EXPERIMENTAL] Run 'kustomize edit fix' to update your Kustomization automatically.\n\
            E1129 14:35:16.200496   20273 run.go:72] \"command failed\" err=\"accumulating resources: accumulation err='accumulating resources from '../upstream/overlays/kubeflow': '/r/upstream/overlays/kubeflow' must resolve to a file': recursed accumulation of path '/r/upstream/overlays/kubeflow': accumulating resources: accumulation err='accumulating resources from '../../base': '/r/upstream/base' must resolve to a file': recursed accumulation of path '/r/upstream/base': accumulating resources: accumulation err='accumulating resources from '../default': '/r/upstream/default' must resolve to a file': couldn't make target for path '/r/upstream/default': unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '/r/upstream/default'\"\n";
        assert_eq!(
            external_error(stderr),
            "couldn't make target for path '/r/upstream/default': unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '/r/upstream/default' (through ../upstream/overlays/kubeflow → ../../base → ../default)"
        );
        // A base whose own file is missing: the last step's error.
        let stderr = "E1129 14:35:16.200496   20273 run.go:72] \"command failed\" err=\"accumulating resources: accumulation err='accumulating resources from '../../base': '/r/base' must resolve to a file': recursed accumulation of path '/r/base': loading KV pairs: file sources: [oauth2_proxy.cfg]: evalsymlink failure on '/r/base/oauth2_proxy.cfg' : lstat /r/base/oauth2_proxy.cfg: no such file or directory\"";
        assert_eq!(
            external_error(stderr),
            "loading KV pairs: file sources: [oauth2_proxy.cfg]: \"/r/base/oauth2_proxy.cfg\" does not exist (through ../../base)"
        );
        // A missing folder on the way to the file.
        assert_eq!(
            said_missing("loading: evalsymlink failure on '/r/cfg/kind.yaml' : lstat /r/cfg: no such file or directory"),
            "loading: \"/r/cfg/kind.yaml\" does not exist"
        );
        // No chain: the message as kustomize gave it, unframed.
        assert_eq!(
            external_error("E1129 14:35:16.200496   20273 run.go:72] \"command failed\" err=\"loading KV pairs: env source files: [params.env]: no such file\""),
            "loading KV pairs: env source files: [params.env]: no such file"
        );
        assert_eq!(external_error("error: no such file\n"), "no such file");
    }

    /// Every printed line knows where it came from: the namespace line of
    /// the overlay, the newTag line, the base line.
    #[test]
    fn each_built_line_has_its_origin() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("base")).unwrap();
        std::fs::create_dir_all(root.join("prod")).unwrap();
        std::fs::write(
            root.join("base/kustomization.yaml"),
            "resources:\n  - d.yaml\n",
        )
        .unwrap();
        std::fs::write(
            root.join("base/d.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.25\n",
        )
        .unwrap();
        std::fs::write(
            root.join("prod/kustomization.yaml"),
            "namespace: prod\nresources:\n  - ../base\nimages:\n  - name: nginx\n    newTag: latest\n",
        )
        .unwrap();
        let r = build_one(&root.join("prod"), &root, &root, None);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        let doc = &r.docs[0];
        let map = doc.origin.lines.as_ref().unwrap();
        let origin = |text: &str| {
            let i = doc
                .text
                .lines()
                .position(|l| l == text)
                .unwrap_or_else(|| panic!("{text:?} not in\n{}", doc.text));
            (map.lines[i].file.to_string(), map.lines[i].line)
        };
        assert_eq!(
            origin("  namespace: prod"),
            ("prod/kustomization.yaml".into(), 1)
        );
        assert_eq!(
            origin("        image: nginx:latest"),
            ("prod/kustomization.yaml".into(), 6)
        );
        assert_eq!(origin("  replicas: 1"), ("base/d.yaml".into(), 6));
        assert_eq!(origin("      - name: app"), ("base/d.yaml".into(), 10));
        assert_eq!(doc.origin.template, "prod/kustomization.yaml");
    }
}
