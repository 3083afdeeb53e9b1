//! `--schema-location` templates, kubeconform-compatible: a local path or an
//! https URL with `{{ .ResourceKind }}`-style variables. Downloads are cached
//! on disk and time out.

use crate::k8s::schemas::{build_validator, Compiled};
use anyhow::{anyhow, bail, Context as _, Result};
use regex::Regex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// kubeconform appends this to a location that is neither a template nor a
/// `.json` file.
const DEFAULT_SUFFIX: &str =
    "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";

pub const VARIABLES: &[&str] = &[
    "NormalizedKubernetesVersion",
    "StrictSuffix",
    "ResourceKind",
    "ResourceAPIVersion",
    "Group",
    "KindSuffix",
];

fn var_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| crate::text::constant_regex(r"\{\{-?\s*\.(\w+)\s*-?\}\}"))
}

/// One `--schema-location`; `default` means the embedded schemas.
#[derive(Debug, Clone)]
pub enum Location {
    Embedded,
    Template(String),
}

impl Location {
    pub fn parse(raw: &str) -> Result<Self> {
        if raw == "default" {
            return Ok(Location::Embedded);
        }
        let mut t = raw.to_string();
        if !t.contains("{{") && !t.ends_with(".json") {
            if !t.ends_with('/') {
                t.push('/');
            }
            t.push_str(DEFAULT_SUFFIX);
        }
        for cap in var_re().captures_iter(&t) {
            if !VARIABLES.contains(&&cap[1]) {
                bail!(
                    "--schema-location {raw}: unknown variable '.{}' (known: {})",
                    &cap[1],
                    VARIABLES.join(", ")
                );
            }
        }
        let stripped = var_re().replace_all(&t, "");
        if stripped.contains("{{") || stripped.contains("}}") {
            bail!("--schema-location {raw}: malformed template");
        }
        if t.starts_with("http://") && !is_loopback_http(&t) {
            bail!("--schema-location {raw}: only https URLs (or http on localhost) and local paths are allowed");
        }
        Ok(Location::Template(t))
    }
}

/// Plain http is allowed only to this machine (a local mirror, tests).
fn is_loopback_http(url: &str) -> bool {
    let rest = url.trim_start_matches("http://");
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| rest.starts_with(h) && rest[h.len()..].starts_with([':', '/']))
}

pub struct TemplateInput<'a> {
    /// `v1.30.0`, or `master`.
    pub normalized_version: &'a str,
    pub strict: bool,
    pub api_version: &'a str,
    pub kind: &'a str,
}

pub fn render(template: &str, i: &TemplateInput) -> String {
    let parts: Vec<&str> = i.api_version.split('/').collect();
    let group = if parts.len() > 1 { parts[0] } else { "" };
    let version = parts.last().copied().unwrap_or("");
    let mut kind_suffix = format!(
        "-{}",
        parts[0].split('.').next().unwrap_or("").to_lowercase()
    );
    if parts.len() > 1 {
        kind_suffix.push('-');
        kind_suffix.push_str(&parts[1].to_lowercase());
    }
    var_re()
        .replace_all(template, |c: &regex::Captures| match &c[1] {
            "NormalizedKubernetesVersion" => i.normalized_version.to_string(),
            "StrictSuffix" => if i.strict { "-strict" } else { "" }.to_string(),
            "ResourceKind" => i.kind.to_lowercase(),
            "ResourceAPIVersion" => version.to_string(),
            "Group" => group.to_string(),
            "KindSuffix" => kind_suffix.clone(),
            _ => String::new(),
        })
        .into_owned()
}

/// Loads and compiles schemas from rendered locations, once each.
pub struct RemoteSchemas {
    cache_dir: PathBuf,
    timeout: Duration,
    compiled: Mutex<HashMap<String, Option<Compiled>>>,
}

