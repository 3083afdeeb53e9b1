//! What packs produce and reporters render.

use crate::source::Span;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The line shown under a finding; packs that see secrets put a redacted
/// copy here themselves so the raw value never reaches a reporter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snippet {
    pub line: usize,
    pub text: String,
}

/// Serialised by the JSON report and read back by `comment --findings`
/// (`report::json::Report`): one type for both directions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub rule: Arc<str>,
    #[serde(deserialize_with = "severity_from_report")]
    pub severity: Severity,
    pub message: String,
    pub path: Arc<str>,
    #[serde(with = "SpanDef", default)]
    pub span: Span,
    /// Stable identity of what was found, independent of line numbers
    /// (e.g. `Deployment/web:/spec/replicas`). Hashed into `fingerprint`.
    #[serde(skip)]
    pub key: String,
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Snippet>,
    /// Extra machine-readable facts (e.g. `riskScore`, `replacement`).
    /// Boxed: most findings have none, and a big run holds many findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    /// Rule ids a document-level annotation silences for this finding.
    #[serde(skip)]
    pub doc_ignores: Vec<String>,
    /// The resource the finding is about (`locate`), when it is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Box<ResourceRef>>,
    /// The container the finding's line is in, when it is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Box<str>>,
    /// A mechanical, safe edit that resolves the finding (see the `fix` module).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Box<Fix>>,
}

/// A whole-line edit: lines `line..=end_line` (1-based) of the file are
/// replaced by `text` (whole lines with their line ends; empty deletes
/// them). Line-level, so comments and formatting elsewhere stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// What the edit does, in a few words.
    pub description: String,
    pub line: usize,
    pub end_line: usize,
    pub text: String,
}

/// `Span`'s serde shape, for reading it back (`Span` itself only
/// serialises).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Span")]
struct SpanDef {
    #[serde(default)]
    line: usize,
    #[serde(default)]
    col: usize,
    #[serde(default)]
    end_line: usize,
    #[serde(default)]
    end_col: usize,
}

/// A severity in a stored report. The report may be a pull request's
/// output: the error does not echo the value into the log.
fn severity_from_report<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
    let s = String::deserialize(d)?;
    match s.as_str() {
        "error" => Ok(Severity::Error),
        "warning" => Ok(Severity::Warning),
        "note" => Ok(Severity::Note),
        _ => Err(serde::de::Error::custom(
            "unknown severity (not error, warning or note)",
        )),
    }
}

/// A Kubernetes object, as the JSON report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    pub kind: String,
    pub api_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ResourceRef {
    pub fn of(m: &crate::manifest::Manifest) -> Self {
        ResourceRef {
            kind: m.kind.clone(),
            api_version: m.api_version.clone(),
            namespace: m.namespace.clone(),
            name: m.name.clone(),
        }
    }
}

/// One shared copy of each rule id: findings name a few hundred rules
/// between them, however many findings there are.
fn rule_id(id: &str) -> Arc<str> {
    use std::collections::HashSet;
    use std::sync::{OnceLock, RwLock};
    static IDS: OnceLock<RwLock<HashSet<Arc<str>>>> = OnceLock::new();
    let ids = IDS.get_or_init(Default::default);
    if let Some(a) = ids.read().ok().and_then(|s| s.get(id).cloned()) {
        return a;
    }
    let Ok(mut ids) = ids.write() else {
        return id.into();
    };
    if let Some(a) = ids.get(id) {
        return a.clone();
    }
    let a: Arc<str> = id.into();
    ids.insert(a.clone());
    a
}

impl Finding {
    pub fn new(
        rule: &str,
        severity: Severity,
        path: &Arc<str>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            rule: rule_id(rule),
            severity,
            message: message.into(),
            path: path.clone(),
            span,
            key: String::new(),
            fingerprint: String::new(),
            snippet: None,
            properties: None,
            doc_ignores: Vec::new(),
            resource: None,
            container: None,
            fix: None,
        }
    }

    /// Sets the line-independent identity used for the fingerprint.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    pub fn with_property(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.set_property(name.to_string(), value.into());
        self
    }

    pub fn set_property(&mut self, name: String, value: serde_json::Value) {
        self.properties
            .get_or_insert_with(Default::default)
            .insert(name, value);
    }

    pub fn property(&self, name: &str) -> Option<&serde_json::Value> {
        self.properties.as_ref()?.get(name)
    }

    pub fn with_doc_ignores(mut self, ignores: Vec<String>) -> Self {
        self.doc_ignores = ignores;
        self
    }

    /// Computes the fingerprint from rule, path and key (or, without a key,
    /// the trimmed text of the finding's line): moving unrelated lines does
    /// not change it. Once computed it stays; `compact` may then drop the key.
    pub fn finish_fingerprint(&mut self) {
        if !self.fingerprint.is_empty() {
            return;
        }
        let content = if self.key.is_empty() {
            self.snippet
                .as_ref()
                .map(|s| s.text.trim().to_string())
                .unwrap_or_default()
        } else {
            self.key.clone()
        };
        let mut h = Sha256::new();
        h.update(self.rule.as_bytes());
        h.update([0]);
        h.update(self.path.as_bytes());
        h.update([0]);
        h.update(content.as_bytes());
        self.fingerprint = hex::encode(&h.finalize()[..16]);
    }

    /// Fingerprints the finding and frees what only the fingerprint needed
    /// (the key): a run with a hundred thousand findings keeps them all
    /// until the report is written.
    pub fn compact(&mut self) {
        self.finish_fingerprint();
        self.key = String::new();
        self.message.shrink_to_fit();
    }
}

/// A rule's documentation: the single source for `shiplint rules`,
/// `shiplint explain` and SARIF `rules[]`.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// `<pack>/<kebab-name>`; never changes once released.
    pub id: String,
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// Markdown: what it finds, why it matters, how to fix it.
    pub help: String,
    pub tags: Vec<String>,
    /// SARIF precision: very-high, high, medium, low.
    pub precision: &'static str,
    /// GitHub's `security-severity` (0.0–10.0) for security rules.
    pub security_severity: Option<f32>,
    /// False for rules that only report when the config turns them on
    /// (`rules: {id: note}`); `shiplint rules` still lists them.
    pub default_enabled: bool,
}

impl Rule {
    pub fn new(id: &str, severity: Severity, summary: &str, help: &str) -> Self {
        Rule {
            id: id.to_string(),
            severity,
            summary: summary.to_string(),
            help: help.trim().to_string(),
            tags: Vec::new(),
            precision: "high",
            security_severity: None,
            default_enabled: true,
        }
    }

    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.tags = tags.iter().map(|t| t.to_string()).collect();
        self
    }

    pub fn precision(mut self, p: &'static str) -> Self {
        self.precision = p;
        self
    }

    pub fn security(mut self, score: f32) -> Self {
        self.security_severity = Some(score);
        self.tags.push("security".into());
        self
    }

    /// Reports nothing unless the config sets a level for it.
    pub fn off_by_default(mut self) -> Self {
        self.default_enabled = false;
        self
    }

    pub fn pack(&self) -> &str {
        self.id.split('/').next().unwrap_or("")
    }
}
