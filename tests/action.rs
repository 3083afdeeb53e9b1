//! The Action's install step, run by bash with stand-ins for `curl` and
//! `cargo`: an archive runs only when its SHA-256 matches a line committed in
//! action.yml, and no failure falls back to anything but the action's own
//! pinned source.

use shiplint::manifest::{yaml, Limits};
use std::path::Path;
use std::process::Command;

/// The install step's script and its `env:` (expressions left out).
fn install_step() -> (String, Vec<(String, String)>) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    let stream = yaml::parse_stream(&text, Limits::default());
    let root = &stream.documents[0].root;
    let step = root
        .path(&["runs", "steps"])
        .unwrap()
        .as_seq()
        .iter()
        .find(|s| s.get("id").and_then(|i| i.as_str()) == Some("install"))
        .unwrap();
    let env = step
        .get("env")
        .unwrap()
        .entries()
        .iter()
        .map(|e| {
            (
                e.key.as_str().unwrap().to_string(),
                e.value.as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (step.get("run").unwrap().as_str().unwrap().to_string(), env)
}

struct Run {
    code: i32,
    stderr: String,
    stdout: String,
    calls: String,
    dir: tempfile::TempDir,
}

/// Runs the step with `sums` as the committed checksums; `curl` serves
/// `archive` (or fails when `serve` is false) and logs its calls, as does
/// `cargo`.
fn run(sums: &str, serve: bool, with_cargo: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bin = d.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = d.join("calls.log");
    let write_exe = |name: &str, body: &str| {
        let p = bin.join(name);
        std::fs::write(&p, format!("#!/usr/bin/env bash\n{body}")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    // The archive the "release" serves: a shiplint that prints a version.
    let stage = d.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    write_exe("shiplint-real", "echo shiplint 9.9.9\n");
    std::fs::copy(bin.join("shiplint-real"), stage.join("shiplint")).unwrap();
    std::fs::remove_file(bin.join("shiplint-real")).unwrap();
    let archive = d.join("release.tar.gz");
    assert!(Command::new("tar")
        .args(["-czf"])
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .arg("shiplint")
        .status()
        .unwrap()
        .success());
    let curl = if serve {
        format!(
            "echo \"curl $*\" >> {log}\nout=''\nwhile [ $# -gt 0 ]; do if [ \"$1\" = -o ]; then out=$2; shift; fi; shift; done\ncp {archive} \"$out\"\n",
            log = log.display(),
            archive = archive.display()
        )
    } else {
        format!("echo \"curl $*\" >> {}\nexit 22\n", log.display())
    };
    write_exe("curl", &curl);
    if with_cargo {
        write_exe(
            "cargo",
            &format!(
                "echo \"cargo $*\" >> {}\nroot=''\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --root ]; then root=$2; shift; fi; shift; done\nmkdir -p \"$root/bin\"\nprintf '#!/usr/bin/env bash\\necho shiplint built\\n' > \"$root/bin/shiplint\"\nchmod +x \"$root/bin/shiplint\"\n",
                log.display()
            ),
        );
    }
    let (script, env) = install_step();
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(&script);
    for (k, v) in env {
        if !v.contains("${{") {
            cmd.env(k, v);
        }
    }
    let runner_temp = d.join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    // Only the stand-ins and the basic tools: no real cargo or curl.
    let path = format!("{}:/usr/bin:/bin", bin.display());
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", d)
        .env("VERSION", "0.1.0")
        .env("SHIPLINT_SHA256SUMS", sums)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_SERVER_URL", "https://github.invalid")
        .env("GITHUB_ACTION_PATH", d.join("action-src"))
        .env("GITHUB_OUTPUT", d.join("output"))
        .env("GITHUB_PATH", d.join("path"));
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        calls: std::fs::read_to_string(&log).unwrap_or_default(),
        dir,
    }
}

fn sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

const ASSET: &str = "shiplint-v0.1.0-x86_64-unknown-linux-musl.tar.gz";

/// The archive's checksum, from a first run that only builds the archive.
fn archive_sum() -> String {
    let probe = run("", false, false);
    sha256(&probe.dir.path().join("release.tar.gz"))
}

#[test]
fn a_committed_checksum_admits_the_archive() {
    let sums = format!("{}  {ASSET}\n", archive_sum());
    let r = run(&sums, true, true);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("shiplint 9.9.9"), "{}", r.stdout);
    assert!(!r.calls.contains("cargo"), "{}", r.calls);
    let output = std::fs::read_to_string(r.dir.path().join("output")).unwrap();
    assert!(output.starts_with("bin="), "{output}");
}

#[test]
fn a_wrong_checksum_fails_closed() {
    let sums = format!("{}  {ASSET}\n", "0".repeat(64));
    let r = run(&sums, true, true);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("checksum mismatch"), "{}", r.stdout);
    assert!(!r.calls.contains("cargo"), "no fallback: {}", r.calls);
    assert!(!r.dir.path().join("output").exists());
}

#[test]
fn a_failed_download_fails_closed() {
    let sums = format!("{}  {ASSET}\n", archive_sum());
    let r = run(&sums, false, true);
    assert_ne!(r.code, 0);
    assert!(r.calls.contains("curl"), "{}", r.calls);
    assert!(!r.calls.contains("cargo"), "no fallback: {}", r.calls);
}

#[test]
fn without_a_committed_checksum_nothing_is_downloaded() {
    // Only the action's own (pinned) source is built, never a tag.
    let r = run("", true, true);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.calls.contains("curl"), "{}", r.calls);
    assert!(
        r.calls.contains("cargo install --locked --path"),
        "{}",
        r.calls
    );
    assert!(!r.calls.contains("--git") && !r.calls.contains("--tag"));
    // And without cargo, the step fails.
    let r = run("", true, false);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("no verified archive"), "{}", r.stdout);
    assert!(!r.calls.contains("curl"));
}
