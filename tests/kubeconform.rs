//! kubeconform's own acceptance verdicts (tests/fixtures/kubeconform/EXPECTATIONS.tsv),
//! reached by running the real binary.

mod common;

use assert_cmd::Command;
use std::path::Path;

const DIR: &str = "tests/fixtures/kubeconform";

fn shiplint() -> Command {
    common::shiplint(DIR)
}

struct Case {
    file: String,
    mode: String,
    expect: String,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(Path::new(DIR).join("EXPECTATIONS.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Case {
                file: cols[0].into(),
                mode: cols[1].into(),
                expect: cols[2].into(),
            }
        })
        .collect()
}

fn run(case: &Case) -> (i32, serde_json::Value) {
    let mut cmd = shiplint();
    cmd.args([
        "scan",
        "--format",
        "json",
        "--packs",
        "schema",
        "--no-config",
    ]);
    match case.mode.as_str() {
        "default" | "strict" => {}
        "non-strict" => {
            cmd.arg("--no-strict");
        }
        "ignore-missing-schemas" => {
            cmd.arg("--ignore-missing-schemas");
        }
        "stdin" => {
            cmd.arg("-")
                .write_stdin(std::fs::read(Path::new(DIR).join(&case.file)).unwrap());
        }
        m if m.starts_with("schema=") => {
            cmd.args(["--schema-location", &m["schema=".len()..]]);
        }
        other => panic!("unknown mode {other}"),
    }
    if case.mode != "stdin" {
        cmd.arg(&case.file);
    }
    let out = cmd.output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{} {}: bad JSON ({e}): {}",
            case.file,
            case.mode,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

#[test]
fn every_verdict_in_expectations_is_reached() {
    let cases = cases();
    assert!(cases.len() >= 25, "expectations not found");
    let mut checked = 0;
    for case in cases.iter().filter(|c| c.expect != "n/a") {
        let (code, json) = run(case);
        let findings = json["findings"].as_array().unwrap();
        match case.expect.as_str() {
            "valid" => assert!(
                code == 0 && findings.is_empty(),
                "{} ({}) should be valid, got exit {code}: {findings:#?}",
                case.file,
                case.mode
            ),
            "invalid" => assert!(
                code == 1 && !findings.is_empty(),
                "{} ({}) should be invalid, got exit {code}",
                case.file,
                case.mode
            ),
            other => panic!("unknown verdict {other}"),
        }
        checked += 1;
    }
    assert!(checked >= 28, "only {checked} verdicts checked");
}

fn messages(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn missing_type_fields_are_named() {
    let case = |f: &str| Case {
        file: f.into(),
        mode: "default".into(),
        expect: "invalid".into(),
    };
    let (_, json) = run(&case("missing_kind.yaml"));
    assert!(
        messages(&json).iter().any(|m| m.contains("'kind'")),
        "{json:#?}"
    );
    let (_, json) = run(&case("missing_apiversion.yaml"));
    let m = messages(&json);
    assert!(
        m.iter().any(|m| m.contains("'apiVersion' is missing")),
        "{m:?}"
    );
}

#[test]
fn the_folder_has_seven_resources_in_two_files() {
    let (code, json) = run(&Case {
        file: "folder/".into(),
        mode: "default".into(),
        expect: "valid".into(),
    });
    assert_eq!(code, 0);
    assert_eq!(json["summary"]["resources"], 7);
    assert_eq!(json["summary"]["files"], 2);
}

#[test]
fn a_crd_in_the_run_validates_its_custom_resources() {
    // crd_schema.yaml holds the TrainingJob CRD (as apiextensions v1beta1, itself a removed API).
    let out = shiplint()
        .args([
            "scan",
            "--format",
            "json",
            "--no-config",
            "--packs",
            "schema",
            "test_crd.yaml",
            "crd_schema.yaml",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = json["findings"].as_array().unwrap();
    assert!(
        f.iter().all(|f| f["path"] != "test_crd.yaml"),
        "TrainingJob should validate: {f:#?}"
    );
    assert!(f
        .iter()
        .any(|f| f["path"] == "crd_schema.yaml" && f["rule"] == "schema/missing-schema"));
}

#[test]
fn crd_dir_derives_the_schema_from_a_real_crd() {
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--crd-dir",
            "registry",
            "test_crd.yaml",
        ])
        .assert()
        .code(0);
}

#[test]
fn crd_schema_catches_a_bad_custom_resource() {
    let dir = tempfile::tempdir().unwrap();
    let bad = std::fs::read_to_string(Path::new(DIR).join("test_crd.yaml"))
        .unwrap()
        .replace("instanceCount: 1", "instanceCount: \"one\"");
    let p = dir.path().join("bad.yaml");
    std::fs::write(&p, bad).unwrap();
    let out = shiplint()
        .args(common::SCAN_SCHEMA_JSON)
        .args(["--crd-dir", "registry"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &json["findings"][0];
    assert!(
        f["message"].as_str().unwrap().contains("instanceCount"),
        "{f:#?}"
    );
}

#[test]
fn schema_location_templates_use_kubeconform_variables() {
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--schema-location",
            "registry/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            "test_crd.yaml",
        ])
        .assert()
        .code(0);
    // Without the embedded schemas, a built-in kind has no schema at that location.
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--schema-location",
            "registry/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            "valid.yaml",
        ])
        .assert()
        .code(1);
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--schema-location",
            "default",
            "--schema-location",
            "registry/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            "valid.yaml",
            "test_crd.yaml",
        ])
        .assert()
        .code(0);
}

