//! Redactions shared by the snapshot tests (`tests/output.rs`,
//! `tests/github.rs`; the snapshots themselves are insta's).
#![allow(dead_code)]

/// Replaces what changes between runs and releases: the version, durations,
/// 32-hex fingerprints, 40-hex SHAs and 7-hex short SHAs after `at `/`for `.
pub fn redact(text: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let mut s = text.replace(&format!("\"{version}\""), "\"[version]\"");
    s = s.replace(&format!("shiplint {version}"), "shiplint [version]");
    let rules: [(&str, &str); 4] = [
        (r#""durationMs": \d+"#, r#""durationMs": "[duration]""#),
        (r#"time="[0-9.]+""#, r#"time="[duration]""#),
        (r"\b[0-9a-f]{40}\b", "[sha]"),
        (r"\b[0-9a-f]{32}\b", "[fingerprint]"),
    ];
    for (re, with) in rules {
        s = regex::Regex::new(re)
            .unwrap()
            .replace_all(&s, with)
            .into_owned();
    }
    s
}
