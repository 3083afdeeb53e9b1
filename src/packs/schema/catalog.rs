//! The embedded CRD catalog: the custom resources of widely used projects
//! (Gateway API, cert-manager, Flux, Argo, Prometheus Operator, Istio …),
//! from their own CRDs (see schemas/generate_crds.py and schemas/CRDS.md).
//! Only the small index is read until a catalogued kind is validated; then
//! that project's schemas are decompressed, and each kind compiled once,
//! exactly as a CRD found in the scanned files would be.

use super::crd::resource_schema;
use crate::k8s::schemas::{build_validator, Compiled};
use anyhow::{anyhow, bail, Context as _, Result};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

static CATALOG_BYTES: &[u8] = include_bytes!("../../../schemas/crds.bin");
const MAGIC: &[u8] = b"SLCRD1";

#[derive(Deserialize)]
pub struct Project {
    pub name: String,
    pub repo: String,
    pub commit: String,
    pub version: String,
    pub licence: String,
    /// Byte range of this project's zstd frame after the index.
    frame: (usize, usize),
}

#[derive(Deserialize)]
struct Index {
    projects: Vec<Project>,
    /// `group/version/Kind` → (project, schema within the project's frame).
    kinds: HashMap<String, (usize, usize)>,
}

struct Parsed {
    index: Index,
    frames_start: usize,
    frames: Vec<OnceLock<std::result::Result<Vec<Box<RawValue>>, String>>>,
}

fn parsed() -> Result<&'static Parsed> {
    static PARSED: OnceLock<std::result::Result<Parsed, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| parse(CATALOG_BYTES).map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("embedded CRD catalog is corrupt: {e}"))
}

fn parse(bytes: &[u8]) -> Result<Parsed> {
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| anyhow!("bad magic"))?;
    if rest.len() < 4 {
        bail!("truncated");
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    let start = MAGIC.len() + 4;
    let frame = bytes
        .get(start..start + len)
        .ok_or_else(|| anyhow!("truncated index"))?;
    let index: Index = serde_json::from_slice(&zstd::decode_all(frame)?)?;
    let frames = index.projects.iter().map(|_| OnceLock::new()).collect();
    Ok(Parsed {
        index,
        frames_start: start + len,
        frames,
    })
}

/// The catalogued projects, in the order of schemas/CRDS.md.
pub fn projects() -> Result<&'static [Project]> {
    Ok(&parsed()?.index.projects)
}

/// Number of group/version/kinds in the catalog.
pub fn kind_count() -> usize {
    parsed().map_or(0, |p| p.index.kinds.len())
}

/// The project whose CRDs define this kind.
pub fn project_of(api_version: &str, kind: &str) -> Option<&'static Project> {
    let p = parsed().ok()?;
    let (project, _) = p.index.kinds.get(&format!("{api_version}/{kind}"))?;
    p.index.projects.get(*project)
}

/// The catalogued versions of a group's kind (`["v1"]`), and its project,
/// for a resource whose own version the catalog lacks.
pub fn other_versions(group: &str, kind: &str) -> Option<(Vec<String>, &'static Project)> {
    let p = parsed().ok()?;
    let mut project = None;
    let mut versions: Vec<String> = p
        .index
        .kinds
        .iter()
        .filter_map(|(k, (proj, _))| {
            let (g, rest) = k.split_once('/')?;
            let (v, kd) = rest.split_once('/')?;
            (g == group && kd == kind).then(|| {
                project = Some(*proj);
                v.to_string()
            })
        })
        .collect();
    versions.sort();
    Some((versions, p.index.projects.get(project?)?))
}

