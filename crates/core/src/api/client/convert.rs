//! The API's answers as the engine's types: list entries as `BackupEntry`s (format and
//! compression from the name when the server does not say; the server's database when the
//! entry names none), a create answer as a `CreateOutcome` (the RYTHM API's
//! `filename`/`timestamp` for `name`/`createdAt`).

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::{Duration, OffsetDateTime};

use crate::api::error::ApiError;
use crate::api::wire::{CreateBackupResponse, ListedBackup};
use crate::backups::CreateOutcome;
use crate::catalog::{BackupEntry, BackupKind, BackupName, Compression, DumpFormat};

/// The listing: backups with valid names only, newest first. `database` is the server's,
/// for entries that name none (a server backs up its one database).
pub(super) fn entries(
    listed: Vec<ListedBackup>,
    now: OffsetDateTime,
    retention_days: u32,
    database: Option<&str>,
) -> Vec<BackupEntry> {
    let mut entries: Vec<BackupEntry> = listed
        .into_iter()
        .filter_map(|l| {
            let shown = l.name.escape_debug().to_string();
            let mut entry = entry(l, now, retention_days);
            if let Some(e) = entry.as_mut().filter(|e| e.database.is_none()) {
                e.database = database.map(str::to_owned);
            }
            if entry.is_none() {
                tracing::debug!(name = %shown, "skipping a listed entry that is not a backup name");
            }
            entry
        })
        .collect();
    entries.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(&a.name)));
    entries
}

pub(super) fn entry(
    listed: ListedBackup,
    now: OffsetDateTime,
    retention_days: u32,
) -> Option<BackupEntry> {
    let name = BackupName::parse(&listed.name).ok()?;
    let (name_format, name_compression) = name.kind();
    let created_at = parse_time(&listed.created_at)
        .or_else(|| name.timestamp())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let format = listed
        .format
        .as_deref()
        .and_then(|f| f.parse::<DumpFormat>().ok())
        .unwrap_or(name_format);
    let compression = listed
        .compression
        .as_deref()
        .and_then(|c| c.parse::<Compression>().ok())
        .unwrap_or(name_compression);
    let kind = match listed.kind.as_deref() {
        Some(kind) => parse_kind(kind),
        None => BackupKind::from_name(&name),
    };
    let expires_at = listed
        .expires_at
        .as_deref()
        .and_then(parse_time)
        .unwrap_or(created_at + Duration::days(i64::from(retention_days)));
    Some(BackupEntry {
        size: listed.size,
        created_at,
        format,
        compression,
        // Only our server says so, of a blob in its store without our metadata: the RYTHM
        // platform's backups are its own kind, not legacy ones of ours.
        legacy: listed.legacy.unwrap_or(false),
        sha256: listed.sha256,
        raw_size: listed.raw_size,
        database: listed.database,
        server_version: None,
        pg_dump_version: None,
        created_by: listed.initiated_by,
        tool_version: None,
        duration_ms: listed
            .duration_seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| (s * 1000.0).round() as u64),
        kind,
        status: listed.status.filter(|s| !s.trim().is_empty()),
        age_seconds: (now - created_at).whole_seconds(),
        expires_at,
        row_counts: listed.row_counts,
        verification: listed.verification,
        name,
    })
}

/// The create answer of either server.
pub(super) fn created(
    server: &str,
    answer: CreateBackupResponse,
) -> Result<CreateOutcome, ApiError> {
    let data = answer.data;
    let raw_name = data.name.as_deref().unwrap_or(&data.filename);
    let name = BackupName::parse(raw_name).map_err(|e| ApiError::Protocol {
        server: server.to_owned(),
        request: "POST /api/backups".into(),
        detail: format!("the new backup's name is not usable: {e}"),
    })?;
    let (format, compression) = name.kind();
    let created_at = data
        .created_at
        .as_deref()
        .and_then(parse_time)
        .or_else(|| parse_time(&data.timestamp))
        .or_else(|| name.timestamp())
        .unwrap_or_else(OffsetDateTime::now_utc);
    Ok(CreateOutcome {
        size: data.size,
        created_at,
        format,
        compression,
        kind: BackupKind::Manual,
        sha256: data.sha256,
        raw_size: data.raw_size,
        database: data.database_name,
        duration_ms: data.duration_ms,
        message: Some(answer.message),
        pruned: Vec::new(),
        prune_error: None,
        name,
    })
}

/// An RFC 3339 time (`2026-01-15T10:30:00.851Z`), or an RFC 2822 one as HTTP dates are.
fn parse_time(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    OffsetDateTime::parse(raw, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(raw, &Rfc2822))
        .ok()
}

