//! Which lines of a file a pull request shows: parsed from the unified-diff
//! `patch` of `GET /pulls/{n}/files`, and where a finding may be anchored.

use crate::github::CommentFilter;
use std::collections::BTreeSet;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// New-side lines the PR added or changed.
    pub added: BTreeSet<usize>,
    /// New-side line ranges of the hunks (inclusive), context included.
    pub hunks: Vec<(usize, usize)>,
}

impl FileDiff {
    pub fn in_hunk(&self, line: usize) -> bool {
        self.hunks.iter().any(|&(a, b)| a <= line && line <= b)
    }
}

/// `@@ -a,b +c,d @@` → (c, d).
fn new_range(header: &str) -> Option<(usize, usize)> {
    let rest = header.strip_prefix("@@ ")?;
    let plus = rest.split_whitespace().find(|p| p.starts_with('+'))?;
    let plus = &plus[1..];
    let (start, len) = match plus.split_once(',') {
        Some((s, l)) => (s.parse().ok()?, l.parse().ok()?),
        None => (plus.parse().ok()?, 1),
    };
    Some((start, len))
}

/// Parses a file's patch. Unknown lines are ignored; a malformed hunk header
/// ends the parse with what was read so far.
pub fn parse_patch(patch: &str) -> FileDiff {
    let mut d = FileDiff::default();
    let mut line = 0usize;
    let mut in_hunk = false;
    for raw in patch.split('\n') {
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if l.starts_with("@@") {
            match new_range(l) {
                Some((start, len)) => {
                    line = start;
                    in_hunk = true;
                    if len > 0 {
                        d.hunks.push((start, start + len - 1));
                    }
                }
                None => break,
            }
            continue;
        }
        if !in_hunk {
            continue;
        }
        match l.as_bytes().first() {
            Some(b'+') => {
                d.added.insert(line);
                line += 1;
            }
            Some(b'-') | Some(b'\\') => {}
            Some(b' ') => line += 1,
            // GitHub trims a lone space of an empty context line.
            None => line += 1,
            _ => {}
        }
    }
    d
}

/// Where a finding goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// An inline comment on this new-side line.
    Line(usize),
    /// A file-level comment (`subject_type: file`).
    File,
    /// Only the summary comment.
    Summary,
}

/// Anchors a finding spanning `line..=end_line` of a file (`None`: the PR
/// does not change it), snapping to the first line of its span the filter
/// accepts.
pub fn place(
    diff: Option<&FileDiff>,
    line: usize,
    end_line: usize,
    filter: CommentFilter,
) -> Placement {
    let Some(d) = diff else {
        return Placement::Summary;
    };
    let first = line.max(1);
    let last = end_line.max(first).min(first + 200);
    let hit = |ok: &dyn Fn(usize) -> bool| (first..=last).find(|l| ok(*l));
    match filter {
        CommentFilter::Added => hit(&|l| d.added.contains(&l))
            .map(Placement::Line)
            .unwrap_or(Placement::Summary),
        CommentFilter::DiffContext => hit(&|l| d.in_hunk(l))
            .map(Placement::Line)
            .unwrap_or(Placement::Summary),
        CommentFilter::File | CommentFilter::Nofilter => hit(&|l| d.in_hunk(l))
            .map(Placement::Line)
            .unwrap_or(Placement::File),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "@@ -1,4 +1,5 @@\n apiVersion: apps/v1\n-kind: Deploy\n+kind: Deployment\n+# new\n metadata:\n \n@@ -20,3 +21,2 @@ spec:\n   replicas: 1\n-  paused: true\n   selector:\n\\ No newline at end of file";

    #[test]
    fn parses_added_lines_and_hunks() {
        let d = parse_patch(PATCH);
        assert_eq!(d.added.iter().copied().collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(d.hunks, vec![(1, 5), (21, 22)]);
        assert!(d.in_hunk(22) && !d.in_hunk(23) && !d.in_hunk(10));
    }

    #[test]
    fn new_file_and_single_line_headers() {
        let d = parse_patch("@@ -0,0 +1,2 @@\n+a: 1\n+b: 2");
        assert_eq!(d.added.len(), 2);
        assert_eq!(d.hunks, vec![(1, 2)]);
        let d = parse_patch("@@ -3 +3 @@\n-x\n+y");
        assert_eq!(d.added.iter().copied().collect::<Vec<_>>(), vec![3]);
        // Pure deletion: no new-side range.
        let d = parse_patch("@@ -3,2 +2,0 @@\n-x\n-y");
        assert!(d.hunks.is_empty() && d.added.is_empty());
        // Garbage stops cleanly.
        assert_eq!(parse_patch("@@ nonsense @@\n+x"), FileDiff::default());
    }

    #[test]
    fn places_by_filter() {
        let d = parse_patch(PATCH);
        use CommentFilter::*;
        assert_eq!(place(Some(&d), 3, 3, Added), Placement::Line(3));
        assert_eq!(place(Some(&d), 1, 1, Added), Placement::Summary);
        // Snaps into the span.
        assert_eq!(place(Some(&d), 1, 4, Added), Placement::Line(2));
        assert_eq!(place(Some(&d), 1, 1, DiffContext), Placement::Line(1));
        assert_eq!(place(Some(&d), 40, 40, DiffContext), Placement::Summary);
        assert_eq!(place(Some(&d), 40, 40, File), Placement::File);
        assert_eq!(place(None, 3, 3, Nofilter), Placement::Summary);
    }
}
