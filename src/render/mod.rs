//! Rendering before checking: Helm charts in the scanned tree become the
//! manifests they render to (`helm`), kustomize overlays the objects they
//! build (`kustomize`, in Rust), and findings on those manifests are mapped
//! back to the file a person edits (the template line, the `values.yaml`
//! line a value came from, the base, patch or kustomization line).
//!
//! Below `scan` (which runs the packs on what this module renders); uses
//! only discover, manifest, source, settings, finding, k8s and text.

pub mod helm;
pub mod kustomize;
mod tool;
pub mod values_refs;

use crate::finding::{Finding, Rule, Severity, Snippet};
use crate::manifest::{yaml, Limits};
use crate::source::Span;
use std::sync::Arc;

pub static KUSTOMIZE_ERROR: Rule = Rule::new(
    "render/kustomize-error",
    Severity::Error,
    "A kustomization does not build",
    r#"
## What it finds
A kustomization (`kustomization.yaml`) that shiplint's kustomize build, or
`kubectl kustomize` / `kustomize build` for features it hands over, cannot
build: a resource file or base that does not exist, two resources with the
same kind, namespace and name, a file that is not valid YAML, a base that
includes itself, a path that leaves the repository (kustomize's load
restrictor; a symbolic link out of the repository counts too, and is never
read), or a JSON 6902 operation that fails (a `test` that does not hold, a
path that does not exist). The finding sits on the kustomization line that
names the failing entry, and quotes the error.

## Why it matters
`kubectl apply -k` and `kustomize build` fail the same way, usually only when
someone deploys the overlay; Argo CD and Flux report the application as
failed to sync. Nothing the overlay would create can be checked either.

## How to fix
Run `kubectl kustomize DIR` locally and fix what it names: add or correct the
path, rename or remove the duplicate resource, keep every file the overlay
loads inside the repository (copy it in rather than pointing out), break the
cycle between bases, or correct the JSON patch's path.
"#,
)
.tags(&["kustomize", "correctness"])
.precision("very-high");

pub static PATCH_TARGET_MISSING: Rule = Rule::new(
    "render/patch-target-missing",
    Severity::Error,
    "A kustomize patch names a resource the overlay does not have",
    r#"
## What it finds
A strategic-merge patch (under `patches:` without `target:`, or under
`patchesStrategicMerge:`) whose kind, name and namespace match no resource
of the overlay: a typo in the name, a resource renamed or removed from the
base, a patch for a component's resource in an overlay that does not include
the component. The finding sits on the patch entry of the kustomization;
the patch is skipped and the rest of the overlay is still built and checked.

## Why it matters
kustomize refuses to build the overlay (`no resource matches strategic merge
patch`), so the overlay cannot be deployed; when the patch was meant to
harden the workload (limits, a security context), nothing is applied.

## How to fix
Make the patch's `apiVersion`, `kind`, `metadata.name` (and namespace) those
of the resource in the base as the base writes them, before the overlay's
prefix or suffix; or remove the patch if the resource is gone.
"#,
)
.tags(&["kustomize", "correctness"])
.precision("very-high");

pub static RENDER_ERROR: Rule = Rule::new(
    "render/error",
    Severity::Error,
    "A Helm chart does not render: `helm template` fails with its default or CI values",
    r#"
## What it finds
A chart (a folder with `Chart.yaml`) for which `helm template` fails, with its
default values or with one of its `ci/*-values.yaml` files (see `render:` in
the config). The finding sits on the template Helm names, or on `Chart.yaml`,
and quotes Helm's message.

## Why it matters
A chart that does not render cannot be installed: `helm install` and
`helm upgrade` fail the same way, often only at deploy time. Nothing the chart
would create can be checked either, so no other finding is reported for it.

## How to fix
Run `helm template release CHART [-f VALUES]` locally and fix what Helm
names: a missing value (`required`), a template syntax error, a values file
that `values.schema.json` rejects, or a dependency that is not vendored
(`helm dependency build`, then commit `charts/`).
"#,
)
.tags(&["helm", "correctness"])
.precision("very-high");

