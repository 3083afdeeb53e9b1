//! The embedded CRD catalog's data: the `openAPIV3Schema` of the custom
//! resources of widely used projects (Gateway API, cert-manager, Flux, Argo,
//! Prometheus Operator, Istio …), from their own CRDs (see
//! schemas/generate_crds.py and schemas/CRDS.md), `x-kubernetes-validations`
//! included. Only the small index is read until a catalogued kind is looked
//! up; then that project's frame is decompressed, once. The schema pack
//! validates resources against these schemas; the policies pack evaluates
//! their CEL rules.

use anyhow::{anyhow, bail, Result};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::OnceLock;

static CATALOG_BYTES: &[u8] = include_bytes!("../../schemas/crds.bin");
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

pub fn schema_text(api_version: &str, kind: &str) -> Result<Option<&'static str>> {
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

/// Is this group/version/kind in the catalog? (Reads the small index only.)
pub fn has_kind(api_version: &str, kind: &str) -> bool {
    parsed().is_ok_and(|p| p.index.kinds.contains_key(&format!("{api_version}/{kind}")))
}

/// Every catalogued `group/version/Kind`.
pub fn kinds() -> Vec<&'static str> {
    parsed().map_or_else(
        |_| Vec::new(),
        |p| p.index.kinds.keys().map(String::as_str).collect(),
    )
}
