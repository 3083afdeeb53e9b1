//! Loads `rules/secrets.yaml` (embedded at build time) and compiles every
//! detector once. Regexes run on bytes with Unicode classes off: tokens are
//! ASCII, and ASCII-only `\b`/`\w` keep the lazy DFA on its fast path.

use crate::finding::{Rule, Severity};
use anyhow::{bail, Context as _, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

pub const RULES_YAML: &str = include_str!("../../../rules/secrets.yaml");

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSpec {
    pub id: String,
    pub description: String,
    pub regex: String,
    pub keywords: Vec<String>,
    pub secret_group: Option<usize>,
    /// Capture groups of the name the value is assigned to (generic rules;
    /// the first that took part in the match).
    #[serde(default)]
    pub identifier_groups: Vec<usize>,
    /// Names (regexes, matched on the lowercased identifier) that name
    /// something other than a secret: `token_url`, `public_key`, `key_file`.
    #[serde(default)]
    pub identifier_allowlist: Vec<String>,
    /// Names that can only hold a secret (`api_key`, `client_secret`): under
    /// them `shape_allowlist` does not apply.
    pub explicit_identifier: Option<String>,
    /// Value shapes that are usually not secrets (hashes, UUIDs, numbers)
    /// unless the name says otherwise.
    #[serde(default)]
    pub shape_allowlist: Vec<String>,
    pub entropy: Option<f64>,
    pub checksum: Option<String>,
    #[serde(default)]
    pub multiline: bool,
    /// Lines after the keyword's line that the window also covers (values
    /// written on the next line: YAML, XML elements).
    #[serde(default)]
    pub lines: usize,
    #[serde(default)]
    pub generic: bool,
    #[serde(default)]
    pub allowlist: AllowSpec,
    pub severity: Severity,
    pub security_severity: f32,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub counterexamples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    detectors: Vec<DetectorSpec>,
}

/// Offline checksums some token formats carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// GitHub `gh*_` and npm `npm_`: CRC32 of the 30 random characters,
    /// base62, as the last 6 characters.
    Crc32Base62,
}

/// Compiled allowlist: any hit drops a candidate.
#[derive(Debug, Default)]
pub struct Allowlist {
    pub regexes: Vec<Regex>,
    /// Lowercase substrings of the secret.
    pub stopwords: Vec<String>,
    pub paths: Option<GlobSet>,
}

impl Allowlist {
    pub fn compile(spec: &AllowSpec, what: &str) -> Result<Self> {
        let regexes = spec
            .regexes
            .iter()
            .map(|r| compile_regex(r).with_context(|| format!("{what}: allowlist regex '{r}'")))
            .collect::<Result<_>>()?;
        let paths = if spec.paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for p in &spec.paths {
                b.add(Glob::new(p).with_context(|| format!("{what}: allowlist path '{p}'"))?);
                // `dir/**` style globs should also match files named exactly.
                if !p.contains('/') {
                    b.add(Glob::new(&format!("**/{p}"))?);
                }
            }
            Some(
                b.build()
                    .with_context(|| format!("{what}: allowlist paths"))?,
            )
        };
        Ok(Allowlist {
            regexes,
            stopwords: spec.stopwords.iter().map(|s| s.to_lowercase()).collect(),
            paths,
        })
    }

    pub fn path_allowed(&self, path: &str) -> bool {
        self.paths.as_ref().is_some_and(|g| g.is_match(path))
    }

    pub fn secret_allowed(&self, secret: &[u8], lower: &str) -> bool {
        self.regexes.iter().any(|r| r.is_match(secret))
            || self.stopwords.iter().any(|w| lower.contains(w.as_str()))
    }
}

#[derive(Debug)]
pub struct Detector {
    pub id: String,
    /// The rule item its findings are made from.
    pub rule: &'static Rule,
    pub description: String,
    pub regex: Regex,
    pub secret_group: Option<usize>,
    pub identifier_groups: Vec<usize>,
    pub identifier_allowlist: Vec<Regex>,
    pub explicit_identifier: Option<Regex>,
    pub shape_allowlist: Vec<Regex>,
    pub entropy: Option<f64>,
    pub checksum: Option<Checksum>,
    pub multiline: bool,
    pub lines: usize,
    pub generic: bool,
    pub allow: Allowlist,
    pub keywords: Vec<String>,
}

