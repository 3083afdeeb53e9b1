//! Secrets never leave the machine: every diff line, hunk header and file
//! name is masked before a prompt is built, and a file that adds one gets
//! risk 5 from the rule, not from the model.
//!
//! One detector engine: the `secrets` pack's (every format it knows, with
//! checksums, placeholder filters and its base64 pass). On top of what it
//! reports for a text, the review masks what only makes sense with the whole
//! file at hand ([`file_masks`]): every value of a committed `kind: Secret`,
//! credentials in `scheme://user:password@host` URLs, tokens folded over
//! the lines of a YAML block scalar (`>-`, `|`), and base64 blocks that
//! decode to something the engine flags.

use crate::manifest::yaml;
use crate::packs::secrets::K8S_SECRET;
use regex::Regex;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::LazyLock as Lazy;

/// A secret detector: byte ranges of secret values in `text`, each with the
/// id of the rule that found it.
pub trait SecretFinder: Send + Sync {
    fn find_secrets(&self, text: &str) -> Vec<(Range<usize>, String)>;
}

/// The `secrets` pack's engine (plain and base64-encoded secrets) plus
/// credential URLs.
pub struct PackSecrets;

/// The rule id masks of URL passwords carry.
pub const URL_PASSWORD: &str = "secrets/url-password";

/// `scheme://user:password@host`: the password (group 1).
static CREDENTIAL_URL: Lazy<Regex> = Lazy::new(|| {
    crate::text::constant_regex(
        r#"(?i)\b[a-z][a-z0-9+.\-]{0,30}://[^\s:@/?#'"<>`]*:([^\s@'"<>`]+)@[^\s@'"<>`]"#,
    )
});

fn is_url_placeholder(v: &str) -> bool {
    v.starts_with("${")
        || v.starts_with("{{")
        || v.starts_with("$(")
        || v.contains("«redacted")
        || v.chars().all(|c| c == '*' || c == 'x' || c == 'X')
}

