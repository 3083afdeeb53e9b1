//! The command line (clap derive).

use crate::finding::Severity;
use crate::github::{CommentFilter, GithubEnv};
use crate::report::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "shiplint",
    version,
    about = "CI-native linter for infrastructure repositories",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan files, folders or a stream on stdin (`-`).
    Scan(Box<ScanArgs>),
    /// LLM review of a PR's diff with a 1–5 risk score (the `review` pack alone).
    Review(Box<ReviewArgs>),
    /// Print what the charts under PATH render to (`helm template`, default
    /// and CI values) as a YAML stream with `# Source:` comments.
    Render(Box<ScanArgs>),
    /// List every rule: id, default severity, one line.
    Rules {
        /// Only this pack's rules.
        #[arg(long)]
        pack: Option<String>,
        /// Print as JSON.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print the rule reference as Markdown (docs/rules.md is made this way).
        #[arg(long)]
        markdown: bool,
    },
    /// Record the current findings as known (`create`), or add new ones to
    /// the file (`update`); `scan --baseline FILE` then reports only new ones.
    Baseline(Box<BaselineArgs>),
    /// Print a rule's full help.
    Explain {
        /// A rule id such as `schema/invalid`.
        rule: String,
    },
    /// Scan, then comment on the pull request: one sticky summary and one
    /// review with inline comments on changed lines.
    Comment(Box<CommentArgs>),
    /// Tidy up after a pull request was closed (run on `types: [closed]`).
    Cleanup(Box<CleanupArgs>),
    /// Apply the fixes shiplint knows to be mechanical and safe (apiVersion
    /// moves without field changes, imagePullPolicy, automountServiceAccountToken,
    /// equal duplicate keys). Dry run by default: prints a unified diff.
    Fix(Box<FixArgs>),
    /// Write `.git/hooks/pre-commit` running shiplint.
    InstallHook {
        /// Replace an existing hook.
        #[arg(long)]
        force: bool,
    },
}

/// Which findings become inline comments (reviewdog's filter modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum CommentFilterArg {
    /// Only lines the pull request added or changed.
    #[default]
    Added,
    /// Any line shown in the diff, context lines included.
    DiffContext,
    /// Any line of a changed file (outside the diff: a file-level comment).
    File,
    /// Everything; what cannot be anchored goes into the summary.
    Nofilter,
}

impl From<CommentFilterArg> for CommentFilter {
    fn from(a: CommentFilterArg) -> Self {
        match a {
            CommentFilterArg::Added => CommentFilter::Added,
            CommentFilterArg::DiffContext => CommentFilter::DiffContext,
            CommentFilterArg::File => CommentFilter::File,
            CommentFilterArg::Nofilter => CommentFilter::Nofilter,
        }
    }
}

/// The GitHub Actions environment; each flag overrides its variable.
#[derive(Args, Debug, Clone, Default)]
pub struct GithubArgs {
    /// REST API base (GHES: https://HOST/api/v3).
    #[arg(long, env = "GITHUB_API_URL", hide_env_values = true)]
    pub api_url: Option<String>,
    /// GraphQL endpoint (GHES: https://HOST/api/graphql).
    #[arg(long, env = "GITHUB_GRAPHQL_URL", hide_env_values = true)]
    pub graphql_url: Option<String>,
    /// Web base for links.
    #[arg(long, env = "GITHUB_SERVER_URL", hide_env_values = true)]
    pub server_url: Option<String>,
    /// owner/name.
    #[arg(long = "repository", env = "GITHUB_REPOSITORY", hide_env_values = true)]
    pub repository: Option<String>,
    /// The event JSON (PR number, head SHA, `merged`).
    #[arg(long, env = "GITHUB_EVENT_PATH", hide_env_values = true)]
    pub event_path: Option<PathBuf>,
    /// API token (prefer the environment variable).
    #[arg(long = "github-token", env = "GITHUB_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Markdown job summary file to append to.
    #[arg(long, env = "GITHUB_STEP_SUMMARY", hide_env_values = true)]
    pub step_summary: Option<PathBuf>,
    /// Step outputs file.
    #[arg(long, env = "GITHUB_OUTPUT", hide_env_values = true)]
    pub github_output: Option<PathBuf>,
    /// Pull request number (default: from the event).
    #[arg(long)]
    pub pr: Option<u64>,
    /// Head commit of the pull request (default: from the event).
    #[arg(long)]
    pub head_sha: Option<String>,
    /// Login the tool comments as (default: the token's viewer, else github-actions[bot]).
    #[arg(long)]
    pub bot_login: Option<String>,
}

