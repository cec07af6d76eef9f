//! The heart of every restore: a backup's bytes (already checked against their sha256, see
//! `spool`) are decompressed and become SQL fed to one psql with ON_ERROR_STOP inside an
//! explicit `BEGIN` (custom archives pass through `pg_restore --file=-` first). Every
//! statement passes the `sql_filter` first, so nothing but what pg_dump writes reaches
//! psql: no `COMMIT` of the backup's own can end the transaction early. `COMMIT` is written
//! only after the checksum, pg_restore's exit and pg_dump's end-of-dump marker are all
//! confirmed, and after a check that the session is still in the restore's own
//! transaction. Any failure, or this process dying (even by SIGKILL: psql then reads the
//! end of its input without a COMMIT), ends psql's session with the transaction open, so
//! the server rolls it back and the target is left exactly as it was. (`psql
//! --single-transaction` would COMMIT at the end of its input, whatever cut it short.)
//! psql runs in restricted mode throughout as a second line, so even a backslash command
//! the filter missed could not run on this machine; see `psql_guard`.

use std::io::{self, Read, Write};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::psql_guard;
use super::sql_filter::SqlFilter;
use super::{Cancel, Phase, Progress};
use crate::catalog::{sniff_compression, sniff_format, Compression, DumpFormat, SNIFF_LEN};
use crate::codec;
use crate::error::{Error, Result};
use crate::pg::{DbTarget, PgChild, PgCommand, Server, ToolKind};

/// pg_dump ends every complete dump (plain, or a custom archive replayed by pg_restore) with
/// this comment; its absence means the dump was cut short.
const END_MARKER: &[u8] = b"-- PostgreSQL database dump complete";
/// How much of the SQL's end is kept to look for the marker (newer dumps add an
/// `\unrestrict` line after it).
const TAIL_KEEP: usize = 4096;
const COPY_CHUNK: usize = 256 * 1024;

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

/// Empties the target inside the restore's own transaction, so the result equals the backup
/// and a failure rolls the emptying back too. Objects outside schemas that pg_dump writes
/// (extensions, large objects, publications, event triggers) are dropped as well.
const RESET_DATABASE_SQL: &str = r#"
SET client_min_messages = warning;
SET lock_timeout = '15s';
DO $rythm_reset$
DECLARE r record;
BEGIN
  FOR r IN SELECT oid FROM pg_largeobject_metadata LOOP PERFORM lo_unlink(r.oid); END LOOP;
  FOR r IN SELECT evtname FROM pg_event_trigger LOOP
    EXECUTE format('DROP EVENT TRIGGER %I', r.evtname); END LOOP;
  FOR r IN SELECT pubname FROM pg_publication LOOP
    EXECUTE format('DROP PUBLICATION %I', r.pubname); END LOOP;
  FOR r IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' LOOP
    EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname); END LOOP;
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema')
             AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp\_%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname); END LOOP;
  -- Recreate public as initdb leaves it; pg_dump does not write it when it is the default.
  CREATE SCHEMA public;
  IF current_setting('server_version_num')::int >= 150000 THEN
    ALTER SCHEMA public OWNER TO pg_database_owner;
    GRANT USAGE ON SCHEMA public TO PUBLIC;
  ELSE
    GRANT CREATE, USAGE ON SCHEMA public TO PUBLIC;
  END IF;
  COMMENT ON SCHEMA public IS 'standard public schema';
END
$rythm_reset$;
"#;

/// A backup's bytes and what we know of them.
pub struct RestoreInput<R> {
    pub reader: R,
    pub label: String,
    pub expected_sha256: Option<String>,
    pub total: Option<u64>,
}

/// What was restored.
#[derive(Debug, Clone)]
pub struct StreamOutcome {
    pub bytes: u64,
    pub sha256: String,
    /// `Some(true)` when a recorded checksum matched, `None` when there was none to check.
    pub checksum_verified: Option<bool>,
    pub format: DumpFormat,
    pub compression: Compression,
}

