//! The `review` pack: an LLM review of a PR's diff with a 1–5 risk score.
//!
//! diff (git2) → filter → redact secrets → chunk under a token budget →
//! chat completions with a strict JSON schema (cached, retried, bounded) →
//! validate → sanitize → anchor on the diff → findings + PR risk.
//! It runs only when asked (`shiplint review`, or `--packs …,review`).

pub mod anchor;
pub mod answer;
pub mod cache;
pub mod chunk;
pub mod client;
pub mod diff;
pub mod options;
pub mod prompt;
pub mod redact;
pub mod sanitize;

use crate::finding::{Finding, Severity, Snippet};
use crate::packs::{Context, Finished, Pack, Rule};
use crate::source::Span;
use answer::{Answer, ReviewComment};
use anyhow::{bail, Result};
use cache::AnswerCache;
use chunk::ReviewChunk;
use client::{ChatClient, ClientConfig, Usage};
pub use options::ReviewOptions;
use redact::PackSecrets;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Where the endpoint is and how to authenticate, from flags and environment.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    pub base_url: Option<String>,
    pub api_key: Option<String>,
}

impl Endpoint {
    /// `SHIPLINT_LLM_API_KEY`, else `OPENAI_API_KEY`; `OPENAI_BASE_URL`
    /// when no base URL is configured.
    pub fn from_env(base_url: Option<String>) -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Endpoint {
            base_url: base_url.or_else(|| env("OPENAI_BASE_URL")),
            api_key: env("SHIPLINT_LLM_API_KEY").or_else(|| env("OPENAI_API_KEY")),
        }
    }
}

/// What a review run produced.
#[derive(Debug, Default)]
pub struct ReviewReport {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
    /// `prRisk`, `reviewFiles`, `reviewSummary`, `reviewUsage`.
    pub properties: Map<String, Value>,
    pub files_reviewed: usize,
}

impl ReviewReport {
    pub fn pr_risk(&self) -> Option<u8> {
        self.properties
            .get("prRisk")
            .and_then(Value::as_u64)
            .map(|v| v as u8)
    }
}

pub static RISK: Rule = Rule::new(
            "review/risk",
            Severity::Warning,
            "An LLM reviewer's comment on a changed line, with a 1–5 risk score",
            "The `review` pack sends the PR's diff (secrets redacted) to an OpenAI-compatible model, which comments on changed lines and scores each file from 1 (safe to merge) to 5 (likely to break something or unsafe). Level follows the comment's risk: 4–5 error, 3 warning, 1–2 note. Properties carry `riskScore` and `confidence`; the PR risk (the highest file risk) is in the run's `prRisk` property. Check the comment; the model can be wrong.",
        )
        .tags(&["review", "llm"])
        .precision("low");

pub static SECRET_IN_DIFF: Rule = Rule::new(
            "review/secret-in-diff",
            Severity::Error,
            "The diff adds a plain-text secret (risk 5)",
            "A built-in detector found a secret (access key, token, private key or high-entropy password assignment) on an added line. It was replaced by `«redacted:<rule>»` before anything was sent to the model, and the file's risk is 5 by rule. Remove the secret, rotate it, and load it from a secret store instead.",
        )
        .tags(&["review", "secrets"])
        .security(9.0);

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![&RISK, &SECRET_IN_DIFF]
}

/// The pack as registered: off unless selected. In `scan --packs …,review`
/// it reviews the current repository when `review.diff-base` is configured.
pub struct ReviewPack {
    /// `review:` of the config, typed when the pack is built (and checked
    /// when the config loaded); an error is the run's note, as before.
    options: std::result::Result<ReviewOptions, String>,
}

impl ReviewPack {
    pub fn new(settings: &crate::settings::Settings) -> Result<Self> {
        Ok(ReviewPack {
            options: ReviewOptions::from_config(settings.options("review"))
                .map_err(|e| format!("{e:#}")),
        })
    }
}

