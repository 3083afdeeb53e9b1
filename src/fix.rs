//! Fixes where the change is mechanical and safe, as whole-line edits
//! (`Finding::fix`): reporters offer them (SARIF `fixes`, GitHub
//! suggestions) and `shiplint fix` applies them.
//!
//! - `deprecations/*`: the apiVersion moves to its replacement when the
//!   table says no field changes (`fields_change: false`);
//! - `practices/image-pull-policy`: `imagePullPolicy: Always` under `image:`;
//! - `practices/automount-service-account-token`:
//!   `automountServiceAccountToken: false` as the pod spec's first key;
//! - `schema/duplicate-key`: the second copy is deleted when both copies are
//!   the same one-line `key: value` (which one wins then does not matter).
//!
//! A fix is only made from a block-style line it fully understands (no flow
//! mappings, block scalars, anchors, multi-line values, tabs): anything else
//! gets no fix. Every edit is line-level, so comments and formatting of the
//! rest of the file stay byte for byte.

use crate::finding::{Finding, Fix};
use crate::scan::ScanOutcome;
use anyhow::{bail, Context as _, Result};
use regex::Regex;
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

// The ids of the rule items, as constants to match on.
const PULL_POLICY: &str = crate::packs::practices::PULL_POLICY.id;
const AUTOMOUNT: &str = crate::packs::practices::AUTOMOUNT.id;
const DUPLICATE_KEY: &str = crate::packs::schema::DUPLICATE_KEY.id;
const REMOVED: &str = crate::packs::deprecations::REMOVED.id;
const DEPRECATED: &str = crate::packs::deprecations::DEPRECATED.id;

/// The rules `fix` can fix.
pub const FIXABLE: [&str; 5] = [REMOVED, DEPRECATED, PULL_POLICY, AUTOMOUNT, DUPLICATE_KEY];

pub fn fixable(rule: &str) -> bool {
    FIXABLE.contains(&rule)
}

/// A line without its end, and the end (`\n`, `\r\n` or nothing).
fn split_eol(line: &str) -> (&str, &str) {
    if let Some(l) = line.strip_suffix("\r\n") {
        (l, "\r\n")
    } else if let Some(l) = line.strip_suffix('\n') {
        (l, "\n")
    } else {
        (line, "")
    }
}

fn indent_of(s: &str) -> usize {
    s.len() - s.trim_start_matches(' ').len()
}

/// Blank or a comment only.
fn insignificant(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t.starts_with('#')
}

/// The indentation of the next line that holds YAML after `idx` (0-based),
/// `None` at the end of the document.
fn next_indent(lines: &[&str], idx: usize) -> Option<usize> {
    lines[idx + 1..]
        .iter()
        .map(|l| split_eol(l).0)
        .find(|l| !insignificant(l))
        .filter(|l| !l.starts_with("---") && !l.starts_with("..."))
        .map(indent_of)
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| crate::text::constant_regex(pattern))
}

/// `[indent][- ]key: value  # comment` of a block mapping line: (column of
/// the key, key, value without a trailing comment).
fn key_line(line: &str) -> Option<(usize, &str, &str)> {
    static KEY: OnceLock<Regex> = OnceLock::new();
    let c = re(
        &KEY,
        r#"^( *(?:- +)?)([A-Za-z_][A-Za-z0-9_.\-/]*|"[^"\\]*"|'[^']*'):(?: +(.*?))? *$"#,
    )
    .captures(line)?;
    let col = c.get(1)?.as_str().len();
    let key = c.get(2)?.as_str();
    let mut value = c.get(3).map_or("", |m| m.as_str());
    // A comment: ` #` outside quotes (values we accept hold no quotes with
    // ` #` inside them, see `plain_scalar`).
    if let Some(i) = value.find(" #") {
        value = value[..i].trim_end();
    } else if value.starts_with('#') {
        value = "";
    }
    Some((col, key, value))
}

/// A one-line scalar a line edit can move around safely.
fn plain_scalar(v: &str) -> bool {
    !v.is_empty()
        && !v.starts_with(['|', '>', '&', '*', '!', '{', '[', '%', '@', '`'])
        && !v.contains('\t')
        && (!v.starts_with(['"', '\''])
            || (v.len() >= 2 && v.ends_with(&v[..1]) && !v[1..v.len() - 1].contains(&v[..1])))
}

