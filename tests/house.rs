//! The shape of the code, checked like behaviour (docs/ARCHITECTURE.md):
//! the lower layers are crates of their own (`crates/`: Cargo forbids a
//! crate to use one above it), the binary crate's top-level modules only
//! point down (no cycle), shipped code keeps its panic budget, and findings
//! are made from rule items. Test modules (`#[cfg(test)]` to the end of a file, and
//! `tests.rs` files) are not shipped code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The shipped part of a source file: up to its first `#[cfg(test)]`.
fn shipped(path: &Path) -> Option<String> {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return None;
    }
    let text = std::fs::read_to_string(path).expect("a source file is UTF-8");
    Some(match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    })
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `a` for `src/a.rs` and `src/a/**`; None for lib.rs / main.rs.
fn top_module(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// Which top-level modules each top-level module names (`crate::x`,
/// `crate::{x, y}`).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|p| top_module(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &files {
        let (Some(from), Some(text)) = (top_module(path), shipped(path)) else {
            continue;
        };
        let edges = graph.entry(from.clone()).or_default();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end]
                    .split(',')
                    .map(|s| s.trim().split("::").next().unwrap_or("").trim())
                    .collect()
            } else {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                vec![&rest[..end]]
            };
            for n in names {
                if n != from && modules.contains(n) {
                    edges.insert(n.to_string());
                }
            }
        }
    }
    graph
}

/// A cycle through `start`, if any (depth-first).
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    walk(graph, start, start, &mut path, &mut seen).then_some(path)
}

/// The workspace's crates, bottom first, with the shiplint crates each may
/// use: the layers of docs/ARCHITECTURE.md, enforced by Cargo.
const CRATES: &[(&str, &[&str])] = &[
    ("shiplint-yaml", &[]),
    ("shiplint-core", &["shiplint-yaml"]),
];

fn crate_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    CRATES
        .iter()
        .map(|(name, _)| root.join("crates").join(name))
        .collect()
}

#[test]
fn lower_layers_are_crates_that_only_point_down() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    for (name, allowed) in CRATES {
        assert!(
            workspace.contains(&format!("crates/{name}")),
            "{name} is not a workspace member"
        );
        let manifest = std::fs::read_to_string(root.join("crates").join(name).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("crates/{name}/Cargo.toml: {e}"));
        for line in manifest.lines() {
            let dep = line.split(['=', ' ']).next().unwrap_or("");
            if dep.starts_with("shiplint") {
                assert!(
                    allowed.contains(&dep),
                    "{name} must not depend on {dep}: it sits below it"
                );
            }
        }
        // No clap below the binary's CLI edge.
        assert!(
            !manifest.contains("clap"),
            "{name} depends on clap; convert CLI types at the edge (src/cli.rs)"
        );
    }
}

#[test]
fn top_level_modules_only_point_down() {
    let graph = module_graph();
    assert!(graph.len() > 15, "the module graph was not read: {graph:?}");
    // The layers the design names stay below what uses them.
    for (low, high) in [
        ("packs", "config"),
        ("settings", "config"),
        ("report", "github"),
        ("k8s", "packs"),
        ("render", "scan"),
    ] {
        assert!(
            !graph[low].contains(high),
            "{low} must not use {high} (it sits below it)"
        );
    }
    for module in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, module) {
            panic!("dependency cycle: {}", cycle.join(" -> "));
        }
    }
    // Only the CLI edge knows clap.
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for path in files {
        let module = top_module(&path);
        if matches!(module.as_deref(), Some("cli") | Some("app") | None) {
            continue;
        }
        if let Some(text) = shipped(&path) {
            assert!(
                !text.contains("clap::") && !text.contains("crate::cli"),
                "{} uses clap or the CLI types; convert at the edge (src/cli.rs)",
                path.display()
            );
        }
    }
}

#[test]
fn shipped_code_keeps_its_panic_budget() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for dir in crate_dirs() {
        rust_files(&dir.join("src"), &mut files);
    }
    let mut places = Vec::new();
    for path in files {
        let Some(text) = shipped(&path) else { continue };
        for (n, line) in text.lines().enumerate() {
            let hits = [".unwrap()", ".expect(", "panic!(", "unreachable!("]
                .iter()
                .map(|p| line.matches(p).count())
                .sum::<usize>();
            for _ in 0..hits {
                places.push(format!("{}:{}", path.display(), n + 1));
            }
        }
    }
    assert!(
        places.len() <= 8,
        "shipped code may panic in at most 8 places (constant regexes and embedded data); found {}:\n{}",
        places.len(),
        places.join("\n")
    );
}

/// Files whose rules are not static items yet and still emit by string id
/// (`Finding::new(ID, level, …)`). The list only shrinks: a file that no
/// longer needs it fails the test until it leaves the list.
const EMITS_BY_STRING_ID: &[&str] = &[];

/// Shipped code makes findings from rule items (`Finding::from_rule`):
/// no string id, no per-site default level (docs/ARCHITECTURE.md).
#[test]
fn findings_are_made_from_rule_items() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut problems = Vec::new();
    for path in files {
        let Some(text) = shipped(&path) else { continue };
        let rel = path
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "finding.rs" {
            continue;
        }
        let uses = text.contains("Finding::new(");
        let listed = EMITS_BY_STRING_ID.contains(&rel.as_str());
        if uses && !listed {
            problems.push(format!(
                "src/{rel}: Finding::new(\"id\", …) — make the finding from its rule item (Finding::from_rule)"
            ));
        }
        if listed && !uses {
            problems.push(format!(
                "src/{rel}: emits from rule items now — take it off EMITS_BY_STRING_ID"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
