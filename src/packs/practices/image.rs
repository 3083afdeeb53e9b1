//! Images: `:latest` or no tag, no digest (when required), a mutable tag
//! without an explicit pull policy.

use super::podspec::{Container, Workload};
use super::{rule, Emit, Env};
use crate::finding::Severity;
use crate::manifest::Node;
use crate::packs::Rule;

/// An image reference split into (tag, digest).
pub fn parse_ref(image: &str) -> (Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let last = rest.rsplit('/').next().unwrap_or(rest);
    let tag = last.split_once(':').map(|(_, t)| t);
    (tag, digest)
}

/// Tags that stand for "filled in later".
const PLACEHOLDER_TAGS: &[&str] = &[
    "dummy",
    "placeholder",
    "replaceme",
    "replace-me",
    "changeme",
    "change-me",
    "tbd",
    "todo",
];

pub fn check(w: &Workload, containers: &[Container], env: &Env, emit: &mut Emit) {
    for c in containers {
        let Some(node) = c.node.get("image") else {
            continue;
        };
        let Some(image) = node.as_str().map(str::trim) else {
            continue;
        };
        // `${IMAGE}` or `<PROJECT_ID>`-style values are filled in later.
        if image.is_empty() || image.contains(['$', '<']) || image.contains("{{") {
            continue;
        }
        let (tag, digest) = parse_ref(image);
        // `app:dummy`: a stand-in that kustomize's `images:` or a build
        // step replaces (kubeflow's manifests).
        if tag.is_some_and(|t| PLACEHOLDER_TAGS.contains(&t.to_ascii_lowercase().as_str())) {
            continue;
        }
        if digest.is_none() && matches!(tag, None | Some("latest")) {
            emit.push(
                &LATEST,
                node.span,
                format!(
                    "{} uses image '{image}' {}: every node may run a different build and a rollback does not roll anything back",
                    w.what(c),
                    if tag.is_none() { "without a tag (that means :latest)" } else { "with the :latest tag" }
                ),
                format!("{}:image", w.key(c)),
            );
        }
        if env.options.require_digest && digest.is_none() {
            emit.push(
                &DIGEST,
                node.span,
                format!("{} uses image '{image}' without a digest; the `practices.require-digest` policy asks for image@sha256:…", w.what(c)),
                format!("{}:image", w.key(c)),
            );
        }
        let mutable = digest.is_none()
            && tag.is_some_and(|t| t != "latest" && !t.chars().any(|ch| ch.is_ascii_digit()));
        if mutable
            && c.node
                .get("imagePullPolicy")
                .and_then(Node::as_str)
                .is_none()
        {
            emit.push(
                &PULL_POLICY,
                node.span,
                format!("{} uses the moving tag '{}' without imagePullPolicy: the default IfNotPresent keeps whatever copy each node pulled first", w.what(c), tag.unwrap_or_default()),
                format!("{}:image", w.key(c)),
            );
        }
    }
}

pub static LATEST: Rule = rule("practices/image-latest-tag", Severity::Warning, "An image uses :latest or no tag.", r#"
## What it finds
`image: app` or `image: app:latest` without a digest.

## Why it matters
What runs depends on when each node pulled: two replicas can run different code, and rolling back to the previous manifest changes nothing.

## How to fix
Pin a version (or a digest):
```yaml
  image: ghcr.io/example/web:1.4.2
```
"#).precision("very-high");

pub static DIGEST: Rule = rule("practices/image-digest-missing", Severity::Warning, "An image is not pinned by digest (only with `practices.require-digest: true`).", r#"
## What it finds
When `.shiplint.yaml` sets
```yaml
practices:
  require-digest: true
```
every image without `@sha256:…`. Without that option the rule never fires.

## Why it matters
Tags can be moved or overwritten; a digest identifies exactly the image that was reviewed and scanned.

## How to fix
```yaml
  image: ghcr.io/example/web:1.4.2@sha256:3f1c…
```
"#).precision("very-high");

pub static PULL_POLICY: Rule = rule("practices/image-pull-policy", Severity::Note, "An image with a moving tag (no version number) has no imagePullPolicy.", r#"
## What it finds
An image whose tag contains no digit (`:main`, `:stable`, `:alpine`) and no digest, in a container without `imagePullPolicy`. (`:latest` and untagged images default to `Always` and are covered by `practices/image-latest-tag`; versioned tags are left alone, see kube-score #48.)

## Why it matters
Kubernetes defaults to `IfNotPresent` for such tags, so each node keeps whatever copy it pulled first, and the tag silently means different images on different nodes.

## How to fix
Pin a version, or say you want the moving tag:
```yaml
  image: nginx:stable
  imagePullPolicy: Always
```
"#).precision("high");

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![&LATEST, &DIGEST, &PULL_POLICY]
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{pairs, run_with};
    use super::super::Options;
    use super::parse_ref;

    const RULES: &[&str] = &[
        "image-latest-tag",
        "image-digest-missing",
        "image-pull-policy",
    ];

    fn only(text: &str, digest: bool) -> Vec<(String, usize)> {
        let o = Options {
            require_digest: digest,
        };
        run_with(text, &o)
            .into_iter()
            .filter(|(r, _)| RULES.contains(&r.as_str()))
            .collect()
    }

    #[test]
    fn refs() {
        assert_eq!(parse_ref("localhost:5000/app"), (None, None));
        assert_eq!(parse_ref("localhost:5000/app:1.2"), (Some("1.2"), None));
        assert_eq!(parse_ref("app@sha256:ab"), (None, Some("sha256:ab")));
    }

    #[test]
    fn tags_and_digests() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: nginx\n  - name: b\n    image: nginx:latest\n  - name: c\n    image: nginx:stable\n  - name: d\n    image: nginx:1.27\n  - name: e\n    image: nginx@sha256:abc\n  - name: f\n    image: nginx:stable\n    imagePullPolicy: Always\n  - name: g\n    image: gcr.io/ml-pipeline/metadata-writer:dummy\n";
        assert_eq!(
            only(text, false),
            pairs(&[
                ("image-latest-tag", 8),
                ("image-latest-tag", 10),
                ("image-pull-policy", 12),
            ])
        );
        let digests: Vec<_> = only(text, true)
            .into_iter()
            .filter(|(r, _)| r == "image-digest-missing")
            .map(|(_, l)| l)
            .collect();
        assert_eq!(digests, vec![8, 10, 12, 14, 18]);
    }
}
