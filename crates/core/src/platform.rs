//! Sharing a container with the RYTHM platform: the signs that a direct profile's container
//! or database is also the platform's (blobs named as the platform names its backups and
//! written without our metadata; the platform's `backup_history` table in the database), for
//! the desktop's connection check and the CLI's warning when a profile is added.

use crate::catalog::BackupEntry;
use crate::engine::Engine;
use crate::error::Result;

/// What was found of the RYTHM platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlatformSigns {
    /// Blobs of the container that look like the platform's own backups.
    pub platform_backups: usize,
    /// The database has the platform's `backup_history` table.
    pub backup_history_table: bool,
}

impl PlatformSigns {
    pub fn any(&self) -> bool {
        self.platform_backups > 0 || self.backup_history_table
    }

    /// What was found, in words ("3 backups named as the RYTHM platform names them, …").
    pub fn describe(&self) -> String {
        let mut found = Vec::new();
        if self.platform_backups > 0 {
            found.push(format!(
                "{} backup(s) written by the RYTHM platform in the container",
                self.platform_backups
            ));
        }
        if self.backup_history_table {
            found.push("the platform's backup_history table in the database".to_owned());
        }
        found.join(" and ")
    }
}

/// Whether a listed backup looks like one the platform wrote: its name
/// (`rythm-backup-<time>.sql`) and no metadata of ours.
pub fn is_platform_backup(entry: &BackupEntry) -> bool {
    let name = entry.name.as_str();
    entry.legacy && name.starts_with("rythm-backup-") && name.ends_with(".sql")
}

impl Engine {
    /// Looks for the RYTHM platform in this engine's container and database.
    pub async fn platform_signs(&self) -> Result<PlatformSigns> {
        let platform_backups = self
            .list()
            .await?
            .iter()
            .filter(|e| is_platform_backup(e))
            .count();
        let backup_history_table = match self.config().database.clone() {
            None => false,
            Some(target) => {
                tokio::task::spawn_blocking(move || {
                    let server = crate::pg::Server::probe(&target)?;
                    let found = server.sql(&target).query_value(
                    "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'backup_history'",
                    "the backup_history table",
                )?;
                    Ok::<_, crate::Error>(found != "0")
                })
                .await??
            }
        };
        Ok(PlatformSigns {
            platform_backups,
            backup_history_table,
        })
    }
}
