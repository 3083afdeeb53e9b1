//! What the integration tests share: running the binary, reading its JSON
//! report, and git with a fixed identity. Each test crate uses a subset.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// The binary cargo built for these tests, run in `dir`, with a schema
/// cache of the tests' own (never the user's) and a timeout, so that a hang
/// fails the test instead of the CI job.
pub fn shiplint(dir: impl AsRef<Path>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shiplint"));
    c.current_dir(dir)
        .env(
            "SHIPLINT_CACHE_DIR",
            std::env::temp_dir().join("shiplint-test-cache"),
        )
        // A test decides itself whether its run is a pull request's.
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_BASE_REF")
        // Charts are rendered only where a test asks for Helm (tests/helm.rs):
        // a runner's own `helm` must not change other tests' findings.
        .env("SHIPLINT_HELM", "")
        // Likewise a runner's `kubectl` / `kustomize` (tests/kustomize.rs
        // names one where it wants it).
        .env("SHIPLINT_KUSTOMIZE", "")
        .timeout(Duration::from_secs(300));
    c
}

/// `scan` with the schema pack alone, no config, JSON on stdout.
pub const SCAN_SCHEMA_JSON: [&str; 6] = [
    "scan",
    "--no-config",
    "--packs",
    "schema",
    "--format",
    "json",
];

/// Runs `cmd` and reads stdout as JSON: (exit code, document). Panics with
/// stderr when the process was killed or stdout is not JSON.
pub fn json_output(cmd: &mut Command) -> (i32, Value) {
    let (code, json, _) = json_run(cmd);
    (code, json)
}

/// `json_output`, and stderr too.
pub fn json_run(cmd: &mut Command) -> (i32, Value, String) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed (timeout or signal); stderr: {stderr}"));
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}); exit {code}; stderr: {stderr}"));
    (code, json, stderr)
}

/// The findings of a JSON report.
pub fn findings(doc: &Value) -> &[Value] {
    doc["findings"].as_array().map_or(&[], Vec::as_slice)
}

/// (rule, line) of every finding, in report order.
pub fn rule_lines(doc: &Value) -> Vec<(String, u64)> {
    findings(doc)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Runs git in `dir` with a fixed identity and date; a failure fails the
/// test.
pub fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
        .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
