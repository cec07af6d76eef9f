//! The scheduler loop: sleeps until the next run or the moment backups turn stale (woken
//! early when the schedule changes), takes a `scheduled` backup holding the job lock,
//! applies the schedule's retention, rehearses a restore of the new backup when
//! `verify_after_backup` says so, records every result for the schedule and
//! `/api/health`, and notifies. At start-up it catches up a run missed while the server was
//! down (the last run older than a day), and it raises one "backups are stale" alarm per
//! episode.

use std::sync::Arc;

use rythm_backup_core::catalog::{BackupKind, BackupName};
use rythm_backup_core::freshness::is_stale;
use rythm_backup_core::jobs::verify::Rehearsed;
use rythm_backup_core::notify::{cause_chain, Event, Notifier};
use rythm_backup_core::{Cancel, Engine, Progress};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::store::{StoredSchedule, VerificationRun};
use super::{RunRecord, Schedule};
use crate::audit;
use crate::convert::iso_millis;
use crate::jobs::{logged_progress, JobLock};
use crate::notices;

/// A run missed by more than this is caught up at start-up.
const CATCH_UP_AFTER: time::Duration = time::Duration::days(1);
/// `stale_alarm_sent_for` when there was no successful backup at all.
const NEVER: &str = "never";

pub struct Runner {
    pub engine: Engine,
    pub jobs: JobLock,
    pub schedule: Arc<Schedule>,
    pub notifier: Notifier,
    pub stale_after_hours: u32,
}

fn parse(at: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
}