fn unquote(v: &str) -> &str {
    if v.len() >= 2 && (v.starts_with('"') || v.starts_with('\'')) {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// The fix for a finding, from the lines of its file (with their ends).
pub fn compute(f: &Finding, lines: &[&str]) -> Option<Fix> {
    let idx = f.span.line.checked_sub(1)?;
    let raw = *lines.get(idx)?;
    let (line, eol) = split_eol(raw);
    if line.contains('\t') {
        return None;
    }
    let nl = if eol.is_empty() { "\n" } else { eol };
    let replace = |description: String, text: String| {
        Some(Fix {
            description,
            line: f.span.line,
            end_line: f.span.line,
            text,
        })
    };
    match &*f.rule {
        REMOVED | DEPRECATED => {
            if f.property("template").and_then(|v| v.as_bool()) == Some(true) {
                return None;
            }
            let r = f.resource.as_ref()?;
            let d = crate::k8s::deprecations::lookup(&r.api_version, &r.kind)?;
            if d.fields_change || d.replacement.is_empty() {
                return None;
            }
            let (col, key, value) = key_line(line)?;
            if key != "apiVersion" || !plain_scalar(value) || unquote(value) != r.api_version {
                return None;
            }
            // Replace the value where it stands; quotes and comment stay.
            let at = col + key.len() + 1 + line[col + key.len() + 1..].find(value)?;
            let quoted = value.len() - unquote(value).len();
            let start = at + quoted / 2;
            let new = format!(
                "{}{}{}{eol}",
                &line[..start],
                d.replacement,
                &line[start + r.api_version.len()..]
            );
            replace(
                format!("apiVersion: {} → {}", r.api_version, d.replacement),
                new,
            )
        }
        PULL_POLICY => {
            let (col, key, value) = key_line(line)?;
            if key != "image" || !plain_scalar(value) {
                return None;
            }
            // No continuation line of a multi-line image value.
            if next_indent(lines, idx).is_some_and(|n| n > col) {
                return None;
            }
            replace(
                "add imagePullPolicy: Always".into(),
                format!("{line}{nl}{}imagePullPolicy: Always{eol}", " ".repeat(col)),
            )
        }
        AUTOMOUNT => {
            let (col, key, value) = key_line(line)?;
            if key != "spec" || !value.is_empty() {
                return None;
            }
            let child = next_indent(lines, idx).filter(|&n| n > col)?;
            let first = lines[idx + 1..]
                .iter()
                .map(|l| split_eol(l).0)
                .find(|l| !insignificant(l))?;
            if first.trim_start().starts_with("- ") || first.contains('\t') {
                return None;
            }
            replace(
                "add automountServiceAccountToken: false".into(),
                format!(
                    "{line}{nl}{}automountServiceAccountToken: false{eol}",
                    " ".repeat(child)
                ),
            )
        }
        DUPLICATE_KEY => {
            static FIRST: OnceLock<Regex> = OnceLock::new();
            let first: usize = re(&FIRST, r"\(first on line (\d+)\)")
                .captures(&f.message)?
                .get(1)?
                .as_str()
                .parse()
                .ok()?;
            let (col, key, value) = key_line(line)?;
            if line[..col].contains('-') || !plain_scalar(value) {
                return None;
            }
            let other = split_eol(lines.get(first.checked_sub(1)?)?).0;
            let (col1, key1, value1) = key_line(other)?;
            if key1 != key || value1 != value || col1 != col || !plain_scalar(value1) {
                return None;
            }
            if next_indent(lines, idx).is_some_and(|n| n > col) {
                return None;
            }
            replace(format!("delete the second `{key}: {value}`"), String::new())
        }
        _ => None,
    }
}

/// Attaches fixes to the findings of files on disk (paths relative to
/// `base`). Each file with a fixable finding is read once.
pub fn attach(outcome: &mut ScanOutcome, base: &Path) {
    let mut by_path: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, f) in outcome.findings.iter().enumerate() {
        if fixable(&f.rule) && f.fix.is_none() {
            by_path.entry(f.path.to_string()).or_default().push(i);
        }
    }
    for (path, idxs) in by_path {
        let full = base.join(&path);
        let Ok(meta) = std::fs::symlink_metadata(&full) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&full) else {
            continue;
        };
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for i in idxs {
            let f = &mut outcome.findings[i];
            f.fix = compute(f, &lines).map(Box::new);
        }
    }
}

