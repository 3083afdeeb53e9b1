//! The embedded CRD catalog: the custom resources of widely used projects
//! (Gateway API, cert-manager, Flux, Argo, Prometheus Operator, Istio …),
//! from their own CRDs (see schemas/generate_crds.py and schemas/CRDS.md).
//! Only the small index is read until a catalogued kind is validated; then
//! that project's schemas are decompressed, and each kind compiled once,
//! exactly as a CRD found in the scanned files would be.

use super::tape::Val;
use crate::k8s::schemas::{build_validator, Compiled};
use anyhow::{anyhow, Context as _, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::k8s::catalog::schema_text;
pub use crate::k8s::catalog::{
    has_kind, kind_count, other_versions, project_of, projects, Project,
};

/// Validators for catalogued kinds. A catalogued schema is often far bigger
/// than the resources it validates (Argo CD's ApplicationSet: 380 KB,
/// KubeRay's RayService: 240 KB), and compiling it whole costs milliseconds,
/// so a kind is compiled against its schema cut down to the fields that the
/// run's resources of that kind have: a field none of them has keeps its
/// name (strict mode still knows it) but not its subschema.
///
/// The file phase notes the [`Shape`] of every resource of a catalogued kind
/// ([`Catalog::note`]), so when the index phase validates the first one, the
/// union of all of them is known and the kind is compiled **once per run**.
/// A schema cut down to a larger shape judges a resource exactly as one cut
/// to the resource's own shape (the subschemas it keeps apply only at
/// places the resource lacks), so sharing one validator changes no finding.
/// A resource the file phase did not see widens the shape and recompiles.
pub struct Catalog {
    strict: bool,
    /// Shapes noted in the file phase, per `group/version/Kind`.
    shapes: Mutex<HashMap<String, Shape>>,
    /// Per `group/version/Kind`: compiled at most once per shape; rayon
    /// workers asking for one kind wait for one compilation.
    kinds: Mutex<HashMap<String, Arc<Mutex<KindState>>>>,
    compilations: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
struct KindState {
    /// The whole JSON schema, converted from the catalogue's OpenAPI once.
    schema: Option<Option<Arc<serde_json::Value>>>,
    /// What `compiled` was cut down to.
    shape: Shape,
    compiled: Option<Compiled>,
}

impl Catalog {
    pub fn new(strict: bool) -> Self {
        Catalog {
            strict,
            shapes: Mutex::new(HashMap::new()),
            kinds: Mutex::new(HashMap::new()),
            compilations: Default::default(),
        }
    }

    /// Notes the fields of a resource of this kind before any is validated
    /// (a no-op for kinds the catalog does not have).
    pub fn note(&self, api_version: &str, kind: &str, root: &crate::manifest::yaml::Node) {
        if !has_kind(api_version, kind) {
            return;
        }
        let mut shape = Shape::default();
        shape.add_node(root);
        if let Ok(mut all) = self.shapes.lock() {
            all.entry(format!("{api_version}/{kind}"))
                .or_default()
                .merge(shape);
        }
    }

    /// How many validators were compiled (a kind once, unless a resource
    /// the file phase did not note widened its shape).
    pub fn compilations(&self) -> usize {
        self.compilations.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The whole JSON schema of a catalogued kind.
    #[cfg(test)]
    fn whole_schema(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<Arc<serde_json::Value>>> {
        Ok(match schema_text(api_version, kind)? {
            None => None,
            Some(text) => {
                let openapi: serde_json::Value = serde_json::from_str(text)?;
                Some(Arc::new(super::crd::resource_schema(&openapi, self.strict)))
            }
        })
    }

    /// The validator for this resource of a catalogued kind.
    pub fn validator(
        &self,
        api_version: &str,
        kind: &str,
        instance: &serde_json::Value,
    ) -> Result<Option<Compiled>> {
        let key = format!("{api_version}/{kind}");
        let state = {
            let mut kinds = self
                .kinds
                .lock()
                .map_err(|_| anyhow!("catalog cache poisoned"))?;
            match kinds.get(&key) {
                Some(s) => s.clone(),
                None => {
                    if !has_kind(api_version, kind) {
                        return Ok(None);
                    }
                    kinds.entry(key.clone()).or_default().clone()
                }
            }
        };
        let mut state = state
            .lock()
            .map_err(|_| anyhow!("catalog cache poisoned"))?;
        let schema = match &state.schema {
            Some(s) => s.clone(),
            None => {
                // Only whether the kind is there: the schema is read cut
                // down, straight from its text (`cut_schema`).
                let s = schema_text(api_version, kind)?.map(|_| Arc::new(serde_json::Value::Null));
                state.schema = Some(s.clone());
                // Everything the file phase saw of this kind.
                if let Some(noted) = self
                    .shapes
                    .lock()
                    .map_err(|_| anyhow!("catalog cache poisoned"))?
                    .remove(&key)
                {
                    state.shape.merge(noted);
                }
                s
            }
        };
        let Some(schema) = schema else {
            return Ok(None);
        };
        if !state.shape.covers(instance) {
            state.shape.add_json(instance);
            state.compiled = None;
        }
        if let Some(v) = &state.compiled {
            return Ok(Some(v.clone()));
        }
        let _ = &schema;
        let text = schema_text(api_version, kind)?
            .ok_or_else(|| anyhow!("catalogued schema of {api_version}/{kind} vanished"))?;
        let cut = cut_schema(text, &state.shape, self.strict)
            .with_context(|| format!("reading the catalogued schema of {api_version}/{kind}"))?;
        let v =
            Arc::new(build_validator(&cut).with_context(|| {
                format!("compiling the catalogued schema of {api_version}/{kind}")
            })?);
        self.compilations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        state.compiled = Some(v.clone());
        Ok(Some(v))
    }
}

/// The fields of one or more resources, as far as `prune` reads them: at
/// each place, the fields of any object there (each with its own shape),
/// and the union of the elements of any array there.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Shape {
    fields: Option<HashMap<String, Shape>>,
    items: Option<Box<Shape>>,
}

impl Shape {
    /// Adds a YAML node: its mapping keys as `to_json` names them.
    pub fn add_node(&mut self, node: &crate::manifest::yaml::Node) {
        use crate::manifest::yaml::Value;
        match &node.value {
            Value::Map(entries) => {
                let fields = self.fields.get_or_insert_with(HashMap::new);
                for e in entries {
                    let k = e
                        .key
                        .key_str()
                        .map(|s| s.into_owned())
                        .unwrap_or_else(|| "<complex key>".into());
                    fields.entry(k).or_default().add_node(&e.value);
                }
            }
            Value::Seq(items) => {
                let shape = self.items.get_or_insert_with(Default::default);
                for i in items {
                    shape.add_node(i);
                }
            }
            _ => {}
        }
    }

    pub fn add_json(&mut self, v: &serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::Object(o) => {
                let fields = self.fields.get_or_insert_with(HashMap::new);
                for (k, x) in o {
                    fields.entry(k.clone()).or_default().add_json(x);
                }
            }
            Value::Array(a) => {
                let shape = self.items.get_or_insert_with(Default::default);
                for x in a {
                    shape.add_json(x);
                }
            }
            _ => {}
        }
    }

    /// Does this shape have every field and array of `v`?
    pub fn covers(&self, v: &serde_json::Value) -> bool {
        use serde_json::Value;
        match v {
            Value::Object(o) => self
                .fields
                .as_ref()
                .is_some_and(|f| o.iter().all(|(k, x)| f.get(k).is_some_and(|s| s.covers(x)))),
            Value::Array(a) => self
                .items
                .as_ref()
                .is_some_and(|s| a.iter().all(|x| s.covers(x))),
            _ => true,
        }
    }

    pub fn merge(&mut self, other: Shape) {
        if let Some(of) = other.fields {
            let fields = self.fields.get_or_insert_with(HashMap::new);
            for (k, s) in of {
                fields.entry(k).or_default().merge(s);
            }
        }
        if let Some(oi) = other.items {
            self.items.get_or_insert_with(Default::default).merge(*oi);
        }
    }

    /// The union of every field's shape: what `additionalProperties` sees.
    fn values(&self) -> Shape {
        let mut out = Shape::default();
        for s in self.fields.iter().flat_map(|f| f.values()) {
            out.merge(s.clone());
        }
        out
    }
}

/// `prune(resource_schema(openapi, strict), shape)` read straight from the
/// catalogued OpenAPI text: the subschemas of fields no resource has are
/// skipped unparsed and descriptions left out (annotations that validate
/// nothing), so a 240 KB schema costs what its used fields cost. The text
/// is indexed once (`tape`), so no part of it is read again per level.
fn cut_schema(text: &str, shape: &Shape, strict: bool) -> Result<serde_json::Value> {
    use serde_json::{json, Value};
    let tape = super::tape::Tape::new(text)?;
    let mut s = cut(tape.root(), shape, strict)?;
    if let Value::Object(m) = &mut s {
        let props = m.entry("properties").or_insert_with(|| json!({}));
        if let Value::Object(p) = props {
            p.entry("apiVersion").or_insert(json!({"type": "string"}));
            p.entry("kind").or_insert(json!({"type": "string"}));
            p.insert("metadata".into(), json!({"type": "object"}));
        }
    }
    Ok(s)
}

/// `prune(convert(raw, strict), shape)` without building what prune drops
/// (`crd::convert`'s rules, key by key).
fn cut(raw: Val<'_, '_>, shape: &Shape, strict: bool) -> Result<serde_json::Value> {
    use serde_json::{Map, Value};
    if !raw.is_object() {
        return Ok(super::crd::convert(&raw.parse()?, strict));
    }
    let flag = |key: &str| -> Result<bool> {
        Ok(match raw.get(key) {
            Some(v) => v.parse()? == Value::Bool(true),
            None => false,
        })
    };
    let mut out = Map::new();
    let mut one_of = None;
    for (k, x) in raw.members() {
        let converted = match &*k {
            "description" => continue,
            "properties" if x.is_object() => {
                let mut m = Map::new();
                for (pk, pv) in x.members() {
                    let sub = match shape.fields.as_ref().and_then(|f| f.get(&*pk)) {
                        Some(fs) => cut(pv, fs, strict)?,
                        None => Value::Bool(true),
                    };
                    m.insert(pk.into_owned(), sub);
                }
                Value::Object(m)
            }
            "patternProperties" if shape.fields.is_none() => Value::Bool(true),
            "patternProperties" | "definitions" => match x.parse()? {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(pk, pv)| (pk.clone(), super::crd::convert(pv, strict)))
                        .collect(),
                ),
                other => other,
            },
            "items" => match &shape.items {
                Some(items) => cut(x, items, strict)?,
                None => Value::Bool(true),
            },
            "additionalProperties" => match (x.is_object(), &shape.fields) {
                (true, Some(_)) => cut(x, &shape.values(), strict)?,
                (true, None) => Value::Bool(true),
                (false, _) => super::crd::convert(&x.parse()?, strict),
            },
            "not" => cut(x, shape, false)?,
            "allOf" | "anyOf" | "oneOf" if x.is_array() => Value::Array(
                x.items()
                    .map(|b| cut(b, shape, false))
                    .collect::<Result<Vec<_>>>()?,
            ),
            "required" => {
                let names = x.parse()?;
                match (&names, raw.get("properties").filter(|p| p.is_object())) {
                    (Value::Array(names), Some(props)) => {
                        let kept = names
                            .iter()
                            .filter(|n| {
                                let has_default = n
                                    .as_str()
                                    .and_then(|n| props.get(n))
                                    .is_some_and(|p| p.get("default").is_some());
                                !has_default
                            })
                            .cloned()
                            .collect();
                        Value::Array(kept)
                    }
                    _ => names,
                }
            }
            "format" | "nullable" | "x-kubernetes-int-or-string" => continue,
            _ => x.parse()?,
        };
        if k == "oneOf" {
            one_of = Some(converted);
            continue;
        }
        out.insert(k.into_owned(), converted);
    }
    let ext = super::crd::Extensions {
        int_or_string: flag("x-kubernetes-int-or-string")?,
        nullable: flag("nullable")?,
        preserve_unknown: flag("x-kubernetes-preserve-unknown-fields")?,
        embedded: flag("x-kubernetes-embedded-resource")?,
    };
    Ok(super::crd::finish(out, one_of, ext, strict))
}

