//! The scanning core. One Aho-Corasick pass (ASCII case-insensitive, every
//! detector's keywords in one automaton) finds keyword hits; each hit gives
//! its detectors a byte window (the hit's line, capped to ±`RADIUS` bytes,
//! or a larger forward window for multi-line formats such as PEM keys).
//! Regexes run only inside the merged windows, never over the whole file.

use super::filters;
use super::rules::{Allowlist, Checksum, Detector};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use anyhow::{Context as _, Result};
use std::collections::HashSet;

/// How far a window reaches left and right of a keyword hit on long lines.
const RADIUS: usize = 1024;
/// How far a multi-line window reaches past the hit (PEM blocks, PuTTY keys).
const MULTILINE_SPAN: usize = 32 * 1024;

pub struct Engine {
    pub detectors: Vec<Detector>,
    ac: AhoCorasick,
    /// Automaton pattern id → detectors that own that keyword.
    owners: Vec<Vec<usize>>,
}

/// A candidate that passed every filter: byte range of the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub detector: usize,
    pub start: usize,
    pub end: usize,
}

/// Allowlists from `.shiplint.yaml` plus whether inline allow comments count.
#[derive(Default)]
pub struct ScanOptions<'a> {
    pub user: Option<&'a Allowlist>,
}

impl Engine {
    pub fn new(detectors: Vec<Detector>) -> Result<Self> {
        let mut keywords: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        for (i, d) in detectors.iter().enumerate() {
            for k in &d.keywords {
                match keywords.iter().position(|x| x == k) {
                    Some(p) => owners[p].push(i),
                    None => {
                        keywords.push(k.clone());
                        owners.push(vec![i]);
                    }
                }
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            // A full DFA: one table lookup per byte. The overlapping walk over
            // every byte of every file is the hot loop of the whole pack, and
            // a few hundred keywords make a small DFA.
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .context("building the keyword automaton")?;
        Ok(Engine {
            detectors,
            ac,
            owners,
        })
    }

    /// Finds secrets in `text`. `path` is used for path allowlists.
    pub fn scan(&self, text: &[u8], path: &str, opts: &ScanOptions) -> Vec<Hit> {
        let mut windows: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.detectors.len()];
        let mut any = false;
        // Cache of the current line's bounds: most hits share a line.
        let mut line = (usize::MAX, 0usize, 0usize); // (probe, start, end)
        for m in self.ac.find_overlapping_iter(text) {
            let (ls, le) = if line.0 != usize::MAX && m.start() >= line.1 && m.end() <= line.2 {
                (line.1, line.2)
            } else {
                let ls = memchr::memrchr(b'\n', &text[..m.start()]).map_or(0, |i| i + 1);
                let le =
                    memchr::memchr(b'\n', &text[m.end()..]).map_or(text.len(), |i| m.end() + i);
                line = (m.start(), ls, le);
                (ls, le)
            };
            let ws = ls.max(m.start().saturating_sub(RADIUS));
            for &d in &self.owners[m.pattern().as_usize()] {
                let det = &self.detectors[d];
                let we = if det.multiline {
                    text.len().min(m.end() + MULTILINE_SPAN)
                } else if det.lines > 0 && ends_open(&text[ls..le]) {
                    // The keyword's line and the next `lines` lines.
                    let cap = text.len().min(le + RADIUS);
                    let mut end = le;
                    for _ in 0..det.lines {
                        if end >= cap {
                            break;
                        }
                        end =
                            memchr::memchr(b'\n', &text[end + 1..cap]).map_or(cap, |i| end + 1 + i);
                    }
                    end
                } else {
                    le.min(m.end() + RADIUS)
                };
                windows[d].push((ws, we));
                any = true;
            }
        }
        if !any {
            return Vec::new();
        }
        let mut hits = Vec::new();
        let mut seen = HashSet::new();
        // Bytes a specific detector claimed: generic heuristics stay away
        // from them even when the specific one rejected the value (a
        // look-alike GitHub token with a bad checksum is not a "generic key").
        let mut claimed: Vec<(usize, usize)> = Vec::new();
        for (d, mut wins) in windows.into_iter().enumerate() {
            if wins.is_empty() {
                continue;
            }
            let det = &self.detectors[d];
            if det.allow.path_allowed(path) || opts.user.is_some_and(|u| u.path_allowed(path)) {
                continue;
            }
            wins.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::with_capacity(wins.len());
            for (s, e) in wins {
                match merged.last_mut() {
                    Some(last) if s <= last.1 => last.1 = last.1.max(e),
                    _ => merged.push((s, e)),
                }
            }
            for (ws, we) in merged {
                let window = &text[ws..we];
                for caps in det.regex.captures_iter(window) {
                    let group = match det.secret_group {
                        Some(g) => caps.get(g),
                        None => (1..caps.len())
                            .filter(|g| !det.identifier_groups.contains(g))
                            .find_map(|g| caps.get(g))
                            .or_else(|| caps.get(0)),
                    };
                    let Some(g) = group else { continue };
                    let (start, end) = (ws + g.start(), ws + g.end());
                    if start == end || !seen.insert((d, start, end)) {
                        continue;
                    }
                    if !det.generic {
                        claimed.push((start, end));
                    }
                    let ident = det
                        .identifier_groups
                        .iter()
                        .find_map(|&g| caps.get(g))
                        .map(|m| m.as_bytes());
                    if self.keep(det, text, start, end, ident, opts) {
                        hits.push(Hit {
                            detector: d,
                            start,
                            end,
                        });
                    }
                }
            }
        }
        // Generic heuristics yield to a specific detector on the same bytes.
        hits.retain(|h| {
            !self.detectors[h.detector].generic
                || !claimed.iter().any(|&(s, e)| h.start < e && s < h.end)
        });
        hits.sort_by_key(|h| (h.start, h.detector));
        hits
    }

    fn keep(
        &self,
        det: &Detector,
        text: &[u8],
        start: usize,
        end: usize,
        ident: Option<&[u8]>,
        opts: &ScanOptions,
    ) -> bool {
        let secret = &text[start..end];
        // Identifier-dependent allowlists: what the value is assigned to
        // decides whether a hash-shaped value is a digest or a key.
        let explicit = match ident {
            Some(id) => {
                let id = id.to_ascii_lowercase();
                if det.identifier_allowlist.iter().any(|r| r.is_match(&id)) {
                    return false;
                }
                det.explicit_identifier
                    .as_ref()
                    .is_some_and(|r| r.is_match(&id))
            }
            None => false,
        };
        if !explicit && det.shape_allowlist.iter().any(|r| r.is_match(secret)) {
            return false;
        }
        if let Some(min) = det.entropy {
            if filters::entropy(secret) < min {
                return false;
            }
        }
        if det.checksum == Some(Checksum::Crc32Base62) && !filters::crc32_token_valid(secret) {
            return false;
        }
        let lower = String::from_utf8_lossy(secret).to_ascii_lowercase();
        if filters::is_placeholder(&lower) {
            return false;
        }
        if det.allow.secret_allowed(secret, &lower)
            || opts.user.is_some_and(|u| u.secret_allowed(secret, &lower))
        {
            return false;
        }
        !inline_allowed(text, start)
    }
}

/// A line whose value may continue on the next one: `key:` (YAML), an
/// opening tag `<apiToken>` or a shell `\` continuation at its end. Only
/// those lines widen a `lines:` detector's window.
fn ends_open(line: &[u8]) -> bool {
    matches!(
        line.iter().rev().find(|b| !b.is_ascii_whitespace()),
        Some(b':' | b'>' | b'\\')
    )
}

/// `shiplint:allow` or gitleaks' `gitleaks:allow` on the secret's line.
fn inline_allowed(text: &[u8], at: usize) -> bool {
    let ls = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
    let le = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
    let line = &text[ls..le];
    memchr::memmem::find(line, b"shiplint:allow").is_some()
        || memchr::memmem::find(line, b"gitleaks:allow").is_some()
}
