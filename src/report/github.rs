//! `--format github`: workflow-command annotations (most severe first, within
//! GitHub's per-step limits), a Markdown job summary, and step outputs.
//!
//! Annotations are the one channel that works with any token, so they are
//! also the fallback of `shiplint comment` on fork and Dependabot PRs.

use super::{counts, plural};
use crate::finding::{Finding, Severity};
use crate::scan::ScanOutcome;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// GitHub renders at most this many annotations of each type per step.
pub const MAX_PER_LEVEL: usize = 10;
/// Rows of the summary's findings table.
pub const SUMMARY_ROWS: usize = 20;

/// Escapes the message part of a workflow command (`::cmd props::data`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command: also `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(sev: Severity) -> &'static str {
    match sev {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

/// One annotation line for a finding.
pub fn annotation(f: &Finding) -> String {
    let mut props = format!("file={}", escape_property(&f.path));
    if f.span.line > 0 {
        let _ = write!(props, ",line={}", f.span.line);
        if f.span.end_line >= f.span.line {
            let _ = write!(props, ",endLine={}", f.span.end_line);
        }
        if f.span.col > 0 {
            let _ = write!(props, ",col={}", f.span.col);
            if f.span.end_line == f.span.line && f.span.end_col > f.span.col {
                let _ = write!(props, ",endColumn={}", f.span.end_col);
            }
        }
    }
    let _ = write!(props, ",title={}", escape_property(&f.rule));
    format!(
        "::{} {}::{}",
        command(f.severity),
        props,
        escape_data(&f.message)
    )
}

/// Text for one log line: no line break, no control or format character
/// (`\n::warning::…` in a file name would start a command of its own).
pub fn log_text(s: &str) -> String {
    s.chars()
        .map(|c| if is_invisible(c) { ' ' } else { c })
        .collect()
}

/// A log line; it is printed between `::stop-commands::` and its resume
/// token, and starts with `./` rather than with a `:` of the path.
fn log_line(f: &Finding) -> String {
    let path = log_text(&f.path);
    let path = if path.starts_with(['.', '/']) || path.is_empty() {
        path
    } else {
        format!("./{path}")
    };
    format!(
        "{}:{}:{}: {} {} {}",
        path,
        f.span.line,
        f.span.col,
        f.severity,
        log_text(&f.rule),
        log_text(&f.message)
    )
}

/// A token no untrusted text can know in advance (it resumes commands after
/// `::stop-commands::`).
pub fn stop_token(outcome: &ScanOutcome) -> String {
    let seed = format!(
        "{}{:?}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default(),
        outcome.findings.len()
    );
    let mut token = format!("shiplint-{}", crate::text::short_hash(&seed));
    while outcome
        .findings
        .iter()
        .any(|f| f.message.contains(&token) || f.path.contains(&token))
    {
        token.push('x');
    }
    token
}

/// Findings, most severe first; stable within a severity.
pub fn by_severity(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by_key(|f| std::cmp::Reverse(f.severity));
    v
}

/// The log: every finding in a collapsed group, then up to ten annotations
/// per level, and how many were left out.
pub fn render(outcome: &ScanOutcome) -> String {
    let mut out = String::new();
    let (e, w, n) = counts(&outcome.findings);
    let _ = writeln!(
        out,
        "::group::shiplint: {} ({}, {}, {})",
        plural(outcome.findings.len(), "finding"),
        plural(e, "error"),
        plural(w, "warning"),
        plural(n, "note")
    );
    // Paths and messages are the PR's text: no line of theirs may act as a
    // workflow command, whatever escaping above misses.
    let token = stop_token(outcome);
    let _ = writeln!(out, "::stop-commands::{token}");
    for f in &outcome.findings {
        let _ = writeln!(out, "{}", log_line(f));
    }
    for note in &outcome.notes {
        let _ = writeln!(out, "note: {}", log_text(note));
    }
    let _ = writeln!(out, "::{token}::");
    out.push_str("::endgroup::\n");
    let mut shown: BTreeMap<Severity, usize> = BTreeMap::new();
    let mut left: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in by_severity(&outcome.findings) {
        let c = shown.entry(f.severity).or_default();
        if *c < MAX_PER_LEVEL {
            *c += 1;
            out.push_str(&annotation(f));
            out.push('\n');
        } else {
            *left.entry(f.severity).or_default() += 1;
        }
    }
    if let Some(msg) = left_out_message(&left) {
        let _ = writeln!(out, "{msg}");
    }
    out
}

fn left_out_message(left: &BTreeMap<Severity, usize>) -> Option<String> {
    if left.is_empty() {
        return None;
    }
    let parts: Vec<String> = left
        .iter()
        .rev()
        .map(|(s, n)| plural(*n, s.as_str()))
        .collect();
    Some(format!(
        "shiplint: {} not shown as annotations (GitHub shows {MAX_PER_LEVEL} per level and step); see the job summary or the SARIF report",
        parts.join(", ")
    ))
}

/// Where the summary links to.
#[derive(Debug, Default, Clone)]
pub struct Links {
    pub server_url: Option<String>,
    pub repository: Option<String>,
    pub pr: Option<u64>,
}

impl Links {
    pub fn code_scanning(&self) -> Option<String> {
        let server = self.server_url.as_deref()?.trim_end_matches('/');
        let repo = self.repository.as_deref()?;
        let query = match self.pr {
            Some(n) => format!("is%3Aopen+pr%3A{n}+tool%3Ashiplint"),
            None => "is%3Aopen+tool%3Ashiplint".to_string(),
        };
        Some(format!(
            "{server}/{repo}/security/code-scanning?query={query}"
        ))
    }
}

/// Untrusted text (a message, a path, a rule id, a resource name, a field
/// key) rendered inert for Markdown: one code span, so GitHub makes no
/// mention, link, autolink, image or HTML of it. Control and format
/// characters (line breaks, zero-width, bidi) become spaces or vanish, the
/// fence is longer than any backtick run inside, and a hidden-comment opener
/// cannot fake one of shiplint's markers.
pub fn inert(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\r' | '\n' | '\t' => s.push(' '),
            c if is_invisible(c) => {}
            c => s.push(c),
        }
    }
    let s = s.replace("<!--", "<! --");
    if s.trim().is_empty() {
        return "` `".to_string();
    }
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A space on each side keeps a leading or trailing backtick apart from
    // the fence (CommonMark strips one such space again).
    if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') || s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// `inert` for a Markdown table cell: `|` also ends a cell inside a code
