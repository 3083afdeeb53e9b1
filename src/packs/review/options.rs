//! The `review:` section of `.shiplint.yaml`, with command-line flags over it.

use anyhow::{Context as _, Result};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct ReviewOptions {
    /// Revision to diff against (its merge base with head).
    pub diff_base: Option<String>,
    /// Revision under review (default HEAD).
    pub head: Option<String>,
    /// OpenAI-compatible base URL, e.g. `http://127.0.0.1:11434/v1`.
    pub base_url: Option<String>,
    pub model: String,
    /// Most chunks (requests before retries) one run may send.
    pub max_chunks: usize,
    /// Token budget of the diff part of one prompt.
    pub chunk_tokens: usize,
    pub concurrency: usize,
    pub timeout_secs: f64,
    pub retries: u32,
    pub retry_base_ms: u64,
    pub max_retry_after_secs: f64,
    pub context_lines: u32,
    pub max_file_bytes: u64,
    /// gitignore-style globs of files not to review (on top of lock,
    /// vendored, generated and binary files).
    pub exclude: Vec<String>,
    /// Inline findings need at least this risk and confidence; the rest go to the summary.
    pub min_risk: u8,
    pub min_confidence: u8,
    pub max_comments_per_file: usize,
    /// Hosts links in model text may point to (all others are removed).
    pub allowed_link_hosts: Vec<String>,
    pub cache: bool,
    /// Exit 1 when the PR risk is at least this.
    pub fail_on_risk: Option<u8>,
    /// Longest comment text kept from the model.
    pub max_comment_chars: usize,
}

impl Default for ReviewOptions {
    fn default() -> Self {
        ReviewOptions {
            diff_base: None,
            head: None,
            base_url: None,
            model: "gpt-4o-mini".into(),
            max_chunks: 30,
            chunk_tokens: 6000,
            concurrency: 4,
            timeout_secs: 120.0,
            retries: 3,
            retry_base_ms: 1000,
            max_retry_after_secs: 60.0,
            context_lines: 3,
            max_file_bytes: 512 * 1024,
            exclude: Vec::new(),
            min_risk: 3,
            min_confidence: 3,
            max_comments_per_file: 5,
            allowed_link_hosts: Vec::new(),
            cache: true,
            fail_on_risk: None,
            max_comment_chars: 2000,
        }
    }
}

impl ReviewOptions {
    pub fn from_config(v: Option<&serde_json::Value>) -> Result<Self> {
        match v {
            None | Some(serde_json::Value::Null) => Ok(Self::default()),
            Some(v) => serde_json::from_value(v.clone()).context("in the config's review: section"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kebab_case_and_rejects_typos() {
        let o = ReviewOptions::from_config(Some(&serde_json::json!({
            "model": "llama3.1", "max-chunks": 2, "exclude": ["docs/**"]
        })))
        .unwrap();
        assert_eq!(o.model, "llama3.1");
        assert_eq!(o.max_chunks, 2);
        assert_eq!(o.min_risk, 3);
        assert!(ReviewOptions::from_config(Some(&serde_json::json!({"modle": "x"}))).is_err());
    }
}
