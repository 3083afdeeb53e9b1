//! Runs a parsed command line and maps the outcome to an exit code.

use crate::cli::{CleanupArgs, Cli, Command, CommentArgs, FailOn, GithubArgs, ScanArgs};
use crate::config::{ConfigFile, KubeVersion, Settings};
use crate::github;
use crate::packs;
use crate::report::{self, Format};
use crate::scan::{self, ScanOutcome, ScanRequest};
use anyhow::{bail, Context as _, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Scan(args) => scan_command(*args),
        Command::Comment(args) => comment_command(*args),
        Command::Cleanup(args) => cleanup_command(*args),
        Command::InstallHook { force } => {
            let path = github::hook::install(force)?;
            eprintln!("installed {}", path.display());
            Ok(EXIT_CLEAN)
        }
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
                        "{:<width$}  {:<7}  {}\n",
                        r.id,
                        r.severity.as_str(),
                        r.summary
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
                "{} ({})\n\n{}\n\n{}\n",
                r.id, r.severity, r.summary, r.help
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

/// Runs the scan a command line asks for.
pub fn run_scan(args: &ScanArgs) -> Result<(ScanOutcome, FailOn)> {
    let (settings, fail_on) = settings_from(args)?;
    let base = std::env::current_dir().context("reading the current directory")?;
    let outcome = scan::run(ScanRequest {
        paths: args.paths.clone(),
        settings,
        base,
    })?;
    Ok((outcome, fail_on.unwrap_or(FailOn::Error)))
}

fn exit_for(outcome: &ScanOutcome, fail_on: FailOn) -> i32 {
    let failed = fail_on
        .threshold()
        .is_some_and(|t| outcome.findings.iter().any(|f| f.severity >= t));
    if failed {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

fn scan_command(args: ScanArgs) -> Result<i32> {
    let (outcome, fail_on) = run_scan(&args)?;
    let rendered = match args.format {
        Format::Text => report::text::render(&outcome),
        Format::Json => report::json::render(&outcome),
        Format::Sarif => report::sarif::render(&outcome),
        Format::Github => report::github::render(&outcome),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, rendered).with_context(|| format!("writing {}", path.display()))?
        }
        None => write_stdout(&rendered)?,
    }
    write_sarif_file(&args, &outcome)?;
    if args.format == Format::Github {
        let pr = github::event::pull_request(&args.github).ok().flatten();
        github_files(&args.github, &args, &outcome, pr.map(|p| p.number), None)?;
    }
    // Notes go to stderr so that stdout stays a clean report.
    for n in &outcome.notes {
        eprintln!("note: {n}");
    }
    Ok(exit_for(&outcome, fail_on))
}

fn write_sarif_file(args: &ScanArgs, outcome: &ScanOutcome) -> Result<()> {
    if let Some(p) = &args.sarif_file {
        std::fs::write(p, report::sarif::render(outcome))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

fn links(gh: &GithubArgs, pr: Option<u64>) -> report::github::Links {
    report::github::Links {
        server_url: Some(
            gh.server_url
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "https://github.com".into()),
        ),
        repository: gh.repository.clone().filter(|s| !s.is_empty()),
        pr,
    }
}

/// The job summary and the step outputs, when Actions provides the files.
fn github_files(
    gh: &GithubArgs,
    args: &ScanArgs,
    outcome: &ScanOutcome,
    pr: Option<u64>,
    extra_summary: Option<&str>,
) -> Result<()> {
    if let Some(p) = gh
        .step_summary
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        let mut text = report::github::summary(outcome, &links(gh, pr));
        if let Some(x) = extra_summary {
            text.push_str(x);
            text.push('\n');
        }
        report::github::append(p, &text).with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = gh
        .github_output
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        let values = report::github::outputs(outcome, args.sarif_file.as_deref());
        report::github::append(p, &report::github::outputs_text(&values))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

fn comment_command(args: CommentArgs) -> Result<i32> {
    let gh = &args.scan.github;
    let (outcome, fail_on) = match &args.findings {
        Some(p) => {
            let (_, fail_on) = settings_from(&args.scan)?;
            (github::stored::load(p)?, fail_on.unwrap_or(FailOn::Error))
        }
        None => run_scan(&args.scan)?,
    };
    write_stdout(&report::github::render(&outcome))?;
    write_sarif_file(&args.scan, &outcome)?;
    let code = exit_for(&outcome, fail_on);
    let pr = github::event::pull_request(gh)?;
    let Some(pr) = pr else {
        eprintln!("shiplint: not a pull request run (no PR in the event, no --pr): annotations and job summary only");
        github_files(gh, &args.scan, &outcome, None, None)?;
        return Ok(code);
    };
    let read_only = |why: &str| -> Result<i32> {
        write_stdout(&format!(
            "::warning::{}\n",
            report::github::escape_data(why)
        ))?;
        github_files(
            gh,
            &args.scan,
            &outcome,
            Some(pr.number),
            Some(&format!("> **Note:** {why}\n")),
        )?;
        Ok(code)
    };
    if gh.token.as_deref().unwrap_or("").is_empty() {
        return read_only("shiplint: no GITHUB_TOKEN, so no PR comments; the findings are in the annotations, the job summary and the SARIF report.");
    }
    let client = github::connect(gh)?;
    let bot = github::bot_login(&client, gh);
    let opts = github::comments::Options {
        filter: args.comment_filter,
        max_comments: args.max_comments as usize,
        label: args.label,
    };
    match github::comments::run(
        &client,
        &pr,
        &bot,
        &outcome,
        &opts,
        &links(gh, Some(pr.number)),
    ) {
        Ok(r) if r.read_only => read_only(github::READ_ONLY_NOTE),
        Ok(r) => {
            eprintln!(
                "shiplint: PR #{}: {} new inline comments in {} reviews, {} kept, {} resolved, {} reopened, {} moved to the summary",
                pr.number, r.posted, r.reviews, r.kept, r.resolved, r.reopened, r.demoted
            );
            github_files(gh, &args.scan, &outcome, Some(pr.number), None)?;
            Ok(code)
        }
        Err(e) => {
            github_files(gh, &args.scan, &outcome, Some(pr.number), None)?;
            eprintln!("error: commenting on PR #{}: {e:#}", pr.number);
            Ok(EXIT_ERROR)
        }
    }
}

fn cleanup_command(args: CleanupArgs) -> Result<i32> {
    let gh = &args.github;
    let Some(pr) = github::event::pull_request(gh)? else {
        bail!("cleanup runs on a pull_request event (types: [closed]) or with --pr and --head-sha");
    };
    if gh.token.as_deref().unwrap_or("").is_empty() {
        bail!("cleanup needs GITHUB_TOKEN with pull-requests: write and issues: write");
    }
    let client = github::connect(gh)?;
    let bot = github::bot_login(&client, gh);
    match github::cleanup::run(&client, &pr, &bot) {
        Ok(r) => {
            eprintln!(
                "shiplint: PR #{} {}: summary {}, {} summaries, {} inline comments and {} pending reviews deleted, {} labels removed",
                pr.number,
                if pr.merged { "merged" } else { "closed" },
                if r.summary_edited { "finalized" } else { "unchanged" },
                r.summaries_deleted,
                r.inline_deleted,
                r.reviews_deleted,
                r.labels_removed
            );
            Ok(EXIT_CLEAN)
        }
        Err(e) if github::client::is_permission_error(&e) => {
            write_stdout(&format!(
                "::warning::{}\n",
                report::github::escape_data(github::READ_ONLY_NOTE)
            ))?;
            Ok(EXIT_CLEAN)
        }
        Err(e) => Err(e),
    }
}
