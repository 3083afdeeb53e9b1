//! `deprecations`: apiVersions Kubernetes deprecated or removed (what pluto
//! and kubent do), checked against a target Kubernetes version. The table is
//! `rules/deprecations.yaml`, embedded at build time. Also reads Helm chart
//! templates line by line, since the pipeline does not parse them.

use super::{Context, Pack, Rule};
use crate::config::{KubeVersion, Settings};
use crate::finding::{Finding, Severity};
use crate::manifest::{yaml, Limits, Manifest, ParsedFile};
use crate::source::{SourceFile, Span};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

pub const REMOVED: &str = "deprecations/removed-api";
pub const DEPRECATED: &str = "deprecations/deprecated-api";

static TABLE_YAML: &str = include_str!("../../rules/deprecations.yaml");

/// One deprecated (apiVersion, kind).
#[derive(Debug, Clone, Deserialize)]
pub struct Deprecation {
    pub api_version: String,
    pub kind: String,
    pub deprecated_in: Option<String>,
    pub removed_in: Option<String>,
    #[serde(default)]
    pub replacement: String,
    #[serde(default)]
    pub replacement_since: String,
    #[serde(default)]
    pub fields_change: bool,
    #[serde(default)]
    pub notes: String,
}

impl Deprecation {
    fn deprecated(&self) -> Option<KubeVersion> {
        self.deprecated_in
            .as_deref()
            .and_then(|v| KubeVersion::parse(v).ok())
    }

    fn removed(&self) -> Option<KubeVersion> {
        self.removed_in
            .as_deref()
            .and_then(|v| KubeVersion::parse(v).ok())
    }
}

/// The embedded table, keyed by (apiVersion, kind).
pub fn table() -> &'static HashMap<(String, String), Deprecation> {
    static TABLE: OnceLock<HashMap<(String, String), Deprecation>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let stream = yaml::parse_stream(TABLE_YAML, Limits::default());
        let root = stream
            .documents
            .into_iter()
            .next()
            .expect("rules/deprecations.yaml has a document");
        let list: Vec<Deprecation> = serde_json::from_value(root.root.to_json())
            .expect("rules/deprecations.yaml matches the Deprecation shape");
        list.into_iter()
            .map(|d| ((d.api_version.clone(), d.kind.clone()), d))
            .collect()
    })
}

pub fn lookup(api_version: &str, kind: &str) -> Option<&'static Deprecation> {
    table().get(&(api_version.trim().to_string(), kind.trim().to_string()))
}

/// The version deprecations are checked against: `--target-version`, else
/// `--kubernetes-version`, else the newest embedded schema version.
pub fn target_version(s: &Settings) -> Option<KubeVersion> {
    s.target_version.or(s.kubernetes_version).or_else(|| {
        super::schema::store::versions()
            .ok()
            .and_then(|v| v.last().copied())
    })
}

