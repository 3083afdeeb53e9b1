//! The trust boundary (docs/security.md), attacked through the real binary:
//! a pull request's own `.shiplint.yaml` must never steer a pull-request
//! run, endpoint settings never come from a config file, and a config file
//! is never read through a link nor quoted in an error. Loopback servers
//! stand in for the LLM and for GitHub.

mod common;

use common::{findings, git, json_run, shiplint};
use serde_json::Value;
use std::path::Path;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const GOOD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n  a: b\n";
/// A fake AWS key pair the secrets pack reports as an error.
const LEAK: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  id: AKIAQYLPMN5HHHFPZAM2\n  key: \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKQ\"\n";
/// What a hostile pull request puts in its config.
const HOSTILE_CONFIG: &str =
    "packs: [schema, secrets]\nexclude: [\"**\"]\nrules:\n  secrets/*: off\nfail-on: never\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn head_sha(dir: &Path, rev: &str) -> String {
    let out = std::process::Command::new("git")
        .args(["rev-parse", rev])
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `main` with a healthy manifest and `base_config` (if any); `pr` checked
/// out, adding a leaked key and `pr_config` as `.shiplint.yaml`.
fn pr_repo(base_config: Option<&str>, pr_config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q"]);
    write(d, "k8s/ok.yaml", GOOD);
    if let Some(c) = base_config {
        write(d, ".shiplint.yaml", c);
    }
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "base"]);
    git(d, &["checkout", "-qb", "pr"]);
    write(d, "k8s/leak.yaml", LEAK);
    write(d, ".shiplint.yaml", pr_config);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "pr"]);
    dir
}

fn rules_of(doc: &Value) -> Vec<String> {
    findings(doc)
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Attack 2: the PR's config turns its own findings off. Under
/// `--diff-base` the base's config applies, the leak is an error and the
/// change is named.
#[test]
fn a_pr_config_cannot_switch_off_checks_under_diff_base() {
    let repo = pr_repo(Some("exclude: [\"vendor/**\"]\n"), HOSTILE_CONFIG);
    let (code, doc, stderr) = json_run(shiplint(repo.path()).args([
        "scan",
        "--diff-base",
        "main",
        "--format",
        "json",
        ".",
    ]));
    assert_eq!(code, 1, "{stderr}");
    let rules = rules_of(&doc);
    assert!(
        rules.iter().any(|r| r.starts_with("secrets/")),
        "the leak must be reported: {rules:?}"
    );
    let change: Vec<_> = findings(&doc)
        .iter()
        .filter(|f| f["rule"] == "config/pr-change")
        .collect();
    assert_eq!(change.len(), 1, "{rules:?}");
    let msg = change[0]["message"].as_str().unwrap();
    for said in [
        "turn off secrets/*",
        "stop running deprecations, practices",
        "exclude '**'",
        "fail on never",
    ] {
        assert!(msg.contains(said), "{said}: {msg}");
    }
    assert_eq!(change[0]["path"], ".shiplint.yaml");
    assert_eq!(change[0]["span"]["line"], 1);
    assert!(stderr.contains("config read from the base"), "{stderr}");
}

/// The Action's plain `scan` on a pull_request event is a PR run too: the
/// event's base commit is the trusted one.
#[test]
fn a_plain_scan_on_a_pull_request_event_reads_the_base_config() {
    let repo = pr_repo(None, HOSTILE_CONFIG);
    let base = head_sha(repo.path(), "main");
    let event = repo.path().join("../event.json");
    std::fs::write(
        &event,
        serde_json::json!({"pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": head_sha(repo.path(), "HEAD")}}})
            .to_string(),
    )
    .unwrap();
    let (code, doc, stderr) = json_run(
        shiplint(repo.path())
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &event)
            .args(["scan", "--format", "json", "."]),
    );
    assert_eq!(code, 1, "{stderr}");
    let rules = rules_of(&doc);
    assert!(rules.iter().any(|r| r.starts_with("secrets/")), "{rules:?}");
    assert!(rules.contains(&"config/pr-change".to_string()), "{rules:?}");
    // Without the event, the same tree is the developer's own: their config applies.
    let (code, doc, _) = json_run(shiplint(repo.path()).args(["scan", "--format", "json", "."]));
    assert_eq!(code, 0);
    assert!(findings(&doc).is_empty());
}

/// A clone without the base commit (actions/checkout's depth 1): the base's
/// config comes from the contents API at the event's base SHA; without it,
/// the PR's config is still never applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shallow_clone_reads_the_base_config_through_the_api() {
    let repo = pr_repo(None, HOSTILE_CONFIG);
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let event = repo.path().join("../event.json");
    std::fs::write(
        &event,
        serde_json::json!({"pull_request": {"number": 7, "base": {"sha": missing}, "head": {"sha": head_sha(repo.path(), "HEAD")}}})
            .to_string(),
    )
    .unwrap();
    let github = MockServer::start().await;
    use base64::Engine as _;
    let base_config = "rules:\n  practices/*: off\n";
    Mock::given(method("GET"))
        .and(path("/repos/acme/shop/contents/.shiplint.yaml"))
        .and(query_param("ref", missing))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "type": "file", "encoding": "base64",
            "content": base64::engine::general_purpose::STANDARD.encode(base_config),
        })))
        .mount(&github)
        .await;
    let run = |api: String, event: std::path::PathBuf, dir: std::path::PathBuf| {
        tokio::task::spawn_blocking(move || {
            json_run(
                shiplint(&dir)
                    .env("GITHUB_EVENT_NAME", "pull_request")
                    .env("GITHUB_EVENT_PATH", &event)
                    .env("GITHUB_REPOSITORY", "acme/shop")
                    .env("GITHUB_TOKEN", "ghs_test")
                    .env("GITHUB_API_URL", api)
                    .args(["scan", "--format", "json", "."]),
            )
        })
    };
    let (code, doc, stderr) = run(github.uri(), event.clone(), repo.path().to_path_buf())
        .await
        .unwrap();
    assert_eq!(code, 1, "{stderr}");
    let rules = rules_of(&doc);
    assert!(rules.iter().any(|r| r.starts_with("secrets/")), "{rules:?}");
    assert!(
        !rules.iter().any(|r| r.starts_with("practices/")),
        "the base's config (practices off) applies: {rules:?}"
    );
    assert!(rules.contains(&"config/pr-change".to_string()));

    // The API does not answer: defaults, a note, and still not the PR's config.
    let (code, doc, stderr) = run(
        "http://127.0.0.1:9".into(),
        event,
        repo.path().to_path_buf(),
    )
    .await
    .unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(rules_of(&doc).iter().any(|r| r.starts_with("secrets/")));
    assert!(
        stderr.contains(".shiplint.yaml was not applied"),
        "{stderr}"
    );
}

