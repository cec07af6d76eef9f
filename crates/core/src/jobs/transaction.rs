//! The one transaction every restore runs in: one psql with ON_ERROR_STOP, restricted
//! (`\restrict` with a key of its own, see `psql_guard`) before anything else, inside an
//! explicit `BEGIN` marked so that a check right before the `COMMIT` can tell that the
//! session is still in that very transaction. The `COMMIT` is written only when the caller
//! has confirmed everything it must (`commit`); any failure, a `rollback`, or this process
//! dying (even by SIGKILL: psql then reads the end of its input without a COMMIT) ends the
//! session with the transaction open, so the server rolls it back. (`psql
//! --single-transaction` would COMMIT at the end of its input, whatever cut it short.)
//!
//! Full restores (`sql_stream`) write a backup's filtered SQL into it; partial restores
//! (`partial`) write SQL of their own and rows copied from a scratch database, and read
//! back what their final query prints.

use std::io::{self, Read, Write};
use std::process::{ChildStdin, Stdio};
use std::thread::JoinHandle;

use super::psql_guard;
use crate::error::{Error, Result};
use crate::pg::{ChildError, DbTarget, PgChild, PgCommand, Server, ToolKind};

/// Marks the restore's transaction: a transaction-local setting that vanishes if the
/// transaction ends, checked by `STILL_OURS_SQL` before the COMMIT.
const MARK_TRANSACTION_SQL: &str = "SET standard_conforming_strings = on;\n\
    SELECT pg_catalog.set_config('rythm.restore_xact', pg_catalog.txid_current()::text, true);\n";

/// Fails (and so stops psql before the COMMIT) unless the session is still inside the
/// transaction the restore began: a second line behind the statement filter.
const STILL_OURS_SQL: &str = "\nDO $rythm_check$ BEGIN\n\
    IF pg_catalog.current_setting('rythm.restore_xact', true) IS DISTINCT FROM \
    pg_catalog.txid_current()::text THEN\n\
    RAISE EXCEPTION 'rythm-backup: the restore left its own transaction';\n\
    END IF;\nEND $rythm_check$;\n";
/// The message of `STILL_OURS_SQL`, looked for in psql's errors.
const LEFT_TRANSACTION: &str = "rythm-backup: the restore left its own transaction";

/// Separators of the rows psql prints when its output is captured (unit and record
/// separators, which no identifier or number of ours contains).
pub(crate) const FIELD_SEP: char = '\u{1f}';
pub(crate) const RECORD_SEP: char = '\u{1e}';
/// At most this much of psql's output is kept (the rows a partial restore reports).
const OUTPUT_KEEP: usize = 16 * 1024 * 1024;

/// An open restore transaction in one psql session.
pub(crate) struct Transaction {
    psql: PgChild,
    input: LineCounter<ChildStdin>,
    output: Option<JoinHandle<Vec<u8>>>,
    target: DbTarget,
}

impl Transaction {
    /// Starts psql on `target`, restricted, and opens the marked transaction. With
    /// `capture_output`, what psql prints (unaligned rows, see `FIELD_SEP`) is kept for
    /// `commit`/`rollback` to return; otherwise it is discarded.
    pub(crate) fn begin(server: &Server, target: &DbTarget, capture_output: bool) -> Result<Self> {
        psql_guard::require_restrict_support(server.tools.version())?;
        let mut command = PgCommand::new(&server.tools.path(ToolKind::Psql), target.password())
            .arg("--no-psqlrc")
            .arg("--no-password")
            .arg("--quiet")
            .arg("--set=ON_ERROR_STOP=1");
        if capture_output {
            command = command
                .arg("--no-align")
                .arg("--tuples-only")
                .arg(format!("--field-separator={FIELD_SEP}"))
                .arg(format!("--record-separator={RECORD_SEP}"));
        }
        let mut psql = command
            .arg(format!("--dbname={}", target.url_without_password()))
            .arg("--file=-")
            .stdin(Stdio::piped())
            .stdout(if capture_output {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()?;
        let output = psql.take_stdout().map(|mut stdout| {
            // Drained on its own thread, so a full pipe can never stall psql (and us).
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                let mut buffer = [0u8; 8192];
                while let Ok(n) = stdout.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    if kept.len() < OUTPUT_KEEP {
                        kept.extend_from_slice(&buffer[..n]);
                    }
                }
                kept
            })
        });
        let input = LineCounter::new(psql.take_stdin().expect("stdin is piped"));
        let mut transaction = Transaction {
            psql,
            input,
            output,
            target: target.clone(),
        };
        // Restricted mode first: from here on psql runs SQL only (see psql_guard).
        let preamble = format!(
            "\\restrict {}\nBEGIN;\n{MARK_TRANSACTION_SQL}",
            psql_guard::restrict_key()
        );
        if transaction.input.write_all(preamble.as_bytes()).is_err() {
            return Err(transaction.failed());
        }
        Ok(transaction)
    }

    /// Where the transaction's SQL goes. A write error means psql stopped reading (it hit
    /// an error and rolled back): end with `failed` to learn why.
    pub(crate) fn input(&mut self) -> &mut LineCounter<ChildStdin> {
        &mut self.input
    }

    /// Ends psql at once: the transaction is rolled back.
    pub(crate) fn kill(&mut self) {
        self.psql.kill();
    }

    /// psql stopped before the COMMIT: the error it gave, as a restore failure (rolled
    /// back, unless the check before the COMMIT found the session outside the transaction).
    pub(crate) fn failed(self) -> Error {
        let Transaction {
            psql,
            input,
            output,
            target,
        } = self;
        drop(input);
        let result = psql.wait();
        drop(output.map(JoinHandle::join));
        restore_failed(&target, result.err())
    }

    /// Checks that the session is still in its own transaction, then commits; returns what
    /// psql printed (empty unless captured).
    pub(crate) fn commit(mut self) -> Result<Vec<u8>> {
        if self.input.write_all(STILL_OURS_SQL.as_bytes()).is_err() {
            return Err(self.failed());
        }
        let commit_line = self.input.lines + 1;
        if self.input.write_all(b"COMMIT;\n").is_err() {
            // psql stopped before reading the COMMIT (the check failed, or an error): the
            // transaction is rolled back, unless it was left before.
            return Err(self.failed());
        }
        let (target, waited, printed) = self.end_input();
        if let Err(e) = waited {
            return Err(failed_near_commit(&target, e, commit_line));
        }
        Ok(printed)
    }

    /// Rolls the transaction back on purpose (a dry run); returns what psql printed. An
    /// error before the ROLLBACK is reported like any failure.
    pub(crate) fn rollback(mut self) -> Result<Vec<u8>> {
        if self.input.write_all(b"ROLLBACK;\n").is_err() {
            return Err(self.failed());
        }
        let (target, waited, printed) = self.end_input();
        waited.map_err(|e| restore_failed(&target, Some(e)))?;
        Ok(printed)
    }

    /// Closes psql's input after the last statement, waits for it to end and collects what
    /// it printed: the target, psql's exit, and its output.
    fn end_input(self) -> (DbTarget, Result<String, ChildError>, Vec<u8>) {
        let Transaction {
            psql,
            input,
            output,
            target,
        } = self;
        drop(input);
        let waited = psql.wait();
        let printed = output
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (target, waited, printed)
    }
}

