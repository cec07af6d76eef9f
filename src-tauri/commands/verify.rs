//! Restore rehearsals and freshness: the rehearsal of a backup (direct mode through the
//! engine, API mode through the server's `POST /api/backups/{name}/verify`; progress over
//! the job's channel; a verification whose counts differ is announced as failed), and how
//! fresh a profile's backups are, by the engine's one rule (`freshness::of`), for the
//! health strip.

use rythm_backup_core::freshness::{self, Freshness};
use rythm_backup_core::jobs::verify::VerifyOutcome;
use rythm_backup_core::{BackupName, Error, JobEvent};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::UiResult;
use crate::job_run::JobRun;
use crate::state::{Action, AppState};

#[tauri::command]
pub async fn verify_backup(
    state: State<'_, AppState>,
    profile: String,
    name: String,
    job_id: String,
    on_event: Channel<JobEvent>,
) -> UiResult<VerifyOutcome> {
    let name = BackupName::parse(&name).map_err(Error::from)?;
    let run = JobRun::start(&state, &profile, job_id, Action::VerifyBackup, on_event)?;
    let result = async {
        let backups = state.profiles.open(&profile).await?;
        backups.verify(&name, &run.progress, run.cancel()).await
    }
    .await;
    run.finish_judged(
        result,
        |o| {
            if o.ok {
                format!(
                    "verified {}: {} tables, restore {:.1} s",
                    o.name,
                    o.tables.len(),
                    o.verification.restore_seconds
                )
            } else {
                format!("{} failed verification", o.name)
            }
        },
        failure_of,
    )
    .await
}

/// Why a rehearsal that ran failed (its counts differ, or its checksum): `None` when it
/// passed.
pub fn failure_of(outcome: &VerifyOutcome) -> Option<String> {
    (!outcome.ok).then(|| {
        let why = match (&outcome.verification.error, outcome.checksum_verified) {
            (Some(error), _) => error.clone(),
            (None, Some(false)) => "its bytes do not match the recorded sha256".into(),
            (None, _) => "the restored data differs from the backup".into(),
        };
        format!("{}: {why}", outcome.name)
    })
}

/// How fresh a profile's backups are: the last backup and its age, the last verification
/// and the last passed one, and whether they are stale (API mode: by the server's
/// threshold).
#[tauri::command]
pub async fn backup_freshness(state: State<'_, AppState>, profile: String) -> UiResult<Freshness> {
    let backups = state.profiles.open(&profile).await?;
    Ok(freshness::of(backups.as_ref()).await?)
}
