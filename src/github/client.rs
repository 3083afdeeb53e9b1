//! GitHub's REST and GraphQL APIs over the one HTTP boundary
//! (`crate::http`): REST against `GITHUB_API_URL` (GHES and test servers
//! alike), GraphQL against `GITHUB_GRAPHQL_URL`, `Link: rel="next"`
//! pagination that never leaves the API's origin, serial writes, and
//! bounded waits on rate limits. The token is sent to the API's own origin
//! only.

use crate::http::{self, Method, Request};
use anyhow::{anyhow, Result};
use serde_json::Value;
use std::time::Duration;

/// The longest single wait on a rate limit, and how often we wait.
const MAX_WAIT: Duration = Duration::from_secs(60);
const MAX_RETRIES: u32 = 3;
/// The largest answer read (a list page of 100 comments is far below).
const BODY_LIMIT: u64 = 32 << 20;

/// A non-success answer from GitHub. Carries GitHub's `message`, never a
/// request header or the token.
#[derive(Debug, thiserror::Error)]
#[error("GitHub API {method} {path}: HTTP {status}: {message}")]
pub struct ApiError {
    pub method: Method,
    pub path: String,
    pub status: u16,
    pub message: String,
}

impl ApiError {
    /// A read-only token (fork or Dependabot PR) or missing permission.
    pub fn is_permission(&self) -> bool {
        self.status == 403 || (self.status == 404 && self.method != Method::GET)
    }
}

/// Whether an error chain holds a permission error.
pub fn is_permission_error(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ApiError>()
        .is_some_and(ApiError::is_permission)
}

/// Whether an error chain holds a 422.
pub fn is_unprocessable(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ApiError>()
        .is_some_and(|a| a.status == 422)
}

pub struct Client {
    http: http::Client,
    /// `https://HOST/api/v3` (no trailing slash).
    api: String,
    /// `https://HOST`: where the token may go.
    origin: String,
    graphql: String,
    token: Option<String>,
}

/// `https://HOST:PORT/path` → `https://HOST:PORT`.
fn origin_of(url: &str) -> Result<String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| anyhow!("invalid API URL (expected https://HOST[/PATH])"))?;
    let scheme = uri
        .scheme_str()
        .filter(|s| matches!(*s, "http" | "https"))
        .ok_or_else(|| anyhow!("the API URL needs an http or https scheme"))?;
    let auth = uri
        .authority()
        .ok_or_else(|| anyhow!("the API URL needs a host"))?;
    Ok(format!("{scheme}://{auth}"))
}

/// GraphQL endpoint for an API base: `api.github.com` → `/graphql`,
/// GHES `HOST/api/v3` → `HOST/api/graphql`.
pub fn default_graphql_url(api_url: &str) -> String {
    let base = api_url.trim_end_matches('/');
    match base.strip_suffix("/v3") {
        Some(api) => format!("{api}/graphql"),
        None => format!("{base}/graphql"),
    }
}

impl Client {
    pub fn new(api_url: &str, graphql_url: &str, token: Option<&str>) -> Result<Client> {
        let api = api_url.trim_end_matches('/').to_string();
        let origin = origin_of(&api)?;
        if origin_of(graphql_url)? != origin {
            anyhow::bail!("the GraphQL URL must be on the REST API's host");
        }
        let policy = http::Policy {
            retries: MAX_RETRIES,
            backoff: Duration::from_secs(1),
            max_wait: MAX_WAIT,
            repeat_writes: false,
        };
        Ok(Client {
            http: http::Client::new(Duration::from_secs(60), policy, BODY_LIMIT),
            api,
            origin,
            graphql: graphql_url.to_string(),
            token: token.filter(|t| !t.is_empty()).map(String::from),
        })
    }

