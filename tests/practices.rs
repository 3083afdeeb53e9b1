//! The `practices` pack through the real binary.
//!
//! The seed's story (tests/fixtures/practices/seed/web.yaml): a Deployment
//! written in a hurry — `containerPort: "8080"` (a string), no probes, cpu
//! and memory requests but no limits, no security context, 3 replicas and
//! no PodDisruptionBudget. With `--packs schema,practices` and default rule
//! levels exactly these fire:
//!
//! | rule | line | why |
//! |---|---|---|
//! | practices/pdb-missing (note) | 5 | 3 replicas, no PDB |
//! | practices/automount-service-account-token (note) | 18 | pod `spec:` |
//! | practices/readiness-probe-missing, liveness-probe-missing | 20 | `- name: web` |
//! | practices/memory-limit-missing | 20 | |
//! | practices/privilege-escalation, run-as-root | 20 | no securityContext |
//! | practices/readonly-root-filesystem, capabilities-drop-all, seccomp-profile-unset (notes) | 20 | |
//! | schema/invalid | 23 | `containerPort: "8080"` |
//!
//! The Service in the same file selects the Deployment, so
//! `service-selector-no-match` stays quiet; `ephemeral-storage-missing` is
//! off by default. The fixed manifest (fixtures/practices/fixed) yields
//! nothing at all.

mod common;

use common::{json_output, rule_lines as pairs, shiplint};
use serde_json::Value;

