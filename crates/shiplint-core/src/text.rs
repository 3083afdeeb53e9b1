//! Small text helpers every layer uses (counts in words, invisible
//! characters, short hashes). They depend on nothing else in the crate.

use regex::Regex;
use sha2::{Digest, Sha256};

/// `1 file`, `2 files`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Control (Cc) and format (Cf) characters: zero-width, bidi overrides, BOM…
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}'
            | '\u{890}'..='\u{891}' | '\u{8E2}' | '\u{180E}'
            | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// The first 12 hex digits of a SHA-256.
pub fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..6])
}

/// Text on one line, at most `max` characters (an ellipsis says it was cut):
/// for quoting untrusted text (a rule, a message) inside a finding.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !is_invisible(*c))
        .collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A regex written in the source. Every caller passes a literal that the
/// tests compile, so failing here is a bug in shiplint, not in its input.
pub fn constant_regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a constant regex compiles")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_counts() {
        assert_eq!(plural(1, "file"), "1 file");
        assert_eq!(plural(0, "file"), "0 files");
        assert_eq!(short_hash("x").len(), 12);
        assert!(is_invisible('\u{202E}') && !is_invisible('a'));
        assert_eq!(one_line("a\n  b\u{202E}", 10), "a b");
        assert_eq!(one_line("abcdef", 4), "abc…");
    }
}
