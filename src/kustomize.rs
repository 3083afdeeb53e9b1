//! Kustomize awareness: files that a `kustomization.yaml` uses as patches
//! are partial resources (no `selector`, `$patch: delete` …), so schema
//! validation must not demand required fields of them.

use crate::discover::Input;
use crate::manifest::{yaml, Limits, Node};
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

const NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// `a/./b/../c` → `a/c`, lexically (a leading `..` stays).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What kustomizations among the scanned files say about other files.
#[derive(Debug, Default)]
pub struct KustomizeFacts {
    /// Files used as patches: partial resources.
    pub patches: HashSet<String>,
    /// Resources of a kustomization with `commonLabels` (or `labels` with
    /// `includeSelectors`): kustomize writes their selectors.
    pub selector_filled: HashSet<String>,
    /// Resources of a kustomization that sets `namespace:` and extends the
    /// namespace transformer with its own field specs (`configurations:`,
    /// kubebuilder's `webhooks/clientConfig/service/namespace` with
    /// `create: true`): kustomize writes namespaces the file leaves out.
    pub namespace_filled: HashSet<String>,
}

impl KustomizeFacts {
    /// Whether the file is checked as a whole resource, with no field left
    /// to kustomize: not a patch (by use or by name), and not a resource
    /// whose selector a kustomization fills.
    pub fn whole(&self, path: &str) -> bool {
        !(self.patches.contains(path)
            || self.selector_filled.contains(path)
            || self.namespace_filled.contains(path)
            || named_like_patch(path))
    }
}

/// A file named like a patch (`manager_auth_proxy_patch.yaml`,
/// `patch-replicas.yaml`) or in a `patches/` folder.
pub fn named_like_patch(path: &str) -> bool {
    let mut parts = path.rsplit(['/', '\\']);
    let file = parts.next().unwrap_or_default().to_ascii_lowercase();
    let stem = file.rsplit_once('.').map_or(file.as_str(), |(s, _)| s);
    stem.split(['_', '-', '.'])
        .any(|w| w == "patch" || w == "patches")
        || parts.any(|d| d == "patches")
}

/// Facts, keyed by display path (as discovery made them), from every
/// kustomization among `inputs`.
pub fn facts(inputs: &[Input]) -> KustomizeFacts {
    let mut out = KustomizeFacts::default();
    // Kustomization folder (display form) → its root node.
    let mut by_dir: HashMap<String, Node> = HashMap::new();
    for input in inputs {
        let display = match input {
            Input::File { display, .. } | Input::Blob { display, .. } => display,
            Input::Stdin => continue,
        };
        let is_kustomization = Path::new(display.as_str())
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| NAMES.contains(&n));
        if !is_kustomization {
            continue;
        }
        // Git modes: the kustomization of the scanned revision (index, HEAD).
        let text = match input {
            Input::File { disk, .. } => match std::fs::read_to_string(disk) {
                Ok(t) => t,
                Err(_) => continue,
            },
            Input::Blob { text, .. } => text.to_string(),
            Input::Stdin => continue,
        };
        let stream = yaml::parse_stream(&text, Limits::default());
        let Some(doc) = stream.documents.into_iter().next() else {
            continue;
        };
        let dir = Path::new(display.as_str())
            .parent()
            .unwrap_or(Path::new(""))
            .to_string_lossy()
            .replace('\\', "/");
        by_dir.insert(dir, doc.root);
    }
    for (dir, root) in &by_dir {
        for rel in referenced_patches(root) {
            out.patches.insert(join(dir, &rel));
        }
        let fills_selectors = root
            .get("commonLabels")
            .is_some_and(|n| !n.entries().is_empty())
            || root.get("labels").is_some_and(|l| {
                l.as_seq()
                    .iter()
                    .any(|x| x.get("includeSelectors").and_then(Node::as_bool) == Some(true))
            });
        if fills_selectors {
            mark_resources(
                dir,
                root,
                &by_dir,
                &mut out.selector_filled,
                &mut HashSet::new(),
            );
        }
        if fills_namespaces(dir, root, inputs) {
            mark_resources(
                dir,
                root,
                &by_dir,
                &mut out.namespace_filled,
                &mut HashSet::new(),
            );
        }
    }
    out
}

