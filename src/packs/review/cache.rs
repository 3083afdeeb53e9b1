//! Answers on disk keyed by (endpoint, model, prompt hash, chunk hash), so a re-run on
//! the same commit sends nothing. Only validated answers are stored, and
//! they hold no secret: the chunk was redacted before it was sent.

use super::client::Usage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

pub struct AnswerCache {
    dir: Option<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    content: String,
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl AnswerCache {
    /// `None` disables the cache.
    pub fn new(dir: Option<PathBuf>) -> Self {
        AnswerCache {
            dir: dir.map(|d| d.join("review")),
        }
    }

    /// An answer belongs to the server that gave it: the base URL is part
    /// of the key, so one server's answers are never replayed for another.
    pub fn key(base_url: &str, model: &str, prompt_hash: &str, chunk_hash: &str) -> String {
        let mut h = Sha256::new();
        for part in [
            base_url.trim_end_matches('/'),
            model,
            prompt_hash,
            chunk_hash,
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        Some(self.dir.as_ref()?.join(format!("{key}.json")))
    }

    /// The stored model answer and what it cost when it was made.
    pub fn get(&self, key: &str) -> Option<(String, Usage)> {
        let text = std::fs::read_to_string(self.path(key)?).ok()?;
        let e: Entry = serde_json::from_str(&text).ok()?;
        Some((
            e.content,
            Usage {
                prompt_tokens: e.prompt_tokens,
                completion_tokens: e.completion_tokens,
            },
        ))
    }

    /// Best effort: a cache that cannot be written is not an error.
    pub fn put(&self, key: &str, content: &str, usage: &Usage) {
        let Some(path) = self.path(key) else { return };
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let e = Entry {
            content: content.to_string(),
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
        };
        let Ok(text) = serde_json::to_string(&e) else {
            return;
        };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keys_differ_by_model_and_endpoint() {
        let dir = tempfile::tempdir().unwrap();
        let c = AnswerCache::new(Some(dir.path().to_path_buf()));
        let k = AnswerCache::key("http://a/v1", "m", "p", "c");
        assert_ne!(k, AnswerCache::key("http://a/v1", "m2", "p", "c"));
        assert_ne!(k, AnswerCache::key("http://b/v1", "m", "p", "c"));
        assert_eq!(k, AnswerCache::key("http://a/v1/", "m", "p", "c"));
        assert!(c.get(&k).is_none());
        let u = Usage {
            prompt_tokens: 3,
            completion_tokens: 1,
        };
        c.put(&k, "{\"files\":[]}", &u);
        assert_eq!(c.get(&k), Some(("{\"files\":[]}".to_string(), u)));
    }
}
