//! The scan pipeline end to end: positions of every finding kind, exit
//! codes, config, suppressions, reporters, and bad input.

mod common;

use assert_cmd::Command;
use common::{json_output, SCAN_SCHEMA_JSON};
use predicates::str::contains;
use serde_json::Value;
use std::path::Path;

const DIR: &str = "tests/fixtures/scan";

fn shiplint() -> Command {
    common::shiplint(DIR)
}

/// `scan --no-config --packs schema --format json ARGS` in the fixtures.
fn scan_json(args: &[&str]) -> (i32, Value) {
    json_output(shiplint().args(SCAN_SCHEMA_JSON).args(args))
}

/// (rule, line, col) of every finding.
fn positions(json: &Value) -> Vec<(String, u64, u64)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
                f["span"]["col"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn p(rule: &str, line: u64, col: u64) -> (String, u64, u64) {
    (rule.to_string(), line, col)
}

#[test]
fn every_finding_kind_points_at_its_line_and_column() {
    let (code, json) = scan_json(&["positions.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        positions(&json),
        vec![
            p("schema/invalid", 16, 30),          // containerPort: "8080" → the value
            p("schema/invalid", 17, 11),          // resourcez → the unknown key
            p("schema/invalid", 26, 7),           // a port without `port` → the list item
            p("schema/duplicate-key", 34, 3),     // the second `a:`
            p("schema/missing-type-meta", 36, 1)  // a resource-looking document without kind
        ]
    );
    let msgs: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        msgs[0]
            .contains("spec.template.spec.containers[0].ports[0].containerPort must be an integer"),
        "{}",
        msgs[0]
    );
    assert!(msgs[1].contains("unknown field 'resourcez'"), "{}", msgs[1]);
    assert!(
        msgs[2].contains("spec.ports[0] is missing required field \"port\""),
        "{}",
        msgs[2]
    );
    assert!(msgs[3].contains("first on line 33"), "{}", msgs[3]);
}

#[test]
fn yaml_syntax_errors_carry_the_parser_position() {
    let (code, json) = scan_json(&["broken.yaml"]);
    assert_eq!(code, 1);
    let pos = positions(&json);
    assert_eq!(pos.len(), 1);
    assert_eq!(pos[0].0, "schema/yaml-syntax");
    assert_eq!(pos[0].1, 7, "{pos:?}");
}

#[test]
fn missing_schema_and_rejected_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cr.yaml");
    std::fs::write(&f, "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n").unwrap();
    let (_, json) = json_output(
        shiplint()
            .args(SCAN_SCHEMA_JSON)
            .args(["--reject-kinds", "Secret"])
            .arg(&f),
    );
    assert_eq!(
        positions(&json),
        vec![
            p("schema/missing-schema", 1, 13),
            p("schema/rejected-kind", 7, 7)
        ]
    );
    let (code, json) = json_output(
        shiplint()
            .args(SCAN_SCHEMA_JSON)
            .args(["--ignore-missing-schemas", "--skip-kinds", "v1/Secret"])
            .arg(&f),
    );
    assert_eq!(code, 0, "{json:#}");
}

#[test]
fn suppressions_by_comment_and_annotation() {
    let (code, json) = scan_json(&["suppressed.yaml"]);
    assert_eq!(code, 0, "{json:#}");
    // The same file without the comment and the annotation has two findings.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(Path::new(DIR).join("suppressed.yaml")).unwrap();
    let bare = text
        .replace("# shiplint:ignore schema/invalid", "# nothing")
        .replace("shiplint.dev/ignore", "example.com/other");
    let f = dir.path().join("bare.yaml");
    std::fs::write(&f, bare).unwrap();
    let (_, json) = json_output(shiplint().args(SCAN_SCHEMA_JSON).arg(&f));
    assert_eq!(
        positions(&json),
        vec![p("schema/invalid", 7, 3), p("schema/invalid", 18, 3)]
    );
}

#[test]
fn non_manifests_templates_and_binaries_are_not_errors_in_a_walk() {
    let (code, json) = scan_json(&["notk8s.yaml", "chart", "blob.yaml"]);
    // Named explicitly, a workflow must be a resource; in a folder walk it is skipped.
    assert_eq!(code, 1);
    assert_eq!(positions(&json).len(), 1);
    let (code, json) = scan_json(&["."]);
    let rules: Vec<_> = positions(&json)
        .into_iter()
        .filter(|(_, _, _)| true)
        .collect();
    assert!(
        rules
            .iter()
            .all(|r| r.0 != "schema/missing-type-meta" || r.1 == 36),
        "{rules:?}"
    );
    assert_eq!(code, 1);
    assert_eq!(json["summary"]["skipped"]["binary"], 1);
    assert_eq!(json["summary"]["skipped"]["templates"], 1);
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("notk8s") || p.contains("chart/")),
        "{paths:?}"
    );
}

