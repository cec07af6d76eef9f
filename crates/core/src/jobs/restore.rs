//! The restore job: checks the confirmation, the source (a local copy's sha256 before
//! anything else) and the target, ends or reports other sessions, then at once takes a
//! safety backup of what is about to be replaced and copies the stored backup aside while
//! checking its sha256 (`spool`); only then restores, in one transaction (see
//! `sql_stream`). A database it created for the restore is dropped again when the restore
//! fails.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::backup::{self, BackupRequest};
use super::spool;
use super::sql_stream::{restore_stream, RestoreInput, StreamOutcome};
use super::{Cancel, JobEvent, Phase, Progress};
use crate::catalog::{BackupKind, BackupMetadata, BackupName, Compression, DumpFormat};
use crate::error::{Error, Result};
use crate::pg::{maintenance_target, quote_ident, DbTarget, RoleInfo, Server};
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
    pub fn label(&self) -> String {
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
    /// The role the backup's SQL ran as (a superuser gives it superuser power).
    pub restored_as: RoleInfo,
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
    refuse_partial_safety_backup(&request.source)?;
    // The source must be readable, and a local copy's checksum right, before anything on
    // the server is touched.
    let source = open_source(store, &request.source).await?;

    let (server, existed) = prepare_target(request).await?;
    let mut terminated_sessions = 0;
    if existed {
        terminated_sessions = clear_sessions(&server, request).await?;
    }
    let created_database = !existed;

    let result = async {
        let role = restoring_role(&server, target, progress).await?;
        let (safety_backup, source) =
            safety_backup_and_spool(store, request, existed, source, progress, cancel).await?;
        let streamed = stream_source(&server, request, source, progress, cancel).await;
        Ok::<_, Error>((
            role,
            safety_backup.clone(),
            streamed.map_err(|e| with_safety(e, safety_backup))?,
        ))
    }
    .await;

    let (restored_as, safety_backup, streamed) = match result {
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
        restored_as,
        bytes: streamed.bytes,
        sha256: streamed.sha256,
        checksum_verified: streamed.checksum_verified,
        format: streamed.format,
        compression: streamed.compression,
        duration_ms,
    })
}