fn fixture(rel: &str) -> String {
    format!(
        "{}/tests/fixtures/practices/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn scan_json(args: &[&str]) -> Value {
    let (code, v) = json_output(shiplint(".").arg("scan").args(args).args([
        "-f",
        "json",
        "--fail-on",
        "never",
    ]));
    assert_eq!(code, 0, "{v:#}");
    v
}

fn sorted(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut v: Vec<_> = v.iter().map(|(r, l)| (r.to_string(), *l)).collect();
    v.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    v
}

fn sorted_pairs(v: &Value) -> Vec<(String, u64)> {
    let mut p = pairs(v);
    p.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    p
}

#[test]
fn seed_story_yields_exactly_the_schema_error_probes_and_memory_limit() {
    let v = scan_json(&[
        "--no-config",
        "--packs",
        "schema,practices",
        &fixture("seed"),
    ]);
    assert_eq!(
        sorted_pairs(&v),
        sorted(&[
            ("practices/pdb-missing", 5),
            ("practices/automount-service-account-token", 18),
            ("practices/capabilities-drop-all", 20),
            ("practices/liveness-probe-missing", 20),
            ("practices/memory-limit-missing", 20),
            ("practices/privilege-escalation", 20),
            ("practices/readiness-probe-missing", 20),
            ("practices/readonly-root-filesystem", 20),
            ("practices/run-as-root", 20),
            ("practices/seccomp-profile-unset", 20),
            ("schema/invalid", 23),
        ])
    );
    // The three the story is about, on the right lines and severities.
    let f = v["findings"].as_array().unwrap();
    let find = |rule: &str| f.iter().find(|x| x["rule"] == rule).unwrap().clone();
    assert_eq!(find("schema/invalid")["severity"], "error");
    assert_eq!(
        find("practices/readiness-probe-missing")["severity"],
        "warning"
    );
    assert_eq!(
        find("practices/liveness-probe-missing")["severity"],
        "warning"
    );
    let mem = find("practices/memory-limit-missing");
    assert_eq!(mem["severity"], "warning");
    assert!(mem["message"].as_str().unwrap().contains("container 'web'"));
}

#[test]
fn fixed_manifest_is_clean() {
    let v = scan_json(&[
        "--no-config",
        "--packs",
        "schema,practices",
        &fixture("fixed"),
    ]);
    assert_eq!(pairs(&v), vec![]);
}

#[test]
fn jobs_cronjobs_and_init_containers_need_no_probes() {
    let v = scan_json(&[
        "--no-config",
        "--packs",
        "schema,practices",
        &fixture("quiet"),
    ]);
    assert_eq!(pairs(&v), vec![]);
}

#[test]
fn other_tools_annotations_silence_mapped_rules_and_secrets_are_redacted() {
    let v = scan_json(&["--no-config", "--packs", "practices", &fixture("annotated")]);
    assert_eq!(pairs(&v), vec![("practices/env-secret".to_string(), 28)]);
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains("hunter2"), "the raw value leaked: {text}");
    assert!(text.contains("DB_PASSWORD"));
    let out = shiplint(".")
        .args(["scan", "--no-config", "--packs", "practices"])
        .arg(fixture("annotated"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("<redacted>"), "{stdout}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
}

#[test]
fn config_turns_on_default_off_rules_and_digest_policy() {
    let quiet = scan_json(&["--no-config", "--packs", "practices", &fixture("optin")]);
    let rules: Vec<String> = pairs(&quiet).into_iter().map(|(r, _)| r).collect();
    assert!(!rules.contains(&"practices/ephemeral-storage-missing".to_string()));
    assert!(!rules.contains(&"practices/image-digest-missing".to_string()));
    // .shiplint.yaml in the folder: `rules: {practices/ephemeral-storage-missing: note}`
    // and `practices: {require-digest: true}`.
    let on = scan_json(&["--packs", "practices", &fixture("optin")]);
    let got = pairs(&on);
    assert!(got.contains(&("practices/ephemeral-storage-missing".to_string(), 8)));
    assert!(got.contains(&("practices/image-digest-missing".to_string(), 9)));
}

#[test]
fn rules_and_explain_document_every_rule() {
    let out = shiplint(".")
        .args(["rules", "--pack", "practices"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.lines().count() >= 30, "{text}");
    let eph = text
        .lines()
        .find(|l| l.starts_with("practices/ephemeral-storage-missing"))
        .unwrap();
    assert!(eph.contains("off by default"), "{eph}");
    for line in text.lines() {
        let id = line.split_whitespace().next().unwrap();
        let out = shiplint(".").args(["explain", id]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("## What it finds"), "{id}");
        assert!(help.contains("## How to fix"), "{id}");
        assert!(help.contains("```"), "{id} has no snippet");
    }
    let out = shiplint(".")
        .args(["explain", "practices/readiness-probe-missing"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("## Why it matters"));
    assert!(help.contains("kube-score/ignore: pod-probes"), "{help}");
    assert!(
        help.contains("polaris.fairwinds.com/readinessProbeMissing-exempt"),
        "{help}"
    );
    assert!(help.contains("CKV_K8S_9"), "{help}");
}

#[test]
fn sarif_carries_rule_help() {
    let (_, v) = json_output(
        shiplint(".")
            .args(["scan", "--no-config", "--packs", "practices", "-f", "sarif"])
            .arg(fixture("seed")),
    );
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let r = rules
        .iter()
        .find(|r| r["id"] == "practices/memory-limit-missing")
        .unwrap();
    assert!(r["help"]["markdown"]
        .as_str()
        .unwrap()
        .contains("Why it matters"));
}

#[test]
fn dangling_service_selector_unless_templates_hide_the_workload() {
    let rule = "practices/service-selector-no-match".to_string();
    let v = scan_json(&["--no-config", "--packs", "practices", &fixture("dangling")]);
    assert!(pairs(&v).contains(&(rule.clone(), 21)), "{:?}", pairs(&v));
    // Same files plus an unrendered template in the folder: the workload
    // the Service wants may be in it, so nothing is claimed.
    let v = scan_json(&["--no-config", "--packs", "practices", &fixture("templated")]);
    assert!(
        !pairs(&v).iter().any(|(r, _)| *r == rule),
        "{:?}",
        pairs(&v)
    );
}

/// Cross-object findings are made after the per-file phase, when no file is
/// in memory: each still gets its own file's snippet, and its own file's
/// `# shiplint:ignore` comment or `shiplint.dev/ignore` annotation.
#[test]
fn cross_object_findings_across_many_files_keep_snippets_and_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    let service = |name: &str, comment: &str, annotation: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n{annotation}spec:\n  selector:{comment}\n    app: nobody-{name}\n  ports:\n    - port: 80\n"
        )
    };
    for i in 0..40 {
        let (comment, annotation) = match i % 4 {
            1 => (" # shiplint:ignore practices/service-selector-no-match", ""),
            2 => (
                "",
                "  annotations:\n    shiplint.dev/ignore: practices/service-selector-no-match\n",
            ),
            _ => ("", ""),
        };
        let name = format!("svc{i:02}");
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            service(&name, comment, annotation),
        )
        .unwrap();
    }
    // A workload in the run: with none, a selector could match anything.
    std::fs::write(
        dir.path().join("web.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/example/web:1.0.0\n",
    )
    .unwrap();
    let v = scan_json(&[
        "--no-config",
        "--packs",
        "practices",
        dir.path().to_str().unwrap(),
    ]);
    let found: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "practices/service-selector-no-match")
        .collect();
    let files: Vec<String> = found
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            path.rsplit('/').next().unwrap().to_string()
        })
        .collect();
    let expected: Vec<String> = (0..40)
        .filter(|i| i % 4 == 0 || i % 4 == 3)
        .map(|i| format!("svc{i:02}.yaml"))
        .collect();
    assert_eq!(files, expected);
    for f in found {
        let name = f["path"].as_str().unwrap();
        // The finding is on `selector:` (line 6): the snippet is that line
        // of its own file.
        assert_eq!(f["span"]["line"], 6, "{name}");
        assert_eq!(f["snippet"]["text"], "  selector:", "{name}");
    }
}

