//! Running one PostgreSQL client tool as a child process: the password goes through the
//! child's private environment (never argv), no shell is involved, and stderr is drained on its own
//! thread (so a chatty child cannot fill the pipe and deadlock) and kept for the error.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;

use crate::secrets::Sensitive;

/// How much of a child's stderr is kept for the error message (its end matters most).
const STDERR_KEEP: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    #[error("cannot start {tool} ({path}): {source}")]
    Spawn {
        tool: String,
        path: String,
        source: std::io::Error,
    },
    #[error("{tool} failed ({status}): {stderr}")]
    Failed {
        tool: String,
        status: String,
        stderr: String,
    },
    #[error("{tool} was stopped")]
    Killed { tool: String },
}

/// A command line for one PostgreSQL tool, built without a shell.
pub struct PgCommand {
    program: PathBuf,
    args: Vec<OsString>,
    password: Option<Sensitive<String>>,
    stdin: Stdio,
    stdout: Stdio,
    independent: bool,
}

impl PgCommand {
    pub fn new(program: &Path, password: Option<&Sensitive<String>>) -> Self {
        PgCommand {
            program: program.to_owned(),
            args: Vec::new(),
            password: password.cloned(),
            stdin: Stdio::null(),
            stdout: Stdio::null(),
            independent: false,
        }
    }

    /// Lets the child outlive this process: its own process group (a Ctrl-C in our terminal
    /// does not reach it) and no stderr pipe to us (which would break when we die). Its
    /// error output is lost; its exit status is not.
    pub fn independent(mut self) -> Self {
        self.independent = true;
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn stdin(mut self, stdin: Stdio) -> Self {
        self.stdin = stdin;
        self
    }

    pub fn stdout(mut self, stdout: Stdio) -> Self {
        self.stdout = stdout;
        self
    }

    fn tool_name(&self) -> String {
        self.program
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "postgres tool".into())
    }

    pub fn spawn(self) -> Result<PgChild, ChildError> {
        let tool = self.tool_name();
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(self.stdin)
            .stdout(self.stdout)
            .stderr(if self.independent {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            // A minimal environment: what the PostgreSQL tools need, never our secrets
            // (AZURE_STORAGE_CONNECTION_STRING, JWT_SECRET, tokens, SMTP passwords, …).
            .env_clear()
            .envs(minimal_environment())
            .env("PGAPPNAME", "rythm-backup");
        if std::env::var_os("PGCONNECT_TIMEOUT").is_none() {
            command.env("PGCONNECT_TIMEOUT", "15");
        }
        #[cfg(unix)]
        if self.independent {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            const CREATE_NO_WINDOW: u32 = 0x0800_0000;
            command.creation_flags(CREATE_NO_WINDOW);
        }
        // The password travels in the child's environment, which only its owner can read
        // (/proc/PID/environ is 0400); a passfile would outlive a killed parent on disk.
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password.expose());
        }
        tracing::debug!(tool = %tool, args = ?self.args, "starting PostgreSQL tool");
        let mut child = command.spawn().map_err(|source| ChildError::Spawn {
            tool: tool.clone(),
            path: self.program.display().to_string(),
            source,
        })?;
        let stderr_reader = child.stderr.take().map(|stderr| {
            let stderr_tool = tool.clone();
            std::thread::spawn(move || drain_stderr(stderr, &stderr_tool))
        });
        Ok(PgChild {
            child,
            tool,
            stderr: stderr_reader,
            waited: false,
        })
    }
}

/// Our environment minus everything a PostgreSQL tool has no business seeing.
pub(crate) fn minimal_environment() -> impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>
{
    std::env::vars_os().filter(|(name, _)| child_may_inherit(name))
}

