//! `shiplint comment`: one sticky summary comment and at most 30 (or
//! `--max-comments`) inline comments per run, anchored on lines the PR changed; every finding is
//! commented once (by fingerprint), fixed ones are marked resolved, and
//! nothing a 422 rejects is lost.

use super::client::{is_permission_error, is_unprocessable, Client};
use super::event::PullRequest;
use super::hunks::{self, FileDiff, Placement};
use super::{
    answered, list_comments, ours, Comment, FINDINGS_LABEL, FP_PREFIX, OPEN_PREFIX,
    RESOLVED_MARKER, SUMMARY_MARKER,
};
use crate::finding::Finding;
use crate::github::CommentFilter;
use crate::report::github::{counts_markdown, findings_table, inert, short, Links};
use crate::scan::ScanOutcome;
use anyhow::Result;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

pub struct Options {
    pub filter: CommentFilter,
    pub max_comments: usize,
    pub label: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    /// New inline (line or file-level) comments.
    pub posted: usize,
    /// Findings already commented on an earlier run.
    pub kept: usize,
    /// Comments marked resolved because their finding is gone.
    pub resolved: usize,
    /// Comments reopened because their finding came back.
    pub reopened: usize,
    /// Findings GitHub would not take inline; they are in the summary.
    pub demoted: usize,
    /// Findings past `--max-comments`; they are in the summary.
    pub over_budget: usize,
    pub reviews: usize,
    /// The token could not write: nothing (more) was posted.
    pub read_only: bool,
}

#[derive(Clone)]
struct Inline<'a> {
    finding: &'a Finding,
    line: Option<usize>,
}

/// An inline comment. Rule, message (which quotes the PR's names and keys)
/// and all are the PR's text as far as Markdown is concerned: inert.
fn inline_body(f: &Finding) -> String {
    format!(
        "{FP_PREFIX}{} -->\n**{}** {}: {}\n\n<sub>shiplint · {}</sub>",
        f.fingerprint,
        f.severity,
        inert(&f.rule),
        inert(&short(&f.message, 2000)),
        inert(&format!("shiplint explain {}", f.rule))
    )
}

fn resolved_body(old: &Comment, fp: &str, sha: &str) -> String {
    let visible: String = old
        .body
        .lines()
        .filter(|l| !l.starts_with("<!-- shiplint:"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "{FP_PREFIX}{fp} -->\n{RESOLVED_MARKER}\n✅ **Resolved**: shiplint no longer reports this at {}.\n\n<details><summary>Original comment</summary>\n\n{}\n\n</details>",
        &sha[..sha.len().min(7)],
        visible
    )
}

fn review_comment(i: &Inline) -> Value {
    json!({
        "path": i.finding.path.trim_start_matches("./"),
        "line": i.line,
        "side": "RIGHT",
        "body": inline_body(i.finding),
    })
}

/// Everything the run needs to know before writing.
struct Plan<'a> {
    inline: Vec<Inline<'a>>,
    file_level: Vec<&'a Finding>,
    summary_only: Vec<&'a Finding>,
    reopen: Vec<(&'a Comment, &'a Finding)>,
    stale: Vec<&'a Comment>,
    kept: usize,
}

fn plan<'a>(
    findings: &'a [Finding],
    diffs: &HashMap<String, FileDiff>,
    existing: &[&'a Comment],
    filter: CommentFilter,
) -> Plan<'a> {
    let mut by_fp: HashMap<&str, &Comment> = HashMap::new();
    for c in existing {
        if let Some(fp) = super::fingerprint_of(&c.body) {
            by_fp.entry(fp).or_insert(c);
        }
    }
    let present: HashSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let mut p = Plan {
        inline: Vec::new(),
        file_level: Vec::new(),
        summary_only: Vec::new(),
        reopen: Vec::new(),
        stale: Vec::new(),
        kept: 0,
    };
    let mut seen = HashSet::new();
    for f in findings {
        if !seen.insert(f.fingerprint.as_str()) {
            continue;
        }
        if let Some(c) = by_fp.get(f.fingerprint.as_str()) {
            if c.body.contains(RESOLVED_MARKER) {
                p.reopen.push((c, f));
            } else {
                p.kept += 1;
            }
            continue;
        }
        let diff = diffs.get(f.path.trim_start_matches("./"));
        match hunks::place(diff, f.span.line, f.span.end_line, filter) {
            Placement::Line(l) => p.inline.push(Inline {
                finding: f,
                line: Some(l),
            }),
            Placement::File => p.file_level.push(f),
            Placement::Summary => p.summary_only.push(f),
        }
    }
    for (fp, c) in by_fp {
        if !present.contains(fp) && !c.body.contains(RESOLVED_MARKER) {
            p.stale.push(c);
        }
    }
    p.stale.sort_by_key(|c| c.id);
    p
}

