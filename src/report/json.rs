//! A stable JSON document: summary, findings, notes.

use super::counts;
use crate::finding::Finding;
use crate::scan::ScanOutcome;
use serde::Serialize;
use serde_json::json;

/// Borrows the findings: serialising them straight to text, without an
/// intermediate `serde_json::Value`, keeps a big report from holding a
/// second copy of every finding in memory.
#[derive(Serialize)]
struct Report<'a> {
    tool: serde_json::Value,
    summary: serde_json::Value,
    properties: &'a serde_json::Map<String, serde_json::Value>,
    findings: &'a [Finding],
    notes: &'a [String],
}

pub fn render(outcome: &ScanOutcome) -> String {
    let (errors, warnings, notes) = counts(&outcome.findings);
    let doc = Report {
        tool: json!({"name": "shiplint", "version": env!("CARGO_PKG_VERSION")}),
        summary: json!({
            "files": outcome.stats.files,
            "resources": outcome.stats.resources,
            "findings": outcome.findings.len(),
            "errors": errors,
            "warnings": warnings,
            "notes": notes,
            "skipped": {
                "binary": outcome.stats.skipped_binary,
                "large": outcome.stats.skipped_large,
                "templates": outcome.stats.skipped_templates,
            },
            "durationMs": outcome.stats.duration_ms,
        }),
        properties: &outcome.properties,
        findings: &outcome.findings,
        notes: &outcome.notes,
    };
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