impl Runner {
    /// Runs until `cancel` fires; a run in progress is cancelled with it.
    pub async fn run(self, cancel: CancellationToken) {
        self.learn_last_success().await;
        if let Some(missed) = self.missed_run() {
            tracing::warn!(last_run_at = %missed, "the server was down at a scheduled time: \
                catching up the missed backup now");
            self.run_once(&cancel).await;
        }
        let mut changes = self.schedule.subscribe();
        loop {
            changes.borrow_and_update();
            self.check_stale().await;
            let next = self.schedule.store().next_run();
            let stale_at = self.stale_deadline();
            let wake = match (next, stale_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let clock = self.schedule.clock().clone();
            let sleep = async {
                match wake {
                    Some(at) => clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = sleep => {
                    if next.is_some_and(|at| clock.now() >= at) {
                        self.run_once(&cancel).await;
                    }
                }
            }
        }
    }

    /// The time of the last successful backup, read once from the store when the schedule
    /// file does not know it yet (a first start, or backups made by another tool).
    async fn learn_last_success(&self) {
        if self.schedule.store().last_success().is_some() {
            return;
        }
        match self.engine.list().await {
            Ok(entries) => {
                if let Some(newest) = entries.iter().find(|e| e.kind != BackupKind::PreRestore) {
                    let at = iso_millis(newest.created_at);
                    self.schedule
                        .store()
                        .modify(|s| s.last_success_at = Some(at));
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list the backups to learn the last one"),
        }
    }

    /// When the schedule is on and its last run (or, never run, its last change) is more
    /// than a day old: that run's time.
    fn missed_run(&self) -> Option<String> {
        let stored = self.schedule.get();
        if !stored.config.enabled {
            return None;
        }
        let last = stored
            .config
            .last_run_at
            .clone()
            .or(stored.config.updated_at.clone())?;
        let now = self.schedule.clock().now();
        (now - parse(&last)? > CATCH_UP_AFTER).then_some(last)
    }

    /// The episode a stale alarm is about: the last success, or never.
    fn episode(stored: &StoredSchedule) -> String {
        stored
            .last_success_at
            .clone()
            .unwrap_or_else(|| NEVER.into())
    }

    /// Since when the backups' freshness counts: the last success, else when the schedule
    /// was last changed (it was turned on then at the latest).
    fn reference(stored: &StoredSchedule) -> Option<OffsetDateTime> {
        stored
            .last_success_at
            .as_deref()
            .or(stored.config.updated_at.as_deref())
            .and_then(parse)
    }

    /// When the backups turn stale, unless that episode was announced already.
    fn stale_deadline(&self) -> Option<OffsetDateTime> {
        let stored = self.schedule.get();
        if !stored.config.enabled
            || stored.stale_alarm_sent_for.as_deref() == Some(&Self::episode(&stored))
        {
            return None;
        }
        let hours = time::Duration::hours(i64::from(self.stale_after_hours));
        // A second past the threshold: `is_stale` wants strictly more.
        Some(Self::reference(&stored)? + hours + time::Duration::seconds(1))
    }

    /// Sends the one alarm of a stale episode.
    async fn check_stale(&self) {
        let stored = self.schedule.get();
        let now = self.schedule.clock().now();
        let episode = Self::episode(&stored);
        let stale = stored.config.enabled
            && Self::reference(&stored)
                .is_some_and(|at| is_stale(Some(at), now, self.stale_after_hours));
        if !stale || stored.stale_alarm_sent_for.as_deref() == Some(&episode) {
            return;
        }
        tracing::error!(last_success_at = ?stored.last_success_at, hours = self.stale_after_hours,
            "backups are stale: no successful backup within STALE_AFTER_HOURS");
        self.schedule
            .store()
            .modify(|s| s.stale_alarm_sent_for = Some(episode));
        let mut origin = notices::origin(&self.engine);
        origin.at = now;
        self.notifier
            .notify(&Event::BackupsStale {
                origin,
                last_success_at: stored.last_success_at.as_deref().and_then(parse),
                stale_after_hours: self.stale_after_hours,
            })
            .await;
    }

    /// One scheduled backup with retention (and a rehearsal when asked for); the results
    /// go into the schedule and out as notifications.
    pub async fn run_once(&self, cancel: &CancellationToken) {
        let guard = tokio::select! {
            guard = self.jobs.acquire("scheduled backup") => guard,
            _ = cancel.cancelled() => return,
        };
        let clock = self.schedule.clock().clone();
        let started = clock.now();
        let stored = self.schedule.get();
        let retention_days = stored.config.retention_days;
        let mut config = self.engine.config().clone();
        config.retention_days = retention_days;
        config.created_by = Some(audit::SCHEDULER.to_owned());
        let engine = Engine::with_store(config, self.engine.store().clone());
        tracing::info!(at = %iso_millis(started), retention_days, "scheduled backup started");

        let progress = logged_progress("scheduled backup", audit::SCHEDULER);
        let timer = std::time::Instant::now();
        let result = engine
            .backup(BackupKind::Scheduled, &progress, &cancel.child_token())
            .await;
        drop(guard);

        let mut origin = notices::origin(&self.engine);
        origin.at = started;
        let record = match &result {
            Ok(report) => {
                let pruned: Vec<String> = report.pruned.iter().map(|n| n.to_string()).collect();
                tracing::info!(backup = %report.backup.name, size = report.backup.size,
                    pruned = pruned.len(), "scheduled backup finished");
                RunRecord {
                    at: iso_millis(started),
                    ok: report.prune_error.is_none(),
                    error: report
                        .prune_error
                        .as_ref()
                        .map(|e| format!("the backup was taken but retention failed: {e}")),
                    backup: Some(report.backup.name.to_string()),
                    pruned,
                }
            }
            Err(e) => {
                tracing::error!(code = ?e.code(), error = %e, "scheduled backup failed");
                RunRecord {
                    at: iso_millis(started),
                    ok: false,
                    error: Some(e.to_string()),
                    backup: None,
                    pruned: Vec::new(),
                }
            }
        };
        let object = record.backup.clone();
        audit::engine_outcome(
            audit::SCHEDULER,
            "scheduled_backup",
            object.as_deref(),
            &result,
        );
        if result.is_ok() {
            // The scheduler's clock, as every other time it keeps.
            let at = iso_millis(started);
            self.schedule
                .store()
                .modify(|s| s.last_success_at = Some(at));
        }
        self.schedule
            .store()
            .record_run(record, started, clock.now());

        let events = match &result {
            Ok(report) => {
                let mut events = vec![Event::BackupSucceeded {
                    origin: origin.clone(),
                    backup: report.backup.name.to_string(),
                    size: report.backup.size,
                    duration_ms: report.backup.duration_ms,
                }];
                if !report.pruned.is_empty() {
                    events.push(Event::RetentionDeleted {
                        origin: origin.clone(),
                        deleted: report.pruned.iter().map(|n| n.to_string()).collect(),
                    });
                }
                events
            }
            Err(e) => vec![Event::BackupFailed {
                origin: origin.clone(),
                error: cause_chain(e),
                duration_ms: timer.elapsed().as_millis() as u64,
            }],
        };
        for event in events {
            self.notifier.notify(&event).await;
        }
        let verify = self
            .schedule
            .get()
            .config
            .verify_after_backup
            .unwrap_or(false);
        if let (Ok(report), true) = (&result, verify) {
            self.rehearse(&report.backup.name, cancel).await;
        }
    }

    /// Rehearses a restore of `name` holding the job lock, records and notifies the result.
    async fn rehearse(&self, name: &BackupName, cancel: &CancellationToken) {
        let guard = tokio::select! {
            guard = self.jobs.acquire("scheduled verification") => guard,
            _ = cancel.cancelled() => return,
        };
        let progress: Progress = logged_progress("scheduled verification", audit::SCHEDULER);
        let rehearsed = self
            .engine
            .verify_recorded(name, &progress, &Cancel::from(cancel.child_token()))
            .await;
        drop(guard);
        audit::engine_outcome(
            audit::SCHEDULER,
            "verify_backup",
            Some(name.as_str()),
            &rehearsed.result,
        );
        if let Some(event) = record_verification(&self.schedule, &self.engine, name, &rehearsed) {
            self.notifier.notify(&event).await;
        }
    }
}

/// Keeps a rehearsal's verification for `/api/health` (a failed one too when the rehearsal
/// ended in an error: a backup that does not restore at all must turn health `degraded`)
/// and returns its notification (none for a cancelled one).
pub fn record_verification(
    schedule: &Schedule,
    engine: &Engine,
    name: &BackupName,
    rehearsed: &Rehearsed,
) -> Option<Event> {
    if let Some(verification) = &rehearsed.verification {
        let run = VerificationRun {
            backup: name.to_string(),
            verification: verification.clone(),
        };
        schedule.store().modify(|s| s.last_verification = Some(run));
    }
    verification_event(engine, name, &rehearsed.result)
}

/// The notification of a rehearsal's result (none for a cancelled one).
pub fn verification_event(
    engine: &Engine,
    name: &BackupName,
    result: &Result<rythm_backup_core::jobs::verify::VerifyOutcome, rythm_backup_core::Error>,
) -> Option<Event> {
    let origin = notices::origin(engine);
    match result {
        Ok(v) if v.ok => Some(Event::VerificationSucceeded {
            origin,
            backup: name.to_string(),
            restore_seconds: v.verification.restore_seconds,
            tables: v.tables.len(),
            rows: v.total_rows,
        }),
        Ok(v) => Some(Event::VerificationFailed {
            origin,
            backup: name.to_string(),
            error: vec![v
                .verification
                .error
                .clone()
                .unwrap_or_else(|| "the restored data differs from the backup".into())],
        }),
        Err(rythm_backup_core::Error::Cancelled) => None,
        Err(e) => Some(Event::VerificationFailed {
            origin,
            backup: name.to_string(),
            error: cause_chain(e),
        }),
    }
}
