//! SARIF 2.1.0 for GitHub code scanning: one run, every rule that can fire,
//! relative URIs under `%SRCROOT%`, and our own line-independent
//! fingerprints (`primaryLocationLineHash` is left to the upload action).
//! GitHub's limits are enforced here and a cut is said in the log.

use crate::finding::{Finding, Severity};
use crate::packs::Rule;
use crate::scan::ScanOutcome;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;

pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const INFORMATION_URI: &str = "https://github.com/shiplint/shiplint";
/// Key of our fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "shiplintFingerprint/v1";
/// GitHub rejects runs above these.
pub const MAX_RESULTS: usize = 25_000;
pub const MAX_RULES: usize = 25_000;
pub const MAX_GZIP_BYTES: usize = 10 * 1024 * 1024;
const MAX_TAGS: usize = 20;

fn level(s: Severity) -> &'static str {
    s.as_str()
}

/// `schema/missing-schema` → `SchemaMissingSchema`.
fn rule_name(id: &str) -> String {
    id.split(['/', '-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Markdown → plain text for `help.text` and `fullDescription` (headings and
/// fences stripped, prose kept).
fn plain(markdown: &str) -> String {
    markdown
        .lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .map(|l| l.trim_start_matches('#').trim_start_matches(' '))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn clamp(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

fn first_paragraph(markdown: &str) -> String {
    let text = plain(markdown);
    let para: Vec<&str> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .collect();
    // Skip a leading "What it finds" heading line.
    let body = para
        .iter()
        .find(|p| p.contains(' ') && p.len() > 20)
        .copied()
        .unwrap_or("");
    body.replace('\n', " ")
}

pub fn rule_json(r: &Rule) -> Value {
    let mut props = serde_json::Map::new();
    let mut tags = r.tag_list();
    tags.truncate(MAX_TAGS);
    props.insert("tags".into(), json!(tags));
    props.insert("precision".into(), json!(r.precision));
    match r.security_severity {
        Some(score) => {
            props.insert("security-severity".into(), json!(format!("{score:.1}")));
        }
        None => {
            let sev = match r.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "recommendation",
            };
            props.insert("problem.severity".into(), json!(sev));
        }
    }
    let help = r.help();
    let full = first_paragraph(&help);
    json!({
        "id": r.id,
        "name": rule_name(r.id),
        "shortDescription": {"text": clamp(r.summary, 1024)},
        "fullDescription": {"text": clamp(if full.is_empty() { r.summary } else { &full }, 1024)},
        "help": {"text": plain(&help), "markdown": help},
        "helpUri": format!("{INFORMATION_URI}/blob/main/docs/rules.md#{}", r.id.replace('/', "")),
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": props,
    })
}

/// Percent-encodes a relative path for `artifactLocation.uri`.
pub fn path_uri(path: &str) -> String {
    if path == "<stdin>" {
        return "stdin".into();
    }
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn result_json(f: &Finding, rule_index: Option<usize>) -> Value {
    let mut region = json!({
        "startLine": f.span.line.max(1),
        "startColumn": f.span.col.max(1),
    });
    if f.span.end_line >= f.span.line
        && (f.span.end_line > f.span.line || f.span.end_col > f.span.col)
    {
        region["endLine"] = json!(f.span.end_line);
        region["endColumn"] = json!(f.span.end_col);
    }
    if let Some(s) = &f.snippet {
        region["snippet"] = json!({"text": s.text});
    }
    let mut r = json!({
        "ruleId": f.rule.as_ref(),
        "level": level(f.severity),
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": path_uri(&f.path), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if let Some(p) = &f.properties {
        r["properties"] = Value::Object((**p).clone());
    }
    if let Some(fix) = &f.fix {
        r["fixes"] = json!([fix_json(&f.path, fix)]);
    }
    r
}

/// A `fix` object: the whole lines `line..=endLine` (from column 1 of
/// `line` to column 1 of the line after) replaced by the fix's text.
fn fix_json(path: &str, fix: &crate::finding::Fix) -> Value {
    json!({
        "description": {"text": fix.description},
        "artifactChanges": [{
            "artifactLocation": {"uri": path_uri(path), "uriBaseId": "%SRCROOT%"},
            "replacements": [{
                "deletedRegion": {
                    "startLine": fix.line,
                    "startColumn": 1,
                    "endLine": fix.end_line + 1,
                    "endColumn": 1,
                },
                "insertedContent": {"text": fix.text},
            }],
        }],
    })
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    if enc.write_all(bytes).is_err() {
        return bytes.len();
    }
    enc.finish().map(|v| v.len()).unwrap_or(bytes.len())
}

pub fn render(outcome: &ScanOutcome) -> String {
    let mut rules: Vec<&Rule> = outcome.rules.to_vec();
    let mut notifications: Vec<Value> = outcome
        .notes
        .iter()
        .map(|n| json!({"level": "note", "message": {"text": n}}))
        .collect();
    if rules.len() > MAX_RULES {
        rules.truncate(MAX_RULES);
        notifications.push(json!({"level": "warning", "message": {"text": format!("rules cut to GitHub's limit of {MAX_RULES}")}}));
    }
    let index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id, i)).collect();

    // Most severe first, so a cut drops notes before errors.
    let mut findings: Vec<&Finding> = outcome.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let total = findings.len();
    if findings.len() > MAX_RESULTS {
        findings.truncate(MAX_RESULTS);
    }
    let mut results: Vec<Value> = findings
        .iter()
        .map(|f| result_json(f, index.get(f.rule.as_ref()).copied()))
        .collect();
    // Exempted findings stay results, suppressed by the team's exemption
    // (code scanning shows them as dismissed, with the reason).
    let room = MAX_RESULTS.saturating_sub(results.len());
    results.extend(outcome.exempted.iter().take(room).map(|x| {
        let mut r = result_json(&x.finding, index.get(x.finding.rule.as_ref()).copied());
        r["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": x.exemption.reason,
        }]);
        r
    }));

    let build = |results: &[Value], notifications: &[Value]| {
        let doc = json!({
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "shiplint",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": INFORMATION_URI,
                    "rules": rules.iter().map(|r| rule_json(r)).collect::<Vec<_>>(),
                }},
                "invocations": [{
                    "executionSuccessful": true,
                    "toolExecutionNotifications": notifications,
                }],
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The directory shiplint was run from (the repository root in CI)."}}},
                "results": results,
                "properties": outcome.properties,
            }],
        });
        let mut doc = doc;
        // A sharded run names itself the way `upload-sarif`'s `category`
        // would (`shiplint-shard-N/`), so the shards' uploads never replace
        // each other even without a category.
        if let Some(i) = outcome.properties.get("shardIndex") {
            doc["runs"][0]["automationDetails"] = json!({"id": format!("shiplint-shard-{i}/")});
        }
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    };
    let mut text = build(&results, &notifications);
    // Only a huge log needs the gzip check; halve until it fits.
    if text.len() > MAX_GZIP_BYTES {
        while gzip_len(text.as_bytes()) > MAX_GZIP_BYTES && !results.is_empty() {
            let keep = results.len() / 2;
            results.truncate(keep);
            text = build(&results, &notifications);
        }
    }
    if results.len() < total {
        notifications.push(json!({"level": "warning", "message": {"text": format!(
            "SARIF cut to {} of {total} results to stay inside GitHub's limits ({MAX_RESULTS} results per run, {} MB gzipped); the most severe were kept — use --format json for all",
            results.len(), MAX_GZIP_BYTES / (1024 * 1024))}}));
        text = build(&results, &notifications);
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_cut_to_githubs_limit_most_severe_first() {
        use crate::finding::{Finding, Severity};
        use crate::scan::{ScanOutcome, Stats};
        use crate::source::Span;
        let path: std::sync::Arc<str> = "a.yaml".into();
        let mut findings: Vec<Finding> = (0..MAX_RESULTS + 10)
            .map(|i| {
                Finding::new(
                    "schema/invalid",
                    Severity::Note,
                    &path,
                    Span::line(i + 1),
                    format!("n{i}"),
                )
            })
            .collect();
        findings.push(Finding::new(
            "schema/invalid",
            Severity::Error,
            &path,
            Span::line(1),
            "the error",
        ));
        let outcome = ScanOutcome {
            findings,
            stats: Stats::default(),
            notes: vec![],
            rules: crate::packs::all_rules(),
            properties: Default::default(),
            exempted: Vec::new(),
        };
        let v: Value = serde_json::from_str(&render(&outcome)).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), MAX_RESULTS);
        assert_eq!(results[0]["message"]["text"], "the error");
        let notes = v["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert!(notes.iter().any(|n| n["message"]["text"]
            .as_str()
            .unwrap()
            .contains("cut to 25000 of 25011")));
    }

    #[test]
    fn names_and_uris() {
        assert_eq!(rule_name("schema/missing-schema"), "SchemaMissingSchema");
        assert_eq!(path_uri("a b/ç.yaml"), "a%20b/%C3%A7.yaml");
    }
}