impl RemoteSchemas {
    pub fn new(cache_dir: PathBuf, timeout: Duration) -> Self {
        RemoteSchemas {
            cache_dir,
            timeout,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// Ok(None) when the location has no schema for this resource (a 404 or
    /// a missing file); Err for anything else (bad JSON, network failure).
    pub fn get(&self, location: &str) -> Result<Option<Compiled>> {
        if let Some(hit) = self
            .compiled
            .lock()
            .map_err(|_| anyhow!("poisoned"))?
            .get(location)
        {
            return Ok(hit.clone());
        }
        let compiled = match self.fetch(location)? {
            None => None,
            Some(text) => {
                let schema: serde_json::Value = serde_json::from_str(&text)
                    .with_context(|| format!("schema {location} is not valid JSON"))?;
                Some(Arc::new(
                    build_validator(&schema).with_context(|| format!("schema {location}"))?,
                ))
            }
        };
        self.compiled
            .lock()
            .map_err(|_| anyhow!("poisoned"))?
            .insert(location.to_string(), compiled.clone());
        Ok(compiled)
    }

    fn fetch(&self, location: &str) -> Result<Option<String>> {
        let remote = location.starts_with("https://") || location.starts_with("http://");
        if !remote {
            let path = location.strip_prefix("file://").unwrap_or(location);
            return match std::fs::read_to_string(path) {
                Ok(t) => Ok(Some(t)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).with_context(|| format!("reading schema {path}")),
            };
        }
        let cached = self
            .cache_dir
            .join("schemas")
            .join(hex::encode(Sha256::digest(location.as_bytes())));
        if let Ok(t) = std::fs::read_to_string(&cached) {
            return Ok(Some(t));
        }
        // One try: a download that fails is reported, not retried.
        let policy = crate::http::Policy {
            retries: 0,
            backoff: std::time::Duration::ZERO,
            max_wait: std::time::Duration::ZERO,
            repeat_writes: false,
        };
        let client = crate::http::Client::new(self.timeout, policy, 64 * 1024 * 1024);
        let resp = client
            .once(&crate::http::Request::new(
                crate::http::Method::GET,
                location,
            ))
            .with_context(|| format!("downloading schema {location}"))?;
        match resp.status.as_u16() {
            200 => {}
            404 => return Ok(None),
            s => bail!("downloading schema {location}: HTTP {s}"),
        }
        let text = String::from_utf8(resp.body)
            .with_context(|| format!("downloading schema {location}: not UTF-8"))?;
        if let Some(dir) = cached.parent() {
            // The cache is an optimisation: failing to write it is not an error.
            if std::fs::create_dir_all(dir).is_ok() {
                let tmp = cached.with_extension("tmp");
                if std::fs::write(&tmp, &text).is_ok() {
                    let _ = std::fs::rename(&tmp, &cached);
                }
            }
        }
        Ok(Some(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(api: &'a str, kind: &'a str) -> TemplateInput<'a> {
        TemplateInput {
            normalized_version: "v1.30.0",
            strict: true,
            api_version: api,
            kind,
        }
    }

    #[test]
    fn renders_kubeconform_variables() {
        let t = "x/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";
        assert_eq!(
            render(t, &input("apps/v1", "Deployment")),
            "x/v1.30.0-standalone-strict/deployment-apps-v1.json"
        );
        assert_eq!(
            render(t, &input("v1", "Service")),
            "x/v1.30.0-standalone-strict/service-v1.json"
        );
        let crd = "s/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json";
        assert_eq!(
            render(crd, &input("monitoring.coreos.com/v1", "Prometheus")),
            "s/monitoring.coreos.com/prometheus_v1.json"
        );
        assert_eq!(
            render(
                "{{ .KindSuffix }}",
                &input("networking.k8s.io/v1", "Ingress")
            ),
            "-networking-v1"
        );
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(Location::parse("x/{{ .Nope }}.json").is_err());
        assert!(Location::parse("x/{{ .ResourceKind }.json").is_err());
        assert!(Location::parse("http://example.invalid/x.json").is_err());
        assert!(matches!(
            Location::parse("default").unwrap(),
            Location::Embedded
        ));
        match Location::parse("schemas/").unwrap() {
            Location::Template(t) => assert!(t.ends_with("{{ .KindSuffix }}.json")),
            _ => unreachable!(),
        }
    }
}