pub fn compile_regex(pattern: &str) -> Result<Regex> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(32 << 20)
        .build()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn parse_specs(text: &str) -> Result<Vec<DetectorSpec>> {
    let stream = crate::manifest::yaml::parse_stream(text, Default::default());
    if let Some(e) = stream.error {
        bail!("line {}:{}: {}", e.line, e.col, e.message);
    }
    let Some(doc) = stream.documents.into_iter().next() else {
        bail!("no detectors");
    };
    let file: RulesFile =
        serde_json::from_value(doc.root.to_json()).context("reading the detector list")?;
    Ok(file.detectors)
}

pub fn compile(spec: &DetectorSpec) -> Result<Detector> {
    let what = format!("detector {}", spec.id);
    if spec.keywords.is_empty() {
        bail!("{what} has no keywords");
    }
    let regex = compile_regex(&spec.regex).with_context(|| format!("{what}: regex"))?;
    let checksum = match spec.checksum.as_deref() {
        None => None,
        Some("github") | Some("npm") => Some(Checksum::Crc32Base62),
        Some(other) => bail!("{what}: unknown checksum '{other}'"),
    };
    Ok(Detector {
        id: spec.id.clone(),
        rule: rule_for(spec),
        description: spec.description.clone(),
        regex,
        secret_group: spec.secret_group,
        identifier_groups: spec.identifier_groups.clone(),
        identifier_allowlist: regexes(&spec.identifier_allowlist, &what)?,
        explicit_identifier: spec
            .explicit_identifier
            .as_deref()
            .map(|r| compile_regex(r).with_context(|| format!("{what}: explicit_identifier")))
            .transpose()?,
        shape_allowlist: regexes(&spec.shape_allowlist, &what)?,
        entropy: spec.entropy,
        checksum,
        multiline: spec.multiline,
        lines: spec.lines,
        generic: spec.generic,
        allow: Allowlist::compile(&spec.allowlist, &what)?,
        keywords: spec.keywords.iter().map(|k| k.to_lowercase()).collect(),
    })
}

fn regexes(patterns: &[String], what: &str) -> Result<Vec<Regex>> {
    patterns
        .iter()
        .map(|r| compile_regex(r).with_context(|| format!("{what}: regex '{r}'")))
        .collect()
}

/// One rule item per embedded detector, made from `rules/secrets.yaml`
/// once per process (their texts are data, so they are leaked into
/// `'static` once instead of being written as `static` items).
pub fn detector_rules() -> &'static [Rule] {
    static RULES: std::sync::LazyLock<Vec<Rule>> = std::sync::LazyLock::new(|| {
        parse_specs(RULES_YAML)
            .unwrap_or_default()
            .iter()
            .map(spec_rule)
            .collect()
    });
    &RULES
}

fn spec_rule(s: &DetectorSpec) -> Rule {
    let leak = |t: String| -> &'static str { t.leak() };
    Rule::new(
        leak(format!("secrets/{}", s.id)),
        s.severity,
        leak(format!("{} committed", s.description)),
        leak(super::rule_help(&s.description)),
    )
    .tags(&["secret"])
    .precision(if s.generic { "medium" } else { "high" })
    .security(s.security_severity)
}

/// The rule item of a detector: the embedded one, or (a detector that is
/// not embedded, in tests) one made for it.
fn rule_for(spec: &DetectorSpec) -> &'static Rule {
    let id = format!("secrets/{}", spec.id);
    detector_rules()
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| Box::leak(Box::new(spec_rule(spec))))
}

/// Every embedded detector, compiled.
pub fn load_builtin() -> Result<Vec<Detector>> {
    parse_specs(RULES_YAML)
        .context("rules/secrets.yaml")?
        .iter()
        .map(compile)
        .collect()
}
