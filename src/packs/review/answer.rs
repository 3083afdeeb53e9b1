//! The model's answer: validated against the schema, then turned into
//! findings (sanitized, anchored, thresholded).

use super::anchor::{anchor, Anchor};
use super::diff::Hunk;
use super::sanitize::Sanitizer;
use crate::finding::{Finding, Severity, Snippet};
use crate::source::Span;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::LazyLock as Lazy;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub files: Vec<FileAnswer>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileAnswer {
    pub file_name: String,
    pub risk_score: u8,
    pub summary: String,
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub file_name: String,
    pub line: i64,
    pub quote: String,
    pub risk_score: u8,
    pub confidence: u8,
    pub title: String,
    pub details: String,
}

static VALIDATOR: Lazy<jsonschema::Validator> = Lazy::new(|| {
    jsonschema::validator_for(&super::prompt::response_schema()).expect("review schema compiles")
});

/// Parses and validates one answer; the error is short and names the problem.
pub fn validate(content: &str) -> Result<Answer, String> {
    let text = content.trim();
    // Some local servers wrap JSON in a code fence despite the schema.
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(text);
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
    if let Err(e) = VALIDATOR.validate(&v) {
        let at = e.instance_path().to_string();
        let msg: String = e.to_string().chars().take(160).collect();
        return Err(format!("does not match the schema at '{at}': {msg}"));
    }
    serde_json::from_value(v).map_err(|e| format!("does not match the schema ({e})"))
}

/// Whether an answer's file name means the chunk's file.
pub fn same_file(answer: &str, path: &str) -> bool {
    let a = answer
        .trim()
        .trim_start_matches("./")
        .trim_start_matches("b/");
    a == path || path.ends_with(&format!("/{a}")) && a.contains('/')
}

pub fn severity_for(risk: u8) -> Severity {
    match risk {
        4.. => Severity::Error,
        3 => Severity::Warning,
        _ => Severity::Note,
    }
}

/// A comment after sanitizing and anchoring.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewComment {
    pub path: String,
    pub line: usize,
    pub model_line: i64,
    pub anchor: &'static str,
    pub risk_score: u8,
    pub confidence: u8,
    pub title: String,
    pub details: String,
    #[serde(skip)]
    pub snippet: Option<String>,
}

pub fn prepare_comment(
    c: &Comment,
    path: &str,
    hunks: &[Hunk],
    san: &Sanitizer,
    max_chars: usize,
) -> ReviewComment {
    let line = usize::try_from(c.line).unwrap_or(0);
    let a = anchor(hunks, line, &c.quote);
    let anchored = a.line();
    let snippet = hunks
        .iter()
        .flat_map(|h| h.new_lines())
        .find(|(n, _)| *n == anchored)
        .map(|(_, l)| l.text.clone());
    let mut details = san.clean(&c.details, max_chars);
    if let Anchor::FileLevel { .. } = a {
        details = format!(
            "(about the file; the model's line {} is not in the diff) {details}",
            c.line
        );
    }
    ReviewComment {
        path: path.to_string(),
        line: anchored,
        model_line: c.line,
        anchor: a.kind(),
        risk_score: c.risk_score.clamp(1, 5),
        confidence: c.confidence.clamp(1, 5),
        title: san.clean(&c.title, 120).replace('\n', " "),
        details,
        snippet,
    }
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub fn to_finding(c: &ReviewComment) -> Finding {
    let path: Arc<str> = Arc::from(c.path.as_str());
    let mut message = format!(
        "{} (risk {}/5, confidence {}/5)",
        c.title, c.risk_score, c.confidence
    );
    if !c.details.is_empty() {
        message.push('\n');
        message.push_str(&c.details);
    }
    let mut f = Finding::from_rule(&super::RISK, &path, Span::line(c.line), message)
        .with_severity(severity_for(c.risk_score))
        .with_key(format!(
            "{}:{}",
            normalize(&c.title),
            normalize(c.snippet.as_deref().unwrap_or(""))
        ))
        .with_property("riskScore", c.risk_score)
        .with_property("confidence", c.confidence)
        .with_property("anchor", c.anchor);
    if c.anchor != "exact" {
        f = f.with_property("modelLine", c.model_line);
    }
    f.snippet = c.snippet.as_ref().map(|t| Snippet {
        line: c.line,
        text: t.clone(),
    });
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_shape_and_ranges() {
        let ok = r#"{"files":[{"fileName":"a.yaml","riskScore":2,"summary":"","comments":[]}]}"#;
        assert_eq!(validate(ok).unwrap().files.len(), 1);
        assert!(validate("{\"files\": [").is_err());
        let bad = r#"{"files":[{"fileName":"a.yaml","riskScore":9,"summary":"","comments":[]}]}"#;
        assert!(validate(bad).unwrap_err().contains("schema"));
        assert!(validate(&format!("```json\n{ok}\n```")).is_ok());
    }

    #[test]
    fn levels_from_risk() {
        assert_eq!(severity_for(5), Severity::Error);
        assert_eq!(severity_for(4), Severity::Error);
        assert_eq!(severity_for(3), Severity::Warning);
        assert_eq!(severity_for(2), Severity::Note);
        assert!(same_file("deploy/app.yaml", "deploy/app.yaml"));
        assert!(!same_file("other.yaml", "deploy/app.yaml"));
    }
}
