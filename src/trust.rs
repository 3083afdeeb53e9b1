//! The trust boundary (docs/security.md): what a run may take from the
//! repository it scans.
//!
//! A pull request controls every file of its head, `.shiplint.yaml`
//! included. In a pull-request run the config is therefore read from the
//! base (the merge base of `--diff-base`, or the event's base commit), never
//! from the head; a PR that changes it gets a `config/pr-change` finding that
//! says what its change would do, and the change is not applied.

use crate::config::{ConfigFile, Settings, CONFIG_FILE_NAMES};
use crate::discover::display_path;
use crate::finding::Finding;
use crate::github::GithubEnv;
use crate::source::Span;
use anyhow::{anyhow, bail, Context as _, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::config_rules::CONFIG_PR_CHANGE;

/// The command that runs, for deciding whether it acts on a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Scan,
    Comment,
    Review,
}

/// Where the trusted base of a pull-request run is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The merge base of this revision and HEAD (`--diff-base REV`).
    MergeBase(String),
    /// The base commit the event names (`pull_request.base.sha`).
    Commit(String),
    /// The base branch (`GITHUB_BASE_REF`), looked up as `origin/NAME`.
    Branch(String),
}

/// A run that acts on a pull request: why, and where its base is.
#[derive(Debug, Clone)]
pub struct PrRun {
    pub why: String,
    pub base: Option<Base>,
}

fn is_sha(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// Whether this run acts on a pull request: `--diff-base`, `comment`,
/// `review`, or an Actions event of a pull request (`pull_request`,
/// `pull_request_target`, `workflow_run`) — the Action's plain scan included.
pub fn pr_run(
    command: Command,
    diff_base: Option<&str>,
    event_name: Option<&str>,
    gh: &GithubEnv,
) -> Option<PrRun> {
    let event = event_name
        .filter(|e| matches!(*e, "pull_request" | "pull_request_target" | "workflow_run"));
    let why = match (diff_base, command, event) {
        (Some(_), _, _) => "--diff-base".to_string(),
        (None, Command::Comment, _) => "`shiplint comment`".to_string(),
        (None, Command::Review, _) => "`shiplint review`".to_string(),
        (None, Command::Scan, Some(e)) => format!("GITHUB_EVENT_NAME={e}"),
        (None, Command::Scan, None) => return None,
    };
    let event_json = crate::github::event::read_event(gh).unwrap_or_default();
    let event_base = [
        "/pull_request/base/sha",
        "/workflow_run/pull_requests/0/base/sha",
    ]
    .iter()
    .find_map(|p| event_json.pointer(p).and_then(|v| v.as_str()))
    .filter(|s| is_sha(s))
    .map(|s| Base::Commit(s.to_string()));
    let base_ref = std::env::var("GITHUB_BASE_REF")
        .ok()
        .filter(|r| !r.is_empty() && git2::Reference::is_valid_name(&format!("refs/heads/{r}")))
        .map(Base::Branch);
    let base = diff_base
        .map(|r| Base::MergeBase(r.to_string()))
        .or(event_base)
        .or(base_ref);
    Some(PrRun { why, base })
}

/// What the caller asks for.
pub struct ConfigRequest<'a> {
    /// `--config FILE`.
    pub explicit: Option<&'a Path>,
    pub no_config: bool,
    /// Folders where `.shiplint.yaml` is looked for, in order.
    pub dirs: Vec<PathBuf>,
    pub pr: Option<PrRun>,
    pub gh: &'a GithubEnv,
    /// What display paths are relative to (the current directory).
    pub display_base: &'a Path,
}

/// The config a run applies, and what the boundary has to say about it.
#[derive(Default)]
pub struct LoadedConfig {
    pub config: Option<ConfigFile>,
    /// The config file as reports name it.
    pub path: Option<String>,
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}

