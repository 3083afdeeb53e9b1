//! Exemptions in `.shiplint.yaml`: matched on kind, name, namespace and
//! container (globs), listed apart in JSON and suppressed in SARIF; an
//! expired one silences nothing and is a finding on its own line.

mod common;

use common::{findings, json_run, shiplint};
use serde_json::Value;

fn scan(config: &str, format: &str) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/exemptions/app.yaml"
        ),
        dir.path().join("app.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join(".shiplint.yaml"), config).unwrap();
    let (code, doc, stderr) = json_run(shiplint(dir.path()).args([
        "scan",
        "--packs",
        "practices",
        "--format",
        format,
        "--fail-on",
        "never",
        ".",
    ]));
    assert_eq!(code, 0, "{stderr}");
    (code, doc)
}

/// (rule, container) of every finding of a list.
fn of(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["container"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_container_exemption_silences_that_container_only() {
    let (_, plain) = scan("{}\n", "json");
    let latest = |list: &Value| {
        of(list)
            .into_iter()
            .filter(|(r, _)| r == "practices/image-latest-tag")
            .collect::<Vec<_>>()
    };
    assert_eq!(
        latest(&plain["findings"]),
        vec![(
            "practices/image-latest-tag".to_string(),
            "sidecar".to_string()
        )]
    );
    let run_as_root = |list: &Value| {
        of(list)
            .into_iter()
            .filter(|(r, _)| r == "practices/run-as-root")
            .map(|(_, c)| c)
            .collect::<Vec<_>>()
    };
    assert_eq!(run_as_root(&plain["findings"]), vec!["app", "sidecar"]);

    let (_, doc) = scan(
        "exemptions:\n  - rules: [practices/run-as-root, practices/image-latest-tag]\n    kind: Deployment\n    name: legacy-*\n    namespace: shop\n    container: sidecar\n    reason: the vendor proxy runs as root; OPS-12\n    expires: \"2099-01-01\"\n",
        "json",
    );
    assert_eq!(run_as_root(&doc["findings"]), vec!["app"]);
    assert!(latest(&doc["findings"]).is_empty());
    let exempted = &doc["exempted"];
    assert_eq!(run_as_root(exempted), vec!["sidecar"]);
    assert_eq!(latest(exempted).len(), 1);
    assert_eq!(
        exempted[0]["exemption"]["reason"],
        "the vendor proxy runs as root; OPS-12"
    );
    assert_eq!(
        doc["summary"]["exempted"],
        exempted.as_array().unwrap().len()
    );
    assert_eq!(
        doc["summary"]["findings"],
        findings(&doc).len(),
        "exempted findings are not findings"
    );
}

#[test]
fn a_glob_that_does_not_match_silences_nothing() {
    let (_, doc) = scan(
        "exemptions:\n  - rules: [practices/*]\n    name: other-*\n    reason: not this one\n",
        "json",
    );
    assert!(doc["exempted"].as_array().unwrap().is_empty());
    let (_, all) = scan(
        "exemptions:\n  - rules: [practices/*]\n    name: legacy-*\n    reason: the whole pack, for this app\n",
        "json",
    );
    assert!(findings(&all).is_empty(), "{:?}", of(&all["findings"]));
    assert_eq!(
        all["exempted"].as_array().unwrap().len(),
        findings(&doc).len()
    );
}

#[test]
fn an_expired_exemption_is_reported_and_silences_nothing() {
    let config = "# accepted risks\nexemptions:\n  - rules: [practices/image-latest-tag]\n    container: sidecar\n    reason: until the proxy is pinned\n    expires: \"2020-01-31\"\n";
    let (_, doc) = scan(config, "json");
    assert!(doc["exempted"].as_array().unwrap().is_empty());
    let expired: Vec<&Value> = findings(&doc)
        .iter()
        .filter(|f| f["rule"] == "config/exemption-expired")
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["path"], ".shiplint.yaml");
    assert_eq!(expired[0]["span"]["line"], 3);
    assert!(expired[0]["message"]
        .as_str()
        .unwrap()
        .contains("expired on 2020-01-31"));
    assert!(findings(&doc)
        .iter()
        .any(|f| f["rule"] == "practices/image-latest-tag"));
}

#[test]
fn sarif_keeps_exempted_findings_as_suppressed_results() {
    let (_, sarif) = scan(
        "exemptions:\n  - rules: [practices/image-latest-tag]\n    container: sidecar\n    reason: pinned next sprint\n",
        "sarif",
    );
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["ruleId"], "practices/image-latest-tag");
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "external");
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "pinned next sprint"
    );
}

#[test]
fn exemptions_need_a_reason_and_known_rules() {
    for (config, says) in [
        (
            "exemptions:\n  - rules: [practices/run-as-root]\n    reason: \"\"\n",
            "line 2: an exemption needs a reason",
        ),
        (
            "exemptions:\n  - rules: [practices/nope]\n    reason: x\n",
            "line 2: an exemption names an unknown rule id",
        ),
        (
            "exemptions:\n  - rules: [practices/run-as-root]\n    reason: x\n    expires: soon\n",
            "line 2: expires must be a date",
        ),
        (
            "exemptions:\n  - rules: [practices/run-as-root]\n    reason: x\n    name: \"[\"\n",
            "not a valid glob",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".shiplint.yaml"), config).unwrap();
        let out = shiplint(dir.path()).args(["scan", "."]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{config}");
        assert!(stderr.contains(says), "{config}: {stderr}");
    }
}
