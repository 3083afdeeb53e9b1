//! The GitHub integration: `shiplint comment` (sticky summary + one review
//! of inline comments on changed lines), `shiplint cleanup` (after a PR is
//! closed) and `shiplint install-hook`.
//!
//! Everything shiplint writes carries a hidden marker and is only ever
//! matched together with the bot's login, so it never edits or deletes
//! anyone else's comment.

pub mod cleanup;
pub mod client;
pub mod comments;
pub mod event;
pub mod hook;
pub mod hunks;
pub mod stored;

use anyhow::Result;
use client::Client;
use serde_json::Value;
use std::path::PathBuf;

pub const SUMMARY_MARKER: &str = "<!-- shiplint:summary -->";
pub const FP_PREFIX: &str = "<!-- shiplint:fp=";
/// Every fingerprint an inline comment covers (comma-separated).
pub const FPS_PREFIX: &str = "<!-- shiplint:fps=";
pub const RESOLVED_MARKER: &str = "<!-- shiplint:resolved -->";
pub const OPEN_PREFIX: &str = "<!-- shiplint:open=";
pub const LABEL_PREFIX: &str = "shiplint:";
pub const FINDINGS_LABEL: &str = "shiplint:findings";
const DEFAULT_BOT: &str = "github-actions[bot]";

/// The GitHub Actions environment a run sees (the CLI fills it from flags
/// and `GITHUB_*` variables).
#[derive(Debug, Clone, Default)]
pub struct GithubEnv {
    /// REST API base (GHES: https://HOST/api/v3).
    pub api_url: Option<String>,
    /// GraphQL endpoint (GHES: https://HOST/api/graphql).
    pub graphql_url: Option<String>,
    /// Web base for links.
    pub server_url: Option<String>,
    /// owner/name.
    pub repository: Option<String>,
    /// The event JSON (PR number, head SHA, `merged`).
    pub event_path: Option<PathBuf>,
    /// API token (prefer the environment variable).
    pub token: Option<String>,
    /// Markdown job summary file to append to.
    pub step_summary: Option<PathBuf>,
    /// Step outputs file.
    pub github_output: Option<PathBuf>,
    /// Pull request number (default: from the event).
    pub pr: Option<u64>,
    /// Head commit of the pull request (default: from the event).
    pub head_sha: Option<String>,
    /// Login the tool comments as (default: the token's viewer, else github-actions[bot]).
    pub bot_login: Option<String>,
}

/// Which findings become inline comments (reviewdog's filter modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommentFilter {
    /// Only lines the pull request added or changed.
    #[default]
    Added,
    /// Any line shown in the diff, context lines included.
    DiffContext,
    /// Any line of a changed file (outside the diff: a file-level comment).
    File,
    /// Everything; what cannot be anchored goes into the summary.
    Nofilter,
}

/// The note printed once when the token cannot write (fork, Dependabot).
pub const READ_ONLY_NOTE: &str = "shiplint: the token cannot write to this pull request (a fork or Dependabot PR gets a read-only GITHUB_TOKEN); the findings are in the annotations, the job summary and the SARIF report. For PR comments on forks use the two-stage workflow_run recipe (docs/github.md).";

pub use crate::text::short_hash;

/// The fingerprint in one of our inline comments.
pub fn fingerprint_of(body: &str) -> Option<&str> {
    let start = body.find(FP_PREFIX)? + FP_PREFIX.len();
    let rest = &body[start..];
    let end = rest.find(" -->")?;
    let fp = &rest[..end];
    fp.chars().all(|c| c.is_ascii_alphanumeric()).then_some(fp)
}

/// The fingerprints of the findings an inline comment is about: the
/// `fps=` list, else (a comment of an older version) its one `fp=`.
pub fn fingerprints_of(body: &str) -> Vec<&str> {
    let list = body.find(FPS_PREFIX).and_then(|i| {
        let rest = &body[i + FPS_PREFIX.len()..];
        let list = &rest[..rest.find(" -->")?];
        let fps: Vec<&str> = list.split(',').filter(|s| !s.is_empty()).collect();
        fps.iter()
            .all(|fp| fp.chars().all(|c| c.is_ascii_alphanumeric()))
            .then_some(fps)
    });
    list.filter(|l| !l.is_empty())
        .unwrap_or_else(|| fingerprint_of(body).into_iter().collect())
}

/// The number in `<!-- shiplint:open=N -->`.
pub fn open_count(body: &str) -> Option<usize> {
    let start = body.find(OPEN_PREFIX)? + OPEN_PREFIX.len();
    let rest = &body[start..];
    rest[..rest.find(" -->")?].parse().ok()
}

/// Whether a login names an app rather than a person: `…[bot]` (no user
/// name can hold brackets) or the Actions app's bare name, which GraphQL's
/// `viewer` answers for `GITHUB_TOKEN`.
fn is_app_name(login: &str) -> bool {
    let l = login.to_ascii_lowercase();
    l.ends_with("[bot]") || l == "github-actions"
}

/// Whether an author (`user.login`, `user.type`) is the bot we comment as.
/// The login must equal the bot's (case-insensitive); an app account (type
/// `Bot`, or a `[bot]` login) may also match the bot's name with or without
/// `[bot]`. A person never matches an app's name: a user called
/// `github-actions` is not `github-actions[bot]`.
pub fn is_bot_author(login: &str, user_type: &str, bot: &str) -> bool {
    if login.is_empty() || bot.is_empty() {
        return false;
    }
    let login = login.to_ascii_lowercase();
    let bot = bot.to_ascii_lowercase();
    let app_account = user_type == "Bot" || login.ends_with("[bot]");
    if app_account {
        let bare = |s: &str| s.strip_suffix("[bot]").unwrap_or(s).to_string();
        bare(&login) == bare(&bot) && (user_type.is_empty() || user_type == "Bot")
    } else {
        user_type != "Bot" && login == bot && !is_app_name(&bot)
    }
}

