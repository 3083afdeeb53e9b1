//! `path:line:col: severity rule-id message`, a source snippet with a caret,
//! and a summary line.

use super::{counts, plural};
use crate::scan::ScanOutcome;
use std::fmt::Write;

pub fn render(outcome: &ScanOutcome) -> String {
    let mut out = String::new();
    for f in &outcome.findings {
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
    out
}
