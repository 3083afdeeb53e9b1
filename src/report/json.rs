//! A stable JSON document: summary, findings, notes (docs/json.md).
//!
//! [`Report`] is both what `scan --format json` writes and what
//! `comment --findings` reads back (`github::stored`): one serde model, so
//! the two cannot drift apart.

use super::{counts, RuleCount};
use crate::finding::Finding;
use crate::scan::ScanOutcome;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// The document. Writing borrows the findings: serialising them straight to
/// text, without an intermediate `serde_json::Value`, keeps a big report
/// from holding a second copy of every finding in memory. Reading owns them.
#[derive(Serialize, Deserialize)]
pub struct Report<'a> {
    /// The version of this document's shape (docs/json.md): fields are
    /// only ever added; 2 added `resource`, `container`, `exempted`,
    /// `summary.rules`, `summary.skipped.files`; 3 added `fix`.
    #[serde(rename = "reportVersion", default)]
    pub report_version: u32,
    #[serde(default)]
    pub tool: Value,
    #[serde(default)]
    pub summary: Summary,
    #[serde(default)]
    pub properties: Cow<'a, Map<String, Value>>,
    pub findings: Cow<'a, [Finding]>,
    /// Not read back: a stored report's exemptions are applied again from
    /// the trusted config.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub exempted: Option<&'a [crate::exempt::Exempted]>,
    #[serde(default)]
    pub notes: Cow<'a, [String]>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Summary {
    pub files: usize,
    pub resources: usize,
    pub findings: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub exempted: usize,
    pub rules: Vec<RuleCount>,
    pub skipped: Skipped,
    pub duration_ms: u128,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Skipped {
    pub binary: usize,
    pub large: usize,
    pub templates: usize,
    pub files: Vec<SkippedFile>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// The shape version of the JSON report.
pub const REPORT_VERSION: u32 = 3;

pub fn render(outcome: &ScanOutcome) -> String {
    let mut out = Vec::new();
    if let Err(e) = write(outcome, &mut out) {
        return format!("{{\"error\": \"{e}\"}}\n");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The summary of an outcome.
pub fn summary(outcome: &ScanOutcome) -> Summary {
    let (errors, warnings, notes) = counts(&outcome.findings);
    Summary {
        files: outcome.stats.files,
        resources: outcome.stats.resources,
        findings: outcome.findings.len(),
        errors,
        warnings,
        notes,
        exempted: outcome.exempted.len(),
        rules: super::rule_counts(&outcome.findings),
        skipped: Skipped {
            binary: outcome.stats.skipped_binary,
            large: outcome.stats.skipped_large,
            templates: outcome.stats.skipped_templates,
            files: outcome
                .stats
                .skipped_files
                .iter()
                .map(|(path, reason)| SkippedFile {
                    path: path.clone(),
                    reason: reason.to_string(),
                })
                .collect(),
        },
        duration_ms: outcome.stats.duration_ms,
    }
}

/// Streams the document to `w` (buffer it): the text of a big report is
/// never held in memory as a whole.
pub fn write(outcome: &ScanOutcome, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let doc = Report {
        report_version: REPORT_VERSION,
        tool: json!({"name": "shiplint", "version": env!("CARGO_PKG_VERSION")}),
        summary: summary(outcome),
        properties: Cow::Borrowed(&outcome.properties),
        findings: Cow::Borrowed(&outcome.findings),
        exempted: Some(&outcome.exempted),
        notes: Cow::Borrowed(&outcome.notes),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n")
}

/// Reads a document back (the path of a refused field in the error).
pub fn read(text: &str) -> Result<Report<'static>, serde_path_to_error::Error<serde_json::Error>> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de)
}
