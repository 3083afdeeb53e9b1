//! Splits the (already redacted) diff into prompts that fit a token budget:
//! by file, then by groups of whole hunks; a hunk that alone is too big is cut
//! into pieces that each carry a hunk header with their own line numbers.
//!
//! Tokens are counted with `tiktoken-rs` (o200k_base), whose BPE tables are
//! compiled into the crate, so counting works offline.

use super::diff::{DiffLine, FileDiff, Hunk};
use sha2::{Digest, Sha256};

/// One request's worth of diff: part of one file.
#[derive(Debug, Clone)]
pub struct ReviewChunk {
    pub path: String,
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

/// Renders one hunk with new-file line numbers on added and context lines.
pub fn render_hunk(h: &Hunk) -> String {
    let mut s = String::with_capacity(h.lines.len() * 40);
    s.push_str(&h.header);
    s.push('\n');
    for l in &h.lines {
        let num = l.new_line.map(|n| n.to_string()).unwrap_or_default();
        // The diff is data: it must not close the prompt's <diff> element.
        let text = l.text.replace("</diff>", "<\\/diff>");
        s.push_str(&format!("{num:>5} {} {text}\n", l.origin));
    }
    s
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
        let mut group: Vec<Hunk> = Vec::new();
        let mut group_tokens = 0;
        let push = |group: &mut Vec<Hunk>, chunks: &mut Vec<ReviewChunk>| {
            if group.is_empty() {
                return;
            }
            let text: String = group.iter().map(render_hunk).collect();
            chunks.push(ReviewChunk {
                path: f.path.clone(),
                language,
                tokens: count_tokens(&text),
                hunks: std::mem::take(group),
                text,
            });
        };
        for h in &f.hunks {
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
}
