//! Which files a scan reads: paths from the command line, walked with the
//! `ignore` crate (.gitignore-aware), minus excludes, binaries and files over
//! the size limit (each skip is noted, never silent).

use crate::text::plural;
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
        /// Context only (git modes): the rest of the tree at the scanned
        /// revision, read for run-wide facts (CRDs, Services, kustomizations)
        /// like another `--shard`'s files; never reported on.
        context: bool,
    },
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub inputs: Vec<Input>,
    /// Human-readable notes about paths that were not read.
    pub notes: Vec<String>,
    /// Content left out before it became an input because it is over the
    /// size limit (git modes); the scan names them with the large files.
    pub large: Vec<String>,
    /// Binary content left out before it became an input (git modes): how
    /// many, and the names worth a note (named or manifest-looking files).
    pub skipped_binary: usize,
    pub binary: Vec<String>,
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

/// Symbolic links met while walking that were not followed, for one note.
#[derive(Default)]
struct SkippedLinks {
    not_followed: Vec<String>,
    outside: Vec<String>,
}

impl SkippedLinks {
    fn notes(self, out: &mut Vec<String>) {
        if !self.not_followed.is_empty() {
            out.push(format!(
                "skipped {} (not followed; --follow-symlinks scans their targets inside the scanned folder): {}",
                plural(self.not_followed.len(), "symbolic link"),
                first_few(&self.not_followed)
            ));
        }
        if !self.outside.is_empty() {
            out.push(format!(
                "skipped {} that lead{} out of the scanned folder: {}",
                plural(self.outside.len(), "symbolic link"),
                if self.outside.len() == 1 { "s" } else { "" },
                first_few(&self.outside)
            ));
        }
    }
}

/// The first five names, then how many more: one note for many paths.
pub fn first_few(names: &[String]) -> String {
    let mut s = names[..names.len().min(5)].join(", ");
    if names.len() > 5 {
        s.push_str(&format!(" and {} more", names.len() - 5));
    }
    s
}

/// Lists the files to scan. Folders are walked without following symbolic
/// links unless `follow_symlinks`; even then a link whose target is outside
/// the walked folder is skipped (a pull request must not make the scan read,
/// and quote, files elsewhere on the runner). Every skipped link is named in
/// a note.
pub fn discover(
    paths: &[String],
    base: &Path,
    exclude: &[String],
    follow_symlinks: bool,
) -> Result<Discovered> {
    let mut out = Discovered::default();
    let mut seen = std::collections::HashSet::new();
    let mut links = SkippedLinks::default();
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
        // Followed links must stay inside the walked folder; a link that
        // leaves it is not entered (a folder) or read (a file).
        let root = if follow_symlinks {
            Some(std::fs::canonicalize(&path).with_context(|| format!("cannot read {raw}"))?)
        } else {
            None
        };
        let outside = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let walker = {
            let root = root.clone();
            let outside = outside.clone();
            let base = base.to_path_buf();
            ignore::WalkBuilder::new(&path)
                .hidden(false)
                .git_global(false)
                .require_git(false)
                .follow_links(follow_symlinks)
                .overrides(overrides)
                .filter_entry(move |e| {
                    if e.file_name() == ".git" {
                        return false;
                    }
                    let Some(root) = &root else { return true };
                    if !e.path_is_symlink() {
                        return true;
                    }
                    let inside = std::fs::canonicalize(e.path()).is_ok_and(|t| t.starts_with(root));
                    if !inside {
                        if let Ok(mut v) = outside.lock() {
                            v.push(display_path(e.path(), &base));
                        }
                    }
                    inside
                })
                .sort_by_file_path(|a, b| a.cmp(b))
                .build()
        };
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_symlink()) => {
                    links.not_followed.push(display_path(e.path(), base));
                }
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                    // Through links, one file can have many paths: scan it once.
                    let id = match &root {
                        Some(_) => std::fs::canonicalize(e.path())
                            .unwrap_or_else(|_| e.path().to_path_buf()),
                        None => e.path().to_path_buf(),
                    };
                    if seen.insert(id) {
                        let p = e.into_path();
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
        let skipped = outside.lock().map(|mut v| std::mem::take(&mut *v));
        links.outside.extend(skipped.unwrap_or_default());
    }
    links.notes(&mut out.notes);
    Ok(out)
}