fn schema_text(api_version: &str, kind: &str) -> Result<Option<&'static str>> {
    let p = parsed()?;
    let Some(&(project, schema)) = p.index.kinds.get(&format!("{api_version}/{kind}")) else {
        return Ok(None);
    };
    let (meta, cell) = p
        .index
        .projects
        .get(project)
        .zip(p.frames.get(project))
        .ok_or_else(|| anyhow!("embedded CRD catalog: project {project} out of range"))?;
    let pool = cell
        .get_or_init(|| {
            let (off, len) = meta.frame;
            let at = p.frames_start + off;
            let frame = CATALOG_BYTES
                .get(at..at + len)
                .ok_or_else(|| "frame out of range".to_string())?;
            let raw = zstd::decode_all(frame).map_err(|e| e.to_string())?;
            serde_json::from_slice(&raw).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| anyhow!("embedded CRD catalog ({}) is corrupt: {e}", meta.name))?;
    let raw = pool
        .get(schema)
        .ok_or_else(|| anyhow!("embedded CRD catalog: schema {schema} out of range"))?;
    Ok(Some(raw.get()))
}

/// Validators for catalogued kinds. A catalogued schema is often far bigger
/// than the resources it validates (Argo CD's ApplicationSet: 380 KB), and
/// compiling it whole costs milliseconds, so each resource is validated
/// against the schema cut down to the fields it has: a field it lacks keeps
/// its name (strict mode still knows it) but not its subschema. Validators
/// are cached per cut-down schema, so resources of one shape share one.
pub struct Catalog {
    strict: bool,
    schemas: Mutex<HashMap<String, Option<Arc<serde_json::Value>>>>,
    compiled: Mutex<HashMap<String, Compiled>>,
}