impl Pack for ReviewPack {
    fn name(&self) -> &'static str {
        "review"
    }

    /// Reviews the diff once every file is read; its notes and `prRisk`
    /// are returned with the findings, not kept in the pack.
    fn finish(&self, ctx: &Context) -> Finished {
        let options = self.options.clone().map_err(|e| anyhow::anyhow!("{e}"));
        let result = options.and_then(|opts| {
            if opts.diff_base.is_none() {
                bail!("review skipped: no diff base (use --diff-base REV or review.diff-base in the config)");
            }
            let endpoint = Endpoint::from_env(opts.base_url.clone());
            run_review(Path::new("."), &opts, &endpoint, Some(ctx.settings.cache_dir.clone()))
        });
        match result {
            Ok(r) => Finished {
                findings: r.findings,
                notes: r.notes,
                properties: r.properties,
            },
            Err(e) => Finished {
                notes: vec![format!("{e:#}")],
                ..Finished::default()
            },
        }
    }
}

/// One chunk's outcome.
enum ChunkResult {
    Answer {
        answer: Answer,
        usage: Usage,
        cached: bool,
    },
    Failed(String),
}

struct Reviewer<'a> {
    client: ChatClient,
    cache: AnswerCache,
    /// The system prompt after the final guard.
    system: String,
    prompt_hash: String,
    model: &'a str,
    base_url: String,
}

impl Reviewer<'_> {
    fn review_chunk(&self, chunk: &ReviewChunk) -> ChunkResult {
        let key = AnswerCache::key(&self.base_url, self.model, &self.prompt_hash, &chunk.hash());
        if let Some((content, usage)) = self.cache.get(&key) {
            if let Ok(answer) = answer::validate(&content) {
                return ChunkResult::Answer {
                    answer,
                    usage,
                    cached: true,
                };
            }
        }
        // The exact text that is sent passes the secrets engine once more.
        let body = self.client.body(
            &self.system,
            &prompt::guard(&prompt::user_prompt(chunk)),
            &prompt::response_format(),
        );
        let mut usage = Usage::default();
        let mut last_error = String::new();
        // A malformed answer is asked for once more, then reported.
        for _ in 0..2 {
            match self.client.complete(&body) {
                Ok(c) => {
                    usage.add(&c.usage);
                    match answer::validate(&c.content) {
                        Ok(answer) => {
                            self.cache.put(&key, &c.content, &c.usage);
                            return ChunkResult::Answer {
                                answer,
                                usage,
                                cached: false,
                            };
                        }
                        Err(e) => last_error = format!("the model's answer {e}"),
                    }
                }
                Err(e) => return ChunkResult::Failed(e.to_string()),
            }
        }
        ChunkResult::Failed(format!("{last_error} (after one retry)"))
    }
}