/// The safety backup of a partial restore holds the rows of the affected tables only (and
/// the schema of all): a full restore of it would empty every other table.
fn refuse_partial_safety_backup(source: &RestoreSource) -> Result<()> {
    let file_name = match source {
        RestoreSource::Stored(name) => name.to_string(),
        RestoreSource::File(path) | RestoreSource::CheckedFile { path, .. } => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if !crate::catalog::is_partial_safety_backup(&file_name) {
        return Ok(());
    }
    Err(Error::InvalidInput(format!(
        "{file_name} is the safety backup of a partial restore: it holds the rows of the \
         affected tables only, so restoring it whole would empty every other table. Restore \
         it with the same tables or tenant as the restore it was taken before (rythm-backup \
         restore {file_name} --table … or --tenant …). Nothing was changed."
    )))
}

/// A restore source, opened and (for local copies) checked.
pub(super) enum Source {
    /// In storage: copied aside and checked next to the safety backup.
    Stored {
        name: BackupName,
        expected_sha256: Option<String>,
        size: u64,
    },
    /// A local file, open; its checksum already checked when one is known.
    Local {
        file: File,
        expected_sha256: Option<String>,
        size: u64,
    },
}

pub(super) async fn open_source(
    store: &Arc<dyn BlobStore>,
    source: &RestoreSource,
) -> Result<Source> {
    match source {
        RestoreSource::Stored(name) => {
            let info = store.head(name).await?;
            Ok(Source::Stored {
                name: name.clone(),
                expected_sha256: BackupMetadata::from_map(&info.metadata).and_then(|m| m.sha256),
                size: info.size,
            })
        }
        RestoreSource::File(path) | RestoreSource::CheckedFile { path, .. } => {
            let expected = match source {
                RestoreSource::CheckedFile { sha256, .. } => Some(sha256.clone()),
                _ => None,
            };
            let path = path.clone();
            tokio::task::spawn_blocking(move || open_local(&path, expected)).await?
        }
    }
}

/// Opens a local copy; when its sha256 is known, reads it once to check it, so a changed
/// file is refused before anything runs (and re-checked as it is restored).
fn open_local(path: &std::path::Path, expected_sha256: Option<String>) -> Result<Source> {
    let mut file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot read", path, e))?;
    if !meta.is_file() {
        return Err(Error::InvalidInput(format!(
            "{} is not a file",
            path.display()
        )));
    }
    if let Some(expected) = &expected_sha256 {
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut buffer)
                .map_err(|e| Error::io("cannot read", path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        let actual = hex::encode(hasher.finalize());
        if !expected.eq_ignore_ascii_case(&actual) {
            return Err(Error::ChecksumMismatch {
                name: path.display().to_string(),
                expected: expected.clone(),
                actual,
            });
        }
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io("cannot read", path, e))?;
    }
    Ok(Source::Local {
        file,
        expected_sha256,
        size: meta.len(),
    })
}

/// The role the restore runs as; a superuser is worth a warning (the backup's SQL then
/// runs with superuser power: `COPY … TO PROGRAM` on the server, any role or setting).
pub(super) async fn restoring_role(
    server: &Server,
    target: &DbTarget,
    progress: &Progress,
) -> Result<RoleInfo> {
    let (server, target_) = (server.clone(), target.clone());
    let role = tokio::task::spawn_blocking(move || server.role(&target_)).await??;
    if role.superuser {
        tracing::warn!(database = %target.describe(), role = %role.name,
            "restoring as a superuser: the backup's SQL runs with superuser power; restore as \
             the database owner's role instead");
        progress.emit(JobEvent::Note {
            message: superuser_warning(&role.name),
        });
    }
    Ok(role)
}

/// What the front ends say when a restore runs as a superuser.
pub fn superuser_warning(role: &str) -> String {
    format!(
        "Restoring as {role}, a superuser: the backup's SQL runs with superuser power on the \
         database server. Restore as the database owner's role instead where you can."
    )
}

/// The safety backup and the copy of a stored backup, side by side (neither needs the
/// other); when one fails the other is stopped.
async fn safety_backup_and_spool(
    store: &Arc<dyn BlobStore>,
    request: &RestoreRequest,
    existed: bool,
    source: Source,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<(Option<BackupName>, Source)> {
    let both = cancel.child_token();
    let safety = async {
        if !(existed && request.safety_backup) {
            return Ok(None);
        }
        progress.phase(Phase::SafetyBackup, None, None);
        let safety = BackupRequest {
            format: request.safety_format,
            compression: request.safety_compression,
            kind: BackupKind::PreRestore,
            created_by: request.created_by.clone(),
        };
        let taken = backup::run(store, &request.target, &safety, progress, &both).await;
        match taken {
            Ok(outcome) => {
                progress.emit(JobEvent::Note {
                    message: format!("safety backup {} taken", outcome.name),
                });
                Ok(Some(outcome.name))
            }
            Err(e) => {
                both.cancel();
                Err(e)
            }
        }
    };
    let spooled = async {
        let Source::Stored {
            name,
            expected_sha256,
            size,
        } = source
        else {
            return Ok(source);
        };
        match spool::fetch(
            store,
            &name,
            expected_sha256.as_deref(),
            Some(size),
            progress,
            &both,
        )
        .await
        {
            // Checked again as it is restored (and `None` stays `None` for a legacy backup).
            Ok(copy) => Ok(Source::Local {
                file: copy.file,
                expected_sha256,
                size: copy.bytes,
            }),
            Err(e) => {
                both.cancel();
                Err(e)
            }
        }
    };
    let (safety, spooled) = tokio::join!(safety, spooled);
    match (safety, spooled) {
        (Ok(safety), Ok(source)) => Ok((safety, source)),
        // The real failure, not the cancellation it caused on the other side.
        (Err(e), Err(Error::Cancelled)) | (Err(Error::Cancelled), Err(e)) => Err(e),
        (_, Err(e)) | (Err(e), _) => Err(e),
    }
}

/// A source ready to be read: a stored backup copied aside with its sha256 checked first
/// (`spool`), a local file as it was opened. Returns the file, the sha256 to check again as
/// it is read, and its size.
pub(super) async fn checked_copy(
    store: &Arc<dyn BlobStore>,
    source: Source,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<(File, Option<String>, u64)> {
    match source {
        Source::Local {
            file,
            expected_sha256,
            size,
        } => Ok((file, expected_sha256, size)),
        Source::Stored {
            name,
            expected_sha256,
            size,
        } => {
            let copy = spool::fetch(
                store,
                &name,
                expected_sha256.as_deref(),
                Some(size),
                progress,
                cancel,
            )
            .await?;
            Ok((copy.file, expected_sha256, copy.bytes))
        }
    }
}

/// Names the safety backup in an error whose outcome is not known.
pub(super) fn with_safety(error: Error, safety_backup: Option<BackupName>) -> Error {
    match error {
        Error::RestoreOutcomeUnknown {
            database, detail, ..
        } => Error::RestoreOutcomeUnknown {
            database,
            detail,
            safety_backup: safety_backup.map(|n| n.to_string()),
        },
        other => other,
    }
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
        let sessions = settled_sessions(&server, &target)?;
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

/// How long sessions of our own tools may take to go. A PostgreSQL backend outlives its
/// client by a moment (longer on a busy machine): the probe and queries just made on the
/// target must not count as "other sessions".
const OWN_SESSIONS_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// The other sessions on the target, after giving sessions of rythm-backup's own tools
/// (`application_name` rythm-backup, just closed) a moment to end. Anyone else's session is
/// reported at once.
fn settled_sessions(server: &Server, target: &DbTarget) -> Result<Vec<crate::pg::Session>> {
    let deadline = std::time::Instant::now() + OWN_SESSIONS_GRACE;
    loop {
        let sessions = server.other_sessions(target)?;
        let only_ours = sessions.iter().all(|s| s.application == "rythm-backup");
        if sessions.is_empty() || !only_ours || std::time::Instant::now() >= deadline {
            return Ok(sessions);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

async fn stream_source(
    server: &Server,
    request: &RestoreRequest,
    source: Source,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<StreamOutcome> {
    let label = request.source.label();
    let server = server.clone();
    let target = request.target.clone();
    let progress = progress.clone();
    let cancel = cancel.clone();
    let Source::Local {
        file,
        expected_sha256,
        size,
    } = source
    else {
        return Err(Error::Internal(
            "a stored backup was not copied first".into(),
        ));
    };
    tokio::task::spawn_blocking(move || {
        let input = RestoreInput {
            reader: file,
            label,
            expected_sha256,
            total: Some(size),
        };
        restore_stream(&server, &target, input, true, &progress, &cancel)
    })
    .await?
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
