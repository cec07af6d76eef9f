//! The backup endpoints as `Backups`: create, list, restore, delete and the schedule (the
//! download is in `download`). The RYTHM API's quirks are absorbed here: `filename` for
//! `name`, relative URLs, and a 500 for a backup that does not exist.

use std::future::Future;
use std::path::PathBuf;

use async_trait::async_trait;
use reqwest::Method;
use time::OffsetDateTime;

use super::convert;
use super::ApiClient;
use crate::api::error::ApiError;
use crate::api::wire::{
    ActionResponse, CreateBackupResponse, ListBackupsResponse, RestoreRequestBody, ScheduleConfig,
    ScheduleResponse, ScheduleUpdate,
};
use crate::backups::{Backups, CreateOutcome, Description, Mode, RestoreSummary};
use crate::catalog::{BackupEntry, BackupName};
use crate::engine::RestoreOptions;
use crate::error::{Error, Result};
use crate::jobs::download::DownloadOutcome;
use crate::jobs::{Cancel, JobEvent, Phase, Progress};

const BACKUPS: [&str; 2] = ["api", "backups"];
const SCHEDULE: [&str; 4] = ["api", "backups", "schedule", "config"];

/// Runs `call` until it finishes or `cancel` fires.
pub(super) async fn cancellable<T>(
    cancel: &Cancel,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Error::Cancelled),
        result = call => result,
    }
}

impl ApiClient {
    /// Every backup the API lists, newest first.
    pub async fn list_backups(&self) -> Result<Vec<BackupEntry>> {
        let listed: ListBackupsResponse = self.call(false, Method::GET, &BACKUPS, None).await?;
        Ok(convert::entries(
            listed.data,
            OffsetDateTime::now_utc(),
            self.options.retention_days,
        ))
    }

    /// Tells a missing backup from a server failure: the RYTHM API answers 500 for a backup
    /// that does not exist, so a 500 for a name the list lacks means "not found".
    pub(super) async fn explain_failure(&self, name: &BackupName, error: Error) -> Error {
        let Error::Api(api) = &error else {
            return error;
        };
        if !api.is_server_failure() {
            return error;
        }
        match self.list_backups().await {
            Ok(entries) if !entries.iter().any(|e| &e.name == name) => {
                Error::Api(self.not_found(name))
            }
            _ => error,
        }
    }

    pub(super) fn not_found(&self, name: &BackupName) -> ApiError {
        ApiError::NotFound {
            server: self.server.clone(),
            message: format!("backup {name} does not exist"),
        }
    }

    /// A call on one backup (`/api/backups/NAME[/restore]`), with missing backups told apart.
    async fn on_backup(
        &self,
        method: Method,
        name: &BackupName,
        action: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Result<ActionResponse> {
        let mut segments = BACKUPS.to_vec();
        segments.push(name.as_str());
        segments.extend(action);
        // A restore answers when done; a delete at once.
        let job = action.is_some();
        match self.call(job, method, &segments, body).await {
            Ok(answer) => Ok(answer),
            Err(error) => Err(self.explain_failure(name, error).await),
        }
    }
}

#[async_trait]
impl Backups for ApiClient {
    fn describe(&self) -> Description {
        let info = self.token_info();
        Description {
            mode: Mode::Api,
            location: self.server.clone(),
            database: None,
            signed_in_as: info.as_ref().and_then(|i| i.email.clone()),
            session_expires_at: info.and_then(|i| i.expires_at),
        }
    }

    async fn create(&self, progress: &Progress, cancel: &Cancel) -> Result<CreateOutcome> {
        progress.phase(Phase::Dumping, None, None);
        progress.emit(JobEvent::Note {
            message: format!("{} is making the backup; it answers when done", self.server),
        });
        let call = async {
            let answer: CreateBackupResponse =
                self.call(true, Method::POST, &BACKUPS, None).await?;
            Ok(convert::created(&self.server, answer)?)
        };
        let outcome = cancellable(cancel, call).await?;
        tracing::info!(server = %self.server, backup = %outcome.name, "backup created");
        Ok(outcome)
    }

    async fn list(&self) -> Result<Vec<BackupEntry>> {
        self.list_backups().await
    }

    async fn download(
        &self,
        name: &BackupName,
        destination: PathBuf,
        force: bool,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<DownloadOutcome> {
        self.download_to(name, destination, force, progress, cancel)
            .await
    }

    async fn restore(
        &self,
        name: &BackupName,
        options: RestoreOptions,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<RestoreSummary> {
        if options.target.is_some() || options.create {
            return Err(Error::Unsupported(
                "through an API the server restores into its own database: another target \
                 database and --create need direct mode"
                    .into(),
            ));
        }
        let confirm = options.confirm.trim();
        if confirm.is_empty() && !options.database_unknown {
            return Err(Error::InvalidInput(
                "a restore needs a confirmation: the name of the database it replaces".into(),
            ));
        }
        let body = RestoreRequestBody {
            confirm: (!options.database_unknown).then(|| confirm.to_owned()),
            skip_safety_backup: options.skip_safety_backup,
            terminate_connections: options.terminate_connections,
        };
        let body = serde_json::to_value(&body).expect("the body serialises");
        progress.phase(Phase::Restoring, Some(name.to_string()), None);
        progress.emit(JobEvent::Note {
            message: format!(
                "{} is restoring {name}; it answers when done (cancelling here does not stop it)",
                self.server
            ),
        });
        let answer = cancellable(
            cancel,
            self.on_backup(Method::POST, name, Some("restore"), Some(body)),
        )
        .await?;
        let safety_backup = answer
            .safety_backup
            .as_deref()
            .and_then(|s| BackupName::parse(s).ok());
        tracing::info!(server = %self.server, backup = %name, "backup restored");
        Ok(RestoreSummary {
            name: name.clone(),
            database: None,
            safety_backup,
            message: Some(answer.message),
            bytes: None,
            checksum_verified: None,
            terminated_sessions: None,
            created_database: None,
            duration_ms: None,
            restored_as: None,
        })
    }

    async fn verify(
        &self,
        name: &BackupName,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<crate::jobs::verify::VerifyOutcome> {
        self.verify_backup(name, progress, cancel).await
    }

    async fn delete(&self, name: &BackupName) -> Result<()> {
        self.on_backup(Method::DELETE, name, None, None).await?;
        tracing::info!(server = %self.server, backup = %name, "backup deleted");
        Ok(())
    }

    async fn schedule(&self) -> Result<ScheduleConfig> {
        let answer: ScheduleResponse = self.call(false, Method::GET, &SCHEDULE, None).await?;
        Ok(answer.data)
    }

    async fn set_schedule(&self, update: &ScheduleUpdate) -> Result<ScheduleConfig> {
        let body = serde_json::to_value(update).expect("the schedule serialises");
        let answer: ScheduleResponse = self.call(false, Method::PUT, &SCHEDULE, Some(body)).await?;
        Ok(answer.data)
    }
}