/// Variables a PostgreSQL tool may see: the system's basics (locale, time zone, home and
/// temp folders, Windows' system paths) and libpq's own `PG*` settings (SSL files, service
/// files, …), but no password from the user's shell: ours travels alone.
fn child_may_inherit(name: &std::ffi::OsStr) -> bool {
    const SYSTEM: &[&str] = &[
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "USERNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TMP",
        "TEMP",
        "SYSTEMROOT",
        "SYSTEMDRIVE",
        "WINDIR",
        "USERPROFILE",
        "APPDATA",
        "LOCALAPPDATA",
        "PROGRAMDATA",
        "KRB5CCNAME",
        "KRB5_CONFIG",
    ];
    let Some(name) = name.to_str() else {
        return false;
    };
    let upper = name.to_ascii_uppercase();
    if upper == "PGPASSWORD" || upper == "PGPASSFILE" {
        return false;
    }
    SYSTEM.contains(&upper.as_str()) || upper.starts_with("LC_") || upper.starts_with("PG")
}

fn drain_stderr(mut stderr: impl Read, tool: &str) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stderr.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * STDERR_KEEP {
                    kept.drain(..kept.len() - STDERR_KEEP);
                }
            }
        }
    }
    if !kept.is_empty() {
        tracing::debug!(tool, stderr = %String::from_utf8_lossy(&kept).trim_end(), "tool stderr");
    }
    kept
}

/// A running PostgreSQL tool. Dropping it without `wait` kills it.
pub struct PgChild {
    child: Child,
    tool: String,
    stderr: Option<JoinHandle<Vec<u8>>>,
    waited: bool,
}

impl PgChild {
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
    }

    /// Waits for the exit; a non-zero exit becomes an error carrying the tool's stderr.
    pub fn wait(mut self) -> Result<String, ChildError> {
        let status = self.child.wait();
        self.waited = true;
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let stderr = tidy_stderr(&stderr);
        match status {
            Ok(status) if status.success() => Ok(stderr),
            Ok(status) if was_killed(&status) => Err(ChildError::Killed {
                tool: self.tool.clone(),
            }),
            Ok(status) => Err(ChildError::Failed {
                tool: self.tool.clone(),
                status: status.to_string(),
                stderr: if stderr.is_empty() {
                    "(no error output)".into()
                } else {
                    stderr
                },
            }),
            Err(e) => Err(ChildError::Failed {
                tool: self.tool.clone(),
                status: "unknown".into(),
                stderr: e.to_string(),
            }),
        }
    }
}

impl Drop for PgChild {
    fn drop(&mut self) {
        if !self.waited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(unix)]
fn was_killed(status: &ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(9)
}

#[cfg(not(unix))]
fn was_killed(_status: &ExitStatus) -> bool {
    false
}

/// The useful part of stderr: trimmed, the last lines kept when it is long.
fn tidy_stderr(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim();
    if text.len() <= STDERR_KEEP {
        return text.to_owned();
    }
    let mut cut = text.len() - STDERR_KEEP;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!("…{}", &text[cut..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_inherit_no_secret_of_ours() {
        for kept in [
            "PATH",
            "HOME",
            "LANG",
            "LC_ALL",
            "PGSSLROOTCERT",
            "PGSERVICEFILE",
            "TZ",
        ] {
            assert!(child_may_inherit(kept.as_ref()), "{kept}");
        }
        for dropped in [
            "AZURE_STORAGE_CONNECTION_STRING",
            "DATABASE_URL",
            "TARGET_DATABASE_URL",
            "JWT_SECRET",
            "BACKUP_API_TOKEN",
            "BACKUP_API_PASSWORD",
            "SMTP_PASSWORD",
            "ACS_CONNECTION_STRING",
            "NOTIFY_WEBHOOK_SECRET",
            "RYTHM_MASTER_PASSWORD_FILE",
            "PGPASSWORD",
            "PGPASSFILE",
            "pgpassword",
        ] {
            assert!(!child_may_inherit(dropped.as_ref()), "{dropped}");
        }
    }

    #[test]
    fn long_stderr_keeps_its_end() {
        let raw = format!("{}END", "x".repeat(STDERR_KEEP * 2));
        let tidy = tidy_stderr(raw.as_bytes());
        assert!(tidy.ends_with("END"));
        assert!(tidy.len() <= STDERR_KEEP + 4);
    }
}
