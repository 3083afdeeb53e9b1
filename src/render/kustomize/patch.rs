//! Strategic merge (with the merge keys of the common Kubernetes lists and
//! the `$patch` directives) and JSON 6902 patches, on origin-keeping trees:
//! what a patch sets keeps the patch's lines.

use super::tree::{P, V};

/// What a strategic merge asks of its target as a whole.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Merged,
    /// `$patch: delete` at the top: the resource goes.
    Delete,
}

/// The merge key of a list field, by its name and (for `ports`) its items.
fn merge_key(field: &str, items: &[&P]) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "ports" => {
            if items.iter().any(|i| i.get("containerPort").is_some()) {
                "containerPort"
            } else {
                "port"
            }
        }
        _ => return None,
    })
}

fn directive(p: &P) -> Option<&str> {
    p.get("$patch").and_then(P::as_str)
}

/// A patch value without its directives, to be inserted as is.
fn strip(p: &P) -> P {
    let mut p = p.clone();
    strip_in(&mut p);
    p
}

fn strip_in(p: &mut P) {
    match &mut p.v {
        V::Map(m) => {
            m.retain(|(k, _)| !k.starts_with('$'));
            m.iter_mut().for_each(|(_, v)| strip_in(v));
        }
        V::Seq(items) => {
            items.retain(|i| directive(i) != Some("delete"));
            items.iter_mut().for_each(strip_in);
        }
        _ => {}
    }
}

/// Merges `patch` into `dst` (a resource).
pub fn strategic_merge(dst: &mut P, patch: &P) -> Outcome {
    match directive(patch) {
        Some("delete") => return Outcome::Delete,
        Some("replace") => {
            *dst = strip(patch);
            return Outcome::Merged;
        }
        _ => {}
    }
    // The target keeps its own identity: a patch selected by `target:`
    // may name anything (`name: "*"`).
    let mut patch = patch.clone();
    patch.remove("apiVersion");
    patch.remove("kind");
    if let Some(meta) = patch.get_mut("metadata") {
        meta.remove("name");
        meta.remove("namespace");
    }
    merge_map(dst, &patch);
    Outcome::Merged
}

fn merge_map(dst: &mut P, patch: &P) {
    if directive(patch) == Some("replace") || !dst.is_map() {
        *dst = strip(patch);
        return;
    }
    for (k, pv) in patch.entries() {
        if k.starts_with('$') {
            continue;
        }
        if matches!(pv.v, V::Null) || directive(pv) == Some("delete") {
            dst.remove(k);
            continue;
        }
        match dst.get_mut(k) {
            // The same value: it stays where it was written first.
            Some(dv) if !dv.is_map() && !matches!(dv.v, V::Seq(_)) && *dv == *pv => {}
            Some(dv) if dv.is_map() && pv.is_map() => merge_map(dv, pv),
            Some(dv) if matches!(dv.v, V::Seq(_)) && matches!(pv.v, V::Seq(_)) => {
                merge_list(k, dv, pv)
            }
            _ => dst.set(k, strip(pv)),
        }
    }
}

fn merge_list(field: &str, dst: &mut P, patch: &P) {
    let pitems = patch.as_seq();
    if pitems.iter().any(|i| directive(i) == Some("replace")) {
        let kept: Vec<P> = pitems
            .iter()
            .filter(|i| directive(i) != Some("replace"))
            .map(strip)
            .collect();
        dst.v = V::Seq(kept);
        dst.pos = patch.pos.clone();
        return;
    }
    let all: Vec<&P> = dst.as_seq().iter().chain(pitems).collect();
    let Some(key) = merge_key(field, &all) else {
        *dst = strip(patch);
        return;
    };
    let V::Seq(old) = std::mem::replace(&mut dst.v, V::Null) else {
        return;
    };
    let mut old: Vec<Option<P>> = old.into_iter().map(Some).collect();
    let mut out = Vec::new();
    // Patch items first, in the patch's order (merged into the item they
    // name), then the items the patch did not name: kustomize's order.
    for pi in pitems {
        let kv = pi.get(key);
        let found = kv.and_then(|kv| {
            old.iter()
                .position(|o| o.as_ref().is_some_and(|o| o.get(key) == Some(kv)))
        });
        if directive(pi) == Some("delete") {
            if let Some(i) = found {
                old[i] = None;
            }
            continue;
        }
        match found {
            Some(i) => {
                let mut item = old[i].take().expect("found above");
                merge_map(&mut item, pi);
                out.push(item);
            }
            None => out.push(strip(pi)),
        }
    }
    out.extend(old.into_iter().flatten());
    dst.v = V::Seq(out);
}