/// True when the deprecations pack runs and reports this (apiVersion, kind)
/// as removed: the schema pack then leaves the resource alone.
pub fn reports_removed(s: &Settings, api_version: &str, kind: &str) -> bool {
    s.pack_enabled("deprecations")
        && matches!(status(s, api_version, kind), Some((Status::Removed, _)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Removed,
    Deprecated,
}

pub fn status(
    s: &Settings,
    api_version: &str,
    kind: &str,
) -> Option<(Status, &'static Deprecation)> {
    let d = lookup(api_version, kind)?;
    let target = target_version(s)?;
    if d.removed().is_some_and(|r| r <= target) {
        Some((Status::Removed, d))
    } else if d.deprecated().is_some_and(|v| v <= target) {
        Some((Status::Deprecated, d))
    } else {
        None
    }
}

fn message(
    status: Status,
    d: &Deprecation,
    what: &str,
    target: KubeVersion,
    template: bool,
) -> String {
    let mut msg = String::new();
    if template {
        msg.push_str("Helm template: ");
    }
    msg.push_str(&format!("{what} uses {} {}", d.api_version, d.kind));
    match (&d.deprecated_in, &d.removed_in) {
        (Some(dep), Some(rem)) => msg.push_str(&format!(
            ", deprecated in Kubernetes {dep} and removed in {rem}"
        )),
        (Some(dep), None) => msg.push_str(&format!(
            ", deprecated in Kubernetes {dep} (no removal release scheduled yet)"
        )),
        (None, Some(rem)) => msg.push_str(&format!(", removed in Kubernetes {rem}")),
        (None, None) => {}
    }
    match status {
        Status::Removed => msg.push_str(&format!(
            ": Kubernetes {target} does not serve it and rejects the apply"
        )),
        Status::Deprecated => msg.push_str(&format!(": still served by Kubernetes {target}")),
    }
    if d.replacement.is_empty() {
        msg.push_str("; there is no replacement API");
    } else {
        msg.push_str(&format!("; use {}", d.replacement));
        if !d.replacement_since.is_empty() {
            msg.push_str(&format!(" (served since {})", d.replacement_since));
        }
    }
    if d.fields_change {
        msg.push_str(&format!("; fields change: {}", d.notes));
    } else {
        msg.push_str("; only the apiVersion changes");
        if !d.notes.is_empty() {
            msg.push_str(&format!(" ({})", d.notes));
        }
    }
    msg
}

/// One apiVersion/kind occurrence to judge.
struct Seen<'a> {
    api_version: &'a str,
    kind: &'a str,
    /// `Kind/ns/name` for the message.
    what: String,
    key: String,
    template: bool,
}

fn finding(s: &Settings, path: &Arc<str>, span: Span, seen: Seen) -> Option<Finding> {
    let (st, d) = status(s, seen.api_version, seen.kind)?;
    let target = target_version(s)?;
    let (rule, sev) = match st {
        Status::Removed => (REMOVED, Severity::Error),
        Status::Deprecated => (DEPRECATED, Severity::Warning),
    };
    let mut f = Finding::new(
        rule,
        sev,
        path,
        span,
        message(st, d, &seen.what, target, seen.template),
    )
    .with_key(seen.key)
    .with_property("replacement", d.replacement.clone())
    .with_property("deprecatedIn", d.deprecated_in.clone().unwrap_or_default())
    .with_property("removedIn", d.removed_in.clone().unwrap_or_default())
    .with_property("targetVersion", target.to_string());
    if seen.template {
        f = f.with_property("template", true);
    }
    Some(f)
}

fn check_manifest(s: &Settings, m: &Manifest, out: &mut Vec<Finding>) {
    let span = m.root.get("apiVersion").map_or(m.anchor(), |n| n.span);
    let key = format!("{}:{}", m.display_name(), m.api_version);
    let seen = Seen {
        api_version: &m.api_version,
        kind: &m.kind,
        what: m.display_name(),
        key,
        template: false,
    };
    if let Some(f) = finding(s, &m.path, span, seen) {
        out.push(f.with_doc_ignores(peer_ignores(m)));
    }
}

/// Other tools' annotations that accept an old apiVersion: kube-score's
/// `stable-version` check and kube-linter's `no-extensions-v1beta`. They
/// silence `deprecated-api` only: a removed API fails the apply whatever
/// the annotations say.
fn peer_ignores(m: &Manifest) -> Vec<String> {
    let kube_score = m
        .annotation("kube-score/ignore")
        .is_some_and(|v| v.split(',').any(|c| c.trim() == "stable-version"));
    let kube_linter = m
        .annotation("ignore-check.kube-linter.io/no-extensions-v1beta")
        .is_some();
    if kube_score || kube_linter {
        vec![DEPRECATED.to_string()]
    } else {
        Vec::new()
    }
}

/// True for a file under a Helm chart's `templates/` folder.
fn is_chart_template(path: &str) -> bool {
    path.starts_with("templates/") || path.contains("/templates/")
}

/// (apiVersion, its span, kind, name) per `---` document of a template, read
/// line by line: only top-level `apiVersion:` / `kind:` lines with a literal value.
pub fn template_resources(text: &str) -> Vec<(String, Span, String, Option<String>)> {
    let mut out = Vec::new();
    let mut api: Option<(String, Span)> = None;
    let mut kind: Option<String> = None;
    let mut name: Option<String> = None;
    let mut in_metadata = false;
    let mut flush =
        |api: &mut Option<(String, Span)>, kind: &mut Option<String>, name: &mut Option<String>| {
            if let (Some((a, span)), Some(k)) = (api.take(), kind.take()) {
                out.push((a, span, k, name.take()));
            }
            *api = None;
            *kind = None;
            *name = None;
        };
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.starts_with("---") {
            flush(&mut api, &mut kind, &mut name);
            in_metadata = false;
            continue;
        }
        if !line.starts_with(' ') && !line.is_empty() && !line.starts_with('#') {
            in_metadata = line.starts_with("metadata:");
        }
        let value = |prefix: &str| -> Option<(String, usize)> {
            let rest = line.strip_prefix(prefix)?;
            let rest = rest.split(" #").next().unwrap_or(rest);
            let trimmed = rest.trim();
            let v = trimmed.trim_matches(|c| c == '"' || c == '\'').trim();
            if v.is_empty() || v.contains("{{") {
                return None;
            }
            let col = prefix.chars().count() + rest.find(trimmed).unwrap_or(0) + 1;
            Some((v.to_string(), col))
        };
        if let Some((v, col)) = value("apiVersion:") {
            let len = line.chars().count() + 1 - col;
            api = Some((
                v,
                Span {
                    line: i + 1,
                    col,
                    end_line: i + 1,
                    end_col: col + len.max(1),
                },
            ));
        } else if let Some((v, _)) = value("kind:") {
            kind = Some(v);
        } else if in_metadata {
            if let Some((v, _)) = value("  name:") {
                name.get_or_insert(v);
            }
        }
    }
    flush(&mut api, &mut kind, &mut name);
    out
}

