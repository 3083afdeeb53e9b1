//! Secrets never leave the machine: every diff line is masked before a
//! prompt is built, and a file that adds one gets risk 5 from the rule, not
//! from the model.
//!
//! [`find_secrets`] is the boundary the `secrets` pack's engine can later
//! replace; until then a small built-in detector set stands in for it.

use once_cell::sync::Lazy;
use regex::Regex;
use std::collections::BTreeMap;
use std::ops::Range;

/// A secret detector: byte ranges of secret values in `text`, each with the
/// id of the rule that found it.
pub trait SecretFinder: Send + Sync {
    fn find_secrets(&self, text: &str) -> Vec<(Range<usize>, String)>;
}

/// The `secrets` pack's detectors (every format it knows, with checksums
/// and placeholder filters), backed up by the minimal built-in set, so
/// nothing either of them recognises reaches the model.
pub struct PackSecrets;

impl SecretFinder for PackSecrets {
    fn find_secrets(&self, text: &str) -> Vec<(Range<usize>, String)> {
        let mut out: Vec<(Range<usize>, String)> = match crate::packs::secrets::engine() {
            Ok(engine) => {
                let bytes = text.as_bytes();
                let plain = engine
                    .scan(bytes, "", &Default::default())
                    .into_iter()
                    .map(|h| (h.detector, h.start..h.end));
                // A base64 run that decodes to a secret is masked whole.
                let encoded = engine
                    .scan_encoded(bytes, "", &Default::default())
                    .into_iter()
                    .map(|e| (e.detector, e.start..e.end));
                let mut found: Vec<(Range<usize>, String)> = Vec::new();
                for (d, r) in plain.chain(encoded) {
                    let Some(det) = engine.detectors.get(d) else {
                        continue;
                    };
                    // Byte ranges must fall on characters of `text`.
                    if text.get(r.clone()).is_some()
                        && !found
                            .iter()
                            .any(|(o, _)| o.start < r.end && r.start < o.end)
                    {
                        found.push((r, det.rule_id.clone()));
                    }
                }
                found
            }
            Err(_) => Vec::new(),
        };
        for (r, id) in BuiltinSecrets.find_secrets(text) {
            if !out.iter().any(|(o, _)| o.start < r.end && r.start < o.end) {
                out.push((r, id));
            }
        }
        out.sort_by_key(|(r, _)| r.start);
        out
    }
}

/// The minimal built-in detector set.
pub struct BuiltinSecrets;

struct Detector {
    id: &'static str,
    re: Regex,
    /// Which capture group is the secret (0 = the whole match).
    group: usize,
    min_entropy: f64,
}

static DETECTORS: Lazy<Vec<Detector>> = Lazy::new(|| {
    let d = |id, re: &str, group, min_entropy| Detector {
        id,
        re: Regex::new(re).expect("built-in secret regex"),
        group,
        min_entropy,
    };
    vec![
        d(
            "secrets/private-key",
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----(?s:.*?-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|.*)",
            0,
            0.0,
        ),
        d(
            "secrets/aws-access-key-id",
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
            0,
            0.0,
        ),
        d(
            "secrets/github-token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
            0,
            0.0,
        ),
        d(
            "secrets/generic-password",
            r#"(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|auth)["']?\s*[:=]\s*["']?([^\s"'`,;]{8,})"#,
            1,
            3.0,
        ),
    ]
});

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let n = s.chars().count() as f64;
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn is_placeholder(v: &str) -> bool {
    v.starts_with("${")
        || v.starts_with("{{")
        || v.starts_with('<')
        || v.starts_with("$(")
        || v.contains("«redacted")
        || v.chars().all(|c| c == '*' || c == 'x' || c == 'X')
}

