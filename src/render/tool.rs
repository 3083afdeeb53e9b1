//! Running an external renderer (`helm template`, `kubectl kustomize`) on
//! pull-request content: no stdin, its own process group (a timeout stops
//! what it started too), bounded output, a deadline. The caller sets the
//! command's arguments and its clean environment.

use anyhow::{Context as _, Result};
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a bounded run gave.
pub struct Run {
    /// `None` when the deadline passed (the process group was killed).
    pub status: Option<ExitStatus>,
    /// At most `max_out + 1` bytes: longer means it printed too much.
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `cmd` with the bounds above; `what` names it in errors.
pub fn run(
    cmd: &mut Command,
    what: &str,
    timeout: Duration,
    max_out: u64,
    max_err: u64,
) -> Result<Run> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    let mut child = cmd.spawn().with_context(|| format!("running {what}"))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout {
            let _ = s.take(max_out + 1).read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr {
            let _ = s.take(max_err).read_to_end(&mut buf);
        }
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child
            .try_wait()
            .with_context(|| format!("waiting for {what}"))?
        {
            break Some(s);
        }
        if Instant::now() >= deadline {
            // The whole group: what the tool started dies with it.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Run {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}
