//! `{{` in valid YAML does not make a template: strings that hold Go-template
//! text (Prometheus rules, scripts) are checked like any manifest; only
//! files that need rendering are skipped, and each of them is named.

mod common;

use common::{json_run, shiplint, SCAN_SCHEMA_JSON};

#[test]
fn braces_in_strings_are_checked_and_skipped_templates_are_named() {
    let (code, doc, stderr) = json_run(
        shiplint(env!("CARGO_MANIFEST_DIR"))
            .args(SCAN_SCHEMA_JSON)
            .arg("tests/fixtures/braces"),
    );
    assert_eq!(code, 1, "{stderr}");
    let found: Vec<_> = common::rule_lines(&doc);
    // The ConfigMap with `{{ $labels.pod }}` is validated: its typo is found.
    assert_eq!(found, vec![("schema/invalid".to_string(), 10)]);
    assert_eq!(
        doc["findings"][0]["path"],
        "tests/fixtures/braces/monitoring/rules.yaml"
    );
    let skipped: Vec<(String, String)> = doc["summary"]["skipped"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let t = |p: &str| (format!("tests/fixtures/braces/{p}"), "template".to_string());
    assert_eq!(
        skipped,
        vec![
            t("chart/templates/cm.yaml"),
            t("ops/broken.yaml"),
            t("ops/job.yaml")
        ]
    );
    assert_eq!(doc["summary"]["skipped"]["templates"], 3);
    assert!(
        stderr.contains("not parsed: 3 templates")
            && stderr.contains("tests/fixtures/braces/ops/job.yaml"),
        "{stderr}"
    );
}