impl Catalog {
    pub fn new(strict: bool) -> Self {
        Catalog {
            strict,
            schemas: Mutex::new(HashMap::new()),
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The whole JSON schema of a catalogued kind, converted once.
    fn schema(&self, api_version: &str, kind: &str) -> Result<Option<Arc<serde_json::Value>>> {
        let key = format!("{api_version}/{kind}");
        if let Some(hit) = self
            .schemas
            .lock()
            .map_err(|_| anyhow!("catalog cache poisoned"))?
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let schema = match schema_text(api_version, kind)? {
            None => None,
            Some(text) => {
                let openapi: serde_json::Value = serde_json::from_str(text)?;
                Some(Arc::new(resource_schema(&openapi, self.strict)))
            }
        };
        self.schemas
            .lock()
            .map_err(|_| anyhow!("catalog cache poisoned"))?
            .insert(key, schema.clone());
        Ok(schema)
    }

    /// The validator for this resource of a catalogued kind.
    pub fn validator(
        &self,
        api_version: &str,
        kind: &str,
        instance: &serde_json::Value,
    ) -> Result<Option<Compiled>> {
        let Some(schema) = self.schema(api_version, kind)? else {
            return Ok(None);
        };
        // The cut depends only on which fields the resource has: resources
        // of one shape share one compiled validator, and the cut is made
        // only for a shape not seen before.
        let key = format!("{api_version}/{kind}\0{:016x}", skeleton_hash(instance));
        if let Some(hit) = self
            .compiled
            .lock()
            .map_err(|_| anyhow!("catalog cache poisoned"))?
            .get(&key)
        {
            return Ok(Some(hit.clone()));
        }
        let cut = prune(&schema, instance);
        let v =
            Arc::new(build_validator(&cut).with_context(|| {
                format!("compiling the catalogued schema of {api_version}/{kind}")
            })?);
        self.compiled
            .lock()
            .map_err(|_| anyhow!("catalog cache poisoned"))?
            .insert(key, v.clone());
        Ok(Some(v))
    }
}

/// The schema with the subschemas of fields `instance` lacks replaced by
/// `true` (their names stay, so unknown fields are still reported).
fn prune(schema: &serde_json::Value, instance: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let Value::Object(s) = schema else {
        return schema.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, v) in s {
        let nv = match k.as_str() {
            "properties" => match v {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(pk, pv)| {
                            let sub = match instance.get(pk) {
                                Some(iv) if instance.is_object() => prune(pv, iv),
                                _ => Value::Bool(true),
                            };
                            (pk.clone(), sub)
                        })
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" => match instance {
                Value::Array(a) => prune(v, &merged(a.iter())),
                _ => Value::Bool(true),
            },
            "additionalProperties" if v.is_object() => match instance {
                Value::Object(o) => prune(v, &merged(o.values())),
                _ => Value::Bool(true),
            },
            "patternProperties" => match instance {
                Value::Object(_) => v.clone(),
                _ => Value::Bool(true),
            },
            "anyOf" | "allOf" | "oneOf" => match v {
                Value::Array(branches) => {
                    Value::Array(branches.iter().map(|b| prune(b, instance)).collect())
                }
                other => other.clone(),
            },
            "not" => prune(v, instance),
            _ => v.clone(),
        };
        out.insert(k.clone(), nv);
    }
    Value::Object(out)
}

/// A hash of what `prune` reads of an instance: the field names of its
/// objects (in any order), arrays as the union of their elements, and any
/// scalar alike.
fn skeleton_hash(instance: &serde_json::Value) -> u64 {
    use std::hash::{Hash, Hasher};
    fn walk(v: &serde_json::Value, h: &mut std::collections::hash_map::DefaultHasher) {
        use serde_json::Value;
        match v {
            Value::Object(o) => {
                0u8.hash(h);
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                for k in keys {
                    k.hash(h);
                    walk(&o[k], h);
                }
                1u8.hash(h);
            }
            Value::Array(a) => {
                2u8.hash(h);
                walk(&merged(a.iter()), h);
            }
            _ => 3u8.hash(h),
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    walk(instance, &mut h);
    h.finish()
}

/// Every field any of `values` has (objects united, arrays concatenated):
/// the shape one subschema must cover for all of them.
fn merged<'a>(values: impl Iterator<Item = &'a serde_json::Value>) -> serde_json::Value {
    fn into(acc: &mut serde_json::Value, v: &serde_json::Value) {
        use serde_json::Value;
        match (acc, v) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, bv) in b {
                    into(a.entry(k.clone()).or_insert(Value::Null), bv);
                }
            }
            (Value::Array(a), Value::Array(b)) => a.extend(b.iter().cloned()),
            (acc @ Value::Null, v) => *acc = v.clone(),
            _ => {}
        }
    }
    let mut acc = serde_json::Value::Null;
    for v in values {
        into(&mut acc, v);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn catalog_has_every_project_and_compiles_every_kind() {
        let names: Vec<&str> = projects()
            .unwrap()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        for want in [
            "Gateway API",
            "cert-manager",
            "Flux kustomize-controller",
            "Argo CD",
            "Argo Rollouts",
            "Prometheus Operator",
            "Istio",
            "External Secrets Operator",
            "Sealed Secrets",
            "KEDA",
            "Kyverno",
            "Crossplane",
            "Traefik",
            "Knative Serving",
            "Knative Eventing",
            "Tekton Pipelines",
            "Tekton Triggers",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        let c = Catalog::new(true);
        let p = parsed().unwrap();
        for key in p.index.kinds.keys() {
            let (api, kind) = key.rsplit_once('/').unwrap();
            let whole = c.schema(api, kind).unwrap().unwrap();
            build_validator(&whole).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        assert!(c
            .validator("example.com/v1", "Widget", &json!({}))
            .unwrap()
            .is_none());
    }

    #[test]
    fn catalogued_kinds_validate_strictly() {
        let c = Catalog::new(true);
        let check = |doc: &serde_json::Value| {
            c.validator("cert-manager.io/v1", "Certificate", doc)
                .unwrap()
                .unwrap()
                .iter_errors(doc)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        };
        let ok = json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": "web"},
            "spec": {"secretName": "web-tls", "dnsNames": ["example.com"],
                     "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}}});
        assert!(check(&ok).is_empty(), "{:?}", check(&ok));
        let mut bad = ok.clone();
        bad["spec"]["dnsName"] = json!(["typo.example.com"]);
        assert_eq!(check(&bad).len(), 1);
        // Cut down to the resource's fields, the schema still checks them.
        let mut wrong = ok.clone();
        wrong["spec"]["dnsNames"] = json!("example.com");
        wrong["spec"]["issuerRef"]["nmae"] = json!("x");
        assert_eq!(check(&wrong).len(), 2, "{:?}", check(&wrong));
    }
}
