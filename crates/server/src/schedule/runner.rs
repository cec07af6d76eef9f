//! The scheduler loop: sleeps until the next run (woken early when the schedule changes),
//! waits for the job lock, takes a `scheduled` backup, applies the schedule's retention,
//! and records the result for the schedule and `/api/health`.

use std::sync::Arc;

use rythm_backup_core::{BackupKind, Engine};
use tokio_util::sync::CancellationToken;

use super::{RunRecord, Schedule};
use crate::audit;
use crate::convert::iso_millis;
use crate::jobs::{logged_progress, JobLock};

pub struct Runner {
    pub engine: Engine,
    pub jobs: JobLock,
    pub schedule: Arc<Schedule>,
}

impl Runner {
    /// Runs until `cancel` fires; a run in progress is cancelled with it.
    pub async fn run(self, cancel: CancellationToken) {
        let mut changes = self.schedule.subscribe();
        loop {
            changes.borrow_and_update();
            let next = self.schedule.store().next_run();
            let clock = self.schedule.clock().clone();
            let sleep = async {
                match next {
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

    /// One scheduled backup with retention; the result goes into the schedule.
    pub async fn run_once(&self, cancel: &CancellationToken) {
        let guard = tokio::select! {
            guard = self.jobs.acquire("scheduled backup") => guard,
            _ = cancel.cancelled() => return,
        };
        let clock = self.schedule.clock().clone();
        let started = clock.now();
        let retention_days = self.schedule.get().config.retention_days;
        let mut config = self.engine.config().clone();
        config.retention_days = retention_days;
        config.created_by = Some(audit::SCHEDULER.to_owned());
        let engine = Engine::with_store(config, self.engine.store().clone());
        tracing::info!(at = %iso_millis(started), retention_days, "scheduled backup started");

        let progress = logged_progress("scheduled backup", audit::SCHEDULER);
        let result = engine
            .backup(BackupKind::Scheduled, &progress, &cancel.child_token())
            .await;
        drop(guard);

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
        self.schedule
            .store()
            .record_run(record, started, clock.now());
    }
}