pub static VALUES_SCHEMA: Rule = Rule::new(
    "render/values-schema",
    Severity::Error,
    "A chart's values.yaml does not match its values.schema.json",
    r#"
## What it finds
A value in a chart's `values.yaml` that the chart's own `values.schema.json`
rejects (a wrong type, a missing required key, a value outside an enum).
Checked when charts cannot be rendered (no `helm` on PATH); with Helm the
same problem is a `render/error`.

## Why it matters
Helm validates the merged values against the schema before it renders:
`helm install` of the chart with its own defaults fails.

## How to fix
Make the default value match the schema, or correct the schema if the value
is what the chart should accept.
"#,
)
.tags(&["helm", "correctness"])
.precision("very-high");

pub static VALUES_UNDEFINED: Rule = Rule::new(
        "render/values-undefined",
        Severity::Warning,
        "A chart template outputs a .Values key that neither values.yaml nor values.schema.json defines",
        r#"
## What it finds
A `{{ .Values.x.y }}` in a chart's template whose value is written into the
manifest (not only tested) while neither the chart's `values.yaml` nor its
`values.schema.json` defines `x.y` (a chart with neither file is left
alone). Read from the templates' text, with or without Helm. References that are optional by design are left alone: those
inside `if`, `with`, `range`, `default`, `required`, `hasKey`, `empty`,
`coalesce`, `ternary`, comparisons or an assignment, any path a guard of the
same template tests, `.Values.global`, keys under an empty map or a null in
`values.yaml`, and free-form levels of the schema.

## Why it matters
Helm renders a missing value as an empty string, silently: a typo
(`.Values.imge.tag`) gives `image: ":"`, an empty port or an empty label, and
the chart installs broken. A value with no default in `values.yaml` is also
undocumented for the chart's users.

## How to fix
Correct the key's spelling, or give the value a default in `values.yaml`
(or declare it in `values.schema.json`), or guard it
(`{{ with .Values.x }}…{{ end }}`, `{{ .Values.x | default "…" }}`) when it is
optional.
"#,
    )
    .tags(&["helm", "correctness"])
    .precision("high");

/// The `render/…` rules (listed with the packs' rules).
pub fn rules() -> Vec<&'static Rule> {
    vec![
        &RENDER_ERROR,
        &VALUES_SCHEMA,
        &VALUES_UNDEFINED,
        &KUSTOMIZE_ERROR,
        &PATCH_TARGET_MISSING,
    ]
}

/// One values file of a render: its display path and text.
#[derive(Debug)]
pub struct ValuesFile {
    pub display: String,
    pub text: String,
}

/// Where each line of a built kustomize object came from, and the texts of
/// the files named (for snippets).
#[derive(Debug)]
pub struct LineMap {
    /// `lines[i]`: the origin of the document's line `i + 1`.
    pub lines: Vec<kustomize::tree::Pos>,
    pub texts: Arc<std::collections::HashMap<Arc<str>, Arc<str>>>,
}

/// Where a rendered document came from: the chart, the values it was
/// rendered with, and the texts findings are mapped back into. For a
/// kustomize overlay: `chart` is its folder, `values_label` is
/// `kustomize`, `template` its kustomization file, and `lines` the origin of
/// every line.
#[derive(Debug)]
pub struct Origin {
    /// The chart folder (display path).
    pub chart: String,
    /// What the run was rendered with: `values.yaml` or a values file.
    pub values_label: String,
    /// The template file (display path) and its text.
    pub template: String,
    pub template_text: Arc<str>,
    /// Values files by precedence, lowest first (`values.yaml`, then `-f`).
    pub values: Arc<Vec<ValuesFile>>,
    /// Kustomize: the origin of each line (helm: none).
    pub lines: Option<Arc<LineMap>>,
}

/// A document `helm template` printed, with where it came from.
#[derive(Debug)]
pub struct RenderedDoc {
    pub text: String,
    pub origin: Arc<Origin>,
}

