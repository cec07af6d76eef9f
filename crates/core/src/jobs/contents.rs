//! The contents job: streams a backup once (a stored one straight from storage, or a local
//! file), hashing it, decompressing it and, for custom archives, replaying it through
//! `pg_restore --file=-`, into `catalog::contents`'s reader. No database is needed and
//! nothing runs; memory stays bounded whatever the backup's size. A checksum that does not
//! match the recorded one is an error: the listing would describe other bytes than the
//! ones backed up.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use super::bridge::{spawn_blob_reader, ChunkReader, RetryPolicy};
use super::sql_stream::{Replay, RestoreInput, Tail};
use super::{Cancel, Phase, Progress};
use crate::catalog::contents::{prefer_recorded, BackupContents, ContentsReader};
use crate::catalog::row_counts::{self, TableRows};
use crate::catalog::{BackupMetadata, BackupName, DumpFormat};
use crate::error::{Error, Result};
use crate::pg::PgTools;
use crate::storage::BlobStore;

/// The backup to look into.
#[derive(Debug, Clone)]
pub enum ContentsSource {
    Stored(BackupName),
    File(PathBuf),
}

/// Reads what `source` holds; `tenant_column` (e.g. `tenant_id`) is tallied per tenant.
pub async fn run(
    store: &Arc<dyn BlobStore>,
    source: &ContentsSource,
    tenant_column: Option<&str>,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<BackupContents> {
    let tenant_column = tenant_column.map(str::to_owned);
    let (mut contents, recorded) = match source {
        ContentsSource::Stored(name) => {
            let info = store.head(name).await?;
            let expected = BackupMetadata::from_map(&info.metadata).and_then(|m| m.sha256);
            let chunks = spawn_blob_reader(
                store.clone(),
                name.clone(),
                0,
                Phase::Verifying,
                Progress::none(),
                cancel.clone(),
                RetryPolicy::default(),
            );
            let reader = ChunkReader::new(chunks);
            let failure = reader.error_slot();
            let input = RestoreInput {
                reader,
                label: name.to_string(),
                expected_sha256: expected,
                total: Some(info.size),
            };
            let (progress, cancel) = (progress.clone(), cancel.clone());
            let read = tokio::task::spawn_blocking(move || {
                read_contents(input, tenant_column.as_deref(), &progress, &cancel)
            })
            .await?;
            let stored_failure = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
            let contents = match (read, stored_failure) {
                (Err(_), Some(original)) => return Err(original),
                (read, _) => read?,
            };
            (contents, recorded_row_counts(store, name).await)
        }
        ContentsSource::File(path) => {
            let path = path.clone();
            let (progress, cancel) = (progress.clone(), cancel.clone());
            let contents = tokio::task::spawn_blocking(move || {
                let file = File::open(&path).map_err(|e| Error::io("cannot open", &path, e))?;
                let total = file.metadata().ok().map(|m| m.len());
                let input = RestoreInput {
                    reader: file,
                    label: path.display().to_string(),
                    expected_sha256: None,
                    total,
                };
                read_contents(input, tenant_column.as_deref(), &progress, &cancel)
            })
            .await??;
            (contents, None)
        }
    };
    prefer_recorded(&mut contents.contents.tables, recorded.as_deref());
    tracing::info!(source = %contents.source, tables = contents.contents.tables.len(),
        sql_bytes = contents.contents.sql_bytes, "contents read");
    Ok(contents)
}

/// Row counts recorded when the backup was taken (counted in pg_dump's own snapshot, kept
/// with the backup), where it has them; `prefer_recorded` lets them win. A record that
/// cannot be read only means the counted figures are shown.
async fn recorded_row_counts(
    store: &Arc<dyn BlobStore>,
    name: &BackupName,
) -> Option<Vec<TableRows>> {
    match row_counts::recorded(store, name).await {
        Ok(recorded) => recorded,
        Err(e) => {
            tracing::warn!(backup = %name, error = %e, "recorded row counts unreadable; showing counted ones");
            None
        }
    }
}

/// Reads what `input` holds (its checksum checked), without any database.
pub(crate) fn read_contents<R: std::io::Read + Send + 'static>(
    input: RestoreInput<R>,
    tenant_column: Option<&str>,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<BackupContents> {
    let label = input.label.clone();
    let mut replay = Replay::open(input, Phase::Verifying, progress)?;
    // A plain dump needs no PostgreSQL tool at all.
    let tools = match replay.format {
        DumpFormat::Custom => Some(PgTools::newest()?),
        DumpFormat::Plain => None,
    };
    let mut reader = ContentsReader::new(tenant_column);
    let mut tail = Tail::default();
    if let Err(failure) = replay.feed(tools.as_ref(), &mut reader, &mut tail, cancel) {
        return Err(replay.feed_error(failure).unwrap_or_else(|| {
            Error::Internal(format!("reading the contents of {label} stopped"))
        }));
    }
    let checked = replay.confirm(&tail)?;
    progress.bytes(Phase::Verifying, checked.bytes, None, replay.total(), true);
    Ok(BackupContents {
        source: label,
        format: checked.format,
        compression: checked.compression,
        bytes: checked.bytes,
        sha256: checked.sha256,
        checksum_verified: checked.checksum_verified,
        contents: reader.finish(),
    })
}
