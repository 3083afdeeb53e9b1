//! `shiplint install-hook`: a plain git pre-commit hook (for people who do
//! not use the pre-commit framework).

use anyhow::{bail, Context as _, Result};
use std::path::PathBuf;

pub const HOOK_MARKER: &str = "# installed by shiplint install-hook";

/// The hook script: `shiplint scan --staged` reports on the staged changes
/// with the whole index as context (cross-object checks need every
/// manifest). Without shiplint on PATH the commit fails, with a message: a
/// hook that passes silently would let through what it is there to stop.
pub fn script() -> String {
    format!(
        "#!/bin/sh\n{HOOK_MARKER}\n# Remove this file to uninstall. Skip once with `git commit --no-verify`.\n\
if ! command -v shiplint >/dev/null 2>&1; then\n\
  echo 'shiplint pre-commit hook: shiplint is not on PATH, so the staged files cannot be scanned.' >&2\n\
  echo 'Install shiplint (or put it on PATH), or skip the hook once with: git commit --no-verify' >&2\n\
  exit 1\n\
fi\n\
exec shiplint scan --staged --fail-on error .\n"
    )
}

/// `.git/hooks` of the current repository (worktrees and `core.hooksPath`
/// included).
fn hooks_dir() -> Result<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--git-path", "hooks"])
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!("not inside a git repository");
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(dir))
}

/// Writes the hook; returns its path and, when `--force` replaced someone
/// else's hook, where that one was kept.
pub fn install(force: bool) -> Result<(PathBuf, Option<PathBuf>)> {
    let dir = hooks_dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("pre-commit");
    let mut backup = None;
    if let Ok(existing) = std::fs::read(&path) {
        if !String::from_utf8_lossy(&existing).contains(HOOK_MARKER) {
            if !force {
                bail!(
                    "{} exists and was not written by shiplint; use --force to replace it (it is kept as a backup)",
                    path.display()
                );
            }
            // Never overwrite an earlier backup either.
            let free = (0..)
                .map(|n| match n {
                    0 => dir.join("pre-commit.shiplint-backup"),
                    n => dir.join(format!("pre-commit.shiplint-backup.{n}")),
                })
                .find(|p| !p.exists())
                .unwrap_or_else(|| dir.join("pre-commit.shiplint-backup"));
            std::fs::rename(&path, &free)
                .with_context(|| format!("keeping {} as {}", path.display(), free.display()))?;
            backup = Some(free);
        }
    }
    std::fs::write(&path, script()).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok((path, backup))
}
