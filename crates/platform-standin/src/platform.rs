//! What the platform does with the blobs of its container, for tests of a container shared
//! with it: its admin page lists only names ending in `.sql`, and its restore pipes the file
//! into `psql DATABASE_URL` without `ON_ERROR_STOP` (no transaction, no emptying first), so
//! a failing statement is skipped and the restore still "succeeds".

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Whether the platform's list shows a blob of this name.
pub fn lists(name: &str) -> bool {
    name.ends_with(".sql")
}

/// What one `psql < file` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsqlRun {
    /// psql's exit code: 0 however many statements failed, as ON_ERROR_STOP is off.
    pub exit_code: Option<i32>,
    /// psql's `ERROR:` lines.
    pub errors: Vec<String>,
}

/// Runs `psql DATABASE_URL < sql` as the platform does. `url` carries no password: it goes
/// to psql in `PGPASSWORD`, not on its command line.
pub fn psql_from_stdin(
    psql: &Path,
    url: &str,
    password: Option<&str>,
    sql: &[u8],
) -> std::io::Result<PsqlRun> {
    let mut command = Command::new(psql);
    command
        .arg("--no-psqlrc")
        .arg(format!("--dbname={url}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let mut child = command.spawn()?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let sql = sql.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&sql));
    let output = child.wait_with_output()?;
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok(PsqlRun {
        exit_code: output.status.code(),
        errors: stderr
            .lines()
            .filter(|l| l.contains("ERROR:"))
            .map(str::to_owned)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_page_lists_plain_sql_only() {
        assert!(lists("rythm-backup-2026-01-15T10-30-00-851Z.sql"));
        for hidden in [
            "rythm-backup-2026-01-15T10-30-00-851Z.sql.zst",
            "rythm-backup-2026-01-15T10-30-00-851Z.sql.gz",
            "rythm-backup-2026-01-15T10-30-00-851Z.dump",
        ] {
            assert!(!lists(hidden), "{hidden}");
        }
    }
}