/// Reviews the diff of `repo_dir`. Errors only for problems the user must
/// fix (no repository, unknown revision, bad options); endpoint failures
/// become notes.
pub fn run_review(
    repo_dir: &Path,
    opts: &ReviewOptions,
    endpoint: &Endpoint,
    cache_dir: Option<PathBuf>,
) -> Result<ReviewReport> {
    let mut report = ReviewReport::default();
    if endpoint.base_url.is_none() && endpoint.api_key.is_none() {
        report.notes.push("review skipped: no LLM endpoint configured (set SHIPLINT_LLM_API_KEY or OPENAI_API_KEY, or --llm-base-url for a local server)".into());
        return Ok(report);
    }
    let Some(base) = opts.diff_base.as_deref() else {
        bail!("the review needs a diff base: --diff-base REV (e.g. origin/main)");
    };
    let diff::DiffResult {
        mut files,
        skipped,
        base_file,
        ..
    } = diff::read_diff(
        repo_dir,
        &diff::DiffSpec {
            base,
            head: opts.head.as_deref(),
            context_lines: opts.context_lines,
            max_file_bytes: opts.max_file_bytes,
            exclude: &opts.exclude,
            base_file: prompt::PROMPT_OVERRIDE,
        },
    )?;
    let prompt = prompt::Prompt::new(base_file);
    if files.iter().any(|f| f.path == prompt::PROMPT_OVERRIDE) {
        report.notes.push(format!(
            "review: this change edits {}; the review used the version from the merge base",
            prompt::PROMPT_OVERRIDE
        ));
    }
    let secrets = redact::redact_files(&mut files, &PackSecrets);
    let mut chunks = chunk::chunk_files(&files, opts.chunk_tokens);
    if chunks.is_empty() {
        report.notes.push(format!(
            "review: no reviewable changes against the merge base with '{base}' ({} files skipped)",
            skipped.files.len()
        ));
    }
    if chunks.len() > opts.max_chunks {
        let mut left: Vec<String> = chunks[opts.max_chunks..]
            .iter()
            .map(|c| c.path.clone())
            .collect();
        left.dedup();
        report.notes.push(format!(
            "review: only {} of {} chunks reviewed (--review-max-chunks); not reviewed: {}",
            opts.max_chunks,
            chunks.len(),
            left.join(", ")
        ));
        chunks.truncate(opts.max_chunks);
    }
    let base_url = endpoint
        .base_url
        .clone()
        .unwrap_or_else(|| DEFAULT_BASE_URL.into());
    let reviewer = Reviewer {
        client: ChatClient::new(ClientConfig {
            base_url: base_url.clone(),
            api_key: endpoint.api_key.clone(),
            model: opts.model.clone(),
            timeout: Duration::from_secs_f64(opts.timeout_secs.max(0.05)),
            retries: opts.retries,
            backoff: Duration::from_millis(opts.retry_base_ms),
            max_retry_after: Duration::from_secs_f64(opts.max_retry_after_secs.max(0.0)),
        }),
        cache: AnswerCache::new(cache_dir.filter(|_| opts.cache)),
        system: prompt::guard(&prompt.system),
        prompt_hash: prompt.hash(),
        model: &opts.model,
        base_url,
    };
    let results: Vec<Mutex<Option<ChunkResult>>> =
        chunks.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = opts.concurrency.clamp(1, 16).min(chunks.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(c) = chunks.get(i) else { break };
                let r = reviewer.review_chunk(c);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });

    let san = sanitize::Sanitizer::new(&opts.allowed_link_hosts, &prompt.system);
    let mut file_risk: BTreeMap<String, (u8, String, &'static str)> = BTreeMap::new();
    let mut comments: BTreeMap<String, Vec<ReviewComment>> = BTreeMap::new();
    let mut usage = Usage::default();
    let mut cached = 0;
    let mut failed = 0;
    for (chunk, slot) in chunks.iter().zip(results) {
        let result = slot.into_inner().ok().flatten();
        match result {
            Some(ChunkResult::Answer {
                answer,
                usage: u,
                cached: was_cached,
            }) => {
                if was_cached {
                    cached += 1;
                } else {
                    usage.add(&u);
                }
                // A reviewed file the answer leaves out had nothing to say: risk 1.
                file_risk
                    .entry(chunk.path.clone())
                    .or_insert((1, String::new(), "model"));
                for fa in &answer.files {
                    if !answer::same_file(&fa.file_name, &chunk.path)
                        && !answer::same_file(&fa.file_name, &chunk.shown_path)
                    {
                        report.notes.push(format!(
                            "review: dropped the model's comments on '{}', which is not in the chunk of {}",
                            san.clean(&fa.file_name, 80),
                            chunk.path
                        ));
                        continue;
                    }
                    let e =
                        file_risk
                            .entry(chunk.path.clone())
                            .or_insert((1, String::new(), "model"));
                    if fa.risk_score.clamp(1, 5) >= e.0 {
                        e.0 = fa.risk_score.clamp(1, 5);
                        e.1 = san.clean(&fa.summary, 300);
                    }
                    for c in &fa.comments {
                        // The PR risk is the highest risk of any file or
                        // comment: ten risk-4 comments are not a risk-1 PR.
                        let cr = c.risk_score.clamp(1, 5);
                        if cr > e.0 {
                            e.0 = cr;
                            if e.1.is_empty() {
                                e.1 = san.clean(&c.title, 120).replace('\n', " ");
                            }
                        }
                        let rc = answer::prepare_comment(
                            c,
                            &chunk.path,
                            &chunk.hunks,
                            &san,
                            opts.max_comment_chars,
                        );
                        comments.entry(chunk.path.clone()).or_default().push(rc);
                    }
                }
            }
            Some(ChunkResult::Failed(why)) => {
                failed += 1;
                report.notes.push(format!(
                    "review: {} (lines {}) was not reviewed: {why}",
                    chunk.path,
                    chunk_lines(chunk)
                ))
            }
            None => {}
        }
    }

    // Secrets: risk 5 by rule, whatever the model said.
    for (path, lines) in &secrets {
        let e = file_risk
            .entry(path.clone())
            .or_insert((5, String::new(), "secret-rule"));
        *e = (5, "adds a plain-text secret".into(), "secret-rule");
        let p: Arc<str> = Arc::from(path.as_str());
        for (line, text, rules) in lines {
            let mut f = Finding::from_rule(
                &SECRET_IN_DIFF,
                &p,
                Span::line(*line),
                format!(
                    "plain-text secret added ({}); redacted before review, risk 5",
                    rules.join(", ")
                ),
            )
            .with_key(format!("secret:{}", rules.join(",")))
            .with_property("riskScore", 5)
            .with_property("confidence", 5);
            f.snippet = Some(Snippet {
                line: *line,
                text: text.clone(),
            });
            report.findings.push(f);
        }
    }

    let mut below = Vec::new();
    for (_, mut list) in comments {
        list.sort_by(|a, b| {
            (b.risk_score, b.confidence, a.line).cmp(&(a.risk_score, a.confidence, b.line))
        });
        let mut inline = 0;
        for c in list {
            let passes = c.risk_score >= opts.min_risk && c.confidence >= opts.min_confidence;
            if passes && inline < opts.max_comments_per_file {
                inline += 1;
                report.findings.push(answer::to_finding(&c));
            } else {
                below.push(c);
            }
        }
    }

    report.files_reviewed = file_risk.len();
    if let Some(max) = file_risk.values().map(|v| v.0).max() {
        report.properties.insert("prRisk".into(), max.into());
    }
    report.properties.insert(
        "reviewFiles".into(),
        file_risk
            .iter()
            .map(|(p, (r, s, src))| json!({"path": p, "riskScore": r, "summary": s, "source": src}))
            .collect::<Vec<_>>()
            .into(),
    );
    report
        .properties
        .insert("reviewSummary".into(), serde_json::to_value(&below)?);
    report.properties.insert(
        "reviewUsage".into(),
        json!({
            "model": opts.model,
            "prompt": prompt.source,
            "chunks": chunks.len(),
            "cachedChunks": cached,
            "requests": reviewer.client.requests_sent(),
            "failedChunks": failed,
            "promptTokens": usage.prompt_tokens,
            "completionTokens": usage.completion_tokens,
            "skippedFiles": skipped.files.iter().map(|(p, r)| json!({"path": p, "reason": r})).collect::<Vec<_>>(),
        }),
    );
    Ok(report)
}

fn chunk_lines(c: &ReviewChunk) -> String {
    let first = c.hunks.first().and_then(|h| h.new_range()).map(|r| r.0);
    let last = c.hunks.last().and_then(|h| h.new_range()).map(|r| r.1);
    match (first, last) {
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => "?".into(),
    }
}