/// Applies non-overlapping fixes in line order; a fix that overlaps one
/// already taken is left for the next run. Returns the new text and how
/// many fixes were applied and left.
pub fn apply(text: &str, fixes: &[&Fix]) -> (String, usize, usize) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut sorted: Vec<&Fix> = fixes.to_vec();
    sorted.sort_by_key(|f| (f.line, f.end_line));
    sorted.dedup_by(|a, b| a == b);
    let mut out = String::with_capacity(text.len() + 64);
    let mut next = 1; // next line of the original to copy
    let (mut applied, mut left) = (0, 0);
    for f in sorted {
        if f.line < next || f.line == 0 || f.end_line < f.line || f.end_line > lines.len() {
            left += 1;
            continue;
        }
        for l in &lines[next - 1..f.line - 1] {
            out.push_str(l);
        }
        out.push_str(&f.text);
        next = f.end_line + 1;
        applied += 1;
    }
    for l in lines.iter().skip(next - 1) {
        out.push_str(l);
    }
    (out, applied, left)
}

/// What `shiplint fix` did.
#[derive(Debug, Default)]
pub struct FixReport {
    pub files: usize,
    pub applied: usize,
    pub left: usize,
    pub diff: String,
    /// Files not touched, and why (a symbolic link, outside the repository).
    pub refused: Vec<String>,
}

/// The repository a path is in: the git work tree around `base`, else
/// `base` itself.
pub fn repository_root(base: &Path) -> Result<PathBuf> {
    let root = match git2::Repository::discover(base) {
        Ok(repo) => repo
            .workdir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| base.to_path_buf()),
        Err(_) => base.to_path_buf(),
    };
    root.canonicalize()
        .with_context(|| format!("resolving {}", root.display()))
}

/// The file a finding's path names, if it may be written: relative, no
/// `..`, inside `root`, and neither it nor a folder between `root` and it
/// a symbolic link.
pub fn writable_target(base: &Path, root: &Path, path: &str) -> Result<PathBuf> {
    let rel = Path::new(path);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
    {
        bail!("{path}: not a path inside the repository");
    }
    let full: PathBuf = base
        .join(rel)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    let inside = full
        .strip_prefix(root)
        .with_context(|| format!("{path}: outside the repository ({})", root.display()))?;
    let mut at = root.to_path_buf();
    for c in inside.components() {
        at.push(c);
        let meta =
            std::fs::symlink_metadata(&at).with_context(|| format!("reading {}", at.display()))?;
        if meta.file_type().is_symlink() {
            bail!(
                "{path}: {} is a symbolic link; not writing through it",
                at.display()
            );
        }
    }
    if !std::fs::metadata(&full)
        .map(|m| m.is_file())
        .unwrap_or(false)
    {
        bail!("{path}: not a regular file");
    }
    Ok(full)
}

/// Writes `text` over `path` through a new file in the same folder and a
/// rename (keeping the permissions), refusing if the file changed since
/// it was read.
fn replace_file(path: &Path, expected: &str, text: &str) -> Result<()> {
    let now =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if now != expected {
        bail!(
            "{} changed while shiplint fixed it; run again",
            path.display()
        );
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.shiplint-fix.{}", std::process::id()));
    let perms = std::fs::metadata(path)?.permissions();
    {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::set_permissions(&tmp, perms)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("replacing {}", path.display()));
    }
    Ok(())
}

