//! The embedded CRD catalog: catalogued custom resources validate strictly,
//! with lines; the scanned repository's CRD wins over --crd-dir, which wins
//! over the catalog; only truly unknown kinds are missing-schema, once per kind.

mod common;

use common::{findings, json_output, SCAN_SCHEMA_JSON};
use serde_json::Value;
use std::path::Path;

const DIR: &str = "tests/fixtures/catalog";

fn scan(args: &[&str]) -> (i32, Value) {
    json_output(common::shiplint(DIR).args(SCAN_SCHEMA_JSON).args(args))
}

fn valid_fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(Path::new(DIR).join("valid"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_catalogued_project_has_a_fixture_that_passes_strict() {
    let files = valid_fixtures();
    assert!(files.len() >= 15, "{files:?}");
    for f in &files {
        let (code, json) = scan(&[&format!("valid/{f}")]);
        assert!(
            code == 0 && findings(&json).is_empty(),
            "{f}: exit {code}: {:#?}",
            findings(&json)
        );
        assert!(
            json["summary"]["resources"].as_u64().unwrap() >= 1,
            "{f}: no resources read"
        );
    }
}

#[test]
fn a_typo_in_a_catalogued_resource_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    for f in valid_fixtures() {
        let text = std::fs::read_to_string(Path::new(DIR).join("valid").join(&f)).unwrap();
        // The first resource's spec gets a field no schema defines.
        let at = text.lines().position(|l| l == "spec:").unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(at + 1, "  specTypo: 1");
        let p = dir.path().join(&f);
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let (code, json) = json_output(common::shiplint(".").args(SCAN_SCHEMA_JSON).arg(&p));
        let f_ = findings(&json);
        assert_eq!(code, 1, "{f}: {f_:#?}");
        assert!(
            f_.iter().any(|x| x["rule"] == "schema/invalid"
                && x["message"]
                    .as_str()
                    .unwrap()
                    .contains("unknown field 'specTypo'")
                && x["span"]["line"] == at + 2),
            "{f}: expected the typo on line {}: {f_:#?}",
            at + 2
        );
    }
}

fn rules_and_messages(json: &Value) -> Vec<(String, String)> {
    findings(json)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_repository_crd_wins_over_crd_dir_which_wins_over_the_catalog() {
    // The catalog's Certificate has neither field.
    let (code, json) = scan(&["precedence/cert-fromRepo.yaml"]);
    assert_eq!(code, 1);
    assert!(
        rules_and_messages(&json)
            .iter()
            .any(|(_, m)| m.contains("unknown field 'fromRepo'")),
        "{json:#}"
    );
    // A CRD in the scanned files adds `fromRepo`.
    let (code, json) = scan(&["precedence/cert-fromRepo.yaml", "precedence/repo"]);
    assert_eq!(code, 0, "{json:#}");
    // --crd-dir adds `fromCrdDir`.
    let (code, json) = scan(&[
        "precedence/cert-fromCrdDir.yaml",
        "--crd-dir",
        "precedence/crd-dir",
    ]);
    assert_eq!(code, 0, "{json:#}");
    // Both: the scanned files' CRD wins, so `fromCrdDir` is unknown.
    let both = [
        "precedence/repo",
        "--crd-dir",
        "precedence/crd-dir",
        "precedence/cert-fromRepo.yaml",
    ];
    let (code, json) = scan(&both);
    assert_eq!(code, 0, "{json:#}");
    let (code, json) = scan(&[
        "precedence/repo",
        "--crd-dir",
        "precedence/crd-dir",
        "precedence/cert-fromCrdDir.yaml",
    ]);
    assert_eq!(code, 1);
    assert!(
        rules_and_messages(&json)
            .iter()
            .any(|(_, m)| m.contains("unknown field 'fromCrdDir'")),
        "{json:#}"
    );
}

#[test]
fn gateway_api_is_catalogued_and_other_k8s_io_groups_are_custom() {
    let (code, json) = scan(&["misc/gateway-and-snapshots.yaml"]);
    assert_eq!(code, 1);
    let all = rules_and_messages(&json);
    assert!(
        !all.iter().any(|(_, m)| m.contains("serves no")),
        "nothing here is a built-in API: {all:#?}"
    );
    assert!(
        !all.iter().any(|(_, m)| m.contains("HTTPRoute")),
        "{all:#?}"
    );
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].0, "schema/missing-schema");
    assert!(all[0]
        .1
        .contains("snapshot.storage.k8s.io/v1 VolumeSnapshot"));
}

