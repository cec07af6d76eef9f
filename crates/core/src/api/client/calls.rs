//! The backup endpoints as `Backups`: create, list, restore, delete and the schedule (the
//! download is in `download`). The RYTHM API's quirks are absorbed here: `filename` for
//! `name`, relative URLs, a 500 with Azure's raw text for a missing backup, a retention only
//! its schedule config tells, and a restore that checks no confirmation and takes no safety
//! backup: the client checks the confirmation itself before anything is sent.

use std::future::Future;
use std::path::PathBuf;

use async_trait::async_trait;
use reqwest::Method;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::convert;
use super::ApiClient;
use crate::api::error::ApiError;
use crate::api::schedule;
use crate::api::wire::{
    ActionResponse, CreateBackupResponse, ListBackupsResponse, RestoreRequestBody, ScheduleConfig,
    ScheduleResponse, ScheduleUpdate,
};
use crate::backups::{
    Backups, CreateOutcome, Description, Mode, NoSafetyBackup, RestoreFeatures, RestoreSummary,
};
use crate::catalog::contents::BackupContents;
use crate::catalog::{BackupEntry, BackupName};
use crate::engine::RestoreOptions;
use crate::error::{Error, Result};
use crate::jobs::download::DownloadOutcome;
use crate::jobs::partial::{PartialRestoreOutcome, PartialSelection};
use crate::jobs::{Cancel, JobEvent, Phase, Progress};