/// The schema with the subschemas of fields `shape` lacks replaced by
/// `true` (their names stay, so unknown fields are still reported): what
/// `cut_schema` builds from the text, kept to test it against.
#[cfg(test)]
fn prune(schema: &serde_json::Value, shape: &Shape) -> serde_json::Value {
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
                            let sub = match shape.fields.as_ref().and_then(|f| f.get(pk)) {
                                Some(fs) => prune(pv, fs),
                                None => Value::Bool(true),
                            };
                            (pk.clone(), sub)
                        })
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" => match &shape.items {
                Some(items) => prune(v, items),
                None => Value::Bool(true),
            },
            "additionalProperties" if v.is_object() => match &shape.fields {
                Some(_) => prune(v, &shape.values()),
                None => Value::Bool(true),
            },
            "patternProperties" => match &shape.fields {
                Some(_) => v.clone(),
                None => Value::Bool(true),
            },
            "anyOf" | "allOf" | "oneOf" => match v {
                Value::Array(branches) => {
                    Value::Array(branches.iter().map(|b| prune(b, shape)).collect())
                }
                other => other.clone(),
            },
            "not" => prune(v, shape),
            _ => v.clone(),
        };
        out.insert(k.clone(), nv);
    }
    Value::Object(out)
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
        for key in crate::k8s::catalog::kinds() {
            let (api, kind) = key.rsplit_once('/').unwrap();
            let whole = c.whole_schema(api, kind).unwrap().unwrap();
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

    #[test]
    fn a_kind_compiles_once_for_every_resource_the_file_phase_noted() {
        use crate::manifest::{parse_file, Limits};
        use crate::source::SourceFile;
        let text = r#"
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: a}
spec:
  secretName: a
  dnsNames: [a.example.com]
  issuerRef: {name: le, kind: ClusterIssuer}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: b}
