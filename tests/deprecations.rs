//! The `deprecations` pack through the real binary: removed vs deprecated vs
//! fine at several target versions, `List` items, Helm templates read line
//! by line, message contents, and the schema pack's removed-API dedupe.

mod common;

use common::{json_output, shiplint};
use serde_json::Value;

fn fixtures() -> String {
    format!("{}/tests/fixtures/deprecations", env!("CARGO_MANIFEST_DIR"))
}

fn scan(args: &[&str]) -> Value {
    let (code, v) = json_output(
        shiplint(fixtures())
            .args(["scan", "--no-config"])
            .args(args)
            .args(["-f", "json", "--fail-on", "never"]),
    );
    assert_eq!(code, 0, "{v:#}");
    v
}

/// (rule, path, line) per finding.
fn found(v: &Value) -> Vec<(String, String, u64)> {
    let mut out: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn expect(v: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    let mut out: Vec<_> = v
        .iter()
        .map(|(r, p, l)| (format!("deprecations/{r}"), p.to_string(), *l))
        .collect();
    out.sort();
    out
}

const MANIFESTS: &str = "manifests/old-apis.yaml";
const TEMPLATE: &str = "chart/templates/ingress.yaml";

#[test]
fn nothing_before_the_deprecation() {
    let v = scan(&["--packs", "deprecations", "--target-version", "1.13", "."]);
    assert_eq!(found(&v), vec![]);
}

#[test]
fn deprecated_but_served() {
    let v = scan(&["--packs", "deprecations", "--target-version", "1.20", "."]);
    assert_eq!(
        found(&v),
        expect(&[
            ("deprecated-api", MANIFESTS, 2),
            ("deprecated-api", TEMPLATE, 2),
        ])
    );
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "warning");
}

#[test]
fn removed_and_deprecated_mixed_including_list_items() {
    let v = scan(&["--packs", "deprecations", "--target-version", "1.23", "."]);
    assert_eq!(
        found(&v),
        expect(&[
            ("removed-api", MANIFESTS, 2),
            // Items of a `kind: List`, on their own apiVersion lines.
            ("deprecated-api", MANIFESTS, 15),
            ("deprecated-api", MANIFESTS, 24),
            ("removed-api", TEMPLATE, 2),
            ("deprecated-api", TEMPLATE, 12),
        ])
    );
}

#[test]
fn everything_removed_later() {
    let v = scan(&["--packs", "deprecations", "--target-version", "1.26", "."]);
    assert_eq!(
        found(&v),
        expect(&[
            ("removed-api", MANIFESTS, 2),
            ("removed-api", MANIFESTS, 15),
            ("removed-api", MANIFESTS, 24),
            ("removed-api", TEMPLATE, 2),
            ("removed-api", TEMPLATE, 12),
        ])
    );
    for f in v["findings"].as_array().unwrap() {
        assert_eq!(f["severity"], "error");
    }
}

