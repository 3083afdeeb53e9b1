//! One fixture pair and one snapshot per rule (issue 12).
//!
//! Every rule that `shiplint rules` lists — except the secret detectors,
//! whose examples and counterexamples live in `rules/secrets.yaml`, and the
//! `review/*` rules, which need an LLM — has two tiny repositories under
//! `tests/fixtures/rules/<pack>/<rule>/`:
//!
//! - `fires/`: the rule reports at least once. What it reports (only that
//!   rule's findings) is snapshotted as `path:line:col level rule message`
//!   lines in `tests/snapshots/rules__<pack>__<rule>.snap`.
//! - `quiet/`: the near miss, the same repository with the problem fixed.
//!   It must read at least one resource and report nothing at all (not
//!   only nothing of this rule: a near miss that another rule flags does
//!   not show the fix, and a parse error would make it quiet for the wrong
//!   reason).
//!
//! Each case is scanned from its own folder (`scan .`, so paths in the
//! snapshots are relative to it) with `--packs <pack>` for the three
//! manifest packs; `config/*` rules run the default packs. A case that needs
//! an option carries its own `.shiplint.yaml` (a rule that is off by
//! default, `practices.require-digest`, a kube version, schema settings);
//! a case without one runs with `--no-config`.
//!
//! A case with a `git-base/` folder is a pull request: the harness copies it
//! into a fresh git repository as the base commit (`main`), replaces it with
//! the rest of the case as the pull request's commit, and scans with
//! `--diff-base main`.
//!
//! Adding a rule: add its item, `fires/` and `quiet/` here, then
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test --test rules`
//! and read the new `.snap`).
//! `every_rule_has_a_fixture_pair_and_its_help_sections` fails until the
//! fixtures exist.

mod common;

use common::{findings, git, json_run, shiplint};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Packs whose rules are run with `--packs <pack>`.
const MANIFEST_PACKS: [&str; 4] = ["schema", "deprecations", "practices", "policies"];

/// The folder a pull-request case keeps its base commit in.
const GIT_BASE: &str = "git-base";

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

/// Whether the rule has (and must have) a fixture pair here.
fn covered(id: &str) -> bool {
    !id.starts_with("secrets/") && !id.starts_with("review/")
}

/// `shiplint rules --json`.
fn registry() -> Vec<Value> {
    let out = shiplint(".").args(["rules", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).unwrap() {
        Value::Array(rules) => rules,
        other => panic!("`rules --json` is not a list: {other}"),
    }
}

/// The ids `shiplint rules --json` lists, read once.
fn registered_ids() -> &'static BTreeSet<String> {
    static IDS: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        registry()
            .iter()
            .filter_map(|r| r["id"].as_str().map(String::from))
            .collect()
    })
}

/// Rules whose fixtures render a Helm chart: they run with the Helm shim
/// `.ci/setup.sh` installs (tests/helm.rs); other rules run without Helm.
const NEEDS_HELM: &[&str] = &["render/error"];

/// The Helm shim, if installed; in CI (`CI` set) it must be.
fn helm_shim() -> Option<PathBuf> {
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
    None
}

/// Every `<pack>/<rule>` folder under the fixture root.
fn fixture_rules() -> Vec<String> {
    let mut ids = Vec::new();
    for pack in sorted_dirs(&fixtures_root()) {
        for rule in sorted_dirs(&pack) {
            ids.push(format!("{}/{}", name(&pack), name(&rule)));
        }
    }
    ids
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path, skip_top: Option<&str>) {
    for rel in files_under(from) {
        if skip_top.is_some_and(|s| rel.starts_with(s)) {
            continue;
        }
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), dest).unwrap();
    }
}

/// What one case's scan reported, or why it could not run.
struct Run {
    findings: Vec<Value>,
    /// How many resources the run read.
    resources: u64,
}

/// Scans one case (`fires/` or `quiet/`) of `rule`.
fn scan_case(rule: &str, case: &Path) -> Result<Run, String> {
    let pack = rule.split('/').next().unwrap();
    let mut args: Vec<String> = vec!["scan".into()];
    if MANIFEST_PACKS.contains(&pack) {
        args.extend(["--packs".into(), pack.into()]);
    }
    if !case.join(".shiplint.yaml").exists() && !case.join(GIT_BASE).exists() {
        args.push("--no-config".into());
    }
    args.extend(["--format", "json", "--fail-on", "never"].map(String::from));

    // A pull-request case runs in a repository made for it.
    let _repo;
    let dir = if case.join(GIT_BASE).is_dir() {
        let repo = tempfile::tempdir().unwrap();
        let d = repo.path();
        git(d, &["init", "-q"]);
        copy_tree(&case.join(GIT_BASE), d, None);
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "base"]);
        git(d, &["checkout", "-qb", "pr"]);
        git(d, &["rm", "-rqf", "."]);
        copy_tree(case, d, Some(GIT_BASE));
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "pr"]);
        args.extend(["--diff-base".into(), "main".into()]);
        let dir = d.to_path_buf();
        _repo = Some(repo);
        dir
    } else {
        _repo = None;
        case.to_path_buf()
    };
    args.push(".".into());

    let mut cmd = shiplint(&dir);
    if NEEDS_HELM.contains(&rule) {
        if let Some(h) = helm_shim() {
            cmd.env("SHIPLINT_HELM", h);
        }
    }
    let (code, doc, stderr) = json_run(cmd.args(&args));
    if code != 0 {
        return Err(format!("exit {code}; stderr:\n{stderr}"));
    }
    Ok(Run {
        findings: findings(&doc).to_vec(),
        resources: doc["summary"]["resources"].as_u64().unwrap_or(0),
    })
}

/// A finding as one stable line: `path:line:col level rule message`.
fn line_of(f: &Value) -> String {
    format!(
        "{}:{}:{} {} {} {}",
        f["path"].as_str().unwrap_or("?"),
        f["span"]["line"],
        f["span"]["col"],
        f["severity"].as_str().unwrap_or("?"),
        f["rule"].as_str().unwrap_or("?"),
        f["message"].as_str().unwrap_or("?"),
    )
}

/// The outcome of one rule's pair: the snapshot text of `fires/`, and what
/// went wrong.
struct Outcome {
    rule: String,
    snapshot: Option<String>,
    problems: Vec<String>,
}

fn check_rule(rule: &str) -> Outcome {
    let dir = fixtures_root().join(rule);
    let mut out = Outcome {
        rule: rule.to_string(),
        snapshot: None,
        problems: Vec::new(),
    };
    match scan_case(rule, &dir.join("fires")) {
        Err(e) => out.problems.push(format!("fires: {e}")),
        Ok(run) => {
            // A finding names a rule `shiplint rules` lists (rules still
            // emitted by a string id cannot drift from their item).
            for f in &run.findings {
                let id = f["rule"].as_str().unwrap_or_default();
                if !registered_ids().contains(id) {
                    out.problems
                        .push(format!("fires: finding of unlisted rule {id:?}"));
                }
            }
            let mine: Vec<String> = run
                .findings
                .iter()
                .filter(|f| f["rule"] == rule)
                .map(line_of)
                .collect();
            if mine.is_empty() {
                let all: Vec<String> = run.findings.iter().map(line_of).collect();
                out.problems.push(format!(
                    "fires: {rule} did not fire; the run reported:\n  {}",
                    all.join("\n  ")
                ));
            } else {
                out.snapshot = Some(mine.join("\n") + "\n");
            }
        }
    }
    match scan_case(rule, &dir.join("quiet")) {
        Err(e) => out.problems.push(format!("quiet: {e}")),
        Ok(run) => {
            // Quiet for the right reason: the near miss was read, and it is
            // clean (no finding of any rule), so it shows the fix.
            if run.resources == 0 {
                out.problems.push("quiet: no resource was read".into());
            }
            if !run.findings.is_empty() {
                let all: Vec<String> = run.findings.iter().map(line_of).collect();
                out.problems.push(format!(
                    "quiet: the near miss is not clean:\n  {}",
                    all.join("\n  ")
                ));
            }
        }
    }
    out
}

/// Runs every rule's pair on a small pool of threads (the scans are
/// processes; the assertions run afterwards, on this thread, in rule order).
#[test]
fn every_rule_fires_on_its_fixture_and_stays_quiet_on_the_near_miss() {
    let mut rules = fixture_rules();
    assert!(!rules.is_empty());
    if helm_shim().is_none() {
        eprintln!("SKIPPING {NEEDS_HELM:?}: no Helm shim (run .ci/setup.sh)");
        rules.retain(|r| !NEEDS_HELM.contains(&r.as_str()));
    }
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(rule) = rules.get(i) else { break };
                // A case whose run cannot be read (a crash, no JSON) is one
                // problem of its rule, not the end of the others.
                let o = std::panic::catch_unwind(|| check_rule(rule)).unwrap_or_else(|e| {
                    let why = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Outcome {
                        rule: rule.clone(),
                        snapshot: None,
                        problems: vec![format!("panicked: {why}")],
                    }
                });
                outcomes.lock().unwrap().insert(o.rule.clone(), o);
            });
        }
    });

    let mut failures = Vec::new();
    for (rule, o) in outcomes.into_inner().unwrap() {
        failures.extend(o.problems.iter().map(|p| format!("{rule}: {p}")));
        let Some(text) = o.snapshot else { continue };
        let name = rule.replace('/', "__");
        let description = format!("tests/fixtures/rules/{rule}/fires");
        // Every mismatch is reported, not only the first.
        let r = std::panic::catch_unwind(|| {
            insta::with_settings!({
                description => description,
                omit_expression => true,
                prepend_module_to_snapshot => true,
            }, {
                insta::assert_snapshot!(name, text);
            });
        });
        if r.is_err() {
            failures.push(format!("{rule}: snapshot differs (cargo insta review)"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Help sections that some rules do not have yet; a rule listed here that
/// gains the section makes the test fail, so that it leaves the list.
const WITHOUT_WHAT_IT_FINDS: &[&str] = &[];
const WITHOUT_WHY_IT_MATTERS: &[&str] = &[];

/// The `## ` headings of a help text, in order.
fn sections(help: &str) -> Vec<&str> {
    help.lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(str::trim)
        .collect()
}