/// Loads the config a run may trust (see the module's documentation).
pub fn load(req: ConfigRequest) -> Result<LoadedConfig> {
    if req.no_config {
        return Ok(LoadedConfig::default());
    }
    let Some(pr) = &req.pr else {
        let path = req
            .explicit
            .map(Path::to_path_buf)
            .or_else(|| req.dirs.iter().find_map(|d| ConfigFile::discover(d)));
        return Ok(LoadedConfig {
            config: path.as_deref().map(ConfigFile::load).transpose()?,
            path: path.map(|p| display_path(&p, req.display_base)),
            ..Default::default()
        });
    };
    let start = req.dirs.first().cloned().unwrap_or_else(|| ".".into());
    let repo = match git2::Repository::discover(&start) {
        Ok(r) if r.workdir().is_some() => r,
        _ => {
            // No repository: no base to read from. A config named by flag
            // is the workflow's own; one found in the tree is the PR's.
            if let Some(p) = req.explicit {
                return Ok(LoadedConfig {
                    config: Some(ConfigFile::load(p)?),
                    path: Some(display_path(p, req.display_base)),
                    ..Default::default()
                });
            }
            let mut out = LoadedConfig::default();
            if req.dirs.iter().any(|d| ConfigFile::discover(d).is_some()) {
                out.notes.push(format!(
                    "pull-request run ({}) outside a git repository: .shiplint.yaml was not applied (it comes from the pull request, and there is no base to read it from); running with the default settings",
                    pr.why
                ));
            }
            return Ok(out);
        }
    };
    let workdir = repo
        .workdir()
        .map(|w| w.canonicalize().unwrap_or_else(|_| w.to_path_buf()))
        .unwrap_or_default();

    // The config's path inside the repository.
    let candidates: Vec<PathBuf> = match req.explicit {
        Some(p) => match inside(&workdir, p) {
            Some(rel) => vec![rel],
            // A file outside the repository, named by the workflow: trusted.
            None => {
                return Ok(LoadedConfig {
                    config: Some(ConfigFile::load(p)?),
                    path: Some(display_path(p, req.display_base)),
                    ..Default::default()
                })
            }
        },
        None => req
            .dirs
            .iter()
            .filter_map(|d| {
                let d = d.canonicalize().ok()?;
                d.strip_prefix(&workdir).ok().map(Path::to_path_buf)
            })
            .flat_map(|d| CONFIG_FILE_NAMES.iter().map(move |n| d.join(n)))
            .collect(),
    };

    let base_commit = match &pr.base {
        Some(b) => resolve(&repo, b),
        None => Err(anyhow!("no base revision: pass --diff-base REV")),
    };
    let (base_rel, base_text, base_name) = match &base_commit {
        Ok(commit) => {
            let tree = commit.tree().context("reading the base's tree")?;
            let mut found = None;
            for rel in &candidates {
                if let Some(text) = blob_at(&repo, &tree, rel)? {
                    found = Some((rel.clone(), text));
                    break;
                }
            }
            let short = commit.id().to_string()[..12].to_string();
            match found {
                Some((rel, text)) => (Some(rel), Some(text), short),
                None => (None, None, short),
            }
        }
        Err(local_err) => match fetch_from_api(req.gh, pr, &candidates) {
            Ok(Some((rel, text, sha))) => (Some(rel), text, sha),
            Ok(None) | Err(_) => {
                let mut out = LoadedConfig::default();
                let head_has = candidates
                    .iter()
                    .any(|c| std::fs::symlink_metadata(workdir.join(c)).is_ok());
                if head_has {
                    out.notes.push(format!(
                        "pull-request run ({}): .shiplint.yaml was not applied: shiplint reads it from the base, never from the pull request, and the base could not be read ({local_err:#}); running with the default settings. Fetch the base (actions/checkout with fetch-depth: 0) or pass --diff-base.",
                        pr.why
                    ));
                }
                return Ok(out);
            }
        },
    };

    let config = match &base_text {
        Some(text) => Some(ConfigFile::parse(text).with_context(|| {
            format!(
                "in config {} at the base {base_name}",
                base_rel.as_deref().unwrap_or(Path::new("")).display()
            )
        })?),
        None => None,
    };
    let mut out = LoadedConfig {
        notes: vec![format!(
            "pull-request run ({}): config read from the base {base_name}{}",
            pr.why,
            match &base_rel {
                Some(r) => format!(" ({})", r.display()),
                None => " (none there: default settings)".into(),
            }
        )],
        ..Default::default()
    };

    // The head's copy: what the pull request would apply.
    let head = candidates.iter().find_map(|rel| {
        let abs = workdir.join(rel);
        let meta = std::fs::symlink_metadata(&abs).ok()?;
        let text = if meta.file_type().is_symlink() {
            Err("it is a symbolic link")
        } else {
            std::fs::read_to_string(&abs).map_err(|_| "it cannot be read as text")
        };
        Some((rel.clone(), text))
    });
    let same = match (&head, &base_rel, &base_text) {
        (None, None, _) => true,
        (Some((hrel, Ok(htext))), Some(brel), Some(btext)) => hrel == brel && htext == btext,
        _ => false,
    };
    if !same {
        let rel = head
            .as_ref()
            .map(|(r, _)| r.clone())
            .or(base_rel.clone())
            .unwrap_or_default();
        let path: Arc<str> = display_path(&workdir.join(&rel), req.display_base).into();
        let (line, effect) = match &head {
            None => (1, "it deletes the config".to_string()),
            Some((_, Err(why))) => (1, format!("its config is not applied: {why}")),
            Some((_, Ok(htext))) => (
                first_changed_line(base_text.as_deref().unwrap_or(""), htext),
                describe(config.as_ref(), htext),
            ),
        };
        out.findings.push(
            Finding::from_rule(
                &CONFIG_PR_CHANGE,
                &path,
                Span::line(line),
                format!(
                    "this pull request changes {}, which shiplint reads from the base branch in a pull-request run: the change is not applied here; {effect}",
                    rel.display()
                ),
            )
            .with_key("config"),
        );
    }
    out.config = config;
    out.path = base_rel.map(|r| display_path(&workdir.join(r), req.display_base));
    Ok(out)
}

