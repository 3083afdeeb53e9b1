//! A stable JSON document: summary, findings, notes.

use super::counts;
use crate::scan::ScanOutcome;
use serde_json::json;

pub fn render(outcome: &ScanOutcome) -> String {
    let (errors, warnings, notes) = counts(&outcome.findings);
    let doc = json!({
        "tool": {"name": "shiplint", "version": env!("CARGO_PKG_VERSION")},
        "summary": {
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
        },
        "properties": outcome.properties,
        "findings": outcome.findings,
        "notes": outcome.notes,
    });
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