/// span, unless escaped.
pub fn inert_cell(text: &str) -> String {
    inert(text).replace('|', "\\|")
}

pub use crate::text::is_invisible;

/// A number or a plain word (a pack name) as it is; anything else inert.
fn word_or_inert(s: &str) -> String {
    let plain = !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        s.to_string()
    } else {
        inert_cell(&short(s, 200))
    }
}

/// A short rendering of a risk value (a number, a string, or an object
/// with `score`/`level`).
pub fn risk_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(m) => ["score", "level", "risk"]
            .iter()
            .find_map(|k| m.get(*k))
            .map(risk_text)
            .unwrap_or_else(|| v.to_string()),
        other => other.to_string(),
    }
}

/// The numeric risk of a run: the largest of `prRisk` and the findings'
/// `riskScore` properties; 0 when there is none.
pub fn max_risk(outcome: &ScanOutcome) -> f64 {
    fn num(v: &serde_json::Value) -> Option<f64> {
        match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.parse().ok(),
            serde_json::Value::Object(m) => m.get("score").and_then(num),
            _ => None,
        }
    }
    outcome
        .findings
        .iter()
        .filter_map(|f| f.property("riskScore").and_then(num))
        .chain(outcome.properties.get("prRisk").and_then(num))
        .fold(0.0, f64::max)
}

