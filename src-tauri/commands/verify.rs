//! The restore rehearsal of a backup: direct mode through the engine, API mode through the
//! server's `POST /api/backups/{name}/verify`; progress over the job's channel.

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
    run.finish(result, |o| {
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
    })
    .await
}