#[test]
fn crlf_bom_and_json_lists() {
    let (_, json) = scan_json(&["crlf.yaml"]);
    assert_eq!(positions(&json), vec![p("schema/invalid", 6, 6)]);
    let (code, _) = scan_json(&["bom.yaml"]);
    assert_eq!(code, 0);
    let (_, json) = scan_json(&["list.json"]);
    assert_eq!(positions(&json), vec![p("schema/invalid", 6, 86)]);
}

#[test]
fn stdin_streams_are_scanned() {
    let text = std::fs::read_to_string(Path::new(DIR).join("positions.yaml")).unwrap();
    let out = shiplint()
        .args(["scan", "--no-config", "--packs", "schema", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("<stdin>:16:30: error schema/invalid"),
        "{stdout}"
    );
}

#[test]
fn text_report_has_snippet_caret_and_summary() {
    let out = shiplint()
        .args(["scan", "--no-config", "--packs", "schema", "positions.yaml"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("positions.yaml:16:30: error schema/invalid Deployment/api:"),
        "{text}"
    );
    assert!(
        text.contains(
            "16 |             - containerPort: \"8080\"\n   |                              ^^^^^^"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 file, 3 resources: 5 errors, 0 warnings, 0 notes"),
        "{text}"
    );
}

#[test]
fn fail_on_controls_the_exit_code() {
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--fail-on",
            "never",
            "positions.yaml",
        ])
        .assert()
        .code(0);
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--fail-on",
            "warning",
            "positions.yaml",
        ])
        .assert()
        .code(1);
    shiplint()
        .args(["scan", "--no-config", "--packs", "schema", "bom.yaml"])
        .assert()
        .code(0);
}

#[test]
fn usage_and_runtime_errors_exit_2_with_a_message() {
    shiplint()
        .args(["scan", "does-not-exist"])
        .assert()
        .code(2)
        .stderr(contains("cannot read does-not-exist"));
    shiplint()
        .args(["scan", "--fail-on", "sometimes", "."])
        .assert()
        .code(2);
    shiplint()
        .args([
            "scan",
            "--kubernetes-version",
            "1.2",
            "--no-config",
            "bom.yaml",
        ])
        .assert()
        .code(2)
        .stderr(contains("1.25"));
    shiplint()
        .args(["scan", "--kubernetes-version", "banana", "bom.yaml"])
        .assert()
        .code(2)
        .stderr(contains("not a Kubernetes version"));
    shiplint()
        .args(["scan", "--packs", "nope", "--no-config", "bom.yaml"])
        .assert()
        .code(2)
        .stderr(contains("unknown pack 'nope'"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "rulez: {}\n").unwrap();
    shiplint()
        .args(["scan", "--config"])
        .arg(&cfg)
        .arg("bom.yaml")
        .assert()
        .code(2)
        // The line, not the key: a config's text is never echoed (docs/security.md).
        .stderr(contains("line 1: unknown key"));
    std::fs::write(&cfg, "rules:\n  schema/nope: off\n").unwrap();
    shiplint()
        .args(["scan", "--config"])
        .arg(&cfg)
        .arg("bom.yaml")
        .assert()
        .code(2)
        .stderr(contains("line 2: unknown rule id"));
    std::fs::write(&cfg, "rules: [unclosed\n").unwrap();
    shiplint()
        .args(["scan", "--config"])
        .arg(&cfg)
        .arg("bom.yaml")
        .assert()
        .code(2)
        .stderr(contains("line"));
}

#[test]
fn config_sets_severities_versions_and_excludes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("vendor")).unwrap();
    std::fs::copy(
        Path::new(DIR).join("positions.yaml"),
        dir.path().join("app.yaml"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(DIR).join("positions.yaml"),
        dir.path().join("vendor/app.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".shiplint.yaml"),
        "kubernetes-version: '1.29'\nexclude: ['vendor/**']\nrules:\n  schema/duplicate-key: off\n  schema/invalid: warning\npacks: [schema]\n",
    )
    .unwrap();
    let out = Command::cargo_bin("shiplint")
        .unwrap()
        .current_dir(dir.path())
        .args(["scan", "--format", "json", "."])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = json["findings"].as_array().unwrap();
    assert!(f.iter().all(|f| f["path"] == "app.yaml"), "vendor excluded");
    assert!(f.iter().all(|f| f["rule"] != "schema/duplicate-key"));
    assert!(
        f.iter()
            .all(|f| f["rule"] == "schema/invalid" && f["severity"] == "warning"),
        "{f:#?}"
    );
    assert_eq!(f.len(), 3);
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings do not fail the default --fail-on error"
    );
    assert_eq!(json["properties"]["kubernetesVersion"], "1.29");
}

