//! `secrets`: credentials committed to the repository. ≥150 detectors from
//! `rules/secrets.yaml` behind one Aho-Corasick keyword pass, entropy and
//! checksum filters, placeholder noise control, Kubernetes `Secret` checks
//! and redaction (the raw value never reaches a finding).

mod decode;
pub mod engine;
pub mod filters;
mod folded;
pub mod kube;
pub mod redact;
pub mod rules;

use super::{Context, Pack, Rule};
use crate::finding::{Finding, Severity, Snippet};
use crate::manifest::ParsedFile;
use crate::settings::Settings;
use crate::source::{LineIndex, SourceFile};
use anyhow::{Context as _, Result};
use engine::{Engine, ScanOptions};
use rules::{AllowSpec, Allowlist};
use serde::Deserialize;
use std::sync::OnceLock;

/// The `secrets:` section of `.shiplint.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsOptions {
    /// Paths (globs), regexes and stopwords that are never findings.
    #[serde(default)]
    pub allowlist: AllowSpec,
}

static ENGINE: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();

/// The compiled detectors, built once per process.
pub fn engine() -> Result<&'static Engine> {
    ENGINE
        .get_or_init(|| {
            rules::load_builtin()
                .and_then(Engine::new)
                .map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

pub struct SecretsPack {
    /// `secrets.allowlist` of the config, compiled.
    user: Allowlist,
}

impl SecretsPack {
    /// Compiles the detectors (once per process) and the config's allowlist.
    pub fn new(settings: &Settings) -> Result<Self> {
        engine()?;
        let opts = SecretsOptions::from_config(settings.options("secrets"))?;
        let user = Allowlist::compile(&opts.allowlist, "config secrets.allowlist")?;
        Ok(SecretsPack { user })
    }
}

impl SecretsOptions {
    /// The `secrets:` section, typed (unknown keys are errors).
    pub fn from_config(v: Option<&serde_json::Value>) -> Result<Self> {
        match v {
            Some(v) if !v.is_null() => {
                Ok(serde_json::from_value(v.clone()).context("config section `secrets`")?)
            }
            _ => Ok(SecretsOptions::default()),
        }
    }
}

/// The end of every secret rule's help (a macro, so the `k8s-secret`
/// item can be put together in const context).
macro_rules! help_tail {
    () => {
        "
**Why it matters:** anything committed is readable by everyone with access to the repository, its forks and clones, and stays in the git history after the line is deleted.

**How to fix:**
1. Rotate the credential now (revoke it at the provider and issue a new one): assume it is compromised.
2. Remove it from the code and, if the repository is shared, from history (`git filter-repo`, BFG).
3. Load it at run time from a secret manager (Vault, cloud secret managers, CI secrets, SOPS / Sealed Secrets for Kubernetes).

A false positive can be silenced with `shiplint:allow` on the line, an allowlist under `secrets:` in `.shiplint.yaml`, or a baseline (`shiplint baseline create`)."
    };
}
const HELP_TAIL: &str = help_tail!();

/// The help of a detector's rule.
pub(crate) fn rule_help(description: &str) -> String {
    format!("**What:** a {description} committed in a file. The finding shows only the first 4 characters; its `secretHash` property identifies the value.\n{HELP_TAIL}")
}

/// A `kind: Secret` committed with its values. Its level is weighed per
/// value (`kube::weigh`): what the detectors recognise in it.
pub static K8S_SECRET: Rule = Rule::new(
    "secrets/k8s-secret-committed",
    Severity::Error,
    "Kubernetes Secret committed with its values (stringData or base64 data)",
    concat!("**What:** a `kind: Secret` manifest whose `stringData` or `data` holds real values. `data` is base64, which anyone can decode; decoded values are also checked against every detector.\n\nCommit encrypted secrets instead: [SOPS](https://github.com/getsops/sops) or [Sealed Secrets](https://github.com/bitnami-labs/sealed-secrets), or an External Secrets operator reading from a secret manager.\n", help_tail!()),
)
.tags(&["secret", "kubernetes"])
.security(8.0);

/// Every rule of the pack: one per detector of `rules/secrets.yaml` (rule
/// items made from that data once per process), and `K8S_SECRET`.
pub fn rules() -> Vec<&'static Rule> {
    rules::detector_rules()
        .iter()
        .chain([&K8S_SECRET])
        .collect()
}

impl SecretsPack {
    fn options(&self) -> ScanOptions<'_> {
        ScanOptions {
            user: Some(&self.user),
        }
    }
}

