//! `shiplint install-hook`: a plain git pre-commit hook (for people who do
//! not use the pre-commit framework).

use anyhow::{bail, Context as _, Result};
use std::path::PathBuf;

pub const HOOK_MARKER: &str = "# installed by shiplint install-hook";

/// The hook script: `shiplint scan --staged` reads the whole index (what the
/// commit will contain), since cross-object checks need every manifest, not
/// only the changed ones.
pub fn script() -> String {
    format!(
        "#!/bin/sh\n{HOOK_MARKER}\n# Remove this file to uninstall. Skip once with `git commit --no-verify`.\ncommand -v shiplint >/dev/null 2>&1 || {{ echo 'shiplint not found on PATH; skipping the pre-commit scan' >&2; exit 0; }}\nexec shiplint scan --staged --fail-on error .\n"
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

pub fn install(force: bool) -> Result<PathBuf> {
    let dir = hooks_dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("pre-commit");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if !existing.contains(HOOK_MARKER) && !force {
            bail!(
                "{} exists and was not written by shiplint; use --force to replace it",
                path.display()
            );
        }
    }
    std::fs::write(&path, script()).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(path)
}
