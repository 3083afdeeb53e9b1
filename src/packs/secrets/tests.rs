//! Detector table tests: every detector fires on each of its `examples` and
//! stays quiet on each of its `counterexamples` (through the real prefilter).

use super::*;

fn rule_ids(text: &str, path: &str) -> Vec<String> {
    let engine = engine().expect("detectors compile");
    let file = SourceFile::new(path, text.to_string());
    let mut out = Vec::new();
    scan_text(engine, &file, &ScanOptions::default(), &mut out);
    out.iter().map(|f| f.rule.to_string()).collect()
}

#[test]
fn every_detector_matches_its_examples_and_not_its_counterexamples() {
    let specs = rules::parse_specs(rules::RULES_YAML).expect("rules parse");
    assert!(specs.len() >= 150, "only {} detectors", specs.len());
    let mut failures = Vec::new();
    for s in &specs {
        let id = format!("secrets/{}", s.id);
        assert!(!s.keywords.is_empty(), "{id} has no keywords");
        assert!(!s.examples.is_empty(), "{id} has no examples");
        assert!(!s.counterexamples.is_empty(), "{id} has no counterexamples");
        for ex in &s.examples {
            if !rule_ids(ex, "config/app.env").contains(&id) {
                failures.push(format!("{id} missed its example: {ex}"));
            }
        }
        for cx in &s.counterexamples {
            if rule_ids(cx, "config/app.env").contains(&id) {
                failures.push(format!("{id} fired on its counterexample: {cx}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn detector_ids_are_unique_and_rules_have_security_metadata() {
    let rules = super::rules();
    let mut ids: Vec<_> = rules.iter().map(|r| r.id).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(n, ids.len(), "duplicate rule ids");
    for r in &rules {
        assert!(r.id.starts_with("secrets/"));
        assert!(r.tag_list().contains(&"security"), "{}", r.id);
        assert!(r.security_severity.is_some());
        assert!(r.help().contains("Rotate"));
    }
}

#[test]
fn snippets_and_messages_never_hold_the_secret() {
    let engine = engine().unwrap();
    let secret = "sk_live_0123456789abcdefghijKLMN";
    let text = format!("a = 1\nSTRIPE_KEY={secret} # prod\n");
    let file = SourceFile::new("x.env", text);
    let mut out = Vec::new();
    scan_text(engine, &file, &ScanOptions::default(), &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    let f = &out[0];
    assert_eq!(f.span.line, 2);
    let s = f.snippet.as_ref().unwrap();
    assert_eq!(s.text, "STRIPE_KEY=sk_l… # prod");
    let json = serde_json::to_string(f).unwrap();
    assert!(!json.contains(secret));
    assert!(f.key.starts_with("sha256:"));
}

#[test]
fn inline_allow_and_lockfiles() {
    let tok = "sk_live_0123456789abcdefghijKLMN";
    assert!(rule_ids(&format!("k={tok} # shiplint:allow"), "a.env").is_empty());
    assert!(rule_ids(&format!("k={tok} # gitleaks:allow"), "a.env").is_empty());
    let generic = "api_key = \"q7F3k9ZpL2m8Xw4Rt6Yv\"";
    assert_eq!(rule_ids(generic, "a.py"), vec!["secrets/generic-api-key"]);
    assert!(rule_ids(generic, "web/package-lock.json").is_empty());
    assert!(rule_ids(generic, "yarn.lock").is_empty());
}

#[test]
fn noise_is_not_reported() {
    for text in [
        "\"integrity\": \"sha512-q7F3k9ZpL2m8Xw4Rt6Yvq7F3k9ZpL2m8Xw4Rt6Yv==\"",
        "commit_token = 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        "request_id_token = 123e4567-e89b-12d3-a456-426614174000",
        "secret: {{ .Values.secret }}",
        "API_KEY: ${API_KEY}",
        "token = os.environ['GITHUB_TOKEN']",
        "const key = process.env.STRIPE_KEY;",
        "password = \"<redacted>\"",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "key = crypto_alloc_skcipher(alg_name, 0, 0);",
    ] {
        assert!(
            rule_ids(text, "src/x.c").is_empty(),
            "{text}: {:?}",
            rule_ids(text, "src/x.c")
        );
    }
}

#[test]
fn user_allowlist_from_config() {
    let engine = engine().unwrap();
    let allow = Allowlist::compile(
        &AllowSpec {
            regexes: vec!["^sk_live_0123".into()],
            stopwords: vec![],
            paths: vec!["fixtures/**".into()],
        },
        "test",
    )
    .unwrap();
    let opts = ScanOptions { user: Some(&allow) };
    let tok = "STRIPE=sk_live_0123456789abcdefghijKLMN\nOTHER=sk_live_9876543210abcdefghijKLMN";
    let mut out = Vec::new();
    scan_text(
        engine,
        &SourceFile::new("src/a.env", tok.into()),
        &opts,
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].span.line, 2);
    out.clear();
    scan_text(
        engine,
        &SourceFile::new("fixtures/a.env", tok.into()),
        &opts,
        &mut out,
    );
    assert!(out.is_empty());
}
