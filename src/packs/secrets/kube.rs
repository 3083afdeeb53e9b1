//! Kubernetes `Secret` objects committed with their values: `stringData` is
//! plain text and `data` is only base64, so both are readable by anyone with
//! the repository. Decoded `data` values also go through the detectors, and
//! what they find is reported on the line of the encoded value.

use super::engine::{Engine, ScanOptions};
use super::{filters, redact};
use crate::finding::{Finding, Severity, Snippet};
use crate::manifest::{Manifest, Node, ParsedFile};
use crate::source::SourceFile;
use base64::Engine as _;

use super::K8S_SECRET;

pub fn check(
    engine: &Engine,
    file: &SourceFile,
    parsed: &ParsedFile,
    opts: &ScanOptions,
    out: &mut Vec<Finding>,
) {
    for m in parsed
        .manifests
        .iter()
        .filter(|m| m.kind == "Secret" && m.api_version == "v1")
    {
        for (section, encoded) in [("stringData", false), ("data", true)] {
            let Some(map) = m.root.get(section) else {
                continue;
            };
            for entry in map.entries() {
                let Some(name) = entry.key.key_str() else {
                    continue;
                };
                let Some(raw) = entry.value.scalar_text() else {
                    continue;
                };
                // Encrypted with SOPS: safe to commit by design.
                if super::is_sops_value(&raw) {
                    continue;
                }
                let value = if encoded {
                    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
                    match base64::engine::general_purpose::STANDARD.decode(compact) {
                        Ok(v) => v,
                        Err(_) => continue,
                    }
                } else {
                    raw.clone().into_bytes()
                };
                let lower = String::from_utf8_lossy(&value).trim().to_ascii_lowercase();
                if lower.is_empty() || filters::is_placeholder(&lower) {
                    continue;
                }
                let snippet = snippet_for(file, &entry.value, &raw, &value);
                let hash = redact::hash(&value);
                let preview = redact::preview(&value);
                let how = if encoded {
                    "base64 in `data`, which is encoding, not encryption"
                } else {
                    "plain text in `stringData`"
                };
                let (severity, holds) = weigh(engine, &name, &value, &file.path, opts);
                out.push(
                    Finding::from_rule(
                        &K8S_SECRET,
                        &file.path,
                        entry.value.span,
                        format!(
                            "{} commits key '{name}' as {how} ({preview}){holds}; encrypt it with SOPS or Sealed Secrets, or source it from a secret manager with external-secrets",
                            m.display_name()
                        ),
                    )
                    .with_severity(severity)
                    .with_key(format!("sha256:{hash}:{section}/{name}"))
                    .with_property("secretHash", hash)
                    .with_property("redacted", preview)
                    .with_property("resource", m.display_name()),
                );
                if let Some(f) = out.last_mut() {
                    f.snippet = Some(snippet.clone());
                }
                if encoded {
                    decoded_findings(engine, file, m, &entry.value, &value, &snippet, opts, out);
                }
            }
        }
    }
}

/// How much a committed Secret value weighs, by what it holds: a value the
/// detectors recognise, or under a credential-like key, is an error; a
/// configuration file that mentions credentials is a warning; one that
/// holds none (`grafana.ini` with `default_timezone = UTC`) is a note.
fn weigh(
    engine: &Engine,
    key: &str,
    value: &[u8],
    path: &str,
    opts: &ScanOptions,
) -> (Severity, &'static str) {
    const CREDENTIAL_WORDS: &[&str] = &[
        "pass", "pwd", "secret", "token", "key", "cred", "auth", "cert", "private", "dsn", "conn",
        "url", "uri", "session", "cookie", "salt", "signing", "jwt", "bearer",
    ];
    let k = key.to_ascii_lowercase();
    let file_like = k.rsplit_once('.').is_some_and(|(_, ext)| {
        matches!(
            ext,
            "yaml"
                | "yml"
                | "json"
                | "ini"
                | "conf"
                | "cfg"
                | "toml"
                | "properties"
                | "xml"
                | "tmpl"
                | "txt"
        )
    });
    let credential_key = CREDENTIAL_WORDS.iter().any(|w| k.contains(w)) && !file_like;
    if credential_key || !engine.scan(value, path, opts).is_empty() {
        return (Severity::Error, "");
    }
    let text = String::from_utf8_lossy(value).to_ascii_lowercase();
    let mentions = [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "api-key",
        "private_key",
        "credentials",
    ]
    .iter()
    .any(|w| text.contains(w));
    match (file_like || value.contains(&b'\n'), mentions) {
        (true, false) => (
            Severity::Note,
            ", a configuration with no credential shiplint recognises",
        ),
        (true, true) => (
            Severity::Warning,
            ", a configuration that mentions credentials",
        ),
        (false, _) => (Severity::Error, ""),
    }
}

/// Detectors over a decoded `data` value, reported at the encoded value.
#[allow(clippy::too_many_arguments)]
fn decoded_findings(
    engine: &Engine,
    file: &SourceFile,
    m: &Manifest,
    node: &Node,
    value: &[u8],
    snippet: &Snippet,
    opts: &ScanOptions,
    out: &mut Vec<Finding>,
) {
    for hit in engine.scan(value, &file.path, opts) {
        let det = &engine.detectors[hit.detector];
        let secret = &value[hit.start..hit.end];
        let hash = redact::hash(secret);
        let preview = redact::preview(secret);
        let mut f = Finding::from_rule(
            det.rule,
            &file.path,
            node.span,
            format!(
                "{} ({preview}) in base64 `data` of {}",
                det.description,
                m.display_name()
            ),
        )
        .with_key(format!("sha256:{hash}"))
        .with_property("secretHash", hash)
        .with_property("redacted", preview)
        .with_property("decoded", "base64");
        f.snippet = Some(snippet.clone());
        out.push(f);
    }
}

/// The value's line with the value replaced by the preview of what it holds.
fn snippet_for(file: &SourceFile, node: &Node, raw: &str, value: &[u8]) -> Snippet {
    let line = node.span.line;
    let text = file.line_text(line).unwrap_or_default();
    let preview = redact::preview(value);
    let red = match text.find(raw) {
        Some(i) if !raw.is_empty() => format!("{}{preview}{}", &text[..i], &text[i + raw.len()..]),
        // Block scalars and folded values: keep only the key part.
        _ => match text.find(':') {
            Some(i) => format!("{} {preview}", &text[..=i]),
            None => preview,
        },
    };
    Snippet { line, text: red }
}
