//! The heart of every restore: a backup's bytes (already checked against their sha256, see
//! `spool`) are decompressed and become SQL (`Replay`; custom archives pass through
//! `pg_restore --file=-` first) fed into one psql transaction (`transaction`). Every
//! statement passes the `sql_filter` first, so nothing but what pg_dump writes reaches
//! psql: no `COMMIT` of the backup's own can end the transaction early. `COMMIT` is written
//! only after the checksum, pg_restore's exit and pg_dump's end-of-dump marker are all
//! confirmed, and after a check that the session is still in the restore's own
//! transaction; any failure or a killed process leaves the target exactly as it was.
//! psql runs in restricted mode throughout as a second line, so even a backslash command
//! the filter missed could not run on this machine; see `psql_guard`. `Replay` also feeds
//! `contents`, which reads a backup's SQL without running it.

use std::io::{self, Read, Write};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::sql_filter::SqlFilter;
use super::transaction::Transaction;
use super::{Cancel, Phase, Progress};
use crate::catalog::{sniff_compression, sniff_format, Compression, DumpFormat, SNIFF_LEN};
use crate::codec;
use crate::error::{Error, Result};
use crate::pg::{DbTarget, PgChild, PgCommand, PgTools, Server, ToolKind};

/// pg_dump ends every complete dump (plain, or a custom archive replayed by pg_restore) with
/// this comment; its absence means the dump was cut short.
const END_MARKER: &[u8] = b"-- PostgreSQL database dump complete";
/// How much of the SQL's end is kept to look for the marker (newer dumps add an
/// `\unrestrict` line after it).
const TAIL_KEEP: usize = 4096;
const COPY_CHUNK: usize = 256 * 1024;

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

/// A backup's bytes decompressed (and for custom archives replayed by pg_restore) into SQL,
/// with the sha256 of the stored bytes and the end of the SQL kept: what `replay` needs
/// before it can say the SQL was whole and genuine.
pub(crate) struct Replay {
    decoded: Box<dyn Read + Send + 'static>,
    digest: Arc<Mutex<DigestState>>,
    pub format: DumpFormat,
    pub compression: Compression,
    label: String,
    expected_sha256: Option<String>,
    total: Option<u64>,
}

impl Replay {
    /// Sniffs compression and format from the first bytes; progress is reported for `phase`.
    pub(crate) fn open<R: Read + Send + 'static>(
        input: RestoreInput<R>,
        phase: Phase,
        progress: &Progress,
    ) -> Result<Self> {
        let label = input.label.clone();
        progress.phase(phase, Some(input.label.clone()), input.total);
        let digest = Arc::new(Mutex::new(DigestState::default()));
        let hashing = HashingReader {
            inner: input.reader,
            digest: digest.clone(),
            progress: progress.clone(),
            phase,
            total: input.total,
        };
        let (buffered, head) =
            codec::peek(hashing, SNIFF_LEN).map_err(|e| read_failed(&label, e))?;
        if head.is_empty() {
            return Err(corrupt(&label, "it is empty".into()));
        }
        let compression = sniff_compression(&head);
        let decoded =
            codec::decoder(compression, buffered).map_err(|e| corrupt(&label, e.to_string()))?;
        let (decoded, head) =
            codec::peek(decoded, SNIFF_LEN).map_err(|e| read_failed(&label, e))?;
        Ok(Replay {
            decoded: Box::new(decoded),
            digest,
            format: sniff_format(&head),
            compression,
            label,
            expected_sha256: input.expected_sha256,
            total: input.total,
        })
    }

    /// Writes the whole SQL into `out` (custom archives need `tools`' pg_restore).
    /// `Err(Feed::PsqlGone)` when `out` stopped taking it.
    pub(crate) fn feed(
        &mut self,
        tools: Option<&PgTools>,
        out: &mut impl Write,
        tail: &mut Tail,
        cancel: &Cancel,
    ) -> Result<(), Feed> {
        match self.format {
            DumpFormat::Plain => copy(&mut self.decoded, out, Some(tail), cancel),
            DumpFormat::Custom => {
                let Some(tools) = tools else {
                    return Err(Feed::Archive("a custom archive needs pg_restore".into()));
                };
                through_pg_restore(tools, &mut self.decoded, out, tail, cancel)
            }
        }
    }

    /// After a complete `feed`: the stored bytes' size and sha256, checked against the
    /// recorded one, and the end-of-dump marker checked; else the error that says why.
    pub(crate) fn confirm(&self, tail: &Tail) -> Result<StreamOutcome> {
        let (bytes, sha256) = self
            .digest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .finish();
        let checksum_verified = match &self.expected_sha256 {
            Some(expected) if !expected.eq_ignore_ascii_case(&sha256) => {
                return Err(Error::ChecksumMismatch {
                    name: self.label.clone(),
                    expected: expected.clone(),
                    actual: sha256,
                });
            }
            Some(_) => Some(true),
            None => None,
        };
        if !tail.contains(END_MARKER) {
            return Err(corrupt(
                &self.label,
                "it ends before pg_dump's end-of-dump marker (truncated?)".into(),
            ));
        }
        Ok(StreamOutcome {
            bytes,
            sha256,
            checksum_verified,
            format: self.format,
            compression: self.compression,
        })
    }

    /// The size of the stored bytes, when known in advance.
    pub(crate) fn total(&self) -> Option<u64> {
        self.total
    }

    /// The error a failed `feed` stands for (`PsqlGone` is the caller's to explain).
    pub(crate) fn feed_error(&self, failure: Feed) -> Option<Error> {
        match failure {
            Feed::Cancelled => Some(Error::Cancelled),
            Feed::Read(e) => Some(read_failed(&self.label, e)),
            Feed::Archive(detail) => Some(corrupt(&self.label, detail)),
            Feed::PsqlGone => None,
        }
    }
}