/// Attack 1: the PR's config points the review at its own server. Nothing
/// may reach that server, in a PR run or any other; in a non-PR run the
/// setting is a config error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_never_chooses_the_llm_endpoint() {
    let evil = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&evil)
        .await;
    let hostile = format!(
        "packs: [schema, review]\nreview:\n  base-url: {}/v1\n  max-chunks: 500\n",
        evil.uri()
    );
    let repo = pr_repo(None, &hostile);
    let dir = repo.path().to_path_buf();
    let base = head_sha(&dir, "main");
    let event = dir.join("../event.json");
    std::fs::write(
        &event,
        serde_json::json!({"pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": head_sha(&dir, "HEAD")}}})
            .to_string(),
    )
    .unwrap();
    let out = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            shiplint(&dir)
                .env("GITHUB_EVENT_NAME", "pull_request")
                .env("GITHUB_EVENT_PATH", &event)
                .env("OPENAI_API_KEY", "sk-maintainers-key-0000")
                .env_remove("OPENAI_BASE_URL")
                .env_remove("SHIPLINT_LLM_API_KEY")
                .args(["scan", "--format", "github", "--", "."])
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("config/pr-change"), "{stdout}");
    // Every other run: the setting is refused outright, with its line.
    let out = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            shiplint(&dir)
                .env("OPENAI_API_KEY", "sk-maintainers-key-0000")
                .env_remove("OPENAI_BASE_URL")
                .args(["scan", "."])
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 3: review.base-url is not read from a config file"),
        "{stderr}"
    );
    assert!(!stderr.contains(&evil.uri()), "{stderr}");
    let received = evil.received_requests().await.unwrap_or_default();
    assert!(
        received.is_empty(),
        "the PR's server got {} request(s)",
        received.len()
    );
}

/// Attack 8: `.shiplint.yaml` as a link to a credentials file outside the
/// repository. Refused, and the file's text appears nowhere.
#[test]
fn a_config_link_is_refused_and_never_quoted() {
    let outside = tempfile::tempdir().unwrap();
    let creds = outside.path().join("git-credentials");
    let secret = "https://bot:ghp_Zx81kQ0pLmN2bV4cX6zA9sD3fG5hJ7kL1qW3@github.com";
    std::fs::write(&creds, format!("{secret}\n")).unwrap();
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "ok.yaml", GOOD);
    std::os::unix::fs::symlink(&creds, repo.path().join(".shiplint.yaml")).unwrap();
    let out = shiplint(repo.path()).args(["scan", "."]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is a symbolic link: refused"), "{stderr}");
    assert!(!stderr.contains("ghp_"), "{stderr}");
    // Named explicitly, the link is refused as well.
    let out = shiplint(repo.path())
        .args(["scan", "--config", ".shiplint.yaml", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ghp_"));

    // A link committed at the base is refused in a PR run too.
    let d = repo.path();
    git(d, &["init", "-q"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "base"]);
    let out = shiplint(d)
        .args(["scan", "--diff-base", "HEAD", "."])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("symbolic link: refused"), "{stderr}");
    assert!(!stderr.contains("ghp_"), "{stderr}");
}

/// Config errors say where and what, never the value: a regular file that
/// is not a config (a pasted token, a netrc) must not be echoed.
#[test]
fn config_errors_never_quote_values() {
    let token = "ghp_Zx81kQ0pLmN2bV4cX6zA9sD3fG5hJ7kL1qW3";
    for text in [
        format!("{token}\n"),
        format!("{token}: 1\n"),
        format!("kubernetes-version: \"{token}\"\n"),
        format!("rules:\n  {token}: off\n"),
        format!("rules:\n  schema/invalid: {token}\n"),
        format!("packs: [{token}]\n"),
        format!("fail-on: {token}\n"),
        format!("review:\n  model: [\"{token}\"]\n"),
        format!("review:\n  {token}: 1\n"),
        format!("secrets:\n  allowlist:\n    regexes: [\"({token}\"]\n"),
        format!("practices:\n  require-digest: \"{token}\"\n"),
        format!("exclude: {{\"{token}\": 1}}\n"),
        format!("exclude: [\"{token}[\"]\n"),
        format!("secrets:\n  allowlist:\n    paths: [\"{token}[\"]\n"),
        format!("machine github.com login bot password {token}\n"),
    ] {
        let repo = tempfile::tempdir().unwrap();
        write(repo.path(), ".shiplint.yaml", &text);
        let out = shiplint(repo.path()).args(["scan", "."]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains("line "), "{text}: {stderr}");
        assert!(!stderr.contains("Zx81kQ0p"), "{text}: {stderr}");
    }
}
