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
    /// Where a line of a rendered document (a chart's or an overlay's
    /// output, scanned under a path of its own) came from: the template,
    /// base or patch line a person edits. None for a file's own lines.
    pub origin_of: Option<&'a OriginOf<'a>>,
}

/// `(path, line)` of a rendered document → the file and line it came from.
pub type OriginOf<'a> = dyn Fn(&str, usize) -> Option<(std::sync::Arc<str>, usize)> + Sync + 'a;

impl Context<'_> {
    /// Where `path:line` points a person: its origin for a rendered
    /// document, itself otherwise.
    pub fn place(&self, path: &std::sync::Arc<str>, line: usize) -> (std::sync::Arc<str>, usize) {
        self.origin_of
            .and_then(|o| o(path, line))
            .unwrap_or_else(|| (path.clone(), line))
    }

    pub fn is_patch(&self, path: &str) -> bool {
        self.kustomize.patches.contains(path)
    }
}

/// A pack, built ready for a run (`PackSpec::build`): there is no step to
/// forget between making a pack and running its checks.
pub trait Pack: Send + Sync {
    /// The pack's name as used by `--packs` and the config file.
    fn name(&self) -> &'static str;

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

    /// The run-wide phase as values: `check_index`'s findings, then the
    /// pack's notes and properties. The pipeline calls this; a pack whose
    /// run-wide results are computed there (the review) returns them here
    /// instead of keeping them in the pack for `notes`/`properties`.
    fn finish(&self, ctx: &Context) -> Finished {
        let mut findings = Vec::new();
        self.check_index(ctx, &mut findings);
        Finished {
            findings,
            notes: self.notes(),
            properties: self.properties(),
        }
    }
}

/// What a pack's run-wide phase returns (`Pack::finish`).
#[derive(Debug, Default)]
pub struct Finished {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// What is known about a pack before it is built: its name, whether it
/// runs by default, its rules, and how to build it for a run.
pub struct PackSpec {
    /// The pack's name as used by `--packs` and the config file.
    pub name: &'static str,
    /// Whether the pack runs when no `--packs` or config selects packs.
    pub default_enabled: bool,
    /// Every rule this pack can emit.
    pub rules: fn() -> Vec<&'static Rule>,
    /// Builds the pack for a run: loads its data and reads its (typed)
    /// options from the settings. An error here stops the run.
    pub build: fn(&Settings) -> anyhow::Result<Box<dyn Pack>>,
}

impl PackSpec {
    pub fn build(&self, settings: &Settings) -> anyhow::Result<Box<dyn Pack>> {
        use anyhow::Context as _;
        (self.build)(settings).with_context(|| format!("preparing the {} pack", self.name))
    }
}

/// The `policies` pack's rules.
fn policies_rules() -> Vec<&'static Rule> {
    policies::rules()
}

/// The `render/*` rules.
fn render_rules() -> Vec<&'static Rule> {
    crate::render::rules()
}

/// All packs, in the order they run.
pub static REGISTRY: &[PackSpec] = &[
    PackSpec {
        name: "schema",
        default_enabled: true,
        rules: schema::rules,
        build: |s| Ok(Box::new(schema::SchemaPack::new(s)?)),
    },
    PackSpec {
        name: "deprecations",
        default_enabled: true,
        rules: deprecations::rules,
        build: |_| Ok(Box::new(deprecations::DeprecationsPack)),
    },
    PackSpec {
        name: "practices",
        default_enabled: true,
        rules: practices::rules,
        build: |s| Ok(Box::new(practices::PracticesPack::new(s)?)),
    },
    PackSpec {
        name: "policies",
        default_enabled: true,
        rules: policies_rules,
        build: |_| Ok(Box::new(policies::PoliciesPack::default())),
    },
    PackSpec {
        name: "review",
        default_enabled: false,
        rules: review::rules,
        build: |s| Ok(Box::new(review::ReviewPack::new(s)?)),
    },
    PackSpec {
        name: "secrets",
        default_enabled: true,
        rules: secrets::rules,
        build: |s| Ok(Box::new(secrets::SecretsPack::new(s)?)),
    },
];

/// All packs, in the order they run.
pub fn registry() -> &'static [PackSpec] {
    REGISTRY
}

/// The packs a run selects, built for it.
pub fn build(settings: &Settings) -> anyhow::Result<Vec<Box<dyn Pack>>> {
    REGISTRY
        .iter()
        .filter(|p| settings.pack_enabled(p.name))
        .map(|p| p.build(settings))
        .collect()
}

/// Every rule: the packs', then those about shiplint's own inputs (`config/…`).
pub fn all_rules() -> Vec<&'static Rule> {
    REGISTRY
        .iter()
        .flat_map(|p| (p.rules)())
        .chain(crate::config_rules::rules())
        .chain(render_rules())
        .collect()
}

