//! Kustomize overlays built in Rust: the build equals `kubectl kustomize`
//! on real trees (copied under tests/fixtures/kustomize/corpus), and
//! findings on what an overlay builds land on the line a person edits: the
//! base line, the patch line, the kustomization line.

mod common;

use common::{findings, json_run};
use serde_json::Value;
use std::path::{Path, PathBuf};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kustomize");

/// `scan --no-config -f json --fail-on never ARGS` in `dir`, without an
/// external kustomize (unless `external` names one).
fn scan_in(dir: &Path, external: Option<&Path>, args: &[&str]) -> (Value, String) {
    let mut c = common::shiplint(dir);
    c.env(
        "SHIPLINT_KUSTOMIZE",
        external.map(|h| h.as_os_str()).unwrap_or_default(),
    )
    .args(["scan", "--no-config", "-f", "json", "--fail-on", "never"])
    .args(args);
    let (code, v, stderr) = json_run(&mut c);
    assert_eq!(code, 0, "{stderr}");
    (v, stderr)
}

fn scan(args: &[&str]) -> Value {
    scan_in(Path::new(DIR), None, args).0
}

/// (path, line) of every finding of `rule`.
fn at(v: &Value, rule: &str) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = findings(v)
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn one(path: &str, line: u64) -> Vec<(String, u64)> {
    vec![(path.to_string(), line)]
}

