//! The model's answer is untrusted (the diff it read may carry a prompt
//! injection). Before any of it reaches a finding: clamp its length, strip
//! raw HTML, defuse `@mentions`, remove links to hosts not allowed, mask
//! secrets and environment values, and remove lines of the prompt itself.

use once_cell::sync::Lazy;
use regex::Regex;

static HTML: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?s)<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>").unwrap());
static MENTION: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(^|[^A-Za-z0-9_`/.])@([A-Za-z0-9][A-Za-z0-9_/-]*)").unwrap());
static MD_LINK: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"!?\[([^\]]*)\]\(([^)\s]*)[^)]*\)").unwrap());
static URL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r#"(?i)\b(?:https?|ftp|file|data|javascript):(?://)?[^\s<>"')\]]+"#).unwrap()
});

pub struct Sanitizer {
    allowed_hosts: Vec<String>,
    /// Values of environment variables long enough to be secret-like.
    env_values: Vec<String>,
    /// Lines of the system prompt worth protecting.
    prompt_lines: Vec<String>,
}

fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    Some(host.split(':').next()?.to_ascii_lowercase())
}

impl Sanitizer {
    pub fn new(allowed_hosts: &[String], system_prompt: &str) -> Self {
        // Only variables whose names say they hold credentials: masking every
        // value would also eat words such as `pull_request` (GITHUB_EVENT_NAME).
        let secret_name = |k: &str| {
            let k = k.to_ascii_uppercase();
            [
                "KEY",
                "TOKEN",
                "SECRET",
                "PASSWORD",
                "PASSWD",
                "CREDENTIAL",
                "AUTH",
            ]
            .iter()
            .any(|w| k.contains(w))
        };
        let mut env_values: Vec<String> = std::env::vars()
            .filter(|(k, v)| secret_name(k) && v.trim().len() >= 4)
            .map(|(_, v)| v)
            .collect();
        env_values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Sanitizer {
            allowed_hosts: allowed_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            env_values,
            prompt_lines: system_prompt
                .lines()
                .map(str::trim)
                .filter(|l| l.len() >= 40)
                .map(String::from)
                .collect(),
        }
    }

    fn allowed(&self, url: &str) -> bool {
        host_of(url).is_some_and(|h| {
            self.allowed_hosts
                .iter()
                .any(|a| h == *a || h.ends_with(&format!(".{a}")))
        })
    }

    /// Makes a model-written text safe for a finding message.
    pub fn clean(&self, text: &str, max_chars: usize) -> String {
        let mut s = super::redact::redact_text(text);
        for v in &self.env_values {
            if s.contains(v.as_str()) {
                s = s.replace(v.as_str(), "«redacted:env»");
            }
        }
        for l in &self.prompt_lines {
            if s.contains(l.as_str()) {
                s = s.replace(l.as_str(), "[prompt text removed]");
            }
        }
        s = HTML.replace_all(&s, "").into_owned();
        s = MD_LINK
            .replace_all(&s, |c: &regex::Captures| {
                if self.allowed(&c[2]) {
                    c[0].to_string()
                } else {
                    c[1].to_string()
                }
            })
            .into_owned();
        s = URL
            .replace_all(&s, |c: &regex::Captures| {
                if self.allowed(&c[0]) {
                    c[0].to_string()
                } else {
                    "[link removed]".to_string()
                }
            })
            .into_owned();
        s = MENTION.replace_all(&s, "${1}${2}").into_owned();
        let s: String = s
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect();
        let s = s.trim();
        if s.chars().count() > max_chars {
            let cut: String = s.chars().take(max_chars.saturating_sub(1)).collect();
            format!("{}…", cut.trim_end())
        } else {
            s.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_html_mentions_foreign_links_and_clamps() {
        let s = Sanitizer::new(&["github.com".to_string()], "");
        let out = s.clean(
            "<img src=x onerror=alert(1)>Ping @octocat, see [docs](https://evil.example/x) and https://github.com/o/r <!-- hidden -->",
            500,
        );
        assert!(!out.contains('<'));
        assert!(!out.contains("@octocat"));
        assert!(out.contains("octocat"));
        assert!(!out.contains("evil.example"));
        assert!(out.contains("https://github.com/o/r"));
        assert_eq!(s.clean(&"a".repeat(50), 10).chars().count(), 10);
    }

    #[test]
    fn removes_prompt_lines_and_emails_stay_readable() {
        let prompt = "You are a reviewer and this line is long enough to protect.";
        let s = Sanitizer::new(&[], prompt);
        let out = s.clean(&format!("Leaked: {prompt}"), 500);
        assert!(!out.contains("You are a reviewer"));
        assert!(s
            .clean("mail ops@example.org", 100)
            .contains("ops@example.org"));
    }
}
