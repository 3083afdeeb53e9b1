//! Secrets written as plain `env[].value`. Self-contained (the secrets pack
//! is separate); the value never leaves this module: the finding's snippet
//! is a redacted copy of the line.

use super::podspec::{Container, Workload};
use super::{rule, Emit, Env};
use crate::finding::{Severity, Snippet};
use crate::manifest::Node;
use crate::packs::Rule;

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "AUTH_KEY",
];

/// Names that mention a secret but hold something else (a path, a name, a
/// flag, a duration …).
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "_FILE",
    "_PATH",
    "_DIR",
    "_NAME",
    "_REF",
    "_ENABLED",
    "_ENABLE",
    "_TTL",
    "_EXPIRY",
    "_EXPIRATION",
    "_LENGTH",
    "_HEADER",
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_MOUNT",
    "_KEYRING",
    "_TYPE",
    "_SECONDS",
    "_TIMEOUT",
    "_DURATION",
    "_NAMESPACE",
    "_ID",
    "_USER",
    "_USERNAME",
];

pub fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase().replace('-', "_");
    SECRET_WORDS.iter().any(|w| upper.contains(w))
        && !NOT_SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s))
}

/// Values that are not a real secret: placeholders, references, paths,
/// booleans, numbers.
pub fn placeholder(name: &str, value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    // `HF_TOKEN`, `GOOGLE_API_KEY_VAL`: a variable name standing in for a value.
    let looks_like_a_name = v.contains('_')
        && v.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    v.len() < 4
        || looks_like_a_name
        || v.eq_ignore_ascii_case(name)
        || [
            "your",
            "fake",
            "example",
            "dummy",
            "placeholder",
            "changeme",
            "change_me",
            "change-me",
            "replace",
            "insert",
            "todo",
            "xxx",
            "redacted",
            "<",
            "secretref",
        ]
        .iter()
        .any(|w| lower.contains(w))
        || v.contains("${")
        || v.contains("$(")
        || v.contains("{{")
        || (v.starts_with('<') && v.ends_with('>'))
        || v.starts_with('/')
        || v.starts_with("file:")
        || v.chars()
            .all(|c| c == '*' || c == 'x' || c == 'X' || c == '.')
        || v.parse::<f64>().is_ok()
        || [
            "true",
            "false",
            "changeme",
            "change-me",
            "change_me",
            "replace_me",
            "replaceme",
            "todo",
            "placeholder",
            "dummy",
            "example",
            "none",
            "null",
            "secret",
            "password",
            "redacted",
            "your-password",
            "your_password",
            "notsecret",
            "not-a-secret",
        ]
        .contains(&lower.as_str())
}

pub fn check(w: &Workload, containers: &[Container], env: &Env, emit: &mut Emit) {
    for c in containers {
        for var in c.node.get("env").map(Node::as_seq).unwrap_or(&[]) {
            let Some(name) = var.get("name").and_then(Node::scalar_text) else {
                continue;
            };
            let Some(value) = var.get("value") else {
                continue;
            };
            let Some(text) = value.scalar_text() else {
                continue;
            };
            if !secret_name(&name) || placeholder(&name, &text) {
                continue;
            }
            let span = value.span;
            let redacted = env
                .file
                .and_then(|f| f.line_text(span.line))
                .map(|line| redact(line, &text, span.col))
                .unwrap_or_else(|| format!("value: <redacted> # {name}"));
            let Some(f) = emit.push(
                &ENV_SECRET,
                span,
                format!("{}: env var {name} holds a literal secret-looking value; anyone who can read the manifest (or `kubectl get pod -o yaml`) can read it", w.what(c)),
                format!("{}:env={name}", w.key(c)),
            ) else {
                continue;
            };
            f.snippet = Some(Snippet {
                line: span.line,
                text: redacted,
            });
        }
    }
}

/// The line with everything from the value's column on replaced.
fn redact(line: &str, value: &str, col: usize) -> String {
    if let Some(i) = line.find(value) {
        return format!("{}<redacted>{}", &line[..i], &line[i + value.len()..]);
    }
    let prefix: String = line.chars().take(col.saturating_sub(1)).collect();
    format!("{prefix}<redacted>")
}

pub static ENV_SECRET: Rule = rule("practices/env-secret", Severity::Warning, "A password, token or key is written as a plain env value.", r#"
## What it finds
An `env[].value` whose variable name looks like a credential (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, `*PRIVATE_KEY*`, `*ACCESS_KEY*`, `*CREDENTIAL*`) and whose value is non-empty and not a placeholder (`${VAR}`, `$(VAR)`, `<value>`, `changeme`, a path, a number …). Names that hold metadata (`*_FILE`, `*_PATH`, `*_NAME`, `*_URL`, `*_VERSION` …) are skipped, and so are values that look like stand-ins (`HF_TOKEN`, `yourpassword`, `fake_password`, `INSERT_TOKEN`). The value is never printed: the reported line is redacted. When the `secrets` pack runs and recognises the value itself (a GitHub token, an AWS key …), its finding on that line is the one reported: one problem, one finding.

## Why it matters
The value is in git history, in every rendered manifest, and readable by anyone who can `get` the pod; it cannot be rotated without a commit.

## How to fix
Put it in a Secret (created by your secret manager, not committed) and reference it:
```yaml
  env:
  - name: DB_PASSWORD
    valueFrom:
      secretKeyRef:
        name: db
        key: password
```
"#).security(7.5).precision("medium");

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![&ENV_SECRET]
}

#[cfg(test)]
mod tests {
    use super::super::testutil::findings_with;
    use super::super::Options;
    use super::*;

    #[test]
    fn names_and_placeholders() {
        assert!(secret_name("DB_PASSWORD"));
        assert!(secret_name("github-token"));
        assert!(!secret_name("PASSWORD_FILE"));
        assert!(!secret_name("SECRET_NAME"));
        assert!(!secret_name("LOG_LEVEL"));
        assert!(placeholder("X", "${DB_PASSWORD}"));
        assert!(placeholder("X", "changeme"));
        assert!(placeholder("X", "/etc/secret/token"));
        assert!(placeholder("HF_TOKEN", "HF_TOKEN"));
        assert!(placeholder("K", "GOOGLE_API_KEY_VAL"));
        assert!(placeholder("K", "yourpassword"));
        assert!(!placeholder("X", "hunter2-prod"));
    }

    #[test]
    fn fires_redacted_on_the_value_line() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: a:1\n    env:\n    - name: DB_PASSWORD\n      value: \"s3cr3t-Pa55\"\n    - name: API_TOKEN\n      value: ${TOKEN}\n    - name: TOKEN_PATH\n      value: mytokenvalue\n    - name: LOG_LEVEL\n      value: debug\n    - name: SECRET\n      valueFrom:\n        secretKeyRef: {name: s, key: k}\n";
        let f: Vec<_> = findings_with(text, &Options::default())
            .into_iter()
            .filter(|f| &*f.rule == ENV_SECRET.id)
            .collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].span.line, 11);
        assert!(f[0].message.contains("DB_PASSWORD"));
        assert!(!f[0].message.contains("s3cr3t"));
        let snip = f[0].snippet.as_ref().unwrap();
        assert_eq!(snip.text, "      value: \"<redacted>\"");
    }
}
