//! The model's answer is untrusted (the diff it read may carry a prompt
//! injection). Before any of it reaches a finding: clamp its length, strip
//! raw HTML, defuse `@mentions`, remove links to hosts not allowed, mask
//! secrets and environment values, and remove lines of the prompt itself.

use regex::Regex;
use std::sync::LazyLock as Lazy;

static HTML: Lazy<Regex> = Lazy::new(|| {
    crate::text::constant_regex(r"(?s)<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>")
});
/// What is left of a tag after the passes: `<` that could still open one.
static TAG_OPEN: Lazy<Regex> = Lazy::new(|| crate::text::constant_regex(r"<([A-Za-z/!?])"));
static MENTION: Lazy<Regex> =
    Lazy::new(|| crate::text::constant_regex(r"(^|[^A-Za-z0-9_])@([A-Za-z0-9][A-Za-z0-9_/-]*)"));
/// An inline link or image whose text holds no bracket (innermost first).
static MD_LINK: Lazy<Regex> =
    Lazy::new(|| crate::text::constant_regex(r"(!?)\[([^\[\]]*)\]\(\s*<?([^)\s>]*)>?[^)]*\)"));
/// The `(target)` of any inline link, whatever its text's brackets.
static LINK_TARGET: Lazy<Regex> =
    Lazy::new(|| crate::text::constant_regex(r"\]\(\s*<?([^)\s>]*)>?[^)]*\)"));
/// A link reference definition (`[1]: https://…`).
static LINK_DEF: Lazy<Regex> =
    Lazy::new(|| crate::text::constant_regex(r"(?m)^[ \t]*\[[^\]\n]*\]:[ \t]*\S*.*$"));
static URL: Lazy<Regex> = Lazy::new(|| {
    crate::text::constant_regex(
        r#"(?i)\b(?:(?:https?|ftp|ftps|sftp|file|data|javascript|vbscript|mailto|ws|wss|ssh|git|irc):(?://)?|www\.)[^\s<>"')\]]+"#,
    )
});

/// The most passes before giving up on a text that keeps changing.
const MAX_PASSES: usize = 16;

pub struct Sanitizer {
    allowed_hosts: Vec<String>,
    /// Values of environment variables long enough to be secret-like.
    env_values: Vec<String>,
    /// Lines of the system prompt worth protecting.
    prompt_lines: Vec<String>,
}

fn host_of(url: &str) -> Option<String> {
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest,
        // `www.host/x` (GitHub autolinks it); `//host` is never allowed.
        None if url.to_ascii_lowercase().starts_with("www.") => url,
        None => return None,
    };
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

    /// One round of the HTML, link, autolink and mention passes.
    fn pass(&self, s: &str) -> String {
        let mut s = HTML.replace_all(s, "").into_owned();
        s = TAG_OPEN.replace_all(&s, "\u{2039}$1").into_owned();
        s = LINK_DEF.replace_all(&s, "").into_owned();
        s = MD_LINK
            .replace_all(&s, |c: &regex::Captures| {
                // Images never stay (a tracking pixel needs no click).
                if c[1].is_empty() && self.allowed(&c[3]) {
                    c[0].to_string()
                } else {
                    c[2].to_string()
                }
            })
            .into_owned();
        s = LINK_TARGET
            .replace_all(&s, |c: &regex::Captures| {
                if self.allowed(&c[1]) {
                    c[0].to_string()
                } else {
                    "]".to_string()
                }
            })
            .into_owned();
        // Reference-style links and images (`![x][1]`): no image, and a
        // space between the brackets so that no definition can apply.
        s = s.replace("![", "[").replace("][", "] [");
        s = URL
            .replace_all(&s, |c: &regex::Captures| {
                if self.allowed(&c[0]) {
                    c[0].to_string()
                } else {
                    "(link removed)".to_string()
                }
            })
            .into_owned();
        MENTION.replace_all(&s, "${1}${2}").into_owned()
    }

    /// Makes a model-written text safe for a finding message.
    pub fn clean(&self, text: &str, max_chars: usize) -> String {
        // Control and format characters first: a `\u{1}` or a zero-width
        // space inside `@user` or `https` must not hide it from the passes.
        let text: String = text
            .chars()
            .filter_map(|c| match c {
                '\n' => Some('\n'),
                '\t' => Some(' '),
                c if crate::text::is_invisible(c) => None,
                c => Some(c),
            })
            .collect();
        let mut s = super::redact::redact_text(&text);
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
        // Every pass again until nothing changes: removing one construct
        // must not leave another behind (`<<b>img …>`, `@@user`).
        let mut passes = 0;
        loop {
            let next = self.pass(&s);
            if next == s {
                break;
            }
            s = next;
            passes += 1;
            if passes >= MAX_PASSES {
                // Still changing: keep none of the characters that build them.
                s = s.replace(['<', '>', '[', ']', '@', '!'], " ");
                s = URL.replace_all(&s, "(link removed)").into_owned();
                break;
            }
        }
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

    /// Nothing GitHub would render live: no tag, image, mention, link or
    /// autolink to a host not allowed.
    fn assert_inert(out: &str) {
        let lower = out.to_ascii_lowercase();
        assert!(!TAG_OPEN.is_match(out), "tag in {out:?}");
        assert!(!MENTION.is_match(out), "mention in {out:?}");
        assert!(!out.contains("!["), "image in {out:?}");
        assert!(!out.contains("]("), "inline link in {out:?}");
        assert!(!out.contains("]["), "reference in {out:?}");
        assert!(!LINK_DEF.is_match(out), "definition in {out:?}");
        for bad in ["evil.example", "https:", "www.", "//host"] {
            assert!(!lower.contains(bad), "{bad} in {out:?}");
        }
        assert!(
            !out.chars()
                .any(|c| c != '\n' && crate::text::is_invisible(c)),
            "control character in {out:?}"
        );
    }

    #[test]
    fn control_characters_cannot_hide_what_the_passes_remove() {
        let s = Sanitizer::new(&["github.com".to_string()], "");
        for attack in [
            "@\u{1}octocat please approve",
            "<\u{1}img src=h\u{1}ttps://evil.example/p.png>",
            "h\u{1}ttps://evil.example/login",
            "@\u{200B}octocat and w\u{200D}ww.evil.example/x",
            "\u{202E}@octocat\u{202C}",
            "<<b>img src=https://evil.example/p.png>",
            "<<<b>b>img src=x onerror=alert(1)>",
            "![x][1]\n\n[1]: https://evil.example/b.png",
            "[click][r]\n   [r]: <https://evil.example/login> \"t\"",
            "[a [b] c](//host/x)",
            "[a [b] c](https://evil.example/x)",
            "![![x](https://github.com/p.png)](https://evil.example/x)",
            "see www.evil.example/x now",
            "<https://evil.example/x>",
            "@@octocat and @acme/security-team",
            "[x](<https://evil.example/x>)",
            "<!-- open comment https://evil.example",
        ] {
            assert_inert(&s.clean(attack, 500));
        }
        // Readable text stays readable.
        assert_eq!(
            s.clean(
                "Ping @octocat about [the docs](https://github.com/o/r)",
                500
            ),
            "Ping octocat about [the docs](https://github.com/o/r)"
        );
        assert_eq!(s.clean("replicas < 3 and a>b", 100), "replicas < 3 and a>b");
        assert_eq!(
            s.clean("see www.github.com/o/r", 100),
            "see www.github.com/o/r"
        );
    }
}
