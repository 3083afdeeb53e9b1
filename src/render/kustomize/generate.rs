//! Generators (`configMapGenerator`, `secretGenerator`: literals, files,
//! env files; create, merge, replace; kustomize's content-hash suffix) and
//! the builtin label and annotation transformers `transformers:` may name.

use super::build::{at_path, effective_ns, pairs, put_pairs, text_of, Builder, Kust, Res, Stop};
use super::tree::{Pos, P, V};
use crate::manifest::{yaml, Limits};
use std::path::Path;

/// The hash kustomize appends to a generated name: sha256 of the object's
/// canonical JSON (Go's encoding: sorted keys, `<>&` escaped), its first
/// ten hex digits with 0 1 3 a e made g h k m t.
pub fn content_hash(obj: &P) -> String {
    use sha2::Digest;
    use std::collections::BTreeMap;
    let kind = text_of(obj.get("kind")).to_string();
    let mut m: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    let sorted = |p: Option<&P>| -> serde_json::Value {
        let map: BTreeMap<String, serde_json::Value> = p
            .map(|p| {
                p.entries()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect()
            })
            .unwrap_or_default();
        serde_json::to_value(map).unwrap_or_default()
    };
    m.insert("kind", kind.clone().into());
    // kustomize looks `name` up at the top of the object, where there is
    // none: the hash does not depend on the name.
    m.insert("name", "".into());
    m.insert("data", sorted(obj.get("data")));
    if kind == "Secret" {
        m.insert("type", text_of(obj.get("type")).to_string().into());
        if obj.get("stringData").is_some() {
            m.insert("stringData", sorted(obj.get("stringData")));
        }
    } else if obj.get("binaryData").is_some() {
        m.insert("binaryData", sorted(obj.get("binaryData")));
    }
    if let Some(V::Bool(b)) = obj.get("immutable").map(|i| &i.v) {
        m.insert("immutable", (*b).into());
    }
    let json = serde_json::to_string(&m)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    let hex = hex::encode(sha2::Sha256::digest(json.as_bytes()));
    hex[..10]
        .chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// Generated objects get their hash suffix last, after every transformer
/// of the root (kustomize names them by their final content).
pub fn add_hashes(acc: &mut [Res]) {
    for r in acc.iter_mut().filter(|r| r.hash) {
        let name = format!("{}-{}", r.name(), content_hash(&r.obj));
        let pos = r
            .obj
            .path(&["metadata", "name"])
            .map(|n| n.pos.clone())
            .unwrap_or_else(|| r.obj.pos.clone());
        r.set_name(name, &pos);
    }
}

/// `k=v` of a literal, quotes around the value removed (as kustomize does).
fn literal(s: &str) -> Option<(String, String)> {
    let (k, v) = s.split_once('=')?;
    let v = if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    };
    Some((k.to_string(), v.to_string()))
}