/// Passwords of credential URLs in `text`.
pub fn credential_urls(text: &str) -> Vec<(Range<usize>, String)> {
    CREDENTIAL_URL
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .filter(|m| !is_url_placeholder(m.as_str()))
        .map(|m| (m.range(), URL_PASSWORD.to_string()))
        .collect()
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

impl SecretFinder for PackSecrets {
    fn find_secrets(&self, text: &str) -> Vec<(Range<usize>, String)> {
        let mut found: Vec<(Range<usize>, String)> = Vec::new();
        if let Ok(engine) = crate::packs::secrets::engine() {
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
            for (d, r) in plain.chain(encoded) {
                let Some(det) = engine.detectors.get(d) else {
                    continue;
                };
                if !found.iter().any(|(o, _)| overlaps(o, &r)) {
                    found.push((r, det.rule.id.to_string()));
                }
            }
        }
        for (r, id) in credential_urls(text) {
            if !found.iter().any(|(o, _)| overlaps(o, &r)) {
                found.push((r, id));
            }
        }
        // Byte ranges must fall on characters of `text`: widen, never shrink.
        for (r, _) in &mut found {
            while r.start > 0 && !text.is_char_boundary(r.start) {
                r.start -= 1;
            }
            r.end = r.end.min(text.len());
            while r.end < text.len() && !text.is_char_boundary(r.end) {
                r.end += 1;
            }
        }
        found.sort_by_key(|(r, _)| r.start);
        found
    }
}

/// Every secret the engine (and the credential-URL check) finds in `text`.
pub fn find_secrets(text: &str) -> Vec<(Range<usize>, String)> {
    PackSecrets.find_secrets(text)
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
    redact_lines_with(lines, finder, vec![Vec::new(); lines.len()])
}

/// [`redact_lines`] with, per line, more ranges to mask (from [`file_masks`]).
pub fn redact_lines_with(
    lines: &[String],
    finder: &dyn SecretFinder,
    mut pieces: Vec<Vec<(Range<usize>, String)>>,
) -> (Vec<String>, Vec<Vec<String>>) {
    pieces.resize(lines.len(), Vec::new());
    let joined = lines.join("\n");
    let found = finder.find_secrets(&joined);
    let mut starts = Vec::with_capacity(lines.len());
    let mut pos = 0;
    for l in lines {
        starts.push(pos);
        pos += l.len() + 1;
    }
    for (range, rule) in &found {
        // Lines are sorted by start: the first line the range touches.
        let first = starts
            .partition_point(|&s| s <= range.start)
            .saturating_sub(1);
        for (i, l) in lines.iter().enumerate().skip(first) {
            let (s, e) = (starts[i], starts[i] + l.len());
            if s > range.end || (s == range.end && !range.is_empty()) {
                break;
            }
            if range.start <= e && range.end > s {
                let a = range.start.max(s) - s;
                let b = range.end.min(e) - s;
                pieces[i].push((a..b, rule.clone()));
            }
        }
    }
    let mut out = Vec::with_capacity(lines.len());
    let mut hits = Vec::with_capacity(lines.len());
    for (l, ps) in lines.iter().zip(pieces) {
        let (masked, rules) = mask_ranges(l, ps);
        out.push(masked);
        hits.push(rules);
    }
    (out, hits)
}

/// Replaces `ranges` of `text` by masks (overlapping ranges merged, widened
/// to character boundaries); returns the text and the rules that matched.
pub fn mask_ranges(text: &str, mut ranges: Vec<(Range<usize>, String)>) -> (String, Vec<String>) {
    let mut rules: Vec<String> = Vec::new();
    for (_, r) in &ranges {
        if !rules.contains(r) {
            rules.push(r.clone());
        }
    }
    for (r, _) in &mut ranges {
        r.start = r.start.min(text.len());
        r.end = r.end.min(text.len());
        while r.start > 0 && !text.is_char_boundary(r.start) {
            r.start -= 1;
        }
        while r.end < text.len() && !text.is_char_boundary(r.end) {
            r.end += 1;
        }
    }
    ranges.retain(|(r, _)| r.start < r.end);
    ranges.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    let mut merged: Vec<(Range<usize>, String)> = Vec::new();
    for (r, rule) in ranges {
        match merged.last_mut() {
            Some((last, _)) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push((r, rule)),
        }
    }
    let mut out = text.to_string();
    for (r, rule) in merged.into_iter().rev() {
        out.replace_range(r, &mask(&rule));
    }
    (out, rules)
}

/// Masks secrets in one free text (the model's answer, a file name, the
/// assembled prompt).
pub fn redact_text(text: &str) -> String {
    mask_ranges(text, find_secrets(text)).0
}

/// Per line (1-based) of one version of a file, the byte ranges of that
/// line to mask, with their rules.
#[derive(Debug, Default)]
pub struct LineMasks {
    by_line: HashMap<usize, Vec<(Range<usize>, String)>>,
    /// The file's lines (without line breaks), to match hunk headers.
    lines: Vec<String>,
}

impl LineMasks {
    pub fn get(&self, line: usize) -> &[(Range<usize>, String)] {
        self.by_line.get(&line).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.by_line.is_empty()
    }

    fn add(&mut self, line: usize, r: Range<usize>, rule: &str) {
        if r.start < r.end {
            self.by_line
                .entry(line)
                .or_default()
                .push((r, rule.to_string()));
        }
    }

    /// Ranges of `section` (the text git puts after a hunk header's `@@`:
    /// the nearest line above the change, maybe cut short) that hold a
    /// masked part of a line it was taken from.
    fn section_ranges(&self, section: &str) -> Vec<(Range<usize>, String)> {
        let lead = section.len() - section.trim_start().len();
        let sec = section.trim();
        let mut out = Vec::new();
        if sec.is_empty() {
            return out;
        }
        for (i, line) in self.lines.iter().enumerate() {
            let Some(ranges) = self.by_line.get(&(i + 1)) else {
                continue;
            };
            let Some(p) = line.find(sec) else { continue };
            if !line[..p].trim().is_empty() {
                continue;
            }
            for (r, rule) in ranges {
                let (a, b) = (r.start.max(p), r.end.min(p + sec.len()));
                if a < b {
                    out.push((a - p + lead..b - p + lead, rule.clone()));
                }
            }
        }
        out
    }
}

/// Lines of `text`: (start byte, end byte without the line break).
fn line_bounds(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = 0;
    for l in text.split('\n') {
        let e = s + l.trim_end_matches('\r').len();
        out.push((s, e));
        s += l.len() + 1;
    }
    out
}

/// Spreads a range of the whole text over the lines it touches.
fn add_global(m: &mut LineMasks, bounds: &[(usize, usize)], r: &Range<usize>, rule: &str) {
    let first = bounds
        .partition_point(|&(s, _)| s <= r.start)
        .saturating_sub(1);
    for (i, &(s, e)) in bounds.iter().enumerate().skip(first) {
        if s >= r.end && !(r.is_empty() && s == r.start) {
            break;
        }
        let (a, b) = (r.start.max(s), r.end.min(e));
        if a < b {
            m.add(i + 1, a - s..b - s, rule);
        }
    }
}

static BLOCK_SCALAR: Lazy<Regex> = Lazy::new(|| {
    crate::text::constant_regex(r"^(\s*)(?:-\s+)?(?:[^#]*?:\s+)?[|>][-+1-9]{0,2}\s*(?:#.*)?$")
});

static LONG_BASE64: Lazy<Regex> =
    Lazy::new(|| crate::text::constant_regex(r"[A-Za-z0-9+/_-]{4000,}={0,2}"));

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// `s` decoded from base64 (standard or URL-safe, padding optional) when
/// it is text.
fn decode_base64_text(s: &str) -> Option<String> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine as _;
    if s.len() < 16 {
        return None;
    }
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let bytes = [&base64::alphabet::STANDARD, &base64::alphabet::URL_SAFE]
        .into_iter()
        .find_map(|a| GeneralPurpose::new(a, config).decode(s).ok())?;
    let text = String::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .then_some(text)
}