/// A token in a plain env value is one problem: with the secrets pack on,
/// its finding (which names the credential) is the only one on that line;
/// without it, practices/env-secret still reports the value.
#[test]
fn a_recognised_token_in_env_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let token = "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";
    std::fs::write(
        dir.path().join("web.yaml"),
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/example/web:1.0.0\n          env:\n            - name: GITHUB_TOKEN\n              value: {token}\n            - name: DB_PASSWORD\n              value: hunter2-prod\n"),
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let on_env_lines = |v: &Value| -> Vec<(String, u64)> {
        pairs(v).into_iter().filter(|(_, l)| *l >= 17).collect()
    };
    let both = scan_json(&["--no-config", "--packs", "practices,secrets", path]);
    assert_eq!(
        on_env_lines(&both),
        [
            ("secrets/github-pat".to_string(), 17),
            ("practices/env-secret".to_string(), 19)
        ]
    );
    let alone = scan_json(&["--no-config", "--packs", "practices", path]);
    assert_eq!(
        on_env_lines(&alone),
        [
            ("practices/env-secret".to_string(), 17),
            ("practices/env-secret".to_string(), 19)
        ]
    );
    assert!(!serde_json::to_string(&both).unwrap().contains(token));
}

/// RBAC: every rbac-* rule on the line of the offending list item (or
/// subject), and least-privilege roles, aggregated ClusterRoles and narrow
/// bindings stay quiet.
#[test]
fn rbac_rules_fire_on_the_offending_items_and_narrow_roles_are_quiet() {
    let v = scan_json(&["--no-config", "--packs", "practices", &fixture("rbac")]);
    let got: Vec<(String, u64, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            (
                f["rule"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
                path.rsplit('/').next().unwrap().to_string(),
            )
        })
        .collect();
    let mut got = got;
    got.sort();
    let risky = |r: &str, l: u64| (format!("practices/{r}"), l, "risky.yaml".to_string());
    let mut want = vec![
        risky("rbac-secrets-read-cluster-wide", 10),
        risky("rbac-escalation-verbs", 15),
        risky("rbac-webhook-control", 18),
        risky("rbac-pods-exec", 22),
        risky("rbac-wildcard", 30),
        risky("rbac-cluster-admin-bound", 41),
        risky("rbac-default-service-account-bound", 58),
    ];
    want.sort();
    assert_eq!(got, want);
    let help = shiplint(".")
        .args(["explain", "practices/rbac-wildcard"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("CKV_K8S_49"), "{help}");
    assert!(help.contains("wildcard-in-rules"), "{help}");
}

/// NetworkPolicies count for the unit of deployment they sit in: a policy
/// of another sample of a monorepo says nothing about `samples/hello`; the
/// team's `k8s/policies/` beside `k8s/app.yaml` does, so the worker no
/// policy selects is reported (and only it).
#[test]
fn network_policies_judge_only_their_own_folder_tree() {
    let v = scan_json(&["--no-config", "--packs", "practices", &fixture("netpol")]);
    let got: Vec<(String, u64)> = pairs(&v)
        .into_iter()
        .filter(|(r, _)| r == "practices/network-policy-missing")
        .collect();
    assert_eq!(
        got,
        vec![("practices/network-policy-missing".to_string(), 20)]
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "practices/network-policy-missing")
        .unwrap();
    assert!(f["path"].as_str().unwrap().ends_with("team/k8s/app.yaml"));
}