/// The registry: ids unique and well-formed, every covered rule has a
/// fixture pair (and no fixture names an unknown rule), every covered rule's
/// help has its sections in order.
#[test]
fn every_rule_has_a_fixture_pair_and_its_help_sections() {
    let rules = registry();
    let mut problems = Vec::new();

    let mut seen = BTreeSet::new();
    for r in &rules {
        let id = r["id"].as_str().unwrap_or_default();
        if !seen.insert(id.to_string()) {
            problems.push(format!("{id}: listed twice"));
        }
        let well_formed = id.split_once('/').is_some_and(|(pack, name)| {
            let ok = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            };
            ok(pack) && ok(name)
        });
        if !well_formed {
            problems.push(format!("{id:?}: not `pack/kebab-name`"));
        }
        if !matches!(r["severity"].as_str(), Some("error" | "warning" | "note")) {
            problems.push(format!("{id}: severity {}", r["severity"]));
        }
        if r["summary"].as_str().is_none_or(|s| s.trim().is_empty()) {
            problems.push(format!("{id}: no summary"));
        }
    }

    let covered_ids: BTreeSet<String> = rules
        .iter()
        .filter_map(|r| r["id"].as_str())
        .filter(|id| covered(id))
        .map(String::from)
        .collect();
    let fixtures: BTreeSet<String> = fixture_rules().into_iter().collect();
    for id in covered_ids.difference(&fixtures) {
        problems.push(format!(
            "{id}: no fixtures (tests/fixtures/rules/{id}/fires and quiet)"
        ));
    }
    for id in fixtures.difference(&covered_ids) {
        problems.push(format!(
            "tests/fixtures/rules/{id}: no such rule (or one that is not covered here)"
        ));
    }
    // No snapshot outlives its fixtures (a renamed or removed rule).
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for entry in std::fs::read_dir(&snapshots).into_iter().flatten() {
        let file = name(&entry.unwrap().path());
        let Some(stem) = file
            .strip_prefix("rules__")
            .and_then(|f| f.strip_suffix(".snap"))
        else {
            continue;
        };
        if stem == "rule_metadata" {
            continue; // `rule_metadata_is_stable`, not a rule
        }
        let id = stem.replacen("__", "/", 1);
        if !fixtures.contains(&id) {
            problems.push(format!(
                "tests/snapshots/{file}: no fixtures for {id} (delete the snapshot)"
            ));
        }
    }
    for id in covered_ids.intersection(&fixtures) {
        for case in ["fires", "quiet"] {
            let dir = fixtures_root().join(id).join(case);
            let manifests = dir.is_dir()
                && files_under(&dir)
                    .iter()
                    .any(|f| !f.starts_with(GIT_BASE) && !f.ends_with(".shiplint.yaml"));
            if !manifests {
                problems.push(format!("{id}/{case}: no files to scan"));
            }
        }
    }

    for r in rules
        .iter()
        .filter(|r| covered(r["id"].as_str().unwrap_or("")))
    {
        let id = r["id"].as_str().unwrap();
        let help = r["help"].as_str().unwrap_or_default();
        let found = sections(help);
        let mut expected = Vec::new();
        if !WITHOUT_WHAT_IT_FINDS.contains(&id) {
            expected.push("What it finds");
        }
        if !WITHOUT_WHY_IT_MATTERS.contains(&id) {
            expected.push("Why it matters");
        }
        expected.push("How to fix");
        // In this order, first; other sections (annotations, catalogs) after.
        if found.get(..expected.len()) != Some(&expected[..]) {
            problems.push(format!(
                "{id}: help sections {found:?}, expected to start with {expected:?}"
            ));
        }
        for (list, section) in [
            (WITHOUT_WHAT_IT_FINDS, "What it finds"),
            (WITHOUT_WHY_IT_MATTERS, "Why it matters"),
        ] {
            if list.contains(&id) && found.contains(&section) {
                problems.push(format!(
                    "{id}: has {section:?} now: take it off the list of rules without it"
                ));
            }
        }
        for (i, s) in found.iter().enumerate() {
            if found[..i].contains(s) {
                problems.push(format!("{id}: help section {s:?} twice"));
            }
        }
        // A rule that is off by default is enabled in both its cases, or the
        // quiet one proves nothing.
        if r["default_enabled"] == false {
            for case in ["fires", "quiet"] {
                let cfg = fixtures_root().join(id).join(case).join(".shiplint.yaml");
                let enables = std::fs::read_to_string(&cfg).is_ok_and(|t| t.contains(id));
                if !enables {
                    problems.push(format!(
                        "{id}/{case}: off by default, so its .shiplint.yaml must turn it on"
                    ));
                }
            }
        }
    }

    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// What `shiplint rules --json` says of each rule besides its help (which
/// docs/rules.md holds, checked by tests/scan.rs): one line per rule, so a
/// change of level, tags, precision or default — or a rule that vanishes
/// when its pack's rules become items — shows in review.
#[test]
fn rule_metadata_is_stable() {
    let lines: Vec<String> = registry()
        .iter()
        .map(|r| {
            let tags: Vec<&str> = r["tags"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!(
                "{} {} precision={} tags={} security={} default={}{}",
                r["id"].as_str().unwrap_or("?"),
                r["severity"].as_str().unwrap_or("?"),
                r["precision"].as_str().unwrap_or("?"),
                tags.join(","),
                r["security_severity"],
                r["default_enabled"],
                match r.get("aliases") {
                    Some(a) => format!(" aliases={a}"),
                    None => String::new(),
                }
            )
        })
        .collect();
    insta::with_settings!({omit_expression => true, prepend_module_to_snapshot => true}, {
        insta::assert_snapshot!("rule_metadata", lines.join("\n") + "\n");
    });
}
