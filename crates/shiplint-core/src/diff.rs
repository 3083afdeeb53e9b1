//! The one diff model: a file's hunks, each with its lines and their old and
//! new line numbers. Read from git (`from_git2`, for `--diff-base`,
//! `--staged`, `--history` and the review) or from the unified-diff text
//! GitHub's API returns (`parse_unified`, for PR comments); every user asks
//! the same questions of it (which lines were added, which lines a hunk
//! shows).

use std::collections::BTreeSet;

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// `+` added, `-` removed, ` ` context.
    pub origin: char,
    /// Line number in the new file (None for removed lines).
    pub new_line: Option<usize>,
    /// Line number in the old file (None for added lines).
    pub old_line: Option<usize>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// `@@ -a,b +c,d @@ section`
    pub header: String,
    pub lines: Vec<DiffLine>,
}

impl Hunk {
    /// New-file lines this hunk shows (added and context).
    pub fn new_lines(&self) -> impl Iterator<Item = (usize, &DiffLine)> {
        self.lines.iter().filter_map(|l| l.new_line.map(|n| (n, l)))
    }

    pub fn added(&self) -> impl Iterator<Item = (usize, &DiffLine)> {
        self.new_lines().filter(|(_, l)| l.origin == '+')
    }

    /// First and last new-file line the hunk covers (None when it only
    /// removes lines).
    pub fn new_range(&self) -> Option<(usize, usize)> {
        let mut it = self.new_lines().map(|(n, _)| n);
        let first = it.next()?;
        Some((first, it.last().unwrap_or(first)))
    }
}

/// New-side lines the hunks add.
pub fn added_lines(hunks: &[Hunk]) -> BTreeSet<usize> {
    hunks
        .iter()
        .flat_map(|h| h.added().map(|(n, _)| n))
        .collect()
}

/// `@@ -a,b +c,d @@` → (c, d).
fn header_new_range(header: &str) -> Option<(usize, usize)> {
    let rest = header.strip_prefix("@@ ")?;
    let plus = rest.split_whitespace().find(|p| p.starts_with('+'))?;
    let plus = &plus[1..];
    match plus.split_once(',') {
        Some((s, l)) => Some((s.parse().ok()?, l.parse().ok()?)),
        None => Some((plus.parse().ok()?, 1)),
    }
}

/// `@@ -a,b +c,d @@` → (a, b).
fn header_old_start(header: &str) -> Option<usize> {
    let rest = header.strip_prefix("@@ ")?;
    let minus = rest.split_whitespace().find(|p| p.starts_with('-'))?;
    minus[1..].split(',').next()?.parse().ok()
}

/// The hunks of one file's unified diff (GitHub's `patch` field: hunks
/// only, no file header). Unknown lines are ignored; a malformed hunk header
/// ends the parse with what was read so far.
pub fn parse_unified(patch: &str) -> Vec<Hunk> {
    let mut hunks: Vec<Hunk> = Vec::new();
    let (mut new_line, mut old_line) = (0usize, 0usize);
    for raw in patch.split('\n') {
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if l.starts_with("@@") {
            let Some((start, _)) = header_new_range(l) else {
                break;
            };
            new_line = start;
            old_line = header_old_start(l).unwrap_or(0);
            hunks.push(Hunk {
                header: l.to_string(),
                lines: Vec::new(),
            });
            continue;
        }
        let Some(hunk) = hunks.last_mut() else {
            continue;
        };
        let (origin, text) = match l.as_bytes().first() {
            Some(b'+') => ('+', &l[1..]),
            Some(b'-') => ('-', &l[1..]),
            Some(b' ') => (' ', &l[1..]),
            // GitHub trims the lone space of an empty context line.
            None => (' ', ""),
            // `\ No newline at end of file` and anything unknown.
            _ => continue,
        };
        let (new, old) = match origin {
            '+' => (Some(new_line), None),
            '-' => (None, Some(old_line)),
            _ => (Some(new_line), Some(old_line)),
        };
        if new.is_some() {
            new_line += 1;
        }
        if old.is_some() {
            old_line += 1;
        }
        hunk.lines.push(DiffLine {
            origin,
            new_line: new,
            old_line: old,
            text: text.to_string(),
        });
    }
    hunks
}

/// The hunks of one delta of a git diff.
pub fn from_git2(patch: &git2::Patch) -> Result<Vec<Hunk>, git2::Error> {
    let mut hunks = Vec::with_capacity(patch.num_hunks());
    for h in 0..patch.num_hunks() {
        let (hunk, n) = patch.hunk(h)?;
        let header = String::from_utf8_lossy(hunk.header())
            .trim_end()
            .to_string();
        let mut lines = Vec::with_capacity(n);
        for l in 0..n {
            let line = patch.line_in_hunk(h, l)?;
            let origin = line.origin();
            if !matches!(origin, '+' | '-' | ' ') {
                continue;
            }
            lines.push(DiffLine {
                origin,
                new_line: line.new_lineno().map(|n| n as usize),
                old_line: line.old_lineno().map(|n| n as usize),
                text: String::from_utf8_lossy(line.content())
                    .trim_end_matches(['\n', '\r'])
                    .to_string(),
            });
        }
        hunks.push(Hunk { header, lines });
    }
    Ok(hunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unified_patch_gives_lines_on_both_sides() {
        let hunks = parse_unified(
            "@@ -1,3 +1,4 @@ kind: x\n a\n-b\n+c\n+d\n\n\\ No newline at end of file\n@@ -10,0 +12,1 @@\n+e",
        );
        assert_eq!(hunks.len(), 2);
        assert_eq!(hunks[0].new_range(), Some((1, 4)));
        assert_eq!(added_lines(&hunks), BTreeSet::from([2, 3, 12]));
        let b = &hunks[0].lines[1];
        assert_eq!((b.origin, b.old_line, b.new_line), ('-', Some(2), None));
        // The trimmed empty context line counts on both sides.
        assert_eq!(hunks[0].lines[4].new_line, Some(4));
        assert!(parse_unified("@@ garbage @@\n+x").is_empty());
        assert_eq!(header_new_range("@@ -1 +5 @@"), Some((5, 1)));
        let only_removed = parse_unified("@@ -3,1 +2,0 @@\n-x");
        assert_eq!(only_removed[0].new_range(), None);
    }
}