fn notes(v: &Value) -> String {
    v["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .map(|x| x.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[test]
fn new_tag_latest_lands_on_the_new_tag_line() {
    let v = scan(&["app"]);
    assert_eq!(
        at(&v, "practices/image-latest-tag"),
        one("app/overlays/prod/kustomization.yaml", 9)
    );
    let f = findings(&v)
        .iter()
        .find(|f| f["rule"] == "practices/image-latest-tag")
        .unwrap();
    assert_eq!(f["snippet"]["text"], "    newTag: latest", "{f}");
    assert_eq!(
        f["properties"]["rendered"]["kustomization"],
        "app/overlays/prod"
    );
}

#[test]
fn a_patch_that_makes_a_container_privileged_is_reported_on_the_patch_line() {
    let v = scan(&["app"]);
    assert_eq!(
        at(&v, "practices/privileged-container"),
        one("app/overlays/prod/privileged.yaml", 11)
    );
}

#[test]
fn a_base_problem_is_reported_once_on_the_base_line() {
    // Scanned as it is, and built by two overlays: one finding.
    let v = scan(&["app"]);
    assert_eq!(
        at(&v, "practices/env-secret"),
        one("app/base/deployment.yaml", 47)
    );
    assert_eq!(
        at(&v, "practices/automount-service-account-token"),
        one("app/base/deployment.yaml", 16)
    );
}

#[test]
fn cross_object_rules_see_one_overlays_objects_and_land_on_the_json_patch() {
    // dev's JSON patch points the Service at `app: webb`; prod's Service
    // (renamed, relabelled) still selects prod's pods.
    let v = scan(&["app"]);
    assert_eq!(
        at(&v, "practices/service-selector-no-match"),
        one("app/overlays/dev/kustomization.yaml", 9)
    );
}

#[test]
fn a_patch_without_its_target_is_an_error_on_the_patch_entry_and_the_rest_is_built() {
    let v = scan(&["missing"]);
    assert_eq!(
        at(&v, "render/patch-target-missing"),
        one("missing/overlay/kustomization.yaml", 4)
    );
    let f = findings(&v)
        .iter()
        .find(|f| f["rule"] == "render/patch-target-missing")
        .unwrap();
    assert!(
        f["message"].as_str().unwrap().contains("wbe"),
        "{}",
        f["message"]
    );
    // The other patch still applies, and is checked.
    assert_eq!(
        at(&v, "practices/host-network"),
        one("missing/overlay/hostnet.yaml", 8)
    );
}

#[test]
fn an_unsupported_feature_is_named_in_a_note_and_the_overlay_skipped_without_kubectl() {
    let v = scan(&["unsupported"]);
    let n = notes(&v);
    assert!(
        n.contains("kustomization unsupported not built")
            && n.contains("unsupported/kustomization.yaml:4")
            && n.contains("replacements"),
        "{n}"
    );
    assert!(at(&v, "render/kustomize-error").is_empty());
}

#[test]
fn an_unsupported_feature_goes_to_kubectl_and_findings_land_on_the_kustomization() {
    let Some(kubectl) = kubectl() else { return };
    let (v, _) = scan_in(Path::new(DIR), Some(&kubectl), &["unsupported"]);
    let n = notes(&v);
    assert!(n.contains("built with kubectl"), "{n}");
    // The pod as written, and as kubectl built it (on the kustomization).
    assert_eq!(
        at(&v, "practices/image-latest-tag"),
        vec![
            ("unsupported/kustomization.yaml".to_string(), 1),
            ("unsupported/pod.yaml".to_string(), 8)
        ]
    );
}

#[test]
fn a_base_that_includes_itself_is_an_error_not_a_crash() {
    let v = scan(&["selfref"]);
    assert_eq!(
        at(&v, "render/kustomize-error"),
        one("selfref/kustomization.yaml", 3)
    );
    let f = findings(&v)
        .iter()
        .find(|f| f["rule"] == "render/kustomize-error")
        .unwrap();
    assert!(f["message"].as_str().unwrap().contains("cycle"), "{f}");
}

/// A repository in a temporary folder, with a secret next to it (outside).
fn escape_repo() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("secret.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\ndata:\n  token: do-not-read-me\n",
    )
    .unwrap();
    let repo = t.path().join("repo");
    std::fs::create_dir_all(repo.join("overlay")).unwrap();
    (t, repo)
}

/// The scan of `repo` refuses its overlay (a `kustomize-error` on the
/// overlay's resource line saying `why`) and shows nothing from outside.
fn refused(repo: &Path, why: &str) {
    let (v, _) = scan_in(repo, None, &["."]);
    assert_eq!(
        at(&v, "render/kustomize-error"),
        one("overlay/kustomization.yaml", 2)
    );
    let text = v.to_string();
    assert!(text.contains(why), "{text}");
    assert!(!text.contains("do-not-read-me") && !text.contains("stolen"));
}

#[test]
fn a_resource_outside_the_repository_is_never_read() {
    let (_t, repo) = escape_repo();
    std::fs::write(
        repo.join("overlay/kustomization.yaml"),
        "resources:\n  - ../../outside/secret.yaml\n",
    )
    .unwrap();
    refused(&repo, "leaves the scanned repository");
}

#[test]
fn a_symbolic_link_out_of_the_repository_is_never_read() {
    let (_t, repo) = escape_repo();
    std::os::unix::fs::symlink(
        repo.join("../outside/secret.yaml"),
        repo.join("overlay/secret.yaml"),
    )
    .unwrap();
    std::fs::write(
        repo.join("overlay/kustomization.yaml"),
        "resources:\n  - secret.yaml\n",
    )
    .unwrap();
    refused(&repo, "symbolic link out of");
}

#[test]
fn a_remote_base_is_a_note_and_never_fetched() {
    let (_t, repo) = escape_repo();
    std::fs::write(
        repo.join("overlay/kustomization.yaml"),
        "resources:\n  - https://github.com/example/app//deploy?ref=v1\n",
    )
    .unwrap();
    let (v, _) = scan_in(&repo, None, &["."]);
    let n = notes(&v);
    assert!(
        n.contains("remote resource") && n.contains("never fetched"),
        "{n}"
    );
}

#[test]
fn render_prints_the_built_stream_with_source_comments() {
    let out = common::shiplint(DIR)
        .env("SHIPLINT_KUSTOMIZE", "")
        .args(["render", "app"])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(s.contains("---\n# Source: app/overlays/prod\n"), "{s}");
    assert!(s.contains("---\n# Source: app/overlays/dev\n"), "{s}");
    assert!(s.contains("image: nginx:latest"), "{s}");
    assert!(s.contains("name: prod-web"), "{s}");
    // Bases are built through their overlays, not on their own.
    assert!(!s.contains("# Source: app/base\n"), "{s}");
}

/// `kubectl`, or `None` (said loudly) on a machine without it.
fn kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file());
    if found.is_none() {
        eprintln!("SKIPPING: no kubectl on PATH (run .ci/setup.sh): the build is not compared with kubectl kustomize");
    }
    found
}