/// Restores `input` into `target` in one transaction; `reset` empties the target first.
pub fn restore_stream<R: Read + Send + 'static>(
    server: &Server,
    target: &DbTarget,
    input: RestoreInput<R>,
    reset: bool,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<StreamOutcome> {
    let label = input.label.clone();
    let mut replay = Replay::open(input, Phase::Restoring, progress)?;
    tracing::info!(source = %label, database = %target.describe(), format = ?replay.format,
        compression = ?replay.compression, "restore started");

    let mut transaction = Transaction::begin(server, target, false)?;
    let mut tail = Tail::default();
    let fed = if reset {
        let reset_sql = format!("{RESET_DATABASE_SQL}\n");
        transaction
            .input()
            .write_all(reset_sql.as_bytes())
            .map_err(|_| Feed::PsqlGone)
    } else {
        Ok(())
    };
    let mut script_in = SqlFilter::new(transaction.input());
    let fed =
        fed.and_then(|()| replay.feed(Some(&server.tools), &mut script_in, &mut tail, cancel));
    let fed = fed.and_then(|()| script_in.finish().map_err(|_| Feed::PsqlGone));
    if let Some(refused) = script_in.refused().cloned() {
        // Nothing of the refused statement reached psql; what did ran in the transaction.
        transaction.kill();
        tracing::warn!(source = %label, database = %target.describe(), statement = %refused,
            "restore refused a statement pg_dump never writes");
        return Err(Error::UnsafeBackup {
            source_name: label,
            kind: refused.kind,
            line: refused.line,
        });
    }
    if let Err(failure) = fed {
        return Err(match replay.feed_error(failure) {
            Some(error) => {
                transaction.kill();
                error
            }
            // psql closed its input: it stopped on an SQL error and rolled back.
            None => transaction.failed(),
        });
    }
    let outcome = match replay.confirm(&tail) {
        Ok(outcome) => outcome,
        Err(e) => {
            transaction.kill();
            return Err(e);
        }
    };
    if cancel.is_cancelled() {
        transaction.kill();
        return Err(Error::Cancelled);
    }
    // Everything checked: only now may the transaction commit, if it is still ours.
    transaction.commit()?;
    progress.bytes(Phase::Restoring, outcome.bytes, None, replay.total(), true);
    tracing::info!(source = %label, database = %target.describe(), bytes = outcome.bytes, "restore finished");
    Ok(outcome)
}

fn corrupt(label: &str, detail: String) -> Error {
    Error::CorruptBackup {
        source_name: label.to_owned(),
        detail,
    }
}

/// Why feeding psql stopped early.
pub(crate) enum Feed {
    Cancelled,
    Read(io::Error),
    Archive(String),
    PsqlGone,
}

/// Replays a custom archive through `pg_restore --file=-` into psql. The archive is fed on
/// a second thread so that neither pipe can fill up and stall the other.
fn through_pg_restore(
    tools: &PgTools,
    archive: &mut (impl Read + Send),
    psql_in: &mut impl Write,
    tail: &mut Tail,
    cancel: &Cancel,
) -> Result<(), Feed> {
    let mut pg_restore = PgCommand::new(&tools.path(ToolKind::PgRestore), None)
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
    phase: Phase,
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
            .bytes(self.phase, bytes, None, self.total, false);
        Ok(n)
    }
}

/// The last few KiB written.
#[derive(Default)]
pub(crate) struct Tail(Vec<u8>);

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