#[test]
fn bad_templates_are_usage_errors() {
    shiplint()
        .args([
            "scan",
            "--no-config",
            "--schema-location",
            "x/{{ .Nope }}.json",
            "valid.yaml",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown variable"));
}

#[test]
fn crd_dir_reads_the_crds_catalog_layout() {
    let dir = tempfile::tempdir().unwrap();
    let group = dir.path().join("sagemaker.aws.amazon.com");
    std::fs::create_dir_all(&group).unwrap();
    std::fs::copy(
        Path::new(DIR).join("registry/trainingjob-sagemaker-v1.json"),
        group.join("trainingjob_v1.json"),
    )
    .unwrap();
    shiplint()
        .args(["scan", "--no-config", "--packs", "schema", "--crd-dir"])
        .arg(dir.path())
        .arg("test_crd.yaml")
        .assert()
        .code(0);
    let bad = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(Path::new(DIR).join("test_crd.yaml"))
        .unwrap()
        .replace("region: us-west-2", "regoin: us-west-2");
    std::fs::write(&bad, text).unwrap();
    shiplint()
        .args(["scan", "--no-config", "--packs", "schema", "--crd-dir"])
        .arg(dir.path())
        .arg(&bad)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("unknown field 'regoin'"));
}

/// kubebuilder scaffolds list their patches in kustomization.yaml only as
/// comments (`#- manager_webhook_patch.yaml`), and a scan of part of a tree
/// may not hold the kustomization at all: a file named like a patch, in a
/// `patches/` folder, or with a `$patch` directive is read as a patch
/// (required fields left to its target), and `field: null` in a patch is a
/// deletion, not an unknown field. Unknown fields in a patch are still
/// errors, and a whole resource still needs its required fields.
#[test]
fn patches_without_their_kustomization_are_read_as_patches() {
    let (code, json) = common::json_output(
        common::shiplint("tests/fixtures/patches-unlisted")
            .args(common::SCAN_SCHEMA_JSON)
            .arg("."),
    );
    let got = common::rule_lines(&json);
    let paths = placed(&json);
    assert_eq!(code, 1, "{paths:#?}");
    assert_eq!(
        got,
        vec![
            ("schema/invalid".to_string(), 10),
            ("schema/invalid".to_string(), 6),
        ],
        "{paths:#?}"
    );
    assert!(
        paths[0].contains("webhook_in_notebooks.yaml")
            && paths[0].contains("'webhookClientConfig'"),
        "{paths:#?}"
    );
    assert!(
        paths[1].contains("manager/manager.yaml") && paths[1].contains("\"selector\""),
        "{paths:#?}"
    );
}

/// `schema` findings of `scan` over a folder holding `files`, as
/// `path:line message`.
fn schema_findings(files: &[(&str, &str)]) -> Vec<String> {
    let t = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = t.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let (_, json) = common::json_output(
        common::shiplint(t.path())
            .args(common::SCAN_SCHEMA_JSON)
            .args(["--fail-on", "never", "."]),
    );
    placed(&json)
}

/// Every finding as `path:line message`.
fn placed(json: &serde_json::Value) -> Vec<String> {
    common::findings(json)
        .iter()
        .map(|f| {
            format!(
                "{}:{} {}",
                f["path"].as_str().unwrap(),
                f["span"]["line"],
                f["message"].as_str().unwrap()
            )
        })
        .collect()
}

/// A workload with neither a selector nor pod labels is a partial object
/// (argo-cd's `replicas: 0` StatefulSet, a patch listed from elsewhere):
/// its required fields are left to what completes it, its unknown fields
/// are still errors. One with pod labels and no selector is still whole.
#[test]
fn a_workload_without_selector_or_pod_labels_is_read_as_partial() {
    let got = schema_findings(&[
        (
            "statefulset.yaml",
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: controller\nspec:\n  replicas: 0\n  template:\n    spec:\n      containers:\n      - name: c\n        argz: [x]\n",
        ),
        (
            "whole.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
        ),
    ]);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got[0].starts_with("statefulset.yaml:11 ") && got[0].contains("'argz'"),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("whole.yaml:5 ") && got[1].contains("\"selector\""),
        "{got:#?}"
    );
}