    /// An API path (`/repos/…`) under the base, or an absolute URL a `Link`
    /// header gave, which must stay on the API's origin.
    fn url(&self, path: &str) -> Result<String> {
        if path.starts_with("http://") || path.starts_with("https://") {
            let same = path
                .strip_prefix(self.origin.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            if !same {
                anyhow::bail!(
                    "GitHub API: refusing to follow a link to another host ({})",
                    crate::report::github::short(strip_query(path), 80)
                );
            }
            Ok(path.to_string())
        } else {
            Ok(format!("{}{}", self.api, path))
        }
    }

    /// One request with bounded waits on 403/429 rate limits.
    fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(http::HeaderMap, Value)> {
        let shown = url.strip_prefix(self.origin.as_str()).unwrap_or(url);
        let bytes = body.map(|b| b.to_string().into_bytes());
        let mut req = Request::new(method.clone(), url)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = &bytes {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = self
            .http
            .send(&req, &|wait, attempt| {
                eprintln!(
                    "shiplint: GitHub rate limit or server error, waiting {}s ({attempt}/{MAX_RETRIES})",
                    wait.as_secs()
                )
            })
            .map_err(|e| anyhow!("GitHub API {method} {}: {e}", strip_query(shown)))?;
        if resp.is_success() {
            let v = if resp.body.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
            };
            return Ok((resp.headers, v));
        }
        let message = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(String::from))
            .unwrap_or_else(|| resp.status.canonical_reason().unwrap_or("").to_string());
        Err(ApiError {
            method,
            path: strip_query(shown).to_string(),
            status: resp.status.as_u16(),
            message: message.chars().take(300).collect(),
        }
        .into())
    }

    pub fn get(&self, path: &str) -> Result<Value> {
        Ok(self.send(Method::GET, &self.url(path)?, None)?.1)
    }

    /// Every item of a list endpoint: `per_page=100`, following `Link: rel="next"`.
    pub fn get_all(&self, path: &str) -> Result<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{sep}per_page=100"));
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(uri) = next.take() {
            let (headers, v) = self.send(Method::GET, &self.url(&uri)?, None)?;
            match v {
                Value::Array(a) => items.extend(a),
                other => {
                    return Err(anyhow!(
                        "GitHub API GET {path}: expected a list, got {other}"
                    ))
                }
            }
            pages += 1;
            if pages > 1000 {
                break;
            }
            next = headers
                .get("link")
                .and_then(|l| l.to_str().ok())
                .and_then(next_link);
        }
        Ok(items)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        Ok(self.send(Method::POST, &self.url(path)?, Some(body))?.1)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Result<Value> {
        Ok(self.send(Method::PATCH, &self.url(path)?, Some(body))?.1)
    }

    pub fn delete(&self, path: &str) -> Result<()> {
        self.send(Method::DELETE, &self.url(path)?, None)
            .map(|_| ())
    }

    /// A GraphQL query or mutation; `errors` in the answer is an error.
    pub fn graphql(&self, query: &str, variables: Value) -> Result<Value> {
        let body = serde_json::json!({"query": query, "variables": variables});
        let (_, v) = self.send(Method::POST, &self.graphql, Some(&body))?;
        if let Some(errs) = v.get("errors").and_then(Value::as_array) {
            if !errs.is_empty() {
                let msgs: Vec<&str> = errs
                    .iter()
                    .filter_map(|e| e.get("message").and_then(Value::as_str))
                    .collect();
                return Err(anyhow!("GitHub GraphQL: {}", msgs.join("; ")));
            }
        }
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }
}

fn strip_query(uri: &str) -> &str {
    uri.split('?').next().unwrap_or(uri)
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| {
            url.trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_link() {
        let l = r#"<https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=5>; rel="last""#;
        assert_eq!(
            next_link(l).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2")
        );
        assert_eq!(next_link(r#"<https://x/y?page=1>; rel="prev""#), None);
    }

    #[test]
    fn links_never_leave_the_api_origin() {
        let c = Client::new(
            "http://127.0.0.1:9/api/v3",
            "http://127.0.0.1:9/api/graphql",
            Some("t"),
        )
        .unwrap();
        assert_eq!(
            c.url("/repos/a/b").unwrap(),
            "http://127.0.0.1:9/api/v3/repos/a/b"
        );
        assert!(c.url("http://127.0.0.1:9/api/v3/x?page=2").is_ok());
        // A hostile `Link: rel="next"` would carry the token elsewhere.
        assert!(c.url("http://127.0.0.1:99/api/v3/x?page=2").is_err());
        assert!(c.url("http://127.0.0.1:9@evil.example/x").is_err());
        assert!(c.url("https://127.0.0.1:9/x").is_err());
        assert!(Client::new(
            "http://127.0.0.1:9/api/v3",
            "http://evil.example/graphql",
            None
        )
        .is_err());
        assert!(Client::new("file:///etc/passwd", "file:///x", None).is_err());
    }

    #[test]
    fn graphql_url_on_ghes() {
        assert_eq!(
            default_graphql_url("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            default_graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
    }
}
