//! `.Values.x.y` references of a chart's templates that neither
//! `values.yaml` nor `values.schema.json` defines: a typo that Helm renders
//! silently as an empty string (`{{ .Values.imge }}`), or a value the chart
//! forgot to give a default. Read from the templates' text, so it needs no
//! Helm.
//!
//! Only references whose value is *output* are judged: a reference inside a
//! guard (`if`, `with`, `range`, `default`, `required`, `hasKey`, `empty`,
//! `coalesce`, `ternary`, `and`, `or`, `not`, comparisons, `dig`, an
//! assignment) is an optional value by design, and so is any path that a
//! guard anywhere in the same template tests (`{{ if .Values.tls }}` …
//! `{{ .Values.tls.secretName }}`). `.Values.global` (set by a parent
//! chart) and subcharts (rendered with their parent's values) are left out.

use super::helm::{read_regular, Chart};
use super::VALUES_UNDEFINED;
use crate::finding::{Finding, Snippet};
use crate::manifest::{yaml, Limits};
use crate::source::Span;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Template files read per chart, and the largest one read.
const MAX_TEMPLATES: usize = 500;
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;
/// Folder depth under `templates/`.
const MAX_DEPTH: usize = 8;

/// Words that make an action a guard: the references in it may be absent.
const GUARDS: &[&str] = &[
    "if",
    "else",
    "with",
    "range",
    "default",
    "required",
    "hasKey",
    "empty",
    "coalesce",
    "ternary",
    "and",
    "or",
    "not",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "dig",
    "kindIs",
    "typeIs",
    "typeOf",
    "kindOf",
    "fail",
    "len",
    "keys",
    "pluck",
    "get",
    "semverCompare",
];

/// One `.Values` reference in a template.
#[derive(Debug, PartialEq)]
struct Ref {
    path: Vec<String>,
    line: usize,
    col: usize,
    guarded: bool,
}

/// The `render/values-undefined` findings of one chart.
pub fn check(chart: &Chart) -> Vec<Finding> {
    let values_text = read_regular(&chart.dir.join("values.yaml"), MAX_TEMPLATE_BYTES);
    let schema_text = read_regular(&chart.dir.join("values.schema.json"), MAX_TEMPLATE_BYTES);
    if values_text.is_none() && schema_text.is_none() {
        // No defaults and no schema at all: every value comes from the
        // user, by design; there is nothing to hold the references to.
        return Vec::new();
    }
    let values_text = values_text.unwrap_or_default();
    let values = yaml::parse_stream(&values_text, Limits::default())
        .documents
        .into_iter()
        .next()
        .map(|d| d.root);
    let schema: Option<serde_json::Value> = schema_text.and_then(|t| serde_json::from_str(&t).ok());
    let mut files = Vec::new();
    collect_templates(&chart.dir.join("templates"), "templates", 0, &mut files);
    files.sort();
    let mut out = Vec::new();
    for (rel, text) in files {
        let refs = references(&text);
        // Paths some guard of this file tests: their subtrees are optional.
        let guarded: Vec<&[String]> = refs
            .iter()
            .filter(|r| r.guarded)
            .map(|r| r.path.as_slice())
            .collect();
        let display: Arc<str> = if chart.display == "." {
            rel.clone().into()
        } else {
            format!("{}/{rel}", chart.display).into()
        };
        let mut seen = BTreeSet::new();
        for r in refs.iter().filter(|r| !r.guarded) {
            if r.path.first().is_some_and(|k| k == "global")
                || guarded.iter().any(|g| r.path.starts_with(g))
                || defined_in_values(values.as_ref(), &r.path)
                || defined_in_schema(schema.as_ref(), &r.path)
            {
                continue;
            }
            let name = r.path.join(".");
            if !seen.insert((name.clone(), r.line)) {
                continue;
            }
            let line_text = text.split('\n').nth(r.line - 1).unwrap_or("");
            let line_text = line_text.trim_end_matches('\r').to_string();
            let end_col = r.col + ".Values.".len() + name.chars().count();
            let mut f = Finding::from_rule(&VALUES_UNDEFINED, &display,
                    Span {
                        line: r.line,
                        col: r.col,
                        end_line: r.line,
                        end_col,
                    },
                    format!(
                        ".Values.{name} is set neither in values.yaml nor in values.schema.json: Helm renders it as an empty value (a typo, or a value with no default)"
                    ),
                )
                .with_key(format!("values-undefined:{name}"));
            f.snippet = Some(Snippet {
                line: r.line,
                text: line_text,
            });
            out.push(f);
        }
    }
    out
}

/// Template files under `dir` (display `rel`): no symbolic links, bounded.
fn collect_templates(dir: &Path, rel: &str, depth: usize, out: &mut Vec<(String, String)>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if out.len() >= MAX_TEMPLATES {
            return;
        }
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name().to_string_lossy().into_owned();
        let child = format!("{rel}/{name}");
        if ft.is_dir() {
            collect_templates(&e.path(), &child, depth + 1, out);
        } else if ft.is_file()
            && (name.ends_with(".yaml")
                || name.ends_with(".yml")
                || name.ends_with(".tpl")
                || name.ends_with(".txt"))
            && e.metadata().is_ok_and(|m| m.len() <= MAX_TEMPLATE_BYTES)
        {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                out.push((child, text));
            }
        }
    }
}

