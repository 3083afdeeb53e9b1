//! A small blocking façade over octocrab's raw helpers: REST against
//! `GITHUB_API_URL` (GHES and test servers alike), GraphQL against
//! `GITHUB_GRAPHQL_URL`, `Link: rel="next"` pagination, serial writes, and
//! bounded waits on rate limits. tokio lives only here.

use anyhow::{anyhow, Context as _, Result};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde_json::Value;
use std::time::Duration;

/// The longest single wait on a rate limit, and how often we wait.
const MAX_WAIT: Duration = Duration::from_secs(60);
const MAX_RETRIES: usize = 3;

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
    rest: Octocrab,
    graphql: Octocrab,
    graphql_path: String,
    rt: tokio::runtime::Runtime,
}

/// `https://HOST/api/v3` → (`https://HOST`, `/api/v3`).
fn split_url(url: &str) -> Result<(String, String)> {
    let uri: http::Uri = url.parse().with_context(|| "invalid API URL")?;
    let scheme = uri
        .scheme_str()
        .ok_or_else(|| anyhow!("API URL needs a scheme"))?;
    let auth = uri
        .authority()
        .ok_or_else(|| anyhow!("API URL needs a host"))?;
    Ok((format!("{scheme}://{auth}"), uri.path().to_string()))
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

fn build(base: &str, token: Option<&str>) -> Result<Octocrab> {
    let mut b = Octocrab::builder()
        .base_uri(base)
        .context("invalid GitHub API URL")?
        .add_header(
            http::header::ACCEPT,
            "application/vnd.github+json".to_string(),
        )
        .add_header(
            http::HeaderName::from_static("x-github-api-version"),
            "2022-11-28".to_string(),
        )
        .set_read_timeout(Some(Duration::from_secs(60)))
        .set_connect_timeout(Some(Duration::from_secs(20)));
    if let Some(t) = token {
        b = b.personal_token(t.to_string());
    }
    b.build().context("building the GitHub client")
}

impl Client {
    pub fn new(api_url: &str, graphql_url: &str, token: Option<&str>) -> Result<Client> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let api_url = api_url.trim_end_matches('/');
        let (gql_origin, gql_path) = split_url(graphql_url)?;
        let _guard = rt.enter();
        let rest = build(api_url, token)?;
        // GraphQL gets its own client rooted at the origin: octocrab would
        // otherwise join the REST base path (`/api/v3/graphql` on GHES).
        let graphql = build(&gql_origin, token)?;
        drop(_guard);
        Ok(Client {
            rest,
            graphql,
            graphql_path: gql_path,
            rt,
        })
    }

    async fn once(
        crab: &Octocrab,
        method: &Method,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>)> {
        let resp = match *method {
            Method::GET => crab._get(uri).await,
            Method::POST => crab._post(uri, body).await,
            Method::PATCH => crab._patch(uri, body).await,
            Method::PUT => crab._put(uri, body).await,
            Method::DELETE => crab._delete(uri, body).await,
            _ => return Err(anyhow!("GitHub API {method} is not used by shiplint")),
        }
        .map_err(|e| anyhow!("GitHub API {method} {}: {e}", strip_query(uri)))?;
        let (parts, body) = resp.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|e| anyhow!("GitHub API {method} {}: {e}", strip_query(uri)))?
            .to_bytes();
        Ok((parts.status, parts.headers, bytes.to_vec()))
    }

    /// One request with bounded waits on 403/429 rate limits.
    fn send(
        &self,
        graphql: bool,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<(HeaderMap, Value)> {
        let crab = if graphql { &self.graphql } else { &self.rest };
        let mut attempt = 0;
        loop {
            let (status, headers, bytes) =
                self.rt.block_on(Self::once(crab, &method, uri, body))?;
            if status.is_success() {
                let v = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
                };
                return Ok((headers, v));
            }
            if let Some(wait) = rate_limit_wait(status, &headers) {
                if attempt < MAX_RETRIES {
                    attempt += 1;
                    eprintln!(
                        "shiplint: GitHub rate limit, waiting {}s ({attempt}/{MAX_RETRIES})",
                        wait.as_secs()
                    );
                    std::thread::sleep(wait);
                    continue;
                }
            }
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(String::from))
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_string());
            return Err(ApiError {
                method,
                path: strip_query(uri).to_string(),
                status: status.as_u16(),
                message,
            }
            .into());
        }
    }

    pub fn get(&self, path: &str) -> Result<Value> {
        Ok(self.send(false, Method::GET, path, None)?.1)
    }

    /// Every item of a list endpoint: `per_page=100`, following `Link: rel="next"`.
    pub fn get_all(&self, path: &str) -> Result<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{sep}per_page=100"));
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(uri) = next.take() {
            let (headers, v) = self.send(false, Method::GET, &uri, None)?;
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
                .get(http::header::LINK)
                .and_then(|l| l.to_str().ok())
                .and_then(next_link);
        }
        Ok(items)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        Ok(self.send(false, Method::POST, path, Some(body))?.1)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Result<Value> {
        Ok(self.send(false, Method::PATCH, path, Some(body))?.1)
    }

    pub fn delete(&self, path: &str) -> Result<()> {
        self.send(false, Method::DELETE, path, None).map(|_| ())
    }

    /// A GraphQL query or mutation; `errors` in the answer is an error.
    pub fn graphql(&self, query: &str, variables: Value) -> Result<Value> {
        let body = serde_json::json!({"query": query, "variables": variables});
        let (_, v) = self.send(true, Method::POST, &self.graphql_path, Some(&body))?;
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

/// How long to wait before retrying, if the answer is a rate limit.
pub fn rate_limit_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(secs) = header("retry-after").and_then(|s| s.trim().parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs).min(MAX_WAIT));
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let reset = header("x-ratelimit-reset").and_then(|s| s.trim().parse::<u64>().ok())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        return Some(Duration::from_secs(reset.saturating_sub(now)).min(MAX_WAIT));
    }
    // A 429 without headers: a short back-off.
    (status == StatusCode::TOO_MANY_REQUESTS).then(|| Duration::from_secs(1))
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

    #[test]
    fn rate_limit_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &h), None);
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h),
            Some(Duration::from_secs(2))
        );
        h.insert("retry-after", "99999".parse().unwrap());
        assert_eq!(
            rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &h),
            Some(MAX_WAIT)
        );
    }
}
