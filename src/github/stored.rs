//! Reading a `scan --format json` report back, for the second stage of the
//! fork-safe `workflow_run` recipe (the first stage ran without a write
//! token and uploaded the report as an artifact).
//!
//! The artifact is the PR's output: everything in it is validated before a
//! write token touches it. A rule must be one shiplint knows, a severity one
//! of its three, a path relative, without `..` and without control
//! characters; anything else refuses the whole report.

use crate::finding::{Finding, Severity};
use crate::scan::{ScanOutcome, Stats};
use crate::source::Span;
use anyhow::{anyhow, Context as _, Result};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

fn num(v: &Value, k: &str) -> usize {
    v.get(k).and_then(Value::as_u64).unwrap_or(0) as usize
}

/// A path a scan could have reported: relative to the repository, no `..`,
/// no control or format character, not absurdly long.
fn sane_path(p: &str) -> bool {
    let absolute = p.starts_with('/') || p.contains('\\') || p.get(1..2) == Some(":");
    !p.is_empty()
        && p.len() <= 4096
        && !absolute
        && !p.chars().any(crate::report::github::is_invisible)
        && p.split('/').all(|seg| seg != "..")
}

fn finding(v: &Value, rules: &HashSet<String>) -> Result<Finding> {
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("finding without `{k}`"))
    };
    let severity = match s("severity")? {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        "note" => Severity::Note,
        other => {
            return Err(anyhow!(
                "unknown severity {:?}",
                crate::report::github::log_text(&crate::report::github::short(other, 40))
            ))
        }
    };
    let sp = v.get("span").cloned().unwrap_or(Value::Null);
    let span = Span {
        line: num(&sp, "line"),
        col: num(&sp, "col"),
        end_line: num(&sp, "end_line"),
        end_col: num(&sp, "end_col"),
    };
    let rule = s("rule")?;
    if !rules.contains(rule) {
        return Err(anyhow!(
            "unknown rule {:?}",
            crate::report::github::log_text(&crate::report::github::short(rule, 80))
        ));
    }
    let path = s("path")?;
    if !sane_path(path) {
        return Err(anyhow!(
            "path {:?} is not a relative path inside the repository",
            crate::report::github::log_text(&crate::report::github::short(path, 200))
        ));
    }
    let path: Arc<str> = path.into();
    let mut f = Finding::new(rule, severity, &path, span, s("message")?);
    f.fingerprint = s("fingerprint")?.to_string();
    if f.fingerprint.is_empty()
        || f.fingerprint.len() > 128
        || !f.fingerprint.chars().all(|c| c.is_ascii_alphanumeric())
    {
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
    let rules: HashSet<String> = crate::packs::all_rules()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let findings = doc
        .get("findings")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("{}: not a shiplint JSON report", path.display()))?
        .iter()
        .enumerate()
        .map(|(i, v)| finding(v, &rules).with_context(|| format!("finding {}", i + 1)))
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
        exempted: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_in_the_repository() {
        for ok in ["k8s/a.yaml", "./a.yaml", "a..b/c.yaml"] {
            assert!(sane_path(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x.yaml",
            "k8s/../../x",
            "a\nb.yaml",
            "a\u{202E}b.yaml",
            "C:x",
            "a\\b",
        ] {
            assert!(!sane_path(bad), "{bad:?}");
        }
    }
}
