//! `practices`: what kube-score, kube-linter and polaris check — probes,
//! resources, images, security contexts on every pod spec, and checks that
//! relate objects of the whole run (selectors, StatefulSet services, HPA
//! targets, PDBs, NetworkPolicies, duplicates). Reads the manifests the
//! pipeline parsed; never parses again.

pub mod annotations;
mod cross;
mod env_secret;
pub use env_secret::ENV_SECRET;
mod image;
pub use image::PULL_POLICY;
mod index;
pub mod podspec;
mod probes;
mod rbac;
mod resources;
mod security;
pub use security::AUTOMOUNT;

use super::{Context, Pack, Rule};
use crate::finding::{Finding, Severity};
use crate::manifest::{Manifest, ParsedFile};
use crate::settings::Settings;
use crate::source::{SourceFile, Span};
use anyhow::Context as _;
use serde::Deserialize;

/// `practices:` in `.shiplint.yaml`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Options {
    /// Every image must be pinned by digest (`image@sha256:…`).
    pub require_digest: bool,
}

/// What a check needs besides the workload.
pub struct Env<'a> {
    pub file: Option<&'a SourceFile>,
    pub options: &'a Options,
}

/// Collects findings about one manifest, with the ignores its annotations
/// (ours and other tools') ask for.
pub struct Emit<'a> {
    pub m: &'a Manifest,
    settings: &'a Settings,
    ignores: Vec<String>,
    pub out: &'a mut Vec<Finding>,
}

impl<'a> Emit<'a> {
    pub fn new(settings: &'a Settings, m: &'a Manifest, out: &'a mut Vec<Finding>) -> Self {
        let pod_meta = podspec::locate(m).and_then(|w| w.pod_meta);
        Emit {
            m,
            settings,
            ignores: annotations::ignores(m, pod_meta),
            out,
        }
    }

    /// Adds a finding, unless the rule is off (then the pipeline would drop
    /// it anyway: not making it saves memory on big trees).
    pub fn push(
        &mut self,
        rule: &'static Rule,
        span: Span,
        message: String,
        key: String,
    ) -> Option<&mut Finding> {
        if !enabled(self.settings, rule) {
            return None;
        }
        let f = Finding::from_rule(rule, &self.m.path, span, message)
            .with_key(key)
            .with_doc_ignores(self.ignores.clone());
        self.out.push(f);
        self.out.last_mut()
    }
}

/// Whether a rule reports in this run: its configured level, else its default.
pub fn enabled(settings: &Settings, rule: &Rule) -> bool {
    match settings.level_for_rule(rule) {
        Some(level) => level.severity().is_some(),
        None => rule.default_enabled,
    }
}

/// A practices rule: tagged, and its help ends with the other tools'
/// annotations that silence it.
pub(crate) const fn rule(
    id: &'static str,
    severity: Severity,
    summary: &'static str,
    help: &'static str,
) -> Rule {
    Rule::new(id, severity, summary, help)
        .tags(&["kubernetes", "best-practice"])
        .help_more(annotations_help)
}

fn annotations_help(r: &Rule) -> String {
    annotations::help_table(r)
}

/// Every practices rule.
pub fn rules() -> Vec<&'static Rule> {
    let mut r = Vec::new();
    r.extend(probes::rules());
    r.extend(resources::rules());
    r.extend(image::rules());
    r.extend(security::rules());
    r.extend(env_secret::rules());
    r.extend(cross::rules());
    r.extend(rbac::rules());
    r
}

pub struct PracticesPack {
    options: Options,
    /// What the run-wide checks need, gathered file by file (the files are
    /// checked in parallel; `check_index` takes it).
    facts: std::sync::Mutex<index::Facts>,
}

impl PracticesPack {
    /// With the `practices:` options of the config (checked when the
    /// config loaded: `config::ConfigFile::parse`).
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        Ok(PracticesPack {
            options: Options::from_settings(settings)?,
            facts: Default::default(),
        })
    }

    fn options(&self) -> &Options {
        &self.options
    }
}

impl Options {
    /// The `practices:` section, typed (unknown keys are errors).
    pub fn from_config(v: Option<&serde_json::Value>) -> anyhow::Result<Self> {
        match v {
            Some(v) if !v.is_null() => {
                Ok(serde_json::from_value(v.clone()).context("in the `practices:` options")?)
            }
            _ => Ok(Options::default()),
        }
    }

    fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        Self::from_config(settings.options("practices"))
    }
}