/// Applies (with `write`) or previews the fixes of a scan's findings: a
/// unified diff per changed file, in path order.
pub fn run(outcome: &ScanOutcome, base: &Path, write: bool) -> Result<FixReport> {
    let root = repository_root(base)?;
    let base = base
        .canonicalize()
        .with_context(|| format!("resolving {}", base.display()))?;
    let mut by_path: BTreeMap<&str, Vec<&Fix>> = BTreeMap::new();
    for f in &outcome.findings {
        if let Some(fix) = &f.fix {
            by_path.entry(&f.path).or_default().push(fix);
        }
    }
    let mut report = FixReport::default();
    for (path, fixes) in by_path {
        let target = match writable_target(&base, &root, path) {
            Ok(t) => t,
            Err(e) => {
                report.refused.push(format!("{e:#}"));
                continue;
            }
        };
        let old = std::fs::read_to_string(&target)
            .with_context(|| format!("reading {}", target.display()))?;
        let (new, applied, left) = apply(&old, &fixes);
        report.applied += applied;
        report.left += left;
        if new == old {
            continue;
        }
        report.files += 1;
        let shown = path.trim_start_matches("./");
        report.diff.push_str(
            &similar::TextDiff::from_lines(&old, &new)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{shown}"), &format!("b/{shown}"))
                .to_string(),
        );
        if write {
            replace_file(&target, &old, &new)?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::source::Span;
    use std::sync::Arc;

    fn finding(rule: &str, line: usize) -> Finding {
        let p: Arc<str> = "a.yaml".into();
        Finding::new(rule, Severity::Warning, &p, Span::point(line, 1), "m")
    }

    fn fixed(f: &Finding, text: &str) -> Option<String> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let fix = compute(f, &lines)?;
        Some(apply(text, &[&fix]).0)
    }

    #[test]
    fn image_pull_policy_goes_under_image() {
        let text = "spec:\n  containers:\n  - name: a\n    image: nginx:stable # pinned later\n  - image: 'nginx:main'\n    name: b\n";
        let f = finding(PULL_POLICY, 4);
        assert_eq!(
            fixed(&f, text).unwrap(),
            "spec:\n  containers:\n  - name: a\n    image: nginx:stable # pinned later\n    imagePullPolicy: Always\n  - image: 'nginx:main'\n    name: b\n"
        );
        let f = finding(PULL_POLICY, 5);
        assert!(fixed(&f, text)
            .unwrap()
            .contains("  - image: 'nginx:main'\n    imagePullPolicy: Always\n    name: b\n"));
        // Flow style and folded values are left alone.
        assert!(fixed(&finding(PULL_POLICY, 1), "- {image: a:b}\n").is_none());
        assert!(fixed(&finding(PULL_POLICY, 1), "image: >\n  a:b\n").is_none());
    }

    #[test]
    fn automount_is_the_first_key_of_the_spec() {
        let text = "kind: Pod\nspec:\n  # the app\n  containers: []\n";
        assert_eq!(
            fixed(&finding(AUTOMOUNT, 2), text).unwrap(),
            "kind: Pod\nspec:\n  automountServiceAccountToken: false\n  # the app\n  containers: []\n"
        );
        assert!(fixed(
            &finding(AUTOMOUNT, 2),
            "kind: Pod\nspec: {containers: []}\n"
        )
        .is_none());
    }

    #[test]
    fn duplicate_keys_go_only_when_equal() {
        let f = |line| {
            let mut f = finding(DUPLICATE_KEY, line);
            f.message = "key 'a' appears twice in one mapping (first on line 1); …".into();
            f
        };
        assert_eq!(
            fixed(&f(3), "a: 1\nb: 2\na: 1 # again\n").unwrap(),
            "a: 1\nb: 2\n"
        );
        assert!(fixed(&f(3), "a: 1\nb: 2\na: 2\n").is_none());
        assert!(fixed(&f(3), "a: 1\nb: 2\na:\n  c: 1\n").is_none());
    }

    #[test]
    fn overlapping_fixes_wait_for_the_next_run() {
        let a = Fix {
            description: String::new(),
            line: 1,
            end_line: 1,
            text: "x\n".into(),
        };
        let b = Fix {
            text: "y\n".into(),
            ..a.clone()
        };
        assert_eq!(apply("1\n2\n", &[&a, &b]), ("x\n2\n".into(), 1, 1));
        assert_eq!(apply("1\n2", &[]), ("1\n2".into(), 0, 0));
    }
}
