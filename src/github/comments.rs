//! `shiplint comment`: one sticky summary comment and at most 30 (or
//! `--max-comments`) inline comments per run, anchored on lines the PR
//! changed: one comment per line, listing every rule that fires there (at
//! or above `--inline-level`; the rest stay in the summary). A comment
//! carries the fingerprints of its findings: a line whose rules are
//! unchanged keeps its comment, one whose rules changed gets it edited, one
//! with nothing left gets it marked resolved, and nothing a 422 rejects is
//! lost.

use super::client::{is_permission_error, is_unprocessable, Client};
use super::event::PullRequest;
use super::hunks::{self, FileDiff, Placement};
use super::{
    answered, list_comments, ours, Comment, FINDINGS_LABEL, FPS_PREFIX, FP_PREFIX, OPEN_PREFIX,
    RESOLVED_MARKER, SUMMARY_MARKER,
};
use crate::finding::{Finding, Severity};
use crate::github::CommentFilter;
use crate::report::github::{
    counts_markdown, findings_table, inert, inert_cell, resource_name, short, suggestion_block,
    top_resources_markdown, top_rules_markdown, Links,
};
use crate::scan::ScanOutcome;
use anyhow::Result;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

pub struct Options {
    pub filter: CommentFilter,
    pub max_comments: usize,
    pub label: bool,
    /// Findings below this level stay in the summary (`--inline-level`).
    pub inline_level: Severity,
}

#[derive(Debug, Default)]
pub struct Report {
    /// New inline (line or file-level) comments.
    pub posted: usize,
    /// Comments of an earlier run that still say what is on their line.
    pub kept: usize,
    /// Comments edited because the rules firing on their line changed.
    pub updated: usize,
    /// Comments marked resolved because everything on their line is gone.
    pub resolved: usize,
    /// Comments reopened because their findings came back.
    pub reopened: usize,
    /// Findings GitHub would not take inline; they are in the summary.
    pub demoted: usize,
    /// Findings past `--max-comments`; they are in the summary.
    pub over_budget: usize,
    /// Findings below `--inline-level`; they are in the summary.
    pub below_level: usize,
    /// The lowest level commented inline.
    pub inline_level: Option<Severity>,
    pub reviews: usize,
    /// The token could not write: nothing (more) was posted.
    pub read_only: bool,
}

/// The findings of one line: one comment. (`line` is the line the comment
/// is anchored on; a file-level comment has none.)
#[derive(Clone)]
struct Group<'a> {
    path: &'a str,
    line: Option<usize>,
    findings: Vec<&'a Finding>,
}

impl Group<'_> {
    fn fingerprints(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .findings
            .iter()
            .map(|f| f.fingerprint.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Most rows of an inline comment's table.
const INLINE_ROWS: usize = 20;

/// An inline comment: one row per rule firing on the line (most severe
/// first), then a suggestion when a finding's fix replaces exactly this
/// line. Rule, message (which quotes the PR's names and keys) and all are
/// the PR's text as far as Markdown is concerned: inert.
fn inline_body(g: &Group) -> String {
    let mut findings = g.findings.clone();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let fps = g.fingerprints();
    let mut out = format!(
        "{FP_PREFIX}{} -->\n{FPS_PREFIX}{} -->\n",
        findings[0].fingerprint,
        fps.join(",")
    );
    let first = findings[0];
    let mut what = first
        .resource
        .as_ref()
        .map(|r| resource_name(r))
        .unwrap_or_default();
    if let Some(c) = &first.container {
        what = format!("{what} container {c}");
    }
    let head = if findings.len() == 1 {
        format!("**{}** on this line", first.severity)
    } else {
        format!("**{} rules** fire on this line", findings.len())
    };
    if what.trim().is_empty() {
        let _ = writeln!(out, "{head}\n");
    } else {
        let _ = writeln!(out, "{head}: {}\n", inert(what.trim()));
    }
    out.push_str("| Level | Rule | Message |\n|---|---|---|\n");
    for f in findings.iter().take(INLINE_ROWS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            f.severity,
            inert_cell(&f.rule),
            inert_cell(&short(&f.message, 600))
        );
    }
    if findings.len() > INLINE_ROWS {
        let _ = writeln!(out, "\n_and {} more._", findings.len() - INLINE_ROWS);
    }
    if let Some(line) = g.line {
        let fix = findings
            .iter()
            .filter_map(|f| f.fix.as_deref())
            .find(|x| x.line == line && x.end_line == line);
        if let Some(block) = fix.and_then(|x| suggestion_block(&x.text).map(|b| (x, b))) {
            let _ = write!(
                out,
                "\nSuggested fix ({}):\n\n{}",
                inert(&short(&block.0.description, 200)),
                block.1
            );
        }
    }
    let rules: Vec<&str> = {
        let mut r: Vec<&str> = findings.iter().map(|f| &*f.rule).collect();
        r.dedup();
        r
    };
    let _ = write!(
        out,
        "\n<sub>shiplint · {}</sub>",
        inert(&format!("shiplint explain {}", rules[0]))
    );
    out
}

fn resolved_body(old: &Comment, fp: &str, sha: &str) -> String {
    let visible: String = old
        .body
        .lines()
        .filter(|l| !l.starts_with("<!-- shiplint:"))
        .collect::<Vec<_>>()
        .join("\n");
    let members = old
        .body
        .lines()
        .find(|l| l.starts_with(FPS_PREFIX))
        .map(|l| format!("{l}\n"))
        .unwrap_or_default();
    format!(
        "{FP_PREFIX}{fp} -->\n{members}{RESOLVED_MARKER}\n✅ **Resolved**: shiplint no longer reports this at {}.\n\n<details><summary>Original comment</summary>\n\n{}\n\n</details>",
        &sha[..sha.len().min(7)],
        visible
    )
}

fn review_comment(g: &Group) -> Value {
    json!({
        "path": g.path,
        "line": g.line,
        "side": "RIGHT",
        "body": inline_body(g),
    })
}

/// Rows of the summary's top-rules and top-resources tables.
const TOP_ROWS: usize = 10;

/// Everything the run needs to know before writing.
struct Plan<'a> {
    inline: Vec<Group<'a>>,
    file_level: Vec<Group<'a>>,
    summary_only: Vec<&'a Finding>,
    /// Findings below `--inline-level` (in `summary_only`).
    below_level: usize,
    /// Existing comments to rewrite: reopened ones, and ones whose line's
    /// rules changed.
    reopen: Vec<(&'a Comment, Group<'a>)>,
    update: Vec<(&'a Comment, Group<'a>)>,
    stale: Vec<&'a Comment>,
    kept: usize,
}

