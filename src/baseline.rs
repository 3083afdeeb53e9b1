//! Baselines: a JSON list of known findings by fingerprint. `scan --baseline`
//! reports only findings whose fingerprint is not listed, for every pack.
//! Fingerprints hash rule, path and a line-independent key (for secrets the
//! SHA-256 of the value), so moving lines does not resurrect old findings.

use crate::finding::Finding;
use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

pub const DEFAULT_FILE: &str = ".shiplint-baseline.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    pub path: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BaselineFile {
    pub version: u32,
    pub tool: String,
    pub findings: Vec<Entry>,
}

/// The baseline format version this build reads and writes.
pub const VERSION: u32 = 1;

pub fn read(path: &Path) -> Result<BaselineFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading baseline {}", path.display()))?;
    let file: BaselineFile = serde_json::from_str(&text)
        .with_context(|| format!("parsing baseline {}", path.display()))?;
    // Another version may mean other fingerprints: reading it as ours would
    // silently hide (or resurrect) findings.
    if file.version != VERSION {
        anyhow::bail!(
            "baseline {}: version {} is not supported (this shiplint reads version {VERSION}); recreate it with `shiplint baseline create`",
            path.display(),
            file.version
        );
    }
    Ok(file)
}

/// The fingerprints of a baseline file.
pub fn load(path: &Path) -> Result<HashSet<String>> {
    Ok(read(path)?
        .findings
        .into_iter()
        .map(|e| e.fingerprint)
        .collect())
}

/// Writes `findings` (plus, with `keep`, the entries already in the file)
/// sorted by path and rule; returns how many entries the file holds.
pub fn write(path: &Path, findings: &[Finding], keep: bool) -> Result<usize> {
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    if keep && path.exists() {
        for e in read(path)?.findings {
            entries.insert(e.fingerprint.clone(), e);
        }
    }
    for f in findings {
        entries.insert(
            f.fingerprint.clone(),
            Entry {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.to_string(),
                path: f.path.to_string(),
            },
        );
    }
    let mut list: Vec<Entry> = entries.into_values().collect();
    list.sort_by(|a, b| {
        (&a.path, &a.rule, &a.fingerprint).cmp(&(&b.path, &b.rule, &b.fingerprint))
    });
    let n = list.len();
    let file = BaselineFile {
        version: VERSION,
        tool: "shiplint".into(),
        findings: list,
    };
    let text = serde_json::to_string_pretty(&file)? + "\n";
    if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing baseline {}", path.display()))?;
    Ok(n)
}
