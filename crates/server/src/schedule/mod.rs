//! Scheduled backups: the daily schedule of the RYTHM API (`GET`/`PUT
//! /api/backups/schedule/config`), persisted in a file, and the runner that takes the backup
//! at `schedule_time` (UTC) and then applies `retention_days`.

pub mod clock;
pub mod runner;
pub mod store;

use std::sync::Arc;

use rythm_backup_core::api::wire::{ScheduleConfig, ScheduleUpdate};
use tokio::sync::watch;

pub use clock::{Clock, ManualClock, SystemClock};
pub use store::{RunRecord, ScheduleStore, StoredSchedule};

/// The schedule shared by the routes and the runner: its store, the clock, and a signal
/// that wakes the runner when the schedule changes.
#[derive(Debug)]
pub struct Schedule {
    store: ScheduleStore,
    clock: Arc<dyn Clock>,
    changed: watch::Sender<u64>,
}

impl Schedule {
    pub fn new(store: ScheduleStore, clock: Arc<dyn Clock>) -> Self {
        Schedule {
            store,
            clock,
            changed: watch::Sender::new(0),
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn get(&self) -> StoredSchedule {
        self.store.get()
    }

    pub fn store(&self) -> &ScheduleStore {
        &self.store
    }

    /// Validates, saves and applies an update; wakes the runner.
    pub fn update(&self, update: &ScheduleUpdate) -> Result<ScheduleConfig, String> {
        let config = self.store.update(update, self.clock.now())?;
        self.changed.send_modify(|n| *n += 1);
        Ok(config)
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
