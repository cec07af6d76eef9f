//! Running long engine jobs from HTTP: one lock shared by backups and restores (a second one
//! gets 409), jobs detached from the connection (a client that hangs up does not cut a
//! restore in half or release the lock early), and progress logged at info, throttled.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rythm_backup_core::jobs::Phase;
use rythm_backup_core::{JobEvent, Progress};
use tokio::sync::{mpsc, OwnedMutexGuard};

use crate::error::ApiError;

/// At most one progress line per job per this interval.
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// The lock backups and restores share, with the name of the job holding it.
#[derive(Debug, Clone, Default)]
pub struct JobLock {
    lock: Arc<tokio::sync::Mutex<()>>,
    running: Arc<Mutex<&'static str>>,
}

/// Proof of holding the job lock; released on drop.
#[derive(Debug)]
pub struct JobGuard {
    _guard: OwnedMutexGuard<()>,
}

impl JobLock {
    /// Takes the lock now, or answers 409 naming the job that holds it.
    pub fn try_acquire(&self, job: &'static str) -> Result<JobGuard, ApiError> {
        match self.lock.clone().try_lock_owned() {
            Ok(guard) => {
                *self.running.lock().unwrap_or_else(|e| e.into_inner()) = job;
                Ok(JobGuard { _guard: guard })
            }
            Err(_) => {
                let running = *self.running.lock().unwrap_or_else(|e| e.into_inner());
                Err(ApiError::busy(running))
            }
        }
    }

    /// Waits for the lock (the scheduler, which must not skip its run).
    pub async fn acquire(&self, job: &'static str) -> JobGuard {
        let guard = self.lock.clone().lock_owned().await;
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = job;
        JobGuard { _guard: guard }
    }
}

/// Runs `job` on its own task holding `guard` until it ends, and waits for its result. If
/// the caller's future is dropped (the client hung up), the job still runs to its end.
pub async fn run_detached<T, F>(guard: JobGuard, job: F) -> Result<T, ApiError>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handle = tokio::spawn(async move {
        let result = job.await;
        drop(guard);
        result
    });
    handle
        .await
        .map_err(|e| ApiError::internal(format!("the job stopped unexpectedly: {e}")))
}

/// A progress sink whose events are logged at info (phase changes always, byte counts at
/// most every 5 s). The logging task ends when the last clone of the sink is dropped.
pub fn logged_progress(job: &'static str, actor: &str) -> Progress {
    let (sender, mut receiver) = mpsc::unbounded_channel::<JobEvent>();
    let actor = actor.to_owned();
    tokio::spawn(async move {
        let mut last: Option<(Phase, Instant)> = None;
        while let Some(event) = receiver.recv().await {
            match event {
                JobEvent::PhaseStarted { phase, name, total } => {
                    last = Some((phase, Instant::now()));
                    tracing::info!(job, actor = %actor, phase = ?phase, backup = name.as_deref(),
                        total, "job phase started");
                }
                JobEvent::Progress {
                    phase,
                    bytes,
                    raw_bytes,
                    total,
                } => {
                    let due = last.is_none_or(|(p, at)| p != phase || at.elapsed() >= LOG_INTERVAL);
                    if due {
                        last = Some((phase, Instant::now()));
                        tracing::info!(job, actor = %actor, phase = ?phase, bytes, raw_bytes,
                            total, "job progress");
                    }
                }
                JobEvent::Retrying {
                    phase,
                    attempt,
                    delay_ms,
                    reason,
                } => {
                    tracing::warn!(job, actor = %actor, phase = ?phase, attempt, delay_ms,
                        reason = %reason, "job retrying");
                }
                JobEvent::Note { message } => {
                    tracing::info!(job, actor = %actor, note = %message, "job note");
                }
            }
        }
    });
    Progress::new(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn second_job_gets_409_until_the_first_ends() {
        let lock = JobLock::default();
        let guard = lock.try_acquire("backup").unwrap();
        let err = lock.try_acquire("restore").unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::CONFLICT);
        assert!(err.message.contains("backup"), "{}", err.message);
        let value = run_detached(guard, async { 7 }).await.unwrap();
        assert_eq!(value, 7);
        assert!(lock.try_acquire("restore").is_ok());
    }
}