#[test]
fn messages_and_properties_say_when_and_what_instead() {
    let v = scan(&["--packs", "deprecations", "--target-version", "1.25", "."]);
    let f = v["findings"].as_array().unwrap();
    let ing = f
        .iter()
        .find(|x| x["path"] == MANIFESTS && x["span"]["line"] == 2)
        .unwrap();
    let msg = ing["message"].as_str().unwrap();
    assert!(
        msg.contains("Ingress/shop/web uses extensions/v1beta1 Ingress"),
        "{msg}"
    );
    assert!(
        msg.contains("deprecated in Kubernetes 1.14 and removed in 1.22"),
        "{msg}"
    );
    assert!(msg.contains("Kubernetes 1.25 does not serve it"), "{msg}");
    assert!(msg.contains("use networking.k8s.io/v1"), "{msg}");
    assert!(
        msg.contains("service.name") && msg.contains("service.port.number"),
        "{msg}"
    );
    assert_eq!(ing["span"]["col"], 13);
    assert_eq!(ing["properties"]["replacement"], "networking.k8s.io/v1");
    assert_eq!(ing["properties"]["deprecatedIn"], "1.14");
    assert_eq!(ing["properties"]["removedIn"], "1.22");

    let cron = f
        .iter()
        .find(|x| x["path"] == MANIFESTS && x["span"]["line"] == 24)
        .unwrap();
    let msg = cron["message"].as_str().unwrap();
    assert!(msg.contains("use batch/v1"), "{msg}");
    assert!(msg.contains("only the apiVersion changes"), "{msg}");

    let psp = f
        .iter()
        .find(|x| x["path"] == TEMPLATE && x["span"]["line"] == 12)
        .unwrap();
    let msg = psp["message"].as_str().unwrap();
    assert!(msg.starts_with("Helm template: "), "{msg}");
    assert!(msg.contains("PodSecurityPolicy/restricted"), "{msg}");
    assert!(msg.contains("no replacement API"), "{msg}");
    assert!(msg.contains("Pod Security Admission"), "{msg}");
    assert_eq!(psp["properties"]["template"], true);
    // `apiVersion: {{ include … }}` is not guessed at.
    assert!(!f
        .iter()
        .any(|x| x["path"] == TEMPLATE && x["span"]["line"] == 19));
}

#[test]
fn target_defaults_to_the_kubernetes_version() {
    let v = scan(&[
        "--packs",
        "deprecations",
        "--kubernetes-version",
        "1.20",
        ".",
    ]);
    assert_eq!(found(&v).len(), 2);
    let v = scan(&[
        "--packs",
        "deprecations",
        "--kubernetes-version",
        "1.20",
        "--target-version",
        "1.26",
        ".",
    ]);
    assert_eq!(found(&v).len(), 5);
}

#[test]
fn schema_leaves_removed_apis_to_deprecations() {
    let only_schema = scan(&["--packs", "schema", MANIFESTS]);
    let missing: Vec<_> = found(&only_schema)
        .into_iter()
        .filter(|(r, _, _)| r == "schema/missing-schema")
        .map(|(_, _, l)| l)
        .collect();
    assert_eq!(missing, vec![2, 15, 24]);

    let both = scan(&["--packs", "schema,deprecations", MANIFESTS]);
    let rules: Vec<_> = found(&both).into_iter().map(|(r, _, l)| (r, l)).collect();
    assert!(
        !rules.iter().any(|(r, _)| r == "schema/missing-schema"),
        "{rules:?}"
    );
    assert!(rules.contains(&("deprecations/removed-api".to_string(), 2)));
}