/// What rendering the tree's charts gave.
#[derive(Debug, Default)]
pub struct Rendered {
    pub docs: Vec<RenderedDoc>,
    /// `render/…` findings (errors, values against their schema).
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    /// Charts (display paths) that rendered with at least one set of values:
    /// their templates' line-by-line findings would repeat the rendered ones.
    pub rendered_charts: Vec<String>,
    /// The resource files the overlays read, parsed (display path → text
    /// and parse, with the default limits): the scan takes a parse instead
    /// of parsing the same text again.
    pub parsed: ParsedFiles,
}

/// Files' parses by display path, each beside the text it was made from.
pub type ParsedFiles = std::collections::HashMap<Arc<str>, (Arc<str>, yaml::Stream)>;

impl Rendered {
    /// Whether `path` is a template of a chart that rendered.
    pub fn covers(&self, path: &str) -> bool {
        self.rendered_charts.iter().any(|c| {
            let rest = if c == "." {
                Some(path)
            } else {
                path.strip_prefix(c.as_str())
                    .and_then(|r| r.strip_prefix('/'))
            };
            // Its own templates and its subcharts' (`charts/sub/templates/`).
            rest.is_some_and(|r| {
                r.starts_with("templates/") || r.starts_with("charts/") && r.contains("/templates/")
            })
        })
    }
}

/// Helm's (or any tool's) message, made inert for a finding: one line,
/// printable characters only, no backticks, at most `max` characters.
pub fn inert_message(text: &str, max: usize) -> String {
    let one: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control() && !crate::text::is_invisible(*c))
        .map(|c| if c == '`' { '\'' } else { c })
        .collect();
    if one.chars().count() > max {
        let cut: String = one.chars().take(max).collect();
        format!("{cut}…")
    } else {
        one
    }
}

/// Moves findings made on a rendered document to the line that produced
/// them: the template line that emits the key, or the values line of a
/// plain `{{ .Values.x.y }}`; the template's first line when neither is found.
pub fn map_back(findings: &mut [Finding], rendered: &str, origin: &Origin) {
    if findings.is_empty() {
        return;
    }
    if let Some(map) = &origin.lines {
        map_lines(findings, rendered, map, origin);
        return;
    }
    // Each values file parsed once per document, not once per finding.
    let parsed: Vec<Option<yaml::Node>> = origin
        .values
        .iter()
        .map(|v| {
            yaml::parse_stream(&v.text, Limits::default())
                .documents
                .into_iter()
                .next()
                .map(|d| d.root)
        })
        .collect();
    let rendered_lines: Vec<&str> = rendered.split('\n').collect();
    let template_lines: Vec<&str> = origin.template_text.split('\n').collect();
    let template_path: Arc<str> = origin.template.as_str().into();
    for f in findings.iter_mut() {
        let raw = rendered_lines
            .get(f.span.line.wrapping_sub(1))
            .copied()
            .unwrap_or("");
        let (path, line, text) = match locate(&rendered_lines, f.span.line, &template_lines) {
            Some(t) => match values_origin(template_lines[t], raw, &origin.values, &parsed) {
                Some((path, line, text)) => (Arc::from(path), line, text),
                None => (template_path.clone(), t + 1, template_lines[t].to_string()),
            },
            None => (
                template_path.clone(),
                1,
                template_lines.first().copied().unwrap_or("").to_string(),
            ),
        };
        let rendered = serde_json::json!({"chart": origin.chart, "values": origin.values_label});
        move_to(f, raw, path, line, text, rendered);
    }
}

/// Moves a finding made on rendered line `raw` to `path:line`, whose text
/// is `text`: span over the line's text, snippet from it (unless the
/// secrets pack redacted the rendered line: that snippet stays), and a
/// `rendered` property saying what it was rendered from.
fn move_to(
    f: &mut Finding,
    raw: &str,
    path: Arc<str>,
    line: usize,
    text: String,
    rendered: serde_json::Value,
) {
    let redacted = f
        .snippet
        .as_ref()
        .is_some_and(|s| s.text.trim_end_matches('\r') != raw.trim_end_matches('\r'));
    let text = text.trim_end_matches('\r').to_string();
    let indent = text.len() - text.trim_start().len();
    f.path = path;
    f.span = Span {
        line,
        col: indent + 1,
        end_line: line,
        end_col: text.chars().count() + 1,
    };
    f.snippet = Some(Snippet {
        line,
        text: match (&f.snippet, redacted) {
            (Some(s), true) => s.text.clone(),
            _ => text,
        },
    });
    f.set_property("rendered".into(), rendered);
}