/// The rows of captured psql output (see `FIELD_SEP`). psql ends the last row of each
/// query with a newline instead of the record separator, so both end a row: values with
/// newlines cannot be told apart, and are not printed by the queries whose rows are read.
pub(crate) fn output_rows(printed: &[u8]) -> Vec<Vec<String>> {
    String::from_utf8_lossy(printed)
        .split([RECORD_SEP, '\n'])
        .filter(|record| !record.is_empty())
        .map(|record| record.split(FIELD_SEP).map(str::to_owned).collect())
        .collect()
}

/// psql failed after the COMMIT was written. Its error names the input line it stopped at:
/// a line before the COMMIT, or an error the server answered the COMMIT with, means the
/// transaction was rolled back; anything else (a lost connection during the COMMIT) leaves
/// the outcome unknown, and the message says so.
fn failed_near_commit(target: &DbTarget, error: ChildError, commit_line: u64) -> Error {
    let stderr = match &error {
        ChildError::Failed { stderr, .. } => stderr.clone(),
        other => other.to_string(),
    };
    let failed_line = psql_error_line(&stderr);
    let rolled_back = match failed_line {
        Some(line) if line < commit_line => true,
        Some(line) if line == commit_line => stderr.contains("ERROR:"),
        _ => false,
    };
    if rolled_back {
        return restore_failed(target, Some(error));
    }
    Error::RestoreOutcomeUnknown {
        database: target.describe(),
        detail: format!(
            "psql failed after the COMMIT was sent, so whether it committed is not known \
             ({})",
            stderr.trim()
        ),
        safety_backup: None,
    }
}

/// The input line of psql's last `psql:<stdin>:LINE:` message.
fn psql_error_line(stderr: &str) -> Option<u64> {
    stderr
        .rmatch_indices("psql:<stdin>:")
        .find_map(|(at, prefix)| {
            let rest = &stderr[at + prefix.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
}

/// psql stopped before the COMMIT: rolled back, unless the check before the COMMIT found
/// the session outside the restore's transaction (then parts may have been committed).
pub(crate) fn restore_failed(target: &DbTarget, error: Option<ChildError>) -> Error {
    let detail = match error {
        Some(ChildError::Failed { stderr, .. }) => stderr,
        Some(other) => other.to_string(),
        None => "psql stopped reading the dump".into(),
    };
    if detail.contains(LEFT_TRANSACTION) {
        return Error::RestoreOutcomeUnknown {
            database: target.describe(),
            detail: "the backup's SQL ended the restore's transaction early, so what ran \
                     before that point may have been committed"
                .into(),
            safety_backup: None,
        };
    }
    Error::RestoreFailed {
        database: target.describe(),
        detail,
    }
}

/// Counts the lines written to psql, to tell which line its error message points at.
pub(crate) struct LineCounter<W> {
    inner: W,
    lines: u64,
}

impl<W: Write> LineCounter<W> {
    fn new(inner: W) -> Self {
        LineCounter { inner, lines: 0 }
    }
}

impl<W: Write> Write for LineCounter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psql_errors_name_their_input_line() {
        let stderr =
            "psql:<stdin>:12: NOTICE: x\npsql:<stdin>:1290: ERROR:  relation \"t\" does not exist";
        assert_eq!(psql_error_line(stderr), Some(1290));
        assert_eq!(
            psql_error_line("server closed the connection unexpectedly"),
            None
        );
    }

    #[test]
    fn captured_rows_split_on_the_separators() {
        let printed = format!("7\na{FIELD_SEP}1{RECORD_SEP}b{FIELD_SEP}\nc{FIELD_SEP}2");
        assert_eq!(
            output_rows(printed.as_bytes()),
            vec![vec!["7"], vec!["a", "1"], vec!["b", ""], vec!["c", "2"]]
        );
        assert!(output_rows(b"").is_empty());
    }
}
