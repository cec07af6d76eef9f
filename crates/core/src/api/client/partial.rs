//! What a backup holds and partial restores, through a backup server: our server has
//! `GET /api/backups/{name}/contents` and takes the partial restore's fields in its restore
//! body (it says so in its OpenAPI document); the RYTHM platform has neither, and the
//! client says so instead of sending a body the platform would ignore (it would restore the
//! whole backup).

use reqwest::Method;

use super::calls::cancellable;
use super::ApiClient;
use crate::api::error::{ApiError, Call};
use crate::api::wire::{ContentsResponse, RestoreRequestBody};
use crate::catalog::contents::BackupContents;
use crate::catalog::BackupName;
use crate::engine::RestoreOptions;
use crate::error::{Error, Result};
use crate::jobs::partial::{PartialRestoreOutcome, PartialSelection, SelectionText};
use crate::jobs::{Cancel, JobEvent, Phase, Progress};

impl ApiClient {
    /// The server's listing of what `name` holds.
    pub(super) async fn contents_of(
        &self,
        name: &BackupName,
        tenant_column: Option<&str>,
        progress: &Progress,
    ) -> Result<BackupContents> {
        if !self.restore_features().await?.contents {
            return Err(Error::Unsupported(format!(
                "{} cannot list what a backup holds (its API has no such route): use a direct \
                 profile, or download the backup and run `rythm-backup contents --file`",
                self.server
            )));
        }
        progress.phase(Phase::Verifying, Some(name.to_string()), None);
        let segments = ["api", "backups", name.as_str(), "contents"];
        let what = format!("GET /{}", segments.join("/"));
        let mut url = self.endpoint(&segments);
        if let Some(column) = tenant_column {
            url.query_pairs_mut().append_pair("tenantColumn", column);
        }
        let request = self.request_to(true, Method::GET, url)?;
        let answer = async {
            let response = self.send(request).await?;
            let response = self.check(response, Call::Authorized).await?;
            self.read_json::<ContentsResponse>(response, &what).await
        }
        .await;
        match answer {
            Ok(answer) => Ok(answer.data),
            Err(error) => Err(self.explain_failure(name, error.into()).await),
        }
    }

    /// A partial restore on the server (or its dry run).
    pub(super) async fn restore_part(
        &self,
        name: &BackupName,
        selection: PartialSelection,
        options: RestoreOptions,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<PartialRestoreOutcome> {
        if options.target.is_some() || options.create {
            return Err(Error::Unsupported(
                "through an API the server restores into its own database: another target \
                 database needs direct mode"
                    .into(),
            ));
        }
        selection.check()?;
        let features = self.restore_features().await?;
        if !features.partial_restore {
            return Err(Error::Unsupported(format!(
                "{} cannot restore part of a backup (its API restores whole databases only): \
                 restore chosen tables or a tenant with a direct profile, or through a \
                 rythm-backup server",
                self.server
            )));
        }
        let entry = self
            .list_backups()
            .await?
            .into_iter()
            .find(|e| &e.name == name)
            .ok_or_else(|| Error::Api(self.not_found(name)))?;
        let database = if selection.dry_run {
            entry.database.clone().or_else(|| self.known_database())
        } else {
            self.check_confirmation(&entry, &options.confirm)?
        };
        if !selection.whole_tables.is_empty() && !features.whole_tables {
            return Err(Error::Unsupported(format!(
                "{} cannot restore tables whole beside a tenant's or a condition's rows (an \
                 earlier version of our server): roll back with a direct profile",
                self.server
            )));
        }
        let body = RestoreRequestBody {
            confirm: database.filter(|_| features.checks_confirmation && !selection.dry_run),
            skip_safety_backup: options.skip_safety_backup && features.skip_safety_backup,
            ..RestoreRequestBody::partial(SelectionText::from(&selection))
        };
        let body = serde_json::to_value(&body).expect("the body serialises");
        progress.phase(Phase::Replacing, Some(name.to_string()), None);
        progress.emit(JobEvent::Note {
            message: format!(
                "{} is restoring part of {name}; it answers when done (cancelling here does not \
                 stop it)",
                self.server
            ),
        });
        let answer = cancellable(
            cancel,
            self.on_backup(Method::POST, name, Some("restore"), Some(body)),
        )
        .await?;
        answer.partial.ok_or_else(|| {
            ApiError::Protocol {
                server: self.server.clone(),
                request: format!("POST /api/backups/{name}/restore"),
                detail: "it answered a partial restore without saying what it restored".into(),
            }
            .into()
        })
    }
}
