//! The settings a scan runs with, after the config file and the flags are
//! merged (`config` reads the file; the CLI sets the flags). Packs read
//! these; they sit below every pack, so packs never reach up into config
//! parsing.

use crate::finding::Severity;
use crate::manifest::Limits;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Packs that run when nothing says otherwise: every offline pack (a test
/// in `packs` checks this against each pack's `default_enabled`).
pub const DEFAULT_PACKS: &[&str] = &["schema", "deprecations", "practices", "policies", "secrets"];

/// A rule's configured level: a severity, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    Off,
    Note,
    Warning,
    Error,
}

impl RuleLevel {
    pub fn severity(self) -> Option<Severity> {
        match self {
            RuleLevel::Off => None,
            RuleLevel::Note => Some(Severity::Note),
            RuleLevel::Warning => Some(Severity::Warning),
            RuleLevel::Error => Some(Severity::Error),
        }
    }
}

pub use crate::k8s::KubeVersion;

/// What a scan reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GitMode {
    /// Files on disk (no git involved).
    #[default]
    WorkingTree,
    /// The index's version of staged files.
    Staged,
    /// Lines added since the merge base of REV and HEAD (working tree side).
    DiffBase(String),
    /// Commits reachable from HEAD (after `since`), oldest first.
    History { since: Option<String> },
}

/// Everything a scan runs with, after config file and flags are merged.
#[derive(Debug, Clone)]
pub struct Settings {
    /// None = the newest version shiplint has schemas for.
    pub kubernetes_version: Option<KubeVersion>,
    pub target_version: Option<KubeVersion>,
    pub strict: bool,
    pub schema_locations: Vec<String>,
    pub ignore_missing_schemas: bool,
    pub skip_kinds: Vec<String>,
    pub reject_kinds: Vec<String>,
    pub crd_dirs: Vec<PathBuf>,
    pub packs: Vec<String>,
    pub rule_levels: BTreeMap<String, RuleLevel>,
    pub exclude: Vec<String>,
    /// Scan the targets of symbolic links inside walked folders.
    pub follow_symlinks: bool,
    pub max_file_size: u64,
    pub limits: Limits,
    pub pack_options: BTreeMap<String, serde_json::Value>,
    /// Where downloaded schemas are cached.
    pub cache_dir: PathBuf,
    pub http_timeout: std::time::Duration,
    /// Working tree (default) or a git source (`--staged`, `--diff-base`, `--history`).
    pub git_mode: GitMode,
    /// Fingerprints from `--baseline`: findings listed there are not reported.
    pub baseline: Option<std::sync::Arc<std::collections::HashSet<String>>>,
    /// `exemptions:` of the config.
    pub exemptions: Vec<crate::exempt::Exemption>,
    /// The config file, as reports name it (for findings about the config).
    pub config_path: Option<String>,
    /// How Helm charts are rendered (`render:` in the config).
    pub render: RenderOptions,
}

/// `render:` in `.shiplint.yaml`: how each chart in the tree is rendered
/// (`helm template`) before the packs check what it renders to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct RenderOptions {
    /// Render charts at all (with `helm` on PATH).
    pub enabled: bool,
    /// Values files, relative to each chart, each rendered in its own run
    /// besides the defaults (glob patterns).
    pub values_files: Vec<String>,
    /// The release name given to `helm template`.
    pub release_name: String,
    /// `--namespace` for `helm template` (none: Helm's default).
    pub namespace: Option<String>,
    /// `--kube-version` for `helm template` (none: Helm's default).
    pub kube_version: Option<String>,
    /// Seconds one `helm template` may take.
    pub timeout_seconds: u64,
    /// `scan - --chart-dir DIR`: the chart a `helm template` stream on
    /// stdin was rendered from (a flag, never read from the config file).
    #[serde(skip)]
    pub stdin_chart_dir: Option<PathBuf>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            enabled: true,
            values_files: vec!["ci/*-values.yaml".into()],
            release_name: "release".into(),
            namespace: None,
            kube_version: None,
            timeout_seconds: 60,
            stdin_chart_dir: None,
        }
    }
}

impl RenderOptions {
    /// Checks what serde cannot; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        let dns = |s: &str, max: usize| {
            !s.is_empty()
                && s.len() <= max
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !s.starts_with('-')
                && !s.ends_with('-')
        };
        if !dns(&self.release_name, 53) {
            return Err(
                "render.release-name must be a DNS label of at most 53 characters (a-z, 0-9, -)"
                    .into(),
            );
        }
        if self.namespace.as_deref().is_some_and(|n| !dns(n, 63)) {
            return Err("render.namespace must be a DNS label (a-z, 0-9, -)".into());
        }
        if let Some(v) = &self.kube_version {
            if KubeVersion::parse(v.trim_start_matches('v')).is_err() {
                return Err("render.kube-version must be a Kubernetes version such as 1.30".into());
            }
        }
        for f in &self.values_files {
            let p = std::path::Path::new(f);
            if p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
                || globset::Glob::new(f).is_err()
            {
                return Err(
                    "render.values-files are glob patterns relative to each chart, without `..`"
                        .into(),
                );
            }
        }
        if self.timeout_seconds == 0 || self.timeout_seconds > 600 {
            return Err("render.timeout-seconds must be between 1 and 600".into());
        }
        Ok(())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kubernetes_version: None,
            target_version: None,
            strict: true,
            schema_locations: Vec::new(),
            ignore_missing_schemas: false,
            skip_kinds: Vec::new(),
            reject_kinds: Vec::new(),
            crd_dirs: Vec::new(),
            packs: DEFAULT_PACKS.iter().map(|p| p.to_string()).collect(),
            rule_levels: BTreeMap::new(),
            exclude: Vec::new(),
            follow_symlinks: false,
            max_file_size: 10 * 1024 * 1024,
            limits: Limits::default(),
            pack_options: BTreeMap::new(),
            cache_dir: default_cache_dir(),
            http_timeout: std::time::Duration::from_secs(30),
            git_mode: Default::default(),
            baseline: None,
            exemptions: Vec::new(),
            config_path: None,
            render: RenderOptions::default(),
        }
    }
}

fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SHIPLINT_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("shiplint");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache").join("shiplint");
    }
    std::env::temp_dir().join("shiplint-cache")
}

impl Settings {
    /// The level configured for a rule (`pack/*` applies to a whole pack).
    pub fn level_for(&self, rule: &str) -> Option<RuleLevel> {
        self.rule_levels.get(rule).copied().or_else(|| {
            let pack = rule.split('/').next()?;
            self.rule_levels.get(&format!("{pack}/*")).copied()
        })
    }

    /// The level configured for a rule under its id or a former one
    /// (`Rule::aliases`).
    pub fn level_for_rule(&self, rule: &crate::finding::Rule) -> Option<RuleLevel> {
        self.level_for_ids(rule.id, rule.aliases)
    }

    /// The level configured for a rule known by `id` and its former ids:
    /// the one place config levels resolve aliases. An exact entry under
    /// any name wins over `pack/*`; the id wins over a former id.
    pub fn level_for_ids(&self, id: &str, aliases: &[&str]) -> Option<RuleLevel> {
        let names = || std::iter::once(id).chain(aliases.iter().copied());
        names()
            .find_map(|n| self.rule_levels.get(n).copied())
            .or_else(|| names().find_map(|n| self.level_for(n)))
    }

    pub fn pack_enabled(&self, name: &str) -> bool {
        self.packs.iter().any(|p| p == name)
    }

    pub fn options(&self, pack: &str) -> Option<&serde_json::Value> {
        self.pack_options.get(pack)
    }
}
