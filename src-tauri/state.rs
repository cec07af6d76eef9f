//! The app's state: the saved profiles, the folders of its own files, and the registry of
//! running jobs with their cancellation tokens (one job per profile at a time).
//!
//! Job ids: the front end names every long job itself (e.g. `crypto.randomUUID()`) and passes
//! the id with the command that starts it, so it can `cancel_job(id)` while that command is
//! still running. Quick operations (delete, prune, profile changes) take the profile's slot
//! under an id of their own, so they too wait for a running job.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use rythm_backup_core::{Cancel, ErrorCode, Profiles};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ts_rs::TS;

use crate::error::{UiError, UiResult};

pub struct AppState {
    pub profiles: Profiles,
    pub paths: AppPaths,
    pub jobs: Jobs,
    /// Reads that take no slot but stop when the front end asks (a backup's contents).
    pub reads: crate::reads::Reads,
    /// Serialises writes to the app's own JSON files (activity, local copies, settings).
    pub files: Mutex<()>,
}

/// The folders of the app's own files (the profiles are the engine's, shared with the CLI).
#[derive(Debug, Clone)]
pub struct AppPaths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl AppPaths {
    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join("settings.json")
    }

    pub fn local_copies_file(&self) -> PathBuf {
        self.data_dir.join("local-copies.json")
    }

    pub fn activity_file(&self) -> PathBuf {
        self.data_dir.join("activity.jsonl")
    }
}

impl AppState {
    pub fn new(profiles: Profiles, paths: AppPaths) -> Self {
        AppState {
            profiles,
            paths,
            jobs: Jobs::default(),
            reads: Default::default(),
            files: Mutex::new(()),
        }
    }

    pub fn lock_files(&self) -> MutexGuard<'_, ()> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `work` on the profiles off the async runtime: the keychain blocks.
    pub async fn with_profiles<T, F>(&self, work: F) -> UiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Profiles) -> Result<T, rythm_backup_core::Error> + Send + 'static,
    {
        let profiles = self.profiles.clone();
        Ok(tauri::async_runtime::spawn_blocking(move || work(&profiles)).await??)
    }
}

/// What the app does for a person; the kind of a job and of an activity log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    CreateBackup,
    DownloadBackup,
    RestoreBackup,
    RestoreLocalCopy,
    /// A partial restore's preview (a dry run).
    PreviewRestore,
    DeleteBackup,
    Prune,
    SignIn,
    SignOut,
    SaveProfile,
    RemoveProfile,
    SetSchedule,
    InstallUpdate,
    VerifyBackup,
}

impl Action {
    /// "a backup", "a restore"…, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Action::CreateBackup => "a backup",
            Action::DownloadBackup => "a download",
            Action::RestoreBackup | Action::RestoreLocalCopy => "a restore",
            Action::PreviewRestore => "a restore preview",
            Action::DeleteBackup => "a deletion",
            Action::Prune => "a prune",
            Action::SignIn | Action::SignOut => "a sign-in change",
            Action::SaveProfile | Action::RemoveProfile => "a profile change",
            Action::SetSchedule => "a schedule change",
            Action::InstallUpdate => "an update",
            Action::VerifyBackup => "a verification",
        }
    }
}

/// A running job, as `running_jobs` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub job_id: String,
    pub profile: String,
    pub action: Action,
    /// RFC 3339, UTC.
    pub started_at: String,
}

struct RunningJob {
    view: JobView,
    cancel: Cancel,
}

/// The running jobs, keyed by profile: a profile runs one job at a time.
#[derive(Clone, Default)]
pub struct Jobs(Arc<Mutex<Registry>>);

#[derive(Default)]
struct Registry {
    running: HashMap<String, RunningJob>,
    /// Ids cancelled before their job was registered (a click on Cancel can overtake the
    /// command that starts the job): such a job starts cancelled.
    early_cancels: VecDeque<String>,
}

/// How many early cancels are remembered; older ones are forgotten.
const EARLY_CANCELS_KEPT: usize = 32;

impl Jobs {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a job of `profile`; a `busy` error naming the running one when there is one.
    /// `job_id` is the front end's id; `None` makes one (for quick operations).
    pub fn start(
        &self,
        profile: &str,
        job_id: Option<String>,
        action: Action,
    ) -> UiResult<JobGuard> {
        let id = match job_id {
            Some(id) => checked_job_id(id)?,
            None => format!("{}-{}", action_id(action), next_number()),
        };
        let mut registry = self.lock();
        if let Some(running) = registry.running.get(profile) {
            let v = &running.view;
            return Err(UiError::new(
                ErrorCode::Busy,
                format!(
                    "profile {profile:?} is already running {} (job {}, started {}); wait for it \
                     to finish or cancel it",
                    v.action.describe(),
                    v.job_id,
                    v.started_at
                ),
            ));
        }
        if registry.running.values().any(|j| j.view.job_id == id) {
            return Err(UiError::invalid_input(format!(
                "job id {id:?} is already in use"
            )));
        }
        let cancel = Cancel::new();
        if let Some(at) = registry.early_cancels.iter().position(|c| *c == id) {
            registry.early_cancels.remove(at);
            cancel.cancel();
        }
        let view = JobView {
            job_id: id.clone(),
            profile: profile.to_owned(),
            action,
            started_at: now_rfc3339(),
        };
        let job = RunningJob {
            view,
            cancel: cancel.clone(),
        };
        registry.running.insert(profile.to_owned(), job);
        Ok(JobGuard {
            jobs: self.clone(),
            profile: profile.to_owned(),
            id,
            cancel,
        })
    }

