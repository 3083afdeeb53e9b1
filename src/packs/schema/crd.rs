//! CustomResourceDefinitions → JSON schemas for their custom resources, so a
//! CRD anywhere in the scanned tree (or in `--crd-dir`) validates its
//! resources in the same run, with no conversion step.

use crate::k8s::schemas::{build_validator, strictify, Compiled};
use crate::manifest::{self, Limits, Manifest};
use crate::source::SourceFile;
use anyhow::{Context as _, Result};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// `group/version/Kind` → the OpenAPI v3 schema of that version.
#[derive(Default)]
pub struct CrdSchemas {
    schemas: HashMap<String, Value>,
    /// Schemas in the community CRDs-catalog layout: `{group}/{kind}_{version}.json`.
    catalog_dirs: Vec<std::path::PathBuf>,
    compiled: Mutex<HashMap<String, Option<Compiled>>>,
    strict: bool,
}

fn key(api_version: &str, kind: &str) -> String {
    format!("{api_version}/{kind}")
}

impl CrdSchemas {
    pub fn new(strict: bool) -> Self {
        CrdSchemas {
            strict,
            ..Default::default()
        }
    }

    /// Takes the schemas of every version a CRD serves.
    pub fn add_crd(&mut self, m: &Manifest) {
        self.add_crd_with(m, true)
    }

