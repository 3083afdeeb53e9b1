//! Git sources for a scan (libgit2 through `git2`): the staged content of the
//! index (pre-commit), the lines added since a merge base (pull requests) and
//! the history (each commit's added lines). Every mode yields in-memory
//! inputs that go through the same pipeline and packs as files on disk.
//!
//! One model for every mode: the *reported set* is what changed (staged
//! entries or the files pre-commit names; lines a pull request added, renames
//! followed; each commit's added lines), and the *context* is the rest of the
//! tree at that revision (the index, HEAD), read only for run-wide facts
//! (CRDs, Services, kustomizations), like another `--shard`'s files.
//! Excludes come from the run's config and the revision's `.shiplint.yaml`.

use crate::discover::{display_path, first_few, Discovered, Input};
use crate::source::has_manifest_extension;
use crate::text::plural;
use anyhow::{anyhow, bail, Context as _, Result};
use git2::{Delta, Diff, DiffFindOptions, DiffOptions, Oid, Patch, Repository, Sort, Tree};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::settings::GitMode;

impl GitMode {
    fn flag(&self) -> &'static str {
        match self {
            GitMode::WorkingTree => "a working-tree scan",
            GitMode::Staged => "--staged",
            GitMode::DiffBase(_) => "--diff-base",
            GitMode::History { .. } => "--history",
        }
    }
}

/// Opens the repository holding `start`; not being in one is a clear error.
fn open(start: &Path, mode: &GitMode) -> Result<(Repository, PathBuf)> {
    let repo = Repository::discover(start).map_err(|e| {
        anyhow!(
            "{} needs a git repository, but {} is not inside one ({})",
            mode.flag(),
            start.display(),
            e.message()
        )
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| anyhow!("{} needs a repository with a working tree", mode.flag()))?;
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    Ok((repo, workdir))
}

/// Keeps repository paths under one of the scanned paths; with `--staged`,
/// the files named on the command line (what pre-commit passes) are the
/// reported set.
struct Scope {
    roots: Vec<PathBuf>,
    /// Named files, relative to the working tree.
    files: BTreeSet<PathBuf>,
    workdir: PathBuf,
    base: PathBuf,
}

impl Scope {
    fn includes(&self, rel: &Path) -> bool {
        let abs = self.workdir.join(rel);
        self.roots.iter().any(|r| abs.starts_with(r)) || self.files.contains(rel)
    }

    fn display(&self, rel: &Path) -> String {
        display_path(&self.workdir.join(rel), &self.base)
    }
}

/// `exclude:` patterns (gitignore globs, as in a walk), matched against
/// repository paths and each of their folders.
struct Excludes(Option<ignore::overrides::Override>);

impl Excludes {
    fn new(workdir: &Path, patterns: &[String]) -> Result<Self> {
        if patterns.is_empty() {
            return Ok(Excludes(None));
        }
        let mut b = ignore::overrides::OverrideBuilder::new(workdir);
        for pat in patterns {
            b.add(&format!("!{pat}"))
                .with_context(|| format!("bad exclude pattern '{pat}'"))?;
        }
        Ok(Excludes(Some(
            b.build().context("building exclude patterns")?,
        )))
    }

    fn excluded(&self, rel: &Path) -> bool {
        let Some(o) = &self.0 else { return false };
        let mut is_dir = false;
        let mut p = Some(rel);
        while let Some(x) = p.filter(|x| !x.as_os_str().is_empty()) {
            if o.matched(x, is_dir).is_ignore() {
                return true;
            }
            is_dir = true;
            p = x.parent();
        }
        false
    }
}

/// The text of `.shiplint.yaml` (or `.yml`) at the root of `tree`: the
/// config of that revision (a commit of `--history`, a pull request's merge
/// base).
pub fn config_text_at(repo: &Repository, tree: &Tree) -> Option<String> {
    crate::config::CONFIG_FILE_NAMES.iter().find_map(|name| {
        let entry = tree.get_path(Path::new(name)).ok()?;
        let blob = repo.find_blob(entry.id()).ok()?;
        Some(String::from_utf8_lossy(blob.content()).into_owned())
    })
}

/// The config's text in the index (what `--staged` commits).
fn config_text_in_index(repo: &Repository, index: &git2::Index) -> Option<String> {
    crate::config::CONFIG_FILE_NAMES.iter().find_map(|name| {
        let entry = index.get_path(Path::new(name), 0)?;
        let blob = repo.find_blob(entry.id).ok()?;
        Some(String::from_utf8_lossy(blob.content()).into_owned())
    })
}

/// The `exclude:` patterns of a config's text (none when it does not parse:
/// the run's own config loading reports that).
fn excludes_of(text: Option<String>) -> Vec<String> {
    text.and_then(|t| crate::config::ConfigFile::parse(&t).ok())
        .map(|c| c.exclude)
        .unwrap_or_default()
}

/// Whether a context file can matter to the run-wide facts: manifests and
/// kustomizations (other files only feed per-file checks).
fn context_name(rel: &Path) -> bool {
    let s = rel.to_string_lossy();
    has_manifest_extension(&s)
        || rel
            .file_name()
            .is_some_and(|n| n == "Kustomization" || n == "kustomization")
}

const LINK: u32 = 0o120000;
const GITLINK: u32 = 0o160000;

/// The run's limits and excludes, for every mode.
struct Opts<'a> {
    max: u64,
    exclude: &'a [String],
    /// The `exclude:` of a revision's config text (none with `--config` or
    /// `--no-config`).
    tree_config: &'a dyn Fn(Option<String>) -> Vec<String>,
}