/// One path segment of an API URL, percent-encoded (label names are the
/// repository's text: `/`, `?`, `#`, `..` must not change the request).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A comment as listed by the REST API.
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub node_id: String,
    pub body: String,
    pub login: String,
    /// `user.type`: `Bot`, `User`, `Organization` (empty when absent).
    pub user_type: String,
    pub in_reply_to: Option<u64>,
}

impl Comment {
    pub fn from_json(v: &Value) -> Option<Comment> {
        Some(Comment {
            id: v.get("id")?.as_u64()?,
            node_id: v
                .get("node_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            body: v
                .get("body")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            login: v
                .pointer("/user/login")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            user_type: v
                .pointer("/user/type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            in_reply_to: v.get("in_reply_to_id").and_then(Value::as_u64),
        })
    }
}

/// Connects with the URLs of the environment (or flags).
pub fn connect(args: &GithubEnv) -> Result<Client> {
    let api = args
        .api_url
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "https://api.github.com".into());
    let graphql = args
        .graphql_url
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| client::default_graphql_url(&api));
    Client::new(
        &api,
        &graphql,
        args.token.as_deref().filter(|t| !t.is_empty()),
    )
}

/// The stored-report check on GitHub's side: the pull request's current
/// head is the SHA the report was made for, from the repository the run
/// was on. Read-only; an error means nothing may be written.
pub fn verify_stored_target(
    client: &Client,
    pr: &event::PullRequest,
    target: &event::StoredTarget,
) -> Result<()> {
    let v = client.get(&format!("{}/pulls/{}", pr.repo_path(), pr.number))?;
    let head = v.pointer("/head/sha").and_then(Value::as_str).unwrap_or("");
    if !head.eq_ignore_ascii_case(&pr.head_sha) {
        anyhow::bail!(
            "pull request #{} is not at --head-sha (its head is another commit); refusing to comment",
            pr.number
        );
    }
    if let Some(want) = &target.head_repo {
        let got = v
            .pointer("/head/repo/full_name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !got.eq_ignore_ascii_case(want) {
            anyhow::bail!(
                "pull request #{} does not come from the repository the workflow run was on; refusing to comment",
                pr.number
            );
        }
    }
    Ok(())
}

/// Who we comment as: `--bot-login`, else GraphQL `viewer.login`, else the
/// Actions bot.
pub fn bot_login(client: &Client, args: &GithubEnv) -> String {
    if let Some(b) = args.bot_login.as_deref().filter(|b| !b.is_empty()) {
        return b.to_string();
    }
    client
        .graphql("query { viewer { login } }", serde_json::json!({}))
        .ok()
        .and_then(|d| {
            d.pointer("/viewer/login")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| DEFAULT_BOT.to_string())
}

/// Our comments among `all`: the bot's, with `marker` in the body.
pub fn ours<'a>(all: &'a [Comment], bot: &str, marker: &str) -> Vec<&'a Comment> {
    all.iter()
        .filter(|c| is_bot_author(&c.login, &c.user_type, bot) && c.body.contains(marker))
        .collect()
}

/// Ids of comments someone answered.
pub fn answered(all: &[Comment]) -> std::collections::HashSet<u64> {
    all.iter().filter_map(|c| c.in_reply_to).collect()
}

pub fn list_comments(client: &Client, path: &str) -> Result<Vec<Comment>> {
    Ok(client
        .get_all(path)?
        .iter()
        .filter_map(Comment::from_json)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        let body = format!("{FP_PREFIX}abc123 -->\ntext");
        assert_eq!(fingerprint_of(&body), Some("abc123"));
        assert_eq!(fingerprint_of("<!-- shiplint:fp=a b -->"), None);
        assert_eq!(open_count("x <!-- shiplint:open=12 --> y"), Some(12));
        let grouped = format!("{FP_PREFIX}a1 -->\n{FPS_PREFIX}a1,b2 -->\n");
        assert_eq!(fingerprints_of(&grouped), vec!["a1", "b2"]);
        assert_eq!(fingerprints_of(&body), vec!["abc123"]);
        let bad = format!("{FP_PREFIX}a1 -->\n{FPS_PREFIX}a1,b 2 -->\n");
        assert_eq!(fingerprints_of(&bad), vec!["a1"]);
        assert!(is_bot_author(
            "github-actions[bot]",
            "Bot",
            "github-actions"
        ));
        assert!(is_bot_author(
            "github-actions[bot]",
            "",
            "github-actions[bot]"
        ));
        assert!(is_bot_author(
            "GitHub-Actions[bot]",
            "Bot",
            "github-actions[bot]"
        ));
        assert!(!is_bot_author("someone", "User", "github-actions"));
        assert!(!is_bot_author("", "", ""));
        // A person called like the app is not the app.
        assert!(!is_bot_author(
            "github-actions",
            "User",
            "github-actions[bot]"
        ));
        assert!(!is_bot_author("github-actions", "User", "github-actions"));
        assert!(!is_bot_author("github-actions", "", "github-actions"));
        // A PAT user bot matches itself only.
        assert!(is_bot_author("shiplint-bot", "User", "shiplint-bot"));
        assert!(!is_bot_author("shiplint-bot[bot]", "User", "shiplint-bot"));
        assert_eq!(
            path_segment("shiplint:a/../b c"),
            "shiplint%3Aa%2F%2E%2E%2Fb%20c"
        );
    }
}
