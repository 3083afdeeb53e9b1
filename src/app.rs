//! Runs a parsed command line and maps the outcome to an exit code.

use crate::cli::{Cli, Command, FailOn, ScanArgs};
use crate::config::{ConfigFile, KubeVersion, Settings};
use crate::packs;
use crate::report::{self, Format};
use crate::scan::{self, ScanRequest};
use anyhow::{bail, Context as _, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Scan(args) => scan_command(*args),
        Command::Rules { pack, json } => {
            let rules: Vec<_> = packs::all_rules()
                .into_iter()
                .filter(|r| pack.as_deref().is_none_or(|p| r.pack() == p))
                .collect();
            if rules.is_empty() {
                bail!("no rules for pack '{}'", pack.unwrap_or_default());
            }
            let mut out = String::new();
            if json {
                out = serde_json::to_string_pretty(&rules)? + "\n";
            } else {
                let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
                for r in &rules {
                    out.push_str(&format!(
                        "{:<width$}  {:<7}  {}{}\n",
                        r.id,
                        r.severity.as_str(),
                        r.summary,
                        if r.default_enabled {
                            ""
                        } else {
                            " (off by default)"
                        }
                    ));
                }
            }
            write_stdout(&out)?;
            Ok(EXIT_CLEAN)
        }
        Command::Explain { rule } => {
            let rules = packs::all_rules();
            let Some(r) = rules.iter().find(|r| r.id == rule) else {
                let close: Vec<_> = rules
                    .iter()
                    .filter(|r| r.id.contains(rule.split('/').next_back().unwrap_or(&rule)))
                    .map(|r| r.id.as_str())
                    .collect();
                bail!(
                    "unknown rule '{rule}'{}",
                    if close.is_empty() {
                        String::new()
                    } else {
                        format!(" (did you mean {}?)", close.join(", "))
                    }
                );
            };
            write_stdout(&format!(
                "{} ({}{})\n\n{}\n\n{}\n",
                r.id,
                r.severity,
                if r.default_enabled {
                    ""
                } else {
                    ", off by default"
                },
                r.summary,
                r.help
            ))?;
            Ok(EXIT_CLEAN)
        }
    }
}

fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        // A closed pipe (`shiplint rules | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}

fn config_path(args: &ScanArgs) -> Option<PathBuf> {
    if args.no_config {
        return None;
    }
    if let Some(c) = &args.config {
        return Some(c.clone());
    }
    let first_dir = args.paths.iter().map(Path::new).find(|p| p.is_dir());
    first_dir
        .and_then(ConfigFile::discover)
        .or_else(|| ConfigFile::discover(Path::new(".")))
}

pub fn settings_from(args: &ScanArgs) -> Result<(Settings, Option<FailOn>)> {
    let mut s = Settings::default();
    let mut fail_on = None;
    if let Some(path) = config_path(args) {
        let cfg = ConfigFile::load(&path)?;
        if let Some(f) = &cfg.fail_on {
            fail_on = Some(<FailOn as clap::ValueEnum>::from_str(f, true).map_err(|_| {
                anyhow::anyhow!(
                    "config {}: fail-on must be error, warning, note or never",
                    path.display()
                )
            })?);
        }
        s.apply_file(cfg)?;
    }
    if let Some(v) = &args.kubernetes_version {
        s.kubernetes_version = Some(KubeVersion::parse(v)?);
    }
    if let Some(v) = &args.target_version {
        s.target_version = Some(KubeVersion::parse(v)?);
    }
    if args.no_strict {
        s.strict = false;
    } else if args.strict {
        s.strict = true;
    }
    if let Some(p) = &args.packs {
        s.packs = p
            .iter()
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
    }
    s.schema_locations
        .extend(args.schema_locations.iter().cloned());
    s.ignore_missing_schemas |= args.ignore_missing_schemas;
    s.skip_kinds.extend(args.skip_kinds.iter().cloned());
    s.reject_kinds.extend(args.reject_kinds.iter().cloned());
    s.crd_dirs.extend(args.crd_dir.iter().cloned());
    s.max_file_size = args.max_file_size;
    s.http_timeout = std::time::Duration::from_secs(args.http_timeout.max(1));
    if args.fail_on.is_some() {
        fail_on = args.fail_on;
    }
    s.validate()?;
    Ok((s, fail_on))
}

fn scan_command(args: ScanArgs) -> Result<i32> {
    let (settings, fail_on) = settings_from(&args)?;
    let fail_on = fail_on.unwrap_or(FailOn::Error);
    let base = std::env::current_dir().context("reading the current directory")?;
    let outcome = scan::run(ScanRequest {
        paths: args.paths.clone(),
        settings,
        base,
    })?;
    let rendered = match args.format {
        Format::Text => report::text::render(&outcome),
        Format::Json => report::json::render(&outcome),
        Format::Sarif => report::sarif::render(&outcome),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, rendered).with_context(|| format!("writing {}", path.display()))?
        }
        None => write_stdout(&rendered)?,
    }
    // Notes go to stderr so that stdout stays a clean report.
    for n in &outcome.notes {
        eprintln!("note: {n}");
    }
    let failed = fail_on
        .threshold()
        .is_some_and(|t| outcome.findings.iter().any(|f| f.severity >= t));
    Ok(if failed { EXIT_FINDINGS } else { EXIT_CLEAN })
}
