//! One long job of a command: its profile's slot in the job registry, its `JobEvent`s
//! forwarded to the front end over a `tauri::ipc::Channel`, its entry in the activity log.

use std::time::Duration;

use rythm_backup_core::{Cancel, JobEvent, Progress};
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;

use crate::commands::activity;
use crate::error::{UiError, UiResult};
use crate::state::{Action, AppState, JobGuard};

/// How long a finished job waits for its last events to reach the front end.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

pub struct JobRun<'a> {
    state: &'a AppState,
    profile: String,
    action: Action,
    slot: JobGuard,
    pub progress: Progress,
    forwarder: JoinHandle<()>,
}

impl<'a> JobRun<'a> {
    /// Takes the profile's slot (a `busy` error when another job runs) and starts forwarding.
    pub fn start(
        state: &'a AppState,
        profile: &str,
        job_id: String,
        action: Action,
        on_event: Channel<JobEvent>,
    ) -> UiResult<Self> {
        let slot = state.jobs.start(profile, Some(job_id), action)?;
        let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
        let forwarder = tauri::async_runtime::spawn(async move {
            while let Some(event) = events.recv().await {
                if on_event.send(event).is_err() {
                    break; // the window is gone; the job goes on
                }
            }
        });
        Ok(JobRun {
            state,
            profile: profile.to_owned(),
            action,
            slot,
            progress: Progress::new(sender),
            forwarder,
        })
    }

    pub fn cancel(&self) -> &Cancel {
        &self.slot.cancel
    }

    /// Ends the job: lets the last events through, logs the activity, frees the slot.
    pub async fn finish<T, E: Into<UiError>>(
        self,
        result: Result<T, E>,
        summary: impl FnOnce(&T) -> String,
    ) -> UiResult<T> {
        self.finish_judged(result, summary, |_| None).await
    }

    /// `finish` for a job whose result can be a failure although it returned (a
    /// verification whose counts differ): `failure` says why, and the OS notice says so.
    pub async fn finish_judged<T, E: Into<UiError>>(
        self,
        result: Result<T, E>,
        summary: impl FnOnce(&T) -> String,
        failure: impl FnOnce(&T) -> Option<String>,
    ) -> UiResult<T> {
        let JobRun {
            state,
            profile,
            action,
            slot,
            progress,
            forwarder,
        } = self;
        drop(progress);
        // The engine's helper tasks may hold a sender a moment longer: never wait forever.
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, forwarder).await;
        let result = result.map_err(Into::into);
        let failure = result.as_ref().ok().and_then(failure);
        crate::os_notify::job_ended(action, &result, failure);
        activity::record(state, Some(&profile), action, &result, summary);
        drop(slot);
        result
    }
}
