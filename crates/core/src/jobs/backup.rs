//! The backup job: `pg_dump` streamed through compression and sha256 straight into a blob
//! upload, with no temporary file and memory bounded by a few blocks whatever the size.

use std::io::Read;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::bridge::BlockWriter;
use super::snapshot::RowCounting;
use super::{Cancel, Phase, Progress};
use crate::catalog::{row_counts, BackupKind, BackupMetadata, BackupName, Compression, DumpFormat};
use crate::codec::Encoder;
use crate::error::{Error, Result};
use crate::pg::{DbTarget, PgCommand, PgError, Server, ToolKind};
use crate::storage::{BlobStore, BlobUpload};

/// Size of each read from pg_dump's stdout.
const READ_CHUNK: usize = 1024 * 1024;
/// Blocks waiting for upload; with the store's in-flight blocks this bounds memory.
const QUEUED_BLOCKS: usize = 2;

/// What to back up and how.
#[derive(Debug, Clone)]
pub struct BackupRequest {
    pub format: DumpFormat,
    pub compression: Compression,
    pub kind: BackupKind,
    /// Who asked (an email, or the OS user for the CLI).
    pub created_by: Option<String>,
}

/// The result of a backup, in the seed API's field names plus ours.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupOutcome {
    pub name: BackupName,
    pub size: u64,
    pub raw_size: u64,
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub database: String,
    pub server_version: String,
    pub pg_dump_version: String,
    pub format: DumpFormat,
    pub compression: Compression,
    pub duration_ms: u64,
    #[serde(rename = "type")]
    pub kind: BackupKind,
}

/// How pg_dump writes the dump, beyond the request's format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DumpOptions {
    /// `--clean --if-exists`: the dump drops each object (if it exists) before creating it,
    /// so a restore that does not empty the database first (the RYTHM platform's
    /// `psql < file`, in a container shared with it) still replaces what was there.
    pub clean: bool,
    /// `--exclude-table-data` patterns: the schema is whole, these tables' rows are left
    /// out (a partial restore's safety backup keeps only the affected tables' rows).
    pub exclude_table_data: Vec<String>,
    /// The name's prefix instead of the kind's (`pre-restore-tables` for such a backup).
    pub name_prefix: Option<&'static str>,
}

/// What one pg_dump run is told beyond the request: the options, and the snapshot the row
/// counts were taken in (when one was exported).
struct DumpPlan {
    options: DumpOptions,
    snapshot: Option<String>,
}