/// What a git mode leaves out of the reported set, for notes like a walk's.
#[derive(Default)]
struct Skips {
    links: Vec<String>,
    not_staged: Vec<String>,
}

impl Skips {
    fn notes(self, out: &mut Discovered) {
        if !self.links.is_empty() {
            out.notes.push(format!(
                "skipped {} (git modes read the link, not its target): {}",
                plural(self.links.len(), "symbolic link"),
                first_few(&self.links)
            ));
        }
        if !self.not_staged.is_empty() {
            out.notes.push(format!(
                "skipped {} not in the git index (--staged scans staged content): {}",
                plural(self.not_staged.len(), "file"),
                first_few(&self.not_staged)
            ));
        }
    }
}

/// Adds one blob: reported (`context == false`: large, binary content is
/// named in the run's notes like a walk does) or context.
#[allow(clippy::too_many_arguments)]
fn push_blob(
    out: &mut Discovered,
    display: String,
    bytes: &[u8],
    max: u64,
    lines: Option<BTreeSet<usize>>,
    context: bool,
    named: bool,
) -> bool {
    if bytes.len() as u64 > max {
        if !context {
            out.large.push(display);
        }
        return false;
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        if !context {
            out.skipped_binary += 1;
            if named || has_manifest_extension(&display) {
                out.binary.push(display);
            }
        }
        return false;
    }
    out.inputs.push(Input::Blob {
        display,
        text: Arc::from(String::from_utf8_lossy(bytes).as_ref()),
        lines: lines.map(Arc::new),
        properties: Arc::new(serde_json::Map::new()),
        context,
    });
    true
}

/// Line numbers (new side) of the `+` lines of one delta.
fn added_lines(diff: &Diff, idx: usize) -> Result<BTreeSet<usize>> {
    let mut out = BTreeSet::new();
    let Some(patch) = Patch::from_diff(diff, idx)? else {
        return Ok(out);
    };
    for h in 0..patch.num_hunks() {
        for l in 0..patch.num_lines_in_hunk(h)? {
            let line = patch.line_in_hunk(h, l)?;
            if line.origin() == '+' {
                if let Some(n) = line.new_lineno() {
                    out.insert(n as usize);
                }
            }
        }
    }
    Ok(out)
}

fn changed(status: Delta) -> bool {
    matches!(
        status,
        Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
    )
}

/// Follows renames (and copies of modified files): a moved file's old lines
/// are not new lines.
fn find_renames(diff: &mut Diff) -> Result<()> {
    let mut o = DiffFindOptions::new();
    o.renames(true);
    diff.find_similar(Some(&mut o))
        .context("detecting renames")?;
    Ok(())
}

/// A path given on the command line, absolute, without resolving a final
/// symbolic link (pre-commit passes links by their own name).
fn absolute(p: &str) -> Result<PathBuf> {
    let path = Path::new(p);
    let meta = std::fs::symlink_metadata(path).with_context(|| format!("cannot read {p}"))?;
    if meta.is_dir() {
        return path
            .canonicalize()
            .with_context(|| format!("cannot read {p}"));
    }
    let parent = path
        .parent()
        .filter(|x| !x.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| anyhow!("cannot read {p}"))?;
    Ok(parent
        .canonicalize()
        .with_context(|| format!("cannot read {p}"))?
        .join(name))
}

