//! The diff under review: HEAD (or `--head`) against its merge base with
//! `--diff-base`, read with git2, filtered to the files worth a model's time.

use anyhow::{Context as _, Result};
use git2::{DiffOptions, Repository};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::path::{Path, PathBuf};

pub use crate::diff::{DiffLine, Hunk};

#[derive(Debug, Clone, Default)]
pub struct FileDiff {
    /// New path, `/`-separated, relative to the repository root.
    pub path: String,
    pub hunks: Vec<Hunk>,
    /// The whole file at the merge base and at head (what masking reads to
    /// see the context of a changed line: a `kind: Secret`, a block scalar,
    /// the line git quotes in a hunk header). Never sent.
    pub old_text: Option<String>,
    pub new_text: Option<String>,
}

/// Files the review leaves out, and why (for the summary).
#[derive(Debug, Clone, Default)]
pub struct Skipped {
    pub files: Vec<(String, &'static str)>,
}

#[derive(Debug, Clone)]
pub struct DiffSpec<'a> {
    pub base: &'a str,
    pub head: Option<&'a str>,
    pub context_lines: u32,
    pub max_file_bytes: u64,
    pub exclude: &'a [String],
    /// A path whose merge-base text to return in [`DiffResult::base_file`].
    pub base_file: &'a str,
}

const LOCKFILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "go.sum",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "Gemfile.lock",
    "composer.lock",
    "flake.lock",
    ".terraform.lock.hcl",
    "Chart.lock",
    "mix.lock",
    "pubspec.lock",
    "packages.lock.json",
];

const VENDORED_DIRS: &[&str] = &[
    "vendor/",
    "node_modules/",
    "third_party/",
    "third-party/",
    ".venv/",
];

/// Why a path is left out by default, if it is.
pub fn default_skip_reason(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if LOCKFILES.contains(&name) || name.ends_with(".lock") {
        return Some("lockfile");
    }
    let in_dir = |d: &str| path.starts_with(d) || path.contains(&format!("/{d}"));
    if VENDORED_DIRS.iter().any(|d| in_dir(d)) {
        return Some("vendored");
    }
    let generated = in_dir("generated/")
        || in_dir("__generated__/")
        || in_dir("dist/")
        || name.ends_with(".min.js")
        || name.ends_with(".min.css")
        || name.ends_with(".map")
        || name.ends_with(".pb.go")
        || name.ends_with("_pb2.py")
        || name.contains(".generated.")
        || name.contains("_generated.")
        || name.starts_with("zz_generated");
    if generated {
        return Some("generated");
    }
    None
}

fn exclude_matcher(root: &Path, globs: &[String]) -> Result<Gitignore> {
    let mut b = GitignoreBuilder::new(root);
    for g in globs {
        b.add_line(None, g)
            .with_context(|| format!("review exclude pattern '{g}'"))?;
    }
    Ok(b.build()?)
}

/// Reads the diff of `head` (default HEAD) against the merge base of head and
/// `base`, skipping deleted, binary, oversized, lock, vendored, generated
/// and excluded files.
/// The diff and what else the review needs from the repository.
pub struct DiffResult {
    pub files: Vec<FileDiff>,
    pub skipped: Skipped,
    /// The repository's working folder.
    pub root: PathBuf,
    /// A file's text at the merge base (the review reads its prompt
    /// override from there, so a PR cannot rewrite its own reviewer's rules).
    pub base_file: Option<String>,
}

pub fn read_diff(repo_dir: &Path, spec: &DiffSpec) -> Result<DiffResult> {
    let repo = Repository::discover(repo_dir)
        .with_context(|| format!("{} is not inside a git repository", repo_dir.display()))?;
    let head_rev = spec.head.unwrap_or("HEAD");
    let head = repo
        .revparse_single(head_rev)
        .and_then(|o| o.peel_to_commit())
        .with_context(|| format!("cannot resolve --head '{head_rev}'"))?;
    let base = repo
        .revparse_single(spec.base)
        .and_then(|o| o.peel_to_commit())
        .with_context(|| format!("cannot resolve --diff-base '{}'", spec.base))?;
    let merge_base = repo
        .merge_base(base.id(), head.id())
        .with_context(|| format!("no merge base between '{}' and '{head_rev}'", spec.base))?;
    let base_tree = repo.find_commit(merge_base)?.tree()?;
    let base_file = base_tree
        .get_path(Path::new(spec.base_file))
        .ok()
        .and_then(|e| repo.find_blob(e.id()).ok())
        .map(|b| String::from_utf8_lossy(b.content()).into_owned());
    let head_tree = head.tree()?;
    let mut opts = DiffOptions::new();
    opts.context_lines(spec.context_lines)
        .interhunk_lines(0)
        .ignore_submodules(true);
    let mut diff = repo.diff_tree_to_tree(Some(&base_tree), Some(&head_tree), Some(&mut opts))?;
    diff.find_similar(None)?;
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let excluded = exclude_matcher(&root, spec.exclude)?;

    let mut files = Vec::new();
    let mut skipped = Skipped::default();
    for idx in 0..diff.deltas().len() {
        let Some(delta) = diff.get_delta(idx) else {
            continue;
        };
        let Some(path) = delta
            .new_file()
            .path()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
        else {
            continue;
        };
        let reason = if delta.status() == git2::Delta::Deleted {
            Some("deleted")
        } else if delta.new_file().size() > spec.max_file_bytes {
            Some("larger than the review size limit")
        } else if excluded
            .matched_path_or_any_parents(&path, false)
            .is_ignore()
        {
            Some("excluded by config")
        } else {
            default_skip_reason(&path)
        };
        if let Some(r) = reason {
            skipped.files.push((path, r));
            continue;
        }
        let Some(patch) = git2::Patch::from_diff(&diff, idx)? else {
            skipped.files.push((path, "binary"));
            continue;
        };
        if patch.delta().flags().is_binary() {
            skipped.files.push((path, "binary"));
            continue;
        }
        let mut hunks = crate::diff::from_git2(&patch)?;
        hunks.retain(|h| h.lines.iter().any(|l| l.origin == '+'));
        if hunks.is_empty() {
            skipped.files.push((path, "no added lines"));
        } else {
            let blob_text = |id: git2::Oid| {
                (!id.is_zero())
                    .then(|| repo.find_blob(id).ok())
                    .flatten()
                    .map(|b| String::from_utf8_lossy(b.content()).into_owned())
            };
            files.push(FileDiff {
                path,
                hunks,
                old_text: blob_text(delta.old_file().id()),
                new_text: blob_text(delta.new_file().id()),
            });
        }
    }
    Ok(DiffResult {
        files,
        skipped,
        root,
        base_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_lock_vendored_and_generated_paths() {
        assert_eq!(default_skip_reason("Cargo.lock"), Some("lockfile"));
        assert_eq!(default_skip_reason("web/yarn.lock"), Some("lockfile"));
        assert_eq!(default_skip_reason("vendor/x/y.go"), Some("vendored"));
        assert_eq!(default_skip_reason("a/node_modules/p.js"), Some("vendored"));
        assert_eq!(
            default_skip_reason("api/zz_generated.deepcopy.go"),
            Some("generated")
        );
        assert_eq!(default_skip_reason("k8s/deploy.yaml"), None);
    }
}