impl SecretFinder for BuiltinSecrets {
    fn find_secrets(&self, text: &str) -> Vec<(Range<usize>, String)> {
        let mut out: Vec<(Range<usize>, String)> = Vec::new();
        for d in DETECTORS.iter() {
            for caps in d.re.captures_iter(text) {
                let Some(m) = caps.get(d.group) else { continue };
                if d.min_entropy > 0.0
                    && (entropy(m.as_str()) < d.min_entropy || is_placeholder(m.as_str()))
                {
                    continue;
                }
                let r = m.range();
                if !out.iter().any(|(o, _)| o.start < r.end && r.start < o.end) {
                    out.push((r, d.id.to_string()));
                }
            }
        }
        out.sort_by_key(|(r, _)| r.start);
        out
    }
}

/// The built-in detector set as a plain function (the documented boundary).
pub fn find_secrets(text: &str) -> Vec<(Range<usize>, String)> {
    BuiltinSecrets.find_secrets(text)
}

/// The mask put where a secret was.
pub fn mask(rule: &str) -> String {
    format!("«redacted:{rule}»")
}

/// Masks secrets in a sequence of lines that are scanned as one text (so a
/// private key block spanning lines is found). Returns the masked lines and,
/// per line index, the rule ids that matched on it.
pub fn redact_lines(
    lines: &[String],
    finder: &dyn SecretFinder,
) -> (Vec<String>, Vec<Vec<String>>) {
    let joined = lines.join("\n");
    let found = finder.find_secrets(&joined);
    let mut out = lines.to_vec();
    let mut hits = vec![Vec::new(); lines.len()];
    if found.is_empty() {
        return (out, hits);
    }
    let mut starts = Vec::with_capacity(lines.len());
    let mut pos = 0;
    for l in lines {
        starts.push(pos);
        pos += l.len() + 1;
    }
    // Per line, the (local range, rule) pieces to replace, applied right to left.
    let mut pieces: Vec<Vec<(Range<usize>, String)>> = vec![Vec::new(); lines.len()];
    for (range, rule) in &found {
        for (i, l) in lines.iter().enumerate() {
            let (s, e) = (starts[i], starts[i] + l.len());
            if range.start <= e && range.end > s {
                let a = range.start.max(s) - s;
                let b = range.end.min(e) - s;
                if a < b || l.is_empty() {
                    pieces[i].push((a..b, rule.clone()));
                }
                if !hits[i].contains(rule) {
                    hits[i].push(rule.clone());
                }
            }
        }
    }
    for (i, mut ps) in pieces.into_iter().enumerate() {
        ps.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        for (r, rule) in ps {
            if out[i].is_char_boundary(r.start) && out[i].is_char_boundary(r.end) {
                out[i].replace_range(r, &mask(&rule));
            }
        }
    }
    (out, hits)
}

/// Masks secrets in one free text (used on the model's answer too).
pub fn redact_text(text: &str) -> String {
    let mut out = text.to_string();
    let mut found = find_secrets(text);
    found.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    for (r, rule) in found {
        out.replace_range(r, &mask(&rule));
    }
    out
}