pub fn run(
    client: &Client,
    pr: &PullRequest,
    bot: &str,
    outcome: &ScanOutcome,
    opts: &Options,
    links: &Links,
) -> Result<Report> {
    let mut report = Report::default();
    match run_inner(client, pr, bot, outcome, opts, links, &mut report) {
        Ok(()) => Ok(report),
        Err(e) if is_permission_error(&e) => {
            report.read_only = true;
            Ok(report)
        }
        Err(e) => Err(e),
    }
}

fn run_inner(
    client: &Client,
    pr: &PullRequest,
    bot: &str,
    outcome: &ScanOutcome,
    opts: &Options,
    links: &Links,
    report: &mut Report,
) -> Result<()> {
    let repo = pr.repo_path();
    let n = pr.number;
    let mut diffs = HashMap::new();
    for file in client.get_all(&format!("{repo}/pulls/{n}/files"))? {
        let Some(name) = file.get("filename").and_then(Value::as_str) else {
            continue;
        };
        if file.get("status").and_then(Value::as_str) == Some("removed") {
            continue;
        }
        let patch = file.get("patch").and_then(Value::as_str).unwrap_or("");
        diffs.insert(name.to_string(), hunks::parse_patch(patch));
    }
    let review_comments = list_comments(client, &format!("{repo}/pulls/{n}/comments"))?;
    let mine = ours(&review_comments, bot, FP_PREFIX);
    let replied = answered(&review_comments);
    let p = plan(&outcome.findings, &diffs, &mine, opts.filter);
    report.kept = p.kept;

    // Inline comments: at most `max_comments` in the whole run (every
    // review and file-level comment together), in reviews bisected on 422;
    // the rest go to the summary and are tried again on the next run.
    let budget = opts.max_comments.clamp(1, 30);
    let mut demoted: Vec<&Finding> = Vec::new();
    let mut over_budget: Vec<&Finding> = Vec::new();
    let (now, later) = p.inline.split_at(p.inline.len().min(budget));
    over_budget.extend(later.iter().map(|i| i.finding));
    let mut file_level = Vec::new();
    let rejected = post_review(client, pr, now, report)?;
    // A line GitHub refused becomes a file-level comment.
    file_level.extend(rejected.iter().map(|i| i.finding));
    file_level.extend(p.file_level.iter().copied());
    for f in file_level {
        if report.posted >= budget {
            over_budget.push(f);
            continue;
        }
        let body = json!({
            "body": inline_body(f),
            "commit_id": pr.head_sha,
            "path": f.path.trim_start_matches("./"),
            "subject_type": "file",
        });
        match client.post(&format!("{repo}/pulls/{n}/comments"), &body) {
            Ok(_) => report.posted += 1,
            Err(e) if is_unprocessable(&e) => demoted.push(f),
            Err(e) => return Err(e),
        }
    }
    report.over_budget = over_budget.len();
    report.demoted = demoted.len();

    for (c, f) in &p.reopen {
        client.patch(
            &format!("{repo}/pulls/comments/{}", c.id),
            &json!({"body": inline_body(f)}),
        )?;
        report.reopened += 1;
    }
    for c in &p.stale {
        let Some(fp) = super::fingerprint_of(&c.body) else {
            continue;
        };
        client.patch(
            &format!("{repo}/pulls/comments/{}", c.id),
            &json!({"body": resolved_body(c, fp, &pr.head_sha)}),
        )?;
        report.resolved += 1;
        // Collapse it unless someone answered: their reply stays in view.
        if !replied.contains(&c.id) && !c.node_id.is_empty() {
            if let Err(e) = client.graphql(
                "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized } } }",
                json!({"id": c.node_id}),
            ) {
                eprintln!("shiplint: could not minimize a resolved comment: {e}");
            }
        }
    }

    let mut outside: Vec<&Finding> = p.summary_only.clone();
    outside.extend(demoted.iter().copied());
    outside.extend(over_budget.iter().copied());
    let body = summary_body(outcome, pr, &outside, report, links);
    upsert_summary(client, pr, bot, &body)?;
    if opts.label {
        label(client, pr, !outcome.findings.is_empty())?;
    }
    Ok(())
}