/// Kustomize: each finding to the origin of its line (the base, patch or
/// kustomization line).
/// The origin of line `line` of a built overlay's document.
fn map_line(map: &LineMap, origin: &Origin, line: usize) -> (Arc<str>, usize) {
    match map.lines.get(line.wrapping_sub(1)).or(map.lines.first()) {
        Some(p) => (p.file.clone(), p.line),
        None => (origin.template.as_str().into(), 1),
    }
}

/// Where line `line` of a rendered document came from, as `map_back`
/// moves a finding there (the template line for a chart: a values line
/// is only told apart for a finding's key).
pub fn origin_line(rendered: &str, origin: &Origin, line: usize) -> (Arc<str>, usize) {
    if let Some(map) = &origin.lines {
        return map_line(map, origin, line);
    }
    let rendered_lines: Vec<&str> = rendered.split('\n').collect();
    let template_lines: Vec<&str> = origin.template_text.split('\n').collect();
    let t = locate(&rendered_lines, line, &template_lines).map_or(1, |t| t + 1);
    (origin.template.as_str().into(), t)
}

fn map_lines(findings: &mut [Finding], rendered: &str, map: &LineMap, origin: &Origin) {
    let rendered_lines: Vec<&str> = rendered.split('\n').collect();
    for f in findings.iter_mut() {
        let raw = rendered_lines
            .get(f.span.line.wrapping_sub(1))
            .copied()
            .unwrap_or("");
        let (path, line) = map_line(map, origin, f.span.line);
        let text = map
            .texts
            .get(&path)
            .and_then(|t| t.split('\n').nth(line - 1))
            .unwrap_or("")
            .to_string();
        let rendered = serde_json::json!({"kustomization": origin.chart});
        move_to(f, raw, path, line, text, rendered);
    }
}

/// Whether a finding mapped to a kustomize origin is silenced by a
/// suppression comment there (`# shiplint:ignore` on the base or patch
/// line, or the line above it), as it would be on the file scanned as it is.
pub fn suppressed_in_origin(f: &Finding, origin: &Origin) -> bool {
    let Some(map) = &origin.lines else {
        return false;
    };
    let Some(text) = map.texts.get(&f.path) else {
        return false;
    };
    crate::suppress::suppressed_by_comment(f, |n| {
        text.split('\n')
            .nth(n.wrapping_sub(1))
            .map(|l| l.trim_end_matches('\r').to_string())
    })
}

/// One finding per (rule, file, line) among findings of built kustomize
/// objects: a base used by several overlays, and also scanned as it is,
/// reports each problem once (the first: the raw file's, when it has one).
pub fn dedupe(findings: &mut Vec<Finding>) {
    let is_built = |f: &Finding| {
        f.property("rendered")
            .is_some_and(|r| r.get("kustomization").is_some())
    };
    if !findings.iter().any(is_built) {
        return;
    }
    // Raw findings first, so the kept one is the file's own.
    findings.sort_by_key(|f| is_built(f));
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| {
        let key = (f.rule.clone(), f.path.clone(), f.span.line);
        seen.insert(key) || !is_built(f)
    });
}