spec:
  secretName: b
  commonName: b.example.com
  duration: 2160h
  issuerRef: {name: le}
  privateKey: {algorithm: ECDSA, size: 256, rotationPolicy: Always}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: c}
spec:
  secretName: c
  dnsNames: c.example.com
  issuerRef: {name: le, knd: Issuer}
  privateKey: {algorithm: ECDSA, siez: 256}
"#;
        let file = SourceFile::new("certs.yaml", text.to_string());
        let parsed = parse_file(&file, Limits::default());
        let errors = |c: &Catalog| -> Vec<Vec<String>> {
            parsed
                .manifests
                .iter()
                .map(|m| {
                    let doc = m.root.to_json();
                    let v = c.validator(&m.api_version, &m.kind, &doc).unwrap().unwrap();
                    let mut e: Vec<String> = v
                        .iter_errors(&doc)
                        .map(|e| format!("{} {e}", e.instance_path()))
                        .collect();
                    e.sort();
                    e
                })
                .collect()
        };
        // Noted first (the file phase), then validated: one compilation.
        let shared = Catalog::new(true);
        for m in &parsed.manifests {
            shared.note(&m.api_version, &m.kind, &m.root);
        }
        let together = errors(&shared);
        assert_eq!(shared.compilations(), 1);
        // Not noted: each resource of a new shape widens it and recompiles,
        // and the findings are the same.
        let unnoted = Catalog::new(true);
        assert_eq!(errors(&unnoted), together);
        assert_eq!(unnoted.compilations(), 3);
        // Each resource against a schema cut to its own fields alone.
        for (m, want) in parsed.manifests.iter().zip(&together) {
            let alone = Catalog::new(true);
            let doc = m.root.to_json();
            let v = alone
                .validator(&m.api_version, &m.kind, &doc)
                .unwrap()
                .unwrap();
            let mut got: Vec<String> = v
                .iter_errors(&doc)
                .map(|e| format!("{} {e}", e.instance_path()))
                .collect();
            got.sort();
            assert_eq!(&got, want);
        }
        assert!(
            together[0].is_empty() && together[1].is_empty(),
            "{together:?}"
        );
        assert_eq!(together[2].len(), 3, "{:?}", together[2]);
        // A kind the catalog lacks is neither noted nor compiled.
        shared.note("example.com/v1", "Widget", &parsed.manifests[0].root);
        assert!(shared
            .validator("example.com/v1", "Widget", &json!({}))
            .unwrap()
            .is_none());
        assert_eq!(shared.compilations(), 1);
    }

    #[test]
    fn shapes_unite_fields_and_array_elements() {
        let mut s = Shape::default();
        s.add_json(&json!({"a": [{"x": 1}, {"y": "s"}], "b": 1}));
        assert!(!s.covers(&json!({"a": [{"x": 2, "y": "t"}], "b": {}})));
        assert!(s.covers(&json!({"a": [{"x": 2, "y": "t"}], "b": 2})));
        assert!(s.covers(&json!({"a": []})));
        assert!(!s.covers(&json!({"c": 1})));
        let mut t = Shape::default();
        t.add_json(&json!({"b": {"z": true}}));
        s.merge(t);
        assert!(s.covers(&json!({"b": {"z": false}})));
    }

    #[test]
    fn cutting_from_the_text_validates_as_pruning_the_whole_schema() {
        let docs = [
            json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "a"},
                "spec": {"secretName": "a", "dnsNames": "x", "duration": 5, "issuerRef": {"name": "le", "knd": "I"},
                    "privateKey": {"algorithm": "ECDSA", "siez": 256, "rotationPolicy": "Sometimes"},
                    "keystores": {"pkcs12": {"create": true}}}}),
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"},
                "spec": {"parentRefs": [{"name": "gw", "port": "80"}], "rules": [{"matches": [{"path": {"type": "Prefix", "value": "/"}}],
                    "backendRefs": [{"name": "svc", "port": 8080, "weigth": 1}], "filters": [{"type": "RequestHeaderModifier"}]}]}}),
            json!({"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "s"},
                "spec": {"serveConfigV2": 3, "rayClusterConfig": {"headGroupSpec": {"rayStartParams": {"a": 1},
                    "template": {"spec": {"containers": [{"name": "head", "image": "ray", "ports": [{"containerPort": "8265"}],
                        "resources": {"limits": {"cpu": 2, "memory": "4Gi"}}, "imagePullPolicy": "Sometimes", "envv": []}]}}}}}}),
        ];
        for doc in docs {
            let (api, kind) = (
                doc["apiVersion"].as_str().unwrap(),
                doc["kind"].as_str().unwrap(),
            );
            let mut shape = Shape::default();
            shape.add_json(&doc);
            let text = schema_text(api, kind).unwrap().unwrap();
            let whole = Catalog::new(true).whole_schema(api, kind).unwrap().unwrap();
            let errors = |schema: &serde_json::Value| {
                let mut e: Vec<String> = build_validator(schema)
                    .unwrap()
                    .iter_errors(&doc)
                    .map(|e| format!("{} {e}", e.instance_path()))
                    .collect();
                e.sort();
                e
            };
            let want = errors(&prune(&whole, &shape));
            assert!(!want.is_empty(), "{kind}");
            assert_eq!(
                errors(&cut_schema(text, &shape, true).unwrap()),
                want,
                "{kind}"
            );
        }
    }
}
