//! The prompt: an embedded default system prompt (the rubric) that a repo
//! can replace with `.shiplint/review-prompt.md`, the per-chunk user prompt
//! with a language hint, and the JSON schema the answer must follow.

use super::chunk::ReviewChunk;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const DEFAULT_SYSTEM_PROMPT: &str = include_str!("prompt.md");
pub const PROMPT_OVERRIDE: &str = ".shiplint/review-prompt.md";
/// Name of the structured-output schema sent to the endpoint.
pub const SCHEMA_NAME: &str = "shiplint_review";

/// The system prompt in force and where it came from.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub system: String,
    pub source: String,
}

impl Prompt {
    /// The repository's override as it was at the merge base, else the
    /// embedded default.
    pub fn new(base_override: Option<String>) -> Self {
        match base_override {
            Some(system) if !system.trim().is_empty() => Prompt {
                system,
                source: PROMPT_OVERRIDE.into(),
            },
            _ => Prompt {
                system: DEFAULT_SYSTEM_PROMPT.to_string(),
                source: "built-in".into(),
            },
        }
    }

    /// Identifies prompt + schema + user-prompt template for the cache key.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.system.as_bytes());
        h.update(response_schema().to_string().as_bytes());
        h.update(USER_TEMPLATE_VERSION.as_bytes());
        hex::encode(&h.finalize()[..16])
    }
}

/// Bump when [`user_prompt`] changes shape, so cached answers are not reused.
const USER_TEMPLATE_VERSION: &str = "user-v2";

pub fn user_prompt(chunk: &ReviewChunk) -> String {
    format!(
        "File: {path}\nLanguage: {lang}. {hint}\n\nReview this part of the diff. Line numbers are new-file lines; `+` added, `-` removed, ` ` context.\n\n<diff>\n{text}</diff>\n\nAnswer with exactly one entry in `files`, with fileName \"{path}\".",
        path = chunk.shown_path,
        lang = chunk.language,
        hint = language_hint(chunk.language),
        text = chunk.text,
    )
}

/// The last guard before a request leaves: the assembled prompt text goes
/// through the secrets engine once more and whatever it still finds is
/// masked (the parts were masked already; this catches what assembly may
/// have joined, and anything a future change forgets to mask).
pub fn guard(text: &str) -> String {
    super::redact::redact_text(text)
}

/// A language name from the file name.
pub fn language_for(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if lower == "dockerfile" || lower.starts_with("dockerfile.") || lower.ends_with(".dockerfile") {
        return "Dockerfile";
    }
    if lower == "makefile" {
        return "Makefile";
    }
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "yaml" | "yml" => {
            if path.contains(".github/workflows/") {
                "GitHub Actions workflow"
            } else {
                "YAML"
            }
        }
        "tf" | "tfvars" | "hcl" => "Terraform/HCL",
        "json" => "JSON",
        "toml" => "TOML",
        "sh" | "bash" | "zsh" => "Shell",
        "py" => "Python",
        "go" => "Go",
        "rs" => "Rust",
        "js" | "mjs" | "cjs" => "JavaScript",
        "ts" | "tsx" => "TypeScript",
        "java" | "kt" => "JVM",
        "rb" => "Ruby",
        "tpl" | "gotmpl" => "Go template (Helm)",
        "md" => "Markdown",
        "sql" => "SQL",
        "nix" => "Nix",
        "cue" => "CUE",
        "jsonnet" | "libsonnet" => "Jsonnet",
        _ => "unknown",
    }
}

fn language_hint(lang: &str) -> &'static str {
    match lang {
        "YAML" => "Likely Kubernetes, Helm values or Compose: watch resource limits, probes, securityContext, image tags, RBAC breadth and exposed ports.",
        "GitHub Actions workflow" => "Watch untrusted input in run: steps (${{ github.event.* }}), unpinned third-party actions, broad permissions and pull_request_target.",
        "Terraform/HCL" => "Watch public exposure (0.0.0.0/0, public buckets), IAM wildcards, destroy/replace of stateful resources and missing encryption.",
        "Dockerfile" => "Watch root users, unpinned base images, secrets in layers, curl | sh and missing cleanup.",
        "Shell" => "Watch quoting, set -euo pipefail, unsafe rm, curl | sh and unchecked errors.",
        "Go template (Helm)" => "Watch quoting, nindent/indent, missing defaults and required values.",
        "unknown" => "Language unknown: comment only when sure.",
        _ => "Focus on correctness, security and operational risk.",
    }
}

fn comment_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["fileName", "line", "quote", "riskScore", "confidence", "title", "details"],
        "properties": {
            "fileName": {"type": "string"},
            "line": {"type": "integer"},
            "quote": {"type": "string"},
            "riskScore": {"type": "integer", "minimum": 1, "maximum": 5},
            "confidence": {"type": "integer", "minimum": 1, "maximum": 5},
            "title": {"type": "string"},
            "details": {"type": "string"}
        }
    })
}

/// The JSON schema of an answer (strict structured-output compatible: every
/// property required, no additional properties).
pub fn response_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["files"],
        "properties": {
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["fileName", "riskScore", "summary", "comments"],
                    "properties": {
                        "fileName": {"type": "string"},
                        "riskScore": {"type": "integer", "minimum": 1, "maximum": 5},
                        "summary": {"type": "string"},
                        "comments": {"type": "array", "items": comment_schema()}
                    }
                }
            }
        }
    })
}

/// The `response_format` member of a chat-completions request.
pub fn response_format() -> Value {
    json!({
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": true, "schema": response_schema()}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_from_paths() {
        assert_eq!(language_for("k8s/app.yaml"), "YAML");
        assert_eq!(
            language_for(".github/workflows/ci.yml"),
            "GitHub Actions workflow"
        );
        assert_eq!(language_for("infra/main.tf"), "Terraform/HCL");
        assert_eq!(language_for("images/api/Dockerfile"), "Dockerfile");
    }

    #[test]
    fn default_prompt_has_the_rubric() {
        assert!(DEFAULT_SYSTEM_PROMPT.contains("riskScore"));
        assert!(DEFAULT_SYSTEM_PROMPT.contains("secret"));
        assert!(jsonschema::validator_for(&response_schema()).is_ok());
    }
}