#[test]
fn removed_builtin_apis_are_still_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("old.yaml");
    std::fs::write(
        &p,
        "apiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {name: x}\n",
    )
    .unwrap();
    let (code, json) = json_output(
        common::shiplint(".")
            .args([
                "scan",
                "--no-config",
                "--packs",
                "schema",
                "--format",
                "json",
            ])
            .arg(&p),
    );
    assert_eq!(code, 1);
    assert!(
        rules_and_messages(&json)
            .iter()
            .any(|(r, m)| r == "schema/missing-schema" && m.contains("serves no DaemonSet")),
        "{json:#}"
    );
}

#[test]
fn missing_schema_is_reported_once_per_kind_with_every_place() {
    let (code, json) = scan(&["misc/unknown-kinds.yaml"]);
    assert_eq!(code, 1);
    let f = findings(&json);
    assert_eq!(f.len(), 1, "{f:#?}");
    let m = f[0]["message"].as_str().unwrap();
    assert!(m.starts_with("3 resources ("), "{m}");
    assert!(
        m.contains("misc/unknown-kinds.yaml:1")
            && m.contains("misc/unknown-kinds.yaml:7")
            && m.contains("misc/unknown-kinds.yaml:13"),
        "{m}"
    );
    assert_eq!(m.matches("--ignore-missing-schemas").count(), 1, "{m}");
    let locs = f[0]["properties"]["locations"].as_array().unwrap();
    assert_eq!(locs.len(), 3);
    assert_eq!(locs[2]["line"], 13);
    assert_eq!(locs[2]["resource"], "Widget/three");
    assert_eq!(f[0]["span"]["line"], 1);
}

#[test]
fn sops_encrypted_secret_and_deployment_pass() {
    let (code, json) = scan(&["misc/sops-secret.yaml", "misc/sops-deployment.yaml"]);
    assert_eq!(code, 0, "{:#?}", findings(&json));
    assert_eq!(json["summary"]["resources"], 2);
    // Without the SOPS metadata, ENC[…] in an integer field is a type error.
    let text = std::fs::read_to_string(Path::new(DIR).join("misc/sops-deployment.yaml")).unwrap();
    let plain = text.split("\nsops:").next().unwrap().to_string() + "\n";
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.yaml");
    std::fs::write(&p, plain).unwrap();
    let (code, _) = json_output(common::shiplint(".").args(SCAN_SCHEMA_JSON).arg(&p));
    assert_eq!(code, 1);
}

#[test]
fn rules_list_the_catalog() {
    let out = common::shiplint(DIR)
        .args(["explain", "schema/missing-schema"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "Gateway API",
        "cert-manager",
        "Prometheus Operator",
        "Tekton",
    ] {
        assert!(text.contains(want), "{want} not in:\n{text}");
    }
}

#[test]
fn a_version_the_catalog_lacks_names_the_versions_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("old.yaml");
    std::fs::write(
        &p,
        "apiVersion: cert-manager.io/v1alpha2\nkind: Certificate\nmetadata: {name: x}\nspec: {}\n",
    )
    .unwrap();
    let (code, json) = json_output(common::shiplint(".").args(SCAN_SCHEMA_JSON).arg(&p));
    assert_eq!(code, 1);
    let all = rules_and_messages(&json);
    assert!(
        all.iter()
            .any(|(r, m)| r == "schema/missing-schema"
                && m.contains("only in v1 (from cert-manager")),
        "{all:#?}"
    );
}

#[test]
fn kustomize_builtin_transformers_are_not_unserved_apis() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("labels.yaml");
    std::fs::write(
        &p,
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: labels}\nlabels: {env: dev}\nfieldSpecs: [{path: metadata/labels, create: true}]\n",
    )
    .unwrap();
    let (code, json) = json_output(common::shiplint(".").args(SCAN_SCHEMA_JSON).arg(&p));
    assert_eq!(code, 0, "{:#?}", findings(&json));
}

#[test]
fn a_silenced_place_does_not_silence_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.yaml");
    std::fs::write(
        &p,
        "# shiplint:ignore schema/missing-schema\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: a}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: b\n  annotations: {shiplint.dev/ignore: schema/missing-schema}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: c}\n",
    )
    .unwrap();
    let (code, json) = json_output(common::shiplint(".").args(SCAN_SCHEMA_JSON).arg(&p));
    assert_eq!(code, 1);
    let f = findings(&json);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["span"]["line"], 12, "{f:#?}");
    assert_eq!(f[0]["properties"]["count"], 1);
}