/// A kustomization with `namespace:` whose `configurations:` may add
/// namespace field specs: a listed file among the inputs must have a
/// `namespace:` section; one that is not (not scanned, or not copied)
/// may have one.
fn fills_namespaces(dir: &str, root: &Node, inputs: &[Input]) -> bool {
    if root
        .get("namespace")
        .and_then(Node::as_str)
        .is_none_or(str::is_empty)
    {
        return false;
    }
    let configs: Vec<String> = root
        .get("configurations")
        .map(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .map(|rel| join(dir, rel))
        .collect();
    configs.iter().any(|path| {
        let text = inputs.iter().find_map(|i| match i {
            Input::File { display, disk, .. } if display == path => {
                std::fs::read_to_string(disk).ok()
            }
            Input::Blob { display, text, .. } if display == path => Some(text.to_string()),
            _ => None,
        });
        match text {
            None => true,
            Some(t) => yaml::parse_stream(&t, Limits::default())
                .documents
                .first()
                .is_some_and(|d| d.root.get("namespace").is_some()),
        }
    })
}

fn join(dir: &str, rel: &str) -> String {
    normalize(&Path::new(dir).join(rel))
        .to_string_lossy()
        .replace('\\', "/")
}

/// Marks a kustomization's resources, following folders into the
/// kustomizations they hold (commonLabels reach into bases too).
fn mark_resources(
    dir: &str,
    root: &Node,
    by_dir: &HashMap<String, Node>,
    out: &mut HashSet<String>,
    seen: &mut HashSet<String>,
) {
    if !seen.insert(dir.to_string()) {
        return;
    }
    for key in ["resources", "bases", "components"] {
        for r in root.get(key).map(Node::as_seq).unwrap_or(&[]) {
            let Some(rel) = r.as_str() else { continue };
            let target = join(dir, rel.trim_end_matches('/'));
            match by_dir.get(&target) {
                Some(child) => mark_resources(&target, child, by_dir, out, seen),
                None => {
                    out.insert(target);
                }
            }
        }
    }
}

fn referenced_patches(root: &Node) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["patches", "patchesStrategicMerge", "patchesJson6902"] {
        for item in root.get(key).map(Node::as_seq).unwrap_or(&[]) {
            // `- patch.yaml` (patchesStrategicMerge) or `- path: patch.yaml`.
            let path = item
                .as_str()
                .or_else(|| item.get("path").and_then(Node::as_str));
            if let Some(p) =
                path.filter(|p| !p.contains('\n') && !p.trim_start().starts_with(['{', '-']))
            {
                out.push(p.trim().to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_patch_paths_relative_to_the_kustomization() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("overlay").join("kustomization.yaml");
        std::fs::create_dir_all(k.parent().unwrap()).unwrap();
        std::fs::write(&k, "resources: [../base, d.yaml]\ncommonLabels: {app: x}\npatches:\n- path: p1.yaml\n- patch: |-\n    - op: remove\npatchesStrategicMerge:\n- ../shared/p2.yaml\n").unwrap();
        let inputs = vec![Input::File {
            disk: k,
            display: "overlay/kustomization.yaml".into(),
            explicit: false,
        }];
        let got = facts(&inputs);
        assert!(got.patches.contains("overlay/p1.yaml"), "{got:?}");
        assert!(got.patches.contains("shared/p2.yaml"), "{got:?}");
        assert_eq!(got.patches.len(), 2);
        assert!(got.selector_filled.contains("overlay/d.yaml"), "{got:?}");
    }
}
