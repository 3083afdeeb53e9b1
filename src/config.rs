//! `.shiplint.yaml` and the settings a scan runs with (config file first,
//! command-line flags over it).

use crate::manifest::{yaml, Limits};
pub use crate::settings::{KubeVersion, RuleLevel, Settings};
use anyhow::{bail, Context as _, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE_NAMES: &[&str] = &[".shiplint.yaml", ".shiplint.yml"];

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SchemaConfig {
    pub strict: Option<bool>,
    pub ignore_missing_schemas: Option<bool>,
    #[serde(default)]
    pub skip_kinds: Vec<String>,
    #[serde(default)]
    pub reject_kinds: Vec<String>,
    #[serde(default)]
    pub locations: Vec<String>,
    #[serde(default)]
    pub crd_dirs: Vec<PathBuf>,
}

/// The file format of `.shiplint.yaml`.
///
/// No `deny_unknown_fields` here: serde rejects every key captured by the
/// `flatten`ed `pack_options` under it; unknown keys are checked by
/// [`ConfigFile::parse`] against [`KNOWN_PACK_SECTIONS`] instead.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Kubernetes version to validate against, e.g. "1.30".
    pub kubernetes_version: Option<String>,
    /// Version to check deprecations against (defaults to kubernetes-version).
    pub target_version: Option<String>,
    /// Packs to run: a list of names, or a map of name → on/off.
    pub packs: Option<PackSelection>,
    /// Per-rule level: `off`, `note`, `warning` or `error`.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleLevel>,
    /// Glob patterns (gitignore syntax) of paths not to scan.
    #[serde(default)]
    pub exclude: Vec<String>,
    pub fail_on: Option<String>,
    #[serde(default)]
    pub schema: SchemaConfig,
    /// Accepted risks: findings of these rules on these resources/containers.
    #[serde(default)]
    pub exemptions: Vec<crate::exempt::Exemption>,
    /// How Helm charts are rendered (`render:`).
    pub render: Option<crate::settings::RenderOptions>,
    /// Options read by individual packs (`practices:`, `secrets:`, `review:` …).
    #[serde(flatten)]
    pub pack_options: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PackSelection {
    List(Vec<String>),
    Map(BTreeMap<String, bool>),
}

impl ConfigFile {
    /// Reads a config file. A symbolic link is refused: a pull request could
    /// point `.shiplint.yaml` at a file outside the repository (a runner's
    /// git credentials) and have it printed in an error.
    pub fn load(path: &Path) -> Result<Self> {
        let meta = std::fs::symlink_metadata(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        if meta.file_type().is_symlink() {
            bail!(
                "config {} is a symbolic link: refused (a config is read only from a regular file, never through a link)",
                path.display()
            );
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in config {}", path.display()))
    }

    /// Parses and checks a config. Errors name the line and what is wrong,
    /// never a value from the file: the file may not be what it claims to be.
    pub fn parse(text: &str) -> Result<Self> {
        let stream = yaml::parse_stream(text, Limits::default());
        if let Some(e) = stream.error {
            bail!("line {}:{}: {}", e.line, e.col, scrub(&e.message));
        }
        let Some(doc) = stream.documents.into_iter().next() else {
            return Ok(ConfigFile::default());
        };
        if let Some(d) = doc.duplicates.first() {
            bail!(
                "line {}: a key appears twice (first at line {})",
                d.second.line,
                d.first.line
            );
        }
        if doc.root.is_null() {
            return Ok(ConfigFile::default());
        }
        if !doc.root.is_map() {
            bail!(
                "line {}: the config must be a mapping of keys",
                doc.root.span.line
            );
        }
        for e in doc.root.entries() {
            let key = e.key.key_str().unwrap_or_default();
            if !TOP_LEVEL_KEYS.contains(&key.as_ref())
                && !KNOWN_PACK_SECTIONS.contains(&key.as_ref())
            {
                bail!(
                    "line {}: unknown key (known: {}, {})",
                    e.key.span.line,
                    TOP_LEVEL_KEYS.join(", "),
                    KNOWN_PACK_SECTIONS.join(", ")
                );
            }
        }
        let line_of = |pointer: &str| -> usize {
            doc.root
                .pointer(pointer)
                .map(|(n, k)| k.map_or(n.span.line, |k| k.span.line))
                .unwrap_or(doc.root.span.line)
        };
        if let Some(e) = doc.root.get("review").and_then(|r| r.entry("base-url")) {
            bail!(
                "line {}: review.base-url is not read from a config file (a pull request could send the diff and the API key to its own server): use --llm-base-url or OPENAI_BASE_URL",
                e.key.span.line
            );
        }
        let mut json = doc.root.to_json();
        // YAML 1.1 reads a bare `off` as false: in `rules:` it means "off".
        if let Some(serde_json::Value::Object(rules)) = json.get_mut("rules") {
            for v in rules.values_mut() {
                if *v == serde_json::Value::Bool(false) {
                    *v = serde_json::Value::String("off".into());
                }
            }
        }
        let mut cfg: ConfigFile = serde_path_to_error::deserialize(&json).map_err(|e| {
            let pointer = json_pointer(e.path());
            anyhow::anyhow!(
                "line {}: {}",
                line_of(&pointer),
                scrub(&e.inner().to_string())
            )
        })?;
        for (i, e) in cfg.exemptions.iter_mut().enumerate() {
            e.line = line_of(&format!("/exemptions/{i}"));
        }
        cfg.check(&line_of)?;
        if let Some(r) = &cfg.render {
            r.validate()
                .map_err(|e| anyhow::anyhow!("line {}: {e}", line_of("/render")))?;
        }
        Ok(cfg)
    }

    /// Checks what serde cannot: versions, rule ids, pack names and each
    /// pack section against the options type that pack reads, so a bad
    /// config fails when it loads, with a line.
    fn check(&self, line_of: &dyn Fn(&str) -> usize) -> Result<()> {
        for (key, v) in [
            ("kubernetes-version", &self.kubernetes_version),
            ("target-version", &self.target_version),
        ] {
            if let Some(v) = v {
                if KubeVersion::parse(v).is_err() {
                    bail!(
                        "line {}: {key} must be a Kubernetes version such as 1.30",
                        line_of(&format!("/{key}"))
                    );
                }
            }
        }
        if let Some(f) = &self.fail_on {
            if !["error", "warning", "note", "never"].contains(&f.to_ascii_lowercase().as_str()) {
                bail!(
                    "line {}: fail-on must be error, warning, note or never",
                    line_of("/fail-on")
                );
            }
        }
        for (i, pat) in self.exclude.iter().enumerate() {
            let mut b = ignore::overrides::OverrideBuilder::new("/");
            if b.add(&format!("!{pat}")).is_err() {
                bail!(
                    "line {}: exclude pattern {} is not a valid glob",
                    line_of(&format!("/exclude/{i}")),
                    i + 1
                );
            }
        }
        let packs = crate::packs::registry();
        let pack_names: Vec<_> = packs.iter().map(|p| p.name).collect();
        let named: Vec<&String> = match &self.packs {
            Some(PackSelection::List(l)) => l.iter().collect(),
            Some(PackSelection::Map(m)) => m.keys().collect(),
            None => Vec::new(),
        };
        for p in named {
            if !pack_names.contains(&p.as_str()) {
                bail!(
                    "line {}: unknown pack (known: {})",
                    line_of("/packs"),
                    pack_names.join(", ")
                );
            }
        }
        let rules = crate::packs::all_rules();
        for e in &self.exemptions {
            crate::exempt::check(e, &|id| rule_id_known(&rules, id))
                .map_err(|err| anyhow::anyhow!("line {}: {err}", e.line))?;
        }
        for id in self.rules.keys() {
            if !rule_id_known(&rules, id) {
                bail!(
                    "line {}: unknown rule id (see `shiplint rules`)",
                    line_of(&format!(
                        "/rules/{}",
                        id.replace('~', "~0").replace('/', "~1")
                    ))
                );
            }
        }
        for (section, v) in &self.pack_options {
            let checked: Result<()> = match section.as_str() {
                "review" => crate::packs::review::ReviewOptions::from_config(Some(v)).map(|_| ()),
                "risk" => crate::risk::RiskOptions::from_config(Some(v)).map(|_| ()),
                "secrets" => {
                    crate::packs::secrets::SecretsOptions::from_config(Some(v))
                        .and_then(|o| {
                            crate::packs::secrets::rules::Allowlist::compile(
                                &o.allowlist,
                                "allowlist",
                            )
                            // Regex and glob errors print the pattern: keep
                            // only what is wrong with it.
                            .map_err(|e| {
                                let why = e.root_cause().to_string();
                                let why = why
                                    .rsplit("error: ")
                                    .next()
                                    .unwrap_or("")
                                    .trim()
                                    .to_string();
                                anyhow::anyhow!("an allowlist pattern does not compile ({why})")
                            })
                        })
                        .map(|_| ())
                }
                "practices" => crate::packs::practices::Options::from_config(Some(v)).map(|_| ()),
                _ => Ok(()),
            };
            if let Err(e) = checked {
                let root = e.root_cause().to_string();
                bail!(
                    "line {}: in {section}: {}",
                    line_of(&format!("/{section}")),
                    scrub(&root)
                );
            }
        }
        Ok(())
    }

    /// Finds `.shiplint.yaml` in `dir`.
    pub fn discover(dir: &Path) -> Option<PathBuf> {
        CONFIG_FILE_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| std::fs::symlink_metadata(p).is_ok())
    }
}

/// Whether a `rules:` key names a rule (by its id or a former one) or a
/// whole pack (`pack/*`).
pub fn rule_id_known(rules: &[&crate::packs::Rule], id: &str) -> bool {
    rules.iter().any(|r| r.names().any(|n| n == id))
        || id.ends_with("/*") && rules.iter().any(|r| r.pack() == id.trim_end_matches("/*"))
}

/// Top-level keys of `.shiplint.yaml` besides the pack sections.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "kubernetes-version",
    "target-version",
    "packs",
    "rules",
    "exclude",
    "fail-on",
    "schema",
    "exemptions",
    "render",
];

/// The JSON pointer of a serde path (for the line of a config error).
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// An error message without the values it quotes: serde and parsers quote
/// what they read (`invalid type: string "…"`), and a config may be a file
/// that holds credentials. What follows "expected" comes from shiplint's own
/// types and stays.
pub fn scrub(msg: &str) -> String {
    let (head, tail) = match msg.find(", expected") {
        Some(i) => msg.split_at(i),
        None => (msg, ""),
    };
    let mut out = String::with_capacity(msg.len());
    let mut chars = head.chars();
    while let Some(c) = chars.next() {
        if matches!(c, '"' | '`' | '\'') {
            out.push(c);
            out.push('…');
            for d in chars.by_ref() {
                if d == c {
                    out.push(c);
                    break;
                }
            }
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out.push_str(tail);
    out
}

/// Pack sections other packs read from the config file.
pub const KNOWN_PACK_SECTIONS: &[&str] = &["practices", "secrets", "review", "risk"];

impl Settings {
    /// Applies a config file (flags are applied after, by the caller).
    pub fn apply_file(&mut self, cfg: ConfigFile) -> Result<()> {
        if let Some(v) = &cfg.kubernetes_version {
            self.kubernetes_version = Some(KubeVersion::parse(v)?);
        }
        if let Some(v) = &cfg.target_version {
            self.target_version = Some(KubeVersion::parse(v)?);
        }
        if let Some(sel) = cfg.packs {
            self.packs = match sel {
                PackSelection::List(l) => l,
                PackSelection::Map(m) => {
                    let mut packs: Vec<String> = self
                        .packs
                        .iter()
                        .filter(|p| m.get(*p) != Some(&false))
                        .cloned()
                        .collect();
                    let extra: Vec<String> = m
                        .iter()
                        .filter(|(k, on)| **on && !packs.contains(k))
                        .map(|(k, _)| k.clone())
                        .collect();
                    packs.extend(extra);
                    packs
                }
            };
        }
        self.rule_levels.extend(cfg.rules);
        self.exclude.extend(cfg.exclude);
        if let Some(s) = cfg.schema.strict {
            self.strict = s;
        }
        if let Some(s) = cfg.schema.ignore_missing_schemas {
            self.ignore_missing_schemas = s;
        }
        self.skip_kinds.extend(cfg.schema.skip_kinds);
        self.reject_kinds.extend(cfg.schema.reject_kinds);
        self.schema_locations.extend(cfg.schema.locations);
        self.crd_dirs.extend(cfg.schema.crd_dirs);
        self.pack_options.extend(cfg.pack_options);
        self.exemptions.extend(cfg.exemptions);
        if let Some(r) = cfg.render {
            self.render = r;
        }
        Ok(())
    }

    /// Checks names that must match something real.
    pub fn validate(&self) -> Result<()> {
        let packs = crate::packs::registry();
        for p in &self.packs {
            if !packs.iter().any(|k| k.name == p) {
                let names: Vec<_> = packs.iter().map(|k| k.name).collect();
                bail!("unknown pack '{p}' (known: {})", names.join(", "));
            }
        }
        let rules = crate::packs::all_rules();
        for id in self.rule_levels.keys() {
            if !rule_id_known(&rules, id) {
                bail!("unknown rule '{id}' in config (see `shiplint rules`)");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let cfg = ConfigFile::parse(
            "kubernetes-version: '1.29'\npacks: [schema]\nrules:\n  schema/missing-schema: warning\nexclude: ['vendor/**']\nschema:\n  strict: false\n  skip-kinds: [Foo]\n",
        )
        .unwrap();
        let mut s = Settings::default();
        s.apply_file(cfg).unwrap();
        assert_eq!(
            s.kubernetes_version,
            Some(KubeVersion {
                major: 1,
                minor: 29
            })
        );
        assert!(!s.strict);
        assert_eq!(
            s.level_for("schema/missing-schema"),
            Some(RuleLevel::Warning)
        );
        assert_eq!(s.skip_kinds, vec!["Foo"]);
    }

    /// Pack options are typed when the config loads: an unknown key is an
    /// error then, naming the line and the section, not when the pack runs.
    #[test]
    fn unknown_pack_option_keys_fail_at_load() {
        for (text, section) in [
            (
                "rules: {}\npractices:\n  require-digst: true\n",
                "practices",
            ),
            ("secrets:\n  allowlst: {}\n", "secrets"),
            ("review:\n  modle: m\n", "review"),
            ("risk:\n  wieghts: {}\n", "risk"),
        ] {
            let err = format!("{:#}", ConfigFile::parse(text).unwrap_err());
            assert!(
                err.contains(&format!("in {section}:")) && err.contains("unknown field"),
                "{section}: {err}"
            );
        }
        // Every section the config accepts is typed: none takes any key.
        for section in KNOWN_PACK_SECTIONS {
            let err = ConfigFile::parse(&format!("{section}:\n  no-such-option: 1\n"))
                .map(|_| ())
                .unwrap_err();
            assert!(
                format!("{err:#}").contains("unknown field"),
                "{section}: {err:#}"
            );
        }
        let line = format!(
            "{:#}",
            ConfigFile::parse("rules: {}\npractices:\n  require-digst: true\n").unwrap_err()
        );
        assert!(line.starts_with("line 2:"), "{line}");
        let ok = ConfigFile::parse("practices:\n  require-digest: true\n").unwrap();
        let mut s = Settings::default();
        s.apply_file(ok).unwrap();
        assert!(
            crate::packs::practices::Options::from_config(s.options("practices"))
                .unwrap()
                .require_digest
        );
    }

    #[test]
    fn rejects_unknown_keys_and_bad_versions() {
        assert!(ConfigFile::parse("kubernetes-versoin: 1.2\n").is_err());
        // Sections nothing reads are not accepted silently.
        assert!(ConfigFile::parse("deprecations:\n  x: 1\n").is_err());
        assert!(ConfigFile::parse("github:\n  x: 1\n").is_err());
        let cfg = ConfigFile::parse("review:\n  model: m\n").unwrap();
        assert_eq!(cfg.pack_options["review"]["model"], "m");
        assert!(KubeVersion::parse("latest").is_err());
        assert_eq!(KubeVersion::parse("v1.30.2").unwrap().to_string(), "1.30");
    }
}