/// Counts by pack: pack → (errors, warnings, notes).
pub fn pack_counts(findings: &[Finding]) -> BTreeMap<String, (usize, usize, usize)> {
    let mut m: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for f in findings {
        let pack = f.rule.split('/').next().unwrap_or("").to_string();
        let c = m.entry(pack).or_default();
        match f.severity {
            Severity::Error => c.0 += 1,
            Severity::Warning => c.1 += 1,
            Severity::Note => c.2 += 1,
        }
    }
    m
}

/// The counts table and PR risk, shared by the job summary and the PR comment.
pub fn counts_markdown(outcome: &ScanOutcome) -> String {
    let mut out = String::new();
    let (e, w, n) = counts(&outcome.findings);
    let s = &outcome.stats;
    let _ = writeln!(
        out,
        "**{}** ({}, {}, {}) in {}, {}.\n",
        plural(outcome.findings.len(), "finding"),
        plural(e, "error"),
        plural(w, "warning"),
        plural(n, "note"),
        plural(s.files, "file"),
        plural(s.resources, "resource")
    );
    if let Some(risk) = outcome.properties.get("prRisk") {
        let _ = writeln!(out, "**PR risk:** {}\n", word_or_inert(&risk_text(risk)));
        out.push_str(&risk_reasons_markdown(outcome));
    }
    let packs = pack_counts(&outcome.findings);
    if !packs.is_empty() {
        out.push_str("| Pack | Errors | Warnings | Notes |\n|---|---:|---:|---:|\n");
        for (p, (e, w, n)) in &packs {
            let _ = writeln!(out, "| {} | {e} | {w} | {n} |", word_or_inert(p));
        }
        out.push('\n');
    }
    out
}

/// Most reasons shown under the PR risk.
const RISK_ROWS: usize = 5;

/// The deterministic PR risk's top reasons (`prRiskReasons`), with the
/// rule and LLM scores when both are known. Reasons name objects and files
/// of the pull request: every cell is inert.
fn risk_reasons_markdown(outcome: &ScanOutcome) -> String {
    let p = &outcome.properties;
    let mut out = String::new();
    let num = |k: &str| p.get(k).and_then(serde_json::Value::as_u64);
    match (num("prRiskDeterministic"), num("prRiskLlm")) {
        (Some(d), Some(l)) => {
            let _ = writeln!(out, "Rules: {d}/5, LLM: {l}/5 (the higher counts).\n");
        }
        (Some(d), None) => {
            let _ = writeln!(out, "Rules: {d}/5 (no LLM score).\n");
        }
        _ => {}
    }
    let reasons = p
        .get("prRiskReasons")
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if reasons.is_empty() {
        return out;
    }
    out.push_str("| Weight | Reason | Where |\n|---:|---|---|\n");
    for r in reasons.iter().take(RISK_ROWS) {
        let place = format!(
            "{}:{}",
            r["path"].as_str().unwrap_or(""),
            r["line"].as_u64().unwrap_or(0)
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            r["weight"].as_u64().unwrap_or(0),
            inert_cell(&short(r["reason"].as_str().unwrap_or(""), 200)),
            inert_cell(&place)
        );
    }
    if reasons.len() > RISK_ROWS {
        let _ = writeln!(
            out,
            "\n_and {} more reasons (JSON `properties.prRiskReasons`)._",
            reasons.len() - RISK_ROWS
        );
    }
    out.push('\n');
    out
}

/// The rules that fire most (top `n`): level, rule, count, first place.
pub fn top_rules_markdown(findings: &[Finding], n: usize) -> String {
    let rules = super::rule_counts(findings);
    if rules.is_empty() {
        return String::new();
    }
    let mut out = String::from("| Rule | Level | Count | First |\n|---|---|---:|---|\n");
    for r in rules.iter().take(n) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            inert_cell(&r.rule),
            r.level,
            r.count,
            inert_cell(&format!("{}:{}", r.first_path, r.first_line))
        );
    }
    if rules.len() > n {
        let _ = writeln!(out, "\n_and {} more rules._", rules.len() - n);
    }
    out.push('\n');
    out
}