/// The folder nothing may be read outside of while rendering (charts,
/// overlays, their bases): the current directory when every scanned path
/// lies in it (a CI checkout); otherwise the git work tree holding the
/// scanned paths, or the one scanned folder itself — so that
/// `shiplint scan /elsewhere/repo` builds that repository's overlays
/// without reaching above it. Canonical.
pub fn root_for(paths: &[String], base: &std::path::Path) -> std::path::PathBuf {
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    let scanned: Vec<std::path::PathBuf> = paths
        .iter()
        .filter(|p| p.as_str() != "-")
        .filter_map(|p| base.join(p).canonicalize().ok())
        .map(|p| {
            if p.is_dir() {
                p
            } else {
                p.parent().map_or(p.clone(), |d| d.to_path_buf())
            }
        })
        .collect();
    if scanned.is_empty() || scanned.iter().all(|p| p.starts_with(&base)) {
        return base;
    }
    let work_tree = |p: &std::path::Path| {
        p.ancestors()
            .find(|a| a.join(".git").exists())
            .map(std::path::Path::to_path_buf)
    };
    let first = work_tree(&scanned[0]).unwrap_or_else(|| scanned[0].clone());
    if scanned.iter().all(|p| p.starts_with(&first)) {
        first
    } else {
        // Scanned folders in several places: only the current directory.
        base
    }
}

/// `shiplint render PATH…`: what the charts and overlays under the paths
/// render to, one YAML stream with `# Source:` comments, with the
/// rendering's error findings and notes.
pub fn render_stream(
    paths: &[String],
    settings: &crate::settings::Settings,
    base: &std::path::Path,
) -> anyhow::Result<(String, Vec<Finding>, Vec<String>)> {
    let found =
        crate::discover::discover(paths, base, &settings.exclude, settings.follow_symlinks)?;
    let root = root_for(paths, base);
    let has_overlays = !kustomize::roots(&found.inputs, &root).is_empty();
    let has_charts = !helm::charts(&found.inputs).is_empty();
    if !has_overlays && !has_charts {
        anyhow::bail!(
            "no chart (a folder with Chart.yaml) and no kustomization under {}",
            paths.join(", ")
        );
    }
    let (mut out, mut findings, mut notes) = (String::new(), Vec::new(), Vec::new());
    if has_charts && has_overlays && helm::find_helm().is_none() {
        notes.push("charts not rendered: no helm on PATH (SHIPLINT_HELM names one)".into());
    } else if has_charts {
        let (s, f, n) = helm::render_stream(paths, settings, base)?;
        out.push_str(&s);
        findings.extend(f);
        notes.extend(n);
    }
    if has_overlays {
        // Every object is printed: this is what the overlays build to.
        let r = kustomize::build_all(&found.inputs, &root, base, &|_| false);
        out.push_str(&kustomize::stream(&r));
        findings.extend(r.findings);
        notes.extend(r.notes);
    }
    Ok((out, findings, notes))
}

/// A line's `key` and `value` (`- ` and quotes stripped), if it has a key.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    if t.starts_with('#') || t.starts_with("{{") {
        return None;
    }
    let (k, v) = t.split_once(':')?;
    if !(v.is_empty() || v.starts_with(' ')) {
        return None;
    }
    let k = k.trim().trim_matches(|c| c == '"' || c == '\'');
    if k.is_empty() || k.contains(' ') {
        return None;
    }
    Some((k, unquote(v.trim())))
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// The template line (0-based) that emits rendered line `line` (1-based):
/// same key and literal value in document order, else the key whose value is
/// a template expression, in the same order among lines with that key.
fn locate(rendered: &[&str], line: usize, template: &[&str]) -> Option<usize> {
    let raw = rendered.get(line.checked_sub(1)?)?;
    let Some((key, value)) = key_value(raw) else {
        // A sequence item or a block scalar line: the same text in the template.
        let t = raw.trim().trim_start_matches("- ").trim();
        if t.is_empty() {
            return None;
        }
        return template
            .iter()
            .position(|l| l.trim().trim_start_matches("- ").trim() == t && !l.contains("{{"));
    };
    // How many earlier rendered lines have this key (and this value).
    let before = &rendered[..line - 1];
    let same_kv = before
        .iter()
        .filter(|l| key_value(l) == Some((key, value)))
        .count();
    let same_k = before
        .iter()
        .filter(|l| key_value(l).is_some_and(|(k, _)| k == key))
        .count();
    let literal: Vec<usize> = template
        .iter()
        .enumerate()
        .filter(|(_, l)| key_value(l) == Some((key, value)))
        .map(|(i, _)| i)
        .collect();
    if !value.is_empty() || literal.len() == 1 {
        if let Some(i) = literal.get(same_kv).or(literal.first()) {
            return Some(*i);
        }
    }
    let keyed: Vec<usize> = template
        .iter()
        .enumerate()
        .filter(|(_, l)| key_value(l).is_some_and(|(k, _)| k == key))
        .map(|(i, _)| i)
        .collect();
    let templated: Vec<usize> = keyed
        .iter()
        .copied()
        .filter(|i| template[*i].contains("{{"))
        .collect();
    keyed
        .get(same_k)
        .filter(|i| template[**i].contains("{{") || value.is_empty())
        .or(templated.first())
        .or(keyed.first())
        .copied()
}

