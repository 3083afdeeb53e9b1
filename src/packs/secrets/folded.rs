//! Values YAML spreads over several lines: block scalars (`key: >-` and
//! `key: |`) whose lines hold one token cut for width, and double-quoted
//! strings continued with a trailing `\\`. The detectors see each line on its
//! own, so a token split this way is only found in the joined value, which
//! is scanned as `key: <joined>` and reported on the value's lines.

use super::engine::{Engine, Hit, ScanOptions};
use super::redact;
use crate::finding::{Finding, Snippet};
use crate::source::{LineIndex, SourceFile};

/// A value written over several lines: byte range in the file, the key's
/// line text up to the value, and the joined value.
#[derive(Debug, PartialEq, Eq)]
pub struct Folded {
    pub start: usize,
    pub end: usize,
    pub key: String,
    pub joined: String,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Multi-line values of a YAML text whose joined form has no spaces (a
/// token, not prose).
pub fn values(text: &str) -> Vec<Folded> {
    let mut starts = vec![0usize];
    starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
    let lines: Vec<&str> = starts
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let e = starts.get(i + 1).map_or(text.len(), |&n| n - 1);
            text[s..e].trim_end_matches('\r')
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let Some(colon) = line
            .find(": ")
            .or_else(|| line.ends_with(':').then(|| line.len() - 1))
        else {
            i += 1;
            continue;
        };
        let key = &line[..colon];
        let rest = line[colon + 1..].trim();
        let mut parts: Vec<&str> = Vec::new();
        let mut last = i;
        if matches!(rest, ">" | ">-" | ">+" | "|" | "|-" | "|+") {
            let base = indent(line);
            let mut j = i + 1;
            while j < lines.len() && (lines[j].trim().is_empty() || indent(lines[j]) > base) {
                if !lines[j].trim().is_empty() {
                    parts.push(lines[j].trim());
                    last = j;
                }
                j += 1;
            }
        } else if let Some(body) = rest.strip_prefix('"') {
            // `"abc\` + next line `def"`: an escaped line break joins with
            // nothing in between.
            if body.ends_with('\\') && !body[..body.len() - 1].contains('"') {
                parts.push(&body[..body.len() - 1]);
                let mut j = i + 1;
                while j < lines.len() {
                    let t = lines[j].trim();
                    last = j;
                    if let Some(p) = t.strip_suffix('\\') {
                        parts.push(p);
                        j += 1;
                        continue;
                    }
                    parts.push(t.split('"').next().unwrap_or(t));
                    break;
                }
            }
        }
        if parts.len() >= 2 && parts.iter().all(|p| !p.contains(char::is_whitespace)) {
            let joined: String = parts.concat();
            out.push(Folded {
                start: starts[i],
                end: starts[last] + lines[last].len(),
                key: key.trim().to_string(),
                joined,
            });
            i = last + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Findings for secrets that only the joined value shows.
pub fn scan(
    engine: &Engine,
    file: &SourceFile,
    opts: &ScanOptions,
    hits: &[Hit],
    out: &mut Vec<Finding>,
) {
    let path = file.path.to_ascii_lowercase();
    if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
        return;
    }
    let bytes = file.text.as_bytes();
    // Cheap test first: no block scalar indicator or escaped line break.
    if memchr::memmem::find(bytes, b": >").is_none()
        && memchr::memmem::find(bytes, b": |").is_none()
        && memchr::memmem::find(bytes, b"\\\n").is_none()
    {
        return;
    }
    let mut index = None;
    for v in values(&file.text) {
        // Already reported on one of its lines.
        if hits.iter().any(|h| h.start < v.end && v.start < h.end) {
            continue;
        }
        let synthetic = format!("{}: {}", v.key, v.joined);
        let found = engine.scan(synthetic.as_bytes(), &file.path, opts);
        let Some(hit) = found.iter().min_by_key(|h| h.detector) else {
            continue;
        };
        let det = &engine.detectors[hit.detector];
        let secret = &synthetic.as_bytes()[hit.start..hit.end];
        let hash = redact::hash(secret);
        let preview = redact::preview(secret);
        let index = index.get_or_insert_with(|| LineIndex::new(&file.text));
        let span = index.span(v.start, v.end);
        let mut f = Finding::from_rule(
            det.rule,
            &file.path,
            span,
            format!(
                "{} ({preview}, written over several lines)",
                det.description
            ),
        )
        .with_key(format!("sha256:{hash}"))
        .with_property("secretHash", hash)
        .with_property("redacted", preview.clone())
        .with_property("detector", det.id.clone())
        .with_property("folded", "yaml");
        f.snippet = Some(Snippet {
            line: span.line,
            text: format!("{}: {preview}", v.key),
        });
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_block_scalars_and_escaped_line_breaks() {
        let text = "env:\n  TOKEN: >-\n    abc\n    def\n  other: 1\nk: \"ghi\\\n    jkl\"\nprose: >\n  two words\n  more words\n";
        let v = values(text);
        assert_eq!(v.len(), 2, "{v:?}");
        assert_eq!(
            (v[0].key.as_str(), v[0].joined.as_str()),
            ("TOKEN", "abcdef")
        );
        assert_eq!(&text[v[0].start..v[0].end], "  TOKEN: >-\n    abc\n    def");
        assert_eq!((v[1].key.as_str(), v[1].joined.as_str()), ("k", "ghijkl"));
    }
}
