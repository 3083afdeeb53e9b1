//! The deterministic PR risk: what a change does to the cluster, with no LLM.
//!
//! The manifests at the merge base and at the head are parsed, their objects
//! matched by (apiVersion group, kind, namespace, name) — a moved file keeps
//! an object's identity, and an object deleted beside an added one of the
//! same kind in the same file is a rename — and every risky change gives a
//! reason with a weight (`rules/risk.yaml`). The score is the highest
//! weight, 1 when nothing risky changed. Findings of the other packs on the
//! added lines raise it too.

mod compare;
mod weights;

pub use weights::{table, ReasonDef, RiskOptions, Weights};

use crate::finding::{Finding, Severity};
use crate::manifest::{self, Limits, Manifest};
use crate::source::{has_manifest_extension, SourceFile};
use anyhow::{Context as _, Result};
use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Files larger than this are not read (generated bundles, not manifests).
const MAX_FILE_BYTES: usize = 4 << 20;

/// How many reasons the report keeps (highest weights first).
pub const MAX_REASONS: usize = 100;

/// The head side of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// A revision (a commit, `HEAD`).
    Rev(String),
    /// The files of the working tree (git-ignored files left out).
    WorkingTree,
}

/// One risky change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub id: String,
    pub reason: String,
    pub weight: u8,
    pub path: String,
    pub line: usize,
}

/// The deterministic risk of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// 1 (nothing risky) to 5.
    pub score: u8,
    /// Highest weight first.
    pub reasons: Vec<Reason>,
}

impl Default for Assessment {
    fn default() -> Self {
        Assessment {
            score: 1,
            reasons: Vec::new(),
        }
    }
}

impl Assessment {
    /// Raises the score with the run's findings (on added lines): a
    /// `secrets/*` finding (or the review's secret rule), an error, a warning.
    /// The LLM's own comments (`review/risk`) are its score's business.
    pub fn add_findings(&mut self, findings: &[Finding], weights: &Weights) {
        for f in findings {
            if f.rule.as_ref() == crate::packs::review::RISK.id {
                continue;
            }
            let id = if f.rule.starts_with("secrets/")
                || f.rule.as_ref() == crate::packs::review::SECRET_IN_DIFF.id
            {
                "finding-secret"
            } else {
                match f.severity {
                    Severity::Error => "finding-error",
                    Severity::Warning => "finding-warning",
                    _ => continue,
                }
            };
            let (weight, text) = weights.get(id);
            if weight == 0 {
                continue;
            }
            self.reasons.push(Reason {
                id: id.into(),
                reason: format!("{text} ({})", f.rule),
                weight,
                path: f.path.to_string(),
                line: f.span.line,
            });
        }
        self.finish();
    }

    /// Sorts the reasons (highest weight first), keeps the first
    /// [`MAX_REASONS`] and sets the score.
    fn finish(&mut self) {
        self.reasons.sort_by(|a, b| {
            (b.weight, &a.path, a.line, &a.id, &a.reason)
                .cmp(&(a.weight, &b.path, b.line, &b.id, &b.reason))
        });
        self.reasons.dedup();
        self.reasons.truncate(MAX_REASONS);
        self.score = self
            .reasons
            .iter()
            .map(|r| r.weight)
            .max()
            .unwrap_or(1)
            .clamp(1, 5);
    }

    /// Writes `prRisk` (the maximum of this score and the LLM's, when
    /// there is one: the LLM can raise the risk, never lower it),
    /// `prRiskDeterministic`, `prRiskLlm` and `prRiskReasons`.
    pub fn insert_properties(&self, props: &mut Map<String, Value>, llm: Option<u8>) {
        let llm = llm.map(|l| l.clamp(1, 5));
        let risk = llm.map_or(self.score, |l| l.max(self.score));
        props.insert("prRisk".into(), risk.into());
        props.insert("prRiskDeterministic".into(), self.score.into());
        if let Some(l) = llm {
            props.insert("prRiskLlm".into(), l.into());
        }
        props.insert(
            "prRiskReasons".into(),
            self.reasons
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "reason": r.reason,
                        "weight": r.weight,
                        "path": r.path,
                        "line": r.line,
                    })
                })
                .collect::<Vec<_>>()
                .into(),
        );
    }
}

/// The risk of the change from the merge base of `base_rev` and the head
/// to the head, with the weights of `rules/risk.yaml`.
pub fn assess(repo: &Path, base_rev: &str, head: &Head) -> Result<Assessment> {
    assess_with(repo, base_rev, head, &Weights::default())
}

/// [`assess`] with the config's weights.
pub fn assess_with(
    repo_dir: &Path,
    base_rev: &str,
    head: &Head,
    weights: &Weights,
) -> Result<Assessment> {
    assess_excluding(repo_dir, base_rev, head, weights, &[])
}

