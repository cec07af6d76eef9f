//! `Engine`: direct mode put together. It holds one store and one database and exposes the
//! jobs as methods; front ends build one from an `EngineConfig` and call it.

use std::path::PathBuf;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::catalog::contents::BackupContents;
use crate::catalog::{
    entries_newest_first, BackupEntry, BackupKind, BackupName, Compression, DumpFormat,
};
use crate::config::{EngineConfig, StorageConfig};
use crate::error::{Error, Result};
use crate::jobs::backup::{self, BackupOutcome, BackupRequest, DumpOptions};
use crate::jobs::contents::{self, ContentsSource};
use crate::jobs::download::{self, DownloadOutcome, DownloadRequest};
use crate::jobs::partial::{self, PartialRequest, PartialRestoreOutcome, PartialSelection};
use crate::jobs::prune::{self, PruneOutcome};
use crate::jobs::restore::{self, RestoreOutcome, RestoreRequest, RestoreSource};
use crate::jobs::verify::{self, VerifyOutcome};
use crate::jobs::{Cancel, Progress};
use crate::pg::DbTarget;
use crate::storage::azure::AzureStore;
use crate::storage::local::LocalStore;
use crate::storage::BlobStore;

/// The only format and compression the RYTHM platform lists and restores.
pub const PLATFORM_FORMAT: (DumpFormat, Compression) = (DumpFormat::Plain, Compression::None);

/// Options of a restore, beyond the source.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Another database than the configured one (same server credentials when it has none).
    pub target: Option<DbTarget>,
    pub create: bool,
    pub confirm: String,
    pub skip_safety_backup: bool,
    pub terminate_connections: bool,
}

