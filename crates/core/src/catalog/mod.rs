//! The backup catalog: names, the metadata stored with each backup, and the listing entries
//! built from what a store returns, legacy blobs without metadata included.

pub mod contents;
mod metadata;
mod name;
pub mod records;
pub mod row_counts;
mod sniff;
pub mod verification;

pub use metadata::{BackupKind, BackupMetadata};
pub use name::{extension_of, BackupName, Compression, DumpFormat, NameError};
pub use records::{RecordKind, RecordName};
pub use row_counts::{RowCountSummary, TableRows};
pub use sniff::{sniff_compression, sniff_format, SNIFF_LEN};
pub use verification::{Mismatch, Verification};

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::storage::BlobInfo;

/// The name prefix of a partial restore's safety backup (the whole schema, and the rows of
/// the tables the restore changed).
pub const PARTIAL_SAFETY_PREFIX: &str = "pre-restore-tables";

/// Whether `name` (a backup's or a downloaded file's) is a partial restore's safety backup,
/// which must never be restored whole.
pub fn is_partial_safety_backup(name: &str) -> bool {
    name.starts_with(&format!("{PARTIAL_SAFETY_PREFIX}-"))
}

/// One backup as the list shows it, in the seed API's field names (`name`, `size`,
/// `createdAt`) plus what our metadata adds.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct BackupEntry {
    pub name: BackupName,
    /// Bytes stored.
    pub size: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: OffsetDateTime,
    pub format: DumpFormat,
    pub compression: Compression,
    /// Hex sha256 of the stored bytes; absent for legacy backups.
    pub sha256: Option<String>,
    /// Size of the dump before compression.
    pub raw_size: Option<u64>,
    pub database: Option<String>,
    pub server_version: Option<String>,
    pub pg_dump_version: Option<String>,
    pub created_by: Option<String>,
    pub tool_version: Option<String>,
    pub duration_ms: Option<u64>,
    /// manual, scheduled, pre-restore or unknown (the RYTHM API's `type`).
    #[serde(rename = "type")]
    pub kind: BackupKind,
    /// The server's word on the backup (the RYTHM API's `status`: `completed`, `failed`…);
    /// none in direct mode, where a listed backup is always complete.
    pub status: Option<String>,
    /// True for a blob written without our metadata (the seed's or the RYTHM API's).
    pub legacy: bool,
    pub age_seconds: i64,
    /// When retention will delete it.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub expires_at: OffsetDateTime,
    /// The tables and rows counted in the dump's snapshot (none for legacy backups).
    #[serde(default)]
    pub row_counts: Option<RowCountSummary>,
    /// The last restore rehearsal, if any.
    #[serde(default)]
    pub verification: Option<Verification>,
}

impl BackupEntry {
    /// Builds an entry from a stored blob; `None` when its name is not a backup name.
    pub fn from_blob(blob: &BlobInfo, now: OffsetDateTime, retention_days: u32) -> Option<Self> {
        let name = BackupName::parse(&blob.name).ok()?;
        let meta = BackupMetadata::from_map(&blob.metadata);
        let (name_format, name_compression) = name.kind();
        let created_at = meta
            .as_ref()
            .and_then(|m| m.created_at)
            .or_else(|| name.timestamp())
            .unwrap_or(blob.last_modified);
        let kind = meta
            .as_ref()
            .map(|m| m.kind)
            .unwrap_or_else(|| BackupKind::from_name(&name));
        let m = meta.clone().unwrap_or_default();
        Some(BackupEntry {
            size: blob.size,
            created_at,
            format: meta.as_ref().map(|m| m.format).unwrap_or(name_format),
            compression: meta
                .as_ref()
                .map(|m| m.compression)
                .unwrap_or(name_compression),
            sha256: m.sha256,
            raw_size: m.raw_size,
            database: m.database,
            server_version: m.server_version,
            pg_dump_version: m.pg_dump_version,
            created_by: m.created_by,
            tool_version: m.tool_version,
            duration_ms: m.duration_ms,
            kind,
            status: None,
            legacy: meta.is_none(),
            age_seconds: (now - created_at).whole_seconds(),
            expires_at: created_at + Duration::days(i64::from(retention_days)),
            row_counts: meta
                .as_ref()
                .and_then(|_| row_counts::summary(&blob.metadata)),
            verification: None,
            name,
        })
    }
}

/// Builds the listing: backups only, newest first, each with its last verification when a
/// record of one is in `blobs`.
pub fn entries_newest_first(
    blobs: &[BlobInfo],
    now: OffsetDateTime,
    retention_days: u32,
) -> Vec<BackupEntry> {
    let mut verifications = verification::from_listing(blobs);
    let mut entries: Vec<BackupEntry> = blobs
        .iter()
        .filter_map(|b| {
            let mut entry = BackupEntry::from_blob(b, now, retention_days);
            match &mut entry {
                Some(entry) => entry.verification = verifications.remove(&entry.name),
                None if RecordName::parse(&b.name).is_some() => {}
                None => {
                    tracing::debug!(blob = %b.name.escape_debug(), "skipping a blob that is not a backup")
                }
            }
            entry
        })
        .collect();
    entries.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(&a.name)));
    entries
}