/// The inputs of a git-mode scan: the reported set (what changed, or the
/// files named with `--staged`) and, as context-only inputs, the rest of the
/// tree at that revision (`--staged`: the index; `--diff-base`: HEAD), so
/// cross-file checks give the verdicts of a full scan. `exclude` patterns
/// (the run's config) apply with those of the revision's `.shiplint.yaml`:
/// the index, each commit, and for `--diff-base` the merge base (a pull
/// request cannot exclude its own files).
pub fn discover(
    mode: &GitMode,
    paths: &[String],
    base: &Path,
    max_size: u64,
    exclude: &[String],
    revision_config: bool,
) -> Result<Discovered> {
    let first = paths.first().map_or(".", String::as_str);
    if first == "-" || paths.iter().any(|p| p == "-") {
        bail!("{} cannot read stdin", mode.flag());
    }
    let abs = paths
        .iter()
        .map(|p| absolute(p))
        .collect::<Result<Vec<_>>>()?;
    // The repository of the first folder named, else of the current one
    // (pre-commit names files only, from the repository's root).
    let start = abs
        .iter()
        .find(|a| a.is_dir())
        .cloned()
        .unwrap_or_else(|| base.to_path_buf());
    let (repo, workdir) = open(&start, mode)?;
    let mut scope = Scope {
        roots: Vec::new(),
        files: BTreeSet::new(),
        workdir,
        base: base.canonicalize().unwrap_or_else(|_| base.to_path_buf()),
    };
    for a in abs {
        if a.is_dir() || *mode != GitMode::Staged {
            scope.roots.push(a);
        } else if let Ok(rel) = a.strip_prefix(&scope.workdir) {
            scope.files.insert(rel.to_path_buf());
        } else {
            bail!("{} is outside the repository", a.display());
        }
    }
    let mut out = Discovered::default();
    let mut skips = Skips::default();
    let tree_config = |text: Option<String>| {
        if revision_config {
            excludes_of(text)
        } else {
            Vec::new()
        }
    };
    let opts = Opts {
        max: max_size,
        exclude,
        tree_config: &tree_config,
    };
    match mode {
        GitMode::WorkingTree => bail!("not a git mode"),
        GitMode::Staged => staged(&repo, &scope, &opts, &mut skips, &mut out)?,
        GitMode::DiffBase(rev) => diff_base(&repo, rev, &scope, &opts, &mut skips, &mut out)?,
        GitMode::History { since } => {
            history(&repo, since.as_deref(), &scope, &opts, &mut skips, &mut out)?
        }
    }
    skips.notes(&mut out);
    Ok(out)
}

fn index_path(e: &git2::IndexEntry) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&e.path).into_owned())
}

fn staged(
    repo: &Repository,
    scope: &Scope,
    opts: &Opts,
    skips: &mut Skips,
    out: &mut Discovered,
) -> Result<()> {
    let (max, exclude, tree_config) = (opts.max, opts.exclude, opts.tree_config);
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let index = repo.index().context("reading the git index")?;
    let mut patterns = exclude.to_vec();
    patterns.extend(tree_config(config_text_in_index(repo, &index)));
    let excludes = Excludes::new(&scope.workdir, &patterns)?;
    // The reported set: the named files, else what differs from HEAD.
    let reported: BTreeSet<PathBuf> = if scope.files.is_empty() {
        let diff = repo
            .diff_tree_to_index(head.as_ref(), Some(&index), None)
            .context("diffing HEAD against the index")?;
        diff.deltas()
            .filter(|d| changed(d.status()))
            .filter_map(|d| d.new_file().path().map(Path::to_path_buf))
            .filter(|rel| scope.includes(rel))
            .collect()
    } else {
        scope.files.clone()
    };
    let mut in_index = HashSet::new();
    for e in index.iter() {
        // Stage 0 only: conflicted entries have no single staged version.
        if (e.flags >> 12) & 3 != 0 || e.mode == GITLINK {
            continue;
        }
        let rel = index_path(&e);
        let report = reported.contains(&rel);
        if report {
            in_index.insert(rel.clone());
        }
        if excludes.excluded(&rel) || !(report || context_name(&rel)) {
            continue;
        }
        if e.mode == LINK {
            if report {
                skips.links.push(scope.display(&rel));
            }
            continue;
        }
        let blob = repo
            .find_blob(e.id)
            .with_context(|| format!("reading staged {}", rel.display()))?;
        let named = scope.files.contains(&rel);
        push_blob(
            out,
            scope.display(&rel),
            blob.content(),
            max,
            None,
            !report,
            named,
        );
    }
    for rel in scope.files.iter().filter(|r| !in_index.contains(*r)) {
        skips.not_staged.push(scope.display(rel));
    }
    Ok(())
}

