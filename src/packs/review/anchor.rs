//! Maps a model's (line, quote) back onto the diff. Models miscount lines, so
//! the quote decides: an exact line whose text matches is kept, a quote found
//! elsewhere in the hunks snaps there, a line inside a hunk without a
//! matching quote moves to the nearest added line of that hunk, and anything
//! else becomes a file-level finding. Nothing is dropped.

use super::diff::Hunk;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The line and its quote agree.
    Exact(usize),
    /// The quote was found on another shown line.
    Snapped { from: usize, to: usize },
    /// No quote match; the line was inside a hunk and moved to its nearest added line.
    Moved { from: usize, to: usize },
    /// Nothing matched: reported on the file's first added line.
    FileLevel { first_added: usize },
}

impl Anchor {
    pub fn line(self) -> usize {
        match self {
            Anchor::Exact(l) => l,
            Anchor::Snapped { to, .. } | Anchor::Moved { to, .. } => to,
            Anchor::FileLevel { first_added } => first_added,
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Anchor::Exact(_) => "exact",
            Anchor::Snapped { .. } => "snapped",
            Anchor::Moved { .. } => "moved",
            Anchor::FileLevel { .. } => "file",
        }
    }
}

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a line's text matches a quote: contains it after whitespace
/// normalization, or is very close to it (the model dropped a character).
fn matches(line: &str, quote: &str) -> bool {
    let (l, q) = (normalize(line), normalize(quote));
    if q.is_empty() || l.is_empty() {
        return false;
    }
    let q = q.trim_matches(|c| c == '`' || c == '"' || c == '\'');
    if q.len() >= 3 && l.contains(q) || q.contains(l.as_str()) && l.len() >= 8 {
        return true;
    }
    similar::TextDiff::from_chars(l.as_str(), q).ratio() >= 0.85
}

pub fn anchor(hunks: &[Hunk], line: usize, quote: &str) -> Anchor {
    let shown: Vec<(usize, char, &str)> = hunks
        .iter()
        .flat_map(|h| h.new_lines().map(|(n, l)| (n, l.origin, l.text.as_str())))
        .collect();
    let first_added = shown
        .iter()
        .find(|(_, o, _)| *o == '+')
        .map(|(n, _, _)| *n)
        .unwrap_or(1);
    if shown
        .iter()
        .any(|(n, o, t)| *n == line && *o == '+' && matches(t, quote))
    {
        return Anchor::Exact(line);
    }
    // Nearest matching line, added lines first, then context lines.
    for want in ['+', ' '] {
        if let Some((n, _, _)) = shown
            .iter()
            .filter(|(_, o, t)| *o == want && matches(t, quote))
            .min_by_key(|(n, _, _)| n.abs_diff(line))
        {
            return Anchor::Snapped { from: line, to: *n };
        }
    }
    for h in hunks {
        if let Some((start, end)) = h.new_range() {
            if (start..=end).contains(&line) {
                if let Some((n, _)) = h.added().min_by_key(|(n, _)| n.abs_diff(line)) {
                    return Anchor::Moved { from: line, to: n };
                }
            }
        }
    }
    Anchor::FileLevel { first_added }
}

#[cfg(test)]
mod tests {
    use super::super::diff::DiffLine;
    use super::*;

    fn hunk() -> Hunk {
        let l = |o, n: Option<usize>, t: &str| DiffLine {
            origin: o,
            new_line: n,
            old_line: None,
            text: t.into(),
        };
        Hunk {
            header: "@@ -10,3 +10,4 @@".into(),
            lines: vec![
                l(' ', Some(10), "spec:"),
                l('-', None, "  replicas: 3"),
                l('+', Some(11), "  replicas: 1"),
                l('+', Some(12), "  image: nginx:latest"),
                l(' ', Some(13), "  ports: []"),
            ],
        }
    }

    #[test]
    fn exact_snapped_moved_and_file_level() {
        let h = vec![hunk()];
        assert_eq!(anchor(&h, 12, "image: nginx:latest"), Anchor::Exact(12));
        assert_eq!(
            anchor(&h, 30, "nginx:latest"),
            Anchor::Snapped { from: 30, to: 12 }
        );
        assert_eq!(
            anchor(&h, 13, "something else entirely"),
            Anchor::Moved { from: 13, to: 12 }
        );
        assert_eq!(
            anchor(&h, 99, "nothing like it"),
            Anchor::FileLevel { first_added: 11 }
        );
        // A near-miss quote (one character off) still matches.
        assert_eq!(anchor(&h, 11, "replicas: l"), Anchor::Exact(11));
    }
}