/// Redacts every line of every file; returns per file the added lines that
/// held a secret, with the rules that matched.
pub fn redact_files(
    files: &mut [super::diff::FileDiff],
    finder: &dyn SecretFinder,
) -> BTreeMap<String, Vec<(usize, String, Vec<String>)>> {
    let mut found = BTreeMap::new();
    for f in files.iter_mut() {
        let texts: Vec<String> = f
            .hunks
            .iter()
            .flat_map(|h| h.lines.iter().map(|l| l.text.clone()))
            .collect();
        let (masked, hits) = redact_lines(&texts, finder);
        let mut i = 0;
        for h in &mut f.hunks {
            for l in &mut h.lines {
                l.text = masked[i].clone();
                if l.origin == '+' && !hits[i].is_empty() {
                    if let Some(n) = l.new_line {
                        found.entry(f.path.clone()).or_insert_with(Vec::new).push((
                            n,
                            l.text.clone(),
                            hits[i].clone(),
                        ));
                    }
                }
                i += 1;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::diff::{DiffLine, FileDiff, Hunk};
    use super::*;

    #[test]
    fn the_secrets_pack_engine_masks_what_it_knows() {
        let text = "aws_access_key_id = AKIADEFGHIJKLMNOPQRS\nregion = eu-west-1\n";
        let found = PackSecrets.find_secrets(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(&text[found[0].0.clone()], "AKIADEFGHIJKLMNOPQRS");
        assert_eq!(found[0].1, "secrets/aws-access-key-id");
    }

    /// An encoded credential would reach the model as readable as a plain
    /// one (any model decodes base64): the whole run is masked.
    #[test]
    fn a_base64_encoded_secret_is_masked_whole() {
        use base64::Engine as _;
        let run = base64::engine::general_purpose::STANDARD
            .encode("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");
        let text = format!("env:\n  GH: {run}\n");
        let found = PackSecrets.find_secrets(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(&text[found[0].0.clone()], run);
        assert_eq!(found[0].1, "secrets/github-pat");
        let (masked, rules) = redact_lines(&lines(&text), &PackSecrets);
        assert_eq!(masked[1], "  GH: «redacted:secrets/github-pat»");
        assert_eq!(rules[1], ["secrets/github-pat"]);
    }

    fn lines(s: &str) -> Vec<String> {
        s.split('\n').map(String::from).collect()
    }

    #[test]
    fn finds_each_builtin_kind() {
        let aws = "AKIA".to_string() + "Z7QW3ERT5YUI8OPA";
        let gh = "ghp_".to_string() + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5";
        let text = format!("key: {aws}\ntoken = {gh}\npassword: \"Xq7#pL9!vR2$wK5m\"\n");
        let ids: Vec<_> = find_secrets(&text).into_iter().map(|(_, id)| id).collect();
        assert!(ids.contains(&"secrets/aws-access-key-id".to_string()));
        assert!(ids.contains(&"secrets/github-token".to_string()));
        assert!(ids.contains(&"secrets/generic-password".to_string()));
    }

    #[test]
    fn ignores_placeholders_and_low_entropy() {
        assert!(find_secrets("password: ${DB_PASSWORD}").is_empty());
        assert!(find_secrets("password: aaaaaaaaaaaa").is_empty());
        assert!(find_secrets("passwordRef: secretKeyRef").is_empty());
    }

    #[test]
    fn masks_a_private_key_block_across_lines() {
        let begin = "-----BEGIN RSA PRIVATE".to_string() + " KEY-----";
        let src = lines(&format!(
            "data:\n  key: |\n    {begin}\n    MIIEowIBAAKCAQEA1x\n    -----END RSA PRIVATE KEY-----\nnext: 1"
        ));
        let (out, hits) = redact_lines(&src, &BuiltinSecrets);
        assert!(out.iter().all(|l| !l.contains("MIIEowIBAAKCAQEA1x")));
        assert_eq!(out[0], "data:");
        assert_eq!(out[5], "next: 1");
        assert!(out[2].contains("«redacted:secrets/private-key»"));
        assert_eq!(hits[3], vec!["secrets/private-key".to_string()]);
    }

    #[test]
    fn redacts_every_line_but_scores_only_added_secrets() {
        let key = format!("AKIA{}", "Q7ZW3ERT5YUI8OPA");
        let l = |o, n: Option<usize>, t: &str| DiffLine {
            origin: o,
            new_line: n,
            text: t.to_string(),
        };
        let mut files = vec![
            FileDiff {
                path: "old.yaml".into(),
                hunks: vec![Hunk {
                    header: "@@ -1,2 +1,1 @@".into(),
                    lines: vec![
                        l('-', None, &format!("key: {key}")),
                        l('+', Some(1), "key: ref"),
                    ],
                }],
            },
            FileDiff {
                path: "new.yaml".into(),
                hunks: vec![Hunk {
                    header: "@@ -0,0 +1,1 @@".into(),
                    lines: vec![l('+', Some(1), &format!("key: {key}"))],
                }],
            },
        ];
        let found = redact_files(&mut files, &BuiltinSecrets);
        assert!(files
            .iter()
            .flat_map(|f| &f.hunks)
            .flat_map(|h| &h.lines)
            .all(|l| !l.text.contains(&key)));
        assert_eq!(found.keys().collect::<Vec<_>>(), vec!["new.yaml"]);
        assert_eq!(found["new.yaml"][0].0, 1);
    }
}
