//! Inline suppressions: `# shiplint:ignore rule[,rule]` on the finding's
//! line or the line above, and `shiplint.dev/ignore` annotations on a
//! resource.

use crate::finding::Finding;
use crate::manifest::Manifest;

pub const ANNOTATION: &str = "shiplint.dev/ignore";
/// The marker of an ignore comment.
pub const COMMENT: &str = "shiplint:ignore";

/// Rule ids (or `all`) silenced by a comment on this line.
fn comment_ignores(line: &str) -> Option<Vec<&str>> {
    let idx = line.find(COMMENT)?;
    // Only inside a comment: a `#` (YAML, shell) or `//` before it.
    let before = &line[..idx];
    if !(before.contains('#') || before.contains("//")) {
        return None;
    }
    let rest = line[idx + COMMENT.len()..].trim_start();
    let ids: Vec<&str> = rest
        .split(|c: char| c == ',' || c.is_whitespace())
        .take_while(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        Some(vec!["all"])
    } else {
        Some(ids)
    }
}

/// Whether `ids` (`all`, `pack/*` or rule ids) name the finding's rule,
/// by its id or a former one (`Finding::answers_to`).
fn matches(ids: &[&str], f: &Finding) -> bool {
    ids.iter().any(|id| {
        *id == "all"
            || f.answers_to(id)
            || id
                .strip_suffix("/*")
                .is_some_and(|p| f.rule.split('/').next() == Some(p))
    })
}

/// True when a comment on the finding's line or the one above silences it.
pub fn suppressed_by_comment(
    f: &Finding,
    mut line_text: impl FnMut(usize) -> Option<String>,
) -> bool {
    [f.span.line, f.span.line.saturating_sub(1)]
        .into_iter()
        .filter(|l| *l > 0)
        .filter_map(&mut line_text)
        .any(|text| comment_ignores(&text).is_some_and(|ids| matches(&ids, f)))
}

/// A resource's ignore annotation: the rule ids and the lines it covers.
pub struct DocIgnore {
    pub path: std::sync::Arc<str>,
    pub first_line: usize,
    pub last_line: usize,
    pub rules: Vec<String>,
}

pub fn doc_ignore(m: &Manifest) -> Option<DocIgnore> {
    let value = m.annotation(ANNOTATION)?;
    let rules = value
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    Some(DocIgnore {
        path: m.path.clone(),
        first_line: m.root.span.line,
        last_line: m.root.span.end_line,
        rules,
    })
}

pub fn suppressed_by_annotation(f: &Finding, ignores: &[DocIgnore]) -> bool {
    let by_doc = ignores.iter().any(|d| {
        d.path == f.path && f.span.line >= d.first_line && f.span.line <= d.last_line && {
            let ids: Vec<&str> = d.rules.iter().map(String::as_str).collect();
            matches(&ids, f)
        }
    });
    by_doc || {
        let ids: Vec<&str> = f.doc_ignores.iter().map(String::as_str).collect();
        matches(&ids, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_forms() {
        assert_eq!(
            comment_ignores("  image: x # shiplint:ignore practices/latest-tag"),
            Some(vec!["practices/latest-tag"])
        );
        assert_eq!(
            comment_ignores("# shiplint:ignore a/b,c/d"),
            Some(vec!["a/b", "c/d"])
        );
        assert_eq!(comment_ignores("# shiplint:ignore"), Some(vec!["all"]));
        assert_eq!(comment_ignores("value: shiplint:ignore"), None);
        let f = Finding::new(
            "practices/latest-tag",
            crate::finding::Severity::Note,
            &"a.yaml".into(),
            Default::default(),
            "m",
        );
        assert!(matches(&["practices/*"], &f));
        assert!(!matches(&["schema/invalid"], &f));
    }
}