#[derive(Default)]
pub struct DeprecationsPack;

impl Pack for DeprecationsPack {
    fn name(&self) -> &'static str {
        "deprecations"
    }

    fn rules(&self) -> Vec<Rule> {
        rules()
    }

    fn check_file(
        &self,
        ctx: &Context,
        file: &SourceFile,
        parsed: Option<&ParsedFile>,
        out: &mut Vec<Finding>,
    ) {
        let s = ctx.settings;
        match parsed {
            Some(p) => {
                for m in &p.manifests {
                    check_manifest(s, m, out);
                }
            }
            None => {
                if !(file.is_yaml_or_json()
                    && is_chart_template(&file.path)
                    && crate::manifest::is_template(&file.text))
                {
                    return;
                }
                for (api, span, kind, name) in template_resources(&file.text) {
                    let what = format!("{kind}/{}", name.as_deref().unwrap_or("<templated name>"));
                    let key = format!("template:{what}:{api}");
                    let seen = Seen {
                        api_version: &api,
                        kind: &kind,
                        what,
                        key,
                        template: true,
                    };
                    if let Some(f) = finding(s, &file.path, span, seen) {
                        out.push(f);
                    }
                }
            }
        }
    }
}

fn rules() -> Vec<Rule> {
    vec![
        Rule::new(REMOVED, Severity::Error, "The apiVersion is no longer served by the target Kubernetes version: the apply fails.", r#"
## What it finds
A resource (also inside a `List`, and in Helm chart templates, read line by line) whose `apiVersion` Kubernetes removed at or before the target version: `--target-version X.Y` (config `target-version`), else `--kubernetes-version`, else the newest version shiplint embeds. The table (`rules/deprecations.yaml`) covers every built-in API deprecated or removed since 1.8, from the Kubernetes deprecation guide, with pluto's data errors fixed. Properties `replacement`, `deprecatedIn`, `removedIn` carry the facts.

## Why it matters
The API server answers `no matches for kind "Ingress" in version "extensions/v1beta1"`: the deploy fails, typically during a cluster upgrade when nobody is looking at the chart any more.

## How to fix
Change the apiVersion to the replacement named in the message and migrate the fields the message lists. For example an Ingress:
```yaml
apiVersion: networking.k8s.io/v1   # was extensions/v1beta1
kind: Ingress
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix          # now required
        backend:
          service:
            name: web             # was serviceName
            port:
              number: 80          # was servicePort
```
For APIs without a replacement (PodSecurityPolicy) remove the resource and use Pod Security Admission.
"#).tags(&["kubernetes", "deprecation", "upgrade"]).precision("very-high"),
        Rule::new(DEPRECATED, Severity::Warning, "The apiVersion is deprecated: still served by the target version, removed in a later one.", r#"
## What it finds
A resource whose `apiVersion` is deprecated at the target Kubernetes version but still served (see `deprecations/removed-api` for how the target is chosen). The message names the release that removes it and the replacement.

## Why it matters
The next upgrade that crosses the removal release breaks the deploy. Migrating while both versions are served is a no-risk change.

## How to fix
Switch to the replacement apiVersion, e.g.
```yaml
apiVersion: autoscaling/v2   # was autoscaling/v2beta2
kind: HorizontalPodAutoscaler
```
and apply the field changes the message lists. Check against an older cluster with `--target-version 1.24`.

## Other tools' annotations
Also silenced by `kube-score/ignore: stable-version` and `ignore-check.kube-linter.io/no-extensions-v1beta: "reason"` on the resource (their checks for old apiVersions). They do not silence `deprecations/removed-api`.
"#).tags(&["kubernetes", "deprecation", "upgrade"]).precision("very-high"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(target: &str) -> Settings {
        Settings {
            target_version: Some(KubeVersion::parse(target).unwrap()),
            packs: vec!["deprecations".into()],
            ..Settings::default()
        }
    }

    #[test]
    fn table_loads_and_has_fixed_pluto_bugs() {
        let t = table();
        assert!(t.len() >= 60);
        let fs = lookup("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema").unwrap();
        assert_eq!(fs.removed_in.as_deref(), Some("1.26"));
        assert!(lookup("flowcontrol.apiserver.k8s.io/v1beta1", "FlowControl").is_none());
        assert!(lookup("authorization.k8s.io/v1beta1", "SubjectAccessReview").is_some());
        let v3 = lookup("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema").unwrap();
        assert_eq!(v3.deprecated_in.as_deref(), Some("1.29"));
        for d in t.values() {
            if let (Some(a), Some(b)) = (d.deprecated(), d.removed()) {
                assert!(a <= b, "{} {}", d.api_version, d.kind);
            }
        }
    }

    #[test]
    fn status_depends_on_target() {
        let api = "extensions/v1beta1";
        assert!(status(&settings("1.13"), api, "Ingress").is_none());
        assert_eq!(
            status(&settings("1.14"), api, "Ingress").map(|s| s.0),
            Some(Status::Deprecated)
        );
        assert_eq!(
            status(&settings("1.22"), api, "Ingress").map(|s| s.0),
            Some(Status::Removed)
        );
        assert!(status(&settings("1.30"), "apps/v1", "Deployment").is_none());
        assert!(reports_removed(
            &settings("1.25"),
            "batch/v1beta1",
            "CronJob"
        ));
        let mut off = settings("1.25");
        off.packs = vec!["schema".into()];
        assert!(!reports_removed(&off, "batch/v1beta1", "CronJob"));
    }

    #[test]
    fn template_lines_are_paired_per_document() {
        let text = "{{- if .Values.on }}\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    name: x\n{{- end }}\n---\napiVersion: \"batch/v1beta1\" # old\nkind: CronJob\nmetadata:\n  name: nightly\n---\napiVersion: {{ .Values.api }}\nkind: Ingress\n";
        let r = template_resources(text);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].0, "extensions/v1beta1");
        assert_eq!(r[0].1.line, 2);
        assert_eq!(r[0].1.col, 13);
        assert_eq!(r[0].3, None);
        assert_eq!(r[1].0, "batch/v1beta1");
        assert_eq!(r[1].1.line, 10);
        assert_eq!(r[1].3.as_deref(), Some("nightly"));
    }

    #[test]
    fn messages_say_when_and_what_instead() {
        let (st, d) = status(&settings("1.22"), "extensions/v1beta1", "Ingress").unwrap();
        let m = message(
            st,
            d,
            "Ingress/web",
            KubeVersion::parse("1.22").unwrap(),
            true,
        );
        assert!(m.starts_with("Helm template: "), "{m}");
        assert!(
            m.contains("deprecated in Kubernetes 1.14 and removed in 1.22"),
            "{m}"
        );
        assert!(
            m.contains("use networking.k8s.io/v1 (served since 1.19)"),
            "{m}"
        );
        assert!(m.contains("service.name"), "{m}");
        let (st, d) = status(&settings("1.25"), "policy/v1beta1", "PodSecurityPolicy").unwrap();
        let m = message(st, d, "x", KubeVersion::parse("1.25").unwrap(), false);
        assert!(m.contains("no replacement API"), "{m}");
    }
}