/// `path` relative to the repository's working tree, when it is inside it.
fn inside(workdir: &Path, path: &Path) -> Option<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let parent = abs.parent()?.canonicalize().ok()?;
    let rel = parent.strip_prefix(workdir).ok()?;
    Some(rel.join(abs.file_name()?))
}

/// The base commit a pull-request run trusts.
fn resolve<'r>(repo: &'r git2::Repository, base: &Base) -> Result<git2::Commit<'r>> {
    let commit_of = |spec: &str| -> Result<git2::Commit<'r>> {
        repo.revparse_single(spec)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| anyhow!("{spec} is not a commit in this clone ({})", e.message()))
    };
    match base {
        Base::MergeBase(rev) => {
            let base = commit_of(rev)?;
            let head = commit_of("HEAD")?;
            let mb = repo
                .merge_base(base.id(), head.id())
                .map_err(|e| anyhow!("no merge base of {rev} and HEAD ({})", e.message()))?;
            Ok(repo.find_commit(mb)?)
        }
        Base::Commit(sha) => commit_of(sha),
        Base::Branch(name) => commit_of(&format!("refs/remotes/origin/{name}"))
            .or_else(|_| commit_of(&format!("refs/heads/{name}"))),
    }
}

/// The text of a regular file in a tree; a link there is refused.
fn blob_at(repo: &git2::Repository, tree: &git2::Tree, rel: &Path) -> Result<Option<String>> {
    let Ok(entry) = tree.get_path(rel) else {
        return Ok(None);
    };
    if entry.filemode() == 0o120000 {
        bail!(
            "config {} at the base is a symbolic link: refused (a config is read only from a regular file)",
            rel.display()
        );
    }
    let blob = entry
        .to_object(repo)
        .and_then(|o| o.peel_to_blob())
        .map_err(|_| anyhow!("config {} at the base is not a file", rel.display()))?;
    let text = String::from_utf8(blob.content().to_vec())
        .map_err(|_| anyhow!("config {} at the base is not UTF-8 text", rel.display()))?;
    Ok(Some(text))
}

