//! `path:line:col: severity rule-id message`, a source snippet with a caret,
//! and a summary line.

use super::{counts, plural};
use crate::finding::Finding;
use crate::scan::ScanOutcome;
use std::fmt::Write;

/// What the text report shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Only the per-rule table and the totals.
    pub quiet: bool,
    /// Findings below this level are counted but not shown.
    pub min_level: Option<crate::finding::Severity>,
}

pub fn render(outcome: &ScanOutcome) -> String {
    let mut out = Vec::new();
    let _ = write(outcome, &mut out, Options::default());
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the report: one line's findings at a time, so a run with a
/// hundred thousand findings never holds the whole text in memory. Several
/// findings on one line share one header and one snippet.
pub fn write(
    outcome: &ScanOutcome,
    w: &mut dyn std::io::Write,
    opts: Options,
) -> std::io::Result<()> {
    let mut out = String::new();
    if !opts.quiet {
        let shown: Vec<&Finding> = outcome
            .findings
            .iter()
            .filter(|f| opts.min_level.is_none_or(|m| f.severity >= m))
            .collect();
        for group in shown.chunk_by(|a, b| a.path == b.path && a.span.line == b.span.line) {
            out.clear();
            match group {
                [f] => finding(&mut out, f),
                _ => line_group(&mut out, group),
            }
            w.write_all(out.as_bytes())?;
        }
    }
    out.clear();
    rule_table(&mut out, outcome);
    summary(&mut out, outcome);
    w.write_all(out.as_bytes())
}

/// Several rules on one line: `path:line: Kind/ns/name container 'c'`, one
/// line per rule, then the snippet once.
fn line_group(out: &mut String, group: &[&Finding]) {
    let first = group[0];
    let what = first.resource.as_ref().map_or(String::new(), |r| {
        let name = r.name.as_deref().unwrap_or("<unnamed>");
        let ns = r
            .namespace
            .as_deref()
            .map_or(String::new(), |n| format!("{n}/"));
        match &first.container {
            Some(c) => format!(" {}/{ns}{name} container '{c}'", r.kind),
            None => format!(" {}/{ns}{name}", r.kind),
        }
    });
    let _ = writeln!(
        out,
        "{}:{}:{}:{what} {} findings",
        first.path,
        first.span.line,
        first.span.col,
        group.len()
    );
    for f in group {
        let _ = writeln!(out, "  {:<7} {} {}", f.severity.as_str(), f.rule, f.message);
    }
    // The snippet (and caret) of the first finding, without its header.
    let mut one = String::new();
    finding(&mut one, first);
    for l in one.lines().skip(1) {
        out.push_str(l);
        out.push('\n');
    }
}

/// Count, level and first place per rule, most frequent first.
fn rule_table(out: &mut String, outcome: &ScanOutcome) {
    let rules = super::rule_counts(&outcome.findings);
    if rules.len() < 2 {
        return;
    }
    let width = rules.iter().map(|r| r.rule.len()).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "{:>6}  {:<7}  {:<width$}  first",
        "count", "level", "rule"
    );
    for r in &rules {
        let _ = writeln!(
            out,
            "{:>6}  {:<7}  {:<width$}  {}:{}",
            r.count,
            r.level.as_str(),
            r.rule,
            r.first_path,
            r.first_line
        );
    }
    out.push('\n');
}

fn finding(out: &mut String, f: &Finding) {
    let _ = writeln!(
        out,
        "{}:{}:{}: {} {} {}",
        f.path, f.span.line, f.span.col, f.severity, f.rule, f.message
    );
    if let Some(snip) = &f.snippet {
        let num = snip.line.to_string();
        let pad = " ".repeat(num.len());
        let text = snip.text.replace('\t', " ");
        let shown: String = text.chars().take(200).collect();
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(
            out,
            "{num} | {shown}{}",
            if text.chars().count() > 200 {
                "…"
            } else {
                ""
            }
        );
        let col = f.span.col.max(1);
        let width = if f.span.end_line == f.span.line && f.span.end_col > col {
            f.span.end_col - col
        } else {
            1
        };
        if col <= shown.chars().count() + 1 {
            let width = width.min(shown.chars().count().saturating_sub(col - 1).max(1));
            let _ = writeln!(out, "{pad} | {}{}", " ".repeat(col - 1), "^".repeat(width));
        }
    }
    out.push('\n');
}

