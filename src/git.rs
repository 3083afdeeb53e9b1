//! Git sources for a scan (libgit2 through `git2`): the staged content of the
//! index (pre-commit), the lines added since a merge base (pull requests) and
//! the history (each commit's added lines). Every mode yields in-memory
//! inputs that go through the same pipeline and packs as files on disk.

use crate::discover::{display_path, Discovered, Input};
use anyhow::{anyhow, bail, Context as _, Result};
use git2::{Delta, Diff, DiffOptions, Patch, Repository, Sort};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a scan reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GitMode {
    /// Files on disk (no git involved).
    #[default]
    WorkingTree,
    /// The index's version of staged files.
    Staged,
    /// Lines added since the merge base of REV and HEAD (working tree side).
    DiffBase(String),
    /// Commits reachable from HEAD (after `since`), oldest first.
    History { since: Option<String> },
}

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

/// Keeps repository paths under one of the scanned paths.
struct Scope {
    roots: Vec<PathBuf>,
    workdir: PathBuf,
    base: PathBuf,
}

impl Scope {
    fn includes(&self, rel: &Path) -> bool {
        let abs = self.workdir.join(rel);
        self.roots.iter().any(|r| abs.starts_with(r))
    }

    fn display(&self, rel: &Path) -> String {
        display_path(&self.workdir.join(rel), &self.base)
    }
}

/// Whether a blob is left out: binary (NUL bytes, like a walk skips it) or
/// over the size limit (named in the run's note, never lost silently).
fn left_out(bytes: &[u8], max: u64, name: String, large: &mut Vec<String>) -> bool {
    if bytes.len() as u64 > max {
        large.push(name);
        return true;
    }
    bytes[..bytes.len().min(8192)].contains(&0)
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

fn blob_input(display: String, bytes: &[u8], lines: Option<BTreeSet<usize>>) -> Input {
    Input::Blob {
        display,
        text: Arc::from(String::from_utf8_lossy(bytes).as_ref()),
        lines: lines.map(Arc::new),
        properties: Arc::new(serde_json::Map::new()),
    }
}

/// The inputs of a git-mode scan.
pub fn discover(
    mode: &GitMode,
    paths: &[String],
    base: &Path,
    max_size: u64,
) -> Result<Discovered> {
    let first = paths.first().map_or(".", String::as_str);
    if first == "-" {
        bail!("{} cannot read stdin", mode.flag());
    }
    let (repo, workdir) = open(Path::new(first), mode)?;
    let roots = paths
        .iter()
        .map(|p| {
            Path::new(p)
                .canonicalize()
                .with_context(|| format!("cannot read {p}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let scope = Scope {
        roots,
        workdir,
        base: base.canonicalize().unwrap_or_else(|_| base.to_path_buf()),
    };
    let mut out = Discovered::default();
    match mode {
        GitMode::WorkingTree => bail!("not a git mode"),
        GitMode::Staged => staged(&repo, &scope, max_size, &mut out)?,
        GitMode::DiffBase(rev) => diff_base(&repo, rev, &scope, max_size, &mut out)?,
        GitMode::History { since } => history(&repo, since.as_deref(), &scope, max_size, &mut out)?,
    }
    Ok(out)
}

fn staged(repo: &Repository, scope: &Scope, max: u64, out: &mut Discovered) -> Result<()> {
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let index = repo.index().context("reading the git index")?;
    let diff = repo
        .diff_tree_to_index(head.as_ref(), Some(&index), None)
        .context("diffing HEAD against the index")?;
    for (_, rel, id) in changed_files(&diff, scope) {
        let blob = repo
            .find_blob(id)
            .with_context(|| format!("reading staged {}", rel.display()))?;
        if left_out(blob.content(), max, scope.display(rel), &mut out.large) {
            continue;
        }
        out.inputs
            .push(blob_input(scope.display(rel), blob.content(), None));
    }
    Ok(())
}

fn diff_base(
    repo: &Repository,
    rev: &str,
    scope: &Scope,
    max: u64,
    out: &mut Discovered,
) -> Result<()> {
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
    let mut opts = DiffOptions::new();
    opts.context_lines(0);
    let diff = repo
        .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
        .context("diffing the merge base against the working tree")?;
    for (idx, rel, _) in changed_files(&diff, scope) {
        let Ok(bytes) = std::fs::read(scope.workdir.join(rel)) else {
            continue;
        };
        if left_out(&bytes, max, scope.display(rel), &mut out.large) {
            continue;
        }
        let lines = added_lines(&diff, idx)?;
        if !lines.is_empty() {
            out.inputs
                .push(blob_input(scope.display(rel), &bytes, Some(lines)));
        }
    }
    Ok(())
}

/// The files a diff adds or modifies inside the scope: the delta's index,
/// its path and the new blob's id. Symbolic links are left out: their blob
/// is a path, and reading one in the working tree (`--diff-base`) would
/// follow it wherever a pull request points it (`/etc`, `~/.ssh`).
fn changed_files<'d>(
    diff: &'d Diff<'_>,
    scope: &'d Scope,
) -> impl Iterator<Item = (usize, &'d Path, git2::Oid)> + 'd {
    diff.deltas()
        .enumerate()
        .filter(|(_, d)| changed(d.status()) && d.new_file().mode() != git2::FileMode::Link)
        .filter_map(|(idx, d)| {
            let rel = d.new_file().path()?;
            scope.includes(rel).then(|| (idx, rel, d.new_file().id()))
        })
}

fn history(
    repo: &Repository,
    since: Option<&str>,
    scope: &Scope,
    max: u64,
    out: &mut Discovered,
) -> Result<()> {
    let mut walk = repo.revwalk()?;
    walk.push_head()
        .context("--history: the repository has no HEAD commit")?;
    if let Some(s) = since {
        let c = repo
            .revparse_single(s)
            .and_then(|o| o.peel_to_commit())
            .with_context(|| format!("--since: unknown revision '{s}'"))?;
        walk.hide(c.id())?;
    }
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    let mut opts = DiffOptions::new();
    opts.context_lines(0);
    for oid in walk {
        let commit = repo.find_commit(oid?)?;
        let tree = commit.tree()?;
        let parent = match commit.parent_count() {
            0 => None,
            _ => Some(commit.parent(0)?.tree()?),
        };
        let diff = repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut opts))?;
        let date = rfc3339(commit.author().when().seconds());
        for (idx, rel, id) in changed_files(&diff, scope) {
            let blob = repo.find_blob(id)?;
            if left_out(blob.content(), max, scope.display(rel), &mut out.large) {
                continue;
            }
            let lines = added_lines(&diff, idx)?;
            if lines.is_empty() {
                continue;
            }
            let mut input = blob_input(scope.display(rel), blob.content(), Some(lines));
            if let Input::Blob { properties, .. } = &mut input {
                let mut p = serde_json::Map::new();
                p.insert("commit".into(), commit.id().to_string().into());
                p.insert("authorDate".into(), date.clone().into());
                *properties = Arc::new(p);
            }
            out.inputs.push(input);
        }
    }
    Ok(())
}

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