/// Restores `input` into `target` in one transaction; `reset` empties the target first.
pub fn restore_stream<R: Read + Send>(
    server: &Server,
    target: &DbTarget,
    input: RestoreInput<R>,
    reset: bool,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<StreamOutcome> {
    let label = input.label.clone();
    let corrupt = |detail: String| Error::CorruptBackup {
        source_name: label.clone(),
        detail,
    };
    progress.phase(Phase::Restoring, Some(input.label.clone()), input.total);
    let digest = Arc::new(Mutex::new(DigestState::default()));
    let hashing = HashingReader {
        inner: input.reader,
        digest: digest.clone(),
        progress: progress.clone(),
        total: input.total,
    };
    let (buffered, head) = codec::peek(hashing, SNIFF_LEN).map_err(|e| read_failed(&label, e))?;
    if head.is_empty() {
        return Err(corrupt("it is empty".into()));
    }
    let compression = sniff_compression(&head);
    let decoded = codec::decoder(compression, buffered).map_err(|e| corrupt(e.to_string()))?;
    let (mut decoded, head) =
        codec::peek(decoded, SNIFF_LEN).map_err(|e| read_failed(&label, e))?;
    let format = sniff_format(&head);
    tracing::info!(source = %label, database = %target.describe(), ?format, ?compression, "restore started");

    psql_guard::require_restrict_support(server.tools.version())?;
    let psql_command = PgCommand::new(&server.tools.path(ToolKind::Psql), target.password())
        .arg("--no-psqlrc")
        .arg("--no-password")
        .arg("--quiet")
        .arg("--set=ON_ERROR_STOP=1")
        .arg(format!("--dbname={}", target.url_without_password()))
        .arg("--file=-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut psql = psql_command.spawn()?;
    let mut psql_in = LineCounter::new(psql.take_stdin().expect("stdin is piped"));
    let mut tail = Tail::default();
    // Restricted mode first: from here on psql runs SQL only (see psql_guard).
    let mut preamble = format!("\\restrict {}\nBEGIN;\n", psql_guard::restrict_key());
    preamble.push_str(MARK_TRANSACTION_SQL);
    if reset {
        preamble.push_str(RESET_DATABASE_SQL);
        preamble.push('\n');
    }

    let fed = psql_in
        .write_all(preamble.as_bytes())
        .map_err(|_| Feed::PsqlGone);
    let mut script_in = SqlFilter::new(psql_in);
    let fed = fed.and_then(|()| match format {
        DumpFormat::Plain => copy(&mut decoded, &mut script_in, Some(&mut tail), cancel),
        DumpFormat::Custom => {
            through_pg_restore(server, &mut decoded, &mut script_in, &mut tail, cancel)
        }
    });
    let fed = fed.and_then(|()| script_in.finish().map_err(|_| Feed::PsqlGone));
    if let Some(refused) = script_in.refused().cloned() {
        // Nothing of the refused statement reached psql; what did ran in the transaction.
        psql.kill();
        tracing::warn!(source = %label, database = %target.describe(), statement = %refused,
            "restore refused a statement pg_dump never writes");
        return Err(Error::UnsafeBackup {
            source_name: label,
            kind: refused.kind,
            line: refused.line,
        });
    }
    let mut psql_in = match fed {
        Ok(()) => script_in.into_inner(),
        Err(failure) => {
            psql.kill();
            return Err(match failure {
                Feed::Cancelled => Error::Cancelled,
                Feed::Read(e) => read_failed(&label, e),
                Feed::Archive(detail) => corrupt(detail),
                // psql closed its input: it stopped on an SQL error and rolled back.
                Feed::PsqlGone => restore_failed(target, psql.wait().err()),
            });
        }
    };

    let (bytes, sha256) = digest.lock().unwrap_or_else(|e| e.into_inner()).finish();
    let checksum_verified = match &input.expected_sha256 {
        Some(expected) if !expected.eq_ignore_ascii_case(&sha256) => {
            psql.kill();
            return Err(Error::ChecksumMismatch {
                name: label,
                expected: expected.clone(),
                actual: sha256,
            });
        }
        Some(_) => Some(true),
        None => None,
    };
    if !tail.contains(END_MARKER) {
        psql.kill();
        return Err(corrupt(
            "it ends before pg_dump's end-of-dump marker (truncated?)".into(),
        ));
    }
    if cancel.is_cancelled() {
        psql.kill();
        return Err(Error::Cancelled);
    }
    // Everything checked: only now may the transaction commit, if it is still ours.
    if psql_in.write_all(STILL_OURS_SQL.as_bytes()).is_err() {
        return Err(restore_failed(target, psql.wait().err()));
    }
    let commit_line = psql_in.lines + 1;
    if psql_in.write_all(b"COMMIT;\n").is_err() {
        // psql stopped before reading the COMMIT (the check failed, or an error): the
        // transaction is rolled back, unless it was left before.
        return Err(restore_failed(target, psql.wait().err()));
    }
    drop(psql_in);
    if let Err(e) = psql.wait() {
        return Err(failed_near_commit(target, e, commit_line));
    }
    progress.bytes(Phase::Restoring, bytes, None, input.total, true);
    tracing::info!(source = %label, database = %target.describe(), bytes, "restore finished");
    Ok(StreamOutcome {
        bytes,
        sha256,
        checksum_verified,
        format,
        compression,
    })
}

/// psql failed after the COMMIT was written. Its error names the input line it stopped at:
/// a line before the COMMIT, or an error the server answered the COMMIT with, means the
/// transaction was rolled back; anything else (a lost connection during the COMMIT) leaves
/// the outcome unknown, and the message says so.
fn failed_near_commit(target: &DbTarget, error: crate::pg::ChildError, commit_line: u64) -> Error {
    let stderr = match &error {
        crate::pg::ChildError::Failed { stderr, .. } => stderr.clone(),
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

/// Counts the lines written to psql, to tell which line its error message points at.
struct LineCounter<W> {
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

/// Why feeding psql stopped early.
enum Feed {
    Cancelled,
    Read(io::Error),
    Archive(String),
    PsqlGone,
}

/// Replays a custom archive through `pg_restore --file=-` into psql. The archive is fed on
/// a second thread so that neither pipe can fill up and stall the other.
fn through_pg_restore(
    server: &Server,
    archive: &mut (impl Read + Send),
    psql_in: &mut impl Write,
    tail: &mut Tail,
    cancel: &Cancel,
) -> Result<(), Feed> {
    let mut pg_restore = PgCommand::new(&server.tools.path(ToolKind::PgRestore), None)
        .arg("--file=-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Feed::Archive(e.to_string()))?;
    let mut archive_in = pg_restore.take_stdin().expect("stdin is piped");
    let mut script = pg_restore.take_stdout().expect("stdout is piped");
    std::thread::scope(|scope| {
        let feeder = scope.spawn(move || {
            let fed = copy(archive, &mut archive_in, None, cancel);
            drop(archive_in);
            fed
        });
        let replayed = copy(&mut script, psql_in, Some(tail), cancel);
        if replayed.is_err() {
            // Unblocks the feeder if it is stuck writing to pg_restore.
            pg_restore.kill();
        }
        let fed = feeder.join().expect("the feeder thread does not panic");
        replayed?;
        match fed {
            // pg_restore stopped reading: its exit status below says why.
            Err(Feed::PsqlGone) | Ok(()) => {}
            Err(other) => return Err(other),
        }
        finish_pg_restore(pg_restore)
    })
}

fn finish_pg_restore(pg_restore: PgChild) -> Result<(), Feed> {
    pg_restore
        .wait()
        .map(|_| ())
        .map_err(|e| Feed::Archive(e.to_string()))
}

/// Copies until the end of `from`, keeping the tail when asked. A broken pipe means the
/// reading process stopped.
fn copy(
    from: &mut impl Read,
    to: &mut impl Write,
    mut tail: Option<&mut Tail>,
    cancel: &Cancel,
) -> Result<(), Feed> {
    let mut buffer = vec![0u8; COPY_CHUNK];
    loop {
        if cancel.is_cancelled() {
            return Err(Feed::Cancelled);
        }
        let n = match from.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Feed::Read(e)),
        };
        if let Some(tail) = tail.as_deref_mut() {
            tail.push(&buffer[..n]);
        }
        to.write_all(&buffer[..n]).map_err(|_| Feed::PsqlGone)?;
    }
}

/// The backup (a local file or the verified copy) could not be read or decompressed.
fn read_failed(label: &str, e: io::Error) -> Error {
    Error::CorruptBackup {
        source_name: label.to_owned(),
        detail: e.to_string(),
    }
}

/// psql stopped before the COMMIT: rolled back, unless the check before the COMMIT found
/// the session outside the restore's transaction (then parts may have been committed).
fn restore_failed(target: &DbTarget, error: Option<crate::pg::ChildError>) -> Error {
    let detail = match error {
        Some(crate::pg::ChildError::Failed { stderr, .. }) => stderr,
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

/// The running sha256 and size of the bytes read so far.
#[derive(Default)]
struct DigestState {
    hasher: Sha256,
    bytes: u64,
}

impl DigestState {
    fn finish(&mut self) -> (u64, String) {
        let hasher = std::mem::take(&mut self.hasher);
        (self.bytes, hex::encode(hasher.finalize()))
    }
}

/// Hashes and counts the stored bytes as they are read, reporting progress.
struct HashingReader<R> {
    inner: R,
    digest: Arc<Mutex<DigestState>>,
    progress: Progress,
    total: Option<u64>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut digest = self.digest.lock().unwrap_or_else(|e| e.into_inner());
        digest.hasher.update(&buf[..n]);
        digest.bytes += n as u64;
        let bytes = digest.bytes;
        drop(digest);
        self.progress
            .bytes(Phase::Restoring, bytes, None, self.total, false);
        Ok(n)
    }
}

/// The last few KiB written.
#[derive(Default)]
struct Tail(Vec<u8>);

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        self.0
            .extend_from_slice(&bytes[bytes.len().saturating_sub(TAIL_KEEP)..]);
        if self.0.len() > 2 * TAIL_KEEP {
            self.0.drain(..self.0.len() - TAIL_KEEP);
        }
    }

    fn contains(&self, needle: &[u8]) -> bool {
        self.0.windows(needle.len()).any(|w| w == needle)
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
    fn tail_finds_the_marker_across_writes() {
        let mut tail = Tail::default();
        tail.push(&vec![b'x'; 10_000]);
        tail.push(b"-- PostgreSQL database ");
        tail.push(b"dump complete\n--\n\\unrestrict abc\n");
        assert!(tail.contains(END_MARKER));
        tail.push(&vec![b'y'; 10_000]);
        assert!(!tail.contains(END_MARKER));
    }
}