/// Every blob of `tree` that can feed run-wide facts, as context inputs
/// (minus the reported paths and the excluded ones).
fn tree_context(
    repo: &Repository,
    tree: &Tree,
    scope: &Scope,
    skip: &HashSet<PathBuf>,
    excludes: &Excludes,
    max: u64,
    out: &mut Discovered,
) -> Result<()> {
    let mut found = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) && entry.filemode() != LINK as i32 {
            if let Ok(name) = entry.name() {
                let rel = Path::new(dir).join(name);
                if context_name(&rel) && !skip.contains(&rel) && !excludes.excluded(&rel) {
                    found.push((rel, entry.id()));
                }
            }
        }
        git2::TreeWalkResult::Ok
    })?;
    for (rel, id) in found {
        let blob = repo.find_blob(id)?;
        push_blob(
            out,
            scope.display(&rel),
            blob.content(),
            max,
            None,
            true,
            false,
        );
    }
    Ok(())
}

fn diff_base(
    repo: &Repository,
    rev: &str,
    scope: &Scope,
    opts: &Opts,
    skips: &mut Skips,
    out: &mut Discovered,
) -> Result<()> {
    let (max, exclude, tree_config) = (opts.max, opts.exclude, opts.tree_config);
    let target = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .with_context(|| format!("--diff-base: unknown revision '{rev}'"))?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .context("--diff-base: the repository has no HEAD commit")?;
    let mb = repo
        .merge_base(target.id(), head.id())
        .with_context(|| format!("--diff-base: no merge base between {rev} and HEAD"))?;
    let tree = repo.find_commit(mb)?.tree()?;
    let head_tree = head.tree()?;
    // The merge base's excludes, not the pull request's: a PR must not be
    // able to exclude its own files from its scan.
    let mut patterns = exclude.to_vec();
    patterns.extend(tree_config(config_text_at(repo, &tree)));
    let excludes = Excludes::new(&scope.workdir, &patterns)?;
    let mut opts = DiffOptions::new();
    opts.context_lines(0);
    let mut diff = repo
        .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
        .context("diffing the merge base against the working tree")?;
    find_renames(&mut diff)?;
    let mut reported = HashSet::new();
    for (idx, d) in diff.deltas().enumerate() {
        if !changed(d.status()) {
            continue;
        }
        let Some(rel) = d.new_file().path() else {
            continue;
        };
        if !scope.includes(rel) || excludes.excluded(rel) {
            continue;
        }
        // A link's blob is a path; reading it in the working tree would
        // follow it wherever a pull request points it (`/etc`, `~/.ssh`).
        if d.new_file().mode() == git2::FileMode::Link {
            skips.links.push(scope.display(rel));
            continue;
        }
        let Ok(bytes) = std::fs::read(scope.workdir.join(rel)) else {
            continue;
        };
        let lines = added_lines(&diff, idx)?;
        if lines.is_empty() {
            continue;
        }
        if push_blob(
            out,
            scope.display(rel),
            &bytes,
            max,
            Some(lines),
            false,
            false,
        ) {
            reported.insert(rel.to_path_buf());
        }
    }
    tree_context(repo, &head_tree, scope, &reported, &excludes, max, out)
}

