// The bodies of the fuzz targets, shared by the libFuzzer binaries and by
// the property test in `tests/hostile.rs` (which `include!`s this file).

use shiplint::config::Settings;
use shiplint::finding::{Finding, Severity};
use shiplint::manifest::{self, Limits};
use shiplint::packs::{self, Context, Pack};
use shiplint::scan::{ScanOutcome, Stats};
use shiplint::source::{SourceFile, Span};
use std::sync::{Arc, OnceLock};

/// Small limits so the fuzzer explores deep/aliased input quickly.
fn limits() -> Limits {
    Limits {
        max_alias_nodes: 10_000,
        max_depth: 64,
        max_documents: 1_000,
    }
}

fn file(data: &[u8], explicit: bool) -> SourceFile {
    let mut f = SourceFile::new("fuzz.yaml", String::from_utf8_lossy(data).into_owned());
    f.explicit = explicit;
    f
}

/// (a) YAML/JSON with spans: never panics; spans point inside the text.
pub fn manifest_parse(data: &[u8]) {
    let f = file(data, data.first().is_some_and(|b| b & 1 == 1));
    let lines = f.text.split('\n').count();
    let parsed = manifest::parse_file(&f, limits());
    for m in &parsed.manifests {
        let a = m.anchor();
        // An empty value at the very end is placed just past the last line.
        assert!(
            a.line >= 1 && a.line <= lines + 1,
            "anchor {a:?} outside {lines} lines"
        );
        let _ = m.display_name();
        let _ = m.root.to_json();
    }
}

/// (b) The secret detectors over arbitrary bytes: hits lie inside the text.
pub fn secrets_scan(data: &[u8]) {
    let engine = packs::secrets::engine().expect("built-in detectors");
    let f = file(data, false);
    let opts = packs::secrets::engine::ScanOptions::default();
    for h in engine.scan(f.text.as_bytes(), &f.path, &opts) {
        assert!(h.start <= h.end && h.end <= f.text.len());
    }
    let mut out = Vec::new();
    packs::secrets::scan_text(engine, &f, &opts, &mut out);
}

struct SchemaFixture {
    settings: &'static Settings,
    pack: Box<dyn Pack>,
}

fn schema_fixture() -> &'static SchemaFixture {
    static FIX: OnceLock<SchemaFixture> = OnceLock::new();
    FIX.get_or_init(|| {
        let settings: &'static Settings = Box::leak(Box::new(Settings {
            packs: vec!["schema".into()],
            limits: limits(),
            ..Settings::default()
        }));
        let pack = packs::registry()
            .iter()
            .find(|p| p.name == "schema")
            .expect("schema pack")
            .build(settings)
            .expect("embedded schemas");
        SchemaFixture { settings, pack }
    })
}

/// (c) Parse, then the schema pack's per-file check (embedded schemas).
pub fn schema_validate(data: &[u8]) {
    let fix = schema_fixture();
    let ctx = Context {
        settings: fix.settings,
        kustomize: shiplint::kustomize::facts(&[]),
        origin_of: None,
    };
    let f = file(data, true);
    let parsed = manifest::parse_file(&f, limits());
    let mut out = Vec::new();
    fix.pack.check_file(&ctx, &f, Some(&parsed), &mut out);
    for finding in &out {
        assert!(finding.rule.starts_with("schema/"), "{}", finding.rule);
    }
}

/// (d) Findings made of fuzz data → SARIF and JSON → valid JSON that
/// still holds every message.
pub fn report_roundtrip(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut findings = Vec::new();
    for (i, part) in text.split('\u{1}').take(64).enumerate() {
        let (path, message) = part.split_once('\u{2}').unwrap_or(("p.yaml", part));
        let sev = [Severity::Note, Severity::Warning, Severity::Error][i % 3];
        let path: Arc<str> = Arc::from(path);
        let line = part.len() % 7;
        let mut f = Finding::new(
            ["schema/invalid", "secrets/aws-access-key", "x/unknown-rule"][i % 3],
            sev,
            &path,
            Span::point(line, i % 5),
            message,
        )
        .with_key(message)
        .with_property("value", message);
        f.finish_fingerprint();
        findings.push(f);
    }
    let messages: Vec<String> = findings.iter().map(|f| f.message.clone()).collect();
    let outcome = ScanOutcome {
        findings,
        stats: Stats::default(),
        notes: vec![text.to_string()],
        rules: packs::all_rules(),
        properties: Default::default(),
        exempted: Vec::new(),
    };
    for (name, rendered) in [
        ("sarif", shiplint::report::sarif::render(&outcome)),
        ("json", shiplint::report::json::render(&outcome)),
    ] {
        let v: serde_json::Value = serde_json::from_str(&rendered)
            .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        let all = v.to_string();
        for m in &messages {
            let quoted = serde_json::to_string(m).unwrap();
            assert!(
                all.contains(quoted.trim_matches('"')),
                "{name} lost message {m:?}"
            );
        }
    }
}