/// The base's config through the contents API, when the clone does not hold
/// the base commit (actions/checkout fetches one commit by default). Only the
/// base commit the event names, with the workflow's token.
fn fetch_from_api(
    gh: &GithubEnv,
    pr: &PrRun,
    candidates: &[PathBuf],
) -> Result<Option<(PathBuf, Option<String>, String)>> {
    let Some(Base::Commit(sha)) = &pr.base else {
        return Ok(None);
    };
    let repository = gh.repository.as_deref().unwrap_or("");
    let valid = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let Some((owner, name)) = repository.split_once('/') else {
        return Ok(None);
    };
    if !valid(owner) || !valid(name) || gh.token.as_deref().unwrap_or("").is_empty() {
        return Ok(None);
    }
    let client = crate::github::connect(gh)?;
    let short = sha[..sha.len().min(12)].to_string();
    for rel in candidates {
        let path: Vec<String> = rel
            .components()
            .map(|c| percent_encode(&c.as_os_str().to_string_lossy()))
            .collect();
        let url = format!(
            "/repos/{owner}/{name}/contents/{}?ref={sha}",
            path.join("/")
        );
        match client.get(&url) {
            Ok(v) => {
                if v.get("type").and_then(|t| t.as_str()) != Some("file") {
                    bail!(
                        "config {} at the base is not a regular file (a link?): refused",
                        rel.display()
                    );
                }
                let b64: String = v
                    .get("content")
                    .and_then(|c| c.as_str())
                    .unwrap_or("")
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .context("decoding the base's config from the contents API")?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    anyhow!("config {} at the base is not UTF-8 text", rel.display())
                })?;
                return Ok(Some((rel.clone(), Some(text), short)));
            }
            Err(e)
                if e.downcast_ref::<crate::github::client::ApiError>()
                    .is_some_and(|a| a.status == 404) => {}
            Err(e) => return Err(e),
        }
    }
    // The base commit exists (the API answered) and has no config.
    Ok(Some((PathBuf::new(), None, short)))
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn first_changed_line(base: &str, head: &str) -> usize {
    let mut b = base.lines();
    for (i, h) in head.lines().enumerate() {
        if b.next() != Some(h) {
            return i + 1;
        }
    }
    head.lines().count().max(1)
}

/// A short, printable form of a string the pull request wrote.
fn quoted(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(40)
        .collect();
    if s.chars().count() > 40 {
        format!("'{clean}…'")
    } else {
        format!("'{clean}'")
    }
}

