//! Splits the (already redacted) diff into prompts that fit a token budget:
//! by file, then by groups of whole hunks; a hunk that alone is too big is cut
//! into pieces that each carry a hunk header with their own line numbers.
//!
//! Tokens are counted with `tiktoken-rs` (o200k_base), whose BPE tables are
//! compiled into the crate, so counting works offline.

use super::diff::{DiffLine, FileDiff, Hunk};
use regex::Regex;
use sha2::{Digest, Sha256};
use std::sync::LazyLock as Lazy;

/// One request's worth of diff: part of one file.
#[derive(Debug, Clone)]
pub struct ReviewChunk {
    pub path: String,
    /// The path as the prompt shows it: secrets masked, control characters
    /// escaped (a file name is PR content too).
    pub shown_path: String,
    pub language: &'static str,
    pub hunks: Vec<Hunk>,
    /// The numbered diff text shown to the model.
    pub text: String,
    pub tokens: usize,
}

impl ReviewChunk {
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(
            format!("{}\0{}", self.path, self.text).as_bytes(),
        ))
    }
}

pub fn count_tokens(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len()
}

/// `</diff>` in any case and spacing (`</DIFF>`, `< / diff >`).
static DIFF_CLOSE: Lazy<Regex> =
    Lazy::new(|| crate::text::constant_regex(r"(?i)<\s*/\s*diff\b[^>]*>"));

/// PR text is data: it must not close the prompt's `<diff>` element.
pub fn escape_diff_text(text: &str) -> String {
    DIFF_CLOSE.replace_all(text, "<\\/diff>").into_owned()
}

