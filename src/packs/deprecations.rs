//! `deprecations`: apiVersions Kubernetes deprecated or removed (what pluto
//! and kubent do), checked against a target Kubernetes version. The table is
//! `rules/deprecations.yaml`, embedded at build time. Also reads Helm chart
//! templates line by line, since the pipeline does not parse them.

use super::{Context, Pack, Rule};
use crate::finding::{Finding, Severity};
use crate::manifest::{Manifest, ParsedFile};
use crate::settings::{KubeVersion, Settings};
use crate::source::{SourceFile, Span};
use std::sync::{Arc, OnceLock};

pub use crate::k8s::deprecations::{lookup, table, Deprecation};

/// The version deprecations are checked against: `--target-version`, else
/// `--kubernetes-version`, else the newest embedded schema version.
pub fn target_version(s: &Settings) -> Option<KubeVersion> {
    s.target_version.or(s.kubernetes_version).or_else(|| {
        crate::k8s::schemas::versions()
            .ok()
            .and_then(|v| v.last().copied())
    })
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
    let rule = match st {
        Status::Removed => &REMOVED,
        Status::Deprecated => &DEPRECATED,
    };
    let mut f = Finding::from_rule(
        rule,
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
        vec![DEPRECATED.id.to_string()]
    } else {
        Vec::new()
    }
}

/// True for a file under a Helm chart's `templates/` folder.
fn is_chart_template(path: &str) -> bool {
    path.starts_with("templates/") || path.contains("/templates/")
}

/// One `apiVersion:` line of a template, with the document's kind and name
/// and the `{{ if }}` branches it sits in.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateResource {
    pub api_version: String,
    pub span: Span,
    pub kind: String,
    pub name: Option<String>,
    /// The `if` branches it sits in, outermost first.
    pub guards: Guards,
}

/// An open `{{ if }}` (its earlier branches' conditions, now false, and the
/// current one) or another block (`with`, `range`, `define` …).
struct Block {
    is_if: bool,
    prior: Vec<String>,
    current: Option<String>,
}

/// (condition, whether the branch needs it true) of each open `if`.
type Guards = Vec<(String, bool)>;

fn guards_of(stack: &[Block]) -> Guards {
    let mut out = Vec::new();
    for b in stack.iter().filter(|b| b.is_if) {
        out.extend(b.prior.iter().map(|c| (c.clone(), false)));
        out.extend(b.current.iter().map(|c| (c.clone(), true)));
    }
    out
}

/// Applies the block actions (`if`, `else if`, `else`, `end`, `with` …) of
/// one template line to the stack.
fn track_blocks(line: &str, stack: &mut Vec<Block>) {
    static ACTION: OnceLock<regex::Regex> = OnceLock::new();
    let re = ACTION.get_or_init(|| {
        crate::text::constant_regex(
            r"\{\{-?\s*(else\s+if|if|else|end|with|range|define|block)\b(.*?)-?\}\}",
        )
    });
    for c in re.captures_iter(line) {
        let cond = c.get(2).map_or("", |m| m.as_str()).trim().to_string();
        match c.get(1).map_or("", |m| m.as_str()) {
            "if" => stack.push(Block {
                is_if: true,
                prior: Vec::new(),
                current: Some(cond),
            }),
            "end" => {
                stack.pop();
            }
            "else" => {
                if let Some(b) = stack.last_mut().filter(|b| b.is_if) {
                    b.prior.extend(b.current.take());
                }
            }
            other if other.starts_with("else") => {
                if let Some(b) = stack.last_mut().filter(|b| b.is_if) {
                    b.prior.extend(b.current.take());
                    b.current = Some(cond);
                }
            }
            _ => stack.push(Block {
                is_if: false,
                prior: Vec::new(),
                current: None,
            }),
        }
    }
}

/// Every literal `apiVersion:` per `---` document of a template, read line
/// by line (only top-level `apiVersion:` / `kind:` lines with a literal
/// value), with the branches each sits in: a chart that picks its Ingress
/// apiVersion by `semverCompare` has one line per branch.
pub fn template_resources(text: &str) -> Vec<TemplateResource> {
    let mut out = Vec::new();
    let mut apis: Vec<(String, Span, Guards)> = Vec::new();
    let mut kind: Option<String> = None;
    let mut name: Option<String> = None;
    let mut in_metadata = false;
    let mut stack: Vec<Block> = Vec::new();
    let mut flush = |apis: &mut Vec<(String, Span, Guards)>,
                     kind: &mut Option<String>,
                     name: &mut Option<String>| {
        if let Some(k) = kind.take() {
            for (a, span, guards) in apis.drain(..) {
                out.push(TemplateResource {
                    api_version: a,
                    span,
                    kind: k.clone(),
                    name: name.clone(),
                    guards,
                });
            }
        }
        apis.clear();
        *name = None;
    };
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.starts_with("---") {
            flush(&mut apis, &mut kind, &mut name);
            in_metadata = false;
            continue;
        }
        if line.contains("{{") {
            track_blocks(line, &mut stack);
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
            let span = Span {
                line: i + 1,
                col,
                end_line: i + 1,
                end_col: col + len.max(1),
            };
            apis.push((v, span, guards_of(&stack)));
        } else if let Some((v, _)) = value("kind:") {
            kind = Some(v);
        } else if in_metadata {
            if let Some((v, _)) = value("  name:") {
                name.get_or_insert(v);
            }
        }
    }
    flush(&mut apis, &mut kind, &mut name);
    out
}

