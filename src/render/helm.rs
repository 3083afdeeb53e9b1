//! Helm charts: find them in the scanned tree, run `helm template` on each
//! (default values, then each configured values file), read the stream it
//! prints, and say why a chart was not rendered.

use super::{
    inert_message, Origin, Rendered, RenderedDoc, ValuesFile, RENDER_ERROR, VALUES_SCHEMA,
};
use crate::discover::Input;
use crate::finding::Finding;
use crate::manifest::{yaml, Limits};
use crate::settings::{RenderOptions, Settings};
use crate::source::Span;
use anyhow::{bail, Context as _, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// The most `helm template` may print before the run is stopped.
const MAX_OUTPUT: u64 = 32 * 1024 * 1024;
/// The most of Helm's error output kept.
const MAX_STDERR: u64 = 64 * 1024;
/// How much of Helm's message a finding quotes.
const MESSAGE_CHARS: usize = 400;

/// A chart in the scanned tree.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The chart folder on disk.
    pub dir: PathBuf,
    /// Its display path (`charts/web`).
    pub display: String,
}

/// The `helm` to run: `SHIPLINT_HELM` when set (empty: none), else the
/// first executable file named `helm` on PATH.
pub fn find_helm() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("SHIPLINT_HELM") {
        let p = PathBuf::from(h);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("helm"))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Every chart among the inputs (a `Chart.yaml` on disk), except subcharts
/// under another chart's `charts/` (Helm renders those with their parent).
pub fn charts(inputs: &[Input]) -> Vec<Chart> {
    let mut out: Vec<Chart> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::File { disk, display, .. }
                if disk.file_name().is_some_and(|n| n == "Chart.yaml") =>
            {
                let dir = disk.parent()?.to_path_buf();
                let display = display
                    .strip_suffix("Chart.yaml")
                    .unwrap_or(display)
                    .trim_end_matches('/');
                Some(Chart {
                    dir,
                    display: if display.is_empty() {
                        ".".into()
                    } else {
                        display.into()
                    },
                })
            }
            _ => None,
        })
        .filter(|c| {
            !(c.dir
                .parent()
                .is_some_and(|p| p.file_name().is_some_and(|n| n == "charts"))
                && c.dir
                    .parent()
                    .and_then(Path::parent)
                    .is_some_and(|g| g.join("Chart.yaml").is_file()))
        })
        .collect();
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out
}

/// A display path under a chart (`charts/web` + `templates/x.yaml`).
fn join_display(chart: &str, rel: &str) -> String {
    if chart == "." {
        rel.to_string()
    } else {
        format!("{chart}/{rel}")
    }
}

/// Renders every chart of the inputs (working tree only), or, without
/// `helm`, checks what needs no rendering and says so in a note.
pub fn render_all(inputs: &[Input], settings: &Settings, root: &Path) -> Rendered {
    let mut out = Rendered::default();
    // Helm renders `.Capabilities` for the cluster the scan targets.
    let mut opts = settings.render.clone();
    if opts.kube_version.is_none() {
        opts.kube_version = settings
            .target_version
            .or(settings.kubernetes_version)
            .map(|v| v.to_string());
    }
    let charts = charts(inputs);
    if charts.is_empty() || !opts.enabled {
        return out;
    }
    let Some(helm) = find_helm() else {
        out.notes.push(format!(
            "charts not rendered: no helm on PATH; {} read line by line for deprecated APIs only, values.yaml checked against values.schema.json where present: {}",
            crate::text::plural(charts.len(), "chart"),
            crate::discover::first_few(&charts.iter().map(|c| c.display.clone()).collect::<Vec<_>>())
        ));
        for c in &charts {
            out.findings.extend(check_values_schema(c));
            out.findings.extend(super::values_refs::check(c));
        }
        return out;
    };
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let results: Vec<Rendered> = {
        use rayon::prelude::*;
        charts
            .par_iter()
            .map(|c| render_chart(&helm, c, &opts, &root))
            .collect()
    };
    for c in &charts {
        out.findings.extend(super::values_refs::check(c));
    }
    for r in results {
        out.docs.extend(r.docs);
        out.findings.extend(r.findings);
        out.notes.extend(r.notes);
        out.rendered_charts.extend(r.rendered_charts);
    }
    out
}

