//! Snapshot files for the output tests, in `tests/snapshots/` (committed).
//!
//! `assert_snapshot(name, text)` compares `text` with
//! `tests/snapshots/<name>.snap`. A missing snapshot is written (and the
//! test passes) unless `CI` is set, where it fails: new snapshots must be
//! committed. `SHIPLINT_UPDATE_SNAPSHOTS=1` (or `INSTA_UPDATE=always`)
//! rewrites changed ones. (The `insta` crate is not available offline in
//! this tree; the file format follows its `.snap` layout.)
#![allow(dead_code)]

use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

fn update_requested() -> bool {
    std::env::var("SHIPLINT_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1")
        || std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

const HEADER_END: &str = "\n---\n";

#[track_caller]
pub fn assert_snapshot(name: &str, source: &str, text: &str) {
    let path = dir().join(format!("{name}.snap"));
    let file = format!("---\nsource: {source}\nexpression: {name}{HEADER_END}{text}");
    match std::fs::read_to_string(&path) {
        Ok(old) => {
            let body = old.split_once(HEADER_END).map(|(_, b)| b).unwrap_or(&old);
            if body == text {
                return;
            }
            if update_requested() {
                std::fs::write(&path, file).unwrap();
                return;
            }
            let diff = similar::TextDiff::from_lines(body, text)
                .unified_diff()
                .header("snapshot", "now")
                .to_string();
            panic!(
                "snapshot {name} differs ({}); SHIPLINT_UPDATE_SNAPSHOTS=1 rewrites it:\n{diff}",
                path.display()
            );
        }
        Err(_) if in_ci() && !update_requested() => {
            panic!(
                "snapshot {name} is missing ({}): run the tests locally and commit it",
                path.display()
            )
        }
        Err(_) => {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, file).unwrap();
            eprintln!("wrote new snapshot {}", path.display());
        }
    }
}

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