impl Builder {
    /// `configMapGenerator` and `secretGenerator`.
    pub(super) fn generators(&mut self, k: &Kust, acc: &mut Vec<Res>) -> Result<(), Stop> {
        let opts = k.root.get("generatorOptions");
        for (key, kind) in [
            ("configMapGenerator", "ConfigMap"),
            ("secretGenerator", "Secret"),
        ] {
            for item in k.root.get(key).map(yaml::Node::as_seq).unwrap_or(&[]) {
                let line = item.span.line;
                let pos = k.pos(item.entry("name").map_or(line, |e| e.key.span.line));
                let Some(name) = item.get("name").and_then(|n| k.scalar_string(n)) else {
                    return Err(k.fail(line, format!("a {key} entry without a name")));
                };
                // (key, value, where)
                let mut data: Vec<(String, String, Pos)> = Vec::new();
                for l in item.get("literals").map(yaml::Node::as_seq).unwrap_or(&[]) {
                    let Some((dk, dv)) = l.as_str().and_then(literal) else {
                        return Err(k.fail(l.span.line, "a literal that is not key=value"));
                    };
                    data.push((dk, dv, k.pos(l.span.line)));
                }
                for f in item.get("files").map(yaml::Node::as_seq).unwrap_or(&[]) {
                    let Some(spec) = f.as_str() else { continue };
                    let (dk, path) = match spec.split_once('=') {
                        Some((a, b)) => (a.trim().to_string(), b.trim()),
                        None => (
                            Path::new(spec.trim())
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default(),
                            spec.trim(),
                        ),
                    };
                    let (_, text) = self.load(k, path, f.span.line)?;
                    data.push((dk, text.to_string(), k.pos(f.span.line)));
                }
                let mut envs: Vec<&yaml::Node> = item
                    .get("envs")
                    .map(yaml::Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .collect();
                envs.extend(item.get("env"));
                for e in envs {
                    let Some(path) = e.as_str() else { continue };
                    let (_, text) = self.load(k, path.trim(), e.span.line)?;
                    for l in text.lines() {
                        let l = l.trim_start();
                        if l.is_empty() || l.starts_with('#') {
                            continue;
                        }
                        match l.split_once('=') {
                            Some((a, b)) => {
                                data.push((a.to_string(), b.to_string(), k.pos(e.span.line)))
                            }
                            // kustomize takes the value from its own
                            // environment; the scan never reads the runner's.
                            None => {
                                self.notes.push(format!(
                                    "{}:{}: env file entry {:?} takes its value from the environment kustomize runs in; built with an empty value",
                                    k.display,
                                    e.span.line,
                                    crate::render::inert_message(l.trim(), 60)
                                ));
                                data.push((l.trim().to_string(), String::new(), k.pos(e.span.line)))
                            }
                        }
                    }
                }
                fn opt<'a>(o: Option<&'a yaml::Node>, key: &str) -> Option<&'a yaml::Node> {
                    o.and_then(|o| o.get(key))
                }
                let item_opts = item.get("options");
                let no_hash = [
                    opt(item_opts, "disableNameSuffixHash"),
                    opt(opts, "disableNameSuffixHash"),
                ]
                .into_iter()
                .flatten()
                .next()
                .and_then(yaml::Node::as_bool)
                    == Some(true);
                let ns = item.get("namespace").and_then(|n| k.scalar_string(n));
                let behavior = item
                    .get("behavior")
                    .and_then(|n| k.scalar_string(n))
                    .unwrap_or_else(|| "create".into());
                // The values as the object holds them.
                let values: Vec<(String, P)> = data
                    .iter()
                    .map(|(dk, dv, p)| {
                        let v = if kind == "Secret" {
                            use base64::Engine as _;
                            base64::engine::general_purpose::STANDARD.encode(dv.as_bytes())
                        } else {
                            dv.clone()
                        };
                        (dk.clone(), P::str(&v, p))
                    })
                    .collect();
                if behavior == "merge" || behavior == "replace" {
                    let target = acc.iter_mut().find(|r| {
                        r.kind() == kind
                            && r.matches_name(|n| n == name)
                            && ns
                                .as_deref()
                                .is_none_or(|ns| r.matches_ns(|n| n == effective_ns(ns)))
                    });
                    let Some(r) = target else {
                        return Err(k.fail(line, format!("{key} {name:?} with behavior {behavior} has no {kind} of that name to {behavior}")));
                    };
                    if behavior == "replace" {
                        r.obj.set("data", P::map(&pos));
                    }
                    let d = r.obj.map_at("data", &pos);
                    for (dk, v) in values {
                        d.set(&dk, v);
                    }
                    if no_hash {
                        r.hash = false;
                    }
                    continue;
                }
                if behavior != "create" {
                    return Err(k.fail(
                        line,
                        format!(
                            "unknown behavior {:?}",
                            crate::render::inert_message(&behavior, 40)
                        ),
                    ));
                }
                let mut obj = P::map(&pos);
                obj.set("apiVersion", P::str("v1", &pos));
                obj.set("kind", P::str(kind, &pos));
                let mut meta = P::map(&pos);
                meta.set("name", P::str(&name, &pos));
                if let Some(ns) = &ns {
                    meta.set("namespace", P::str(ns, &pos));
                }
                for field in ["labels", "annotations"] {
                    let mut m = P::map(&pos);
                    for o in [opts, item_opts] {
                        if let Some(n) = opt(o, field) {
                            put_pairs(&mut m, &pairs(k, n));
                        }
                    }
                    if !m.entries().is_empty() {
                        meta.set(field, m);
                    }
                }
                obj.set("metadata", meta);
                if kind == "Secret" {
                    let t = item
                        .get("type")
                        .and_then(|n| k.scalar_string(n))
                        .unwrap_or_else(|| "Opaque".into());
                    obj.set("type", P::str(&t, &pos));
                }
                if !values.is_empty() {
                    obj.set("data", P::new(V::Map(values), &pos));
                }
                if [opt(item_opts, "immutable"), opt(opts, "immutable")]
                    .into_iter()
                    .flatten()
                    .next()
                    .and_then(yaml::Node::as_bool)
                    == Some(true)
                {
                    obj.set("immutable", P::new(V::Bool(true), &pos));
                }
                let r = Res {
                    obj,
                    names: vec![name.clone()],
                    namespaces: vec![ns.clone().unwrap_or_default()],
                    hash: !no_hash,
                    source: None,
                };
                if let Some(dup) = acc.iter().find(|o| o.id() == r.id()) {
                    return Err(k.fail(
                        line,
                        format!(
                            "may not add resource with an already registered id: {}",
                            dup.id()
                        ),
                    ));
                }
                acc.push(r);
            }
        }
        Ok(())
    }

    /// `transformers:` entries that configure a builtin label or annotation
    /// transformer (`apiVersion: builtin`, with field specs); any other is a
    /// plugin the Rust build does not run.
    pub(super) fn transformers(&mut self, k: &Kust, acc: &mut [Res]) -> Result<(), Stop> {
        for item in k
            .root
            .get("transformers")
            .map(yaml::Node::as_seq)
            .unwrap_or(&[])
        {
            let unsupported = || {
                Stop::Unsupported(vec![format!(
                    "transformers (plugins) at {}:{}",
                    k.display, item.span.line
                )])
            };
            let Some(rel) = item.as_str().filter(|s| !s.contains('\n')) else {
                return Err(unsupported());
            };
            let path = self.resolve(k, rel.trim(), item.span.line)?;
            if path.is_dir() {
                return Err(unsupported());
            }
            let (display, text) = self.load(k, rel.trim(), item.span.line)?;
            let stream = yaml::parse_stream(&text, Limits::default());
            for d in &stream.documents {
                let cfg = P::from_node(&d.root, &display, &text);
                let kind = text_of(cfg.get("kind"));
                let field = match (text_of(cfg.get("apiVersion")), kind) {
                    ("builtin", "LabelTransformer") => "labels",
                    ("builtin", "AnnotationsTransformer") => "annotations",
                    _ => return Err(unsupported()),
                };
                let values: Vec<(String, String, Pos)> = cfg
                    .get(field)
                    .map(|m| {
                        m.entries()
                            .iter()
                            .map(|(key, v)| {
                                let s = match &v.v {
                                    V::Str(s) => s.clone(),
                                    other => P::new(other.clone(), &v.pos).to_json().to_string(),
                                };
                                (key.clone(), s, v.pos.clone())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let pos = cfg.get(field).map_or(cfg.pos.clone(), |f| f.pos.clone());
                for spec in cfg.get("fieldSpecs").map(P::as_seq).unwrap_or(&[]) {
                    let spec_path = text_of(spec.get("path")).to_string();
                    let spec_kind = text_of(spec.get("kind")).to_string();
                    let create = matches!(spec.get("create").map(|c| &c.v), Some(V::Bool(true)));
                    let parts: Vec<&str> = spec_path.split('/').filter(|p| !p.is_empty()).collect();
                    for r in acc.iter_mut() {
                        if !spec_kind.is_empty() && r.kind() != spec_kind {
                            continue;
                        }
                        at_path(&mut r.obj, &parts, create, &pos, &mut |m| {
                            put_pairs(m, &values)
                        });
                    }
                }
            }
        }
        Ok(())
    }
}
