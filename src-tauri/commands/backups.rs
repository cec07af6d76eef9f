//! A profile's backups: list, create, download (native save dialog), restore (a stored
//! backup, or a local copy offline) and what the server does around one, delete, prune, and
//! the running jobs. Long commands take the front end's job id and a `Channel` for the
//! engine's `JobEvent`s (see `state`).

use std::path::PathBuf;

use rythm_backup_core::backups::{Backups, CreateOutcome, RestoreFeatures, RestoreSummary};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::download::DownloadOutcome;
use rythm_backup_core::jobs::prune::PruneOutcome;
use rythm_backup_core::jobs::restore::{RestoreOutcome, RestoreSource};
use rythm_backup_core::{BackupEntry, BackupName, Engine, Error, ErrorCode, JobEvent};
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{State, WebviewWindow};
use ts_rs::TS;

use crate::commands::activity::logged;
use crate::commands::local_copies;
use crate::error::{UiError, UiResult};
use crate::job_run::JobRun;
use crate::save_dialog;
use crate::state::{Action, AppState, JobView};

/// How to restore: `confirm` must repeat the target database's name (through an API whose
/// server has not said which database it restores into, the backup's name; the engine
/// checks it).
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
        let outcome = backups.create(&run.progress, run.cancel()).await?;
        remember_server_database(&state, &profile, backups.as_ref(), &outcome).await;
        Ok::<_, rythm_backup_core::Error>(outcome)
    }
    .await;
    run.finish(result, |o| format!("created {} ({} bytes)", o.name, o.size))
        .await
}

/// API mode: the database the server named in its create answer is kept with the profile,
/// so later restores are confirmed with it (the RYTHM platform names it nowhere else).
async fn remember_server_database(
    state: &AppState,
    profile: &str,
    backups: &dyn Backups,
    outcome: &CreateOutcome,
) {
    let Some(database) = outcome
        .database
        .clone()
        .filter(|_| backups.as_engine().is_none())
    else {
        return;
    };
    let name = profile.to_owned();
    let saved = state
        .with_profiles(move |p| p.remember_server_database(&name, &database))
        .await;
    if let Err(e) = saved {
        tracing::warn!(error = %e.message, "could not remember the server's database");
    }
}

/// What the profile's server does around a restore (a direct profile: everything), so that
/// the restore dialog offers only what happens and says what does not.
#[tauri::command]
pub async fn restore_features(
    state: State<'_, AppState>,
    profile: String,
) -> UiResult<RestoreFeatures> {
    Ok(state
        .profiles
        .open(&profile)
        .await?
        .restore_features()
        .await?)
}

/// The role a restore runs the backup's SQL as, when the profile can tell (direct mode, our
/// server): restore step 1 warns when it is a superuser.
#[tauri::command]
pub async fn restoring_role(
    state: State<'_, AppState>,
    profile: String,
) -> UiResult<Option<rythm_backup_core::pg::RoleInfo>> {
    Ok(state
        .profiles
        .open(&profile)
        .await?
        .restoring_role()
        .await?)
}

/// Downloads into the file the person picks in the native save dialog (the backup's name by
/// default), then lists it among the local copies. A dismissed dialog is a `cancelled` error,
/// and so is a Cancel while the dialog is open (which closes it at once).
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
        let destination = save_dialog::ask(&window, &name, run.cancel()).await?;
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
    Ok(RestoreOptions {
        target,
        create: input.create.unwrap_or(false),
        confirm: input.confirm,
        skip_safety_backup: input.skip_safety_backup,
        terminate_connections: input.terminate_connections,
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
    // The id names a job or a read (contents); both registries remember an id they do not
    // know yet, in case the cancel overtook the command that starts it.
    let read = state.reads.cancel(&job_id);
    let job = state.jobs.cancel(&job_id);
    Ok(read || job)
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
