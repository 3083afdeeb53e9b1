//! `scan --shard i/n`: the union of n shards is the unsharded run, with
//! nothing lost and nothing doubled (fingerprints are the identity).
//!
//! tests/fixtures/shard spreads related objects over files so that most
//! cross-object findings need another shard's file: a CRD (crds/) and its
//! custom resources (custom/widgets.yaml, one invalid), Deployments, their
//! Services (one selects nothing), HPAs (one targets a missing Deployment)
//! and PDBs (web has one, worker none) in five files, a ConfigMap twice in
//! one file and again in another, a removed API, secrets in an .env file and
//! in a Secret, and source-like files for the secrets pack.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shard");

fn shiplint() -> Command {
    common::shiplint(DIR)
}

fn scan(extra: &[&str]) -> Value {
    let out = shiplint()
        .args([
            "scan",
            ".",
            "--no-config",
            "-f",
            "json",
            "--fail-on",
            "never",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Not a terminal: no progress bar, no stray output on stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("files ("),
        "progress bar on a pipe: {stderr}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// fingerprint → (rule, path)
fn findings(doc: &Value) -> Vec<(String, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["fingerprint"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_union_of_the_shards_is_the_whole_run() {
    let whole = findings(&scan(&[]));
    let rules: Vec<&str> = whole.iter().map(|(_, r, _)| r.as_str()).collect();
    // The fixture exercises what sharding could break.
    for want in [
        "schema/invalid",                      // Widget `bad` needs the CRD from crds/
        "practices/duplicate-object",          // twice in dup/a.yaml (once more in b.yaml)
        "practices/service-selector-no-match", // Service ghost
        "practices/hpa-target-missing",        // HPA api
        "practices/pdb-missing",               // worker; web's PDB is in web/pdb.yaml
    ] {
        assert!(rules.contains(&want), "missing {want} in {whole:#?}");
    }
    assert!(rules.iter().any(|r| r.starts_with("secrets/")), "{rules:?}");
    assert!(
        rules.iter().any(|r| r.starts_with("deprecations/")),
        "{rules:?}"
    );
    assert!(
        !rules.contains(&"schema/missing-schema"),
        "the CRD should cover the Widgets: {whole:#?}"
    );
    let whole_map: BTreeMap<String, (String, String)> = whole
        .iter()
        .map(|(fp, r, p)| (fp.clone(), (r.clone(), p.clone())))
        .collect();
    assert_eq!(whole_map.len(), whole.len(), "fingerprints are unique");

    for n in [1u32, 2, 3, 5] {
        let mut union: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut total = 0;
        let mut files = 0;
        for i in 1..=n {
            let shard = format!("{i}/{n}");
            let doc = scan(&["--shard", &shard]);
            assert_eq!(doc["properties"]["shard"], shard.as_str());
            files += doc["summary"]["files"].as_u64().unwrap();
            for (fp, r, p) in findings(&doc) {
                total += 1;
                let prev = union.insert(fp.clone(), (r.clone(), p.clone()));
                assert!(prev.is_none(), "{r} on {p} reported twice with n={n}");
            }
        }
        assert_eq!(total, whole.len(), "n={n}");
        assert_eq!(union, whole_map, "n={n}");
        assert_eq!(files, 19, "every file scanned by exactly one shard (n={n})");
    }
}

#[test]
fn bad_shards_exit_2_with_a_message() {
    for bad in ["0/2", "3/2", "1/0", "2", "x/y"] {
        let out = shiplint()
            .args(["scan", ".", "--no-config", "--shard", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("expected i/n"), "{bad}: {err}");
    }
}

#[test]
fn sarif_names_the_shard() {
    let out = shiplint()
        .args([
            "scan",
            ".",
            "--no-config",
            "-f",
            "sarif",
            "--fail-on",
            "never",
            "--shard",
            "2/3",
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["properties"]["shard"], "2/3");
    assert_eq!(run["automationDetails"]["id"], "shiplint-shard-2/");
}

/// On a terminal, the per-file phase shows a progress bar on stderr (the
/// pipes of every other test show that it stays silent in CI). `script`
/// (util-linux, in every Debian) gives the run a pseudo-terminal.
#[cfg(target_os = "linux")]
#[test]
fn a_terminal_gets_a_progress_bar() {
    let bin = env!("CARGO_BIN_EXE_shiplint");
    let cmd = format!("{bin} scan . --no-config -f json -o /dev/null --fail-on never");
    let out = std::process::Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .current_dir(DIR)
        .env(
            "SHIPLINT_CACHE_DIR",
            std::env::temp_dir().join("shiplint-test-cache"),
        )
        .output()
        .expect("script(1) from util-linux");
    assert!(out.status.success(), "{out:?}");
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains(" files ("), "{tty}");
    // Cleared at the end: the last thing on the terminal erases the line.
    assert!(tty.trim_end().ends_with("\u{1b}[2K"), "{tty:?}");
}