/// The rule of a secret in `text` or in its base64 decoding, if any.
fn flagged(text: &str) -> Option<String> {
    if let Some((_, rule)) = find_secrets(text).into_iter().next() {
        return Some(rule);
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let decoded = decode_base64_text(&compact)?;
    find_secrets(&decoded).into_iter().next().map(|(_, r)| r)
}

/// What to mask in one version of a file, line by line: everything the
/// secrets engine finds in the whole text, credential URLs, every value of
/// a `kind: Secret`, secrets folded over the lines of a YAML block scalar
/// (joined, each part masked), and base64 blocks and long runs that decode
/// to a secret (masked whole).
pub fn file_masks(text: &str) -> LineMasks {
    let bounds = line_bounds(text);
    let lines: Vec<&str> = bounds.iter().map(|&(s, e)| &text[s..e]).collect();
    let mut m = LineMasks {
        lines: lines.iter().map(|l| l.to_string()).collect(),
        ..Default::default()
    };
    for (r, rule) in find_secrets(text) {
        add_global(&mut m, &bounds, &r, &rule);
    }
    // Runs too long for the engine's base64 pass.
    for run in LONG_BASE64.find_iter(text) {
        if let Some(rule) = decode_base64_text(run.as_str()).and_then(|d| flagged(&d)) {
            add_global(&mut m, &bounds, &run.range(), &rule);
        }
    }
    kube_secret_masks(text, &lines, &mut m);
    kube_secret_text_masks(&lines, &mut m);
    block_scalar_masks(&lines, &mut m);
    m
}

/// Every value under `data` and `stringData` of a `kind: Secret`, whatever
/// the key: its first line from the value on, and the lines it continues on.
fn kube_secret_masks(text: &str, lines: &[&str], m: &mut LineMasks) {
    if !text.contains("Secret") {
        return;
    }
    let stream = yaml::parse_stream(text, yaml::Limits::default());
    for doc in &stream.documents {
        if doc.root.get("kind").and_then(|k| k.as_str()) != Some("Secret") {
            continue;
        }
        for section in ["data", "stringData"] {
            let Some(map) = doc.root.get(section) else {
                continue;
            };
            for entry in map.entries() {
                if entry
                    .value
                    .scalar_text()
                    .is_none_or(|v| v.trim().is_empty())
                {
                    continue;
                }
                let (line, col) = (entry.value.span.line, entry.value.span.col);
                let Some(first) = line.checked_sub(1).and_then(|i| lines.get(i)) else {
                    continue;
                };
                // Columns count characters from 1.
                let at = first
                    .char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(first.len(), |(i, _)| i);
                let rest = &first[at..];
                let is_indicator = BLOCK_SCALAR.is_match(rest.trim_start())
                    && matches!(rest.trim_start().chars().next(), Some('|' | '>'));
                if !is_indicator {
                    m.add(line, at..first.trim_end().len().max(at), K8S_SECRET.id);
                }
                let key_indent = entry.key.span.col.saturating_sub(1);
                for (i, l) in lines.iter().enumerate().skip(line) {
                    if l.trim().is_empty() {
                        continue;
                    }
                    if indent(l) <= key_indent || l.starts_with("---") {
                        break;
                    }
                    m.add(i + 1, indent(l)..l.trim_end().len(), K8S_SECRET.id);
                }
            }
        }
    }
}

static SECRET_KIND: Lazy<Regex> =
    Lazy::new(|| crate::text::constant_regex(r#"^kind:\s*["']?Secret["']?\s*(?:#.*)?$"#));
static SECRET_SECTION: Lazy<Regex> =
    Lazy::new(|| crate::text::constant_regex(r#"^["']?(?:data|stringData)["']?:\s*(?:#.*)?$"#));

/// The same by the text alone, for a `kind: Secret` document the YAML
/// parser gives up on (a syntax error further up must not unmask it): in a
/// document with a top-level `kind: Secret`, every indented line under a
/// top-level `data:` or `stringData:` is masked from its value on.
fn kube_secret_text_masks(lines: &[&str], m: &mut LineMasks) {
    let mut doc_start = 0;
    for end in (0..=lines.len()).filter(|&i| i == lines.len() || lines[i].starts_with("---")) {
        let doc = doc_start..end;
        doc_start = end + 1;
        if !lines[doc.clone()].iter().any(|l| SECRET_KIND.is_match(l)) {
            continue;
        }
        let mut in_section = false;
        for i in doc {
            let l = lines[i];
            if l.trim().is_empty() || l.trim_start().starts_with('#') {
                continue;
            }
            if indent(l) == 0 {
                in_section = SECRET_SECTION.is_match(l);
                continue;
            }
            if !in_section {
                continue;
            }
            let content = indent(l)..l.trim_end().len();
            // `key: value` masks the value; a continuation line is all value.
            let from = match l[content.clone()].find(": ") {
                Some(p) if !l[content.start..content.start + p].contains(' ') => {
                    content.start + p + 2
                }
                _ => content.start,
            };
            let rest = l[from..].trim();
            if rest.is_empty() || matches!(rest.chars().next(), Some('|' | '>')) && rest.len() <= 3
            {
                continue;
            }
            m.add(i + 1, from..content.end, K8S_SECRET.id);
        }
    }
}

/// Block scalars (`key: >-`, `- |`): their lines joined (with nothing, a
/// space and a line break between them) go through the detectors, and a
/// base64 block through the decoder; a hit masks its part of every line.
fn block_scalar_masks(lines: &[&str], m: &mut LineMasks) {
    let mut i = 0;
    while i < lines.len() {
        let Some(c) = BLOCK_SCALAR.captures(lines[i]) else {
            i += 1;
            continue;
        };
        let parent = c.get(1).map_or(0, |g| g.as_str().len());
        let mut pieces: Vec<(usize, Range<usize>)> = Vec::new();
        let mut j = i + 1;
        while j < lines.len() {
            let l = lines[j];
            if !l.trim().is_empty() {
                if indent(l) <= parent {
                    break;
                }
                pieces.push((j, indent(l)..l.trim_end().len()));
            }
            j += 1;
        }
        if pieces.len() > 1 {
            scan_pieces(lines, &pieces, m);
        }
        i = j.max(i + 1);
    }
}

fn scan_pieces(lines: &[&str], pieces: &[(usize, Range<usize>)], m: &mut LineMasks) {
    for sep in ["", " ", "\n"] {
        let mut joined = String::new();
        let mut offsets = Vec::with_capacity(pieces.len());
        for (k, (li, r)) in pieces.iter().enumerate() {
            if k > 0 {
                joined.push_str(sep);
            }
            offsets.push(joined.len());
            joined.push_str(&lines[*li][r.clone()]);
        }
        for (hit, rule) in find_secrets(&joined) {
            for (k, (li, r)) in pieces.iter().enumerate() {
                let s = offsets[k];
                let e = s + r.len();
                let (a, b) = (hit.start.max(s), hit.end.min(e));
                if a < b {
                    m.add(li + 1, r.start + a - s..r.start + b - s, &rule);
                }
            }
        }
        if sep.is_empty() {
            if let Some(rule) = decode_base64_text(&joined).and_then(|d| flagged(&d)) {
                for (li, r) in pieces {
                    m.add(li + 1, r.clone(), &rule);
                }
            }
        }
    }
}

/// Masks a hunk header: what the detectors find in it, and the masked
/// parts of the file line git copied into it.
pub fn redact_header(header: &str, old: &LineMasks, new: &LineMasks) -> (String, Vec<String>) {
    let mut ranges = find_secrets(header);
    if let Some(p) = header.get(2..).and_then(|h| h.find("@@")).map(|p| p + 4) {
        if p <= header.len() {
            let section = &header[p..];
            for masks in [old, new] {
                ranges.extend(
                    masks
                        .section_ranges(section)
                        .into_iter()
                        .map(|(r, rule)| (r.start + p..r.end + p, rule)),
                );
            }
        }
    }
    mask_ranges(header, ranges)
}

/// Redacts every line and hunk header of every file; returns per file the
/// added lines that held a secret, with the rules that matched.
pub fn redact_files(
    files: &mut [super::diff::FileDiff],
    finder: &dyn SecretFinder,
) -> BTreeMap<String, Vec<(usize, String, Vec<String>)>> {
    let mut found = BTreeMap::new();
    for f in files.iter_mut() {
        let old = f.old_text.as_deref().map(file_masks).unwrap_or_default();
        let new = f.new_text.as_deref().map(file_masks).unwrap_or_default();
        let mut texts = Vec::new();
        let mut extra = Vec::new();
        for h in &f.hunks {
            for l in &h.lines {
                texts.push(l.text.clone());
                let m = match (l.new_line, l.old_line) {
                    (Some(n), _) => new.get(n),
                    (None, Some(o)) => old.get(o),
                    _ => &[],
                };
                extra.push(m.to_vec());
            }
        }
        let (masked, hits) = redact_lines_with(&texts, finder, extra);
        let mut i = 0;
        for h in &mut f.hunks {
            h.header = redact_header(&h.header, &old, &new).0;
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

    const GH: &str = "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";

    fn b64(s: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    /// What the old built-in detector list found, the engine finds.
    #[test]
    fn the_engine_finds_what_the_builtin_list_found() {
        let aws = "AKIA".to_string() + "Z7QW3ERT5YUI7OPA";
        let text = format!("key: {aws}\ntoken = {GH}\npassword: \"Xq7#pL9!vR2wK5mT\"\n");
        let masked = redact_text(&text);
        for v in [aws.as_str(), GH, "Xq7#pL9!vR2wK5mT"] {
            assert!(!masked.contains(v), "{masked}");
        }
        assert!(masked.contains("«redacted:secrets/aws-access-key-id»"));
        assert!(masked.contains("«redacted:secrets/github-pat»"));
    }

    #[test]
    fn ignores_placeholders_and_low_entropy() {
        assert!(find_secrets("password: ${DB_PASSWORD}").is_empty());
        assert!(find_secrets("password: aaaaaaaaaaaa").is_empty());
        assert!(find_secrets("passwordRef: secretKeyRef").is_empty());
        assert!(find_secrets("url: postgres://app:${DB_PASSWORD}@db/app").is_empty());
        assert!(find_secrets("see https://example.com/a/b?c=d").is_empty());
    }

    fn private_key() -> String {
        let body: String = (0..20)
            .map(|i| format!("MIIEow{i:02}BAAKCAQEA1xq7pL9vR2wK5mZ3tHj8Nc4Fd6Gs0Ue2Yb5Wa7Xk9Qr\n"))
            .collect();
        format!("-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n")
    }

    #[test]
    fn masks_a_private_key_block_across_lines() {
        let key = private_key().replace('\n', "\n    ");
        let src = lines(&format!("data:\n  key: |\n    {key}\nnext: 1"));
        let (out, hits) = redact_lines(&src, &PackSecrets);
        assert!(
            out.iter().all(|l| !l.contains("BAAKCAQEA1xq7pL9vR2")),
            "{out:#?}"
        );
        assert_eq!(out[0], "data:");
        assert_eq!(out.last().unwrap(), "next: 1");
        assert!(out[2].contains("«redacted:secrets/private-key"), "{out:#?}");
        assert!(hits[3][0].starts_with("secrets/private-key"));
    }

    #[test]
    fn credential_urls_lose_their_password() {
        let t =
            "DATABASE_URL=mysql://root:pass@db:3306/app and https://user:hunter2@git.example.com/x";
        let out = redact_text(t);
        assert!(!out.contains(":pass@") && !out.contains("hunter2"), "{out}");
        assert!(out.contains("mysql://root:«redacted:secrets/url-password»@db:3306/app"));
        assert!(out.contains("https://user:«redacted:secrets/url-password»@git.example.com"));
    }

    #[test]
    fn every_value_of_a_kube_secret_is_masked_whatever_its_key() {
        let blob = b64("s3cr3t-value-nobody-flags");
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  blob: {blob}\n  other: \"{blob}\"\nstringData:\n  plain: correct horse battery\n  multi: |\n    first line of it\n    second line of it\ntype: Opaque\n"
        );
        let m = file_masks(&text);
        let all: Vec<&str> = text.split('\n').collect();
        let masked: Vec<String> = all
            .iter()
            .enumerate()
            .map(|(i, l)| mask_ranges(l, m.get(i + 1).to_vec()).0)
            .collect();
        let out = masked.join("\n");
        for v in [blob.as_str(), "correct horse", "first line", "second line"] {
            assert!(!out.contains(v), "{v}: {out}");
        }
        assert!(
            out.contains("  blob: «redacted:secrets/k8s-secret-committed»"),
            "{out}"
        );
        assert!(
            out.contains("  name: app") && out.contains("type: Opaque"),
            "{out}"
        );
        assert!(out.contains("  multi: |"), "{out}");
    }

    #[test]
    fn a_kube_secret_the_parser_rejects_is_masked_by_its_text() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: [oops\ndata:\n  blob: aHVudGVyMmh1bnRlcjI=\n  cert: |\n    line-one-of-it\n---\nkind: ConfigMap\ndata:\n  plain: visible\n";
        let m = file_masks(text);
        let l5 = mask_ranges("  blob: aHVudGVyMmh1bnRlcjI=", m.get(5).to_vec()).0;
        assert_eq!(l5, "  blob: «redacted:secrets/k8s-secret-committed»");
        assert!(m.get(6).is_empty(), "the block indicator stays");
        assert!(!m.get(7).is_empty());
        assert!(m.get(11).is_empty(), "another document's data");
    }

    #[test]
    fn a_token_folded_over_a_block_scalar_is_masked_in_both_halves() {
        let (a, b) = GH.split_at(20);
        let text = format!("note: >-\n  {a}\n  {b}\nother: 1\n");
        let m = file_masks(&text);
        assert!(!m.get(2).is_empty() && !m.get(3).is_empty(), "{m:?}");
        assert!(m.get(4).is_empty());
        let l2 = mask_ranges(&format!("  {a}"), m.get(2).to_vec()).0;
        let l3 = mask_ranges(&format!("  {b}"), m.get(3).to_vec()).0;
        assert_eq!(l2, "  «redacted:secrets/github-pat»");
        assert_eq!(l3, "  «redacted:secrets/github-pat»");
    }

    #[test]
    fn base64_blocks_and_long_runs_that_decode_to_a_secret_are_masked_whole() {
        // A PEM key, base64-encoded and wrapped (each line alone decodes to
        // nothing a detector takes).
        let enc = b64(&private_key());
        let wrapped: Vec<&str> = enc
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let text = format!(
            "tls:\n  key: |\n    {}\nport: 443\n",
            wrapped.join("\n    ")
        );
        let m = file_masks(&text);
        for i in 0..wrapped.len() {
            assert!(!m.get(3 + i).is_empty(), "line {}", 3 + i);
        }
        assert!(m.get(3 + wrapped.len()).is_empty());
        // One line longer than the engine's base64 pass reads.
        let long_key = private_key().repeat(4);
        let run = b64(&long_key);
        assert!(run.len() > 4096);
        let text = format!("key: {run}\n");
        let m = file_masks(&text);
        let out = mask_ranges(&format!("key: {run}"), m.get(1).to_vec()).0;
        assert_eq!(out, "key: «redacted:secrets/private-key-rsa»");
    }

    #[test]
    fn hunk_headers_are_masked_from_the_line_git_quoted() {
        let old_text = format!("token: {GH}\nx: 1\ny: 2\n");
        let old = file_masks(&old_text);
        // git cut the quoted line short: the token is not whole in the header.
        let header = format!("@@ -2,2 +2,3 @@ token: {}", &GH[..25]);
        let (out, rules) = redact_header(&header, &old, &LineMasks::default());
        assert!(!out.contains(&GH[4..25]), "{out}");
        assert!(
            out.starts_with("@@ -2,2 +2,3 @@ token: «redacted:secrets/"),
            "{out}"
        );
        assert!(!out.contains("0123456789"), "{out}");
        assert!(
            rules.contains(&"secrets/github-pat".to_string()),
            "{rules:?}"
        );
        let (out, _) = redact_header(
            "@@ -1,3 +1,4 @@ DATABASE_URL=mysql://root:pass@db/x",
            &LineMasks::default(),
            &LineMasks::default(),
        );
        assert!(!out.contains("pass@"), "{out}");
    }

    #[test]
    fn redacts_every_line_but_scores_only_added_secrets() {
        let key = format!("AKIA{}", "Q7ZW3ERT5YUI7OPA");
        let l = |o, n: Option<usize>, t: &str| DiffLine {
            origin: o,
            new_line: n,
            old_line: None,
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
                ..Default::default()
            },
            FileDiff {
                path: "new.yaml".into(),
                hunks: vec![Hunk {
                    header: "@@ -0,0 +1,1 @@".into(),
                    lines: vec![l('+', Some(1), &format!("key: {key}"))],
                }],
                ..Default::default()
            },
        ];
        let found = redact_files(&mut files, &PackSecrets);
        assert!(files
            .iter()
            .flat_map(|f| &f.hunks)
            .flat_map(|h| &h.lines)
            .all(|l| !l.text.contains(&key)));
        assert_eq!(found.keys().collect::<Vec<_>>(), vec!["new.yaml"]);
        assert_eq!(found["new.yaml"][0].0, 1);
    }
}