/// The most nodes a JSON patch may grow one object to.
const MAX_NODES: usize = 200_000;

/// Nodes in a tree.
pub fn size(p: &P) -> usize {
    1 + match &p.v {
        V::Seq(items) => items.iter().map(size).sum(),
        V::Map(m) => m.iter().map(|(_, v)| size(v)).sum(),
        _ => 0,
    }
}

/// A JSON pointer's parts, unescaped (`~1` is `/`, `~0` is `~`).
fn pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("path {path:?} is not a JSON pointer"));
    };
    Ok(rest
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn child_mut<'a>(p: &'a mut P, part: &str) -> Option<&'a mut P> {
    match &mut p.v {
        V::Map(m) => m.iter_mut().find(|(k, _)| k == part).map(|(_, v)| v),
        V::Seq(items) => items.get_mut(part.parse::<usize>().ok()?),
        _ => None,
    }
}

fn node_mut<'a>(root: &'a mut P, parts: &[String]) -> Option<&'a mut P> {
    parts.iter().try_fold(root, |n, k| child_mut(n, k))
}

fn get(root: &P, parts: &[String]) -> Option<P> {
    let mut n = root;
    for k in parts {
        n = match &n.v {
            V::Map(_) => n.get(k)?,
            V::Seq(items) => items.get(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(n.clone())
}

fn add(root: &mut P, parts: &[String], value: P) -> Result<(), String> {
    let Some((last, parent)) = parts.split_last() else {
        *root = value;
        return Ok(());
    };
    let parent = node_mut(root, parent).ok_or("the parent of the path does not exist")?;
    match &mut parent.v {
        V::Map(_) => {
            parent.set(last, value);
            Ok(())
        }
        V::Seq(items) => {
            let i = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| format!("index {last} is out of range"))?
            };
            items.insert(i, value);
            Ok(())
        }
        _ => Err("the parent of the path is a scalar".into()),
    }
}

fn remove(root: &mut P, parts: &[String]) -> Result<P, String> {
    let (last, parent) = parts
        .split_last()
        .ok_or("cannot remove the whole document")?;
    let parent = node_mut(root, parent).ok_or("the path does not exist")?;
    match &mut parent.v {
        V::Map(_) => parent
            .remove(last)
            .ok_or_else(|| "the path does not exist".into()),
        V::Seq(items) => {
            let i = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(|| format!("index {last} is out of range"))?;
            Ok(items.remove(i))
        }
        _ => Err("the path does not exist".into()),
    }
}

/// Applies one JSON 6902 operation (`op` holds `op`, `path`, `value`,
/// `from`). Values added keep the patch's lines.
/// `nodes` is the object's size so far (`size`), kept up to date.
pub fn json6902_op(root: &mut P, op: &P, nodes: &mut usize) -> Result<(), String> {
    let name = op
        .get("op")
        .and_then(P::as_str)
        .ok_or("an operation without `op`")?;
    let path = pointer(
        op.get("path")
            .and_then(P::as_str)
            .ok_or("an operation without `path`")?,
    )?;
    let value = || {
        op.get("value")
            .cloned()
            .ok_or(format!("`{name}` without `value`"))
    };
    let from = || {
        op.get("from")
            .and_then(P::as_str)
            .ok_or(format!("`{name}` without `from`"))
            .and_then(pointer)
    };
    let r = apply_op(root, name, &path, value, from, nodes);
    if r.is_ok() && name != "test" && path.len() > 1 {
        // The map or list the operation changed is the patch's doing.
        if let Some(parent) = path.split_last().and_then(|(_, p)| node_mut(root, p)) {
            parent.pos = op.pos.clone();
        }
    }
    r
}

fn apply_op(
    root: &mut P,
    name: &str,
    path: &[String],
    value: impl Fn() -> Result<P, String>,
    from: impl Fn() -> Result<Vec<String>, String>,
    nodes: &mut usize,
) -> Result<(), String> {
    let path = path.to_vec();
    match name {
        "add" => add(root, &path, value()?),
        "remove" => remove(root, &path).map(|_| ()),
        "replace" => {
            let v = value()?;
            let n = node_mut(root, &path).ok_or("the path does not exist")?;
            *n = v;
            Ok(())
        }
        "move" => {
            let from = from()?;
            let v = remove(root, &from)?;
            add(root, &path, v)
        }
        "copy" => {
            let v = get(root, &from()?).ok_or("`from` does not exist")?;
            // Copies double what they copy: a chain of them must not grow an
            // object without bound.
            *nodes += size(&v);
            if *nodes > MAX_NODES {
                return Err(format!("the object would exceed {MAX_NODES} nodes"));
            }
            add(root, &path, v)
        }
        "test" => {
            let want = value()?;
            match get(root, &path) {
                Some(v) if v == want => Ok(()),
                _ => Err("`test` failed: the value differs".into()),
            }
        }
        other => Err(format!("unknown operation {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::Pos;
    use super::*;
    use crate::manifest::yaml;

    fn p(text: &str) -> P {
        let d = yaml::parse_stream(text, Default::default())
            .documents
            .remove(0);
        P::from_node(&d.root, &"t".into(), text)
    }

    #[test]
    fn merges_containers_by_name_patch_first() {
        let mut d = p("spec:\n  containers:\n  - {name: b, image: b}\n  - {name: a, image: a}\n");
        let patch = p("spec:\n  containers:\n  - {name: a, securityContext: {privileged: true}}\n  - {name: c, image: c}\n");
        strategic_merge(&mut d, &patch);
        let names: Vec<_> = d
            .path(&["spec", "containers"])
            .unwrap()
            .as_seq()
            .iter()
            .map(|c| c.get("name").unwrap().as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a", "c", "b"]);
        let a = &d.path(&["spec", "containers"]).unwrap().as_seq()[0];
        assert_eq!(a.get("image").unwrap().as_str(), Some("a"));
        assert!(a.path(&["securityContext", "privileged"]).is_some());
    }

    #[test]
    fn delete_directives() {
        let mut d = p("spec:\n  containers:\n  - {name: b}\n  - {name: a}\n  x: 1\n");
        let patch = p("spec:\n  containers:\n  - {name: a, $patch: delete}\n  x: null\n");
        strategic_merge(&mut d, &patch);
        assert_eq!(
            d.to_json(),
            serde_json::json!({"spec": {"containers": [{"name": "b"}]}})
        );
        assert_eq!(
            strategic_merge(&mut d, &p("$patch: delete\n")),
            Outcome::Delete
        );
    }

    #[test]
    fn json_patch_ops() {
        let mut d = p("a: {b: [1, 2]}\n\"x/y\": {\"t~\": 1}\n");
        let ops = p("- {op: add, path: /a/b/-, value: 3}\n- {op: add, path: /a/b/0, value: 0}\n- {op: remove, path: /x~1y/t~0}\n- {op: copy, from: /a/b, path: /c}\n- {op: move, from: /c, path: /d}\n- {op: test, path: /d/3, value: 3}\n- {op: replace, path: /a/b/1, value: 9}\n");
        for op in ops.as_seq() {
            json6902_op(&mut d, op, &mut 0).unwrap();
        }
        assert_eq!(
            d.to_json(),
            serde_json::json!({"a": {"b": [0, 9, 2, 3]}, "x/y": {}, "d": [0, 1, 2, 3]})
        );
        // A chain of copies that doubles the object stops at the bound.
        let mut big = p("a: [1, 2, 3, 4, 5, 6, 7, 8]\n");
        let copy = p("{op: copy, from: /a, path: /a/-}\n");
        let mut failed = false;
        let mut n = size(&big);
        for _ in 0..64 {
            if json6902_op(&mut big, &copy, &mut n).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed && size(&big) <= MAX_NODES);
        let bad = p("{op: test, path: /d/0, value: 5}\n");
        assert!(json6902_op(&mut d, &bad, &mut 0).is_err());
        let _ = Pos {
            file: "t".into(),
            line: 1,
        };
    }
}