/// [`assess_with`] leaving out the files that `exclude` (gitignore globs,
/// the config's `exclude:`) matches on either side.
pub fn assess_excluding(
    repo_dir: &Path,
    base_rev: &str,
    head: &Head,
    weights: &Weights,
    exclude: &[String],
) -> Result<Assessment> {
    let repo = Repository::discover(repo_dir)
        .with_context(|| format!("{} is not inside a git repository", repo_dir.display()))?;
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let head_rev = match head {
        Head::Rev(r) => r.as_str(),
        Head::WorkingTree => "HEAD",
    };
    let head_commit = repo
        .revparse_single(head_rev)
        .and_then(|o| o.peel_to_commit())
        .with_context(|| format!("cannot resolve '{head_rev}'"))?;
    let base = repo
        .revparse_single(base_rev)
        .and_then(|o| o.peel_to_commit())
        .with_context(|| format!("cannot resolve --diff-base '{base_rev}'"))?;
    let merge_base = repo
        .merge_base(base.id(), head_commit.id())
        .with_context(|| format!("no merge base between '{base_rev}' and '{head_rev}'"))?;
    let base_files = tree_files(&repo, &repo.find_commit(merge_base)?.tree()?)?;
    let head_files = match head {
        Head::Rev(_) => tree_files(&repo, &head_commit.tree()?)?,
        Head::WorkingTree => worktree_files(&root),
    };
    let excluded = {
        let mut b = ignore::gitignore::GitignoreBuilder::new(&root);
        for g in exclude {
            b.add_line(None, g)
                .with_context(|| format!("bad exclude pattern '{g}'"))?;
        }
        b.build().context("building exclude patterns")?
    };
    let keep = |files: Vec<(String, String)>| -> Vec<(String, String)> {
        files
            .into_iter()
            .filter(|(p, _)| {
                !excluded
                    .matched_path_or_any_parents(root.join(p), false)
                    .is_ignore()
            })
            .collect()
    };
    let (base_files, head_files) = (keep(base_files), keep(head_files));
    let (base_objs, head_objs) = (objects(&root, &base_files), objects(&root, &head_files));
    let mut a = Assessment {
        score: 1,
        reasons: compare::compare(&by_key(&base_objs), &by_key(&head_objs), weights),
    };
    a.finish();
    Ok(a)
}

/// The manifest files of a tree: (path, text).
fn tree_files(repo: &Repository, tree: &git2::Tree) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(ObjectType::Blob) {
            return TreeWalkResult::Ok;
        }
        let Ok(name) = entry.name() else {
            return TreeWalkResult::Ok;
        };
        let path = format!("{dir}{name}");
        if !has_manifest_extension(&path) {
            return TreeWalkResult::Ok;
        }
        if let Ok(blob) = repo.find_blob(entry.id()) {
            if let Some(text) = text_of(blob.content()) {
                out.push((path, text));
            }
        }
        TreeWalkResult::Ok
    })?;
    Ok(out)
}

/// The manifest files of the working tree (git-ignored files left out).
fn worktree_files(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let walk = ignore::WalkBuilder::new(root)
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for e in walk.flatten() {
        if !e.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = e.path().strip_prefix(root) else {
            continue;
        };
        let path = rel.to_string_lossy().replace('\\', "/");
        if !has_manifest_extension(&path) {
            continue;
        }
        if let Ok(bytes) = std::fs::read(e.path()) {
            if let Some(text) = text_of(&bytes) {
                out.push((path, text));
            }
        }
    }
    out
}

fn text_of(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_FILE_BYTES || bytes[..bytes.len().min(8192)].contains(&0) {
        return None;
    }
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// An object's identity: (apiVersion group, kind, namespace, name).
pub(crate) type Key = (String, String, String, String);

/// The named objects of a snapshot; templates that need rendering are
/// skipped.
fn objects(root: &Path, files: &[(String, String)]) -> Vec<Manifest> {
    let mut out = Vec::new();
    for (path, text) in files {
        let on_disk = root.join(path);
        if manifest::needs_rendering(&on_disk.to_string_lossy(), text) {
            continue;
        }
        let file = SourceFile::new(path.as_str(), text.clone());
        out.extend(
            manifest::parse_file(&file, Limits::default())
                .manifests
                .into_iter()
                .filter(|m| m.name.is_some() && !manifest::is_tool_config(&m.api_version, &m.kind)),
        );
    }
    out
}

fn by_key(objs: &[Manifest]) -> compare::Objects<'_> {
    let mut out: compare::Objects<'_> = BTreeMap::new();
    for m in objs {
        let key = (
            m.group().to_string(),
            m.kind.clone(),
            m.namespace.clone().unwrap_or_default(),
            m.name.clone().unwrap_or_default(),
        );
        out.entry(key).or_default().push(m);
    }
    out
}

/// The review's secret rule without an LLM: the added lines of the diff
/// (the review's own reading of it) that hold a plain-text secret, as
/// `review/secret-in-diff` findings for [`Assessment::add_findings`]. The
/// review computes these only when it sends the diff to a model.
pub fn diff_secrets(
    repo: &Path,
    opts: &crate::packs::review::ReviewOptions,
) -> Result<Vec<Finding>> {
    use crate::packs::review::{diff, redact};
    let Some(base) = opts.diff_base.as_deref() else {
        return Ok(Vec::new());
    };
    let mut files = diff::read_diff(
        repo,
        &diff::DiffSpec {
            base,
            head: opts.head.as_deref(),
            context_lines: 0,
            max_file_bytes: opts.max_file_bytes,
            exclude: &opts.exclude,
            base_file: "",
        },
    )?
    .files;
    let found = redact::redact_files(&mut files, &redact::PackSecrets);
    let mut out = Vec::new();
    for (path, lines) in found {
        let p: std::sync::Arc<str> = path.into();
        for (line, _, rules) in lines {
            out.push(Finding::from_rule(
                &crate::packs::review::SECRET_IN_DIFF,
                &p,
                crate::source::Span::line(line),
                format!("plain-text secret added ({})", rules.join(", ")),
            ));
        }
    }
    Ok(out)
}