impl Pack for SecretsPack {
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn check_file(
        &self,
        _ctx: &Context,
        file: &SourceFile,
        parsed: Option<&ParsedFile>,
        out: &mut Vec<Finding>,
    ) {
        let Ok(engine) = engine() else {
            return;
        };
        let opts = self.options();
        let first = out.len();
        scan_text(engine, file, &opts, out);
        // Values encrypted for the GitOps way of keeping secrets in git are
        // safe to commit by design: SOPS (`ENC[AES256_GCM,data:…]`) and
        // Sealed Secrets' `encryptedData`.
        let sealed = parsed.map(sealed_lines).unwrap_or_default();
        if out.len() > first {
            let lines: Vec<&str> = file.text.split('\n').collect();
            let encrypted = |line: usize| {
                sealed.contains(&line)
                    || lines
                        .get(line.wrapping_sub(1))
                        .is_some_and(|l| is_sops_value(l))
            };
            let mut i = 0;
            out.retain(|f| {
                i += 1;
                i <= first || !encrypted(f.span.line)
            });
        }
        if let Some(parsed) = parsed {
            let before = out.len();
            kube::check(engine, file, parsed, &opts, out);
            // A committed Secret value is already reported as such; generic
            // "password = …" heuristics on the same line only repeat it, and
            // so does the base64 pass over a `data` value kube.rs decoded.
            let kube_lines: Vec<(usize, bool)> = out[before..]
                .iter()
                .map(|f| (f.span.line, &*f.rule == K8S_SECRET.id))
                .collect();
            if !kube_lines.is_empty() {
                let repeats = |f: &Finding| {
                    kube_lines.iter().any(|&(line, committed)| {
                        line == f.span.line
                            && (f.property("encoding").is_some()
                                || (committed && f.rule.starts_with("secrets/generic-")))
                    })
                };
                let mut i = 0;
                out.retain(|f| {
                    i += 1;
                    i <= first || i > before || !repeats(f)
                });
            }
        }
    }
}

/// A SOPS-encrypted value on this line: `ENC[AES256_GCM,data:…,iv:…]`.
pub fn is_sops_value(line: &str) -> bool {
    line.find("ENC[")
        .is_some_and(|i| line[i..].contains(",data:") || line[i..].starts_with("ENC[AES256_GCM"))
}

/// Lines of the `spec.encryptedData` values of Sealed Secrets.
fn sealed_lines(parsed: &ParsedFile) -> std::collections::HashSet<usize> {
    let mut out = std::collections::HashSet::new();
    for m in parsed
        .manifests
        .iter()
        .filter(|m| m.kind == "SealedSecret" && m.group() == "bitnami.com")
    {
        for data in [
            m.root.path(&["spec", "encryptedData"]),
            m.root.path(&["spec", "template", "encryptedData"]),
        ]
        .into_iter()
        .flatten()
        {
            for e in data.entries() {
                let end = e.value.span.end_line.max(e.value.span.line);
                out.extend(e.key.span.line..=end);
            }
        }
    }
    out
}

/// Detector findings for one file's text, each with a redacted snippet:
/// secrets as written, and secrets inside base64 runs (reported on the run).
pub fn scan_text(engine: &Engine, file: &SourceFile, opts: &ScanOptions, out: &mut Vec<Finding>) {
    let text = file.text.as_bytes();
    let mut hits = engine.scan(text, &file.path, opts);
    let mut encoded = engine.scan_encoded(text, &file.path, opts);
    // One finding per span: what is written wins over what it decodes to,
    // unless only a generic heuristic ("token: <random>") saw the run and a
    // specific detector recognises its decoded content.
    let generic = |d: usize| engine.detectors[d].generic;
    let decoded_wins = |h: &engine::Hit, e: &decode::EncodedHit| {
        h.start < e.end && e.start < h.end && generic(h.detector) && !generic(e.detector)
    };
    hits.retain(|h| !encoded.iter().any(|e| decoded_wins(h, e)));
    encoded.retain(|e| !hits.iter().any(|h| h.start < e.end && e.start < h.end));
    folded::scan(engine, file, opts, &hits, out);
    if hits.is_empty() && encoded.is_empty() {
        return;
    }
    let index = LineIndex::new(&file.text);
    // Every reported range is redacted in every snippet of its line.
    let ranges: Vec<(usize, usize)> = hits
        .iter()
        .map(|h| (h.start, h.end))
        .chain(encoded.iter().map(|e| (e.start, e.end)))
        .collect();
    let found = hits
        .iter()
        .map(|h| (h.detector, h.start, h.end, &text[h.start..h.end], ""))
        .chain(encoded.iter().map(|e| {
            (
                e.detector,
                e.start,
                e.end,
                e.secret.as_slice(),
                "base64-encoded, ",
            )
        }));
    for (detector, start, end, secret, how) in found {
        let det = &engine.detectors[detector];
        let hash = redact::hash(secret);
        let preview = redact::preview(secret);
        let (line, red) = redact::redacted_line(text, start, &ranges);
        let mut f = Finding::from_rule(
            det.rule,
            &file.path,
            index.span(start, end),
            format!("{} ({how}{preview})", det.description),
        )
        .with_key(format!("sha256:{hash}"))
        .with_property("secretHash", hash)
        .with_property("redacted", preview)
        .with_property("detector", det.id.clone());
        if !how.is_empty() {
            f = f.with_property("encoding", "base64");
        }
        f.snippet = Some(Snippet { line, text: red });
        out.push(f);
    }
}

#[cfg(test)]
mod tests;