/// Every per-manifest check (used by the file phase and by tests).
pub fn check_manifest(
    ctx: &Context,
    file: Option<&SourceFile>,
    options: &Options,
    m: &Manifest,
    out: &mut Vec<Finding>,
) {
    if ctx.is_patch(&m.path) {
        return;
    }
    let mut emit = Emit::new(ctx.settings, m, out);
    let env = Env { file, options };
    cross::check_selector(ctx, m, &mut emit);
    rbac::check(m, &mut emit);
    let Some(w) = podspec::locate(m) else { return };
    if w.is_partial() {
        return;
    }
    let containers = w.containers();
    probes::check(&w, &containers, &mut emit);
    resources::check(&w, &containers, &mut emit);
    image::check(&w, &containers, &env, &mut emit);
    security::check(&w, &containers, &mut emit);
    env_secret::check(&w, &containers, &env, &mut emit);
}

impl Pack for PracticesPack {
    fn name(&self) -> &'static str {
        "practices"
    }

    fn check_file(
        &self,
        ctx: &Context,
        file: &SourceFile,
        parsed: Option<&ParsedFile>,
        out: &mut Vec<Finding>,
    ) {
        if let Some(parsed) = parsed {
            for m in &parsed.manifests {
                check_manifest(ctx, Some(file), self.options(), m, out);
            }
            cross::check_duplicates(ctx, &parsed.manifests, out);
        }
        self.gather_file_facts(ctx, file, parsed);
    }

    /// Labels, selectors and names for the cross-object checks, and the
    /// folders whose templates hide workloads from them.
    fn gather_file_facts(&self, ctx: &Context, file: &SourceFile, parsed: Option<&ParsedFile>) {
        let mut facts = index::Facts::default();
        match parsed {
            None => {
                // Folders holding templates the pipeline does not parse
                // (`{{ }}`): their workloads are invisible to the index checks.
                if file.is_yaml_or_json() && crate::manifest::is_template(&file.text) {
                    facts
                        .template_dirs
                        .insert(cross::dir(&file.path).to_string());
                }
            }
            Some(parsed) => {
                for m in &parsed.manifests {
                    facts.add(ctx, m);
                }
            }
        }
        if let Ok(mut all) = self.facts.lock() {
            all.extend(facts);
        }
    }

    fn gathers_file_facts(&self) -> bool {
        true
    }

    fn check_index(&self, ctx: &Context, out: &mut Vec<Finding>) {
        let facts = self
            .facts
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        index::check(ctx.settings, &facts, out);
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;
    use crate::manifest::{parse_file, Limits};
    use crate::settings::Settings;

    /// Runs the per-file checks (and the index checks) on inline YAML;
    /// returns (rule name without pack, line) pairs, sorted.
    pub fn run_with(text: &str, options: &Options) -> Vec<(String, usize)> {
        findings_with(text, options)
            .into_iter()
            .map(|f| {
                (
                    f.rule.trim_start_matches("practices/").to_string(),
                    f.span.line,
                )
            })
            .collect()
    }

    pub fn findings_with(text: &str, options: &Options) -> Vec<Finding> {
        let mut settings = Settings::default();
        for off in [
            "practices/ephemeral-storage-missing",
            "practices/probe-port-not-exposed",
        ] {
            settings
                .rule_levels
                .insert(off.into(), crate::settings::RuleLevel::Note);
        }
        let ctx = Context {
            settings: &settings,
            kustomize: Default::default(),
            origin_of: None,
        };
        let file = SourceFile::new("t.yaml", text.to_string());
        let parsed = parse_file(&file, Limits::default());
        let mut out = Vec::new();
        let mut facts = index::Facts::default();
        for m in &parsed.manifests {
            check_manifest(&ctx, Some(&file), options, m, &mut out);
            facts.add(&ctx, m);
        }
        cross::check_duplicates(&ctx, &parsed.manifests, &mut out);
        index::check(&settings, &facts, &mut out);
        out.retain(|f| !crate::suppress::suppressed_by_annotation(f, &[]));
        out.sort_by(|a, b| (a.span.line, &a.rule).cmp(&(b.span.line, &b.rule)));
        out
    }

    pub fn run(text: &str) -> Vec<(String, usize)> {
        run_with(text, &Options::default())
    }

    /// Only the given rules' findings.
    pub fn only(text: &str, rules: &[&str]) -> Vec<(String, usize)> {
        run(text)
            .into_iter()
            .filter(|(r, _)| rules.contains(&r.as_str()))
            .collect()
    }

    pub fn pairs(v: &[(&str, usize)]) -> Vec<(String, usize)> {
        v.iter().map(|(r, l)| (r.to_string(), *l)).collect()
    }
}