/// Dumps `database` into `store`. Nothing is listed unless the whole dump succeeded.
pub async fn run(
    store: &Arc<dyn BlobStore>,
    database: &DbTarget,
    request: &BackupRequest,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<BackupOutcome> {
    run_with(
        store,
        database,
        request,
        DumpOptions::default(),
        progress,
        cancel,
    )
    .await
}

/// `run` with pg_dump's `options`.
pub async fn run_with(
    store: &Arc<dyn BlobStore>,
    database: &DbTarget,
    request: &BackupRequest,
    options: DumpOptions,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<BackupOutcome> {
    let started = Instant::now();
    let now = OffsetDateTime::now_utc();
    // Millisecond precision, as in the backup's name, so name and metadata agree.
    let created_at = now
        .replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(now);
    let target = database.clone();
    let server = tokio::task::spawn_blocking(move || Server::probe(&target)).await??;
    let name = BackupName::generate(
        options.name_prefix.unwrap_or(request.kind.name_prefix()),
        created_at,
        request.format,
        request.compression,
    );
    tracing::info!(backup = %name, database = %database.describe(), server = %server.version,
        pg_dump = %server.tools.version(), "backup started");
    progress.phase(Phase::Dumping, Some(name.to_string()), None);

    store.ensure_ready().await?;
    // Row counts taken in the snapshot pg_dump reads (see `snapshot`). None for a dump that
    // leaves tables' rows out: its counts would describe rows it does not hold (the
    // listing would show them, a restore could be chosen by them, and a rehearsal would
    // find every left-out table short).
    let counting = if options.exclude_table_data.is_empty() {
        RowCounting::start(&server, database).await
    } else {
        None
    };
    let snapshot = counting.as_ref().map(|c| c.snapshot().to_owned());
    let mut upload = store.begin_upload(&name).await?;
    let (sender, mut receiver) = mpsc::channel::<Bytes>(QUEUED_BLOCKS);
    let raw_counter = Arc::new(AtomicU64::new(0));
    let dump = {
        let server = server.clone();
        let database = database.clone();
        let request = request.clone();
        let raw_counter = raw_counter.clone();
        let cancel = cancel.clone();
        let options = options.clone();
        tokio::task::spawn_blocking(move || {
            dump_into(
                &server,
                &database,
                &request,
                DumpPlan { options, snapshot },
                sender,
                &raw_counter,
                &cancel,
            )
        })
    };

    let mut hasher = Sha256::new();
    let mut stored = 0u64;
    let mut upload_error = None;
    while let Some(block) = receiver.recv().await {
        hasher.update(&block);
        stored += block.len() as u64;
        if let Err(e) = upload.put_block(block).await {
            upload_error = Some(Error::from(e));
            break;
        }
        let raw = raw_counter.load(Ordering::Relaxed);
        progress.bytes(Phase::Dumping, stored, Some(raw), None, false);
    }
    // Closing the receiver makes a still-running dump stop at its next block.
    drop(receiver);
    let dumped = dump.await?;
    let raw_size = match (upload_error, dumped) {
        // A Ctrl-C also reaches pg_dump, which may die before we notice the cancellation.
        (None, Err(_)) if cancel.is_cancelled() => {
            return abort(upload, &name, Error::Cancelled).await
        }
        (Some(e), _) | (None, Err(e)) => return abort(upload, &name, e).await,
        (None, Ok(_)) if cancel.is_cancelled() => {
            return abort(upload, &name, Error::Cancelled).await
        }
        (None, Ok(raw)) => raw,
    };
    progress.bytes(Phase::Dumping, stored, Some(raw_size), None, true);

    let sha256 = hex::encode(hasher.finalize());
    let duration_ms = started.elapsed().as_millis() as u64;
    let metadata = BackupMetadata {
        format: request.format,
        compression: request.compression,
        sha256: Some(sha256.clone()),
        raw_size: Some(raw_size),
        database: Some(database.database()),
        server_version: Some(server.version.clone()),
        pg_dump_version: Some(server.tools.version().to_owned()),
        created_by: request.created_by.clone(),
        tool_version: Some(crate::TOOL_VERSION.to_owned()),
        duration_ms: Some(duration_ms),
        created_at: Some(created_at),
        kind: request.kind,
    };
    let mut stored_metadata = metadata.to_map();
    let counts = match counting {
        Some(counting) => counting.finish().await,
        None => None,
    };
    let manifest = match &counts {
        Some(tables) => Some(row_counts::store_beside(store, &name, tables).await?),
        None => None,
    };
    if let Some(manifest) = &manifest {
        stored_metadata.extend(manifest.metadata.clone());
    }
    let info = match upload.commit(stored_metadata).await {
        Ok(info) => info,
        Err(e) => {
            crate::catalog::records::forget(store, &name).await;
            return Err(e.into());
        }
    };
    tracing::info!(backup = %name, size = info.size, raw_size, duration_ms, "backup finished");
    Ok(BackupOutcome {
        name,
        size: info.size,
        raw_size,
        sha256,
        created_at,
        database: database.database(),
        server_version: server.version,
        pg_dump_version: server.tools.version().to_owned(),
        format: request.format,
        compression: request.compression,
        duration_ms,
        kind: request.kind,
    })
}

async fn abort(
    upload: Box<dyn BlobUpload>,
    name: &BackupName,
    error: Error,
) -> Result<BackupOutcome> {
    tracing::warn!(backup = %name, error = %error, "backup failed; discarding the partial upload");
    upload.abort().await;
    Err(error)
}

/// Runs pg_dump (in `snapshot`, when one was exported) and pushes its compressed output
/// into `sender`; returns the dump's size.
fn dump_into(
    server: &Server,
    database: &DbTarget,
    request: &BackupRequest,
    plan: DumpPlan,
    sender: mpsc::Sender<Bytes>,
    raw_counter: &AtomicU64,
    cancel: &Cancel,
) -> Result<u64> {
    let mut command = PgCommand::new(&server.tools.path(ToolKind::PgDump), database.password())
        .arg("--no-password")
        .arg(format!("--dbname={}", database.url_without_password()))
        .stdout(Stdio::piped());
    command = match (request.format, request.compression) {
        (DumpFormat::Plain, _) => command.arg("--format=plain"),
        // pg_dump's own zlib is slow; when we compress, it must not.
        (DumpFormat::Custom, Compression::None) => command.arg("--format=custom"),
        (DumpFormat::Custom, _) => command.arg("--format=custom").arg("--compress=0"),
    };
    if plan.options.clean {
        command = command.arg("--clean").arg("--if-exists");
    }
    for pattern in &plan.options.exclude_table_data {
        command = command.arg(format!("--exclude-table-data={pattern}"));
    }
    if let Some(snapshot) = &plan.snapshot {
        command = command.arg(format!("--snapshot={snapshot}"));
    }
    let mut child = command
        .spawn()
        .map_err(|e| dump_failed(database, e.into()))?;
    let mut stdout = child.take_stdout().expect("stdout is piped");
    let mut encoder = Encoder::new(request.compression, BlockWriter::new(sender))
        .map_err(|e| Error::Internal(format!("cannot start the compressor: {e}")))?;

    let mut buffer = vec![0u8; READ_CHUNK];
    let mut raw = 0u64;
    let copied: std::io::Result<()> = loop {
        if cancel.is_cancelled() {
            child.kill();
            return Err(Error::Cancelled);
        }
        match stdout.read(&mut buffer) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                raw += n as u64;
                if let Err(e) = std::io::Write::write_all(&mut encoder, &buffer[..n]) {
                    break Err(e);
                }
                raw_counter.store(raw, Ordering::Relaxed);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        }
    };
    if let Err(e) = copied {
        // The upload side stopped (its error is reported) or the pipe broke.
        child.kill();
        let _ = child.wait();
        return Err(Error::Internal(format!("the dump stream stopped: {e}")));
    }
    // pg_dump's exit status decides before anything is committed: a failed dump is no backup.
    child.wait().map_err(|e| dump_failed(database, e.into()))?;
    let writer = encoder
        .finish()
        .map_err(|e| Error::Internal(format!("the dump stream stopped: {e}")))?;
    writer
        .finish()
        .map_err(|e| Error::Internal(format!("the dump stream stopped: {e}")))?;
    Ok(raw)
}

fn dump_failed(database: &DbTarget, source: PgError) -> Error {
    Error::DumpFailed {
        database: database.describe(),
        source,
    }
}
