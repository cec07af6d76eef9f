//! `Backups`: what a front end can do with a profile's backups, whichever mode the profile
//! uses. The direct `Engine` and the REST `ApiClient` implement it; their results share the
//! types below, with `Option`s where the REST API tells less than the engine knows.

use std::fmt;
use std::path::PathBuf;

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;

use crate::api::wire::{ScheduleConfig, ScheduleUpdate};
use crate::catalog::contents::BackupContents;
use crate::catalog::{BackupEntry, BackupKind, BackupName, Compression, DumpFormat};
use crate::engine::{BackupReport, Engine, RestoreOptions};
use crate::error::{Error, Result};
use crate::jobs::contents::ContentsSource;
use crate::jobs::download::DownloadOutcome;
use crate::jobs::partial::{PartialRestoreOutcome, PartialSelection};
use crate::jobs::restore::{RestoreOutcome, RestoreSource};
use crate::jobs::verify::VerifyOutcome;
use crate::jobs::{Cancel, Progress};

/// How a profile reaches its backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The engine itself: PostgreSQL and blob storage.
    Direct,
    /// A backup REST API (the RYTHM platform's or `rythm-backup serve`).
    Api,
}

/// Where a `Backups` works, for a status line. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Description {
    pub mode: Mode,
    /// The store (`azure:account/container`, `local:/dir`) or the API's base URL.
    pub location: String,
    /// Direct mode: `host:port/db`.
    pub database: Option<String>,
    /// API mode: the signed-in account, when the token names one.
    pub signed_in_as: Option<String>,
    /// API mode: when the sign-in expires.
    #[serde(with = "time::serde::rfc3339::option")]
    pub session_expires_at: Option<OffsetDateTime>,
}

/// A backup just made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct CreateOutcome {
    pub name: BackupName,
    /// Bytes stored.
    pub size: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: OffsetDateTime,
    pub format: DumpFormat,
    pub compression: Compression,
    #[serde(rename = "type")]
    pub kind: BackupKind,
    pub sha256: Option<String>,
    pub raw_size: Option<u64>,
    pub database: Option<String>,
    pub duration_ms: Option<u64>,
    /// The server's message (API mode).
    pub message: Option<String>,
    /// What retention deleted afterwards (direct mode; the API does not say).
    pub pruned: Vec<BackupName>,
    /// Set when retention failed after the backup (direct mode); the backup is safe.
    pub prune_error: Option<String>,
}

/// A finished restore.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RestoreSummary {
    pub name: BackupName,
    /// The database restored into (API mode: when the server has named it).
    pub database: Option<String>,
    /// The backup taken of the target before it was replaced, to roll back with.
    pub safety_backup: Option<BackupName>,
    /// The server's message (API mode).
    pub message: Option<String>,
    pub bytes: Option<u64>,
    pub checksum_verified: Option<bool>,
    pub terminated_sessions: Option<usize>,
    pub created_database: Option<bool>,
    pub duration_ms: Option<u64>,
    /// The role the backup's SQL ran as, when known (direct mode).
    pub restored_as: Option<crate::pg::RoleInfo>,
    /// Why there is no safety backup, when there is none and something was replaced.
    pub no_safety_backup: Option<NoSafetyBackup>,
}

/// Why a restore that replaced a database left no safety backup to roll back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum NoSafetyBackup {
    /// Skipping it was asked for.
    Skipped,
    /// The server takes none before a restore (the RYTHM platform): download a backup of the
    /// current state first to be able to go back.
    NotOffered,
}

/// What happens around a restore where a profile's backups are: the engine (direct mode) and
/// our server do all of it; the RYTHM platform's API none of it. Front ends offer only what
/// is there and say what is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RestoreFeatures {
    /// A safety backup of the database is taken first, to roll back to.
    pub safety_backup: bool,
    /// That safety backup can be skipped on request.
    pub skip_safety_backup: bool,
    /// Other sessions on the database can be ended first.
    pub terminate_connections: bool,
    /// The server itself checks that the confirmation names its database.
    pub checks_confirmation: bool,
    /// The server says which role its restores run as (`GET /api/backups/restore-role`).
    pub reports_role: bool,
    /// Chosen tables or one tenant's rows can be restored (and copied into a new schema).
    pub partial_restore: bool,
    /// What a backup holds can be listed.
    pub contents: bool,
    /// A partial restore can restore some tables whole beside a tenant's or a condition's
    /// rows (which a partial restore's roll back may need). The engine's own concern: not
    /// shown to front ends.
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub whole_tables: bool,
}

