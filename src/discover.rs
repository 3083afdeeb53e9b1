//! Which files a scan reads: paths from the command line, walked with the
//! `ignore` crate (.gitignore-aware), minus excludes, binaries and files over
//! the size limit (each skip is noted, never silent).

use anyhow::{Context as _, Result};
use ignore::overrides::OverrideBuilder;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Input {
    Stdin,
    File {
        disk: PathBuf,
        display: String,
        explicit: bool,
    },
    /// Content that is not a file on disk (git index, commits): `lines`
    /// keeps only findings on those lines (added lines), `properties` are
    /// copied onto each finding (commit, date).
    Blob {
        display: String,
        text: std::sync::Arc<str>,
        lines: Option<std::sync::Arc<std::collections::BTreeSet<usize>>>,
        properties: std::sync::Arc<serde_json::Map<String, serde_json::Value>>,
    },
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub inputs: Vec<Input>,
    /// Human-readable notes about paths that were not read.
    pub notes: Vec<String>,
}

/// The display form of a path: relative to `base` when under it, with `/`.
pub fn display_path(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let s = rel.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s).to_string();
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

pub fn discover(paths: &[String], base: &Path, exclude: &[String]) -> Result<Discovered> {
    let mut out = Discovered::default();
    let mut seen = std::collections::HashSet::new();
    for raw in paths {
        if raw == "-" {
            out.inputs.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(raw);
        let meta = std::fs::metadata(&path).with_context(|| format!("cannot read {raw}"))?;
        // A named FIFO or device is passed on: reading it is refused with a
        // note for that path, and the rest of the run goes on.
        if meta.is_file() || !meta.is_dir() {
            if seen.insert(path.clone()) {
                out.inputs.push(Input::File {
                    display: display_path(&path, base),
                    disk: path,
                    explicit: true,
                });
            }
            continue;
        }
        let mut overrides = OverrideBuilder::new(&path);
        for pat in exclude {
            overrides
                .add(&format!("!{pat}"))
                .with_context(|| format!("bad exclude pattern '{pat}'"))?;
        }
        let overrides = overrides.build().context("building exclude patterns")?;
        let walker = ignore::WalkBuilder::new(&path)
            .hidden(false)
            .git_global(false)
            .require_git(false)
            .overrides(overrides)
            .filter_entry(|e| e.file_name() != ".git")
            .sort_by_file_path(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                    let p = e.into_path();
                    if seen.insert(p.clone()) {
                        out.inputs.push(Input::File {
                            display: display_path(&p, base),
                            disk: p,
                            explicit: false,
                        });
                    }
                }
                Ok(_) => {}
                Err(e) => out.notes.push(format!("skipped: {e}")),
            }
        }
    }
    Ok(out)
}