/// kubebuilder's webhook `kustomizeconfig.yaml` (a `configurations:` file)
/// makes kustomize's `namespace:` write the webhook's service namespace:
/// the base file without it is not an error. Without such a field spec the
/// namespace stays missing after the build (`kubectl kustomize` agrees), so
/// the error stays.
#[test]
fn namespaces_written_by_kustomize_field_specs_are_not_missing() {
    const WEBHOOK: &str = "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata:\n  name: m\nwebhooks:\n- name: a.example.com\n  clientConfig:\n    service:\n      name: svc\n      path: /apply\n  admissionReviewVersions: [v1]\n  sideEffects: None\n";
    const SPEC: &str = "namespace:\n- kind: MutatingWebhookConfiguration\n  group: admissionregistration.k8s.io\n  path: webhooks/clientConfig/service/namespace\n  create: true\n";
    let filled = schema_findings(&[
        (
            "kustomization.yaml",
            "namespace: system\nresources:\n- webhook.yaml\nconfigurations:\n- kustomizeconfig.yaml\n",
        ),
        ("kustomizeconfig.yaml", SPEC),
        ("webhook.yaml", WEBHOOK),
    ]);
    assert!(
        !filled.iter().any(|f| f.starts_with("webhook.yaml:")),
        "{filled:#?}"
    );
    let missing = "webhook.yaml:8 MutatingWebhookConfiguration/m: webhooks[0].clientConfig.service is missing required field \"namespace\"";
    // No field spec for namespaces in the configurations file.
    let got = schema_findings(&[
        (
            "kustomization.yaml",
            "namespace: system\nresources:\n- webhook.yaml\nconfigurations:\n- kustomizeconfig.yaml\n",
        ),
        (
            "kustomizeconfig.yaml",
            "nameReference:\n- kind: Service\n  fieldSpecs:\n  - kind: MutatingWebhookConfiguration\n    path: webhooks/clientConfig/service/name\n",
        ),
        ("webhook.yaml", WEBHOOK),
    ]);
    assert!(got.iter().any(|f| f == missing), "{got:#?}");
    // No configurations at all.
    let got = schema_findings(&[
        (
            "kustomization.yaml",
            "namespace: system\nresources:\n- webhook.yaml\n",
        ),
        ("webhook.yaml", WEBHOOK),
    ]);
    assert!(got.iter().any(|f| f == missing), "{got:#?}");
}
