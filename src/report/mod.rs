//! Renderings of one scan outcome. A reporter never decides what is a finding.

pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use crate::finding::{Finding, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    /// Workflow-command annotations, a job summary and step outputs.
    Github,
    /// JUnit XML (GitLab, Jenkins, Azure DevOps test reports): a test case per file and rule.
    Junit,
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

pub(crate) use crate::text::plural;

/// One line of the per-rule summary: how often a rule fired, at its highest
/// level, and where first.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleCount {
    pub rule: String,
    pub level: Severity,
    pub count: usize,
    pub first_path: String,
    pub first_line: usize,
}

/// Rules by count (most first; ties by rule id), from findings in report order.
pub fn rule_counts(findings: &[Finding]) -> Vec<RuleCount> {
    let mut by_rule: std::collections::HashMap<&str, RuleCount> = Default::default();
    for f in findings {
        by_rule
            .entry(&f.rule)
            .and_modify(|c| {
                c.count += 1;
                c.level = c.level.max(f.severity);
            })
            .or_insert_with(|| RuleCount {
                rule: f.rule.to_string(),
                level: f.severity,
                count: 1,
                first_path: f.path.to_string(),
                first_line: f.span.line,
            });
    }
    let mut out: Vec<RuleCount> = by_rule.into_values().collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.rule.cmp(&b.rule)));
    out
}
