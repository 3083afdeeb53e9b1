//! The embedded Kubernetes schemas: one zstd-compressed bundle of
//! de-duplicated definitions for every version (see schemas/generate.py).
//! Decompressed once per process; each kind's validator compiled once.

use super::KubeVersion;
use anyhow::{anyhow, bail, Context as _, Result};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

static BUNDLE_BYTES: &[u8] = include_bytes!("../../schemas/kubernetes.json.zst");

#[derive(Deserialize)]
struct Bundle {
    source: String,
    versions: HashMap<String, VersionEntry>,
    /// Parsed on demand: a scan needs a few hundred of these definitions.
    pool: Vec<Box<serde_json::value::RawValue>>,
}

#[derive(Deserialize)]
struct VersionEntry {
    full: String,
    defs: HashMap<String, usize>,
    kinds: HashMap<String, String>,
}

fn bundle() -> Result<&'static Bundle> {
    static BUNDLE: OnceLock<std::result::Result<Bundle, String>> = OnceLock::new();
    BUNDLE
        .get_or_init(|| {
            let raw = zstd::decode_all(BUNDLE_BYTES).map_err(|e| e.to_string())?;
            serde_json::from_slice(&raw).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| anyhow!("embedded schema bundle is corrupt: {e}"))
}

/// Versions with embedded schemas, oldest first.
pub fn versions() -> Result<Vec<KubeVersion>> {
    let mut v: Vec<KubeVersion> = bundle()?
        .versions
        .keys()
        .filter_map(|k| KubeVersion::parse(k).ok())
        .collect();
    v.sort();
    Ok(v)
}

/// Every API group the embedded schemas know, in any Kubernetes version
/// (`""` is the core group).
pub fn known_groups() -> &'static HashSet<String> {
    static GROUPS: OnceLock<HashSet<String>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let mut out = HashSet::new();
        if let Ok(b) = bundle() {
            for v in b.versions.values() {
                for k in v.kinds.keys() {
                    // `apps/v1/Deployment` or `v1/ConfigMap`
                    let parts: Vec<&str> = k.split('/').collect();
                    out.insert(if parts.len() == 3 { parts[0] } else { "" }.to_string());
                }
            }
        }
        out
    })
}

pub fn source() -> Result<&'static str> {
    Ok(&bundle()?.source)
}

pub type Compiled = Arc<jsonschema::Validator>;

/// Validators for one Kubernetes version and strictness.
pub struct EmbeddedSchemas {
    version: KubeVersion,
    full_version: String,
    strict: bool,
    entry: &'static VersionEntry,
    pool: &'static [Box<serde_json::value::RawValue>],
    cache: Mutex<HashMap<String, Option<Compiled>>>,
}

impl EmbeddedSchemas {
    pub fn load(version: Option<KubeVersion>, strict: bool) -> Result<Self> {
        let b = bundle()?;
        let all = versions()?;
        let version = match version {
            Some(v) => v,
            None => *all
                .last()
                .ok_or_else(|| anyhow!("embedded schema bundle has no versions"))?,
        };
        let Some(entry) = b.versions.get(&version.to_string()) else {
            let (lo, hi) = (
                all.first().map(|v| v.to_string()),
                all.last().map(|v| v.to_string()),
            );
            bail!(
                "no embedded schemas for Kubernetes {version} (embedded: {} to {}); use --schema-location for other versions",
                lo.unwrap_or_default(),
                hi.unwrap_or_default()
            );
        };
        Ok(EmbeddedSchemas {
            version,
            full_version: entry.full.clone(),
            strict,
            entry,
            pool: &b.pool,
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn version(&self) -> KubeVersion {
        self.version
    }

    pub fn full_version(&self) -> &str {
        &self.full_version
    }

    pub fn has_kind(&self, api_version: &str, kind: &str) -> bool {
        self.entry
            .kinds
            .contains_key(&format!("{api_version}/{kind}"))
    }

    /// Is this group served by the API server in this version (for any kind)?
    pub fn knows_group_version(&self, api_version: &str) -> bool {
        let prefix = format!("{api_version}/");
        self.entry
            .kinds
            .keys()
            .any(|k| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
    }

    /// The validator for a built-in kind, compiled on first use.
    pub fn validator(&self, api_version: &str, kind: &str) -> Result<Option<Compiled>> {
        let key = format!("{api_version}/{kind}");
        if let Some(hit) = self
            .cache
            .lock()
            .map_err(|_| anyhow!("schema cache poisoned"))?
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let compiled = match self.entry.kinds.get(&key) {
            None => None,
            Some(def) => Some(Arc::new(
                self.compile(def)
                    .with_context(|| format!("compiling the schema of {key}"))?,
            )),
        };
        self.cache
            .lock()
            .map_err(|_| anyhow!("schema cache poisoned"))?
            .insert(key, compiled.clone());
        Ok(compiled)
    }

    fn compile(&self, root: &str) -> Result<jsonschema::Validator> {
        // Only the definitions reachable from this kind go into its document.
        let mut defs = Map::new();
        let mut todo = vec![root.to_string()];
        let mut seen = HashSet::new();
        while let Some(name) = todo.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let idx = *self
                .entry
                .defs
                .get(&name)
                .ok_or_else(|| anyhow!("definition {name} missing from bundle"))?;
            let raw = self
                .pool
                .get(idx)
                .ok_or_else(|| anyhow!("definition {name} outside the pool"))?;
            let mut def: Value = serde_json::from_str(raw.get())?;
            collect_refs(&def, &mut todo);
            if self.strict {
                strictify(&mut def);
            }
            defs.insert(name, def);
        }
        let doc = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("#/$defs/{root}"),
            "$defs": Value::Object(defs),
        });
        build_validator(&doc)
    }
}

pub fn build_validator(schema: &Value) -> Result<jsonschema::Validator> {
    jsonschema::options()
        .should_validate_formats(false)
        .build(schema)
        .map_err(|e| anyhow!("invalid JSON schema: {e}"))
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(name) = x.as_str().and_then(|s| s.strip_prefix("#/$defs/")) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Strict mode: an object schema that lists its properties rejects others.
/// This is exactly how kubernetes-validate's `-strict` schemas differ.
pub fn strictify(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k != "enum" && k != "default" && k != "example" {
                    strictify(x);
                }
            }
            if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strictify),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_has_every_version_and_core_kinds() {
        let v = versions().unwrap();
        assert!(v.len() >= 13, "{v:?}");
        let s = EmbeddedSchemas::load(None, true).unwrap();
        assert!(s.has_kind("apps/v1", "Deployment"));
        assert!(s.has_kind("v1", "ConfigMap"));
        assert!(!s.has_kind("extensions/v1beta1", "Ingress"));
        assert!(s.validator("apps/v1", "Deployment").unwrap().is_some());
    }

    #[test]
    fn strict_rejects_unknown_fields() {
        let cm =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "extra": 1});
        let strict = EmbeddedSchemas::load(None, true).unwrap();
        let lax = EmbeddedSchemas::load(None, false).unwrap();
        assert!(!strict
            .validator("v1", "ConfigMap")
            .unwrap()
            .unwrap()
            .is_valid(&cm));
        assert!(lax
            .validator("v1", "ConfigMap")
            .unwrap()
            .unwrap()
            .is_valid(&cm));
    }

    #[test]
    fn unknown_versions_are_refused_with_the_range() {
        let err = EmbeddedSchemas::load(Some(KubeVersion { major: 1, minor: 2 }), true)
            .err()
            .unwrap();
        assert!(err.to_string().contains("1.25"), "{err}");
    }
}