/// `.Values.a.b` references in a template line.
fn values_refs(line: &str) -> Vec<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(".Values.") {
        let tail = &rest[i + ".Values.".len()..];
        let end = tail
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .unwrap_or(tail.len());
        let path: Vec<&str> = tail[..end]
            .trim_end_matches('.')
            .split('.')
            .filter(|s| !s.is_empty())
            .collect();
        if !path.is_empty() {
            out.push(path);
        }
        rest = &tail[end..];
    }
    out
}

/// When the template line's value is a `{{ .Values.x.y }}` (possibly with
/// literal text around it), the values line that value came from: the
/// highest-precedence values file that sets it. With several references,
/// the one whose value shows in the rendered line (the last such).
fn values_origin(
    template_line: &str,
    rendered_line: &str,
    values: &[ValuesFile],
    parsed: &[Option<yaml::Node>],
) -> Option<(String, usize, String)> {
    let value_part = template_line
        .split_once(':')
        .map_or(template_line, |(_, v)| v);
    let actions = value_part.matches("{{").count();
    let refs = values_refs(value_part);
    if refs.is_empty() || actions != refs.len() {
        return None;
    }
    let rendered_value = key_value(rendered_line).map_or(rendered_line.trim(), |(_, v)| v);
    let mut best = None;
    for r in &refs {
        for (vf, root) in values.iter().zip(parsed).rev() {
            let Some(node) = root.as_ref().and_then(|root| root.path(r)) else {
                continue;
            };
            let shown = node
                .scalar_text()
                .is_some_and(|s| !s.is_empty() && rendered_value.contains(s.as_str()));
            if refs.len() == 1 || shown {
                let line = node.span.line;
                let text = vf
                    .text
                    .split('\n')
                    .nth(line.saturating_sub(1))
                    .unwrap_or("")
                    .to_string();
                best = Some((vf.display.clone(), line, text));
            }
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values() {
        assert_eq!(key_value("  - name: web"), Some(("name", "web")));
        assert_eq!(
            key_value("image: \"nginx:latest\""),
            Some(("image", "nginx:latest"))
        );
        assert_eq!(key_value("  - ./podinfo"), None);
        assert_eq!(key_value("{{- with .Values.x }}"), None);
    }

    #[test]
    fn refs() {
        assert_eq!(
            values_refs("image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\""),
            vec![vec!["image", "repository"], vec!["image", "tag"]]
        );
    }

    #[test]
    fn locates_literal_and_templated_lines() {
        let template = [
            "spec:",
            "  ports:",
            "    - containerPort: \"8080\"",
            "  image: {{ .Values.image }}",
        ];
        let rendered = [
            "spec:",
            "  ports:",
            "    - containerPort: \"8080\"",
            "  image: x",
        ];
        assert_eq!(locate(&rendered, 3, &template), Some(2));
        assert_eq!(locate(&rendered, 4, &template), Some(3));
    }

    #[test]
    fn inert() {
        assert_eq!(inert_message("a\n`b`\u{1b}[31m", 100), "a 'b'[31m");
        assert_eq!(inert_message("abcdef", 3), "abc…");
    }
}
