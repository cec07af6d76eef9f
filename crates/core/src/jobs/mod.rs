//! The jobs: backup, list, download, restore, delete, prune and verify. Each reports
//! progress as `JobEvent`s through a `Progress` sink and stops when its `Cancel` token fires;
//! none knows which front end is listening.

pub mod backup;
mod bridge;
pub mod contents;
pub mod download;
pub mod partial;
pub mod prune;
mod psql_guard;
pub mod restore;
mod scratch;
mod snapshot;
mod spool;
pub mod sql_filter;
mod sql_stream;
mod transaction;
pub mod verify;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

/// The cancellation signal every job watches.
pub type Cancel = tokio_util::sync::CancellationToken;

/// What a job is doing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// pg_dump output compressed and uploaded.
    Dumping,
    /// A safety backup before a restore.
    SafetyBackup,
    /// A stored backup copied and its sha256 checked before any of it runs.
    Verifying,
    /// Bytes of a backup read into psql.
    Restoring,
    Downloading,
    /// Counting rows of a verification restore.
    Checking,
    /// A partial restore replacing the chosen rows (bytes of rows copied).
    Replacing,
}

/// Progress reported by a running job.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum JobEvent {
    /// A phase began; `total` is known for downloads and restores from storage.
    #[serde(rename_all = "camelCase")]
    PhaseStarted {
        phase: Phase,
        name: Option<String>,
        total: Option<u64>,
    },
    /// Bytes done so far in the phase: `bytes` as stored, `raw_bytes` before compression.
    #[serde(rename_all = "camelCase")]
    Progress {
        phase: Phase,
        bytes: u64,
        raw_bytes: Option<u64>,
        total: Option<u64>,
    },
    /// A transfer broke and will be retried from where it stopped.
    #[serde(rename_all = "camelCase")]
    Retrying {
        phase: Phase,
        attempt: u32,
        delay_ms: u64,
        reason: String,
    },
    /// Something worth telling that is not an error.
    Note { message: String },
}

/// Where a job sends its events; cheap to clone; events are throttled per phase so a fast
/// transfer does not flood the receiver.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    sender: Option<UnboundedSender<JobEvent>>,
    last: Arc<std::sync::Mutex<Option<Instant>>>,
}

const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

impl Progress {
    pub fn new(sender: UnboundedSender<JobEvent>) -> Self {
        Progress {
            sender: Some(sender),
            last: Arc::default(),
        }
    }

    /// A sink that drops everything.
    pub fn none() -> Self {
        Progress::default()
    }

    pub fn emit(&self, event: JobEvent) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(event);
        }
    }

    /// Emits a progress event unless one went out less than 100 ms ago (`force` overrides,
    /// for the final figure).
    pub fn bytes(
        &self,
        phase: Phase,
        bytes: u64,
        raw_bytes: Option<u64>,
        total: Option<u64>,
        force: bool,
    ) {
        if self.sender.is_none() {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let due = last.is_none_or(|t| t.elapsed() >= PROGRESS_INTERVAL);
        if due || force {
            *last = Some(Instant::now());
            drop(last);
            self.emit(JobEvent::Progress {
                phase,
                bytes,
                raw_bytes,
                total,
            });
        }
    }

    pub fn phase(&self, phase: Phase, name: Option<String>, total: Option<u64>) {
        self.emit(JobEvent::PhaseStarted { phase, name, total });
    }
}