/// The rule an id names, by its id or a former one (`Rule::aliases`).
pub fn find_rule(id: &str) -> Option<&'static Rule> {
    all_rules().into_iter().find(|r| r.names().any(|n| n == id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_packs_are_the_packs_enabled_by_default() {
        let enabled: Vec<&str> = registry()
            .iter()
            .filter(|p| p.default_enabled)
            .map(|p| p.name)
            .collect();
        assert_eq!(enabled, crate::settings::DEFAULT_PACKS);
    }

    /// Each spec builds its own pack, ready, from default settings.
    #[test]
    fn every_spec_builds_the_pack_it_names() {
        let settings = Settings::default();
        for spec in registry() {
            let pack = spec.build(&settings).unwrap();
            assert_eq!(pack.name(), spec.name);
        }
    }

    /// The registry's own invariants (tests/rules.rs checks help sections
    /// and fixtures through the binary): ids unique over ids and aliases,
    /// `<pack>/<kebab-name>`, each rule listed under its own pack, aliases
    /// well-formed too.
    #[test]
    fn rule_ids_and_aliases_are_unique_and_well_formed() {
        let kebab = |s: &str| {
            !s.is_empty()
                && !s.starts_with('-')
                && !s.ends_with('-')
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        let mut seen = std::collections::HashSet::new();
        for spec in registry() {
            for r in (spec.rules)() {
                assert_eq!(
                    r.pack(),
                    spec.name,
                    "{} listed by the {} pack",
                    r.id,
                    spec.name
                );
            }
        }
        for r in all_rules() {
            for name in r.names() {
                assert!(seen.insert(name), "{name}: two rules answer to it");
                let (pack, rest) = name.split_once('/').unwrap_or(("", ""));
                assert!(
                    kebab(pack) && kebab(rest),
                    "{name:?} is not <pack>/<kebab-name>"
                );
            }
            assert!(!r.summary.trim().is_empty(), "{}: no summary", r.id);
            assert!(
                ["very-high", "high", "medium", "low"].contains(&r.precision),
                "{}: precision {}",
                r.id,
                r.precision
            );
        }
    }

    /// An id the review's masking still spells as a string (a secret
    /// detector's, which is data) names a real rule.
    #[test]
    fn string_ids_still_in_use_name_rules() {
        let id = review::redact::URL_PASSWORD;
        assert!(find_rule(id).is_some_and(|r| r.id == id), "{id}: no rule");
    }

    /// A renamed rule's old id keeps working: config levels, inline
    /// suppressions and annotations, exemptions, baselines and `explain`.
    #[test]
    fn a_former_id_reaches_the_rule_everywhere() {
        use crate::finding::{Finding, Severity};
        use crate::settings::{RuleLevel, Settings};
        use crate::source::Span;
        static RENAMED: Rule = Rule::new(
            "practices/new-name",
            Severity::Warning,
            "s",
            "## What it finds",
        )
        .aliases(&["practices/old-name"]);
        let path: std::sync::Arc<str> = "a.yaml".into();
        let make = || Finding::from_rule(&RENAMED, &path, Span::line(3), "m").with_key("k");
        assert!(make().answers_to("practices/old-name"));
        assert!(make().answers_to("practices/new-name"));
        assert!(!make().answers_to("practices/other"));

        // Config levels (the one place: Settings::level_for_ids).
        let mut s = Settings::default();
        s.rule_levels
            .insert("practices/old-name".into(), RuleLevel::Error);
        assert_eq!(s.level_for_rule(&RENAMED), Some(RuleLevel::Error));
        let mut found = vec![make()];
        crate::scan::Levels::new().apply(&mut found, &s);
        assert_eq!(found[0].severity, Severity::Error);
        s.rule_levels
            .insert("practices/old-name".into(), RuleLevel::Off);
        crate::scan::Levels::new().apply(&mut found, &s);
        assert!(found.is_empty());
        // The current id wins over a former one.
        s.rule_levels
            .insert("practices/new-name".into(), RuleLevel::Note);
        assert_eq!(s.level_for_rule(&RENAMED), Some(RuleLevel::Note));

        // Inline suppressions and annotations.
        let f = make();
        assert!(crate::suppress::suppressed_by_comment(&f, |_| Some(
            "x: 1 # shiplint:ignore practices/old-name".into()
        )));
        let f = make().with_doc_ignores(vec!["practices/old-name".into()]);
        assert!(crate::suppress::suppressed_by_annotation(&f, &[]));

        // Exemptions.
        let e: crate::exempt::Exemption = serde_json::from_value(serde_json::json!({
            "rules": ["practices/old-name"],
            "reason": "accepted",
        }))
        .unwrap();
        let (kept, exempted, _) = crate::exempt::partition(vec![make()], &[e]);
        assert!(kept.is_empty() && exempted.len() == 1);

        // Baselines: the fingerprint the finding had under its old id.
        static OLD: Rule = Rule::new("practices/old-name", Severity::Warning, "s", "h");
        let mut before = Finding::from_rule(&OLD, &path, Span::line(3), "m").with_key("k");
        before.finish_fingerprint();
        assert!(make().alias_fingerprints().contains(&before.fingerprint));
        let s = Settings {
            baseline: Some(std::sync::Arc::new([before.fingerprint.clone()].into())),
            ..Settings::default()
        };
        let mut found = vec![make()];
        crate::scan::drop_baselined(&mut found, &s);
        assert!(
            found.is_empty(),
            "a baseline written under the old id still holds"
        );

        // The config accepts the old id.
        assert!(crate::config::rule_id_known(
            &[&RENAMED],
            "practices/old-name"
        ));
    }
}