    /// `replace: false` keeps a schema already known for the same
    /// group/version/kind: a CRD in the scanned files wins over `--crd-dir`.
    fn add_crd_with(&mut self, m: &Manifest, replace: bool) {
        if m.kind != "CustomResourceDefinition"
            || !m.api_version.starts_with("apiextensions.k8s.io/")
        {
            return;
        }
        let spec = m.root.get("spec");
        let group = spec.and_then(|s| s.get("group")).and_then(|n| n.as_str());
        let kind = spec
            .and_then(|s| s.path(&["names", "kind"]))
            .and_then(|n| n.as_str());
        let (Some(group), Some(kind)) = (group, kind) else {
            return;
        };
        // v1beta1 CRDs may carry one schema for all versions.
        let shared = spec.and_then(|s| s.path(&["validation", "openAPIV3Schema"]));
        let mut versions: Vec<String> = spec
            .and_then(|s| s.get("versions"))
            .map(|v| {
                v.as_seq()
                    .iter()
                    .filter_map(|x| x.get("name").and_then(|n| n.as_str()).map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(v) = spec.and_then(|s| s.get("version")).and_then(|n| n.as_str()) {
            if !versions.iter().any(|x| x == v) {
                versions.push(v.to_string());
            }
        }
        for version in versions {
            let own = spec
                .and_then(|s| s.get("versions"))
                .and_then(|vs| {
                    vs.as_seq()
                        .iter()
                        .find(|x| x.get("name").and_then(|n| n.as_str()) == Some(&version))
                })
                .and_then(|x| x.path(&["schema", "openAPIV3Schema"]));
            if let Some(schema) = own.or(shared) {
                let k = key(&format!("{group}/{version}"), kind);
                if replace || !self.schemas.contains_key(&k) {
                    self.schemas.insert(k, schema.to_json());
                }
            }
        }
    }

    /// Adds a `--crd-dir`: CRD manifests (YAML/JSON) anywhere below it, and
    /// JSON schemas in the CRDs-catalog layout. CRDs already added from the
    /// scanned files keep their schemas.
    pub fn add_dir(&mut self, dir: &Path) -> Result<()> {
        if !dir.is_dir() {
            anyhow::bail!("--crd-dir {}: not a directory", dir.display());
        }
        self.catalog_dirs.push(dir.to_path_buf());
        for entry in ignore::WalkBuilder::new(dir).hidden(false).build() {
            let entry = entry.with_context(|| format!("walking {}", dir.display()))?;
            let p = entry.path();
            let name = p.to_string_lossy();
            if !(name.ends_with(".yaml") || name.ends_with(".yml")) || !p.is_file() {
                continue;
            }
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            if !text.contains("CustomResourceDefinition") {
                continue;
            }
            let file = SourceFile::new(name.as_ref(), text);
            for m in manifest::parse_file(&file, Limits::default()).manifests {
                self.add_crd_with(&m, false);
            }
        }
        Ok(())
    }

    fn catalog_file(&self, api_version: &str, kind: &str) -> Option<std::path::PathBuf> {
        let (group, version) = api_version.rsplit_once('/')?;
        let file = format!("{}_{}.json", kind.to_lowercase(), version);
        self.catalog_dirs
            .iter()
            .map(|d| d.join(group).join(&file))
            .find(|p| p.is_file())
    }

    pub fn validator(&self, api_version: &str, kind: &str) -> Result<Option<Compiled>> {
        let k = key(api_version, kind);
        if let Some(hit) = self
            .compiled
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .get(&k)
        {
            return Ok(hit.clone());
        }
        let schema = if let Some(s) = self.schemas.get(&k) {
            Some(resource_schema(s, self.strict))
        } else if let Some(path) = self.catalog_file(api_version, kind) {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let mut v: Value = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            if self.strict {
                strictify(&mut v);
            }
            Some(v)
        } else {
            None
        };
        let compiled = match schema {
            Some(s) => Some(Arc::new(
                build_validator(&s).with_context(|| format!("schema of {k}"))?,
            )),
            None => None,
        };
        self.compiled
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .insert(k, compiled.clone());
        Ok(compiled)
    }
}

/// OpenAPI v3 (structural schema) → JSON Schema: `nullable`, int-or-string,
/// preserve-unknown-fields, and the type fields every resource has.
pub(super) fn resource_schema(openapi: &Value, strict: bool) -> Value {
    let mut s = convert(openapi, strict);
    if let Value::Object(m) = &mut s {
        let props = m.entry("properties").or_insert_with(|| json!({}));
        if let Value::Object(p) = props {
            p.entry("apiVersion").or_insert(json!({"type": "string"}));
            p.entry("kind").or_insert(json!({"type": "string"}));
            p.insert("metadata".into(), json!({"type": "object"}));
        }
    }
    s
}

pub(super) fn convert(v: &Value, strict: bool) -> Value {
    let Value::Object(src) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    let mut one_of = None;
    for (k, x) in src {
        let converted = match k.as_str() {
            "properties" | "patternProperties" | "definitions" => match x {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(pk, pv)| (pk.clone(), convert(pv, strict)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" => convert(x, strict),
            // Value validations: in a structural schema their branches name
            // only fields the schema itself defines, often one or two of
            // them, so they must not reject the others.
            "not" => convert(x, false),
            "allOf" | "anyOf" | "oneOf" => match x {
                Value::Array(a) => Value::Array(a.iter().map(|i| convert(i, false)).collect()),
                other => other.clone(),
            },
            // The API server applies defaults before it validates, so a
            // required field with a default may be left out.
            "required" => match (x, src.get("properties")) {
                (Value::Array(names), Some(Value::Object(props))) => Value::Array(
                    names
                        .iter()
                        .filter(|n| {
                            n.as_str()
                                .and_then(|n| props.get(n))
                                .is_none_or(|p| p.get("default").is_none())
                        })
                        .cloned()
                        .collect(),
                ),
                _ => x.clone(),
            },
            // Formats are advisory in the API server's validation, as here.
            "format" | "nullable" | "x-kubernetes-int-or-string" => continue,
            _ => x.clone(),
        };
        if k == "oneOf" {
            one_of = Some(converted);
            continue;
        }
        out.insert(k.clone(), converted);
    }
    let flag = |k: &str| src.get(k) == Some(&Value::Bool(true));
    let ext = Extensions {
        int_or_string: flag("x-kubernetes-int-or-string"),
        nullable: flag("nullable"),
        preserve_unknown: flag("x-kubernetes-preserve-unknown-fields"),
        embedded: flag("x-kubernetes-embedded-resource"),
    };
    finish(out, one_of, ext, strict)
}

/// The Kubernetes extensions of one schema node that change how it
/// validates.
pub(super) struct Extensions {
    pub int_or_string: bool,
    pub nullable: bool,
    pub preserve_unknown: bool,
    pub embedded: bool,
}

/// A converted node's last steps, shared by the CRD converter and the
/// catalog's one-pass cut: `oneOf` becomes `anyOf` (the API server defaults
/// fields before it validates, and a branch that only tests a defaulted field
/// — Gateway API's address `type` — would otherwise match twice; beside an
/// `anyOf` already there it joins `allOf`), then the extensions, then strict
/// mode's `additionalProperties: false`.
pub(super) fn finish(
    mut out: serde_json::Map<String, Value>,
    one_of: Option<Value>,
    ext: Extensions,
    strict: bool,
) -> Value {
    if let Some(branches) = one_of {
        if out.contains_key("anyOf") {
            let all = out.entry("allOf").or_insert_with(|| json!([]));
            if let Value::Array(a) = all {
                a.push(json!({ "anyOf": branches }));
            }
        } else {
            out.insert("anyOf".into(), branches);
        }
    }
    if ext.int_or_string {
        out.remove("type");
        out.insert(
            "anyOf".into(),
            json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    if ext.nullable {
        if let Some(Value::String(t)) = out.get("type").cloned() {
            out.insert("type".into(), json!([t, "null"]));
        }
    }
    if ext.embedded {
        if let Some(Value::Object(p)) = out.get_mut("properties") {
            p.entry("apiVersion").or_insert(json!({"type": "string"}));
            p.entry("kind").or_insert(json!({"type": "string"}));
            p.entry("metadata").or_insert(json!({"type": "object"}));
        }
    }
    if strict
        && !ext.preserve_unknown
        && out.contains_key("properties")
        && !out.contains_key("additionalProperties")
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Manifest {
        let text = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer}
              port: {x-kubernetes-int-or-string: true}
              label: {type: string, nullable: true}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;
        let f = SourceFile::new("crd.yaml", text.to_string());
        manifest::parse_file(&f, Limits::default())
            .manifests
            .remove(0)
    }

    #[test]
    fn crd_schema_validates_its_resources() {
        let mut c = CrdSchemas::new(true);
        c.add_crd(&crd());
        let v = c.validator("example.com/v1", "Widget").unwrap().unwrap();
        let ok = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                        "spec": {"size": 1, "port": "http", "label": null, "extra": {"any": 1}}});
        assert!(v.is_valid(&ok));
        let bad = json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": "x", "typo": 1}});
        assert_eq!(v.iter_errors(&bad).count(), 2);
        assert!(c.validator("example.com/v2", "Widget").unwrap().is_none());
    }
}

#[cfg(test)]
mod structural_tests {
    use super::*;

    #[test]
    fn defaults_fill_required_fields_and_value_validations_stay_open() {
        let openapi = json!({
            "type": "object",
            "properties": {"spec": {
                "type": "object",
                "required": ["length", "name"],
                "properties": {
                    "length": {"type": "integer", "default": 24},
                    "name": {"type": "string"},
                    "addresses": {"type": "array", "items": {
                        "type": "object",
                        "properties": {"type": {"type": "string"}, "value": {"type": "string"}},
                        "oneOf": [
                            {"properties": {"type": {"enum": ["IPAddress"]}}},
                            {"properties": {"type": {"not": {"enum": ["IPAddress"]}}}}
                        ]
                    }}
                }
            }}
        });
        let v = build_validator(&resource_schema(&openapi, true)).unwrap();
        let ok = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {},
            "spec": {"name": "a", "addresses": [{"type": "Hostname", "value": "example.com"}, {"value": "1.1.1.1"}]}});
        assert!(
            v.is_valid(&ok),
            "{:?}",
            v.iter_errors(&ok)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
        let typo = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {},
            "spec": {"name": "a", "addresses": [{"type": "Hostname", "valeu": "x"}]}});
        assert!(!v.is_valid(&typo));
        let missing = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {}, "spec": {}});
        assert_eq!(v.iter_errors(&missing).count(), 1);
    }
}