fn plan<'a>(
    findings: &'a [Finding],
    diffs: &HashMap<String, FileDiff>,
    existing: &[&'a Comment],
    filter: CommentFilter,
    inline_level: Severity,
) -> Plan<'a> {
    let mut existing: Vec<&Comment> = existing.to_vec();
    existing.sort_by_key(|c| c.id);
    let mut by_fp: HashMap<&str, Vec<&Comment>> = HashMap::new();
    for c in &existing {
        for fp in super::fingerprints_of(&c.body) {
            by_fp.entry(fp).or_default().push(c);
        }
    }
    let present: HashSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let mut p = Plan {
        inline: Vec::new(),
        file_level: Vec::new(),
        summary_only: Vec::new(),
        below_level: 0,
        reopen: Vec::new(),
        update: Vec::new(),
        stale: Vec::new(),
        kept: 0,
    };
    // Group by the line each finding is anchored on (report order kept).
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<(&str, Option<usize>, usize), usize> = HashMap::new();
    let mut seen = HashSet::new();
    for f in findings {
        if !seen.insert(f.fingerprint.as_str()) {
            continue;
        }
        if f.severity < inline_level {
            p.below_level += 1;
            p.summary_only.push(f);
            continue;
        }
        let path = f.path.trim_start_matches("./");
        let (line, key_line) =
            match hunks::place(diffs.get(path), f.span.line, f.span.end_line, filter) {
                Placement::Line(l) => (Some(l), l),
                // One file-level comment per line of the file.
                Placement::File => (None, f.span.line),
                Placement::Summary => {
                    p.summary_only.push(f);
                    continue;
                }
            };
        let i = *index.entry((path, line, key_line)).or_insert_with(|| {
            groups.push(Group {
                path,
                line,
                findings: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].findings.push(f);
    }
    let mut used: HashSet<u64> = HashSet::new();
    for g in groups {
        let fps = g.fingerprints();
        // The comment already about this line: one with the same findings,
        // else one about any of them (open ones first).
        let candidates: Vec<&Comment> = {
            let mut c: Vec<&Comment> = fps
                .iter()
                .flat_map(|fp| by_fp.get(fp).into_iter().flatten().copied())
                .filter(|c| !used.contains(&c.id))
                .collect();
            c.sort_by_key(|c| (c.body.contains(RESOLVED_MARKER), c.id));
            c.dedup_by_key(|c| c.id);
            c
        };
        let same = |c: &Comment| {
            let mut have = super::fingerprints_of(&c.body);
            have.sort_unstable();
            have.dedup();
            have == fps
        };
        let found = candidates
            .iter()
            .find(|c| same(c))
            .or(candidates.first())
            .copied();
        match found {
            Some(c) => {
                used.insert(c.id);
                if c.body.contains(RESOLVED_MARKER) {
                    p.reopen.push((c, g));
                } else if same(c) {
                    p.kept += 1;
                } else {
                    p.update.push((c, g));
                }
            }
            None if g.line.is_some() => p.inline.push(g),
            None => p.file_level.push(g),
        }
    }
    // A comment none of whose findings is reported any more is resolved;
    // one whose findings are still reported elsewhere (in another line's
    // comment, or in the summary) is left as it is.
    for c in existing {
        if used.contains(&c.id) || c.body.contains(RESOLVED_MARKER) {
            continue;
        }
        let fps = super::fingerprints_of(&c.body);
        if !fps.is_empty() && !fps.iter().any(|fp| present.contains(fp)) {
            p.stale.push(c);
        }
    }
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
    let p = plan(
        &outcome.findings,
        &diffs,
        &mine,
        opts.filter,
        opts.inline_level,
    );
    report.kept = p.kept;
    report.below_level = p.below_level;
    report.inline_level = Some(opts.inline_level);

    // Inline comments: at most `max_comments` in the whole run (every
    // review and file-level comment together), in reviews bisected on 422;
    // the rest go to the summary and are tried again on the next run.
    let budget = opts.max_comments.clamp(1, 30);
    let mut demoted: Vec<&Finding> = Vec::new();
    let mut over_budget: Vec<&Finding> = Vec::new();
    let (now, later) = p.inline.split_at(p.inline.len().min(budget));
    over_budget.extend(later.iter().flat_map(|g| g.findings.iter().copied()));
    let mut file_level = Vec::new();
    let rejected = post_review(client, pr, now, report)?;
    // A line GitHub refused becomes a file-level comment.
    file_level.extend(rejected.into_iter().map(|g| Group { line: None, ..g }));
    file_level.extend(p.file_level.iter().cloned());
    for g in file_level {
        if report.posted >= budget {
            over_budget.extend(g.findings.iter().copied());
            continue;
        }
        let body = json!({
            "body": inline_body(&g),
            "commit_id": pr.head_sha,
            "path": g.path,
            "subject_type": "file",
        });
        match client.post(&format!("{repo}/pulls/{n}/comments"), &body) {
            Ok(_) => report.posted += 1,
            Err(e) if is_unprocessable(&e) => demoted.extend(g.findings.iter().copied()),
            Err(e) => return Err(e),
        }
    }
    report.over_budget = over_budget.len();
    report.demoted = demoted.len();

    for (c, g) in &p.reopen {
        client.patch(
            &format!("{repo}/pulls/comments/{}", c.id),
            &json!({"body": inline_body(g)}),
        )?;
        report.reopened += 1;
    }
    for (c, g) in &p.update {
        client.patch(
            &format!("{repo}/pulls/comments/{}", c.id),
            &json!({"body": inline_body(g)}),
        )?;
        report.updated += 1;
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
    items: &[Group<'a>],
    report: &mut Report,
) -> Result<Vec<Group<'a>>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let body = json!({
        "commit_id": pr.head_sha,
        "event": "COMMENT",
        "body": format!(
            "shiplint: {} on {} this pull request changed (see the summary comment for the rest).",
            crate::report::plural(items.iter().map(|g| g.findings.len()).sum(), "finding"),
            crate::report::plural(items.len(), "line")
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
        "Inline comments (one per line): {} new, {} already there, {} updated, {} resolved{}.\n",
        report.posted,
        report.kept + report.reopened,
        report.updated,
        report.resolved,
        if report.demoted > 0 {
            format!(", {} could not be anchored", report.demoted)
        } else {
            String::new()
        }
    );
    if let (n @ 1.., Some(level)) = (report.below_level, report.inline_level) {
        let _ = writeln!(
            out,
            "{} below the inline level ({level}s and up are commented inline; `--inline-level` changes it) are listed here only.\n",
            crate::report::plural(n, "finding")
        );
    }
    if report.over_budget > 0 {
        let _ = writeln!(
            out,
            "{} past this run's limit of inline comments (`--max-comments`); later runs post them.\n",
            crate::report::plural(report.over_budget, "finding")
        );
    }
    if !outcome.findings.is_empty() {
        out.push_str("### Top rules\n\n");
        out.push_str(&top_rules_markdown(&outcome.findings, TOP_ROWS));
        let resources = top_resources_markdown(&outcome.findings, TOP_ROWS);
        if !resources.is_empty() {
            out.push_str("### Resources with most findings\n\n");
            out.push_str(&resources);
        }
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
