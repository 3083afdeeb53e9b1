//! The pull request a run is about: from `GITHUB_EVENT_PATH` and
//! `GITHUB_REPOSITORY`, each overridable by a flag.

use crate::github::GithubEnv;
use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct PullRequest {
    pub owner: String,
    pub repo: String,
    pub number: u64,
    pub head_sha: String,
    pub base_sha: Option<String>,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    /// The head lives in another repository (its token is read-only).
    pub fork: bool,
}

impl PullRequest {
    pub fn repo_path(&self) -> String {
        format!("/repos/{}/{}", self.owner, self.repo)
    }
}

pub fn read_event(args: &GithubEnv) -> Result<Value> {
    match &args.event_path {
        Some(p) if !p.as_os_str().is_empty() => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the event file {}", p.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("parsing the event file {}", p.display()))
        }
        _ => Ok(Value::Null),
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s != "."
        && s != ".."
}

fn valid_sha(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The pull request of this run, or `None` when the run is not about one.
pub fn pull_request(args: &GithubEnv) -> Result<Option<PullRequest>> {
    let event = read_event(args)?;
    let pr = event
        .get("pull_request")
        .cloned()
        .or_else(|| event.pointer("/workflow_run/pull_requests/0").cloned())
        .unwrap_or(Value::Null);
    let number = args.pr.or_else(|| pr.get("number").and_then(Value::as_u64));
    let Some(number) = number else {
        return Ok(None);
    };
    let repository = args
        .repository
        .clone()
        .or_else(|| {
            event
                .pointer("/repository/full_name")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .ok_or_else(|| anyhow!("GITHUB_REPOSITORY (or --repository owner/name) is not set"))?;
    let Some((owner, repo)) = repository.split_once('/') else {
        bail!("the repository must be owner/name");
    };
    if !valid_name(owner) || !valid_name(repo) {
        bail!("the repository must be owner/name");
    }
    let head_sha = args
        .head_sha
        .clone()
        .or_else(|| {
            pr.pointer("/head/sha")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .ok_or_else(|| anyhow!("no head SHA: pass --head-sha or run on a pull_request event"))?;
    if !valid_sha(&head_sha) {
        bail!("the head SHA is not a commit id");
    }
    let head_repo = pr.pointer("/head/repo/full_name").and_then(Value::as_str);
    let base_repo = pr.pointer("/base/repo/full_name").and_then(Value::as_str);
    Ok(Some(PullRequest {
        owner: owner.to_string(),
        repo: repo.to_string(),
        number,
        head_sha,
        base_sha: pr
            .pointer("/base/sha")
            .and_then(Value::as_str)
            .map(String::from),
        merged: pr.get("merged").and_then(Value::as_bool).unwrap_or(false),
        merge_commit_sha: pr
            .get("merge_commit_sha")
            .and_then(Value::as_str)
            .filter(|s| valid_sha(s))
            .map(String::from),
        fork: matches!((head_repo, base_repo), (Some(h), Some(b)) if h != b),
    }))
}

/// What the event says a stored report (`comment --findings`) may be
/// commented on: the report is the PR's own output, so its `--pr` and
/// `--head-sha` (read from the artifact) are only trusted when they are the
/// run that produced it.
#[derive(Debug, Clone, Default)]
pub struct StoredTarget {
    /// `workflow_run.head_repository.full_name` (a fork's name).
    pub head_repo: Option<String>,
}

/// Binds `pr` (from `--pr` / `--head-sha`) to the event of this run: a
/// `workflow_run` must have run on that head SHA and, when it lists its pull
/// requests (it does not for forks), on that PR; a `pull_request` event must
/// be that PR at that SHA. Any other event is refused.
pub fn bind_stored(args: &GithubEnv, pr: &PullRequest) -> Result<StoredTarget> {
    let event = read_event(args)?;
    let same_sha = |s: Option<&str>| s.is_some_and(|s| s.eq_ignore_ascii_case(&pr.head_sha));
    if let Some(run) = event.get("workflow_run").filter(|v| v.is_object()) {
        let sha = run.get("head_sha").and_then(Value::as_str);
        if !same_sha(sha) {
            bail!(
                "--head-sha is not the head of the workflow run that produced the report (workflow_run.head_sha); refusing to comment"
            );
        }
        let listed: Vec<&Value> = run
            .get("pull_requests")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if !listed.is_empty() {
            let ok = listed.iter().any(|p| {
                p.get("number").and_then(Value::as_u64) == Some(pr.number)
                    && p.pointer("/head/sha")
                        .and_then(Value::as_str)
                        .is_none_or(|s| same_sha(Some(s)))
            });
            if !ok {
                bail!(
                    "--pr {} is not a pull request of the workflow run that produced the report; refusing to comment",
                    pr.number
                );
            }
        }
        return Ok(StoredTarget {
            head_repo: run
                .pointer("/head_repository/full_name")
                .and_then(Value::as_str)
                .map(String::from),
        });
    }
    if let Some(p) = event.get("pull_request").filter(|v| v.is_object()) {
        if p.get("number").and_then(Value::as_u64) != Some(pr.number)
            || !same_sha(p.pointer("/head/sha").and_then(Value::as_str))
        {
            bail!("--pr / --head-sha are not the pull request of this event; refusing to comment");
        }
        return Ok(StoredTarget {
            head_repo: p
                .pointer("/head/repo/full_name")
                .and_then(Value::as_str)
                .map(String::from),
        });
    }
    bail!("--findings needs the workflow_run event of the run that produced the report (GITHUB_EVENT_PATH) to check --pr and --head-sha against")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_pull_request_event() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("event.json");
        std::fs::write(
            &p,
            r#"{"action":"closed","pull_request":{"number":7,"merged":true,"merge_commit_sha":"abcdef1234567",
               "head":{"sha":"1111111","repo":{"full_name":"fork/x"}},"base":{"sha":"2222222","repo":{"full_name":"o/x"}}}}"#,
        )
        .unwrap();
        let args = GithubEnv {
            event_path: Some(p),
            repository: Some("o/x".into()),
            ..Default::default()
        };
        let pr = pull_request(&args).unwrap().unwrap();
        assert_eq!(pr.number, 7);
        assert!(pr.merged && pr.fork);
        assert_eq!(pr.merge_commit_sha.as_deref(), Some("abcdef1234567"));
        let args = GithubEnv {
            repository: Some("o/../x".into()),
            pr: Some(3),
            head_sha: Some("1234567".into()),
            ..Default::default()
        };
        assert!(pull_request(&args).is_err());
    }
}