/// Posts one review; returns the comments GitHub would not anchor.
fn post_review<'a>(
    client: &Client,
    pr: &PullRequest,
    items: &[Inline<'a>],
    report: &mut Report,
) -> Result<Vec<Inline<'a>>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let body = json!({
        "commit_id": pr.head_sha,
        "event": "COMMENT",
        "body": format!(
            "shiplint: {} on lines this pull request changed (see the summary comment for the rest).",
            crate::report::plural(items.len(), "finding")
        ),
        "comments": items.iter().map(review_comment).collect::<Vec<_>>(),
    });
    match client.post(
        &format!("{}/pulls/{}/reviews", pr.repo_path(), pr.number),
        &body,
    ) {
        Ok(_) => {
            report.reviews += 1;
            report.posted += items.len();
            Ok(Vec::new())
        }
        // GitHub does not say which comment it refused: split and retry.
        Err(e) if is_unprocessable(&e) => {
            if items.len() == 1 {
                return Ok(items.to_vec());
            }
            let (a, b) = items.split_at(items.len() / 2);
            let mut rejected = post_review(client, pr, a, report)?;
            rejected.extend(post_review(client, pr, b, report)?);
            Ok(rejected)
        }
        Err(e) => Err(e),
    }
}

fn summary_body(
    outcome: &ScanOutcome,
    pr: &PullRequest,
    outside: &[&Finding],
    report: &Report,
    links: &Links,
) -> String {
    let mut out = format!(
        "{SUMMARY_MARKER}\n{OPEN_PREFIX}{} -->\n## shiplint\n\n",
        outcome.findings.len()
    );
    if outcome.findings.is_empty() {
        out.push_str("✅ No findings.\n\n");
    } else {
        out.push_str(&counts_markdown(outcome));
    }
    let _ = writeln!(
        out,
        "Inline: {} new, {} already commented, {} resolved{}.\n",
        report.posted,
        report.kept + report.reopened,
        report.resolved,
        if report.demoted > 0 {
            format!(", {} could not be anchored", report.demoted)
        } else {
            String::new()
        }
    );
    if report.over_budget > 0 {
        let _ = writeln!(
            out,
            "{} past this run's limit of inline comments (`--max-comments`); later runs post them.\n",
            crate::report::plural(report.over_budget, "finding")
        );
    }
    if !outside.is_empty() {
        out.push_str("### Not commented inline\n\n");
        out.push_str(&findings_table(outside, 50));
        out.push('\n');
    }
    if let Some(url) = links.code_scanning() {
        let _ = writeln!(out, "[All findings in code scanning]({url})\n");
    }
    let _ = writeln!(
        out,
        "<sub>shiplint {} · updated for {}</sub>",
        env!("CARGO_PKG_VERSION"),
        &pr.head_sha[..pr.head_sha.len().min(7)]
    );
    out
}

/// Edits our summary in place (deleting duplicates), or creates it.
pub fn upsert_summary(client: &Client, pr: &PullRequest, bot: &str, body: &str) -> Result<()> {
    let repo = pr.repo_path();
    let all = list_comments(client, &format!("{repo}/issues/{}/comments", pr.number))?;
    let mine = ours(&all, bot, SUMMARY_MARKER);
    match mine.split_first() {
        Some((first, rest)) => {
            if first.body != body {
                client.patch(
                    &format!("{repo}/issues/comments/{}", first.id),
                    &json!({"body": body}),
                )?;
            }
            for c in rest {
                client.delete(&format!("{repo}/issues/comments/{}", c.id))?;
            }
        }
        None => {
            client.post(
                &format!("{repo}/issues/{}/comments", pr.number),
                &json!({"body": body}),
            )?;
        }
    }
    Ok(())
}

fn label(client: &Client, pr: &PullRequest, on: bool) -> Result<()> {
    let path = format!("{}/issues/{}/labels", pr.repo_path(), pr.number);
    if on {
        client.post(&path, &json!({"labels": [FINDINGS_LABEL]}))?;
    } else {
        let labels = client.get_all(&path)?;
        if labels
            .iter()
            .any(|l| l.get("name").and_then(Value::as_str) == Some(FINDINGS_LABEL))
        {
            client.delete(&format!("{path}/{}", super::path_segment(FINDINGS_LABEL)))?;
        }
    }
    Ok(())
}
