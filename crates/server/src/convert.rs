//! Engine results as the REST contract's wire bodies: list entries, the created backup, and
//! times as the RYTHM API writes them (`2026-01-15T10:30:00.851Z`).

use rythm_backup_core::api::wire::{CreatedBackup, ListedBackup};
use rythm_backup_core::engine::BackupReport;
use rythm_backup_core::{BackupEntry, BackupName};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

const ISO_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A UTC time as JavaScript's `toISOString` writes it.
pub fn iso_millis(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(ISO_MILLIS)
        .expect("a UTC time formats")
}

/// The relative download URL of a backup, as both servers send it.
pub fn download_url(name: &BackupName) -> String {
    format!("/api/backups/{name}/download")
}

/// What every backup the list shows has finished as (failed uploads are never listed).
pub const STATUS_COMPLETED: &str = "completed";

pub fn listed(entry: &BackupEntry) -> ListedBackup {
    ListedBackup {
        name: entry.name.to_string(),
        size: entry.size,
        created_at: iso_millis(entry.created_at),
        url: Some(download_url(&entry.name)),
        kind: Some(entry.kind.as_str().to_owned()),
        status: Some(STATUS_COMPLETED.to_owned()),
        duration_seconds: entry.duration_ms.map(|ms| ms as f64 / 1000.0),
        initiated_by: entry.created_by.clone(),
        format: Some(entry.format.as_str().to_owned()),
        compression: Some(entry.compression.as_str().to_owned()),
        sha256: entry.sha256.clone(),
        raw_size: entry.raw_size,
        database: entry.database.clone(),
        expires_at: Some(iso_millis(entry.expires_at)),
        legacy: Some(entry.legacy),
        row_counts: entry.row_counts,
        verification: entry.verification.clone(),
    }
}

pub fn created(report: &BackupReport) -> CreatedBackup {
    let b = &report.backup;
    let created_at = iso_millis(b.created_at);
    CreatedBackup {
        filename: b.name.to_string(),
        timestamp: created_at.clone(),
        size: b.size,
        database_name: Some(b.database.clone()),
        status: Some(STATUS_COMPLETED.to_owned()),
        name: Some(b.name.to_string()),
        created_at: Some(created_at),
        url: Some(download_url(&b.name)),
        sha256: Some(b.sha256.clone()),
        raw_size: Some(b.raw_size),
        duration_ms: Some(b.duration_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_look_like_javascripts() {
        assert_eq!(
            iso_millis(datetime!(2026-01-15 10:30:00.851 UTC)),
            "2026-01-15T10:30:00.851Z"
        );
        assert_eq!(
            iso_millis(datetime!(2026-01-15 12:30:00 +2)),
            "2026-01-15T10:30:00.000Z"
        );
    }
}
