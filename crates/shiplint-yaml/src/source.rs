//! Source files and positions: what every later stage points back into.

use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// A 1-based, inclusive-start / exclusive-end region of a file, in lines and
/// character columns (the unit editors and SARIF `region`s use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub end_line: usize,
    pub end_col: usize,
}

impl Span {
    pub fn point(line: usize, col: usize) -> Self {
        Span {
            line,
            col,
            end_line: line,
            end_col: col + 1,
        }
    }

    /// The whole of one line, for findings that have no better anchor.
    pub fn line(line: usize) -> Self {
        Span {
            line,
            col: 1,
            end_line: line,
            end_col: 1,
        }
    }
}

/// One file (or stdin) as read from disk: its display path relative to the
/// scan root, and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// Path relative to the scan root with `/` separators, or `<stdin>`.
    pub path: Arc<str>,
    /// Where it lives on disk (None for stdin and git blobs).
    pub disk_path: Option<PathBuf>,
    pub text: String,
    /// True when the user named this file (or stdin) directly: every YAML
    /// document in it must then be a Kubernetes resource.
    pub explicit: bool,
}

impl SourceFile {
    pub fn new(path: impl Into<Arc<str>>, text: String) -> Self {
        SourceFile {
            path: path.into(),
            disk_path: None,
            text,
            explicit: false,
        }
    }

    /// The text of line `line` (1-based), without its line break.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        if line == 0 {
            return None;
        }
        self.text
            .split('\n')
            .nth(line - 1)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }

    pub fn is_yaml_or_json(&self) -> bool {
        has_manifest_extension(&self.path)
    }
}

pub fn has_manifest_extension(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yaml")
        || lower.ends_with(".yml")
        || lower.ends_with(".json")
        || path == "<stdin>"
}

/// Maps byte offsets to 1-based (line, column) pairs, columns counted in
/// characters.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, col)
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        let (line, col) = self.position(start);
        let (end_line, end_col) = self.position(end.max(start));
        Span {
            line,
            col,
            end_line,
            end_col,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_characters() {
        let idx = LineIndex::new("ab\nçd\n");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(3), (2, 1));
        assert_eq!(idx.position(5), (2, 2));
        assert_eq!(idx.position(7), (3, 1));
    }
}