/// Why a chart may not be handed to Helm: outside the scanned root, or a
/// symbolic link in it that leads out of the chart.
fn refuse(chart: &Chart, root: &Path) -> Option<String> {
    let Ok(dir) = chart.dir.canonicalize() else {
        return Some(format!("{}: cannot resolve its folder", chart.display));
    };
    if !dir.starts_with(root) {
        return Some(format!("{}: outside the scanned folder", chart.display));
    }
    fn walk(d: &Path, chart: &Path, depth: usize) -> Option<PathBuf> {
        if depth > 20 {
            return Some(d.to_path_buf());
        }
        for e in std::fs::read_dir(d).ok()?.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_symlink() {
                if !p.canonicalize().is_ok_and(|t| t.starts_with(chart)) {
                    return Some(p);
                }
            } else if ft.is_dir() {
                if let Some(bad) = walk(&p, chart, depth + 1) {
                    return Some(bad);
                }
            }
        }
        None
    }
    walk(&dir, &dir, 0).map(|p| {
        format!(
            "{}: a symbolic link leads out of the chart ({})",
            chart.display,
            p.strip_prefix(&chart.dir).unwrap_or(&p).display()
        )
    })
}

/// The values files to render the chart with besides its defaults.
fn values_files(chart: &Chart, opts: &RenderOptions) -> Vec<String> {
    let mut b = globset::GlobSetBuilder::new();
    for p in &opts.values_files {
        if let Ok(g) = globset::GlobBuilder::new(p).literal_separator(true).build() {
            b.add(g);
        }
    }
    let Ok(set) = b.build() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut stack = vec![chart.dir.clone()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            let Ok(rel) = p.strip_prefix(&chart.dir) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if ft.is_dir() && !rel.starts_with("templates") && !rel.starts_with("charts") {
                stack.push(p);
            } else if ft.is_file() && set.is_match(&rel) {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

fn read_text(p: &Path) -> Option<String> {
    read_regular(p, MAX_OUTPUT)
}

/// A regular file's text, not through a symbolic link, at most `max` bytes.
pub(super) fn read_regular(p: &Path, max: u64) -> Option<String> {
    let meta = std::fs::symlink_metadata(p).ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    std::fs::read_to_string(p).ok()
}

fn render_chart(helm: &Path, chart: &Chart, opts: &RenderOptions, root: &Path) -> Rendered {
    let mut out = Rendered::default();
    if let Some(why) = refuse(chart, root) {
        out.notes.push(format!("chart not rendered: {why}"));
        return out;
    }
    let defaults = ValuesFile {
        display: join_display(&chart.display, "values.yaml"),
        text: read_text(&chart.dir.join("values.yaml")).unwrap_or_default(),
    };
    let mut runs: Vec<(String, Vec<ValuesFile>)> = vec![("values.yaml".into(), vec![])];
    for rel in values_files(chart, opts) {
        let text = read_text(&chart.dir.join(&rel)).unwrap_or_default();
        runs.push((
            rel.clone(),
            vec![ValuesFile {
                display: join_display(&chart.display, &rel),
                text,
            }],
        ));
    }
    let mut ok = false;
    for (label, extra) in runs {
        let files: Vec<String> = extra
            .iter()
            .map(|v| {
                v.display
                    .rsplit_once(&*format!("{}/", chart.display))
                    .map_or(v.display.clone(), |(_, r)| r.to_string())
            })
            .collect();
        let mut values = vec![ValuesFile {
            display: defaults.display.clone(),
            text: defaults.text.clone(),
        }];
        values.extend(extra);
        let values = Arc::new(values);
        match run_template(helm, chart, &files, opts) {
            Ok(stream) => {
                ok = true;
                for (source, text) in split_stream(&stream) {
                    let template = source_path(&chart.display, &source);
                    let template_text: Arc<str> = read_text(
                        &chart.dir.join(
                            template
                                .strip_prefix(&format!("{}/", chart.display))
                                .unwrap_or(&template),
                        ),
                    )
                    .unwrap_or_default()
                    .into();
                    out.docs.push(RenderedDoc {
                        text,
                        origin: Arc::new(Origin {
                            chart: chart.display.clone(),
                            values_label: label.clone(),
                            template,
                            template_text,
                            values: values.clone(),
                            lines: None,
                        }),
                    });
                }
            }
            Err(e) => {
                let msg = format!("{e:#}");
                if msg.contains("missing in charts/ directory") {
                    // Rendering never fetches: a dependency must be vendored.
                    out.notes.push(format!(
                        "chart not rendered: {} has dependencies that are not vendored in its charts/ folder (no network while rendering: run `helm dependency build` and commit charts/)",
                        chart.display
                    ));
                    return out;
                }
                out.findings.push(error_finding(chart, &label, &msg))
            }
        }
    }
    if ok {
        out.rendered_charts.push(chart.display.clone());
    }
    out
}

/// `shiplint render PATH…`: what the charts under the paths render to, as
/// one YAML stream with `# Source:` comments (and `# Values:` for a values
/// file's run), with the `render/error` findings and notes of the run.
pub fn render_stream(
    paths: &[String],
    settings: &Settings,
    base: &Path,
) -> Result<(String, Vec<Finding>, Vec<String>)> {
    let found =
        crate::discover::discover(paths, base, &settings.exclude, settings.follow_symlinks)?;
    if charts(&found.inputs).is_empty() {
        bail!(
            "no chart (a folder with Chart.yaml) under {}",
            paths.join(", ")
        );
    }
    if find_helm().is_none() {
        bail!("no helm on PATH: charts cannot be rendered (SHIPLINT_HELM names one)");
    }
    let r = render_all(&found.inputs, settings, &super::root_for(paths, base));
    let mut out = String::new();
    for d in &r.docs {
        out.push_str("---\n# Source: ");
        out.push_str(&d.origin.template);
        out.push('\n');
        if d.origin.values_label != "values.yaml" {
            out.push_str("# Values: ");
            out.push_str(&d.origin.values_label);
            out.push('\n');
        }
        out.push_str(&d.text);
        if !d.text.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok((out, r.findings, r.notes))
}

/// A `helm template` stream read from stdin (`helm template … | shiplint
/// scan -`): its documents, mapped through `# Source:` to the chart in
/// `chart_dir` (else to the folder named like the chart, under `base`).
/// `None` when the stream has no `# Source:` markers.
pub fn stdin_stream(text: &str, chart_dir: Option<&Path>, base: &Path) -> Option<Vec<RenderedDoc>> {
    let docs = split_stream(text);
    // Without --chart-dir, only when the chart is where the stream names it
    // (a folder named like the chart, with Chart.yaml); else stdin is read
    // as a plain stream.
    let first = docs.first()?.0.split('/').next().unwrap_or_default();
    if chart_dir.is_none() && (first.is_empty() || !base.join(first).join("Chart.yaml").is_file()) {
        return None;
    }
    let mut out = Vec::new();
    let mut values_by_chart: std::collections::HashMap<String, Arc<Vec<ValuesFile>>> =
        Default::default();
    for (source, body) in docs {
        let name = source.split('/').next().unwrap_or_default();
        let rel = source.split_once('/').map_or("", |(_, r)| r);
        let dir = match chart_dir {
            Some(d) => d.to_path_buf(),
            None => base.join(name),
        };
        let display = crate::discover::display_path(&dir, base);
        let display = if display.is_empty() {
            ".".to_string()
        } else {
            display
        };
        // Paths come from the stream: never outside the chart.
        let safe = !rel.is_empty()
            && Path::new(rel)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        let template_text: Arc<str> = safe
            .then(|| read_text(&dir.join(rel)))
            .flatten()
            .unwrap_or_default()
            .into();
        let values = values_by_chart
            .entry(display.clone())
            .or_insert_with(|| {
                Arc::new(vec![ValuesFile {
                    display: join_display(&display, "values.yaml"),
                    text: read_text(&dir.join("values.yaml")).unwrap_or_default(),
                }])
            })
            .clone();
        out.push(RenderedDoc {
            text: body,
            origin: Arc::new(Origin {
                chart: display.clone(),
                values_label: "stdin".into(),
                template: if safe {
                    join_display(&display, rel)
                } else {
                    "<stdin>".into()
                },
                template_text,
                values,
                lines: None,
            }),
        });
    }
    Some(out)
}

/// `# Source: CHART/templates/x.yaml` → the template's display path.
pub fn source_path(chart_display: &str, source: &str) -> String {
    let rel = source.split_once('/').map_or(source, |(_, r)| r);
    join_display(chart_display, rel)
}

/// The documents of a `helm template` stream: (the `# Source:` path, text).
/// A document without a `# Source:` line is left out.
pub fn split_stream(stream: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut source: Option<String> = None;
    let mut body = String::new();
    let mut flush = |source: &mut Option<String>, body: &mut String| {
        if let Some(s) = source.take() {
            if body
                .lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            {
                out.push((s, std::mem::take(body)));
            }
        }
        body.clear();
    };
    for line in stream.split_inclusive('\n') {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            flush(&mut source, &mut body);
        } else if let Some(s) = t
            .strip_prefix("# Source: ")
            .filter(|_| source.is_none() && body.trim().is_empty())
        {
            source = Some(s.trim().to_string());
            body.clear();
        } else {
            body.push_str(line);
        }
    }
    flush(&mut source, &mut body);
    out
}

/// Runs `helm template` with a clean environment (no proxy, no credentials,
/// a throwaway HOME), a timeout, and a cap on what it prints.
fn run_template(
    helm: &Path,
    chart: &Chart,
    files: &[String],
    opts: &RenderOptions,
) -> Result<String> {
    let home = std::env::temp_dir().join("shiplint-helm-home");
    std::fs::create_dir_all(&home).context("creating Helm's home")?;
    let mut cmd = Command::new(helm);
    cmd.arg("template").arg(&opts.release_name).arg(".");
    for f in files {
        cmd.arg("-f").arg(f);
    }
    if let Some(ns) = &opts.namespace {
        cmd.arg("--namespace").arg(ns);
    }
    if let Some(v) = &opts.kube_version {
        cmd.arg("--kube-version").arg(v);
    }
    cmd.current_dir(&chart.dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"));
    let super::tool::Run {
        status,
        stdout: out,
        stderr: err,
    } = super::tool::run(
        &mut cmd,
        "helm",
        Duration::from_secs(opts.timeout_seconds),
        MAX_OUTPUT,
        MAX_STDERR,
    )?;
    let Some(status) = status else {
        bail!(
            "helm template did not finish within {} s",
            opts.timeout_seconds
        );
    };
    if out.len() as u64 > MAX_OUTPUT {
        bail!("helm template printed more than {} MiB", MAX_OUTPUT >> 20);
    }
    if !status.success() {
        let msg = String::from_utf8_lossy(&err);
        // Helm's own `Error: …` (after any warnings it printed first).
        let msg = msg
            .find("Error: ")
            .map_or(msg.trim(), |i| msg[i + "Error: ".len()..].trim());
        bail!("{msg}");
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// One `render/error` finding: on the template Helm names
/// (`template: CHART/templates/x.yaml:12:3: …`), else on `Chart.yaml`.
fn error_finding(chart: &Chart, values: &str, message: &str) -> Finding {
    let named = message.find("templates/").and_then(|i| {
        let start = message[..i]
            .rfind(|c: char| c.is_ascii_whitespace() || c == '"' || c == '(')
            .map_or(0, |s| s + 1);
        let rest = &message[start..];
        let mut parts = rest.split(':');
        let file = parts.next()?;
        let line = parts.next().and_then(|l| l.trim().parse::<usize>().ok());
        let rel = file.split_once('/').map_or(file, |(_, r)| r);
        let rel = rel
            .trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_' || c == '-'));
        chart
            .dir
            .join(rel)
            .is_file()
            .then(|| (join_display(&chart.display, rel), line.unwrap_or(1).max(1)))
    });
    // A values file the chart's schema rejects: `at '/replicas'`.
    let schema = || {
        let pointer = message.split("at '").nth(1)?.split('\'').next()?;
        let file = if values == "values.yaml" {
            "values.yaml"
        } else {
            values
        };
        let text = read_text(&chart.dir.join(file))?;
        let stream = yaml::parse_stream(&text, Limits::default());
        let (n, k) = stream.documents.first()?.root.pointer(pointer)?;
        Some((
            join_display(&chart.display, file),
            k.map_or(n.span.line, |k| k.span.line),
        ))
    };
    let (path, line) = named
        .or_else(schema)
        .unwrap_or_else(|| (join_display(&chart.display, "Chart.yaml"), 1));
    let path: Arc<str> = path.into();
    Finding::from_rule(
        &RENDER_ERROR,
        &path,
        Span::line(line),
        format!(
            "chart {} does not render: helm template says \"{}\"",
            chart.display,
            inert_message(message, MESSAGE_CHARS)
        ),
    )
    .with_key(format!("render-error:{}", chart.display))
    .with_property(
        "rendered",
        serde_json::json!({"chart": chart.display, "values": values}),
    )
}

/// `values.yaml` against `values.schema.json` (what needs no rendering).
pub fn check_values_schema(chart: &Chart) -> Vec<Finding> {
    let mut out = Vec::new();
    let (Some(schema), Some(values)) = (
        read_text(&chart.dir.join("values.schema.json")),
        read_text(&chart.dir.join("values.yaml")),
    ) else {
        return out;
    };
    let schema_path: Arc<str> = join_display(&chart.display, "values.schema.json").into();
    let values_path: Arc<str> = join_display(&chart.display, "values.yaml").into();
    let schema: serde_json::Value = match serde_json::from_str(&schema) {
        Ok(s) => s,
        Err(e) => {
            out.push(Finding::from_rule(
                &VALUES_SCHEMA,
                &schema_path,
                Span::line(e.line().max(1)),
                format!(
                    "values.schema.json is not valid JSON: {}",
                    inert_message(&e.to_string(), 200)
                ),
            ));
            return out;
        }
    };
    let validator = match crate::k8s::schemas::build_validator(&schema) {
        Ok(v) => v,
        Err(e) => {
            out.push(Finding::from_rule(
                &VALUES_SCHEMA,
                &schema_path,
                Span::line(1),
                format!(
                    "values.schema.json is not a usable JSON schema: {}",
                    inert_message(&format!("{e:#}"), 200)
                ),
            ));
            return out;
        }
    };
    let stream = yaml::parse_stream(&values, Limits::default());
    let Some(doc) = stream.documents.first() else {
        return out;
    };
    let instance = doc.root.to_json();
    let instance = if instance.is_null() {
        serde_json::json!({})
    } else {
        instance
    };
    for err in validator.iter_errors(&instance) {
        let pointer = err.instance_path().as_str().to_string();
        let line = doc
            .root
            .pointer(&pointer)
            .map(|(n, k)| k.map_or(n.span.line, |k| k.span.line))
            .unwrap_or(1);
        let at = if pointer.is_empty() {
            "values".to_string()
        } else {
            pointer.trim_start_matches('/').replace('/', ".")
        };
        out.push(
            Finding::from_rule(
                &VALUES_SCHEMA,
                &values_path,
                Span::line(line.max(1)),
                format!(
                    "{at}: {} (values.schema.json)",
                    inert_message(&err.to_string(), 200)
                ),
            )
            .with_key(format!("values-schema:{pointer}")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_helm_stream() {
        let s = "---\n# Source: web/templates/a.yaml\napiVersion: v1\nkind: A\n---\n# Source: web/templates/b.yaml\n# only a comment\n---\n# Source: web/templates/c.yaml\nkind: C\n";
        let docs = split_stream(s);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].0, "web/templates/a.yaml");
        assert_eq!(docs[0].1, "apiVersion: v1\nkind: A\n");
        assert_eq!(
            source_path("charts/web", &docs[1].0),
            "charts/web/templates/c.yaml"
        );
    }
}

#[cfg(test)]
mod error_tests {
    use super::*;

    /// Helm's message is text from the chart: odd characters never panic.
    #[test]
    fn odd_messages_make_a_finding() {
        let chart = Chart {
            dir: std::env::temp_dir().join("no-such-chart-dir"),
            display: "c".into(),
        };
        for m in [
            "\u{3000}templates/x.yaml:1:1",
            "templates/",
            "é(templates/\u{2028}:9",
            "at '/a/b",
            "",
        ] {
            let f = error_finding(&chart, "values.yaml", m);
            assert_eq!(&*f.path, "c/Chart.yaml");
        }
    }
}
