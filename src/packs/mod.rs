//! Rule packs. A pack looks at parsed files (in parallel, one file at a
//! time), then once more after every file (for checks that relate objects,
//! over the facts it gathered), and emits findings. It never prints and
//! never exits.

pub mod deprecations;
pub mod practices;
pub mod review;
pub mod schema;
pub mod secrets;

use crate::config::Settings;
use crate::finding::{Finding, Severity};
use crate::manifest::ParsedFile;
use crate::source::SourceFile;
use serde::Serialize;

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

/// What a pack may read while it runs.
pub struct Context<'a> {
    pub settings: &'a Settings,
    /// What kustomizations in the run say about other files (patches are
    /// partial resources; some resources get their selectors from kustomize).
    pub kustomize: crate::kustomize::KustomizeFacts,
}

impl Context<'_> {
    pub fn is_patch(&self, path: &str) -> bool {
        self.kustomize.patches.contains(path)
    }
}

pub trait Pack: Send + Sync {
    /// The pack's name as used by `--packs` and the config file.
    fn name(&self) -> &'static str;

    /// Whether the pack runs when no `--packs` or config selects packs.
    fn default_enabled(&self) -> bool {
        true
    }

    /// Every rule this pack can emit.
    fn rules(&self) -> Vec<Rule>;

    /// Called before any file, with the whole list of files' manifests known
    /// to nothing yet: a place to load data.
    fn prepare(&self, _ctx: &Context) -> anyhow::Result<()> {
        Ok(())
    }

    /// Per-file checks; runs in parallel across files.
    fn check_file(
        &self,
        _ctx: &Context,
        _file: &SourceFile,
        _parsed: Option<&ParsedFile>,
        _out: &mut Vec<Finding>,
    ) {
    }

    /// Records only the run-wide facts `check_index` needs (CRDs, the
    /// practices index) from a file whose findings another `--shard`
    /// reports; `check_file` gathers them itself for the files it checks.
    fn gather_file_facts(&self, _ctx: &Context, _file: &SourceFile, _parsed: Option<&ParsedFile>) {}

    /// Whether `gather_file_facts` does anything: another shard's files are
    /// read and parsed only when some pack gathers from them.
    fn gathers_file_facts(&self) -> bool {
        false
    }

    /// Run-wide checks over what `check_file` gathered; runs once, after
    /// every file. No parsed file is kept for it, so memory stays flat on
    /// big trees: a pack keeps only the small facts it needs.
    fn check_index(&self, _ctx: &Context, _out: &mut Vec<Finding>) {}

    /// Tool notifications (e.g. "review skipped: no API key") collected at the end.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Facts about the run for reporters (e.g. the review's `prRisk`), merged
    /// into `ScanOutcome.properties` after `check_index`.
    fn properties(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }
}

/// All packs, in the order they run.
pub fn registry() -> Vec<Box<dyn Pack>> {
    vec![
        Box::new(schema::SchemaPack::default()),
        Box::new(deprecations::DeprecationsPack),
        Box::new(practices::PracticesPack::default()),
        Box::new(review::ReviewPack::default()),
        Box::new(secrets::SecretsPack::default()),
    ]
}

/// Every rule: the packs', then the trust boundary's (`config/…`).
pub fn all_rules() -> Vec<Rule> {
    registry()
        .iter()
        .flat_map(|p| p.rules())
        .chain(crate::trust::rules())
        .chain(crate::exempt::rules())
        .collect()
}
