//! Snapshot tests (insta, `tests/snapshots/output__*.snap`) of every output
//! format over one fixture repository (`tests/fixtures/output`): text,
//! JSON, SARIF, GitHub annotations and JUnit. The PR comment markdown is
//! snapshotted in `tests/github.rs` (it needs the fake GitHub). Durations,
//! the version, fingerprints and the workflow-command token are redacted;
//! SARIF's rule catalogue (every rule's help) is checked for consistency,
//! then left out.

mod common;
#[path = "snap/mod.rs"]
mod snap;

/// `insta::assert_snapshot!` without the expression in the header.
macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({omit_expression => true, prepend_module_to_snapshot => true}, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/output";

fn run(format: &str) -> String {
    let mut cmd = common::shiplint(FIXTURE);
    for v in [
        "GITHUB_STEP_SUMMARY",
        "GITHUB_OUTPUT",
        "GITHUB_EVENT_PATH",
        "GITHUB_ACTIONS",
        "CI",
    ] {
        cmd.env_remove(v);
    }
    let out = cmd
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema,deprecations,practices",
            "--kubernetes-version",
            "1.33",
            "--fail-on",
            "never",
            "--format",
            format,
            ".",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn redact(s: &str) -> String {
    let s = snap::redact(s);
    let s = regex::Regex::new(r"\(\d+(\.\d+)?m?s\)\n")
        .unwrap()
        .replace_all(&s, "([duration])\n")
        .into_owned();
    regex::Regex::new(r"shiplint-[0-9a-f]{12}")
        .unwrap()
        .replace_all(&s, "[token]")
        .into_owned()
}

#[test]
fn text() {
    snapshot!("text", redact(&run("text")));
}

#[test]
fn json() {
    let text = run("json");
    let doc: Value = serde_json::from_str(&text).unwrap();
    // The fixable findings carry their fix.
    let fixes: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("fix").is_some())
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["fix"]["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fixes,
        vec![
            (
                "deprecations/removed-api",
                "apiVersion: networking.k8s.io/v1  # moved in 1.19\n"
            ),
            ("schema/duplicate-key", ""),
            (
                "practices/automount-service-account-token",
                "    spec:\n      automountServiceAccountToken: false\n"
            ),
            (
                "practices/image-pull-policy",
                "          image: nginx:stable\n          imagePullPolicy: Always\n"
            ),
        ],
        "{text}"
    );
    // What `comment --findings` reads is what was written.
    let back = shiplint::report::json::read(&text).unwrap();
    assert_eq!(
        back.findings.len(),
        doc["findings"].as_array().unwrap().len()
    );
    let again = serde_json::to_value(&back.findings).unwrap();
    assert_eq!(again, doc["findings"]);
    assert_eq!(
        back.summary.rules.len(),
        doc["summary"]["rules"].as_array().unwrap().len()
    );
    snapshot!("json", redact(&text));
}

#[test]
fn sarif() {
    let mut doc: Value = serde_json::from_str(&run("sarif")).unwrap();
    let run0 = &mut doc["runs"][0];
    let rules: Vec<String> = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    for r in run0["results"].as_array_mut().unwrap() {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i], r["ruleId"].as_str().unwrap());
        r["ruleIndex"] = Value::from("[index]");
    }
    assert!(rules.iter().any(|r| r == "practices/run-as-root"));
    run0["tool"]["driver"]["rules"] = Value::from("[rules]");
    let fixes = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("fixes").is_some())
        .count();
    assert_eq!(fixes, 4);
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    snapshot!("sarif", redact(&text));
}

#[test]
fn github_annotations() {
    let text = run("github");
    snapshot!("github", redact(&text));
}

#[test]
fn junit() {
    let text = run("junit");
    // Hostile names and messages are escaped: no markup but ours.
    assert!(!text.contains("<script>"), "{text}");
    assert!(
        text.contains("k8s/odd &amp; &apos;quote&apos;.yaml"),
        "{text}"
    );
    assert_eq!(
        text.matches("<testcase ").count(),
        text.matches("</testcase>").count()
    );
    snapshot!("junit", redact(&text));
}
