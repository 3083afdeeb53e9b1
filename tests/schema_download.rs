//! `--schema-location` over HTTP: templates rendered, 404 = no schema,
//! downloads cached on disk (a second run works with the server gone),
//! and a server that never answers times out instead of hanging.

mod common;

use assert_cmd::Command;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const SCHEMA: &str = r#"{"type": "object", "required": ["spec"], "properties": {
  "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
  "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}"#;

/// Serves `/schemas/widget-example-v1.json`; 404 for anything else.
fn serve(requests: Arc<AtomicUsize>) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(2) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            requests.fetch_add(1, Ordering::SeqCst);
            let (status, body) = if first.contains("/schemas/widget-example-v1.json") {
                ("200 OK", SCHEMA)
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{addr}"), handle)
}

fn manifests(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let good = dir.join("good.yaml");
    std::fs::write(
        &good,
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n",
    )
    .unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n",
    )
    .unwrap();
    (good, bad)
}

#[test]
fn downloads_are_validated_and_cached() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (good, bad) = manifests(dir.path());
    let requests = Arc::new(AtomicUsize::new(0));
    let (base, server) = serve(requests.clone());
    let template = format!("{base}/schemas/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json");
    let run = |file: &std::path::Path| {
        Command::cargo_bin("shiplint")
            .unwrap()
            .env("SHIPLINT_CACHE_DIR", &cache)
            .args([
                "scan",
                "--no-config",
                "--packs",
                "schema",
                "--http-timeout",
                "5",
                "--schema-location",
                &template,
            ])
            .arg(file)
            .output()
            .unwrap()
    };
    assert_eq!(run(&good).status.code(), Some(0));
    // The second run is served from the cache: the server has gone.
    let out = run(&bad);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("spec.size must be an integer"));
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    // A location that 404s means "no schema here".
    let missing = format!("{base}/nothing/{{{{ .ResourceKind }}}}.json");
    let out = Command::cargo_bin("shiplint")
        .unwrap()
        .env("SHIPLINT_CACHE_DIR", &cache)
        .args(common::SCAN_SCHEMA_JSON)
        .args(["--schema-location", &missing])
        .arg(&good)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["findings"][0]["rule"], "schema/missing-schema",
        "{json:#}"
    );
    server.join().unwrap();
}

#[test]
fn a_silent_server_times_out_with_a_clear_finding() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept and never answer.
    let _keep = std::thread::spawn(move || {
        let conns: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(std::time::Duration::from_secs(30));
        drop(conns);
    });
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = manifests(dir.path());
    let started = std::time::Instant::now();
    let out = Command::cargo_bin("shiplint")
        .unwrap()
        .env("SHIPLINT_CACHE_DIR", dir.path().join("cache"))
        .args(common::SCAN_SCHEMA_JSON)
        .args(["--http-timeout", "1"])
        .args([
            "--schema-location",
            &format!("http://{addr}/{{{{ .ResourceKind }}}}.json"),
        ])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(12),
        "the 1 s timeout did not hold"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["findings"][0]["rule"], "schema/schema-unavailable",
        "{json:#}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn plain_http_to_other_hosts_is_refused() {
    Command::cargo_bin("shiplint")
        .unwrap()
        .args([
            "scan",
            "--no-config",
            "--schema-location",
            "http://schemas.example.invalid/{{ .ResourceKind }}.json",
            ".",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("only https"));
}