/// `Kind ns/name` of a finding's resource.
pub fn resource_name(r: &crate::finding::ResourceRef) -> String {
    let name = r.name.as_deref().unwrap_or("(unnamed)");
    match &r.namespace {
        Some(ns) => format!("{} {ns}/{name}", r.kind),
        None => format!("{} {name}", r.kind),
    }
}

/// The resources with most findings (top `n`), with their file.
pub fn top_resources_markdown(findings: &[Finding], n: usize) -> String {
    // (path, resource) → (errors, warnings, notes), first seen order kept for ties.
    type Counts = (usize, usize, usize);
    let mut by: Vec<((&str, String), Counts)> = Vec::new();
    let mut index: std::collections::HashMap<(&str, String), usize> = Default::default();
    for f in findings {
        let Some(r) = &f.resource else { continue };
        let key = (&*f.path, resource_name(r));
        let i = *index.entry(key.clone()).or_insert_with(|| {
            by.push((key, (0, 0, 0)));
            by.len() - 1
        });
        let c = &mut by[i].1;
        match f.severity {
            Severity::Error => c.0 += 1,
            Severity::Warning => c.1 += 1,
            Severity::Note => c.2 += 1,
        }
    }
    if by.is_empty() {
        return String::new();
    }
    by.sort_by_key(|(_, (e, w, n))| std::cmp::Reverse((e + w + n, *e, *w)));
    let mut out =
        String::from("| Resource | File | Findings | Errors | Warnings | Notes |\n|---|---|---:|---:|---:|---:|\n");
    for ((path, name), (e, w, nn)) in by.iter().take(n) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {e} | {w} | {nn} |",
            inert_cell(name),
            inert_cell(path),
            e + w + nn
        );
    }
    if by.len() > n {
        let _ = writeln!(out, "\n_and {} more resources._", by.len() - n);
    }
    out.push('\n');
    out
}

/// A GitHub ```` ```suggestion ```` block replacing the commented line with
/// `text` (whole lines). The fence is longer than any backtick run in the
/// text, so the text cannot close it; text with control or format
/// characters (other than line ends and tabs) gets no suggestion at all.
pub fn suggestion_block(text: &str) -> Option<String> {
    if text
        .chars()
        .any(|c| is_invisible(c) && !matches!(c, '\n' | '\r' | '\t'))
    {
        return None;
    }
    let body = text.replace("\r\n", "\n");
    let body = body.strip_suffix('\n').unwrap_or(&body);
    if body.contains('\r') {
        return None;
    }
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    Some(if body.is_empty() && text.is_empty() {
        format!("{fence}suggestion\n{fence}\n")
    } else {
        format!("{fence}suggestion\n{body}\n{fence}\n")
    })
}

/// At most `n` characters, with an ellipsis when cut.
pub fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect::<String>() + "…"
    }
}

/// A findings table (most severe first, at most `rows`).
pub fn findings_table(findings: &[&Finding], rows: usize) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        return out;
    }
    out.push_str("| Severity | Rule | Location | Message |\n|---|---|---|---|\n");
    let mut sorted = findings.to_vec();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in sorted.iter().take(rows) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            f.severity,
            inert_cell(&f.rule),
            inert_cell(&format!("{}:{}", f.path, f.span.line)),
            inert_cell(&short(&f.message, 300))
        );
    }
    if findings.len() > rows {
        let _ = writeln!(out, "\n…and {} more.", findings.len() - rows);
    }
    out
}