fn history(
    repo: &Repository,
    since: Option<&str>,
    scope: &Scope,
    opts: &Opts,
    skips: &mut Skips,
    out: &mut Discovered,
) -> Result<()> {
    let (max, exclude, tree_config) = (opts.max, opts.exclude, opts.tree_config);
    let mut walk = repo.revwalk()?;
    walk.push_head()
        .context("--history: the repository has no HEAD commit")?;
    let mut since_tree = None;
    if let Some(s) = since {
        let c = repo
            .revparse_single(s)
            .and_then(|o| o.peel_to_commit())
            .with_context(|| format!("--since: unknown revision '{s}'"))?;
        walk.hide(c.id())?;
        since_tree = Some(c.tree()?);
    }
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    let mut opts = DiffOptions::new();
    opts.context_lines(0);
    // Each commit's own config decides its excludes; one matcher per
    // config version.
    let mut by_config: HashMap<Option<Oid>, Excludes> = HashMap::new();
    let mut touched: BTreeSet<PathBuf> = BTreeSet::new();
    let mut links = BTreeSet::new();
    for oid in walk {
        let commit = repo.find_commit(oid?)?;
        let tree = commit.tree()?;
        let parent = match commit.parent_count() {
            0 => None,
            _ => Some(commit.parent(0)?.tree()?),
        };
        let mut diff = repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut opts))?;
        if diff.deltas().len() == 0 {
            continue;
        }
        find_renames(&mut diff)?;
        let config_id = crate::config::CONFIG_FILE_NAMES
            .iter()
            .find_map(|n| tree.get_path(Path::new(n)).ok().map(|e| e.id()));
        let excludes = match by_config.entry(config_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let mut patterns = exclude.to_vec();
                patterns.extend(tree_config(config_text_at(repo, &tree)));
                e.insert(Excludes::new(&scope.workdir, &patterns)?)
            }
        };
        let date = rfc3339(commit.author().when().seconds());
        let mut props = serde_json::Map::new();
        props.insert("commit".into(), commit.id().to_string().into());
        props.insert("authorDate".into(), date.into());
        let props = Arc::new(props);
        for (idx, d) in diff.deltas().enumerate() {
            if !changed(d.status()) {
                continue;
            }
            let Some(rel) = d.new_file().path() else {
                continue;
            };
            if !scope.includes(rel) || excludes.excluded(rel) {
                continue;
            }
            if d.new_file().mode() == git2::FileMode::Link {
                links.insert(scope.display(rel));
                continue;
            }
            let blob = repo.find_blob(d.new_file().id())?;
            let lines = added_lines(&diff, idx)?;
            if lines.is_empty() {
                continue;
            }
            let n = out.inputs.len();
            if push_blob(
                out,
                scope.display(rel),
                blob.content(),
                max,
                Some(lines),
                false,
                false,
            ) {
                if let Some(Input::Blob { properties, .. }) = out.inputs.get_mut(n) {
                    *properties = props.clone();
                }
                touched.insert(rel.to_path_buf());
            }
        }
    }
    skips.links.extend(links);
    // After `--since`, what the walk starts from is context: a custom
    // resource added later finds its older CRD, a patch its kustomization.
    // (Without `--since`, every file comes from some commit of the walk.)
    // Paths the walk touched stay out: they are reported.
    if let Some(tree) = &since_tree {
        let mut patterns = exclude.to_vec();
        patterns.extend(tree_config(config_text_at(repo, tree)));
        let excludes = Excludes::new(&scope.workdir, &patterns)?;
        let skip: HashSet<PathBuf> = touched.iter().cloned().collect();
        tree_context(repo, tree, scope, &skip, &excludes, max, out)?;
    }
    // The HEAD version of every path a commit added lines to: whether each
    // finding is still there (`inHead`). Scanned like the others, then
    // folded into the history findings by the scan.
    if let Ok(head) = repo.head().and_then(|h| h.peel_to_tree()) {
        let mut props = serde_json::Map::new();
        props.insert(HEAD_MARK.into(), true.into());
        let props = Arc::new(props);
        for rel in touched {
            let Ok(entry) = head.get_path(&rel) else {
                continue;
            };
            if entry.kind() != Some(git2::ObjectType::Blob) || entry.filemode() == LINK as i32 {
                continue;
            }
            let blob = repo.find_blob(entry.id())?;
            let (large, binary, skipped) = (out.large.len(), out.binary.len(), out.skipped_binary);
            let n = out.inputs.len();
            if push_blob(
                out,
                scope.display(&rel),
                blob.content(),
                max,
                None,
                false,
                false,
            ) {
                if let Some(Input::Blob { properties, .. }) = out.inputs.get_mut(n) {
                    *properties = props.clone();
                }
            }
            // Already counted at the commit that added them.
            out.large.truncate(large);
            out.binary.truncate(binary);
            out.skipped_binary = skipped;
        }
    }
    Ok(())
}

/// The property marking `--history` inputs that are the HEAD version of a
/// path (not a commit's added lines).
pub const HEAD_MARK: &str = "shiplintHead";

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