fn summary(out: &mut String, outcome: &ScanOutcome) {
    review_summary(out, outcome);
    let (e, w, n) = counts(&outcome.findings);
    let s = &outcome.stats;
    let mut skipped = Vec::new();
    if s.skipped_templates > 0 {
        skipped.push(format!(
            "{} not parsed as YAML",
            plural(s.skipped_templates, "template")
        ));
    }
    if s.skipped_binary > 0 {
        skipped.push(format!(
            "{} skipped",
            plural(s.skipped_binary, "binary file")
        ));
    }
    if s.skipped_large > 0 {
        skipped.push(format!("{} skipped", plural(s.skipped_large, "large file")));
    }
    if !outcome.exempted.is_empty() {
        skipped.push(format!(
            "{} exempted",
            plural(outcome.exempted.len(), "finding")
        ));
    }
    let _ = writeln!(
        out,
        "{}, {}: {}, {}, {}{} ({:.2}s)",
        plural(s.files, "file"),
        plural(s.resources, "resource"),
        plural(e, "error"),
        plural(w, "warning"),
        plural(n, "note"),
        if skipped.is_empty() {
            String::new()
        } else {
            format!("; {}", skipped.join(", "))
        },
        s.duration.as_secs_f64()
    );
}

/// The review pack's PR risk, per-file risks, comments below the inline
/// threshold and token usage, when the run has them.
fn review_summary(out: &mut String, outcome: &ScanOutcome) {
    let p = &outcome.properties;
    let Some(risk) = p.get("prRisk").and_then(|v| v.as_u64()) else {
        return;
    };
    let _ = writeln!(out, "PR risk: {risk}/5{}", risk_sources(p));
    risk_reasons(out, p);
    for f in p
        .get("reviewFiles")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let summary = f["summary"].as_str().unwrap_or("");
        let _ = writeln!(
            out,
            "  risk {}  {}{}{}",
            f["riskScore"],
            f["path"].as_str().unwrap_or(""),
            if summary.is_empty() { "" } else { ": " },
            summary.replace('\n', " ")
        );
    }
    let below = p
        .get("reviewSummary")
        .and_then(|v| v.as_array())
        .map(|a| a.as_slice())
        .unwrap_or_default();
    if !below.is_empty() {
        let _ = writeln!(out, "Below the inline threshold:");
        for c in below {
            let _ = writeln!(
                out,
                "  {}:{}: risk {}/5, confidence {}/5: {}",
                c["path"].as_str().unwrap_or(""),
                c["line"],
                c["riskScore"],
                c["confidence"],
                c["title"].as_str().unwrap_or("")
            );
        }
    }
    if let Some(u) = p.get("reviewUsage") {
        let _ = writeln!(
            out,
            "Review: model {}, {} chunks ({} cached, {} not reviewed), {} requests, {} prompt + {} completion tokens",
            u["model"].as_str().unwrap_or("?"),
            u["chunks"],
            u["cachedChunks"],
            u["failedChunks"],
            u["requests"],
            u["promptTokens"],
            u["completionTokens"]
        );
    }
    out.push('\n');
}

/// ` (rules 4/5, LLM 3/5)`: where the PR risk comes from, when known.
fn risk_sources(p: &serde_json::Map<String, serde_json::Value>) -> String {
    let rules = p.get("prRiskDeterministic").and_then(|v| v.as_u64());
    let llm = p.get("prRiskLlm").and_then(|v| v.as_u64());
    match (rules, llm) {
        (Some(r), Some(l)) => format!(" (rules {r}/5, LLM {l}/5)"),
        (Some(r), None) => format!(" (rules {r}/5, no LLM score)"),
        _ => String::new(),
    }
}

/// The deterministic risk's top 5 reasons.
fn risk_reasons(out: &mut String, p: &serde_json::Map<String, serde_json::Value>) {
    const TOP: usize = 5;
    let reasons = p
        .get("prRiskReasons")
        .and_then(|v| v.as_array())
        .map(|a| a.as_slice())
        .unwrap_or_default();
    for r in reasons.iter().take(TOP) {
        let _ = writeln!(
            out,
            "  {}/5  {}:{}: {}",
            r["weight"],
            r["path"].as_str().unwrap_or(""),
            r["line"],
            r["reason"].as_str().unwrap_or("").replace('\n', " ")
        );
    }
    if reasons.len() > TOP {
        let _ = writeln!(
            out,
            "  … {} more reasons (JSON: properties.prRiskReasons)",
            reasons.len() - TOP
        );
    }
}
