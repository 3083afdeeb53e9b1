//! The command line (clap derive).

use crate::finding::Severity;
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
    /// List every rule: id, default severity, one line.
    Rules {
        /// Only this pack's rules.
        #[arg(long)]
        pack: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a rule's full help.
    Explain {
        /// A rule id such as `schema/invalid`.
        rule: String,
    },
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
    pub format: Format,

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

    /// Timeout in seconds for schema downloads.
    #[arg(long, default_value_t = 30)]
    pub http_timeout: u64,
}
