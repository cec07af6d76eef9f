//! The daily backup schedule of an API profile's server (direct profiles have none: the
//! engine answers `unsupported`).

use rythm_backup_core::api::wire::{ScheduleConfig, ScheduleUpdate};
use tauri::State;

use crate::commands::activity::logged;
use crate::error::UiResult;
use crate::state::{Action, AppState};

#[tauri::command]
pub async fn get_schedule(state: State<'_, AppState>, profile: String) -> UiResult<ScheduleConfig> {
    Ok(state.profiles.open(&profile).await?.schedule().await?)
}

#[tauri::command]
pub async fn set_schedule(
    state: State<'_, AppState>,
    profile: String,
    update: ScheduleUpdate,
) -> UiResult<ScheduleConfig> {
    let result = async {
        state
            .profiles
            .open(&profile)
            .await?
            .set_schedule(&update)
            .await
    }
    .await;
    logged(
        &state,
        &profile,
        Action::SetSchedule,
        result.map_err(Into::into),
        |s| {
            let state = if s.enabled { "on" } else { "off" };
            format!(
                "daily backup {state} at {} UTC, kept {} days",
                s.schedule_time, s.retention_days
            )
        },
    )
}
