//! Exemptions a team owns (`exemptions:` in `.shiplint.yaml`): a risk
//! accepted for one resource or container, with a reason and, optionally,
//! an expiry. An exempted finding leaves `findings` and is listed apart
//! (JSON `exempted`, SARIF `suppressions`); an expired exemption silences
//! nothing and is itself a finding on its config line.

use crate::finding::Finding;
use crate::source::Span;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use crate::config_rules::EXEMPTION_EXPIRED as EXPIRED;

/// One entry of `exemptions:`. Selectors are globs (`*`, `?`, `[…]`); an
/// absent selector matches anything.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    /// Rule ids, or `pack/*`.
    pub rules: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`: the last day it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Its line in the config file (set when the config loads).
    #[serde(skip_deserializing)]
    pub line: usize,
}

/// A finding an exemption silenced, and which one.
#[derive(Debug, Clone, Serialize)]
pub struct Exempted {
    #[serde(flatten)]
    pub finding: Finding,
    pub exemption: Exemption,
}

/// Checks an entry when the config loads: a reason, known rules, valid
/// globs and date. Errors say what is wrong, never a value.
pub fn check(e: &Exemption, known_rule: &dyn Fn(&str) -> bool) -> Result<()> {
    if e.reason.trim().is_empty() {
        bail!("an exemption needs a reason");
    }
    if e.rules.is_empty() {
        bail!("an exemption needs rules: [rule-id, …]");
    }
    if e.rules.iter().any(|r| !known_rule(r)) {
        bail!("an exemption names an unknown rule id (see `shiplint rules`)");
    }
    for g in [&e.kind, &e.name, &e.namespace, &e.container]
        .into_iter()
        .flatten()
    {
        if globset::Glob::new(g).is_err() {
            bail!("an exemption selector is not a valid glob");
        }
    }
    if let Some(d) = &e.expires {
        if parse_date(d).is_none() {
            bail!("expires must be a date YYYY-MM-DD");
        }
    }
    Ok(())
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || s.trim().len() != 10 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146097 + doe - 719468)
}

fn today() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_secs() / 86_400) as i64)
        .unwrap_or(0)
}

/// An exemption with its selectors compiled once for the run.
struct Matcher<'a> {
    exemption: &'a Exemption,
    /// kind, name, namespace, container: `None` when not given (matches
    /// anything), `Some(None)` for a glob that does not compile (checked
    /// when the config loaded; it matches nothing).
    globs: [Option<Option<globset::GlobMatcher>>; 4],
}

impl<'a> Matcher<'a> {
    fn new(e: &'a Exemption) -> Self {
        let glob = |p: &Option<String>| {
            p.as_ref()
                .map(|p| globset::Glob::new(p).ok().map(|g| g.compile_matcher()))
        };
        Matcher {
            exemption: e,
            globs: [
                glob(&e.kind),
                glob(&e.name),
                glob(&e.namespace),
                glob(&e.container),
            ],
        }
    }

    fn covers(&self, f: &Finding) -> bool {
        let rule_ok = self.exemption.rules.iter().any(|r| {
            f.answers_to(r)
                || r.strip_suffix("/*")
                    .is_some_and(|p| f.rule.split('/').next() == Some(p))
        });
        if !rule_ok {
            return false;
        }
        let res = f.resource.as_deref();
        let values = [
            res.map(|r| r.kind.as_str()),
            res.and_then(|r| r.name.as_deref()),
            res.and_then(|r| r.namespace.as_deref()),
            f.container.as_deref(),
        ];
        self.globs.iter().zip(values).all(|(g, v)| match g {
            None => true,
            Some(g) => v.is_some_and(|v| g.as_ref().is_some_and(|g| g.is_match(v))),
        })
    }
}

/// Splits findings into those kept and those a live exemption silences;
/// returns the expired entries too (they silence nothing).
pub fn partition(
    findings: Vec<Finding>,
    exemptions: &[Exemption],
) -> (Vec<Finding>, Vec<Exempted>, Vec<&Exemption>) {
    let now = today();
    let (live, expired): (Vec<&Exemption>, Vec<&Exemption>) = exemptions.iter().partition(|e| {
        e.expires
            .as_deref()
            .and_then(parse_date)
            .is_none_or(|d| d >= now)
    });
    let live: Vec<Matcher> = live.into_iter().map(Matcher::new).collect();
    let mut kept = Vec::with_capacity(findings.len());
    let mut exempted = Vec::new();
    for f in findings {
        match live.iter().find(|m| m.covers(&f)).map(|m| m.exemption) {
            Some(e) => exempted.push(Exempted {
                finding: f,
                exemption: (*e).clone(),
            }),
            None => kept.push(f),
        }
    }
    (kept, exempted, expired)
}

/// The finding for an expired entry, on its line of the config file.
pub fn expired_finding(e: &Exemption, config_path: &Arc<str>) -> Finding {
    Finding::from_rule(
        &EXPIRED,
        config_path,
        Span::line(e.line.max(1)),
        format!(
            "the exemption for {} expired on {}: it no longer silences those findings (reason given: {})",
            e.rules.join(", "),
            e.expires.as_deref().unwrap_or(""),
            e.reason.chars().take(120).collect::<String>()
        ),
    )
    .with_key(format!("exemption:{}:{}", e.rules.join(","), e.line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11017));
        assert_eq!(parse_date("2024-02-29"), Some(19782));
        assert_eq!(parse_date("2024-2-29"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert!(today() > parse_date("2026-01-01").unwrap());
    }
}