/// The job summary (`$GITHUB_STEP_SUMMARY`).
pub fn summary(outcome: &ScanOutcome, links: &Links) -> String {
    let mut out = String::from("## shiplint\n\n");
    out.push_str(&counts_markdown(outcome));
    let all: Vec<&Finding> = outcome.findings.iter().collect();
    if !all.is_empty() {
        out.push_str("### Top findings\n\n");
        out.push_str(&findings_table(&all, SUMMARY_ROWS));
        out.push('\n');
    }
    let mut left = BTreeMap::new();
    let mut shown: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in &outcome.findings {
        let c = shown.entry(f.severity).or_default();
        *c += 1;
        if *c > MAX_PER_LEVEL {
            *left.entry(f.severity).or_insert(0) += 1;
        }
    }
    if let Some(msg) = left_out_message(&left) {
        let _ = writeln!(out, "_{}_\n", msg.trim_start_matches("shiplint: "));
    }
    if let Some(url) = links.code_scanning() {
        let _ = writeln!(
            out,
            "All findings: [code scanning]({url}) (when the SARIF report is uploaded).\n"
        );
    }
    out
}

/// Appends to a file (the step summary), creating it if needed.
pub fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// `name<<DELIM\nvalue\nDELIM\n` lines for `$GITHUB_OUTPUT`; the delimiter
/// never occurs in the values.
pub fn outputs_text(values: &[(&str, String)]) -> String {
    let mut out = String::new();
    let seed = format!(
        "{}{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    );
    let mut delim = format!("ghadelimiter_{}", crate::text::short_hash(&seed));
    while values.iter().any(|(_, v)| v.contains(&delim)) {
        delim.push('_');
    }
    for (k, v) in values {
        let _ = write!(out, "{k}<<{delim}\n{v}\n{delim}\n");
    }
    out
}

/// The step outputs of a run.
pub fn outputs(outcome: &ScanOutcome, sarif_file: Option<&Path>) -> Vec<(&'static str, String)> {
    let (e, _, _) = counts(&outcome.findings);
    let risk = max_risk(outcome);
    vec![
        ("findings", outcome.findings.len().to_string()),
        ("errors", e.to_string()),
        ("max-risk", format!("{risk}")),
        (
            "sarif-file",
            sarif_file
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestion_fences_outlast_backtick_runs() {
        assert_eq!(
            suggestion_block("a: 1\n").unwrap(),
            "```suggestion\na: 1\n```\n"
        );
        let hostile = "x: \"````\"\n```\n";
        let block = suggestion_block(hostile).unwrap();
        assert!(block.starts_with("`````suggestion\n"), "{block}");
        assert!(block.ends_with("\n`````\n"), "{block}");
        // A deletion is an empty block; CRLF lines become LF.
        assert_eq!(suggestion_block("").unwrap(), "```suggestion\n```\n");
        assert_eq!(
            suggestion_block("a\r\nb\r\n").unwrap(),
            "```suggestion\na\nb\n```\n"
        );
        assert!(suggestion_block("a\u{202E}b\n").is_none());
        assert!(suggestion_block("a\rb\n").is_none());
    }
    use crate::source::Span;
    use std::sync::Arc;

    fn finding(sev: Severity, msg: &str) -> Finding {
        let path: Arc<str> = "k8s/a,b:c.yaml".into();
        Finding::new(
            "schema/invalid",
            sev,
            &path,
            Span {
                line: 3,
                col: 5,
                end_line: 3,
                end_col: 9,
            },
            msg,
        )
    }

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("100%\r\nnext"), "100%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        // Data keeps `:` and `,`.
        assert_eq!(escape_data("a: b, c"), "a: b, c");
    }

    #[test]
    fn annotation_line() {
        let f = finding(Severity::Warning, "bad: value, 50%\nsecond line");
        assert_eq!(
            annotation(&f),
            "::warning file=k8s/a%2Cb%3Ac.yaml,line=3,endLine=3,col=5,endColumn=9,title=schema/invalid::bad: value, 50%25%0Asecond line"
        );
        let n = finding(Severity::Note, "x");
        assert!(annotation(&n).starts_with("::notice file="));
    }

    #[test]
    fn outputs_are_multiline_safe() {
        let text = outputs_text(&[("a", "1".into()), ("b", "x\ny".into())]);
        let first = text.lines().next().unwrap();
        let delim = first.strip_prefix("a<<").unwrap();
        assert_eq!(
            text,
            format!("a<<{delim}\n1\n{delim}\nb<<{delim}\nx\ny\n{delim}\n")
        );
    }

    #[test]
    fn summary_counts_packs_and_risk() {
        let mut outcome = ScanOutcome {
            findings: vec![
                finding(Severity::Error, "a|b"),
                finding(Severity::Warning, "c"),
            ],
            stats: Default::default(),
            notes: vec![],
            rules: vec![],
            properties: Default::default(),
            exempted: Vec::new(),
        };
        outcome.findings[1].rule = "secrets/aws-key".into();
        outcome.findings[1].set_property("riskScore".into(), 4.into());
        outcome.properties.insert(
            "prRisk".into(),
            serde_json::json!({"score": 3, "reason": "x"}),
        );
        let links = Links {
            server_url: Some("https://github.com".into()),
            repository: Some("o/r".into()),
            pr: Some(5),
        };
        outcome
            .properties
            .insert("prRiskDeterministic".into(), 3.into());
        outcome.properties.insert(
            "prRiskReasons".into(),
            serde_json::json!([{"id": "privileged-added", "reason": "container 'x' of Deployment/@evil made privileged", "weight": 3, "path": "k8s/a.yaml", "line": 9}]),
        );
        let md = summary(&outcome, &links);
        assert!(md.contains("Rules: 3/5 (no LLM score)."), "{md}");
        assert!(
            md.contains(
                "| 3 | `container 'x' of Deployment/@evil made privileged` | `k8s/a.yaml:9` |"
            ),
            "{md}"
        );
        assert!(md.contains("| schema | 1 | 0 | 0 |") && md.contains("| secrets | 0 | 1 | 0 |"));
        assert!(md.contains("**PR risk:** 3"));
        assert!(md.contains("a\\|b"));
        assert!(md.contains(
            "https://github.com/o/r/security/code-scanning?query=is%3Aopen+pr%3A5+tool%3Ashiplint"
        ));
        assert_eq!(max_risk(&outcome), 4.0);
        let out = outputs(&outcome, Some(Path::new("x.sarif")));
        assert_eq!(out[0], ("findings", "2".to_string()));
        assert_eq!(out[2], ("max-risk", "4".to_string()));
    }

    #[test]
    fn annotations_most_severe_first_within_limits() {
        let mut findings: Vec<Finding> = (0..3).map(|_| finding(Severity::Note, "n")).collect();
        findings.extend((0..12).map(|_| finding(Severity::Error, "e")));
        let outcome = ScanOutcome {
            findings,
            stats: Default::default(),
            notes: vec![],
            rules: vec![],
            properties: Default::default(),
            exempted: Vec::new(),
        };
        let log = render(&outcome);
        let cmds: Vec<&str> = log
            .lines()
            .filter(|l| {
                ["::error ", "::warning ", "::notice "]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect();
        assert_eq!(cmds.len(), 13);
        assert!(cmds[..10].iter().all(|l| l.starts_with("::error ")));
        assert!(cmds[10..].iter().all(|l| l.starts_with("::notice ")));
        assert!(log.contains("shiplint: 2 errors not shown"));
        // The log lines are inside a stop-commands block.
        let stop = log.lines().nth(1).unwrap();
        let token = stop.strip_prefix("::stop-commands::").unwrap();
        assert!(log.contains(&format!("\n::{token}::\n::endgroup::\n")));
    }

    #[test]
    fn cells_cannot_break_tables() {
        assert_eq!(inert_cell("a|b\n<c>"), "`a\\|b <c>`");
    }

    #[test]
    fn untrusted_text_is_one_code_span() {
        assert_eq!(inert("web"), "`web`");
        assert_eq!(inert("a `b` c"), "``a `b` c``");
        assert_eq!(inert("`x"), "`` `x ``");
        assert_eq!(inert("a\n\r\u{200B}b\u{202E}"), "`a  b`");
        assert_eq!(
            inert("<!-- shiplint:resolved -->"),
            "`<! -- shiplint:resolved -->`"
        );
        assert_eq!(inert(""), "` `");
    }
}
