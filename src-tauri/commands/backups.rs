//! A profile's backups: list, create, download (native save dialog), restore (a stored
//! backup, or a local copy offline), delete, prune, and the running jobs. Long commands take
//! the front end's job id and a `Channel` for the engine's `JobEvent`s (see `state`).

use std::path::PathBuf;

use rythm_backup_core::backups::{Backups, CreateOutcome, RestoreSummary};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::download::DownloadOutcome;
use rythm_backup_core::jobs::prune::PruneOutcome;
use rythm_backup_core::jobs::restore::{RestoreOutcome, RestoreSource};
use rythm_backup_core::{BackupEntry, BackupName, Engine, Error, ErrorCode, JobEvent};
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{State, WebviewWindow};
use tauri_plugin_dialog::DialogExt;
use ts_rs::TS;

use crate::commands::activity::logged;
use crate::commands::local_copies;
use crate::error::{UiError, UiResult};
use crate::job_run::JobRun;
use crate::state::{Action, AppState, JobView};

/// Test-only answer to the save dialog (debug builds): downloads go to this folder under the
/// backup's name.
const E2E_SAVE_DIR: &str = "RYTHM_E2E_SAVE_DIR";

/// How to restore: `confirm` must repeat the target database's name.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RestoreInput {
    pub confirm: String,
    #[serde(default)]
    pub skip_safety_backup: bool,
    /// End other sessions on the target first instead of failing with `database_in_use`.
    #[serde(default)]
    pub terminate_connections: bool,
    /// Direct mode: restore into this database instead of the profile's.
    #[serde(default)]
    #[ts(optional)]
    pub target_database: Option<String>,
    /// Direct mode: create the target database when it does not exist.
    #[serde(default)]
    #[ts(optional)]
    pub create: Option<bool>,
}

#[tauri::command]
pub async fn list_backups(
    state: State<'_, AppState>,
    profile: String,
) -> UiResult<Vec<BackupEntry>> {
    Ok(state.profiles.open(&profile).await?.list().await?)
}

#[tauri::command]
pub async fn create_backup(
    state: State<'_, AppState>,
    profile: String,
    job_id: String,
    on_event: Channel<JobEvent>,
) -> UiResult<CreateOutcome> {
    let run = JobRun::start(&state, &profile, job_id, Action::CreateBackup, on_event)?;
    let result = async {
        let backups = state.profiles.open(&profile).await?;
        backups.create(&run.progress, run.cancel()).await
    }
    .await;
    run.finish(result, |o| format!("created {} ({} bytes)", o.name, o.size))
        .await
}

/// Downloads into the file the person picks in the native save dialog (the backup's name by
/// default), then lists it among the local copies. A dismissed dialog is a `cancelled` error.
#[tauri::command]
pub async fn download_backup(
    window: WebviewWindow,
    state: State<'_, AppState>,
    profile: String,
    name: String,
    job_id: String,
    on_event: Channel<JobEvent>,
) -> UiResult<DownloadOutcome> {
    let name = BackupName::parse(&name).map_err(Error::from)?;
    let run = JobRun::start(&state, &profile, job_id, Action::DownloadBackup, on_event)?;
    let result = async {
        let destination = save_destination(&window, &name).await?;
        let backups = state.profiles.open(&profile).await?;
        // The native dialog already asked before replacing an existing file.
        let outcome = backups
            .download(&name, destination, true, &run.progress, run.cancel())
            .await?;
        local_copies::record(&state, &profile, &outcome)?;
        Ok::<_, UiError>(outcome)
    }
    .await;
    run.finish(result, |o| {
        format!("downloaded {} to {}", o.name, o.path.display())
    })
    .await
}

/// Where to save `name`: the save dialog's answer; in debug builds (the end-to-end tests),
/// `RYTHM_E2E_SAVE_DIR/NAME` when that variable is set.
async fn save_destination(window: &WebviewWindow, name: &BackupName) -> UiResult<PathBuf> {
    if cfg!(debug_assertions) {
        if let Some(dir) = std::env::var_os(E2E_SAVE_DIR).filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir).join(name.as_str()));
        }
    }
    let (sender, chosen) = tokio::sync::oneshot::channel();
    window
        .dialog()
        .file()
        .set_parent(window)
        .set_title("Save backup")
        .set_file_name(name.as_str())
        .save_file(move |path| {
            let _ = sender.send(path);
        });
    let path = chosen.await.ok().flatten();
    match path.map(|p| p.into_path()) {
        Some(Ok(path)) => Ok(path),
        Some(Err(e)) => Err(UiError::invalid_input(format!("cannot save there: {e}"))),
        None => Err(UiError::new(ErrorCode::Cancelled, "no file was chosen")),
    }
}

