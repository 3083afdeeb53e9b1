//! `shiplint cleanup`, for `pull_request(_target)` with `types: [closed]`.
//! Runs no PR code and reads nothing from the checkout.
//!
//! * merged: the summary becomes a final "merged at <sha> with N open
//!   findings"; shiplint's labels go; inline threads stay as history.
//! * closed unmerged: shiplint's summary, its unanswered inline comments and
//!   its pending reviews are deleted.
//!
//! Only the bot's own comments carrying our markers are touched; a second
//! run finds nothing left to do.

use super::client::Client;
use super::event::PullRequest;
use super::{
    answered, is_bot_author, list_comments, open_count, ours, path_segment, FP_PREFIX,
    LABEL_PREFIX, OPEN_PREFIX, SUMMARY_MARKER,
};
use anyhow::Result;
use serde_json::{json, Value};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub summary_edited: bool,
    pub summaries_deleted: usize,
    pub inline_deleted: usize,
    pub reviews_deleted: usize,
    pub labels_removed: usize,
}

pub fn final_summary(sha: &str, open: Option<usize>) -> String {
    let short = &sha[..sha.len().min(7)];
    let what = match open {
        Some(0) => "with no open findings".to_string(),
        Some(n) => format!("with {}", crate::report::plural(n, "open finding")),
        None => "(open findings unknown)".to_string(),
    };
    format!(
        "{SUMMARY_MARKER}\n{}## shiplint\n\nMerged at {short} {what}.\n",
        open.map(|n| format!("{OPEN_PREFIX}{n} -->\n"))
            .unwrap_or_default()
    )
}

pub fn run(client: &Client, pr: &PullRequest, bot: &str) -> Result<Report> {
    let repo = pr.repo_path();
    let n = pr.number;
    let mut r = Report::default();
    let issue_comments = list_comments(client, &format!("{repo}/issues/{n}/comments"))?;
    let summaries = ours(&issue_comments, bot, SUMMARY_MARKER);
    if pr.merged {
        let sha = pr.merge_commit_sha.as_deref().unwrap_or(&pr.head_sha);
        if let Some((first, rest)) = summaries.split_first() {
            let body = final_summary(sha, open_count(&first.body));
            if first.body != body {
                client.patch(
                    &format!("{repo}/issues/comments/{}", first.id),
                    &json!({"body": body}),
                )?;
                r.summary_edited = true;
            }
            for c in rest {
                client.delete(&format!("{repo}/issues/comments/{}", c.id))?;
                r.summaries_deleted += 1;
            }
        }
    } else {
        for c in &summaries {
            client.delete(&format!("{repo}/issues/comments/{}", c.id))?;
            r.summaries_deleted += 1;
        }
        let review_comments = list_comments(client, &format!("{repo}/pulls/{n}/comments"))?;
        let replied = answered(&review_comments);
        for c in ours(&review_comments, bot, FP_PREFIX) {
            // A thread someone answered is kept for their sake.
            if !replied.contains(&c.id) {
                client.delete(&format!("{repo}/pulls/comments/{}", c.id))?;
                r.inline_deleted += 1;
            }
        }
        for review in client.get_all(&format!("{repo}/pulls/{n}/reviews"))? {
            let pending = review.get("state").and_then(Value::as_str) == Some("PENDING");
            let user = |k: &str| {
                review
                    .pointer(&format!("/user/{k}"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
            };
            if let (true, true, Some(id)) = (
                pending,
                is_bot_author(user("login"), user("type"), bot),
                review.get("id").and_then(Value::as_u64),
            ) {
                client.delete(&format!("{repo}/pulls/{n}/reviews/{id}"))?;
                r.reviews_deleted += 1;
            }
        }
    }
    for l in client.get_all(&format!("{repo}/issues/{n}/labels"))? {
        if let Some(name) = l.get("name").and_then(Value::as_str) {
            if name.starts_with(LABEL_PREFIX) {
                client.delete(&format!("{repo}/issues/{n}/labels/{}", path_segment(name)))?;
                r.labels_removed += 1;
            }
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_text() {
        let t = final_summary("0123456789abcdef", Some(2));
        assert!(t.contains("Merged at 0123456 with 2 open findings."));
        assert_eq!(open_count(&t), Some(2));
        assert!(final_summary("abc1234", Some(0)).contains("no open findings"));
    }
}