/// What the head's config would change over the base's, in words.
fn describe(base: Option<&ConfigFile>, head_text: &str) -> String {
    let head = match ConfigFile::parse(head_text) {
        Ok(h) => h,
        Err(e) => return format!("the new config does not load ({e:#})"),
    };
    let settings = |c: Option<&ConfigFile>| -> Settings {
        let mut s = Settings::default();
        if let Some(c) = c {
            // Parsing already checked what apply_file checks.
            let _ = s.apply_file(c.clone());
        }
        s
    };
    let (b, h) = (settings(base), settings(Some(&head)));
    let mut what = Vec::new();
    let ids: std::collections::BTreeSet<&String> =
        b.rule_levels.keys().chain(h.rule_levels.keys()).collect();
    for id in ids {
        let (lb, lh) = (b.rule_levels.get(id), h.rule_levels.get(id));
        if lb != lh {
            what.push(match lh {
                Some(crate::config::RuleLevel::Off) => format!("turn off {id}"),
                Some(l) => format!("set {id} to {}", level_name(*l)),
                None => format!("drop the level set for {id}"),
            });
        }
    }
    let removed: Vec<_> = b.packs.iter().filter(|p| !h.packs.contains(p)).collect();
    let added: Vec<_> = h.packs.iter().filter(|p| !b.packs.contains(p)).collect();
    if !removed.is_empty() {
        what.push(format!(
            "stop running {}",
            removed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !added.is_empty() {
        what.push(format!(
            "run {}",
            added
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let new_excludes: Vec<String> = h
        .exclude
        .iter()
        .filter(|e| !b.exclude.contains(e))
        .map(|e| quoted(e))
        .collect();
    if !new_excludes.is_empty() {
        what.push(format!("exclude {}", new_excludes.join(", ")));
    }
    if base.and_then(|c| c.fail_on.clone()) != head.fail_on {
        what.push(format!(
            "fail on {}",
            head.fail_on.as_deref().unwrap_or("error (the default)")
        ));
    }
    if b.kubernetes_version != h.kubernetes_version || b.target_version != h.target_version {
        what.push("change the Kubernetes version".into());
    }
    if b.strict != h.strict
        || b.ignore_missing_schemas != h.ignore_missing_schemas
        || b.skip_kinds != h.skip_kinds
        || b.reject_kinds != h.reject_kinds
        || b.schema_locations != h.schema_locations
        || b.crd_dirs != h.crd_dirs
    {
        what.push("change the schema: section".into());
    }
    let sections: std::collections::BTreeSet<&String> =
        b.pack_options.keys().chain(h.pack_options.keys()).collect();
    for s in sections {
        if b.pack_options.get(s) != h.pack_options.get(s) {
            what.push(format!("change the {s}: section"));
        }
    }
    if what.is_empty() {
        "it changes no setting (comments or layout only)".into()
    } else {
        format!("it would {}", what.join("; "))
    }
}

fn level_name(l: crate::config::RuleLevel) -> &'static str {
    match l {
        crate::config::RuleLevel::Off => "off",
        crate::config::RuleLevel::Note => "note",
        crate::config::RuleLevel::Warning => "warning",
        crate::config::RuleLevel::Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_what_a_change_would_do() {
        let base = ConfigFile::parse("exclude: ['vendor/**']\n").unwrap();
        let said = describe(
            Some(&base),
            "exclude: ['vendor/**', '**']\nrules:\n  secrets/*: off\n  schema/invalid: note\npacks: [schema]\nfail-on: never\n",
        );
        assert_eq!(
            said,
            "it would set schema/invalid to note; turn off secrets/*; stop running deprecations, practices, policies, secrets; exclude '**'; fail on never"
        );
        assert_eq!(
            describe(Some(&base), "# a comment\nexclude: ['vendor/**']\n"),
            "it changes no setting (comments or layout only)"
        );
        assert!(describe(None, "rules: [1").starts_with("the new config does not load"));
    }

    #[test]
    fn first_changed_line_counts_from_one() {
        assert_eq!(first_changed_line("a\nb\n", "a\nc\n"), 2);
        assert_eq!(first_changed_line("", "a\n"), 1);
        assert_eq!(first_changed_line("a\n", "a\nb\n"), 2);
    }

    #[test]
    fn a_plain_scan_is_a_pr_run_only_on_pull_request_events() {
        let gh = GithubEnv::default();
        assert!(pr_run(Command::Scan, None, None, &gh).is_none());
        assert!(pr_run(Command::Scan, None, Some("push"), &gh).is_none());
        for e in ["pull_request", "pull_request_target", "workflow_run"] {
            assert!(pr_run(Command::Scan, None, Some(e), &gh).is_some(), "{e}");
        }
        assert!(pr_run(Command::Review, None, None, &gh).is_some());
        assert!(pr_run(Command::Comment, None, None, &gh).is_some());
        let run = pr_run(Command::Scan, Some("origin/main"), None, &gh).unwrap();
        assert_eq!(run.base, Some(Base::MergeBase("origin/main".into())));
    }
}