/// Whether a template condition holds on a cluster of version `target`:
/// `semverCompare "<constraint>" .Capabilities.KubeVersion.…` and
/// `.Capabilities.APIVersions.Has "group/version[/Kind]"` (with `not`).
/// `None` when it depends on anything else (values, `and`/`or`).
pub fn condition_at(cond: &str, target: KubeVersion) -> Option<bool> {
    let c = cond.trim();
    let c = c
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .unwrap_or(c)
        .trim();
    if let Some(rest) = c.strip_prefix("not ") {
        return condition_at(rest, target).map(|b| !b);
    }
    let quoted = || {
        let start = c.find('"')? + 1;
        let len = c[start..].find('"')?;
        Some(&c[start..start + len])
    };
    if c.starts_with("semverCompare ") && c.contains(".Capabilities.KubeVersion") {
        // Decided only when every patch release of `target` agrees.
        let at = |patch| semver_matches(quoted()?, (target.major, target.minor, patch));
        return match (at(0), at(999)) {
            (Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        };
    }
    if c.starts_with(".Capabilities.APIVersions.Has ") {
        let what = quoted()?;
        let (api, kind) = match what.matches('/').count() {
            2 => what.rsplit_once('/').map(|(a, k)| (a, Some(k)))?,
            _ => (what, None),
        };
        let removed = table().values().any(|d| {
            d.api_version == api
                && kind.is_none_or(|k| d.kind == k)
                && d.removed().is_some_and(|r| r <= target)
        });
        if removed {
            return Some(false);
        }
        let replacement_served = table().values().any(|d| {
            d.replacement == api
                && kind.is_none_or(|k| d.kind == k)
                && KubeVersion::parse(&d.replacement_since).is_ok_and(|v| v <= target)
        });
        return replacement_served.then_some(true);
    }
    None
}

/// A Masterminds semver constraint (what Helm's `semverCompare` reads):
/// `||` of `,`/space-separated comparisons; pre-release suffixes such as
/// `-0` are ignored.
fn semver_matches(constraint: &str, v: (u32, u32, u32)) -> Option<bool> {
    static TERM: OnceLock<regex::Regex> = OnceLock::new();
    let re = TERM.get_or_init(|| {
        crate::text::constant_regex(r"(>=|<=|!=|=>|=<|>|<|=|\^|~)?\s*v?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-[0-9A-Za-z.-]+)?")
    });
    let mut any_or = false;
    for alt in constraint.split("||") {
        let mut all = true;
        let mut terms = 0;
        for c in re.captures_iter(alt) {
            terms += 1;
            let num = |i| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
            let major = num(2)?;
            let (minor, patch) = (num(3), num(4));
            let wild = |i| {
                c.get(i)
                    .is_some_and(|m| matches!(m.as_str(), "x" | "X" | "*"))
            };
            // A missing part is 0, as Masterminds parses `1.19`; `x` is any.
            let lo = (major, minor.unwrap_or(0), patch.unwrap_or(0));
            let hi = (
                major,
                if wild(3) { u32::MAX } else { lo.1 },
                if wild(3) || wild(4) { u32::MAX } else { lo.2 },
            );
            // `=1.19` (no patch) means any 1.19.x.
            let eq_hi = (
                major,
                minor.map_or(u32::MAX, |_| hi.1),
                patch.map_or(u32::MAX, |_| hi.2),
            );
            let ok = match c.get(1).map_or("", |m| m.as_str()) {
                "" | "=" => v >= lo && v <= eq_hi,
                "!=" => !(v >= lo && v <= eq_hi),
                ">=" | "=>" => v >= lo,
                ">" => v > hi,
                "<" => v < lo,
                "<=" | "=<" => v <= hi,
                "^" => v >= lo && v < (major + 1, 0, 0),
                "~" => v >= lo && v < (major, lo.1 + 1, 0),
                _ => return None,
            };
            all &= ok;
        }
        if terms == 0 {
            return None;
        }
        any_or |= all;
    }
    Some(any_or)
}

#[derive(Default)]
pub struct DeprecationsPack;

impl Pack for DeprecationsPack {
    fn name(&self) -> &'static str {
        "deprecations"
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
                let target = target_version(s);
                for r in template_resources(&file.text) {
                    // A branch the target cluster never renders (the old
                    // apiVersion under `semverCompare "<1.19-0"`) is not
                    // what gets applied there.
                    let dead = target.is_some_and(|t| {
                        r.guards
                            .iter()
                            .any(|(c, want)| condition_at(c, t).is_some_and(|b| b != *want))
                    });
                    if dead {
                        continue;
                    }
                    let TemplateResource {
                        api_version: api,
                        span,
                        kind,
                        name,
                        ..
                    } = r;
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

pub static REMOVED: Rule = Rule::new("deprecations/removed-api", Severity::Error, "The apiVersion is no longer served by the target Kubernetes version: the apply fails.", r#"
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
"#).tags(&["kubernetes", "deprecation", "upgrade"]).precision("very-high");

pub static DEPRECATED: Rule = Rule::new("deprecations/deprecated-api", Severity::Warning, "The apiVersion is deprecated: still served by the target version, removed in a later one.", r#"
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
"#).tags(&["kubernetes", "deprecation", "upgrade"]).precision("very-high");

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![&REMOVED, &DEPRECATED]
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
        assert_eq!(
            status(&settings("1.25"), "batch/v1beta1", "CronJob").map(|s| s.0),
            Some(Status::Removed)
        );
    }

    #[test]
    fn template_lines_are_paired_per_document() {
        let text = "{{- if .Values.on }}\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    name: x\n{{- end }}\n---\napiVersion: \"batch/v1beta1\" # old\nkind: CronJob\nmetadata:\n  name: nightly\n---\napiVersion: {{ .Values.api }}\nkind: Ingress\n";
        let r = template_resources(text);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].api_version, "extensions/v1beta1");
        assert_eq!(r[0].span.line, 2);
        assert_eq!(r[0].span.col, 13);
        assert_eq!(r[0].name, None);
        assert_eq!(r[1].api_version, "batch/v1beta1");
        assert_eq!(r[1].span.line, 10);
        assert_eq!(r[1].name.as_deref(), Some("nightly"));
    }

    #[test]
    fn every_branch_of_a_document_is_read_with_its_guards() {
        let text = "{{- if semverCompare \">=1.19-0\" .Capabilities.KubeVersion.GitVersion }}\napiVersion: networking.k8s.io/v1\n{{- else if .Capabilities.APIVersions.Has \"networking.k8s.io/v1beta1\" }}\napiVersion: networking.k8s.io/v1beta1\n{{- else }}\napiVersion: extensions/v1beta1\n{{- end }}\nkind: Ingress\n";
        let r = template_resources(text);
        let apis: Vec<_> = r.iter().map(|x| x.api_version.as_str()).collect();
        assert_eq!(
            apis,
            [
                "networking.k8s.io/v1",
                "networking.k8s.io/v1beta1",
                "extensions/v1beta1"
            ]
        );
        assert!(r.iter().all(|x| x.kind == "Ingress"));
        let semver = "semverCompare \">=1.19-0\" .Capabilities.KubeVersion.GitVersion";
        let has = ".Capabilities.APIVersions.Has \"networking.k8s.io/v1beta1\"";
        assert_eq!(r[0].guards, vec![(semver.to_string(), true)]);
        assert_eq!(
            r[2].guards,
            vec![(semver.to_string(), false), (has.to_string(), false)]
        );
    }

    #[test]
    fn capability_conditions_are_decided_at_the_target() {
        let v = |s| KubeVersion::parse(s).unwrap();
        let sc = |c: &str| format!("semverCompare \"{c}\" .Capabilities.KubeVersion.GitVersion");
        assert_eq!(condition_at(&sc(">=1.19-0"), v("1.30")), Some(true));
        assert_eq!(condition_at(&sc(">=1.19-0"), v("1.18")), Some(false));
        assert_eq!(condition_at(&sc("<1.22"), v("1.22")), Some(false));
        assert_eq!(
            condition_at(&sc(">=1.14-0, <1.19-0"), v("1.16")),
            Some(true)
        );
        assert_eq!(condition_at(&sc("^1.20 || ~1.18"), v("1.19")), Some(false));
        assert_eq!(condition_at(&sc("~1.18"), v("1.18")), Some(true));
        // 1.19.0 is not > 1.19, 1.19.5 is: undecided.
        assert_eq!(condition_at(&sc(">1.19"), v("1.19")), None);
        assert_eq!(
            condition_at(&format!("not ({})", sc(">=1.19-0")), v("1.30")),
            Some(false)
        );
        let has = |a: &str| format!(".Capabilities.APIVersions.Has \"{a}\"");
        assert_eq!(
            condition_at(&has("networking.k8s.io/v1beta1/Ingress"), v("1.22")),
            Some(false)
        );
        assert_eq!(
            condition_at(&has("networking.k8s.io/v1"), v("1.22")),
            Some(true)
        );
        assert_eq!(condition_at(".Values.ingress.enabled", v("1.22")), None);
        assert_eq!(
            condition_at(&format!("and .Values.x ({})", sc(">=1.19")), v("1.22")),
            None
        );
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
