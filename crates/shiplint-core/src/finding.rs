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
    /// The rule's former ids (`Rule::aliases`): what else it answers to.
    #[serde(skip)]
    pub aliases: &'static [&'static str],
}

fn fingerprint(rule: &str, path: &str, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(content.as_bytes());
    hex::encode(&h.finalize()[..16])
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
    /// A finding of a rule item, at the rule's default level (the
    /// configured level is applied later, in one place: `scan::Levels`).
    pub fn from_rule(
        rule: &'static Rule,
        path: &Arc<str>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        let mut f = Finding::new(rule.id, rule.severity, path, span, message);
        f.aliases = rule.aliases;
        f
    }

    /// A finding named by a string: one read back from a report, or of a
    /// rule that is not an item yet (`policies`, `render`; the rules
    /// harness fails on any finding whose id no rule has). Packs use
    /// [`Finding::from_rule`].
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
            aliases: &[],
        }
    }

    /// A finding's level when its rule's level depends on what was found
    /// (a review comment's risk, an admission binding's action).
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The rule's id and former ids.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&*self.rule).chain(self.aliases.iter().copied())
    }

    /// Whether `id` names this finding's rule, by its id or a former one:
    /// the one place aliases are resolved for suppressions and exemptions.
    pub fn answers_to(&self, id: &str) -> bool {
        self.rule_names().any(|n| n == id)
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
        let content = self.fingerprint_content();
        self.fingerprint = fingerprint(&self.rule, &self.path, &content);
    }

    /// The fingerprints this finding had under its rule's former ids, so a
    /// baseline written before a rename still knows it. Needs the key:
    /// call before `compact`.
    pub fn alias_fingerprints(&self) -> Vec<String> {
        let content = self.fingerprint_content();
        self.aliases
            .iter()
            .map(|old| fingerprint(old, &self.path, &content))
            .collect()
    }

    fn fingerprint_content(&self) -> String {
        if self.key.is_empty() {
            self.snippet
                .as_ref()
                .map(|s| s.text.trim().to_string())
                .unwrap_or_default()
        } else {
            self.key.clone()
        }
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

/// A rule: its id, default level and documentation — the single source for
/// findings (`Finding::from_rule`), `shiplint rules`, `shiplint explain`,
/// SARIF `rules[]` and the config's validation.
///
/// Each rule is one `static` item beside its check, built in const context:
///
/// ```
/// use shiplint_core::finding::{Rule, Severity};
/// pub static HOST_PID: Rule = Rule::new(
///     "practices/host-pid",
///     Severity::Error,
///     "The pod shares the host's process namespace.",
///     "## What it finds\n…\n## Why it matters\n…\n## How to fix\n…",
/// )
/// .tags(&["kubernetes"])
/// .precision("very-high");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// `<pack>/<kebab-name>`; never changes once released (a renamed rule
    /// keeps its old id in `aliases`).
    pub id: &'static str,
    /// The level a finding gets unless the config sets one.
    pub severity: Severity,
    /// One line.
    pub summary: &'static str,
    /// Markdown: what it finds, why it matters, how to fix it. Read it
    /// through [`Rule::help`] (trimmed, with `help_more` appended).
    help: &'static str,
    /// Help generated from data, appended to `help` on access (the peers'
    /// annotations that silence a practices rule, the embedded CRD catalog).
    help_more: Option<fn(&Rule) -> String>,
    tags: &'static [&'static str],
    /// SARIF precision: very-high, high, medium, low.
    pub precision: &'static str,
    /// GitHub's `security-severity` (0.0–10.0) for security rules; such a
    /// rule is tagged `security` too.
    pub security_severity: Option<f32>,
    /// False for rules that only report when the config turns them on
    /// (`rules: {id: note}`); `shiplint rules` still lists them.
    pub default_enabled: bool,
    /// Former ids of a renamed rule: config `rules:`, inline suppressions,
    /// annotations, exemptions and baselines written with an old id keep
    /// working (`Finding::answers_to`, `Finding::alias_fingerprints`).
    pub aliases: &'static [&'static str],
}

impl Rule {
    pub const fn new(
        id: &'static str,
        severity: Severity,
        summary: &'static str,
        help: &'static str,
    ) -> Self {
        Rule {
            id,
            severity,
            summary,
            help,
            help_more: None,
            tags: &[],
            precision: "high",
            security_severity: None,
            default_enabled: true,
            aliases: &[],
        }
    }

    pub const fn tags(mut self, tags: &'static [&'static str]) -> Self {
        self.tags = tags;
        self
    }

    pub const fn precision(mut self, p: &'static str) -> Self {
        self.precision = p;
        self
    }

    /// A security rule: its `security-severity`, and the `security` tag.
    pub const fn security(mut self, score: f32) -> Self {
        self.security_severity = Some(score);
        self
    }

    /// Reports nothing unless the config sets a level for it.
    pub const fn off_by_default(mut self) -> Self {
        self.default_enabled = false;
        self
    }

    /// Former ids (see the field).
    pub const fn aliases(mut self, old: &'static [&'static str]) -> Self {
        self.aliases = old;
        self
    }

    /// Help text generated from data, appended to the help on access.
    pub const fn help_more(mut self, more: fn(&Rule) -> String) -> Self {
        self.help_more = Some(more);
        self
    }

    pub fn pack(&self) -> &'static str {
        let id: &'static str = self.id;
        id.split('/').next().unwrap_or("")
    }

    /// The help, trimmed, with what `help_more` generates.
    pub fn help(&self) -> std::borrow::Cow<'static, str> {
        match self.help_more {
            None => std::borrow::Cow::Borrowed(self.help.trim()),
            Some(more) => {
                let text = format!("{}{}", self.help.trim(), more(self));
                std::borrow::Cow::Owned(text.trim().to_string())
            }
        }
    }

    /// The tags, then `security` for a security rule.
    pub fn tag_list(&self) -> Vec<&'static str> {
        let mut t = self.tags.to_vec();
        if self.security_severity.is_some() {
            t.push("security");
        }
        t
    }

    /// The id and the former ids.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.id).chain(self.aliases.iter().copied())
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

/// The shape `shiplint rules --json`, the JSON report and the tests read:
/// the same fields as when `Rule` owned its strings.
impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Rule", 9)?;
        st.serialize_field("id", self.id)?;
        st.serialize_field("severity", &self.severity)?;
        st.serialize_field("summary", self.summary)?;
        st.serialize_field("help", &*self.help())?;
        st.serialize_field("tags", &self.tag_list())?;
        st.serialize_field("precision", self.precision)?;
        st.serialize_field("security_severity", &self.security_severity)?;
        st.serialize_field("default_enabled", &self.default_enabled)?;
        if self.aliases.is_empty() {
            st.skip_field("aliases")?;
        } else {
            st.serialize_field("aliases", self.aliases)?;
        }
        st.end()
    }
}