    /// Fires a job's cancellation token; `false` when no such job runs yet, in which case
    /// the job starts cancelled if it comes.
    pub fn cancel(&self, job_id: &str) -> bool {
        let mut registry = self.lock();
        let found = registry.running.values().find(|j| j.view.job_id == job_id);
        if let Some(job) = found {
            tracing::info!(job = job_id, profile = %job.view.profile, "cancelling a job");
            job.cancel.cancel();
            return true;
        }
        if registry.early_cancels.len() == EARLY_CANCELS_KEPT {
            registry.early_cancels.pop_front();
        }
        registry.early_cancels.push_back(job_id.to_owned());
        false
    }

    pub fn running(&self) -> Vec<JobView> {
        let mut views: Vec<JobView> = self
            .lock()
            .running
            .values()
            .map(|j| j.view.clone())
            .collect();
        views.sort_by(|a, b| a.profile.cmp(&b.profile));
        views
    }

    /// "a backup (demo) and a download (prod)", or `None` when nothing runs.
    pub fn describe_running(&self) -> Option<String> {
        let parts: Vec<String> = self
            .running()
            .iter()
            .map(|j| format!("{} ({})", j.action.describe(), j.profile))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" and "))
    }

    /// Asks every running job to stop (the app is closing).
    pub fn cancel_all(&self) {
        for job in self.lock().running.values() {
            job.cancel.cancel();
        }
    }
}

/// A profile's job slot, freed when dropped (however the command ends).
pub struct JobGuard {
    jobs: Jobs,
    profile: String,
    id: String,
    pub cancel: Cancel,
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        let mut registry = self.jobs.lock();
        if registry
            .running
            .get(&self.profile)
            .is_some_and(|j| j.view.job_id == self.id)
        {
            registry.running.remove(&self.profile);
        }
    }
}

pub(crate) fn checked_job_id(id: String) -> UiResult<String> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(UiError::invalid_input(
            "a job id is 1 to 64 letters, digits, '-' or '_'",
        ))
    }
}

fn action_id(action: Action) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "job".into())
}

fn next_number() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_before_the_job_starts_is_kept_for_it() {
        let jobs = Jobs::default();
        assert!(!jobs.cancel("job-early"), "not running yet");
        let job = jobs
            .start("prod", Some("job-early".into()), Action::DownloadBackup)
            .unwrap();
        assert!(job.cancel.is_cancelled(), "it starts cancelled");
        drop(job);
        let again = jobs
            .start("prod", Some("job-early".into()), Action::DownloadBackup)
            .unwrap();
        assert!(!again.cancel.is_cancelled(), "an early cancel is used once");
        drop(again);
        for n in 0..=EARLY_CANCELS_KEPT {
            jobs.cancel(&format!("never-{n}"));
        }
        assert_eq!(jobs.lock().early_cancels.len(), EARLY_CANCELS_KEPT);
    }

    #[test]
    fn running_jobs_are_described_and_all_cancelled_on_quit() {
        let jobs = Jobs::default();
        assert_eq!(jobs.describe_running(), None);
        let backup = jobs.start("demo", None, Action::CreateBackup).unwrap();
        let download = jobs.start("prod", None, Action::DownloadBackup).unwrap();
        assert_eq!(
            jobs.describe_running().as_deref(),
            Some("a backup (demo) and a download (prod)")
        );
        jobs.cancel_all();
        assert!(backup.cancel.is_cancelled() && download.cancel.is_cancelled());
    }

    #[test]
    fn one_job_per_profile_and_cancel_by_id() {
        let jobs = Jobs::default();
        let first = jobs
            .start("prod", Some("job-1".into()), Action::CreateBackup)
            .unwrap();
        let busy = jobs
            .start("prod", Some("job-2".into()), Action::RestoreBackup)
            .err()
            .unwrap();
        assert_eq!(busy.code, ErrorCode::Busy);
        assert!(
            busy.message.contains("a backup (job job-1"),
            "{}",
            busy.message
        );
        // Another profile may run at the same time, but not under a taken id.
        let taken = jobs
            .start("test", Some("job-1".into()), Action::Prune)
            .err()
            .unwrap();
        assert_eq!(taken.code, ErrorCode::InvalidInput);
        let other = jobs.start("test", None, Action::Prune).unwrap();
        assert_eq!(jobs.running().len(), 2);

        assert!(jobs.cancel("job-1"));
        assert!(first.cancel.is_cancelled());
        assert!(!other.cancel.is_cancelled());
        assert!(!jobs.cancel("nope"));
        drop(first);
        assert_eq!(jobs.running().len(), 1);
        jobs.start("prod", Some("job-3".into()), Action::CreateBackup)
            .unwrap();
    }

    #[test]
    fn job_ids_are_checked() {
        let jobs = Jobs::default();
        for bad in ["", "a b", "../x", &"x".repeat(65)] {
            let error = jobs
                .start("p", Some(bad.into()), Action::Prune)
                .err()
                .unwrap();
            assert_eq!(error.code, ErrorCode::InvalidInput, "{bad:?}");
        }
    }
}
