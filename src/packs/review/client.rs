//! A small OpenAI chat-completions client.
//!
//! Why not `async-openai`: its built-in retry loop (the `backoff` crate)
//! retries 429s on its own schedule and hides `Retry-After`, which fights the
//! bounded, header-honouring retry policy below and the chunk cap. The
//! endpoint speaks one request shape, so a blocking `ureq` call (already in
//! the binary, with rustls) run on a few worker threads is all the review
//! needs; no async runtime enters the binary. The same client talks to
//! OpenAI, Azure OpenAI (`api-key` header), Ollama, vLLM and llama.cpp.

use serde_json::{json, Value};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub timeout: Duration,
    /// Retries after the first attempt, on 429, 5xx, timeouts and I/O errors.
    pub retries: u32,
    /// First backoff delay; doubles per retry (Retry-After wins when present).
    pub backoff: Duration,
    /// Longest Retry-After that is honoured; longer waits fail the request.
    pub max_retry_after: Duration,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, o: &Usage) {
        self.prompt_tokens += o.prompt_tokens;
        self.completion_tokens += o.completion_tokens;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the endpoint did not answer within {0:?}")]
    Timeout(Duration),
    #[error("HTTP {status} from the endpoint: {message}")]
    Http { status: u16, message: String },
    #[error("cannot reach the endpoint: {0}")]
    Transport(String),
    #[error("the endpoint's answer is not a chat completion: {0}")]
    Shape(String),
}

pub struct Completion {
    pub content: String,
    pub usage: Usage,
}

pub struct ChatClient {
    cfg: ClientConfig,
    http: crate::http::Client,
}

pub use crate::http::retry_after;

impl ChatClient {
    pub fn new(cfg: ClientConfig) -> Self {
        // The boundary follows no redirect: one would carry the key
        // (`api-key` or `Authorization`) and the prompt to wherever the
        // endpoint points; a 3xx answer is an error.
        let policy = crate::http::Policy {
            retries: cfg.retries,
            backoff: cfg.backoff,
            max_wait: cfg.max_retry_after,
            repeat_writes: true,
        };
        ChatClient {
            http: crate::http::Client::new(cfg.timeout, policy, 8 << 20),
            cfg,
        }
    }

    /// `/chat/completions` after the base URL's path (before its query, so
    /// `…/openai/v1?api-version=…` keeps its query).
    pub fn endpoint(&self) -> String {
        let (base, query) = match self.cfg.base_url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (self.cfg.base_url.as_str(), None),
        };
        let mut url = format!("{}/chat/completions", base.trim_end_matches('/'));
        if let Some(q) = query {
            url.push('?');
            url.push_str(q);
        }
        url
    }

    fn is_azure(&self) -> bool {
        self.cfg.base_url.contains(".openai.azure.com") || self.cfg.base_url.contains("api-version")
    }

    /// The request body for one chunk.
    pub fn body(&self, system: &str, user: &str, response_format: &Value) -> Value {
        json!({
            "model": self.cfg.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user}
            ],
            "temperature": 0,
            "stream": false,
            "response_format": response_format
        })
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests_sent(&self) -> usize {
        self.http.requests_sent()
    }

    /// POSTs with bounded retries on 429/5xx/timeouts, honouring Retry-After
    /// (the policy of `crate::http`).
    pub fn complete(&self, body: &Value) -> Result<Completion, ClientError> {
        let body = body.to_string();
        let url = self.endpoint();
        let mut req = crate::http::Request::new(crate::http::Method::POST, &url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.as_bytes());
        if let Some(key) = &self.cfg.api_key {
            req = if self.is_azure() {
                req.header("api-key", key.as_str())
            } else {
                req.header("authorization", format!("Bearer {key}"))
            };
        }
        let resp = self.http.send(&req, &|_, _| {}).map_err(|e| match e {
            crate::http::Error::Timeout(t) => ClientError::Timeout(t),
            crate::http::Error::Transport(m) => ClientError::Transport(m),
        })?;
        let text = String::from_utf8_lossy(&resp.body);
        if !resp.is_success() {
            // Only the API's own error message: never echo headers or the request.
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(String::from))
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect();
            return Err(ClientError::Http {
                status: resp.status.as_u16(),
                message,
            });
        }
        parse_completion(&text)
    }
}

/// The first choice's message content and the usage of a completion.
pub fn parse_completion(text: &str) -> Result<Completion, ClientError> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| ClientError::Shape(format!("not JSON ({e})")))?;
    let msg = &v["choices"][0]["message"];
    if let Some(refusal) = msg["refusal"].as_str() {
        return Err(ClientError::Shape(format!(
            "the model refused: {}",
            refusal.chars().take(200).collect::<String>()
        )));
    }
    let content = msg["content"]
        .as_str()
        .ok_or_else(|| ClientError::Shape("no choices[0].message.content".into()))?
        .to_string();
    let usage = Usage {
        prompt_tokens: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
        completion_tokens: v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
    };
    Ok(Completion { content, usage })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_completion_and_retry_after() {
        let c = parse_completion(
            r#"{"choices":[{"message":{"role":"assistant","content":"{}"}}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
        )
        .unwrap();
        assert_eq!(c.content, "{}");
        assert_eq!(c.usage.prompt_tokens, 5);
        assert!(parse_completion(r#"{"choices":[]}"#).is_err());
        assert_eq!(retry_after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }

    #[test]
    fn the_endpoint_keeps_a_query_after_the_path() {
        let c = |base: &str| {
            ChatClient::new(ClientConfig {
                base_url: base.into(),
                api_key: None,
                model: "m".into(),
                timeout: Duration::from_secs(1),
                retries: 0,
                backoff: Duration::from_millis(1),
                max_retry_after: Duration::from_secs(1),
            })
        };
        assert_eq!(
            c("http://127.0.0.1:1/v1/").endpoint(),
            "http://127.0.0.1:1/v1/chat/completions"
        );
        let azure = c("http://127.0.0.1:1/openai/v1?api-version=preview");
        assert_eq!(
            azure.endpoint(),
            "http://127.0.0.1:1/openai/v1/chat/completions?api-version=preview"
        );
        assert!(azure.is_azure());
    }
}