#[test]
fn target_version_is_validated() {
    let out = shiplint(fixtures())
        .args(["scan", "--no-config", "--target-version", "latest", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Kubernetes version"));
}

/// A repository that silenced kube-score's `stable-version` (or kube-linter's
/// `no-extensions-v1beta`) is not flooded with deprecated-api warnings; a
/// removed API is still an error whatever the annotations say.
#[test]
fn peer_annotations_silence_deprecated_not_removed() {
    let dir = tempfile::tempdir().unwrap();
    let ingress = |name: &str, annotations: &str| {
        format!("apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: {name}\n  annotations:\n{annotations}spec:\n  backend:\n    serviceName: web\n    servicePort: 80\n")
    };
    let docs = [
        ingress("plain", "    example.com/x: y\n"),
        ingress(
            "score",
            "    kube-score/ignore: pod-probes, stable-version\n",
        ),
        ingress(
            "linter",
            "    ignore-check.kube-linter.io/no-extensions-v1beta: \"migrating in Q3\"\n",
        ),
    ];
    std::fs::write(dir.path().join("old.yaml"), docs.join("---\n")).unwrap();
    let at = |target: &str| -> Vec<(String, String, u64)> {
        let v = scan(&[
            "--packs",
            "deprecations",
            "--target-version",
            target,
            dir.path().to_str().unwrap(),
        ]);
        found(&v)
            .into_iter()
            .map(|(rule, _, line)| (rule, String::new(), line))
            .collect()
    };
    // 1.20: deprecated, still served: only the resource without a peer
    // annotation is reported.
    assert_eq!(at("1.20"), expect(&[("deprecated-api", "", 1)]));
    // 1.22: removed: every one of them fails the apply.
    assert_eq!(
        at("1.22"),
        expect(&[
            ("removed-api", "", 1),
            ("removed-api", "", 12),
            ("removed-api", "", 23)
        ])
    );
}

/// The table agrees with the API definitions of every embedded Kubernetes
/// version: no release at or after an entry's `removed_in` defines that
/// apiVersion and kind, and an entry with no removal is still defined in the
/// newest one. (pluto's data said resource.k8s.io/v1beta1 went in 1.36,
/// while 1.36 and 1.37 still define it.)
#[test]
fn the_table_agrees_with_the_embedded_api_definitions() {
    use shiplint::config::KubeVersion;
    use shiplint::k8s::schemas::{versions, EmbeddedSchemas};
    let all = versions().unwrap();
    let schemas: Vec<_> = all
        .iter()
        .map(|v| (*v, EmbeddedSchemas::load(Some(*v), false).unwrap()))
        .collect();
    let newest = &schemas.last().unwrap().1;
    let mut wrong = Vec::new();
    for d in shiplint::packs::deprecations::table().values() {
        match d
            .removed_in
            .as_deref()
            .map(|r| KubeVersion::parse(r).unwrap())
        {
            Some(removed) => {
                for (v, s) in &schemas {
                    if *v >= removed && s.has_kind(&d.api_version, &d.kind) {
                        wrong.push(format!(
                            "{} {}: removed in {removed}, defined in {v}",
                            d.api_version, d.kind
                        ));
                    }
                }
            }
            None => {
                let first = all.first().unwrap();
                let deprecated = d
                    .deprecated_in
                    .as_deref()
                    .map(|r| KubeVersion::parse(r).unwrap());
                if deprecated.is_some_and(|dv| dv >= *first)
                    && !newest.has_kind(&d.api_version, &d.kind)
                {
                    wrong.push(format!(
                        "{} {}: no removal, but {} does not define it",
                        d.api_version,
                        d.kind,
                        newest.version()
                    ));
                }
            }
        }
    }
    wrong.sort();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A chart that picks its apiVersion by `.Capabilities` is judged by the
/// branch the target cluster renders; branches that depend on values are
/// all read (each `apiVersion:` of a document, not only the last).
#[test]
fn template_branches_follow_the_target_version() {
    let dir = format!(
        "{}/tests/fixtures/deprecations-branches",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = |target: &str| {
        let (_, v) = json_output(shiplint(&dir).args([
            "scan",
            "--no-config",
            "--packs",
            "deprecations",
            "--target-version",
            target,
            "-f",
            "json",
            "--fail-on",
            "never",
        ]));
        found(&v)
            .into_iter()
            .map(|(rule, _, line)| (rule, line))
            .collect::<Vec<_>>()
    };
    let removed = |l| ("deprecations/removed-api".to_string(), l);
    let deprecated = |l| ("deprecations/deprecated-api".to_string(), l);
    // 1.33: the v1 branch is rendered; only the values-driven CronJob
    // branch can still pick a removed API.
    assert_eq!(run("1.33"), vec![removed(13)]);
    // 1.20: v1 again; v1beta1 CronJob is deprecated (1.21) — not yet.
    assert_eq!(run("1.20"), vec![]);
    // 1.21: the CronJob branch is deprecated.
    assert_eq!(run("1.21"), vec![deprecated(13)]);
    // 1.16: the v1beta1 branch is rendered and still served.
    assert_eq!(run("1.16"), vec![]);
}