impl GithubArgs {
    /// The library's view of these flags (no clap types past the CLI).
    pub fn env(&self) -> GithubEnv {
        GithubEnv {
            api_url: self.api_url.clone(),
            graphql_url: self.graphql_url.clone(),
            server_url: self.server_url.clone(),
            repository: self.repository.clone(),
            event_path: self.event_path.clone(),
            token: self.token.clone(),
            step_summary: self.step_summary.clone(),
            github_output: self.github_output.clone(),
            pr: self.pr,
            head_sha: self.head_sha.clone(),
            bot_login: self.bot_login.clone(),
        }
    }
}

#[derive(Args, Debug)]
pub struct CommentArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Which findings become inline comments.
    #[arg(long, value_enum, default_value = "added")]
    pub comment_filter: CommentFilterArg,
    /// New inline comments per run, all reviews together (GitHub's abuse limits; at most 30).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=30))]
    pub max_comments: u16,
    /// Comment a JSON report (`scan --format json`) instead of scanning
    /// (second stage of the fork-safe workflow_run recipe).
    #[arg(long)]
    pub findings: Option<PathBuf>,
    /// Label the pull request `shiplint:findings` while findings are open.
    #[arg(long)]
    pub label: bool,
    /// Lowest level commented inline; findings below it stay in the summary.
    #[arg(long, value_enum, value_name = "LEVEL", default_value = "warning")]
    pub inline_level: LevelArg,
}

#[derive(Args, Debug)]
pub struct FixArgs {
    /// Scan options; the paths are the files and folders to fix.
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Write the fixed files (default: print the diff only).
    #[arg(long)]
    pub write: bool,
}

#[derive(Args, Debug)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub github: GithubArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files or folders to scan; `-` reads a manifest stream from stdin.
    #[arg(default_value = ".")]
    pub paths: Vec<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: FormatArg,

    /// Text: only the per-rule table and the totals, no findings.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Text: show findings at or above this level (the rest are counted).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub show_level: Option<LevelArg>,

    /// Write the report here instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// Packs to run, comma-separated (default: every offline pack).
    #[arg(long, value_delimiter = ',')]
    pub packs: Option<Vec<String>>,

    /// Kubernetes version to validate against (X.Y or X.Y.Z; default: the newest embedded).
    #[arg(long, visible_alias = "kube-version")]
    pub kubernetes_version: Option<String>,

    /// Kubernetes version to check deprecated and removed APIs against (X.Y; default: --kubernetes-version, else the newest embedded).
    #[arg(long)]
    pub target_version: Option<String>,

    /// Reject fields the schema does not define, and duplicate keys (default).
    #[arg(long, overrides_with = "no_strict")]
    pub strict: bool,

    /// Tolerate unknown fields and duplicate keys.
    #[arg(long, overrides_with = "strict")]
    pub no_strict: bool,

    /// Schema location: `default` (embedded), a local path or an https URL template (repeatable).
    #[arg(long = "schema-location")]
    pub schema_locations: Vec<String>,

    /// Do not report resources that have no schema.
    #[arg(long)]
    pub ignore_missing_schemas: bool,

    /// Kinds (or apiVersion/Kind) not to validate, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub skip_kinds: Vec<String>,

    /// Kinds (or apiVersion/Kind) that are an error wherever they appear, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub reject_kinds: Vec<String>,

    /// A folder of CRD manifests or CRDs-catalog JSON schemas ({group}/{kind}_{version}.json); repeatable.
    #[arg(long)]
    pub crd_dir: Vec<PathBuf>,

    /// Config file (default: .shiplint.yaml in the first scanned folder, else the current one).
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Ignore any .shiplint.yaml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Files larger than this many bytes are skipped with a note.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_file_size: u64,

    /// With `-`: the chart folder a `helm template` stream on stdin comes from; findings land on its templates and values (via `# Source:`).
    #[arg(long, value_name = "DIR")]
    pub chart_dir: Option<std::path::PathBuf>,

    /// Scan the targets of symbolic links met in walked folders (default: skip them with a note). Links that lead out of the scanned folder stay skipped.
    #[arg(long)]
    pub follow_symlinks: bool,

    /// Most YAML documents in one file; more is a syntax finding, the rest of the run goes on.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_documents: u64,

    /// Most nodes YAML alias expansion may add to one document (stops alias bombs).
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub max_alias_nodes: u64,

    /// Deepest nesting of YAML/JSON sequences and mappings (at most 1000).
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub max_depth: u64,

    /// Timeout in seconds for schema downloads.
    #[arg(long, default_value_t = 30)]
    pub http_timeout: u64,

    /// Also write a SARIF report here (any format; a step output with `--format github`); empty: none.
    #[arg(long, value_parser = any_path)]
    pub sarif_file: Option<PathBuf>,

    #[command(flatten)]
    pub github: GithubArgs,

    /// Scan the staged content of the git index (for pre-commit hooks).
    #[arg(long, conflicts_with_all = ["diff_base", "history"])]
    pub staged: bool,

    /// Scan git history: each finding once, at the commit that introduced it.
    #[arg(long)]
    pub history: bool,

    /// With --history: only commits after REV.
    #[arg(long, value_name = "REV", requires = "history")]
    pub since: Option<String>,

    /// Do not report findings whose fingerprint is in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Report only shard I of N (1-based): files are split by a stable hash
    /// of their path; every shard still reads all manifests for the
    /// cross-object checks, so N shards together report each finding once.
    #[arg(long, value_name = "I/N", conflicts_with = "history")]
    pub shard: Option<crate::shard::Shard>,

    #[command(flatten)]
    pub review: ReviewFlags,
}

