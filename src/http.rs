//! The one HTTP boundary. Every request shiplint sends — GitHub's REST and
//! GraphQL APIs, the review's chat-completions endpoint, schema downloads —
//! goes through a [`Client`] made here:
//!
//! - one stack: blocking `ureq` with rustls, no async runtime;
//! - no redirect is followed: a redirect would carry the caller's credential
//!   header (and the body) to wherever the server points; a 3xx is an answer
//!   like any other, and callers treat it as an error;
//! - every body is read with a size cap (a hostile server cannot fill memory);
//! - one retry policy: rate limits (429, GitHub's 403 with rate-limit
//!   headers) are retried after the wait the server names, when that wait is
//!   within the policy's bound; 5xx, timeouts and I/O errors are retried with
//!   exponential backoff only for requests safe to repeat.
//!
//! A client is made per host, by the code that owns that host's credential;
//! nothing here adds a credential. So a GitHub token never travels to the LLM
//! host, and an API key never reaches GitHub.

use std::time::Duration;
pub use ureq::http::{HeaderMap, Method, StatusCode, Uri};

/// When and how long to retry.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first backoff; doubles per retry (a server-named wait wins).
    pub backoff: Duration,
    /// The longest wait honoured; a server asking for more gets no retry.
    pub max_wait: Duration,
    /// Whether POST/PATCH may be repeated after a 5xx, a timeout or an I/O
    /// error (true for a chat completion, false for posting a comment: a
    /// 502 may come after the comment was made).
    pub repeat_writes: bool,
}

/// What one exchange gave: any HTTP status is an answer, not an error.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The request did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Transport(String),
}

/// One request: method, absolute URL, headers, optional body.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<&'a [u8]>,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, url: &'a str) -> Self {
        Request {
            method,
            url,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = Some(body);
        self
    }
}

pub struct Client {
    agent: ureq::Agent,
    timeout: Duration,
    policy: Policy,
    body_limit: u64,
    sent: std::sync::atomic::AtomicUsize,
}

impl Client {
    /// A client for one host: `timeout` per request, answers longer than
    /// `body_limit` bytes are an error.
    pub fn new(timeout: Duration, policy: Policy, body_limit: u64) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("shiplint/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            timeout,
            policy,
            body_limit,
            sent: Default::default(),
        }
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests_sent(&self) -> usize {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// One exchange, no retry.
    pub fn once(&self, req: &Request) -> Result<Response, Error> {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut builder = ureq::http::Request::builder()
            .method(req.method.clone())
            .uri(req.url);
        for (name, value) in &req.headers {
            builder = builder.header(*name, value.as_str());
        }
        let invalid = |e: ureq::http::Error| Error::Transport(format!("invalid request: {e}"));
        let sent = match req.body {
            Some(body) => self.agent.run(builder.body(body).map_err(invalid)?),
            None => self.agent.run(builder.body(()).map_err(invalid)?),
        };
        let mut resp = sent.map_err(|e| self.error(e))?;
        let body = resp
            .body_mut()
            .with_config()
            .limit(self.body_limit)
            .read_to_vec()
            .map_err(|e| self.error(e))?;
        let (parts, _) = resp.into_parts();
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    fn error(&self, e: ureq::Error) -> Error {
        match e {
            ureq::Error::Timeout(_) => Error::Timeout(self.timeout),
            other => Error::Transport(other.to_string()),
        }
    }

    /// The request under the policy; `on_wait` hears of each wait (for a
    /// progress line). The last answer or error is returned as it is.
    pub fn send(&self, req: &Request, on_wait: &dyn Fn(Duration, u32)) -> Result<Response, Error> {
        let safe = !matches!(req.method, Method::POST | Method::PATCH) || self.policy.repeat_writes;
        let mut attempt = 0u32;
        loop {
            let result = self.once(req);
            if attempt >= self.policy.retries {
                return result;
            }
            let backoff = self.policy.backoff * 2u32.saturating_pow(attempt);
            let wait = match &result {
                Ok(r) => match rate_limit_wait(r.status, &r.headers) {
                    Some(w) => Some(w),
                    None if r.status.is_server_error() && safe => {
                        Some(retry_after(r.header("retry-after")).unwrap_or(backoff))
                    }
                    None => None,
                },
                Err(_) if safe => Some(backoff),
                Err(_) => None,
            };
            match wait {
                Some(w) if w <= self.policy.max_wait => {
                    attempt += 1;
                    on_wait(w, attempt);
                    std::thread::sleep(w);
                }
                _ => return result,
            }
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is treated as absent).
pub fn retry_after(v: Option<&str>) -> Option<Duration> {
    v?.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0 && *x < 1e9)
        .map(Duration::from_secs_f64)
}

/// How long a rate-limited answer asks to wait: 429, or GitHub's 403 with
/// `Retry-After` or `x-ratelimit-remaining: 0` (then until
/// `x-ratelimit-reset`). None when the answer is not a rate limit.
pub fn rate_limit_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(wait) = retry_after(header("retry-after")) {
        return Some(wait);
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let reset = header("x-ratelimit-reset").and_then(|s| s.trim().parse::<u64>().ok())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        return Some(Duration::from_secs(reset.saturating_sub(now)));
    }
    // A 429 without headers: a short back-off.
    (status == StatusCode::TOO_MANY_REQUESTS).then(|| Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_come_from_the_answer() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &h), None);
        assert_eq!(
            rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &h),
            Some(Duration::from_secs(1))
        );
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h),
            Some(Duration::from_secs(2))
        );
        assert_eq!(rate_limit_wait(StatusCode::NOT_FOUND, &h), None);
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after(Some("-1")), None);
        assert_eq!(retry_after(Some("1e300")), None);
    }
}
