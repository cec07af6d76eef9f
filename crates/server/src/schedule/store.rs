//! The persisted schedule: the RYTHM API's `ScheduleConfig` plus the last run's result, in a
//! JSON file written atomically; validation of updates; and the next run time.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rythm_backup_core::api::wire::{ScheduleConfig, ScheduleUpdate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{OffsetDateTime, Time};

use crate::atomic_file;
use crate::convert::iso_millis;
use crate::error::ServerError;

/// Used until an admin sets one: 02:00 UTC, the seed's example.
pub const DEFAULT_TIME: &str = "02:00:00";
pub const MIN_RETENTION_DAYS: u32 = 1;
pub const MAX_RETENTION_DAYS: u32 = 90;

/// How a scheduled run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    /// When the run started (ISO 8601, UTC).
    pub at: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The backup it wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    /// What retention deleted afterwards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pruned: Vec<String>,
}

/// A verification the server ran, and of which backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationRun {
    pub backup: String,
    pub verification: rythm_backup_core::catalog::Verification,
}

/// The file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSchedule {
    #[serde(flatten)]
    pub config: ScheduleConfig,
    #[serde(default)]
    pub last_result: Option<RunRecord>,
    /// When the last backup that succeeded (scheduled or not) was taken (ISO 8601).
    #[serde(default)]
    pub last_success_at: Option<String>,
    /// The `last_success_at` of the stale episode already announced ("never" when there was
    /// no backup at all), so one episode sends one alarm, across restarts too.
    #[serde(default)]
    pub stale_alarm_sent_for: Option<String>,
    #[serde(default)]
    pub last_verification: Option<VerificationRun>,
}

#[derive(Debug)]
pub struct ScheduleStore {
    path: PathBuf,
    current: Mutex<StoredSchedule>,
}