/// A path that may be empty (the Action passes `sarif-file: ''` through
/// as "no SARIF"); clap's own path parser refuses empty values.
fn any_path(s: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(s))
}

impl ScanArgs {
    /// `--sarif-file`, unless empty.
    pub fn sarif_path(&self) -> Option<&std::path::Path> {
        self.sarif_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
    }
}

/// Flags of the `review` pack, shared by `scan --packs …,review` and `review`.
#[derive(Args, Debug, Clone, Default)]
pub struct ReviewFlags {
    /// The pull request's base: `review` reviews HEAD (or --head) against
    /// its merge base with REV, and `scan` reports only lines added since it.
    #[arg(long, value_name = "REV")]
    pub diff_base: Option<String>,

    /// Revision under review (default HEAD).
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,

    /// OpenAI-compatible base URL (e.g. http://127.0.0.1:11434/v1 for Ollama).
    #[arg(long, env = "OPENAI_BASE_URL", value_name = "URL")]
    pub llm_base_url: Option<String>,

    /// Model name sent to the endpoint (default gpt-4o-mini).
    #[arg(long, env = "SHIPLINT_LLM_MODEL", value_name = "NAME")]
    pub llm_model: Option<String>,

    /// At most this many review requests (chunks) per run.
    #[arg(long, value_name = "N")]
    pub review_max_chunks: Option<usize>,

    /// Exit 1 when the PR risk (highest file risk, 1–5) is at least N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
    pub fail_on_risk: Option<u8>,
}

impl ReviewFlags {
    /// Lays the flags over the config's `review:` section.
    pub fn merge_into(&self, section: &mut serde_json::Value) {
        if !section.is_object() {
            *section = serde_json::Value::Object(Default::default());
        }
        let Some(m) = section.as_object_mut() else {
            return;
        };
        let mut set = |k: &str, v: Option<serde_json::Value>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        set("diff-base", self.diff_base.clone().map(Into::into));
        set("head", self.head.clone().map(Into::into));
        set("base-url", self.llm_base_url.clone().map(Into::into));
        set("model", self.llm_model.clone().map(Into::into));
        set("max-chunks", self.review_max_chunks.map(Into::into));
        set("fail-on-risk", self.fail_on_risk.map(Into::into));
    }
}

#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The repository (or a folder inside it) to review.
    #[arg(default_value = ".")]
    pub repo: PathBuf,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: FormatArg,

    /// Write the report here instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// Config file (default: .shiplint.yaml in the repository folder, else the current one).
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Ignore any .shiplint.yaml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    #[command(flatten)]
    pub review: ReviewFlags,

    #[command(flatten)]
    pub github: GithubArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BaselineAction {
    /// Write a new baseline with the current findings.
    Create,
    /// Add the current findings to an existing baseline.
    Update,
}

#[derive(Args, Debug)]
pub struct BaselineArgs {
    pub action: BaselineAction,

    /// Scan options; `--output` is the baseline file (default .shiplint-baseline.json).
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// `--format` (clap's view of `report::Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Sarif,
    /// Workflow-command annotations, a job summary and step outputs.
    Github,
    /// JUnit XML (GitLab, Jenkins, Azure DevOps test reports): a test case per file and rule.
    Junit,
}

impl From<FormatArg> for Format {
    fn from(a: FormatArg) -> Self {
        match a {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
            FormatArg::Junit => Format::Junit,
        }
    }
}

/// A finding level on the command line (clap's view of `Severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    Note,
    Warning,
    Error,
}

impl From<LevelArg> for Severity {
    fn from(a: LevelArg) -> Self {
        match a {
            LevelArg::Note => Severity::Note,
            LevelArg::Warning => Severity::Warning,
            LevelArg::Error => Severity::Error,
        }
    }
}
