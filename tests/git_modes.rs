//! Git modes (`--staged`, `--diff-base`, `--history`) give the verdicts of a
//! full scan, limited to what changed: the context (CRDs, Services,
//! kustomizations, excludes) is the whole tree at the scanned revision.

mod common;

use common::{findings, git, json_run, shiplint};
use serde_json::Value;
use std::path::Path;
use tempfile::TempDir;

const STRIPE: &str = "sk_live_0123456789abcdefghijKLMN";

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    kind: Widget
    plural: widgets
    singular: widget
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size:
                  type: integer
";

const WIDGET: &str = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: 3
";

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
";

const SERVICE: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
";

const KUSTOMIZATION: &str = "resources:
  - deploy.yaml
patches:
  - path: patch.yaml
";

const PATCH: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
";

const BAD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
spec:
  replicas: \"three\"
";

fn repo() -> TempDir {
    let t = TempDir::new().unwrap();
    git(t.path(), &["init", "-q"]);
    t
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn commit(dir: &Path, msg: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", msg]);
}

/// `scan --no-config --format json ARGS`: (exit code, findings, stderr).
fn scan(dir: &Path, args: &[&str]) -> (i32, Vec<Value>, String) {
    let (code, doc, err) = json_run(shiplint(dir).args(["scan", "--format", "json"]).args(args));
    (code, findings(&doc).to_vec(), err)
}

/// (rule, path, line) of each finding, sorted.
fn verdicts(f: &[Value]) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = f
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn rules(f: &[Value]) -> Vec<String> {
    verdicts(f).into_iter().map(|v| v.0).collect()
}

const PACKS: [&str; 3] = ["--no-config", "--packs", "schema,practices"];

/// A repository with context committed (CRD, Deployment, kustomization) and
/// new files that lean on it.
fn context_repo() -> TempDir {
    let t = repo();
    let d = t.path();
    write(d, "crds/widget.yaml", CRD);
    write(d, "app/deploy.yaml", DEPLOYMENT);
    write(d, "app/kustomization.yaml", KUSTOMIZATION);
    write(d, "README.md", "docs\n");
    commit(d, "context");
    t
}

fn add_changes(d: &Path) {
    write(d, "cr/widget.yaml", WIDGET);
    write(d, "app/service.yaml", SERVICE);
    write(d, "app/patch.yaml", PATCH);
}

/// What `scan .` says about the changed files, the reference verdicts.
fn full_scan_of_changed(d: &Path) -> Vec<(String, String, u64)> {
    let (_, f, _) = scan(d, &[&PACKS[..], &["."]].concat());
    let changed = ["cr/widget.yaml", "app/service.yaml", "app/patch.yaml"];
    let f: Vec<Value> = f
        .into_iter()
        .filter(|f| changed.contains(&f["path"].as_str().unwrap()))
        .collect();
    verdicts(&f)
}

#[test]
fn staged_sees_committed_crds_services_and_kustomizations() {
    let t = context_repo();
    let d = t.path();
    add_changes(d);
    git(d, &["add", "-A"]);
    let expected = full_scan_of_changed(d);
    let (_, f, err) = scan(d, &[&PACKS[..], &["--staged", "."]].concat());
    let r = rules(&f);
    assert!(!r.contains(&"schema/missing-schema".into()), "{r:?} {err}");
    assert!(
        !r.contains(&"practices/service-selector-no-match".into()),
        "{r:?}"
    );
    assert!(!r.iter().any(|x| x == "schema/invalid"), "{f:#?}");
    // Only the staged files are reported, with the verdicts of a full scan.
    assert_eq!(verdicts(&f), expected);
}

#[test]
fn diff_base_sees_the_head_tree() {
    let t = context_repo();
    let d = t.path();
    git(d, &["branch", "base"]);
    add_changes(d);
    commit(d, "changes");
    let expected = full_scan_of_changed(d);
    let (_, f, err) = scan(d, &[&PACKS[..], &["--diff-base", "base", "."]].concat());
    let r = rules(&f);
    assert!(!r.contains(&"schema/missing-schema".into()), "{r:?} {err}");
    assert!(
        !r.contains(&"practices/service-selector-no-match".into()),
        "{r:?}"
    );
    assert_eq!(verdicts(&f), expected);
}

#[test]
fn history_reports_each_commit_added_file_like_a_scan() {
    // Context in history is the run's inputs: a commit that adds a
    // Deployment with an error is reported on that file like `scan .`.
    let t = repo();
    let d = t.path();
    write(d, "k8s/bad.yaml", BAD);
    commit(d, "bad");
    let (_, full, _) = scan(d, &["--no-config", "--packs", "schema", "."]);
    let (_, hist, _) = scan(d, &["--no-config", "--packs", "schema", "--history"]);
    assert_eq!(verdicts(&hist), verdicts(&full));
}

#[test]
fn staged_with_file_arguments_scans_their_staged_content() {
    // What `pre-commit run --all-files` passes: every file, none changed.
    let t = repo();
    let d = t.path();
    write(d, "k8s/bad.yaml", BAD);
    write(d, "k8s/ok.yaml", DEPLOYMENT);
    commit(d, "committed error");
    let (code, f, err) = scan(
        d,
        &[
            "--no-config",
            "--packs",
            "schema",
            "--staged",
            "--fail-on",
            "error",
            "k8s/bad.yaml",
            "k8s/ok.yaml",
        ],
    );
    assert_eq!(code, 1, "{f:?} {err}");
    let (_, full, _) = scan(d, &["--no-config", "--packs", "schema", "k8s"]);
    assert!(!full.is_empty());
    assert_eq!(verdicts(&f), verdicts(&full));
    // The staged content, not the working tree's.
    write(d, "k8s/bad.yaml", DEPLOYMENT);
    let (code, f, _) = scan(
        d,
        &[
            "--no-config",
            "--packs",
            "schema",
            "--staged",
            "k8s/bad.yaml",
        ],
    );
    assert_eq!((code, f.len()), (1, full.len()), "{f:?}");
    // Without file arguments, only what differs from HEAD is reported.
    let (_, f, _) = scan(d, &["--no-config", "--packs", "schema", "--staged", "."]);
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn history_keys_secrets_by_value_not_line() {
    let t = repo();
    let d = t.path();
    let keys: Vec<String> = (0..10)
        .map(|i| format!("sk_live_{i}123456789abcdefghijKLMN"))
        .collect();
    for (i, k) in keys.iter().enumerate() {
        write(d, "a.env", &format!("K={k}\n"));
        commit(d, &format!("key {i}"));
    }
    let (_, f, err) = scan(d, &["--no-config", "--packs", "secrets", "--history"]);
    assert_eq!(f.len(), 10, "{f:#?} {err}");
    let at_head: Vec<bool> = f
        .iter()
        .map(|f| f["properties"]["inHead"].as_bool().unwrap())
        .collect();
    assert_eq!(at_head.iter().filter(|x| **x).count(), 1, "{f:#?}");
    // The text output names the commit and whether the value is still there.
    let out = shiplint(d)
        .args(["scan", "--no-config", "--packs", "secrets", "--history"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("introduced in commit "), "{text}");
    assert!(text.contains("still in HEAD"), "{text}");
    assert!(text.contains("no longer in HEAD"), "{text}");
    assert!(!text.contains(STRIPE));
}

#[test]
fn excludes_hold_in_every_git_mode() {
    let t = repo();
    let d = t.path();
    write(
        d,
        ".shiplint.yaml",
        "exclude: ['vendor/**']\npacks: [schema]\n",
    );
    write(d, "README.md", "x\n");
    commit(d, "config");
    git(d, &["branch", "base"]);
    write(d, "vendor/bad.yaml", BAD);
    git(d, &["add", "-A"]);
    let (_, f, err) = scan(d, &["--staged", "."]);
    assert!(f.is_empty(), "--staged: {f:?} {err}");
    let (_, f, _) = scan(d, &["--staged", "vendor/bad.yaml"]);
    assert!(f.is_empty(), "--staged FILE: {f:?}");
    commit(d, "vendored");
    let (_, f, _) = scan(d, &["--diff-base", "base", "."]);
    assert!(f.is_empty(), "--diff-base: {f:?}");
    let (_, f, _) = scan(d, &["--history"]);
    assert!(f.is_empty(), "--history: {f:?}");
    // Without the exclude, each mode reports it.
    let (_, f, _) = scan(d, &["--no-config", "--packs", "schema", "--history"]);
    assert!(rules(&f).contains(&"schema/invalid".to_string()), "{f:?}");
}

#[test]
fn diff_base_takes_excludes_from_the_merge_base() {
    // A pull request that excludes its own files is still scanned.
    let t = repo();
    let d = t.path();
    write(d, "README.md", "x\n");
    commit(d, "init");
    git(d, &["branch", "base"]);
    write(d, ".shiplint.yaml", "exclude: ['**']\npacks: [schema]\n");
    write(d, "k8s/bad.yaml", BAD);
    commit(d, "hide it");
    // From k8s/, so that only the revisions' configs are in play (the run's
    // own config file is found from the folder and loaded on its own).
    let (code, f, err) = scan(&d.join("k8s"), &["--diff-base", "base", "."]);
    assert_eq!(code, 1, "{f:?} {err}");
    assert!(rules(&f).contains(&"schema/invalid".to_string()), "{f:?}");
}

#[test]
fn diff_base_follows_renames() {
    let t = repo();
    let d = t.path();
    write(d, "old/bad.yaml", &format!("{BAD}  # padding\n"));
    commit(d, "old finding");
    git(d, &["branch", "base"]);
    std::fs::create_dir_all(d.join("new")).unwrap();
    git(d, &["mv", "old/bad.yaml", "new/bad.yaml"]);
    commit(d, "move");
    let (_, f, err) = scan(
        d,
        &[
            "--no-config",
            "--packs",
            "schema",
            "--diff-base",
            "base",
            ".",
        ],
    );
    assert!(f.is_empty(), "{f:?} {err}");
}

#[test]
fn staged_binaries_and_links_get_a_note() {
    let t = repo();
    let d = t.path();
    write(d, "README.md", "x\n");
    commit(d, "init");
    std::fs::write(d.join("blob.yaml"), b"a: 1\n\0\0\0").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("README.md", d.join("link.yaml")).unwrap();
    git(d, &["add", "-A"]);
    let (_, doc, _) =
        json_run(shiplint(d).args(["scan", "--no-config", "--format", "json", "--staged", "."]));
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("binary file") && notes.contains("blob.yaml"),
        "{notes}"
    );
    #[cfg(unix)]
    assert!(
        notes.contains("symbolic link") && notes.contains("link.yaml"),
        "{notes}"
    );
}

/// `pre-commit run --all-files` as the hooks in `.pre-commit-hooks.yaml`
/// declare it: entry, args, then every file the hook's types select. With
/// a committed error (nothing staged) each lint hook fails; this is what
/// `.ci/check-packaging.sh` checks with the real pre-commit.
#[test]
fn pre_commit_hooks_fail_on_a_committed_error_with_all_files() {
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&manifest).unwrap();
    let hooks = docs[0].as_vec().unwrap();
    let t = repo();
    let d = t.path();
    write(d, "k8s/ok.yaml", DEPLOYMENT);
    write(d, "k8s/bad.yaml", BAD);
    write(d, "app.env", &format!("STRIPE={STRIPE}\n"));
    commit(d, "committed error and secret");
    let mut checked = 0;
    for h in hooks {
        let id = h["id"].as_str().unwrap();
        if h["stages"].as_vec().is_some() {
            continue; // manual hooks (the LLM review)
        }
        assert_eq!(h["pass_filenames"].as_bool(), Some(true), "{id}");
        let text_only = h["types"].as_vec().is_some();
        let files: Vec<&str> = ["k8s/ok.yaml", "k8s/bad.yaml", "app.env"]
            .into_iter()
            .filter(|f| text_only || !f.ends_with(".env"))
            .collect();
        let entry: Vec<&str> = h["entry"].as_str().unwrap().split_whitespace().collect();
        assert_eq!(entry[0], "shiplint");
        let args: Vec<String> = h["args"]
            .as_vec()
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        let out = shiplint(d)
            .args(&entry[1..])
            .args(&args)
            .args(&files)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{id}: {stdout}");
        let expected = if text_only { "secrets/" } else { "schema/" };
        assert!(stdout.contains(expected), "{id}: {stdout}");
        assert!(!stdout.contains(STRIPE), "{id}: {stdout}");
        // A run on the clean file alone passes.
        let out = shiplint(d)
            .args(&entry[1..])
            .args(&args)
            .arg("k8s/ok.yaml")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{id}");
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn install_hook_fails_closed_and_keeps_a_users_hook() {
    let t = repo();
    let d = t.path();
    let hook = d.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\nexec other-tool\n").unwrap();
    shiplint(d).arg("install-hook").assert().code(2);
    let out = shiplint(d)
        .args(["install-hook", "--force"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let backup = d.join(".git/hooks/pre-commit.shiplint-backup");
    assert_eq!(
        std::fs::read_to_string(&backup).unwrap(),
        "#!/bin/sh\nexec other-tool\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("pre-commit.shiplint-backup"));
    // Without shiplint on PATH the hook stops the commit, and says why.
    let out = std::process::Command::new("sh")
        .arg(&hook)
        .current_dir(d)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not on PATH"));
    // Forcing again keeps our hook, not a second backup of it.
    shiplint(d)
        .args(["install-hook", "--force"])
        .assert()
        .success();
    assert!(!d.join(".git/hooks/pre-commit.shiplint-backup.1").exists());
}

/// The Action's `paths` input: the shell lines of action.yml that split it,
/// run with bash. One path per line, spaces kept, blank lines dropped.
#[test]
fn action_paths_input_is_one_path_per_line() {
    let action =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let start = action.find("# paths: begin").expect("paths: begin marker");
    let end = action.find("# paths: end").expect("paths: end marker");
    let snippet: String = action[start..end]
        .lines()
        .map(|l| l.trim_start().to_string() + "\n")
        .collect();
    let split = |input: &str| -> Vec<String> {
        let script = format!("set -uo pipefail\n{snippet}\nprintf '%s\\0' \"${{paths[@]}}\"\n");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("INPUT_PATHS", input)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_string)
            .collect()
    };
    assert_eq!(split("."), ["."]);
    assert_eq!(split(""), ["."]);
    assert_eq!(split("k8s\ncharts/my app\n"), ["k8s", "charts/my app"]);
    assert_eq!(
        split("  k8s  \r\n\n\tdeploy/prod values.yaml\n"),
        ["k8s", "deploy/prod values.yaml"]
    );
    assert_eq!(split("a*b\n$HOME\n"), ["a*b", "$HOME"]);
}

#[test]
fn history_since_sees_the_tree_it_starts_from() {
    let t = repo();
    let d = t.path();
    write(d, "crds/widget.yaml", CRD);
    commit(d, "crd");
    let start = String::from_utf8(
        std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(d)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    write(d, "cr/widget.yaml", WIDGET);
    commit(d, "cr");
    let (_, full, _) = scan(d, &["--no-config", "--packs", "schema", "."]);
    let (_, f, err) = scan(
        d,
        &[
            "--no-config",
            "--packs",
            "schema",
            "--history",
            "--since",
            start.trim(),
        ],
    );
    assert!(
        !rules(&f).contains(&"schema/missing-schema".into()),
        "{f:?} {err}"
    );
    assert_eq!(verdicts(&f), verdicts(&full));
}