const BACKUPS: [&str; 2] = ["api", "backups"];
const SCHEDULE: [&str; 4] = ["api", "backups", "schedule", "config"];
const RESTORE_ROLE: [&str; 3] = ["api", "backups", "restore-role"];

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
    /// Every backup the API lists, newest first. Expiry follows the server's retention from
    /// its schedule config (asked at the same time); the profile's only when it serves none.
    pub async fn list_backups(&self) -> Result<Vec<BackupEntry>> {
        let list = self.call::<ListBackupsResponse>(false, Method::GET, &BACKUPS, None);
        let (listed, retention) = tokio::join!(list, self.server_retention());
        let retention = retention.unwrap_or(self.options.retention_days);
        Ok(convert::entries(
            listed?.data,
            OffsetDateTime::now_utc(),
            retention,
            self.known_database().as_deref(),
        ))
    }

    /// The retention the server applies, from its schedule config; `None` when it serves
    /// none (the list still works).
    async fn server_retention(&self) -> Option<u32> {
        match self.schedule_config().await {
            Ok(config) if config.retention_days > 0 => Some(config.retention_days),
            Ok(_) => None,
            Err(error) => {
                tracing::debug!(server = %self.server, %error, "no retention from the schedule config");
                None
            }
        }
    }

    async fn schedule_config(&self) -> Result<ScheduleConfig> {
        let answer: ScheduleResponse = self.call(false, Method::GET, &SCHEDULE, None).await?;
        Ok(answer.data)
    }

    /// Tells a missing backup from a server failure, in words: a "not found" answer (the
    /// RYTHM API's 500 with Azure's raw text included), or a 500 for a name the list lacks.
    pub(super) async fn explain_failure(&self, name: &BackupName, error: Error) -> Error {
        let Error::Api(api) = &error else {
            return error;
        };
        if matches!(api, ApiError::NotFound { .. }) {
            return Error::Api(self.not_found(name));
        }
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
            message: format!("backup {name} does not exist (deleted, or removed by retention)"),
        }
    }

    /// A call on one backup (`/api/backups/NAME[/restore]`), with missing backups told apart.
    pub(super) async fn on_backup(
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

    /// Checks a restore's confirmation before anything is sent (the RYTHM platform checks
    /// none): the database's name when the server has said it, else the backup's own name.
    /// Returns the database, when known.
    pub(super) fn check_confirmation(
        &self,
        entry: &BackupEntry,
        confirm: &str,
    ) -> Result<Option<String>> {
        let database = entry.database.clone().or_else(|| self.known_database());
        let confirm = confirm.trim();
        match &database {
            Some(db) if confirm != db => Err(Error::ConfirmationMismatch {
                expected: db.clone(),
                given: confirm.to_owned(),
            }),
            None if confirm != entry.name.as_str() => Err(ApiError::ConfirmWithBackupName {
                server: self.server.clone(),
                expected: entry.name.to_string(),
                given: confirm.to_owned(),
            }
            .into()),
            _ => Ok(database),
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
            database: self.known_database(),
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
        if let Some(database) = &outcome.database {
            self.learn_database(database);
        }
        tracing::info!(server = %self.server, backup = %outcome.name, "backup created");
        Ok(outcome)
    }

    async fn list(&self) -> Result<Vec<BackupEntry>> {
        self.list_backups().await
    }

    async fn stale_after_hours(&self) -> Result<u32> {
        if crate::freshness::stale_after_hours_in_env() {
            return crate::freshness::stale_after_hours_from_env();
        }
        Ok(self
            .server_stale_after_hours()
            .await
            .unwrap_or(crate::freshness::DEFAULT_STALE_AFTER_HOURS))
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

    async fn restore_features(&self) -> Result<RestoreFeatures> {
        ApiClient::restore_features(self).await
    }

    async fn restoring_role(&self) -> Result<Option<crate::pg::RoleInfo>> {
        if !self.restore_features().await?.reports_role {
            return Ok(None);
        }
        let answer: crate::api::wire::RoleResponse =
            self.call(false, Method::GET, &RESTORE_ROLE, None).await?;
        Ok(Some(answer.data))
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
        let features = self.restore_features().await?;
        if options.terminate_connections && !features.terminate_connections {
            return Err(Error::Unsupported(format!(
                "{} cannot end other sessions before a restore (its API has no such option): \
                 close them yourself, or restore with a direct profile",
                self.server
            )));
        }
        // The list says whether the backup exists and, where the server tells, its database.
        let entry = self
            .list_backups()
            .await?
            .into_iter()
            .find(|e| &e.name == name)
            .ok_or_else(|| Error::Api(self.not_found(name)))?;
        let database = self.check_confirmation(&entry, &options.confirm)?;
        let body = RestoreRequestBody {
            confirm: database.clone().filter(|_| features.checks_confirmation),
            skip_safety_backup: options.skip_safety_backup && features.skip_safety_backup,
            terminate_connections: options.terminate_connections,
            ..RestoreRequestBody::default()
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
        let no_safety_backup = match safety_backup {
            Some(_) => None,
            None if !features.safety_backup => Some(NoSafetyBackup::NotOffered),
            None if options.skip_safety_backup => Some(NoSafetyBackup::Skipped),
            None => None,
        };
        tracing::info!(server = %self.server, backup = %name, "backup restored");
        Ok(RestoreSummary {
            name: name.clone(),
            database,
            safety_backup,
            message: Some(answer.message),
            bytes: None,
            checksum_verified: None,
            terminated_sessions: None,
            created_database: None,
            duration_ms: None,
            restored_as: answer.restored_as,
            no_safety_backup,
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

    async fn contents(
        &self,
        name: &BackupName,
        tenant_column: Option<&str>,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<BackupContents> {
        cancellable(cancel, self.contents_of(name, tenant_column, progress)).await
    }

    async fn partial_restore(
        &self,
        name: &BackupName,
        selection: PartialSelection,
        options: RestoreOptions,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<PartialRestoreOutcome> {
        self.restore_part(name, selection, options, progress, cancel)
            .await
    }

    async fn delete(&self, name: &BackupName) -> Result<()> {
        self.on_backup(Method::DELETE, name, None, None).await?;
        tracing::info!(server = %self.server, backup = %name, "backup deleted");
        Ok(())
    }

    /// The schedule; a next run the server has not computed yet (the RYTHM platform's before
    /// its first run) is computed from the time of day.
    async fn schedule(&self) -> Result<ScheduleConfig> {
        let config = self.schedule_config().await?;
        Ok(with_next_run(config))
    }

    /// Checks the change first (a real time, 1-90 days), sends the time as `HH:MM:SS`, and
    /// refuses an answer that did not apply what was sent.
    async fn set_schedule(&self, update: &ScheduleUpdate) -> Result<ScheduleConfig> {
        let update = schedule::checked_update(update)?;
        let body = serde_json::to_value(&update).expect("the schedule serialises");
        let answer: ScheduleResponse = self.call(false, Method::PUT, &SCHEDULE, Some(body)).await?;
        if let Some(kept) = schedule::not_applied(&update, &answer.data) {
            return Err(ApiError::Protocol {
                server: self.server.clone(),
                request: "PUT /api/backups/schedule/config".into(),
                detail: format!("it answered success but did not apply {kept}"),
            }
            .into());
        }
        Ok(with_next_run(answer.data))
    }
}

fn with_next_run(mut config: ScheduleConfig) -> ScheduleConfig {
    if config.next_run_at.is_none() {
        config.next_run_at = schedule::next_run(&config, OffsetDateTime::now_utc())
            .and_then(|t| t.format(&Rfc3339).ok());
    }
    config
}
