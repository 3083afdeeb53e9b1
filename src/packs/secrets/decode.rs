//! Credentials hidden in base64 — a Helm value, a CI variable, a Docker
//! `auth` — are found too: runs of the base64 alphabet are decoded and, when
//! the result is text, scanned with the same detectors. A hit points at the
//! encoded run, which is what the file shows and what must be redacted.
//! (Kubernetes Secret `data` is decoded by `kube.rs`, which knows the key.)

use super::engine::{Engine, ScanOptions};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// Fewer characters decode to under 18 bytes: too short to hold a
/// credential that a detector would take.
const MIN_RUN: usize = 24;

/// Longer runs are data (images, archives, certificates), not a credential
/// someone encoded; decoding them would only cost time.
const MAX_RUN: usize = 4096;

/// A detector's hit inside a decoded run.
pub struct EncodedHit {
    pub detector: usize,
    /// The encoded run in the scanned text.
    pub start: usize,
    pub end: usize,
    /// The secret itself, decoded (for the hash and the preview).
    pub secret: Vec<u8>,
}

impl Engine {
    /// Detector hits in the base64 runs of `text` that decode to text.
    pub fn scan_encoded(&self, text: &[u8], path: &str, opts: &ScanOptions) -> Vec<EncodedHit> {
        let mut out = Vec::new();
        for (start, end) in runs(text) {
            let run = &text[start..end];
            if run.len() > MAX_RUN || !may_decode_to_text(run) {
                continue;
            }
            let Some(decoded) = decode(run).filter(|d| is_text(d)) else {
                continue;
            };
            for h in self.scan(&decoded, path, opts) {
                out.push(EncodedHit {
                    detector: h.detector,
                    start,
                    end,
                    secret: decoded[h.start..h.end].to_vec(),
                });
            }
        }
        out
    }
}

/// The bytes of the standard and URL-safe base64 alphabets.
const ALPHABET: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] =
            matches!(b as u8, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'-' | b'_');
        b += 1;
    }
    t
};

/// (start, end) of every run of at least `MIN_RUN` alphabet bytes, with up
/// to two `=` of padding. This runs over every byte the secrets pack reads,
/// so it probes instead of walking: if the byte `MIN_RUN - 1` ahead is not in
/// the alphabet, no long run starts before it, and the probe jumps past it.
/// Ordinary text (words, paths, code) is mostly skipped this way.
fn runs(text: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let alpha = |i: usize| ALPHABET[text[i] as usize];
    // Invariant: `i == 0` or `text[i - 1]` is not in the alphabet.
    let mut i = 0;
    std::iter::from_fn(move || {
        while i + MIN_RUN <= text.len() {
            let probe = i + MIN_RUN - 1;
            if !alpha(probe) {
                i = probe + 1;
                continue;
            }
            // Where the alphabet run through the probe starts (not before i).
            let mut start = probe;
            while start > i && alpha(start - 1) {
                start -= 1;
            }
            if start > i {
                // Too short so far; `text[start - 1]` is not in the alphabet.
                i = start;
                continue;
            }
            let mut end = probe + 1;
            while end < text.len() && alpha(end) {
                end += 1;
            }
            let run_end = end;
            while end < text.len() && end - run_end < 2 && text[end] == b'=' {
                end += 1;
            }
            // Past the run and its padding; the next byte is not in the
            // alphabet (or is a third `=`), so the invariant holds.
            i = if end == run_end { end + 1 } else { end };
            return Some((start, end));
        }
        None
    })
}

/// Text as `is_text` takes it (printable ASCII 0x20–0x7e, tab, CR, LF) has
/// its top six bits in 8..=31 (or 2..=3 for the control characters), so the
/// first character of every 4-character group of its base64 is one of
/// `I`–`Z`, `a`–`f` (or `C`, `D`). Checking that costs nothing and rules out
/// almost every long identifier (`CONFIG_…`, `kube_…`) before decoding.
fn may_decode_to_text(run: &[u8]) -> bool {
    run.iter()
        .step_by(4)
        .all(|&c| matches!(c, b'I'..=b'Z' | b'a'..=b'f' | b'C' | b'D' | b'='))
}