/// What a successful backup did, retention included.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupReport {
    #[serde(flatten)]
    pub backup: BackupOutcome,
    /// What retention deleted afterwards.
    pub pruned: Vec<BackupName>,
    /// Set when retention failed; the backup itself is safe.
    pub prune_error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Engine {
    config: EngineConfig,
    store: Arc<dyn BlobStore>,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Result<Self> {
        let store: Arc<dyn BlobStore> = match &config.storage {
            StorageConfig::Azure {
                connection_string,
                container,
            } => Arc::new(AzureStore::from_connection_string(
                connection_string.expose(),
                container,
            )?),
            StorageConfig::Local { dir } => Arc::new(LocalStore::new(dir.clone())),
        };
        Ok(Engine { config, store })
    }

    /// An engine over an existing store (tests, the server).
    pub fn with_store(config: EngineConfig, store: Arc<dyn BlobStore>) -> Self {
        Engine { config, store }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn store(&self) -> &Arc<dyn BlobStore> {
        &self.store
    }

    fn database(&self) -> Result<&DbTarget> {
        self.config.database.as_ref().ok_or_else(|| {
            Error::Config("no database configured: set DATABASE_URL (postgresql://user:password@host:port/db)".into())
        })
    }

    /// Dumps the database, then applies retention.
    pub async fn backup(
        &self,
        kind: BackupKind,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<BackupReport> {
        let request = BackupRequest {
            format: self.config.format,
            compression: self.config.compression,
            kind,
            created_by: self.config.created_by.clone(),
        };
        self.backup_with(&request, progress, cancel).await
    }

    /// Dumps with `request`'s format and compression. In a container shared with the RYTHM
    /// platform only what the platform lists and restores is allowed (plain, uncompressed),
    /// and the dump drops each object before creating it (see `DumpOptions::clean`).
    pub async fn backup_with(
        &self,
        request: &BackupRequest,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<BackupReport> {
        let shared = self.config.shared_with_platform;
        if shared && (request.format, request.compression) != PLATFORM_FORMAT {
            return Err(Error::InvalidInput(format!(
                "this container is shared with the RYTHM platform, which lists and restores \
                 only plain, uncompressed .sql backups; a {} backup compressed with {} would \
                 not appear there: leave the format and compression at plain and none",
                request.format.as_str(),
                request.compression.as_str()
            )));
        }
        let dump = DumpOptions {
            clean: shared,
            ..DumpOptions::default()
        };
        let database = self.database()?;
        let outcome = logged(
            "backup",
            backup::run_with(&self.store, database, request, dump, progress, cancel).await,
        )?;
        let (pruned, prune_error) =
            match prune::run(&self.store, self.config.retention_days, false, None).await {
                Ok(p) => (p.deleted.into_iter().map(|d| d.name).collect(), None),
                Err(e) => {
                    tracing::warn!(error = %e, "retention after the backup failed");
                    (Vec::new(), Some(e.to_string()))
                }
            };
        Ok(BackupReport {
            backup: outcome,
            pruned,
            prune_error,
        })
    }

    /// Every backup, newest first.
    pub async fn list(&self) -> Result<Vec<BackupEntry>> {
        let blobs = self.store.list().await?;
        Ok(entries_newest_first(
            &blobs,
            OffsetDateTime::now_utc(),
            self.config.retention_days,
        ))
    }

    pub async fn download(
        &self,
        name: &BackupName,
        destination: PathBuf,
        force: bool,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<DownloadOutcome> {
        let request = DownloadRequest {
            name: name.clone(),
            destination,
            force,
            retry: Default::default(),
        };
        logged(
            "download",
            download::run(&self.store, &request, progress, cancel).await,
        )
    }

    pub async fn restore(
        &self,
        source: RestoreSource,
        options: RestoreOptions,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<RestoreOutcome> {
        let target = self.restore_target(options.target)?;
        let request = RestoreRequest {
            source,
            target,
            create: options.create,
            confirm: options.confirm,
            safety_backup: !options.skip_safety_backup,
            terminate_connections: options.terminate_connections,
            created_by: self.config.created_by.clone(),
            safety_format: self.config.format,
            safety_compression: self.config.compression,
        };
        logged(
            "restore",
            restore::run(&self.store, &request, progress, cancel).await,
        )
    }

    /// The role restores into the configured database run as (a superuser runs a backup's
    /// SQL with superuser power, which front ends say before a restore).
    pub async fn restoring_role(&self) -> Result<crate::pg::RoleInfo> {
        let target = self.database()?.clone();
        tokio::task::spawn_blocking(move || {
            let server = crate::pg::Server::probe(&target)?;
            Ok(server.role(&target)?)
        })
        .await?
    }

    /// What a backup holds (tables with row counts, …), read without a database.
    pub async fn contents(
        &self,
        source: ContentsSource,
        tenant_column: Option<&str>,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<BackupContents> {
        logged(
            "contents",
            contents::run(&self.store, &source, tenant_column, progress, cancel).await,
        )
    }

    /// Restores chosen tables, one tenant's rows, or copies into a new schema.
    pub async fn partial_restore(
        &self,
        source: RestoreSource,
        selection: PartialSelection,
        options: RestoreOptions,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<PartialRestoreOutcome> {
        let request = PartialRequest {
            source,
            target: self.restore_target(options.target)?,
            confirm: options.confirm,
            selection,
            safety_backup: !options.skip_safety_backup,
            created_by: self.config.created_by.clone(),
            safety_format: self.config.format,
            safety_compression: self.config.compression,
        };
        logged(
            "partial restore",
            partial::run(&self.store, &request, progress, cancel).await,
        )
    }

    /// The database a restore writes into: `target` (sharing our password when it is on
    /// our server as our user), else the configured one.
    fn restore_target(&self, target: Option<DbTarget>) -> Result<DbTarget> {
        let configured = self.config.database.as_ref();
        Ok(match (target, configured) {
            (Some(target), Some(configured)) if target.same_server_and_user(configured) => {
                target.with_fallback_password(configured.password())
            }
            (Some(target), _) => target,
            (None, _) => self.database()?.clone(),
        })
    }

    pub async fn delete(&self, name: &BackupName) -> Result<()> {
        logged("delete", self.store.delete(name).await.map_err(Error::from))?;
        crate::catalog::records::forget(&self.store, name).await;
        tracing::info!(backup = %name, "backup deleted");
        Ok(())
    }

    pub async fn prune(&self, dry_run: bool) -> Result<PruneOutcome> {
        logged(
            "prune",
            prune::run(&self.store, self.config.retention_days, dry_run, None).await,
        )
    }

    /// Prunes only backups of `approved` (a reviewed dry run) that are still due.
    pub async fn prune_approved(&self, approved: &[BackupName]) -> Result<PruneOutcome> {
        logged(
            "prune",
            prune::run(
                &self.store,
                self.config.retention_days,
                false,
                Some(approved),
            )
            .await,
        )
    }

    pub async fn verify(
        &self,
        name: &BackupName,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<VerifyOutcome> {
        self.verify_recorded(name, progress, cancel).await.result
    }

    /// `verify`, with the verification it recorded, a failed one included when the
    /// rehearsal ended in an error (the server's health keeps it).
    pub async fn verify_recorded(
        &self,
        name: &BackupName,
        progress: &Progress,
        cancel: &Cancel,
    ) -> verify::Rehearsed {
        let source = match self.database() {
            Ok(source) => source,
            Err(e) => {
                return verify::Rehearsed {
                    result: Err(e),
                    verification: None,
                }
            }
        };
        let scratch = verify::scratch_server_of(self.config.verify_database.as_ref(), source);
        let mut rehearsed =
            verify::run_recorded(&self.store, &scratch, name, progress, cancel).await;
        rehearsed.result = logged("verify", rehearsed.result);
        rehearsed
    }
}

/// Logs a failed job with its error (the error's message carries its causes).
fn logged<T>(job: &'static str, result: Result<T>) -> Result<T> {
    if let Err(error) = &result {
        tracing::warn!(job, code = ?error.code(), error = %error, "job failed");
    }
    result
}
