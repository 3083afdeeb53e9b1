//! Reading a `scan --format json` report back, for the second stage of the
//! fork-safe `workflow_run` recipe (the first stage ran without a write
//! token and uploaded the report as an artifact).
//!
//! The artifact is the PR's output: everything in it is validated before a
//! write token touches it. A rule must be one shiplint knows, a severity one
//! of its three, a path relative, without `..` and without control
//! characters; anything else refuses the whole report.

use crate::finding::Finding;
use crate::scan::{ScanOutcome, Stats};
use anyhow::{anyhow, Context as _, Result};
use std::collections::HashSet;
use std::path::Path;

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

/// Checks one finding of the report; drops what only a scan can know.
fn check(f: &mut Finding, rules: &HashSet<String>) -> Result<()> {
    if !rules.contains(&*f.rule) {
        return Err(anyhow!(
            "unknown rule {:?}",
            crate::report::github::log_text(&crate::report::github::short(&f.rule, 80))
        ));
    }
    if !sane_path(&f.path) {
        return Err(anyhow!(
            "path {:?} is not a relative path inside the repository",
            crate::report::github::log_text(&crate::report::github::short(&f.path, 200))
        ));
    }
    if f.fingerprint.is_empty()
        || f.fingerprint.len() > 128
        || !f.fingerprint.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(anyhow!("malformed fingerprint"));
    }
    // A suggestion is offered on the finding's line only, and small.
    if let Some(fix) = &f.fix {
        let ok = fix.line >= 1
            && fix.end_line >= fix.line
            && fix.end_line - fix.line < 50
            && fix.text.len() <= 10_000
            && fix.description.len() <= 500;
        if !ok {
            return Err(anyhow!("malformed fix"));
        }
    }
    f.doc_ignores.clear();
    f.key.clear();
    Ok(())
}

/// Loads a JSON report as a scan outcome (without rules), through the
/// reporter's own model (`report::json::Report`).
pub fn load(path: &Path) -> Result<ScanOutcome> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc = read(&text).with_context(|| format!("reading {}", path.display()))?;
    let rules: HashSet<String> = crate::packs::all_rules()
        .into_iter()
        .flat_map(|r| r.names())
        .map(String::from)
        .collect();
    let mut findings = doc.findings.into_owned();
    for (i, f) in findings.iter_mut().enumerate() {
        check(f, &rules)
            .with_context(|| format!("finding {}", i + 1))
            .with_context(|| format!("reading findings from {}", path.display()))?;
    }
    Ok(ScanOutcome {
        findings,
        stats: Stats {
            files: doc.summary.files,
            resources: doc.summary.resources,
            ..Default::default()
        },
        notes: Vec::new(),
        rules: Vec::new(),
        properties: doc.properties.into_owned(),
        exempted: Vec::new(),
    })
}

/// Parses the document; a refusal names the field, never echoes the
/// report's text (it may be a pull request's).
fn read(text: &str) -> Result<crate::report::json::Report<'static>> {
    crate::report::json::read(text).map_err(|e| {
        let at = crate::report::github::log_text(&crate::report::github::short(
            &e.path().to_string(),
            120,
        ));
        let inner = e.into_inner();
        let why = match inner.classify() {
            serde_json::error::Category::Data => {
                let msg = inner.to_string();
                // Our own messages say nothing of the input; serde's quote it.
                if msg.starts_with("unknown severity") {
                    "unknown severity (not error, warning or note)".to_string()
                } else if msg.starts_with("missing field") {
                    crate::report::github::log_text(&crate::report::github::short(&msg, 80))
                } else {
                    "a value of the wrong type".to_string()
                }
            }
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!(
                    "not JSON (line {}, column {})",
                    inner.line(),
                    inner.column()
                )
            }
            serde_json::error::Category::Io => "unreadable".to_string(),
        };
        if at == "." || at.is_empty() {
            anyhow!("not a shiplint JSON report: {why}")
        } else {
            anyhow!("not a shiplint JSON report: at {at}: {why}")
        }
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
