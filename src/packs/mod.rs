//! Rule packs. A pack looks at parsed files (in parallel, one file at a
//! time), then once more after every file (for checks that relate objects,
//! over the facts it gathered), and emits findings. It never prints and
//! never exits.

pub mod deprecations;
pub mod policies;
pub mod practices;
pub mod review;
pub mod schema;
pub mod secrets;

use crate::finding::Finding;
use crate::manifest::ParsedFile;
use crate::settings::Settings;
use crate::source::SourceFile;

pub use crate::finding::Rule;

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
        Box::new(policies::PoliciesPack::default()),
        Box::new(review::ReviewPack::default()),
        Box::new(secrets::SecretsPack::default()),
    ]
}

/// Every rule: the packs', then those about shiplint's own inputs (`config/…`).
pub fn all_rules() -> Vec<Rule> {
    registry()
        .iter()
        .flat_map(|p| p.rules())
        .chain(crate::config_rules::rules())
        .chain(crate::render::rules())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_packs_are_the_packs_enabled_by_default() {
        let enabled: Vec<&str> = super::registry()
            .iter()
            .filter(|p| p.default_enabled())
            .map(|p| p.name())
            .collect();
        assert_eq!(enabled, crate::settings::DEFAULT_PACKS);
    }
}
