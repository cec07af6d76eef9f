//! Are the backups fresh? From a listing: the last successful backup and its age, the last
//! verification and the last successful one, and whether the backups are stale (no
//! successful backup for `STALE_AFTER_HOURS`, default 26: a daily schedule plus slack).
//! The one rule: `rythm-backup status`, the desktop's health strip and the server's health
//! all read it.

use serde::Serialize;
use time::OffsetDateTime;

use crate::backups::Backups;
use crate::catalog::{BackupEntry, BackupKind, BackupName, Verification};
use crate::error::{Error, Result};

pub const DEFAULT_STALE_AFTER_HOURS: u32 = 26;

/// `STALE_AFTER_HOURS` of the process environment (unset or empty: the default).
pub fn stale_after_hours_from_env() -> Result<u32> {
    stale_after_hours_from(&|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

/// Whether `STALE_AFTER_HOURS` is set in the process environment (it then wins over what
/// a server says).
pub fn stale_after_hours_in_env() -> bool {
    std::env::var("STALE_AFTER_HOURS").is_ok_and(|v| !v.trim().is_empty())
}

/// How fresh the backups of a profile (either mode) are now.
pub async fn of(backups: &dyn Backups) -> Result<Freshness> {
    let entries = backups.list().await?;
    let stale_after_hours = backups.stale_after_hours().await?;
    Ok(assess(
        &entries,
        OffsetDateTime::now_utc(),
        stale_after_hours,
    ))
}

/// `STALE_AFTER_HOURS` (1 to 8760).
pub fn stale_after_hours_from(lookup: &impl Fn(&str) -> Option<String>) -> Result<u32> {
    match lookup("STALE_AFTER_HOURS") {
        None => Ok(DEFAULT_STALE_AFTER_HOURS),
        Some(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|h| (1..=8760).contains(h))
            .ok_or_else(|| {
                Error::Config(format!(
                    "STALE_AFTER_HOURS must be a number of hours from 1 to 8760, not {v:?}"
                ))
            }),
    }
}

/// A backup and its verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct VerifiedBackup {
    pub backup: BackupName,
    pub verification: Verification,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// The newest backup (safety backups taken before restores do not count).
    pub last_backup: Option<BackupName>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub last_success_at: Option<OffsetDateTime>,
    pub age_seconds: Option<i64>,
    /// The most recent verification of any backup, whatever its result.
    pub last_verification: Option<VerifiedBackup>,
    /// The most recent verification that passed.
    pub last_successful_verification: Option<VerifiedBackup>,
    pub stale: bool,
    pub stale_after_hours: u32,
}

/// What `entries` (any order) say at `now`.
pub fn assess(entries: &[BackupEntry], now: OffsetDateTime, stale_after_hours: u32) -> Freshness {
    let last = entries
        .iter()
        .filter(|e| e.kind != BackupKind::PreRestore)
        .max_by_key(|e| e.created_at);
    let verified = |ok_only: bool| {
        entries
            .iter()
            .filter_map(|e| {
                let v = e.verification.as_ref()?;
                (!ok_only || v.ok).then(|| VerifiedBackup {
                    backup: e.name.clone(),
                    verification: v.clone(),
                })
            })
            .max_by_key(|v| v.verification.at)
    };
    let last_success_at = last.map(|e| e.created_at);
    Freshness {
        last_backup: last.map(|e| e.name.clone()),
        last_success_at,
        age_seconds: last_success_at.map(|at| (now - at).whole_seconds()),
        last_verification: verified(false),
        last_successful_verification: verified(true),
        stale: is_stale(last_success_at, now, stale_after_hours),
        stale_after_hours,
    }
}

/// No successful backup within `stale_after_hours` of `now` (none at all is stale too).
pub fn is_stale(
    last_success_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    stale_after_hours: u32,
) -> bool {
    match last_success_at {
        Some(at) => now - at > time::Duration::hours(i64::from(stale_after_hours)),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::entries_newest_first;
    use crate::storage::BlobInfo;
    use time::macros::datetime;

    fn blob(name: &str) -> BlobInfo {
        BlobInfo {
            name: name.into(),
            size: 1,
            last_modified: OffsetDateTime::UNIX_EPOCH,
            etag: None,
            metadata: Default::default(),
        }
    }

    #[test]
    fn stale_after_the_threshold_and_safety_backups_do_not_count() {
        let now = datetime!(2026-11-25 06:00 UTC);
        let entries = entries_newest_first(
            &[
                blob("rythm-backup-2026-11-24T02-00-00-000Z.sql"),
                blob("pre-restore-2026-11-25T05-00-00-000Z.sql"),
            ],
            now,
            10,
        );
        let f = assess(&entries, now, 26);
        assert_eq!(
            f.last_backup.as_ref().map(|n| n.as_str()),
            Some("rythm-backup-2026-11-24T02-00-00-000Z.sql")
        );
        assert_eq!(f.age_seconds, Some(28 * 3600));
        assert!(f.stale);
        assert!(!assess(&entries, now, 30).stale);
        assert!(assess(&[], now, 26).stale);
        assert!(f.last_verification.is_none());
    }

    #[test]
    fn reads_the_threshold() {
        let f = |v: Option<&str>| stale_after_hours_from(&|_: &str| v.map(str::to_owned));
        assert_eq!(f(None).unwrap(), 26);
        assert_eq!(f(Some("48")).unwrap(), 48);
        assert!(f(Some("0")).is_err());
        assert!(f(Some("soon")).is_err());
    }
}
