//! End-to-end tests of the `secrets` pack through the real binary: redaction
//! in every output format, Kubernetes Secrets, git modes and baselines.

mod common;

use common::{findings, git, json_output, shiplint};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const GHP: &str = "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";
const NPM: &str = "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";
const STRIPE: &str = "sk_live_0123456789abcdefghijKLMN";
const STRIPE2: &str = "sk_live_9876543210abcdefghijKLMN";
const AWS: &str = "AKIADEFGHIJKLMNOPQRS";
const DB_PASSWORD: &str = "Zq8rT5vW2xY7nB4m";
const SLACK: &str = "0123456789abcdefghijklmn";
const SSH_BODY: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/";
const STRIPE_B64: &str = "c2tfbGl2ZV8wMTIzNDU2Nzg5YWJjZGVmZ2hpaktMTU4=";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/secrets")
}

/// Runs `scan --packs secrets -f json ARGS` in `dir`; returns (exit code, findings).
fn scan_json(dir: &Path, args: &[&str]) -> (i32, Vec<Value>) {
    let (code, v) = json_output(
        shiplint(dir)
            .args(["scan", "--packs", "secrets", "--no-config", "-f", "json"])
            .args(args),
    );
    (code, findings(&v).to_vec())
}

fn rules_of(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn repo() -> TempDir {
    let t = TempDir::new().unwrap();
    git(t.path(), &["init", "-q"]);
    t
}

/// `scan --packs secrets .` in `dir` as text, JSON and SARIF: (format, exit
/// code, stdout and stderr together), for the redaction checks.
fn every_format(dir: &Path) -> Vec<(&'static str, Option<i32>, String)> {
    ["text", "json", "sarif"]
        .into_iter()
        .map(|format| {
            let out = shiplint(dir)
                .args([
                    "scan",
                    "--packs",
                    "secrets",
                    "--no-config",
                    "-f",
                    format,
                    ".",
                ])
                .output()
                .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (format, out.status.code(), all)
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn raw_secrets_appear_in_no_output_format() {
    let dir = fixtures();
    let raw = [
        GHP,
        NPM,
        STRIPE,
        AWS,
        DB_PASSWORD,
        SLACK,
        SSH_BODY,
        STRIPE_B64,
    ];
    for (format, code, all) in every_format(&dir) {
        assert_eq!(code, Some(1), "{format}: findings fail the run");
        for r in raw {
            assert!(!all.contains(r), "{format} output leaks {r}");
        }
        assert!(all.contains("ghp_…"), "{format}: redacted preview shown");
    }
    let (_, findings) = scan_json(&dir, &["leaky"]);
    let rules = rules_of(&findings);
    for want in [
        "secrets/github-pat",
        "secrets/npm-access-token",
        "secrets/stripe-secret-key",
        "secrets/aws-access-key-id",
        "secrets/postgres-url-password",
        "secrets/slack-webhook-url",
        "secrets/private-key-openssh",
    ] {
        assert!(
            rules.contains(&want.to_string()),
            "missing {want}: {rules:?}"
        );
    }
    // Look-alikes: bad checksum, AWS doc key, ${VAR}.
    assert_eq!(findings.len(), 7, "{rules:?}");
    for f in &findings {
        assert_eq!(f["properties"]["secretHash"].as_str().unwrap().len(), 64);
    }
}

#[test]
fn kubernetes_secret_values_and_decoded_data() {
    let (_, findings) = scan_json(&fixtures(), &["k8s"]);
    let mut got: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let want = vec![
        ("secrets/k8s-secret-committed".to_string(), 8),
        ("secrets/k8s-secret-committed".to_string(), 9),
        ("secrets/k8s-secret-committed".to_string(), 13),
        ("secrets/stripe-secret-key".to_string(), 13),
    ];
    assert_eq!(got, want);
    let decoded = findings
        .iter()
        .find(|f| f["rule"] == "secrets/stripe-secret-key")
        .unwrap();
    assert_eq!(decoded["properties"]["decoded"], "base64");
    assert_eq!(decoded["snippet"]["text"], "  stripe: sk_l…");
}

#[test]
fn staged_mode_scans_the_index_version() {
    let t = repo();
    let d = t.path();
    write(d, "README.md", "hello\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "init"]);
    write(d, "app.env", &format!("A=1\nB=2\nSTRIPE={STRIPE}\n"));
    git(d, &["add", "app.env"]);
    // The working tree no longer has the secret; the index does.
    write(d, "app.env", "A=1\n");
    let (code, findings) = scan_json(d, &["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(rules_of(&findings), vec!["secrets/stripe-secret-key"]);
    assert_eq!(findings[0]["span"]["line"], 3);
    assert_eq!(findings[0]["path"], "app.env");
    // Working-tree scan sees nothing.
    let (code, findings) = scan_json(d, &[]);
    assert_eq!((code, findings.len()), (0, 0));
}

#[test]
fn staged_outside_git_is_a_clear_error() {
    let t = TempDir::new().unwrap();
    let out = shiplint(t.path())
        .args(["scan", "--packs", "secrets", "--staged"])
        .env("GIT_CEILING_DIRECTORIES", t.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--staged needs a git repository"), "{err}");
}

#[test]
fn diff_base_reports_only_added_lines() {
    let t = repo();
    let d = t.path();
    write(d, "app.env", &format!("OLD={STRIPE}\n"));
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "base"]);
    git(d, &["checkout", "-qb", "feature"]);
    write(d, "app.env", &format!("OLD={STRIPE}\nX=1\nNEW={STRIPE2}\n"));
    write(d, "other.env", &format!("TOKEN={GHP}\n"));
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "feature"]);
    let (_, findings) = scan_json(d, &["--diff-base", "main"]);
    let mut got: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![("app.env".into(), 3), ("other.env".into(), 1)]);
    // Unknown revisions are errors.
    let out = shiplint(d)
        .args(["scan", "--packs", "secrets", "--diff-base", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn history_reports_each_secret_once_at_its_first_commit() {
    let t = repo();
    let d = t.path();
    write(d, "a.env", &format!("K={STRIPE}\n"));
    git(d, &["add", "."]);
    git(d, &["commit", "-qm", "add secret"]);
    let first = git_out(d, &["rev-parse", "HEAD"]);
    write(d, "a.env", &format!("K={STRIPE}\nOTHER=1\n"));
    git(d, &["commit", "-qam", "unrelated"]);
    write(d, "a.env", "OTHER=1\n");
    git(d, &["commit", "-qam", "remove secret"]);
    write(d, "a.env", &format!("OTHER=1\nK={STRIPE}\n"));
    git(d, &["commit", "-qam", "re-add the same secret"]);
    let last = git_out(d, &["rev-parse", "HEAD"]);
    // The working tree has it too, but history mode reads commits.
    let (_, findings) = scan_json(d, &["--history"]);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["rule"], "secrets/stripe-secret-key");
    assert_eq!(f["path"], "a.env");
    assert_eq!(f["span"]["line"], 1);
    assert_eq!(f["properties"]["commit"], first.as_str());
    assert_eq!(f["properties"]["authorDate"], "2024-01-02T03:04:05Z");
    // After the first commit, the re-introduction is the first sighting.
    let (_, findings) = scan_json(d, &["--history", "--since", &first]);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["properties"]["commit"], last.as_str());
    assert_eq!(findings[0]["span"]["line"], 2);
}

#[test]
fn baseline_hides_known_findings_and_shows_new_ones() {
    let t = TempDir::new().unwrap();
    let d = t.path();
    write(d, "app.env", &format!("STRIPE={STRIPE}\nGH={GHP}\n"));
    let out = shiplint(d)
        .args(["baseline", "create", "--packs", "secrets", "--no-config"])
        .args(["--output", "known.json", "app.env"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = std::fs::read_to_string(d.join("known.json")).unwrap();
    assert!(!file.contains(STRIPE) && !file.contains(GHP));
    let (code, findings) = scan_json(d, &["--baseline", "known.json", "app.env"]);
    assert_eq!((code, findings.len()), (0, 0));
    // Moving lines keeps the fingerprints; a new secret is reported alone.
    write(
        d,
        "app.env",
        &format!("# moved\nGH={GHP}\nSTRIPE={STRIPE}\nNEW={STRIPE2}\n"),
    );
    let (code, findings) = scan_json(d, &["--baseline", "known.json", "app.env"]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["span"]["line"], 4);
    // `update` adds it.
    shiplint(d)
        .args(["baseline", "update", "--packs", "secrets", "--no-config"])
        .args(["--output", "known.json", "app.env"])
        .assert()
        .success();
    let (code, findings) = scan_json(d, &["--baseline", "known.json", "app.env"]);
    assert_eq!((code, findings.len()), (0, 0));
}

#[test]
fn config_allowlist_paths_regexes_and_stopwords() {
    let t = TempDir::new().unwrap();
    let d = t.path();
    std::fs::create_dir(d.join("testdata")).unwrap();
    write(d, "testdata/a.env", &format!("K={STRIPE}\n"));
    write(d, "b.env", &format!("K={STRIPE2}\nGH={GHP}\n"));
    write(
        d,
        ".shiplint.yaml",
        "packs: [secrets]\nsecrets:\n  allowlist:\n    paths: ['testdata/**']\n    regexes: ['^sk_live_9876']\n    stopwords: ['ghij4us3']\n",
    );
    let out = shiplint(d)
        .args(["scan", "-f", "json", "."])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(out.status.code(), Some(0));
    // Unknown keys in the section are rejected.
    write(d, ".shiplint.yaml", "secrets:\n  allowlst: {}\n");
    let out = shiplint(d).args(["scan", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn other_packs_findings_on_a_secret_line_show_the_redacted_line() {
    let dir = fixtures();
    for format in ["text", "json", "sarif"] {
        let out = shiplint(&dir)
            .args(["scan", "--no-config", "-f", format, "mixed"])
            .output()
            .unwrap();
        let all = String::from_utf8_lossy(&out.stdout);
        assert!(all.contains("schema/invalid"), "{format}: {all}");
        assert!(all.contains("secrets/stripe-secret-key"), "{format}");
        assert!(!all.contains(STRIPE), "{format} output leaks the secret");
    }
}

/// A credential someone base64-encoded (a Helm value, a CI variable) is
/// found, reported on the encoded run, and neither form reaches any output.
/// In a Kubernetes Secret's `data`, where kube.rs already decodes the value,
/// it is not reported twice.
#[test]
fn base64_encoded_secrets_are_found_and_never_shown() {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(GHP);
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "values.yaml",
        &format!("image: web\ngithub:\n  token: {encoded}\n"),
    );
    write(
        dir.path(),
        "secret.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gh\ndata:\n  token: {encoded}\n"
        ),
    );
    let (code, findings) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    let got: Vec<(String, String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("secret.yaml".into(), "secrets/github-pat".into(), 6),
            (
                "secret.yaml".into(),
                "secrets/k8s-secret-committed".into(),
                6
            ),
            ("values.yaml".into(), "secrets/github-pat".into(), 3),
        ]
    );
    let values = &findings[2];
    assert_eq!(values["properties"]["encoding"], "base64");
    assert!(values["message"]
        .as_str()
        .unwrap()
        .contains("base64-encoded, ghp_…"));
    for (format, _, all) in every_format(dir.path()) {
        assert!(!all.contains(GHP), "{format} leaks the token");
        assert!(
            !all.contains(&encoded[..12]),
            "{format} leaks the encoded token"
        );
    }
}

/// Secrets kept the GitOps way are safe to commit by design: SOPS values
/// (`ENC[AES256_GCM,…]`) and Sealed Secrets' `encryptedData` are never
/// findings, while a plain Secret beside them still is.
#[test]
fn sops_and_sealed_secrets_are_not_findings() {
    let dir = format!(
        "{}/tests/fixtures/gitops-secrets",
        env!("CARGO_MANIFEST_DIR")
    );
    let (code, doc) = common::json_output(common::shiplint(&dir).args([
        "scan",
        "--no-config",
        "--packs",
        "secrets",
        "--format",
        "json",
        ".",
    ]));
    assert_eq!(code, 1);
    let found: Vec<(String, String, u64)> = common::findings(&doc)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![(
            "secrets/k8s-secret-committed".to_string(),
            "plain-secret.yaml".to_string(),
            7
        )]
    );
}

#[test]
fn tokens_split_over_yaml_lines_are_found_and_redacted() {
    let dir = TempDir::new().unwrap();
    // GHP split by a folded block scalar; a Stripe key continued with `\`.
    let (a, b) = GHP.split_at(20);
    let (c, d) = STRIPE.split_at(14);
    write(
        dir.path(),
        "values.yaml",
        &format!("env:\n  GITHUB_TOKEN: >-\n    {a}\n    {b}\nstripe:\n  key: \"{c}\\\n    {d}\"\nnote: >\n  two words\n  more words\n"),
    );
    let (code, findings) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let got: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("secrets/github-pat".to_string(), 2),
            ("secrets/stripe-secret-key".to_string(), 6),
        ]
    );
    let all = serde_json::to_string(&findings).unwrap();
    assert!(!all.contains(GHP) && !all.contains(STRIPE));
    assert_eq!(findings[0]["properties"]["folded"], "yaml");
    assert_eq!(findings[0]["snippet"]["text"], "GITHUB_TOKEN: ghp_…");
}

#[test]
fn a_committed_secret_weighs_by_what_it_holds() {
    let dir = TempDir::new().unwrap();
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    write(
        dir.path(),
        "secret.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: {}\n  grafana.ini: {}\n",
            b64(DB_PASSWORD),
            b64("[date_formats]\ndefault_timezone = UTC\n")
        ),
    );
    let (code, findings) = scan_json(dir.path(), &[]);
    // The real password fails the run; the configuration is only a note.
    assert_eq!(code, 1);
    let level = |line: u64| {
        findings
            .iter()
            .filter(|f| f["span"]["line"] == line)
            .map(|f| f["severity"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(level(6), vec!["error"], "{findings:?}");
    assert_eq!(level(7), vec!["note"], "{findings:?}");
}

#[test]
fn credential_urls_headers_and_explicit_names() {
    let dir = TempDir::new().unwrap();
    let hex64 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    write(
        dir.path(),
        "app.env",
        &format!(
            "REMOTE=https://deploy:{DB_PASSWORD}@git.internal.example/org/repo.git\n\
             X_API_KEY={hex64}\n\
             CACHE_KEY={hex64}\n\
             TOKEN_URL=https://oauth2.example.org/token\n\
             GOOGLE_APPLICATION_CREDENTIALS=creds.json\n"
        ),
    );
    write(
        dir.path(),
        "call.sh",
        &format!("curl -H \"Authorization: token {hex64}\" https://api.example.org\n"),
    );
    let (_, findings) = scan_json(dir.path(), &[]);
    let mut got: Vec<(String, String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let want = vec![
        ("app.env".into(), "secrets/generic-api-key".into(), 2),
        ("app.env".into(), "secrets/url-password".into(), 1),
        ("call.sh".into(), "secrets/http-header-credential".into(), 1),
    ];
    assert_eq!(got, want);
    let all = serde_json::to_string(&findings).unwrap();
    assert!(!all.contains(hex64) && !all.contains(DB_PASSWORD));
}