#[test]
fn kubernetes_versions_change_the_verdict() {
    // HPA autoscaling/v2 exists in every embedded version; flowcontrol v1beta3 was removed in 1.32.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("fc.yaml");
    std::fs::write(&f, "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata:\n  name: f\nspec:\n  priorityLevelConfiguration: {name: x}\n").unwrap();
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--kubernetes-version",
            "1.29",
        ])
        .arg(&f)
        .assert()
        .code(0);
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--kubernetes-version",
            "1.32.3",
        ])
        .arg(&f)
        .assert()
        .code(1);
}

#[test]
fn fingerprints_survive_unrelated_line_moves() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(Path::new(DIR).join("positions.yaml")).unwrap();
    let a = dir.path().join("a.yaml");
    std::fs::write(&a, &text).unwrap();
    let run = || {
        let out = Command::cargo_bin("shiplint")
            .unwrap()
            .current_dir(dir.path())
            .args(["scan", "--no-config", "--format", "json", "a.yaml"])
            .output()
            .unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let before = run();
    std::fs::write(&a, format!("# a comment\n# and another\n{text}")).unwrap();
    assert_eq!(before, run());
    let mut unique = before.clone();
    unique.dedup();
    assert_eq!(unique.len(), before.len());
}

#[test]
fn output_file_and_rules_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.sarif");
    shiplint()
        .args(["scan", "--no-config", "--format", "sarif", "-o"])
        .arg(&out)
        .arg("positions.yaml")
        .assert()
        .code(1)
        .stdout("");
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    shiplint()
        .args(["rules"])
        .assert()
        .code(0)
        .stdout(contains("schema/invalid"))
        .stdout(contains("schema/missing-schema"));
    shiplint()
        .args(["explain", "schema/invalid"])
        .assert()
        .code(0)
        .stdout(contains("How to fix"));
    shiplint()
        .args(["explain", "schema/nope"])
        .assert()
        .code(2)
        .stderr(contains("unknown rule"));
}