/// JSON with every object's keys sorted, as text.
fn canonical(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sort(&m[k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

/// The objects of a YAML stream, canonical and sorted.
fn objects(stream: &str) -> Vec<String> {
    let mut out: Vec<String> = shiplint::manifest::yaml::parse_stream(stream, Default::default())
        .documents
        .iter()
        .filter(|d| !d.root.is_null())
        .map(|d| canonical(&d.root.to_json()))
        .collect();
    out.sort();
    out
}

/// Overlays (of the copied corpus, and one of ours) whose features the Rust
/// build supports.
const PARITY: &[&str] = &[
    "corpus/GoogleCloudPlatform__microservices-demo/kustomize/base",
    "corpus/GoogleCloudPlatform__microservices-demo/kustomize/components/network-policies",
    "corpus/fluxcd__flux2-kustomize-helm-example/apps/base/podinfo",
    "corpus/fluxcd__flux2-kustomize-helm-example/apps/production",
    "corpus/fluxcd__flux2-kustomize-helm-example/apps/staging",
    "corpus/kubernetes-sigs__kustomize/examples/helloWorld",
    "corpus/kubernetes-sigs__kustomize/examples/ldap/base",
    "corpus/kubernetes-sigs__kustomize/examples/ldap/overlays/production",
    "corpus/kubernetes-sigs__kustomize/examples/ldap/overlays/staging",
    "corpus/kubernetes-sigs__kustomize/examples/multibases",
    "corpus/kubernetes-sigs__kustomize/examples/multibases/base",
    "corpus/kubernetes-sigs__kustomize/examples/multibases/dev",
    "corpus/kubernetes-sigs__kustomize/examples/multibases/production",
    "corpus/kubernetes-sigs__kustomize/examples/multibases/staging",
    "corpus/kubernetes-sigs__kustomize/examples/springboot/base",
    "corpus/kubernetes-sigs__kustomize/examples/springboot/overlays/production",
    "corpus/kubernetes-sigs__kustomize/examples/springboot/overlays/staging",
    "corpus/kubernetes-sigs__kustomize/examples/wordpress/mysql",
    "corpus/kubernetes-sigs__kustomize/examples/wordpress/wordpress",
    "corpus/stefanprodan__podinfo/kustomize",
    // Written for this test: every transformer at once (labels into
    // selectors, templates and claim templates, digests, replicas, deletes,
    // replaces, JSON patch copy/test, name references, a suffix).
    "features/ov",
    // Generators (env files, files, literals, merge, options), a component
    // with a regex target and images, replicas after a prefix.
    "features/generators/ov",
    // Services that webhooks, an APIService and a CRD conversion call into,
    // under a namespace and a prefix.
    "features/webhooks",
];

#[test]
fn the_rust_build_equals_kubectl_kustomize_on_the_corpus() {
    let Some(kubectl) = kubectl() else { return };
    let corpus = Path::new(DIR);
    let mut differ = Vec::new();
    for dir in PARITY {
        let theirs = std::process::Command::new(&kubectl)
            .args(["kustomize", dir])
            .current_dir(corpus)
            .output()
            .unwrap();
        assert!(theirs.status.success(), "kubectl kustomize {dir} failed");
        let ours = common::shiplint(corpus)
            .env("SHIPLINT_KUSTOMIZE", "")
            .args(["render", dir])
            .output()
            .unwrap();
        assert!(
            ours.status.success(),
            "{dir}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        // Only this overlay's section of the stream.
        let text = String::from_utf8_lossy(&ours.stdout);
        let marker = format!("# Source: {dir}\n");
        let mine: String = text
            .split("---\n")
            .filter_map(|d| d.strip_prefix(&marker))
            .map(|d| format!("---\n{d}"))
            .collect();
        let (a, b) = (
            objects(&mine),
            objects(&String::from_utf8_lossy(&theirs.stdout)),
        );
        assert!(
            !b.is_empty() || dir.contains("none"),
            "{dir}: kubectl built nothing"
        );
        if a != b {
            differ.push(format!(
                "{dir}:\n  ours only: {:?}\n  kubectl only: {:?}",
                a.iter().filter(|x| !b.contains(x)).collect::<Vec<_>>(),
                b.iter().filter(|x| !a.contains(x)).collect::<Vec<_>>()
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn an_overlay_with_vars_is_not_built_in_rust() {
    // wordpress's root uses `vars`: named in a note (and built by kubectl
    // when there is one; here there is none).
    let (v, _) = scan_in(
        &Path::new(DIR).join("corpus"),
        None,
        &["kubernetes-sigs__kustomize/examples/wordpress"],
    );
    let n = notes(&v);
    assert!(
        n.contains("vars at kubernetes-sigs__kustomize/examples/wordpress/kustomization.yaml"),
        "{n}"
    );
}

#[test]
fn kustomizations_that_include_each_other_are_reported() {
    let t = tempfile::tempdir().unwrap();
    for (d, other) in [("a", "../b"), ("b", "../a")] {
        std::fs::create_dir_all(t.path().join(d)).unwrap();
        std::fs::write(
            t.path().join(d).join("kustomization.yaml"),
            format!("resources:\n  - {other}\n"),
        )
        .unwrap();
    }
    let (v, _) = scan_in(t.path(), None, &["."]);
    let errors = at(&v, "render/kustomize-error");
    assert!(!errors.is_empty(), "{v}");
    assert!(v.to_string().contains("cycle"), "{v}");
}

#[test]
fn generated_objects_are_named_by_their_content_and_referenced() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(
        d.join("kustomization.yaml"),
        "namespace: shop\nresources:\n  - pod.yaml\nsecretGenerator:\n  - name: creds\n    literals:\n      - user=admin\nconfigMapGenerator:\n  - name: settings\n    literals:\n      - mode=fancy\n",
    )
    .unwrap();
    std::fs::write(
        d.join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tool\nspec:\n  containers:\n    - name: tool\n      image: busybox:1.36\n      envFrom:\n        - configMapRef:\n            name: settings\n        - secretRef:\n            name: creds\n",
    )
    .unwrap();
    let out = common::shiplint(d)
        .env("SHIPLINT_KUSTOMIZE", "")
        .args(["render", "."])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The suffix is a hash of the content (kustomize's), and the pod's
    // references follow the new names.
    let cm = s
        .lines()
        .find_map(|l| l.trim().strip_prefix("name: settings-"))
        .expect(&s)
        .to_string();
    assert_eq!(cm.len(), 10, "{s}");
    assert_eq!(s.matches(&format!("settings-{cm}")).count(), 2, "{s}");
    assert!(s.contains("namespace: shop"), "{s}");
    if let Some(kubectl) = kubectl() {
        let theirs = std::process::Command::new(kubectl)
            .args(["kustomize", "."])
            .current_dir(d)
            .output()
            .unwrap();
        let theirs = String::from_utf8_lossy(&theirs.stdout);
        assert!(
            theirs.contains(&format!("settings-{cm}")),
            "{theirs}\n---\n{s}"
        );
        let mine: String = s
            .split("---\n")
            .map(|d| d.trim_start_matches("# Source: .\n"))
            .collect::<Vec<_>>()
            .join("---\n");
        assert_eq!(objects(&mine), objects(&theirs));
    }
}

#[test]
fn a_suppression_comment_in_the_base_holds_for_the_overlays() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir_all(d.join("base")).unwrap();
    std::fs::create_dir_all(d.join("overlay")).unwrap();
    std::fs::write(
        d.join("base/kustomization.yaml"),
        "resources:\n  - pod.yaml\n",
    )
    .unwrap();
    std::fs::write(
        d.join("base/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tool\nspec:\n  containers:\n    - name: tool\n      # shiplint:ignore practices/image-latest-tag\n      image: busybox:latest\n",
    )
    .unwrap();
    std::fs::write(
        d.join("overlay/kustomization.yaml"),
        "namePrefix: x-\nresources:\n  - ../base\n",
    )
    .unwrap();
    let (v, _) = scan_in(d, None, &["."]);
    assert!(at(&v, "practices/image-latest-tag").is_empty(), "{v}");
    // The overlay was built and checked: its pod is the run's second.
    assert_eq!(v["summary"]["resources"], 2, "{v}");
}

#[test]
fn a_remote_base_is_never_handed_to_kubectl() {
    // A stand-in for kubectl that records being run.
    let (t, repo) = escape_repo();
    let marker = t.path().join("ran");
    let fake = t.path().join("kubectl");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\ntouch '{}'\necho '{{}}'\n", marker.display()),
    )
    .unwrap();
    let mut perm = std::fs::metadata(&fake).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&fake, perm).unwrap();
    // The remote entry sits in a base, behind a feature the Rust build
    // hands over.
    std::fs::create_dir_all(repo.join("base")).unwrap();
    std::fs::write(
        repo.join("base/kustomization.yaml"),
        "resources:\n  - github.com/example/app//deploy?ref=v1\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("overlay/kustomization.yaml"),
        "helmCharts:\n  - name: x\nresources:\n  - ../base\n",
    )
    .unwrap();
    let (v, _) = scan_in(&repo, Some(&fake), &["."]);
    assert!(!marker.exists(), "kubectl was run");
    let n = notes(&v);
    assert!(
        n.contains("is remote") && n.contains("nothing is fetched"),
        "{n}"
    );
}

#[test]
fn a_flux_kustomization_named_like_a_kustomization_is_not_built() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("kustomization.yaml"),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    )
    .unwrap();
    let (v, _) = scan_in(t.path(), None, &["."]);
    assert!(at(&v, "render/kustomize-error").is_empty(), "{v}");
    assert!(!notes(&v).contains("kustomization"), "{v}");
    assert_eq!(v["summary"]["resources"], 1, "{v}");
}

#[test]
fn a_kustomization_file_that_links_out_of_the_repository_is_never_read() {
    let (_t, repo) = escape_repo();
    // The outside "kustomization" would pull in the secret next to it.
    std::fs::write(
        repo.join("../outside/kustomization.yaml"),
        "resources:\n  - secret.yaml\n",
    )
    .unwrap();
    std::fs::create_dir_all(repo.join("base")).unwrap();
    std::os::unix::fs::symlink(
        repo.join("../outside/kustomization.yaml"),
        repo.join("base/kustomization.yaml"),
    )
    .unwrap();
    std::fs::write(
        repo.join("overlay/kustomization.yaml"),
        "resources:\n  - ../base\n",
    )
    .unwrap();
    refused(&repo, "symbolic link out of");
}

#[test]
fn render_enabled_false_leaves_overlays_as_they_are() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(d.join(".shiplint.yaml"), "render:\n  enabled: false\n").unwrap();
    std::fs::write(
        d.join("kustomization.yaml"),
        "resources:\n  - missing.yaml\n",
    )
    .unwrap();
    let mut c = common::shiplint(d);
    c.args(["scan", "-f", "json", "--fail-on", "never", "."]);
    let (code, v, stderr) = json_run(&mut c);
    assert_eq!(code, 0, "{stderr}");
    assert!(at(&v, "render/kustomize-error").is_empty(), "{v}");
}

/// A repository scanned by its path from a folder outside it builds the
/// same overlays (paths shown as discovery shows them: absolute), and its
/// load restrictor is that repository, not the current folder.
#[test]
fn a_repository_scanned_from_outside_builds_its_overlays() {
    let (_t, repo) = escape_repo();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    copy_dir(&Path::new(DIR).join("app"), &repo.join("app"));
    let inside = scan_in(&repo, None, &["app"]).0;
    let cwd = tempfile::tempdir().unwrap();
    let repo = repo.canonicalize().unwrap();
    let app = repo.join("app");
    let outside = scan_in(cwd.path(), None, &[app.to_str().unwrap()]).0;
    let prefix = format!("{}/", repo.display());
    let strip = |v: &Value| -> Vec<(String, u64, String)> {
        let mut out: Vec<_> = findings(v)
            .iter()
            .map(|f| {
                (
                    f["path"]
                        .as_str()
                        .unwrap()
                        .trim_start_matches(&prefix)
                        .to_string(),
                    f["span"]["line"].as_u64().unwrap(),
                    f["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    };
    assert!(strip(&inside)
        .iter()
        .any(|(p, _, r)| p == "app/overlays/prod/kustomization.yaml"
            && r == "practices/image-latest-tag"));
    assert_eq!(strip(&inside), strip(&outside));
    assert_eq!(
        inside["summary"]["resources"],
        outside["summary"]["resources"]
    );
}

/// A base holding a Secret with a plain-text `stringData` key and an
/// unknown custom resource, and overlays: `same` takes the base as it is,
/// `ns` moves it to another namespace.
fn unchanged_repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for (path, text) in [
        (
            "base/kustomization.yaml",
            "resources:\n  - secret.yaml\n  - widget.yaml\n",
        ),
        (
            "base/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-config\nstringData:\n  config.ini: |\n    [server]\n    port = 8080\n",
        ),
        (
            "base/widget.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 1\n",
        ),
        ("same/kustomization.yaml", "resources:\n  - ../base\n"),
        (
            "ns/kustomization.yaml",
            "namespace: other\nresources:\n  - ../base\n",
        ),
    ] {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    t
}

/// An object an overlay leaves as its file holds it is that file's object:
/// one finding, on the file's own line (not a second one from the build),
/// and still reported when only the overlay is scanned.
#[test]
fn an_object_an_overlay_leaves_unchanged_is_reported_once() {
    let t = unchanged_repo();
    let (v, _) = scan_in(t.path(), None, &["--packs", "secrets", "base", "same"]);
    assert_eq!(
        at(&v, "secrets/k8s-secret-committed"),
        one("base/secret.yaml", 7),
        "{v}"
    );
    // The base is not scanned: the overlay's build is the only look at it
    // (a built value keeps its key's line).
    let (v, _) = scan_in(t.path(), None, &["--packs", "secrets", "same"]);
    assert_eq!(
        at(&v, "secrets/k8s-secret-committed"),
        one("base/secret.yaml", 6),
        "{v}"
    );
}

/// A file the scan skips as over `--max-file-size` is not "scanned as it
/// is": what an overlay builds from it is still checked.
#[test]
fn an_unchanged_object_of_a_file_too_large_to_scan_is_checked_in_the_build() {
    let t = unchanged_repo();
    // Over the limit as committed (a long comment), under it as built.
    let secret = t.path().join("base/secret.yaml");
    let text = std::fs::read_to_string(&secret).unwrap();
    std::fs::write(&secret, format!("# {}\n{text}", "x".repeat(200))).unwrap();
    let args = |limit| {
        [
            "--packs",
            "secrets",
            "--max-file-size",
            limit,
            "base",
            "same",
        ]
    };
    let (v, _) = scan_in(t.path(), None, &args("150"));
    assert_eq!(
        at(&v, "secrets/k8s-secret-committed"),
        one("base/secret.yaml", 7),
        "{v}"
    );
    // A built document over the limit is named by what built it.
    let (v, _) = scan_in(t.path(), None, &args("60"));
    let skipped = v["summary"]["skipped"]["files"].to_string();
    assert!(
        skipped.contains("same/kustomization.yaml (a document it renders)")
            && !skipped.contains("#rendered"),
        "{skipped}"
    );
}

/// `missing-schema` names every place of an unknown kind by the line a
/// person edits: an overlay's copy by its base line, never by the scan's
/// internal path of the built document.
#[test]
fn missing_schema_places_are_files_a_person_can_open() {
    let t = unchanged_repo();
    let (v, _) = scan_in(t.path(), None, &["--packs", "schema", "."]);
    let f: Vec<&Value> = findings(&v)
        .iter()
        .filter(|f| f["rule"] == "schema/missing-schema")
        .collect();
    assert_eq!(f.len(), 1, "{v}");
    let message = f[0]["message"].as_str().unwrap();
    assert!(!message.contains("#rendered"), "{message}");
    let places: Vec<(&str, u64)> = f[0]["properties"]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["path"].as_str().unwrap(), l["line"].as_u64().unwrap()))
        .collect();
    // The base's own Widget and the `ns` overlay's (moved to another
    // namespace: the same base lines); `same` adds none.
    assert_eq!(places, vec![("base/widget.yaml", 1)], "{message}");
    assert_eq!(f[0]["path"], "base/widget.yaml");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}
