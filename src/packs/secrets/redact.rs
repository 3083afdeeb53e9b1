//! Redaction: the raw secret never leaves the pack. Findings carry a short
//! preview (first 4 characters + `…`), a SHA-256 of the value (the stable
//! identity used for fingerprints and baselines) and a snippet in which every
//! secret on the line is replaced by its preview.

use sha2::{Digest, Sha256};

/// First 4 characters and an ellipsis.
pub fn preview(secret: &[u8]) -> String {
    let s = String::from_utf8_lossy(secret);
    let head: String = s.chars().take(4).collect();
    format!("{head}…")
}

/// Hex SHA-256 of the raw value.
pub fn hash(secret: &[u8]) -> String {
    hex::encode(Sha256::digest(secret))
}

/// The text of the line holding byte `at`, with every secret range that
/// touches the line replaced: by its preview where the secret starts on this
/// line, by `…` where it continues from an earlier line.
pub fn redacted_line(text: &[u8], at: usize, secrets: &[(usize, usize)]) -> (usize, String) {
    let at = at.min(text.len());
    let ls = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
    let mut le = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
    if le > ls && text[le - 1] == b'\r' {
        le -= 1;
    }
    let mut ranges: Vec<(usize, usize, String)> = secrets
        .iter()
        .filter(|&&(s, e)| s < le.max(ls + 1) && e > ls)
        .map(|&(s, e)| {
            let rep = if s >= ls {
                preview(&text[s..e])
            } else {
                "…".to_string()
            };
            (s.max(ls), e.min(le), rep)
        })
        .collect();
    ranges.sort_by_key(|r| r.0);
    let mut out = Vec::with_capacity(le - ls);
    let mut pos = ls;
    for (s, e, rep) in ranges {
        if s < pos {
            // Overlapping ranges: extend the redaction, never reveal.
            pos = pos.max(e);
            continue;
        }
        out.extend_from_slice(&text[pos..s]);
        out.extend_from_slice(rep.as_bytes());
        pos = e;
    }
    if pos < le {
        out.extend_from_slice(&text[pos..le]);
    }
    let line = text[..ls].iter().filter(|&&b| b == b'\n').count() + 1;
    (line, String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_secret_on_the_line() {
        let text = b"a\nx = SECRETONE y = SECRETTWO\r\nz";
        let one = (6, 15);
        let two = (20, 29);
        let (line, red) = redacted_line(text, 6, &[one, two]);
        assert_eq!(line, 2);
        assert_eq!(red, "x = SECR… y = SECR…");
        assert!(!red.contains("SECRETONE"));
        assert_eq!(preview(b"ab"), "ab…");
        assert_eq!(hash(b"").len(), 64);
    }

    #[test]
    fn multiline_secret_continuation() {
        let text = b"k: BEGINxxxx\nyyyyEND\n";
        let (line, red) = redacted_line(text, 13, &[(3, 20)]);
        assert_eq!(line, 2);
        assert_eq!(red, "…");
    }
}
