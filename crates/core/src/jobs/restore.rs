//! The restore job: checks the confirmation, the source and the target, ends or reports
//! other sessions, takes a safety backup of what is about to be replaced, then restores in
//! one transaction (see `sql_stream`). A database it created for the restore is dropped
//! again when the restore fails.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::backup::{self, BackupRequest};
use super::bridge::{spawn_blob_reader, ChannelReader, RetryPolicy};
use super::sql_stream::{restore_stream, RestoreInput, StreamOutcome};
use super::{Cancel, JobEvent, Phase, Progress};
use crate::catalog::{BackupKind, BackupMetadata, BackupName, Compression, DumpFormat};
use crate::error::{Error, Result};
use crate::pg::{maintenance_target, quote_ident, DbTarget, Server};
use crate::storage::BlobStore;

/// Where the backup to restore comes from.
#[derive(Debug, Clone)]
pub enum RestoreSource {
    Stored(BackupName),
    /// A local copy (a download), restorable with no storage at all.
    File(PathBuf),
    /// A local copy whose sha256 is known (recorded when it was downloaded and verified):
    /// a file changed since is refused like a damaged backup.
    CheckedFile {
        path: PathBuf,
        sha256: String,
    },
}

impl RestoreSource {
    fn label(&self) -> String {
        match self {
            RestoreSource::Stored(name) => name.to_string(),
            RestoreSource::File(path) | RestoreSource::CheckedFile { path, .. } => {
                path.display().to_string()
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub source: RestoreSource,
    pub target: DbTarget,
    /// Create the target database when it does not exist.
    pub create: bool,
    /// Must equal the target database's name.
    pub confirm: String,
    pub safety_backup: bool,
    pub terminate_connections: bool,
    pub created_by: Option<String>,
    /// Format and compression of the safety backup.
    pub safety_format: DumpFormat,
    pub safety_compression: Compression,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RestoreOutcome {
    pub source: String,
    pub database: String,
    pub server: String,
    pub created_database: bool,
    /// The backup taken of the target before it was replaced, to roll back with.
    pub safety_backup: Option<BackupName>,
    pub terminated_sessions: usize,
    pub bytes: u64,
    pub sha256: String,
    pub checksum_verified: Option<bool>,
    pub format: DumpFormat,
    pub compression: Compression,
    pub duration_ms: u64,
}

pub async fn run(
    store: &Arc<dyn BlobStore>,
    request: &RestoreRequest,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<RestoreOutcome> {
    let started = Instant::now();
    let target = &request.target;
    let database = target.database();
    if request.confirm != database {
        return Err(Error::ConfirmationMismatch {
            expected: database,
            given: request.confirm.clone(),
        });
    }
    // The source must be readable before anything on the server is touched.
    let (expected_sha256, total) = match &request.source {
        RestoreSource::Stored(name) => {
            let info = store.head(name).await?;
            (
                BackupMetadata::from_map(&info.metadata).and_then(|m| m.sha256),
                Some(info.size),
            )
        }
        RestoreSource::File(path) | RestoreSource::CheckedFile { path, .. } => {
            let meta = std::fs::metadata(path).map_err(|e| Error::io("cannot read", path, e))?;
            if !meta.is_file() {
                return Err(Error::InvalidInput(format!(
                    "{} is not a file",
                    path.display()
                )));
            }
            let expected = match &request.source {
                RestoreSource::CheckedFile { sha256, .. } => Some(sha256.clone()),
                _ => None,
            };
            (expected, Some(meta.len()))
        }
    };

    let (server, existed) = prepare_target(request).await?;
    let mut terminated_sessions = 0;
    if existed {
        terminated_sessions = clear_sessions(&server, request).await?;
    }
    let created_database = !existed;

    let result = async {
        let safety_backup = if existed && request.safety_backup {
            progress.phase(Phase::SafetyBackup, None, None);
            let safety = BackupRequest {
                format: request.safety_format,
                compression: request.safety_compression,
                kind: BackupKind::PreRestore,
                created_by: request.created_by.clone(),
            };
            let outcome = backup::run(store, target, &safety, progress, cancel).await?;
            progress.emit(JobEvent::Note {
                message: format!("safety backup {} taken", outcome.name),
            });
            Some(outcome.name)
        } else {
            None
        };
        let streamed = stream_source(
            store,
            &server,
            request,
            expected_sha256,
            total,
            progress,
            cancel,
        )
        .await?;
        Ok::<_, Error>((safety_backup, streamed))
    }
    .await;

    let (safety_backup, streamed) = match result {
        Ok(done) => done,
        Err(e) => {
            if created_database {
                drop_created(&server, target).await;
            }
            tracing::warn!(database = %target.describe(), error = %e, "restore failed");
            return Err(e);
        }
    };
    let duration_ms = started.elapsed().as_millis() as u64;
    tracing::info!(source = %request.source.label(), database = %target.describe(),
        bytes = streamed.bytes, duration_ms, safety_backup = ?safety_backup, "restore job finished");
    Ok(RestoreOutcome {
        source: request.source.label(),
        database,
        server: format!("{}:{}", target.host(), target.port()),
        created_database,
        safety_backup,
        terminated_sessions,
        bytes: streamed.bytes,
        sha256: streamed.sha256,
        checksum_verified: streamed.checksum_verified,
        format: streamed.format,
        compression: streamed.compression,
        duration_ms,
    })
}

/// Probes the server and creates the target when asked; returns whether it existed.
async fn prepare_target(request: &RestoreRequest) -> Result<(Server, bool)> {
    let target = request.target.clone();
    let create = request.create;
    tokio::task::spawn_blocking(move || {
        if !create {
            let server = Server::probe(&target).map_err(|e| with_create_hint(e, &target))?;
            return Ok((server, true));
        }
        let maintenance = maintenance_target(&target);
        let server = Server::probe(&maintenance)?;
        if server.database_exists(&maintenance, &target.database())? {
            return Ok((server, true));
        }
        tracing::info!(database = %target.describe(), "creating the target database");
        server.sql(&maintenance).execute(&format!(
            "CREATE DATABASE {} TEMPLATE template0",
            quote_ident(&target.database())
        ))?;
        Ok((server, false))
    })
    .await?
}

fn with_create_hint(error: crate::pg::PgError, target: &DbTarget) -> Error {
    let text = error.to_string();
    if text.contains("does not exist") {
        return Error::InvalidInput(format!(
            "database {} does not exist; pass --create to create it",
            target.describe()
        ));
    }
    error.into()
}

/// Refuses while other sessions use the target, or ends them when asked.
async fn clear_sessions(server: &Server, request: &RestoreRequest) -> Result<usize> {
    let server = server.clone();
    let target = request.target.clone();
    let terminate = request.terminate_connections;
    tokio::task::spawn_blocking(move || {
        let sessions = server.other_sessions(&target)?;
        if sessions.is_empty() {
            return Ok(0);
        }
        if !terminate {
            return Err(Error::DatabaseInUse {
                database: target.describe(),
                count: sessions.len(),
                sessions: sessions.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
            });
        }
        tracing::warn!(database = %target.describe(), count = sessions.len(), "ending other sessions before the restore");
        server.terminate(&target, &sessions)?;
        Ok(sessions.len())
    })
    .await?
}

async fn stream_source(
    store: &Arc<dyn BlobStore>,
    server: &Server,
    request: &RestoreRequest,
    expected_sha256: Option<String>,
    total: Option<u64>,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<StreamOutcome> {
    let label = request.source.label();
    let server = server.clone();
    let target = request.target.clone();
    let progress = progress.clone();
    let cancel = cancel.clone();
    match &request.source {
        RestoreSource::Stored(name) => {
            let chunks = spawn_blob_reader(
                store.clone(),
                name.clone(),
                0,
                Phase::Restoring,
                progress.clone(),
                cancel.clone(),
                RetryPolicy::default(),
            );
            tokio::task::spawn_blocking(move || {
                let input = RestoreInput {
                    reader: ChannelReader::new(chunks),
                    label,
                    expected_sha256,
                    total,
                };
                restore_stream(&server, &target, input, true, &progress, &cancel)
            })
            .await?
        }
        RestoreSource::File(path) | RestoreSource::CheckedFile { path, .. } => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                let file =
                    std::fs::File::open(&path).map_err(|e| Error::io("cannot open", &path, e))?;
                let input = RestoreInput {
                    reader: file,
                    label,
                    expected_sha256,
                    total,
                };
                restore_stream(&server, &target, input, true, &progress, &cancel)
            })
            .await?
        }
    }
}

/// Drops a database this restore created, so a failed restore leaves nothing behind.
pub(crate) async fn drop_created(server: &Server, target: &DbTarget) {
    let server = server.clone();
    let target = target.clone();
    let dropped = tokio::task::spawn_blocking(move || {
        // FORCE ends a session a killed psql may have left behind for a moment.
        let force = if server.major >= 13 {
            " WITH (FORCE)"
        } else {
            ""
        };
        let sql = format!(
            "DROP DATABASE IF EXISTS {}{force}",
            quote_ident(&target.database())
        );
        server.sql(&maintenance_target(&target)).execute(&sql)
    })
    .await;
    if !matches!(dropped, Ok(Ok(()))) {
        tracing::warn!("could not drop a database created for a failed restore");
    }
}
