//! `path:line:col: severity rule-id message`, a source snippet with a caret,
//! and a summary line.

use super::{counts, plural};
use crate::finding::Finding;
use crate::scan::ScanOutcome;
use std::fmt::Write;

pub fn render(outcome: &ScanOutcome) -> String {
    let mut out = Vec::new();
    let _ = write(outcome, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the report: one finding at a time, so a run with a hundred
/// thousand findings never holds the whole text in memory.
pub fn write(outcome: &ScanOutcome, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut out = String::new();
    for f in &outcome.findings {
        out.clear();
        finding(&mut out, f);
        w.write_all(out.as_bytes())?;
    }
    out.clear();
    summary(&mut out, outcome);
    w.write_all(out.as_bytes())
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
