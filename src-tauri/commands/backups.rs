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
    /// API mode, when the server's database name is unknown: `confirm` repeats the backup's
    /// name instead, and the server is sent no database name to check.
    #[serde(default)]
    #[ts(optional)]
    pub confirmed_by_backup_name: Option<bool>,
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
        // The verified file is in place whatever happens to the list: a list that cannot be
        // written is worth a warning in the log, not a failed download.
        if let Err(e) = local_copies::record(&state, &profile, &outcome) {
            tracing::warn!(error = %e.message, path = %outcome.path.display(),
                "the download is complete but could not be added to the local copies");
        }
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
        if options.confirmed_by_backup_name == Some(true) && options.confirm.trim() != name.as_str()
        {
            return Err(UiError::new(
                ErrorCode::ConfirmationMismatch,
                format!("type the backup's name, {name}, to confirm the restore"),
            ));
        }
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
/// direct profiles only. Only a listed local copy is accepted, and its sha256 recorded at
/// download must still match.
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
        let copy = local_copies::listed(&state, &path)?;
        let source = RestoreSource::CheckedFile {
            path: copy.path,
            sha256: copy.sha256,
        };
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
            check_database_name(database)?;
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
    // A direct profile always knows its database: the name must be typed there.
    let database_unknown = engine.is_none() && input.confirmed_by_backup_name == Some(true);
    Ok(RestoreOptions {
        target,
        create: input.create.unwrap_or(false),
        confirm: input.confirm,
        skip_safety_backup: input.skip_safety_backup,
        terminate_connections: input.terminate_connections,
        database_unknown,
    })
}

/// PostgreSQL truncates longer names to 63 bytes, which would restore into another
/// database than the one typed; control characters have no place in one.
fn check_database_name(database: &str) -> UiResult<()> {
    if database.len() > 63 || database.chars().any(char::is_control) {
        return Err(UiError::invalid_input(
            "a database name has at most 63 bytes and no control characters",
        ));
    }
    Ok(())
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
/// while another job does. The real run takes the names the person reviewed (`approved`)
/// and deletes only those still due: nothing that was not on the list shown.
#[tauri::command]
pub async fn prune(
    state: State<'_, AppState>,
    profile: String,
    dry_run: bool,
    approved: Option<Vec<String>>,
) -> UiResult<PruneOutcome> {
    // Names from the page are checked before they reach the store; none approved deletes none.
    let approved = approved
        .unwrap_or_default()
        .iter()
        .map(|n| BackupName::parse(n))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::from)?;
    let _slot = (!dry_run)
        .then(|| state.jobs.start(&profile, None, Action::Prune))
        .transpose()?;
    let result = async {
        let backups = state.profiles.open(&profile).await?;
        let engine = direct(backups.as_ref(), "pruning")?;
        Ok::<_, UiError>(if dry_run {
            engine.prune(true).await?
        } else {
            engine.prune_approved(&approved).await?
        })
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

#[cfg(test)]
mod tests {
    use super::check_database_name;

    #[test]
    fn database_names_postgres_would_truncate_or_that_hold_control_characters_are_refused() {
        assert!(check_database_name("rythm_copy").is_ok());
        assert!(check_database_name(&"d".repeat(63)).is_ok());
        assert!(check_database_name(&"d".repeat(64)).is_err());
        // 32 two-byte characters: 64 bytes.
        assert!(check_database_name(&"é".repeat(32)).is_err());
        assert!(check_database_name("a\u{0}b").is_err());
        assert!(check_database_name("a\nb").is_err());
    }
}
