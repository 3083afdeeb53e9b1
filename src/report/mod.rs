//! Renderings of one scan outcome. A reporter never decides what is a finding.

pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

use crate::finding::{Finding, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    /// Workflow-command annotations, a job summary and step outputs.
    Github,
}

/// Counts of findings by severity: (errors, warnings, notes).
pub fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    findings
        .iter()
        .fold((0, 0, 0), |(e, w, n), f| match f.severity {
            Severity::Error => (e + 1, w, n),
            Severity::Warning => (e, w + 1, n),
            Severity::Note => (e, w, n + 1),
        })
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