/// A file name as the prompt may show it: secrets masked, `</diff>`
/// neutralised, control characters (a line break in a file name) escaped.
pub fn shown_path(path: &str) -> String {
    let masked = escape_diff_text(&super::redact::redact_text(path));
    masked
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Renders one hunk with new-file line numbers on added and context lines.
pub fn render_hunk(h: &Hunk) -> String {
    let mut s = String::with_capacity(h.lines.len() * 40);
    s.push_str(&escape_diff_text(&h.header));
    s.push('\n');
    for l in &h.lines {
        let num = l.new_line.map(|n| n.to_string()).unwrap_or_default();
        let text = escape_diff_text(&l.text);
        s.push_str(&format!("{num:>5} {} {text}\n", l.origin));
    }
    s
}

/// Longest line, in bytes, a chunk of `budget` tokens may carry: a token is
/// at least one byte, so a line cut to half the budget in bytes can never
/// make a piece exceed the budget on its own.
fn max_line_bytes(budget: usize) -> usize {
    (budget / 2).max(100)
}

/// Cuts lines too long for any chunk (a 500 KB minified line), saying so.
fn cut_long_lines(h: &Hunk, budget: usize) -> Hunk {
    let max = max_line_bytes(budget);
    let mut h = h.clone();
    for l in &mut h.lines {
        if l.text.len() > max {
            let mut end = max.saturating_sub(60);
            while !l.text.is_char_boundary(end) {
                end -= 1;
            }
            let cut = l.text.len() - end;
            l.text.truncate(end);
            l.text
                .push_str(&format!(" … [line cut: {cut} more bytes not shown]"));
        }
    }
    h
}

/// Cuts a hunk into pieces of at most `budget` tokens.
fn split_hunk(h: &Hunk, budget: usize) -> Vec<Hunk> {
    let mut out = Vec::new();
    let mut cur: Vec<DiffLine> = Vec::new();
    let mut cur_tokens = 0;
    let flush = |cur: &mut Vec<DiffLine>, out: &mut Vec<Hunk>| {
        if cur.is_empty() {
            return;
        }
        let start = cur.iter().find_map(|l| l.new_line).unwrap_or(0);
        let count = cur.iter().filter(|l| l.new_line.is_some()).count();
        out.push(Hunk {
            header: format!("@@ +{start},{count} @@ (part of: {})", h.header),
            lines: std::mem::take(cur),
        });
    };
    for l in &h.lines {
        let t = count_tokens(&l.text) + 4;
        if cur_tokens + t > budget && !cur.is_empty() {
            flush(&mut cur, &mut out);
            cur_tokens = 0;
        }
        cur_tokens += t;
        cur.push(l.clone());
    }
    flush(&mut cur, &mut out);
    out.retain(|h| h.lines.iter().any(|l| l.origin == '+'));
    out
}

/// Chunks every file under a per-chunk token budget.
pub fn chunk_files(files: &[FileDiff], budget: usize) -> Vec<ReviewChunk> {
    let budget = budget.max(200);
    let mut chunks = Vec::new();
    for f in files {
        let language = super::prompt::language_for(&f.path);
        let shown = shown_path(&f.path);
        let mut group: Vec<Hunk> = Vec::new();
        let mut group_tokens = 0;
        let push = |group: &mut Vec<Hunk>, chunks: &mut Vec<ReviewChunk>| {
            if group.is_empty() {
                return;
            }
            let text: String = group.iter().map(render_hunk).collect();
            chunks.push(ReviewChunk {
                path: f.path.clone(),
                shown_path: shown.clone(),
                language,
                tokens: count_tokens(&text),
                hunks: std::mem::take(group),
                text,
            });
        };
        for h in &f.hunks {
            let h = &cut_long_lines(h, budget);
            let t = count_tokens(&render_hunk(h));
            let pieces = if t > budget {
                split_hunk(h, budget)
            } else {
                vec![h.clone()]
            };
            for p in pieces {
                let pt = if t > budget {
                    count_tokens(&render_hunk(&p))
                } else {
                    t
                };
                if group_tokens + pt > budget {
                    push(&mut group, &mut chunks);
                    group_tokens = 0;
                }
                group_tokens += pt;
                group.push(p);
            }
        }
        push(&mut group, &mut chunks);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunk(start: usize, n: usize) -> Hunk {
        Hunk {
            header: format!("@@ -{start},0 +{start},{n} @@"),
            lines: (0..n)
                .map(|i| DiffLine {
                    origin: '+',
                    new_line: Some(start + i),
                    old_line: None,
                    text: format!("key{i}: value number {i} with some words"),
                })
                .collect(),
        }
    }

    #[test]
    fn counts_tokens_offline() {
        assert!(count_tokens("hello world") >= 2);
    }

    #[test]
    fn groups_hunks_and_splits_big_ones_keeping_line_numbers() {
        let f = FileDiff {
            path: "a.yaml".into(),
            hunks: vec![hunk(1, 3), hunk(50, 3), hunk(100, 400)],
            ..Default::default()
        };
        let chunks = chunk_files(&[f], 1000);
        assert!(chunks.len() >= 3);
        assert_eq!(chunks[0].hunks.len(), 2);
        assert!(chunks.iter().all(|c| c.tokens <= 1100));
        assert!(chunks[0].text.contains("   50 + key0"));
        let last = chunks.last().unwrap();
        assert!(last.hunks[0].header.starts_with("@@ +"));
        assert!(last.text.contains("  499 + key399"));
    }

    #[test]
    fn a_huge_single_line_is_cut_to_fit_the_budget() {
        let mut h = hunk(1, 1);
        h.lines[0].text = "x1y2z3 ".repeat(500 * 1024 / 7);
        let f = FileDiff {
            path: "min.js".into(),
            hunks: vec![h],
            ..Default::default()
        };
        let chunks = chunk_files(&[f], 1000);
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].tokens <= 1000, "{}", chunks[0].tokens);
        assert!(chunks[0].text.contains("line cut:"));
    }

    #[test]
    fn diff_close_tags_are_neutralised_in_any_case_and_spacing() {
        for t in [
            "</diff>",
            "</DIFF>",
            "</ diff >",
            "< /Diff\t>",
            "</diff foo>",
        ] {
            let out = escape_diff_text(&format!("a {t} b"));
            assert!(!DIFF_CLOSE.is_match(&out), "{t} -> {out}");
            assert!(out.contains("<\\/diff>"), "{out}");
        }
        assert_eq!(escape_diff_text("<different>"), "<different>");
        assert_eq!(shown_path("a\nb</DIFF>.yaml"), "a\\nb<\\/diff>.yaml");
    }
}
