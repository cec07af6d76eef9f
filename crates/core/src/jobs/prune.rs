//! Retention: deletes backups older than the retention period, but never the newest backup
//! of a database, so a store that stopped receiving backups still holds its last one. A dry
//! run only says what would go.

use std::sync::Arc;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use std::collections::HashSet;

use crate::catalog::{entries_newest_first, BackupEntry, BackupKind, BackupName};
use crate::error::Result;
use crate::storage::{BlobStore, StorageError};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PrunedBackup {
    pub name: BackupName,
    pub size: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PruneOutcome {
    pub dry_run: bool,
    pub retention_days: u32,
    /// Deleted, or with a dry run, what would be deleted.
    pub deleted: Vec<PrunedBackup>,
    pub kept: usize,
}

/// Which entries retention removes: those older than the period, except the newest backup
/// of each database our metadata names and the newest of all (legacy backups name no
/// database: only that last rule protects them). A safety backup taken before a restore never stands in for a
/// database's newest real backup.
pub fn expired(
    entries: &[BackupEntry],
    now: OffsetDateTime,
    retention_days: u32,
) -> Vec<&BackupEntry> {
    let cutoff = now - Duration::days(i64::from(retention_days));
    let mut protected: HashSet<&BackupName> =
        entries.first().map(|e| &e.name).into_iter().collect();
    let mut databases_seen: HashSet<&str> = HashSet::new();
    // entries are newest first, so the first one met per database is its newest.
    for entry in entries.iter().filter(|e| e.kind != BackupKind::PreRestore) {
        if let Some(database) = entry.database.as_deref() {
            if databases_seen.insert(database) {
                protected.insert(&entry.name);
            }
        }
    }
    entries
        .iter()
        .filter(|e| e.created_at < cutoff && !protected.contains(&e.name))
        .collect()
}

/// With `approved` (the names a person reviewed in a dry run), only backups both approved
/// and still due are deleted: one that a new backup or a changed list has saved since stays,
/// and one that came due after the review waits for the next prune.
pub async fn run(
    store: &Arc<dyn BlobStore>,
    retention_days: u32,
    dry_run: bool,
    approved: Option<&[BackupName]>,
) -> Result<PruneOutcome> {
    let started = std::time::Instant::now();
    let now = OffsetDateTime::now_utc();
    tracing::info!(retention_days, dry_run, "prune started");
    let entries = entries_newest_first(&store.list().await?, now, retention_days);
    let mut doomed = expired(&entries, now, retention_days);
    if let Some(approved) = approved {
        doomed.retain(|entry| approved.contains(&entry.name));
    }
    let mut deleted = Vec::new();
    for entry in &doomed {
        if !dry_run {
            match store.delete(&entry.name).await {
                Ok(()) => {
                    crate::catalog::records::forget(store, &entry.name).await;
                    tracing::info!(backup = %entry.name, "retention deleted a backup")
                }
                // Someone else deleted it first: the goal is reached.
                Err(StorageError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        deleted.push(PrunedBackup {
            name: entry.name.clone(),
            size: entry.size,
            created_at: entry.created_at,
        });
    }
    let freed: u64 = deleted.iter().map(|d| d.size).sum();
    tracing::info!(
        deleted = deleted.len(),
        kept = entries.len() - deleted.len(),
        freed_bytes = freed,
        dry_run,
        duration_ms = started.elapsed().as_millis() as u64,
        "prune finished"
    );
    Ok(PruneOutcome {
        dry_run,
        retention_days,
        kept: entries.len() - deleted.len(),
        deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::BlobInfo;
    use std::collections::BTreeMap;

    fn blob(name: &str) -> BlobInfo {
        BlobInfo {
            name: name.into(),
            size: 1,
            last_modified: OffsetDateTime::UNIX_EPOCH,
            etag: None,
            metadata: BTreeMap::new(),
        }
    }

    #[test]
    fn keeps_young_backups_and_always_the_newest() {
        let now = time::macros::datetime!(2026-01-20 12:00 UTC);
        let blobs = [
            blob("rythm-backup-2026-01-01T00-00-00-000Z.sql"),
            blob("rythm-backup-2026-01-05T00-00-00-000Z.sql"),
            blob("rythm-backup-2026-01-15T00-00-00-000Z.sql"),
        ];
        let entries = entries_newest_first(&blobs, now, 10);
        let names: Vec<&str> = expired(&entries, now, 10)
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "rythm-backup-2026-01-05T00-00-00-000Z.sql",
                "rythm-backup-2026-01-01T00-00-00-000Z.sql"
            ]
        );

        // All old: the newest still stays.
        let later = time::macros::datetime!(2027-01-01 00:00 UTC);
        let entries = entries_newest_first(&blobs, later, 10);
        let names: Vec<&str> = expired(&entries, later, 10)
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(names.len(), 2);
        assert!(!names.contains(&"rythm-backup-2026-01-15T00-00-00-000Z.sql"));
    }

    #[test]
    fn a_newer_safety_backup_does_not_stand_in_for_the_newest_backup() {
        let now = time::macros::datetime!(2027-01-01 00:00 UTC);
        let mut safety = blob("pre-restore-2026-06-01T00-00-00-000Z.sql");
        safety.metadata = crate::catalog::BackupMetadata {
            kind: BackupKind::PreRestore,
            database: Some("other".into()),
            ..Default::default()
        }
        .to_map();
        let of_rythm = |name: &str| {
            let mut b = blob(name);
            b.metadata = crate::catalog::BackupMetadata {
                database: Some("rythm".into()),
                ..Default::default()
            }
            .to_map();
            b
        };
        let blobs = [
            of_rythm("rythm-backup-2026-01-01T00-00-00-000Z.sql"),
            of_rythm("rythm-backup-2025-12-01T00-00-00-000Z.sql"),
            safety,
        ];
        let entries = entries_newest_first(&blobs, now, 10);
        let names: Vec<&str> = expired(&entries, now, 10)
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["rythm-backup-2025-12-01T00-00-00-000Z.sql"],
            "the newest real backup stays"
        );
    }
}
