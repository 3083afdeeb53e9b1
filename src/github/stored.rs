//! Reading a `scan --format json` report back, for the second stage of the
//! fork-safe `workflow_run` recipe (the first stage ran without a write
//! token and uploaded the report as an artifact).

use crate::finding::{Finding, Severity};
use crate::scan::{ScanOutcome, Stats};
use crate::source::Span;
use anyhow::{anyhow, Context as _, Result};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

fn num(v: &Value, k: &str) -> usize {
    v.get(k).and_then(Value::as_u64).unwrap_or(0) as usize
}

fn finding(v: &Value) -> Result<Finding> {
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("finding without `{k}`"))
    };
    let severity = match s("severity")? {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        "note" => Severity::Note,
        other => return Err(anyhow!("unknown severity `{other}`")),
    };
    let sp = v.get("span").cloned().unwrap_or(Value::Null);
    let span = Span {
        line: num(&sp, "line"),
        col: num(&sp, "col"),
        end_line: num(&sp, "end_line"),
        end_col: num(&sp, "end_col"),
    };
    let path: Arc<str> = s("path")?.into();
    let mut f = Finding::new(s("rule")?, severity, &path, span, s("message")?);
    f.fingerprint = s("fingerprint")?.to_string();
    if !f.fingerprint.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(anyhow!("malformed fingerprint"));
    }
    if let Some(Value::Object(p)) = v.get("properties") {
        f.properties = Some(Box::new(p.clone()));
    }
    Ok(f)
}

/// Loads a JSON report as a scan outcome (without rules).
pub fn load(path: &Path) -> Result<ScanOutcome> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let findings = doc
        .get("findings")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("{}: not a shiplint JSON report", path.display()))?
        .iter()
        .map(finding)
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("reading findings from {}", path.display()))?;
    let summary = doc.get("summary").cloned().unwrap_or(Value::Null);
    Ok(ScanOutcome {
        findings,
        stats: Stats {
            files: num(&summary, "files"),
            resources: num(&summary, "resources"),
            ..Default::default()
        },
        notes: Vec::new(),
        rules: Vec::new(),
        properties: match doc.get("properties") {
            Some(Value::Object(m)) => m.clone(),
            _ => Default::default(),
        },
    })
}