/// The run decoded with the alphabet it uses; `None` if it is not base64.
fn decode(run: &[u8]) -> Option<Vec<u8>> {
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let url_safe = run.iter().any(|&b| b == b'-' || b == b'_');
    let standard = run.iter().any(|&b| b == b'+' || b == b'/');
    let alphabet = match (standard, url_safe) {
        (true, true) => return None,
        (_, true) => &base64::alphabet::URL_SAFE,
        _ => &base64::alphabet::STANDARD,
    };
    GeneralPurpose::new(alphabet, config).decode(run).ok()
}

/// Printable ASCII only (tabs and line breaks allowed): random bytes pass
/// this by chance about once in 10^8 for the shortest run, so identifiers,
/// hashes and binary data that happen to be valid base64 are left alone.
fn is_text(d: &[u8]) -> bool {
    d.len() >= 16
        && d.iter()
            .all(|&b| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn finds_an_encoded_token_and_points_at_the_run() {
        let engine = super::super::engine().unwrap();
        let token = "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";
        let text = format!("config:\n  github: {}\n", b64(token));
        let hits = engine.scan_encoded(text.as_bytes(), "values.yaml", &Default::default());
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        assert_eq!(engine.detectors[h.detector].rule.id, "secrets/github-pat");
        assert_eq!(&text[h.start..h.end], b64(token));
        assert_eq!(h.secret, token.as_bytes());
        // URL-safe and unpadded, inside a longer line.
        let url =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("token={token}??>>"));
        assert!(url.contains(['-', '_']), "{url}");
        let text = format!("X=\"{url}\"");
        assert_eq!(
            engine
                .scan_encoded(text.as_bytes(), "ci.env", &Default::default())
                .len(),
            1
        );
    }

    #[test]
    fn leaves_ordinary_long_words_alone() {
        let engine = super::super::engine().unwrap();
        for text in [
            "CONFIG_NETFILTER_XT_MATCH_CONNTRACK_HELPER=y",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bea4f1b4d1c2ef6a1b4bd1f5f3e2a1",
            "/usr/lib/x86_64-linux-gnu/libstdcplusplus/include",
            "aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGEgc2VjcmV0IGF0IGFsbA==", // prose
        ] {
            assert!(
                engine
                    .scan_encoded(text.as_bytes(), "x", &Default::default())
                    .is_empty(),
                "{text}"
            );
        }
        assert!(decode(b"abc+def_ghijklmnopqrstuvwxyz").is_none());
        // The quick check passes everything `is_text` would: a line break
        // or tab that starts a 3-byte group included.
        for t in [
            "abc\ndefghijklmnopqrstu",
            "abc\tdefghijklmnopqrstu",
            "abc\r\ndefghijklmnopqrs",
        ] {
            assert!(may_decode_to_text(b64(t).as_bytes()), "{t:?}");
        }
        fn runs_of(t: &str) -> Vec<String> {
            runs(t.as_bytes())
                .map(|(s, e)| t[s..e].to_string())
                .collect()
        }
        let long = "abcdefghijklmnopqrstuvwxyz0123";
        assert_eq!(runs_of(&format!("x = {long}==; y")), [format!("{long}==")]);
        assert_eq!(
            runs_of(&format!("{long}\n{long}===")),
            [long.to_string(), format!("{long}==")]
        );
        assert!(runs_of("short words, paths/like/this and_identifiers").is_empty());
        assert!(runs_of(&long[..23]).is_empty());
        assert_eq!(runs_of(&long[..24]), [&long[..24]]);
        assert!(!is_text(&[
            0x89, b'P', b'N', b'G', 0, 0, 0, 13, 1, 2, 3, 4, 5, 6, 7, 8
        ]));
    }
}
