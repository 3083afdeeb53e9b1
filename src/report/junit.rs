//! JUnit XML for CI test reports (GitLab `artifacts:reports:junit`, Jenkins,
//! Azure DevOps `PublishTestResults`): one `<testsuite>` per pack, one
//! `<testcase>` per (file, rule), one `<failure>` per finding.
//!
//! Everything in the document is the scanned repository's text (paths,
//! messages quoting keys and names): it is XML-escaped, and characters XML
//! 1.0 cannot carry at all (most C0 controls, U+FFFE/U+FFFF, lone
//! surrogates cannot occur in a `str`) are dropped.

use crate::finding::{Finding, Severity};
use crate::scan::ScanOutcome;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Whether XML 1.0 allows the character anywhere in a document.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
        || ('\u{20}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}'
}

/// Text for an attribute value or character data: escaped, and without the
/// characters XML 1.0 forbids. Tabs and newlines in attributes are written
/// as references so a parser does not normalise them to spaces.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|&c| xml_char(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn pack_of(rule: &str) -> &str {
    rule.split_once('/').map_or(rule, |(p, _)| p)
}

/// The JUnit document. Test cases are sorted (pack, file, rule) and the
/// failures keep report order, so the output is stable.
pub fn render(outcome: &ScanOutcome) -> String {
    // pack → (path, rule) → findings
    let mut suites: BTreeMap<&str, BTreeMap<(&str, &str), Vec<&Finding>>> = BTreeMap::new();
    for f in &outcome.findings {
        suites
            .entry(pack_of(&f.rule))
            .or_default()
            .entry((f.path.trim_start_matches("./"), &f.rule))
            .or_default()
            .push(f);
    }
    let total_cases: usize = suites.values().map(BTreeMap::len).sum();
    let seconds = outcome.stats.duration_ms as f64 / 1000.0;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"shiplint\" tests=\"{total_cases}\" failures=\"{total_cases}\" errors=\"0\" time=\"{seconds:.3}\">"
    );
    for (pack, cases) in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"shiplint.{}\" tests=\"{n}\" failures=\"{n}\" errors=\"0\" skipped=\"0\">",
            escape(pack),
            n = cases.len()
        );
        for ((path, rule), findings) in cases {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\">",
                escape(path),
                escape(rule),
                escape(path)
            );
            for f in findings {
                let _ = writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    f.severity,
                    escape(&format!("{}:{}: {}", path, f.span.line, f.message)),
                    escape(&failure_text(f, path))
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    if suites.is_empty() {
        // Some consumers want at least one suite: an empty, passing one.
        out.push_str(
            "  <testsuite name=\"shiplint\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\">\n    <testcase classname=\"shiplint\" name=\"no findings\"/>\n  </testsuite>\n",
        );
    }
    out.push_str("</testsuites>\n");
    out
}

fn failure_text(f: &Finding, path: &str) -> String {
    let mut t = format!(
        "{}: {}\nfile: {}\nline: {}\nrule: {}",
        level_word(f.severity),
        f.message,
        path,
        f.span.line,
        f.rule
    );
    if let Some(r) = &f.resource {
        let _ = write!(t, "\nresource: {}", r.kind);
        if let Some(ns) = &r.namespace {
            let _ = write!(t, " {ns}/");
        } else {
            t.push(' ');
        }
        t.push_str(r.name.as_deref().unwrap_or("(unnamed)"));
    }
    if let Some(c) = &f.container {
        let _ = write!(t, "\ncontainer: {c}");
    }
    t
}

fn level_word(s: Severity) -> &'static str {
    s.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_invalid_characters_dropped() {
        assert_eq!(
            escape("a<b>&\"c'\u{0}\u{1b}\u{FFFE}\td"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#9;d"
        );
        assert_eq!(escape("]]>"), "]]&gt;");
    }
}
