//! What a backup holds, and partial restores: chosen tables or one tenant's rows, their
//! preview (a dry run), and their roll back (the safety backup restored with the same
//! choice). A few lines each over the `Backups` trait; the engine checks every name and
//! condition.

use rythm_backup_core::backups::Backups;
use rythm_backup_core::catalog::contents::BackupContents;
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::partial::{PartialRestoreOutcome, PartialSelection, SelectionText};
use rythm_backup_core::{BackupName, Error, JobEvent, Progress};
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;

use crate::error::{UiError, UiResult};
use crate::job_run::JobRun;
use crate::state::{Action, AppState};

/// A partial restore as the front end asks for it: the choice (read by the engine, as the
/// CLI's and the server's are), and `confirm`, which must repeat the target database's name
/// (not needed for a preview).
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PartialRestoreInput {
    #[serde(flatten)]
    pub choice: SelectionText,
    #[serde(default)]
    pub confirm: String,
    #[serde(default)]
    pub skip_safety_backup: bool,
}

impl PartialRestoreInput {
    fn split(self) -> Result<(PartialSelection, RestoreOptions), Error> {
        let mut choice = self.choice;
        // An empty field of the form means "not given".
        for field in [
            &mut choice.tenant,
            &mut choice.tenant_column,
            &mut choice.where_sql,
            &mut choice.into_schema,
        ] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        let selection = choice.selection()?;
        let options = RestoreOptions {
            confirm: self.confirm,
            skip_safety_backup: self.skip_safety_backup,
            ..RestoreOptions::default()
        };
        Ok((selection, options))
    }
}

/// What a stored backup holds, with rows per value of `tenant_column` (default
/// `tenant_id`). Reads the backup once; changes nothing, so it takes no job slot; a
/// `readId` lets the front end stop it.
#[tauri::command]
pub async fn backup_contents(
    state: State<'_, AppState>,
    profile: String,
    name: String,
    tenant_column: Option<String>,
    read_id: Option<String>,
) -> UiResult<BackupContents> {
    let name = BackupName::parse(&name).map_err(Error::from)?;
    let column = tenant_column.unwrap_or_else(|| "tenant_id".to_owned());
    // `cancel_job(readId)` stops the read (the dialog that asked for it was closed).
    let read = state.reads.start(read_id)?;
    let backups = state.profiles.open(&profile).await?;
    Ok(backups
        .contents(&name, Some(&column), &Progress::none(), &read.cancel)
        .await?)
}

/// A partial restore of a stored backup, or its preview (`dryRun`).
#[tauri::command]
pub async fn partial_restore(
    state: State<'_, AppState>,
    profile: String,
    name: String,
    options: PartialRestoreInput,
    job_id: String,
    on_event: Channel<JobEvent>,
) -> UiResult<PartialRestoreOutcome> {
    let name = BackupName::parse(&name).map_err(Error::from)?;
    let action = if options.choice.dry_run {
        Action::PreviewRestore
    } else {
        Action::RestoreBackup
    };
    let run = JobRun::start(&state, &profile, job_id, action, on_event)?;
    let result = async {
        let (selection, options) = options.split()?;
        let backups: Box<dyn Backups> = state.profiles.open(&profile).await?;
        Ok::<_, UiError>(
            backups
                .partial_restore(&name, selection, options, &run.progress, run.cancel())
                .await?,
        )
    }
    .await;
    run.finish(result, |o| {
        let tables = o.tables.len();
        match (&o.safety_backup, o.dry_run) {
            (_, true) => format!("previewed a restore of {tables} table(s) from {}", o.source),
            (Some(safety), false) => format!(
                "restored {tables} table(s) from {}; safety backup {safety}",
                o.source
            ),
            (None, false) => format!("restored {tables} table(s) from {}", o.source),
        }
    })
    .await
}