/// The server's `type`; one we do not know is `unknown`, never taken for a manual backup.
fn parse_kind(raw: &str) -> BackupKind {
    let raw = raw.trim().to_ascii_lowercase();
    serde_json::from_value(serde_json::Value::String(raw)).unwrap_or(BackupKind::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn listed(name: &str, created_at: &str) -> ListedBackup {
        ListedBackup {
            name: name.into(),
            size: 10,
            created_at: created_at.into(),
            url: Some(format!("/api/backups/{name}/download")),
            kind: None,
            status: None,
            duration_seconds: None,
            initiated_by: None,
            format: None,
            compression: None,
            sha256: None,
            raw_size: None,
            database: None,
            expires_at: None,
            legacy: None,
            row_counts: None,
            verification: None,
        }
    }

    #[test]
    fn entries_from_the_peers_list() {
        let now = datetime!(2026-01-20 00:00 UTC);
        let mut scheduled = listed(
            "rythm-backup-2026-01-15T10-30-00-851Z.sql",
            "2026-01-15T10:30:00.851Z",
        );
        scheduled.kind = Some("scheduled".into());
        scheduled.duration_seconds = Some(1.5);
        scheduled.initiated_by = Some("system".into());
        let list = vec![
            listed("pre-restore-2026-01-16T00-00-00-000Z.sql.zst", "garbage"),
            scheduled,
            listed("../etc/passwd", "2026-01-15T10:30:00Z"),
            listed("mydump.dump", "Thu, 15 Jan 2026 09:00:00 GMT"),
        ];
        let entries = entries(list, now, 10, Some("rythm"));
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "pre-restore-2026-01-16T00-00-00-000Z.sql.zst",
                "rythm-backup-2026-01-15T10-30-00-851Z.sql",
                "mydump.dump"
            ]
        );
        let pre = &entries[0];
        assert_eq!(pre.kind, BackupKind::PreRestore);
        assert_eq!(pre.created_at, datetime!(2026-01-16 00:00 UTC));
        assert_eq!(pre.compression, Compression::Zstd);
        let s = &entries[1];
        assert_eq!(s.kind, BackupKind::Scheduled);
        assert_eq!(s.duration_ms, Some(1500));
        assert_eq!(s.created_by.as_deref(), Some("system"));
        assert!(!s.legacy, "the platform's backups are not our legacy ones");
        assert_eq!(
            s.database.as_deref(),
            Some("rythm"),
            "the server's database"
        );
        assert_eq!(s.expires_at, datetime!(2026-01-25 10:30:00.851 UTC));
        assert_eq!(entries[2].format, DumpFormat::Custom);
        assert_eq!(entries[2].created_at, datetime!(2026-01-15 09:00 UTC));
    }

    #[test]
    fn the_platforms_type_and_status_are_kept() {
        let now = datetime!(2026-01-20 00:00 UTC);
        let mut unknown = listed(
            "rythm-backup-2026-01-15T10-30-00-851Z.sql",
            "2026-01-15T10:30:00.851Z",
        );
        unknown.kind = Some("unknown".into());
        unknown.status = Some("failed".into());
        let mut odd = listed("rythm-backup-2026-01-14T10-30-00-851Z.sql", "x");
        odd.kind = Some("imported-by-hand".into());
        let mut ours = listed("rythm-backup-2026-01-13T10-30-00-851Z.sql", "x");
        ours.kind = Some("Manual".into());
        ours.legacy = Some(true);
        ours.database = Some("other".into());
        let entries = entries(vec![unknown, odd, ours], now, 30, Some("rythm"));
        assert_eq!(entries[0].kind, BackupKind::Unknown);
        assert_eq!(entries[0].status.as_deref(), Some("failed"));
        assert_eq!(entries[1].kind, BackupKind::Unknown);
        assert_eq!(entries[1].status, None);
        assert_eq!(entries[2].kind, BackupKind::Manual);
        assert!(entries[2].legacy, "our server's word on legacy is kept");
        assert_eq!(entries[2].database.as_deref(), Some("other"));
        assert_eq!(
            entries[0].expires_at,
            datetime!(2026-02-14 10:30:00.851 UTC),
            "30 days"
        );
    }

    #[test]
    fn created_prefers_our_fields_and_takes_the_peers() {
        let peer: CreateBackupResponse = serde_json::from_str(
            r#"{"success":true,"message":"Backup created successfully","data":{"filename":"rythm-backup-2026-01-15T10-30-00-851Z.sql","timestamp":"2026-01-15T10:30:00.851Z","size":5,"databaseName":"rythm","status":"completed"}}"#,
        )
        .unwrap();
        let outcome = created("http://x", peer).unwrap();
        assert_eq!(
            outcome.name.as_str(),
            "rythm-backup-2026-01-15T10-30-00-851Z.sql"
        );
        assert_eq!(outcome.created_at, datetime!(2026-01-15 10:30:00.851 UTC));
        assert_eq!(outcome.database.as_deref(), Some("rythm"));
        assert_eq!(outcome.format, DumpFormat::Plain);
        let bad: CreateBackupResponse = serde_json::from_str(
            r#"{"success":true,"message":"ok","data":{"filename":"../x","timestamp":"t","size":5}}"#,
        )
        .unwrap();
        assert!(created("http://x", bad).is_err());
    }
}