/// Every `.Values.a.b` (and `$.Values.a.b`) reference in the actions
/// (`{{ … }}`) of a template, with whether its action is a guard.
fn references(text: &str) -> Vec<Ref> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(open) = text[pos..].find("{{").map(|i| pos + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        let action = &text[open + 2..close];
        let body = action.trim_start_matches('-').trim_end_matches('-').trim();
        pos = close + 2;
        if body.starts_with("/*") {
            continue;
        }
        let guarded = body.contains(":=")
            || body.contains(" = ")
            || body
                .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '|')
                .any(|w| GUARDS.contains(&w));
        let mut at = 0;
        while let Some(i) = action[at..].find(".Values.").map(|i| at + i) {
            // `.Values.` must start a field chain: not `$x.Values.`.
            let prev = action[..i].chars().next_back();
            let starts = match prev {
                None => true,
                Some(c) => c.is_whitespace() || c == '(' || c == '$' || c == '-',
            };
            let tail = &action[i + ".Values.".len()..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
                .unwrap_or(tail.len());
            at = i + ".Values.".len() + end;
            if !starts {
                continue;
            }
            let path: Vec<String> = tail[..end]
                .trim_end_matches(['.', '-'])
                .split('.')
                .take_while(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if path.is_empty() {
                continue;
            }
            let abs = open + 2 + i;
            let line = text[..abs].matches('\n').count() + 1;
            let line_start = text[..abs].rfind('\n').map_or(0, |n| n + 1);
            let start = if prev == Some('$') { abs - 1 } else { abs };
            out.push(Ref {
                path,
                line,
                col: text[line_start..start].chars().count() + 1,
                guarded,
            });
        }
    }
    out
}

/// Whether `values.yaml` gives `path` a value, or leaves it open: a key
/// set (even to null), or an empty map or a non-map on the way (a
/// free-form value the user fills in).
fn defined_in_values(root: Option<&yaml::Node>, path: &[String]) -> bool {
    let Some(mut node) = root.filter(|r| r.is_map()) else {
        return false;
    };
    for key in path {
        if !node.is_map() {
            return true;
        }
        if node.entries().is_empty() {
            return true;
        }
        match node.get(key) {
            Some(n) => node = n,
            None => return false,
        }
    }
    true
}

/// Whether `values.schema.json` declares `path`: its `properties` lead to
/// it, or a level on the way is free-form (no `properties`, or
/// `additionalProperties`/`patternProperties` that admit any key).
fn defined_in_schema(schema: Option<&serde_json::Value>, path: &[String]) -> bool {
    let Some(mut s) = schema else {
        return false;
    };
    for key in path {
        let props = s.get("properties").and_then(|p| p.as_object());
        if let Some(next) = props.and_then(|p| p.get(key)) {
            s = next;
            continue;
        }
        let open_extra = s.get("patternProperties").is_some()
            || s.get("additionalProperties")
                .is_some_and(|a| a.is_object() || a.as_bool() == Some(true));
        return props.is_none() || open_extra;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<(String, usize, bool)> {
        references(text)
            .into_iter()
            .map(|r| (r.path.join("."), r.line, r.guarded))
            .collect()
    }

    #[test]
    fn finds_output_and_guard_references() {
        let t = "a: {{ .Values.image.tag | quote }}\n{{- if .Values.tls }}\nb: {{ $.Values.x }}{{ .Values.y | default \"z\" }}\n{{ $v := .Values.w }}";
        assert_eq!(
            paths(t),
            vec![
                ("image.tag".into(), 1, false),
                ("tls".into(), 2, true),
                ("x".into(), 3, false),
                ("y".into(), 3, true),
                ("w".into(), 4, true),
            ]
        );
        // `$.Values` starts at the `$`.
        assert_eq!(references(t)[2].col, 7);
        // Not a `.Values` chain of another variable; comments skipped.
        assert!(paths("{{ $sub.Values.a }}{{/* .Values.b */}}").is_empty());
    }

    #[test]
    fn values_definitions() {
        let v = yaml::parse_stream(
            "image:\n  tag: \"\"\nannotations: {}\nlist: [1]\nempty:\n",
            Limits::default(),
        )
        .documents
        .remove(0)
        .root;
        let p = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        assert!(defined_in_values(Some(&v), &p("image.tag")));
        assert!(!defined_in_values(Some(&v), &p("image.repo")));
        assert!(!defined_in_values(Some(&v), &p("imge.tag")));
        assert!(defined_in_values(Some(&v), &p("annotations.a")));
        assert!(defined_in_values(Some(&v), &p("list.x")));
        assert!(defined_in_values(Some(&v), &p("empty")));
        assert!(!defined_in_values(None, &p("a")));
    }

    #[test]
    fn schema_definitions() {
        let s = serde_json::json!({"properties": {"a": {"properties": {"b": {}}},
            "m": {"type": "object", "additionalProperties": {"type": "string"}},
            "free": {"type": "object"}}});
        let p = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        assert!(defined_in_schema(Some(&s), &p("a.b")));
        assert!(!defined_in_schema(Some(&s), &p("a.c")));
        assert!(!defined_in_schema(Some(&s), &p("x")));
        assert!(defined_in_schema(Some(&s), &p("m.any")));
        assert!(defined_in_schema(Some(&s), &p("free.any.thing")));
    }
}