impl ScheduleStore {
    /// Reads the file, or starts from the defaults when there is none (written at the first
    /// change). `next_run_at` is recomputed from `now`: a run missed while the server was
    /// down is not caught up.
    pub fn load(
        path: &Path,
        default_retention: u32,
        now: OffsetDateTime,
    ) -> Result<Self, ServerError> {
        let mut stored = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice::<StoredSchedule>(&bytes).map_err(|e| {
                ServerError::Config(format!(
                    "the schedule file {} is not valid: {e}; fix or remove it",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StoredSchedule {
                config: ScheduleConfig {
                    schedule_id: Value::from(1),
                    enabled: false,
                    schedule_time: DEFAULT_TIME.into(),
                    retention_days: default_retention.clamp(MIN_RETENTION_DAYS, MAX_RETENTION_DAYS),
                    last_run_at: None,
                    next_run_at: None,
                    created_at: Some(iso_millis(now)),
                    updated_at: Some(iso_millis(now)),
                    verify_after_backup: None,
                },
                last_result: None,
                last_success_at: None,
                stale_alarm_sent_for: None,
                last_verification: None,
            },
            Err(source) => {
                return Err(ServerError::Io {
                    action: "cannot read the schedule file",
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        let time = parse_time(&stored.config.schedule_time).map_err(|e| {
            ServerError::Config(format!("the schedule file {}: {e}", path.display()))
        })?;
        stored.config.next_run_at = stored
            .config
            .enabled
            .then(|| iso_millis(next_occurrence(now, time)));
        Ok(ScheduleStore {
            path: path.to_path_buf(),
            current: Mutex::new(stored),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StoredSchedule> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self) -> StoredSchedule {
        self.lock().clone()
    }

    /// The time of the next run; `None` while disabled.
    pub fn next_run(&self) -> Option<OffsetDateTime> {
        let current = self.lock();
        let next = current.config.next_run_at.as_deref()?;
        OffsetDateTime::parse(next, &time::format_description::well_known::Rfc3339).ok()
    }

    /// Applies a validated update and saves it.
    pub fn update(
        &self,
        update: &ScheduleUpdate,
        now: OffsetDateTime,
    ) -> Result<ScheduleConfig, String> {
        let time = match &update.schedule_time {
            Some(raw) => Some(parse_time(raw)?),
            None => None,
        };
        if let Some(days) = update.retention_days {
            check_retention(days)?;
        }
        let mut current = self.lock();
        let mut next = current.clone();
        next.config.enabled = update.enabled;
        if let Some(time) = time {
            next.config.schedule_time = format_time(time);
        }
        if let Some(days) = update.retention_days {
            next.config.retention_days = days;
        }
        if let Some(verify) = update.verify_after_backup {
            next.config.verify_after_backup = Some(verify);
        }
        let at = parse_time(&next.config.schedule_time)?;
        next.config.next_run_at = next
            .config
            .enabled
            .then(|| iso_millis(next_occurrence(now, at)));
        next.config.updated_at = Some(iso_millis(now));
        self.save(&next)
            .map_err(|e| format!("cannot save the schedule: {e}"))?;
        *current = next;
        Ok(current.config.clone())
    }

    /// Records a finished run started at `started` and the next run after `now`.
    pub fn record_run(&self, record: RunRecord, started: OffsetDateTime, now: OffsetDateTime) {
        let mut current = self.lock();
        let mut next = current.clone();
        next.config.last_run_at = Some(iso_millis(started));
        next.config.next_run_at = match parse_time(&next.config.schedule_time) {
            Ok(at) if next.config.enabled => Some(iso_millis(next_occurrence(now, at))),
            _ => None,
        };
        next.last_result = Some(record);
        if let Err(e) = self.save(&next) {
            // The run itself is logged; the file catches up at the next save.
            tracing::warn!(error = %e, path = %self.path.display(), "cannot save the schedule");
        }
        *current = next;
    }

    /// Fills in `verify_after_backup` when the file has none: `default` (true when a scratch
    /// server is configured).
    pub fn default_verify_after_backup(&self, default: bool) {
        let mut current = self.lock();
        if current.config.verify_after_backup.is_none() {
            current.config.verify_after_backup = Some(default);
        }
    }

    /// Changes the persisted state with `change` and saves it (a failed save is logged:
    /// the state in memory is right, the file catches up at the next save).
    pub fn modify(&self, change: impl FnOnce(&mut StoredSchedule)) {
        let mut current = self.lock();
        let mut next = current.clone();
        change(&mut next);
        if next == *current {
            return;
        }
        if let Err(e) = self.save(&next) {
            tracing::warn!(error = %e, path = %self.path.display(), "cannot save the schedule");
        }
        *current = next;
    }

    /// When the last successful backup was taken.
    pub fn last_success(&self) -> Option<OffsetDateTime> {
        let current = self.lock();
        let at = current.last_success_at.as_deref()?;
        OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
    }

    fn save(&self, stored: &StoredSchedule) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(stored).expect("the schedule serialises");
        atomic_file::write(&self.path, &json)
    }
}

/// `HH:MM` or `HH:MM:SS`, 24-hour, UTC.
pub fn parse_time(raw: &str) -> Result<Time, String> {
    let bad = || format!("schedule_time must be HH:MM or HH:MM:SS (24-hour, UTC), not {raw:?}");
    let parts: Vec<&str> = raw.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let mut numbers = [0u8; 3];
    for (slot, part) in numbers.iter_mut().zip(&parts) {
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        *slot = part.parse().map_err(|_| bad())?;
    }
    Time::from_hms(numbers[0], numbers[1], numbers[2]).map_err(|_| bad())
}

pub fn format_time(t: Time) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

pub fn check_retention(days: u32) -> Result<(), String> {
    if (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(format!(
            "retention_days must be a whole number from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}"
        ))
    }
}

/// The first time of day `at` (UTC) strictly after `now`.
pub fn next_occurrence(now: OffsetDateTime, at: Time) -> OffsetDateTime {
    let now = now.to_offset(time::UtcOffset::UTC);
    let today = now.date().with_time(at).assume_utc();
    if today > now {
        today
    } else {
        today + time::Duration::days(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, time};

    #[test]
    fn parses_times() {
        assert_eq!(parse_time("02:00"), Ok(time!(02:00)));
        assert_eq!(parse_time("23:59:59"), Ok(time!(23:59:59)));
        for bad in [
            "24:00",
            "2:00",
            "02:60",
            "02:00:60",
            "",
            "02",
            "02:00:00:00",
            "ab:cd",
            "+1:00",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(format_time(time!(02:05)), "02:05:00");
    }

    #[test]
    fn next_occurrence_is_strictly_later() {
        let at = time!(02:00);
        assert_eq!(
            next_occurrence(datetime!(2026-01-01 01:59 UTC), at),
            datetime!(2026-01-01 02:00 UTC)
        );
        assert_eq!(
            next_occurrence(datetime!(2026-01-01 02:00 UTC), at),
            datetime!(2026-01-02 02:00 UTC)
        );
        assert_eq!(
            next_occurrence(datetime!(2026-12-31 23:00 UTC), at),
            datetime!(2027-01-01 02:00 UTC)
        );
    }

    #[test]
    fn updates_persist_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schedule.json");
        let now = datetime!(2026-01-01 01:00 UTC);
        let store = ScheduleStore::load(&path, 10, now).unwrap();
        assert!(!store.get().config.enabled);
        assert_eq!(store.next_run(), None);
        let update = ScheduleUpdate {
            enabled: true,
            schedule_time: Some("03:30".into()),
            retention_days: Some(7),
            verify_after_backup: None,
        };
        let config = store.update(&update, now).unwrap();
        assert_eq!(config.schedule_time, "03:30:00");
        assert_eq!(
            config.next_run_at.as_deref(),
            Some("2026-01-01T03:30:00.000Z")
        );
        assert!(store
            .update(
                &ScheduleUpdate {
                    retention_days: Some(91),
                    ..update.clone()
                },
                now
            )
            .is_err());
        let reloaded = ScheduleStore::load(&path, 10, now).unwrap();
        assert_eq!(reloaded.get().config.retention_days, 7);
        assert_eq!(reloaded.next_run(), Some(datetime!(2026-01-01 03:30 UTC)));
    }
}
