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
    /// The version of this document's shape (docs/json.md): fields are
    /// only ever added; 2 added `resource`, `container`, `exempted`,
    /// `summary.rules`, `summary.skipped.files`.
    #[serde(rename = "reportVersion")]
    report_version: u32,
    tool: serde_json::Value,
    summary: serde_json::Value,
    properties: &'a serde_json::Map<String, serde_json::Value>,
    findings: &'a [Finding],
    exempted: &'a [crate::exempt::Exempted],
    notes: &'a [String],
}

/// The shape version of the JSON report.
pub const REPORT_VERSION: u32 = 2;

pub fn render(outcome: &ScanOutcome) -> String {
    let mut out = Vec::new();
    if let Err(e) = write(outcome, &mut out) {
        return format!("{{\"error\": \"{e}\"}}\n");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the document to `w` (buffer it): the text of a big report is
/// never held in memory as a whole.
pub fn write(outcome: &ScanOutcome, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let (errors, warnings, notes) = counts(&outcome.findings);
    let doc = Report {
        report_version: REPORT_VERSION,
        tool: json!({"name": "shiplint", "version": env!("CARGO_PKG_VERSION")}),
        summary: json!({
            "files": outcome.stats.files,
            "resources": outcome.stats.resources,
            "findings": outcome.findings.len(),
            "errors": errors,
            "warnings": warnings,
            "notes": notes,
            "exempted": outcome.exempted.len(),
            "rules": super::rule_counts(&outcome.findings),
            "skipped": {
                "binary": outcome.stats.skipped_binary,
                "large": outcome.stats.skipped_large,
                "templates": outcome.stats.skipped_templates,
                "files": outcome.stats.skipped_files.iter()
                    .map(|(path, reason)| json!({"path": path, "reason": reason}))
                    .collect::<Vec<_>>(),
            },
            "durationMs": outcome.stats.duration_ms,
        }),
        properties: &outcome.properties,
        findings: &outcome.findings,
        exempted: &outcome.exempted,
        notes: &outcome.notes,
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n")
}