#[tauri::command]
pub async fn restore_backup(
    state: State<'_, AppState>,
    profile: String,
    name: String,
    options: RestoreInput,
    job_id: String,
    on_event: Channel<JobEvent>,
) -> UiResult<RestoreSummary> {
    let name = BackupName::parse(&name).map_err(Error::from)?;
    let run = JobRun::start(&state, &profile, job_id, Action::RestoreBackup, on_event)?;
    let result = async {
        let backups = state.profiles.open(&profile).await?;
        let options = restore_options(backups.as_engine(), options)?;
        Ok::<_, UiError>(
            backups
                .restore(&name, options, &run.progress, run.cancel())
                .await?,
        )
    }
    .await;
    run.finish(result, |s| {
        restored(&s.name.to_string(), s.safety_backup.as_ref())
    })
    .await
}

/// Restores a downloaded file with no store involved (but the safety backup's upload):
/// direct profiles only.
#[tauri::command]
pub async fn restore_local_copy(
    state: State<'_, AppState>,
    profile: String,
    path: PathBuf,
    options: RestoreInput,
    job_id: String,
    on_event: Channel<JobEvent>,
) -> UiResult<RestoreOutcome> {
    let run = JobRun::start(&state, &profile, job_id, Action::RestoreLocalCopy, on_event)?;
    let result = async {
        let backups = state.profiles.open(&profile).await?;
        let engine = direct(backups.as_ref(), "restoring a local copy")?;
        let options = restore_options(Some(engine), options)?;
        let source = RestoreSource::File(path);
        Ok::<_, UiError>(
            engine
                .restore(source, options, &run.progress, run.cancel())
                .await?,
        )
    }
    .await;
    run.finish(result, |o| restored(&o.source, o.safety_backup.as_ref()))
        .await
}

fn restored(source: &str, safety_backup: Option<&BackupName>) -> String {
    match safety_backup {
        Some(safety) => format!("restored {source}; safety backup {safety}"),
        None => format!("restored {source}"),
    }
}

/// The engine's options from the front end's; another target database needs direct mode.
fn restore_options(engine: Option<&Engine>, input: RestoreInput) -> UiResult<RestoreOptions> {
    let target = match input.target_database.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(database) => {
            let configured = engine
                .and_then(|e| e.config().database.as_ref())
                .ok_or_else(|| {
                    UiError::new(
                        ErrorCode::Unsupported,
                        "through an API the server restores into its own database; another \
                         target database needs a direct profile",
                    )
                })?;
            Some(configured.with_database(database))
        }
    };
    Ok(RestoreOptions {
        target,
        create: input.create.unwrap_or(false),
        confirm: input.confirm,
        skip_safety_backup: input.skip_safety_backup,
        terminate_connections: input.terminate_connections,
    })
}

fn direct<'a>(backups: &'a dyn Backups, what: &str) -> UiResult<&'a Engine> {
    backups.as_engine().ok_or_else(|| {
        UiError::new(
            ErrorCode::Unsupported,
            format!(
                "{what} works with a direct profile only (on the database and storage \
                 themselves); this profile uses a backup server"
            ),
        )
    })
}

#[tauri::command]
pub async fn delete_backup(
    state: State<'_, AppState>,
    profile: String,
    name: String,
) -> UiResult<()> {
    let name = BackupName::parse(&name).map_err(Error::from)?;
    let _slot = state.jobs.start(&profile, None, Action::DeleteBackup)?;
    let result = async { state.profiles.open(&profile).await?.delete(&name).await }.await;
    logged(
        &state,
        &profile,
        Action::DeleteBackup,
        result.map_err(Into::into),
        |_| format!("deleted {name}"),
    )
}

/// Applies retention (direct profiles). A dry run only lists what would go, and runs even
/// while another job does.
#[tauri::command]
pub async fn prune(
    state: State<'_, AppState>,
    profile: String,
    dry_run: bool,
) -> UiResult<PruneOutcome> {
    let _slot = match dry_run {
        true => None,
        false => Some(state.jobs.start(&profile, None, Action::Prune)?),
    };
    let result = async {
        let backups = state.profiles.open(&profile).await?;
        Ok::<_, UiError>(direct(backups.as_ref(), "pruning")?.prune(dry_run).await?)
    }
    .await;
    if dry_run {
        return result;
    }
    logged(&state, &profile, Action::Prune, result, |o| {
        format!(
            "deleted {} backup(s) older than {} days",
            o.deleted.len(),
            o.retention_days
        )
    })
}

/// Asks a running job to stop; `false` when no job has this id. The job's own command then
/// ends with a `cancelled` error.
#[tauri::command]
pub async fn cancel_job(state: State<'_, AppState>, job_id: String) -> UiResult<bool> {
    Ok(state.jobs.cancel(&job_id))
}

#[tauri::command]
pub async fn running_jobs(state: State<'_, AppState>) -> UiResult<Vec<JobView>> {
    Ok(state.jobs.running())
}