impl RestoreFeatures {
    pub const ALL: RestoreFeatures = RestoreFeatures {
        safety_backup: true,
        skip_safety_backup: true,
        terminate_connections: true,
        checks_confirmation: true,
        reports_role: true,
        partial_restore: true,
        contents: true,
        whole_tables: true,
    };
    pub const NONE: RestoreFeatures = RestoreFeatures {
        safety_backup: false,
        skip_safety_backup: false,
        terminate_connections: false,
        checks_confirmation: false,
        reports_role: false,
        partial_restore: false,
        contents: false,
        whole_tables: false,
    };
}

/// The backups of one profile. Object-safe: front ends hold a `Box<dyn Backups>`.
#[async_trait]
pub trait Backups: Send + Sync + fmt::Debug {
    /// The mode and where it works.
    fn describe(&self) -> Description;

    /// The direct engine behind this profile, for what only direct mode can do (verify,
    /// prune, restoring a local file or into another database).
    fn as_engine(&self) -> Option<&Engine> {
        None
    }

    /// Makes a backup now (a manual one).
    async fn create(&self, progress: &Progress, cancel: &Cancel) -> Result<CreateOutcome>;

    /// Every backup, newest first.
    async fn list(&self) -> Result<Vec<BackupEntry>>;

    /// Copies a backup to `destination` through `destination.part`, verified before it
    /// appears. `force` replaces an existing file.
    async fn download(
        &self,
        name: &BackupName,
        destination: PathBuf,
        force: bool,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<DownloadOutcome>;

    /// What happens around a restore here (safety backup, ending sessions, who checks the
    /// confirmation). The engine does all of it.
    async fn restore_features(&self) -> Result<RestoreFeatures> {
        Ok(RestoreFeatures::ALL)
    }

    /// The role a restore here runs the backup's SQL as, when it can be told (direct mode,
    /// our server; the RYTHM platform does not say). A superuser gives the backup's content
    /// superuser power on the database server: front ends warn before a restore.
    async fn restoring_role(&self) -> Result<Option<crate::pg::RoleInfo>> {
        Ok(None)
    }

    /// Restores a stored backup. `options.confirm` must name the target database (in API
    /// mode, when the server has not said which database it restores into, the backup's own
    /// name); API mode does not take another target (the server picks its database), and
    /// only the options of `restore_features`.
    async fn restore(
        &self,
        name: &BackupName,
        options: RestoreOptions,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<RestoreSummary>;

    /// What a stored backup holds: schemas, tables with exact row counts and data sizes,
    /// other objects, and per-tenant row counts for `tenant_column`. Nothing runs.
    async fn contents(
        &self,
        name: &BackupName,
        tenant_column: Option<&str>,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<BackupContents>;

    /// Restores chosen tables or one tenant's rows of a stored backup (or copies them into
    /// a new schema), or with `selection.dry_run` reports what that would change. The rules
    /// of `restore` apply (confirmation, safety backup, one transaction).
    async fn partial_restore(
        &self,
        name: &BackupName,
        selection: PartialSelection,
        options: RestoreOptions,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<PartialRestoreOutcome>;

    async fn delete(&self, name: &BackupName) -> Result<()>;

    /// Rehearses a restore of a stored backup into a scratch database, compares its tables'
    /// rows with those recorded at backup time and records the result beside the backup.
    /// API mode: our server's `POST /api/backups/{name}/verify` (the RYTHM API has none).
    async fn verify(
        &self,
        name: &BackupName,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<VerifyOutcome>;

    /// After how many hours without a successful backup the backups are stale: the
    /// environment's `STALE_AFTER_HOURS` (default 26). API mode: unless the environment
    /// sets it, the server's own threshold where it tells it (ours does in `/api/health`).
    async fn stale_after_hours(&self) -> Result<u32> {
        crate::freshness::stale_after_hours_from_env()
    }

    /// The server's daily schedule (API mode only).
    async fn schedule(&self) -> Result<ScheduleConfig>;

    /// Changes the server's daily schedule (API mode only); returns the new one.
    async fn set_schedule(&self, update: &ScheduleUpdate) -> Result<ScheduleConfig>;
}

impl From<BackupReport> for CreateOutcome {
    fn from(report: BackupReport) -> Self {
        let b = report.backup;
        CreateOutcome {
            name: b.name,
            size: b.size,
            created_at: b.created_at,
            format: b.format,
            compression: b.compression,
            kind: b.kind,
            sha256: Some(b.sha256),
            raw_size: Some(b.raw_size),
            database: Some(b.database),
            duration_ms: Some(b.duration_ms),
            message: None,
            pruned: report.pruned,
            prune_error: report.prune_error,
        }
    }
}

impl RestoreSummary {
    fn from_outcome(name: &BackupName, o: RestoreOutcome) -> Self {
        RestoreSummary {
            name: name.clone(),
            database: Some(o.database),
            safety_backup: o.safety_backup,
            message: None,
            bytes: Some(o.bytes),
            checksum_verified: o.checksum_verified,
            terminated_sessions: Some(o.terminated_sessions),
            created_database: Some(o.created_database),
            duration_ms: Some(o.duration_ms),
            restored_as: Some(o.restored_as),
            no_safety_backup: None,
        }
    }
}

fn schedule_unsupported() -> Error {
    Error::Unsupported(
        "the daily schedule belongs to a backup server; direct mode has none (use the OS \
         scheduler to run `rythm-backup backup`, or an API profile)"
            .into(),
    )
}

#[async_trait]
impl Backups for Engine {
    fn as_engine(&self) -> Option<&Engine> {
        Some(self)
    }

    fn describe(&self) -> Description {
        Description {
            mode: Mode::Direct,
            location: self.store().location(),
            database: self.config().database.as_ref().map(|d| d.describe()),
            signed_in_as: None,
            session_expires_at: None,
        }
    }

    async fn restoring_role(&self) -> Result<Option<crate::pg::RoleInfo>> {
        Ok(Some(Engine::restoring_role(self).await?))
    }

    async fn create(&self, progress: &Progress, cancel: &Cancel) -> Result<CreateOutcome> {
        Ok(self
            .backup(BackupKind::Manual, progress, cancel)
            .await?
            .into())
    }

    async fn list(&self) -> Result<Vec<BackupEntry>> {
        Engine::list(self).await
    }

    async fn download(
        &self,
        name: &BackupName,
        destination: PathBuf,
        force: bool,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<DownloadOutcome> {
        Engine::download(self, name, destination, force, progress, cancel).await
    }

    async fn restore(
        &self,
        name: &BackupName,
        options: RestoreOptions,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<RestoreSummary> {
        let source = RestoreSource::Stored(name.clone());
        let skipped = options.skip_safety_backup;
        let outcome = Engine::restore(self, source, options, progress, cancel).await?;
        let replaced = !outcome.created_database;
        let mut summary = RestoreSummary::from_outcome(name, outcome);
        if summary.safety_backup.is_none() && replaced && skipped {
            summary.no_safety_backup = Some(NoSafetyBackup::Skipped);
        }
        Ok(summary)
    }

    async fn contents(
        &self,
        name: &BackupName,
        tenant_column: Option<&str>,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<BackupContents> {
        let source = ContentsSource::Stored(name.clone());
        Engine::contents(self, source, tenant_column, progress, cancel).await
    }

    async fn partial_restore(
        &self,
        name: &BackupName,
        selection: PartialSelection,
        options: RestoreOptions,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<PartialRestoreOutcome> {
        let source = RestoreSource::Stored(name.clone());
        Engine::partial_restore(self, source, selection, options, progress, cancel).await
    }

    async fn delete(&self, name: &BackupName) -> Result<()> {
        Engine::delete(self, name).await
    }

    async fn verify(
        &self,
        name: &BackupName,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<VerifyOutcome> {
        Engine::verify(self, name, progress, cancel).await
    }

    async fn schedule(&self) -> Result<ScheduleConfig> {
        Err(schedule_unsupported())
    }

    async fn set_schedule(&self, _update: &ScheduleUpdate) -> Result<ScheduleConfig> {
        Err(schedule_unsupported())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EngineConfig, StorageConfig};
    use crate::error::ErrorCode;

    fn local_engine(dir: &std::path::Path) -> Box<dyn Backups> {
        let config = EngineConfig {
            database: None,
            storage: StorageConfig::Local {
                dir: dir.to_path_buf(),
            },
            retention_days: 10,
            format: DumpFormat::Plain,
            compression: Compression::Zstd,
            created_by: None,
            shared_with_platform: false,
            verify_database: None,
        };
        Box::new(Engine::new(config).unwrap())
    }

    #[tokio::test]
    async fn direct_mode_has_no_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let backups = local_engine(dir.path());
        let error = backups.schedule().await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unsupported);
        let update = ScheduleUpdate {
            enabled: true,
            schedule_time: None,
            retention_days: None,
            verify_after_backup: None,
        };
        let error = backups.set_schedule(&update).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unsupported);
    }

    #[tokio::test]
    async fn direct_mode_describes_its_store() {
        let dir = tempfile::tempdir().unwrap();
        let backups = local_engine(dir.path());
        let description = backups.describe();
        assert_eq!(description.mode, Mode::Direct);
        assert!(
            description
                .location
                .contains(&dir.path().display().to_string()),
            "{description:?}"
        );
        assert_eq!(description.database, None);
        // An empty folder lists nothing through the trait too.
        assert!(backups.list().await.unwrap().is_empty());
    }
}