#[test]
fn sarif_carries_rules_regions_and_fingerprints() {
    let out = shiplint()
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--format",
            "sarif",
            "positions.yaml",
        ])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() >= 7);
    for r in rules {
        for key in [
            "id",
            "name",
            "shortDescription",
            "fullDescription",
            "help",
            "helpUri",
            "properties",
        ] {
            assert!(!r[key].is_null(), "rule {} lacks {key}", r["id"]);
        }
        assert!(r["help"]["markdown"].is_string() && r["help"]["text"].is_string());
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    let first = &results[0];
    let idx = first["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[idx]["id"], first["ruleId"]);
    let loc = &first["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "positions.yaml");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert!(loc["region"]["startLine"].is_u64() && loc["region"]["endColumn"].is_u64());
    assert!(first["partialFingerprints"]["shiplintFingerprint/v1"].is_string());
    assert!(
        first["partialFingerprints"]["primaryLocationLineHash"].is_null(),
        "left to the upload action"
    );
}

/// Microsoft's SARIF Multitool with GitHub's ingestion rules must report
/// nothing at error or warning level. `.ci/setup.sh` installs it; on a
/// developer machine without it the test says so and passes, in CI it fails.
#[test]
fn sarif_passes_the_multitool_with_github_rules() {
    let tools = std::env::var("SHIPLINT_TOOLS_DIR")
        .unwrap_or_else(|_| format!("{}/target/tools", env!("CARGO_MANIFEST_DIR")));
    let mt =
        Path::new(&tools).join("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if !mt.exists() {
        assert!(
            std::env::var("CI").is_err(),
            "Sarif.Multitool missing in CI: run .ci/setup.sh"
        );
        eprintln!(
            "skipping: {} not installed (run .ci/setup.sh)",
            mt.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [
        (
            "findings.sarif",
            vec![
                "positions.yaml",
                "broken.yaml",
                "suppressed.yaml",
                "crlf.yaml",
                "list.json",
            ],
        ),
        ("clean.sarif", vec!["bom.yaml"]),
    ] {
        let sarif = dir.path().join(name);
        let out = shiplint()
            .args(["scan", "--no-config", "--format", "sarif", "-o"])
            .arg(&sarif)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.code() != Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = dir.path().join(format!("{name}.validation.sarif"));
        // The Multitool resolves every rule's helpUri host; in a network
        // namespace of its own (root only) nothing leaves the machine and
        // the lookups fail at once instead of timing out.
        let isolated = std::process::Command::new("unshare")
            .args(["--net", "true"])
            .status()
            .is_ok_and(|s| s.success());
        let mut validate = if isolated {
            let mut c = std::process::Command::new("unshare");
            c.arg("--net").arg(&mt);
            c
        } else {
            std::process::Command::new(&mt)
        };
        let status = validate
            .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
            .args([
                "validate",
                "--rule-kind",
                "Sarif;Gh",
                "--level",
                "Error;Warning",
                "--log",
                "ForceOverwrite",
                "-o",
            ])
            .arg(&report)
            .arg(&sarif)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "multitool failed: {}",
            String::from_utf8_lossy(&status.stdout)
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let problems: Vec<String> = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{} {}: {}", r["ruleId"], r["level"], r["message"]))
            .collect();
        assert!(problems.is_empty(), "{name}: {problems:#?}");
    }
}

#[test]
fn docs_rules_md_is_up_to_date() {
    let out = Command::cargo_bin("shiplint")
        .unwrap()
        .args(["rules", "--markdown"])
        .output()
        .unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "docs/rules.md is stale: run `cargo run -- rules --markdown > docs/rules.md`"
    );
}

#[test]
fn target_version_must_be_a_kubernetes_version() {
    for bad in ["2.0", "1.99", "0.5"] {
        shiplint()
            .args(["scan", "--no-config", "--target-version", bad, "bom.yaml"])
            .assert()
            .code(2)
            .stderr(contains("is not a Kubernetes version"));
    }
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--target-version",
            "1.25",
            "bom.yaml",
        ])
        .assert()
        .code(0);
}

#[test]
fn reports_create_their_folders_and_an_empty_sarif_file_means_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bom = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(DIR)
        .join("bom.yaml");
    common::shiplint(d)
        .args(["scan", "--no-config", "-o", "out/a/report.txt"])
        .args(["--sarif-file", "reports/x.sarif"])
        .args(["--format", "github", "--step-summary", "summary/s.md"])
        .arg(&bom)
        .env_remove("GITHUB_OUTPUT")
        .assert()
        .code(0);
    assert!(d.join("out/a/report.txt").is_file());
    assert!(d.join("reports/x.sarif").is_file());
    assert!(d.join("summary/s.md").is_file());
    // `sarif-file: ''` in the Action: no SARIF, no error.
    common::shiplint(d)
        .args(["scan", "--no-config", "--sarif-file", ""])
        .arg(&bom)
        .assert()
        .code(0);
}

#[test]
fn baseline_file_by_either_flag_and_versions_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("bad.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: \"3\"\n",
    )
    .unwrap();
    let create = |flag: &str, file: &str| {
        common::shiplint(d)
            .args(["baseline", "create", "--no-config", "--packs", "schema"])
            .args([flag, file, "bad.yaml"])
            .assert()
            .code(0);
        assert!(d.join(file).is_file(), "{flag} {file}");
    };
    create("--baseline", "new.json");
    create("-o", "sub/other.json");
    let (code, json) = json_output(common::shiplint(d).args(SCAN_SCHEMA_JSON).args([
        "--baseline",
        "new.json",
        "bad.yaml",
    ]));
    assert_eq!((code, json["findings"].as_array().unwrap().len()), (0, 0));
    let text = std::fs::read_to_string(d.join("new.json"))
        .unwrap()
        .replace("\"version\": 1", "\"version\": 7");
    std::fs::write(d.join("v7.json"), text).unwrap();
    common::shiplint(d)
        .args(["scan", "--no-config", "--baseline", "v7.json", "bad.yaml"])
        .assert()
        .code(2)
        .stderr(contains("version 7 is not supported"));
}
