//! `shiplint fix`: dry run prints a diff and writes nothing; `--write`
//! applies line edits that keep comments and formatting, after which the
//! fixed rules no longer fire; symbolic links and paths outside the
//! repository are never written.

mod common;

use common::{findings, json_output, shiplint};
use std::path::Path;

const BEFORE: &str = "\
# Ingress classes of the shop.
apiVersion: networking.k8s.io/v1beta1   # TODO: move
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: example.com/ingress-nginx
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
    tier: front
    app: web
spec:
  # the one container
  containers:
    - name: web
      image: \"nginx:stable\"   # moving on purpose
      ports:
        - containerPort: 80
";

const AFTER: &str = "\
# Ingress classes of the shop.
apiVersion: networking.k8s.io/v1   # TODO: move
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: example.com/ingress-nginx
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
    tier: front
spec:
  automountServiceAccountToken: false
  # the one container
  containers:
    - name: web
      image: \"nginx:stable\"   # moving on purpose
      imagePullPolicy: Always
      ports:
        - containerPort: 80
";

const FIXED_RULES: [&str; 5] = [
    "deprecations/removed-api",
    "deprecations/deprecated-api",
    "practices/image-pull-policy",
    "practices/automount-service-account-token",
    "schema/duplicate-key",
];

fn scan(dir: &Path) -> Vec<(String, u64)> {
    let (_, doc) =
        json_output(shiplint(dir).args(["scan", "--no-config", "--format", "json", "."]));
    findings(&doc)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn rules(found: &[(String, u64)]) -> Vec<&str> {
    let mut r: Vec<&str> = found.iter().map(|(r, _)| r.as_str()).collect();
    r.sort();
    r.dedup();
    r
}

#[test]
fn dry_run_then_write_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.yaml");
    std::fs::write(&file, BEFORE).unwrap();
    let before = scan(dir.path());
    for rule in [
        "deprecations/removed-api",
        "practices/image-pull-policy",
        "practices/automount-service-account-token",
        "schema/duplicate-key",
    ] {
        assert!(rules(&before).contains(&rule), "{rule} in {before:?}");
    }
    // The JSON report carries the fixes.
    let (_, doc) =
        json_output(shiplint(dir.path()).args(["scan", "--no-config", "--format", "json", "."]));
    let with_fix = findings(&doc)
        .iter()
        .filter(|f| f.get("fix").is_some())
        .count();
    assert_eq!(with_fix, 4, "{doc:#}");

    // Dry run: a diff, nothing written.
    let out = shiplint(dir.path())
        .args(["fix", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(
        diff.starts_with("--- a/shop.yaml\n+++ b/shop.yaml\n"),
        "{diff}"
    );
    assert!(diff.contains("+      imagePullPolicy: Always\n"), "{diff}");
    assert!(
        diff.contains("-apiVersion: networking.k8s.io/v1beta1   # TODO: move\n"),
        "{diff}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), BEFORE);

    // --write: exactly the expected lines change, comments stay.
    let out = shiplint(dir.path())
        .args(["fix", "--no-config", "--write"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("applied 4 fixes in 1 file"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), AFTER);

    // The fixed rules are gone; nothing else appeared or went.
    let after = scan(dir.path());
    for rule in FIXED_RULES {
        assert!(!rules(&after).contains(&rule), "{rule} still in {after:?}");
    }
    let others = |v: &[(String, u64)]| {
        let mut r: Vec<String> = v
            .iter()
            .map(|(r, _)| r.clone())
            .filter(|r| !FIXED_RULES.contains(&r.as_str()))
            .collect();
        r.sort();
        r
    };
    assert_eq!(others(&before), others(&after));

    // A second run has nothing left to do.
    let out = shiplint(dir.path())
        .args(["fix", "--no-config", "--write"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), AFTER);
}

#[test]
fn crlf_files_keep_their_line_ends() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.yaml");
    std::fs::write(&file, BEFORE.replace('\n', "\r\n")).unwrap();
    shiplint(dir.path())
        .args(["fix", "--no-config", "--write"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        AFTER.replace('\n', "\r\n")
    );
}

#[test]
fn unsafe_changes_get_no_fix() {
    let dir = tempfile::tempdir().unwrap();
    // Ingress moves change fields; the duplicate's copies differ.
    let text = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: i\n  labels:\n    a: '1'\n    a: '2'\nspec:\n  backend:\n    serviceName: s\n    servicePort: 80\n";
    std::fs::write(dir.path().join("i.yaml"), text).unwrap();
    let out = shiplint(dir.path())
        .args(["fix", "--no-config", "--write"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("i.yaml")).unwrap(),
        text
    );
}

#[cfg(unix)]
#[test]
fn never_writes_through_a_symlink_or_outside_the_repository() {
    let outside = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let target = outside.path().join("shop.yaml");
    std::fs::write(&target, BEFORE).unwrap();
    std::os::unix::fs::symlink(&target, repo.path().join("link.yaml")).unwrap();
    for args in [
        vec!["fix", "--no-config", "--write", "link.yaml"],
        vec!["fix", "--no-config", "--write", "--follow-symlinks", "."],
    ] {
        let _ = shiplint(repo.path()).args(&args).output().unwrap();
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            BEFORE,
            "{args:?}"
        );
    }
    // A file outside the repository named on the command line.
    let out = shiplint(repo.path())
        .args(["fix", "--no-config", "--write"])
        .arg(&target)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), BEFORE);

    // The check itself: a folder link inside the repository is refused too.
    let root = repo.path().canonicalize().unwrap();
    std::fs::create_dir(root.join("real")).unwrap();
    std::fs::write(root.join("real/a.yaml"), "a: 1\n").unwrap();
    std::os::unix::fs::symlink(root.join("real"), root.join("alias")).unwrap();
    assert!(shiplint::fix::writable_target(&root, &root, "real/a.yaml").is_ok());
    let e = shiplint::fix::writable_target(&root, &root, "alias/a.yaml").unwrap_err();
    assert!(format!("{e:#}").contains("symbolic link"), "{e:#}");
    assert!(shiplint::fix::writable_target(&root, &root, "../x.yaml").is_err());
    assert!(shiplint::fix::writable_target(&root, &root, "/etc/passwd").is_err());
}
