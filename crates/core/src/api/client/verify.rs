//! A restore rehearsal through the API: our server's `POST /api/backups/{name}/verify`,
//! which answers when it is done. The RYTHM platform's API has no such endpoint: its 404
//! becomes `Unsupported`.

use reqwest::Method;

use super::calls::cancellable;
use super::ApiClient;
use crate::api::error::ApiError;
use crate::api::wire::VerifyResponse;
use crate::catalog::BackupName;
use crate::error::{Error, Result};
use crate::jobs::verify::VerifyOutcome;
use crate::jobs::{Cancel, JobEvent, Phase, Progress};

impl ApiClient {
    pub async fn verify_backup(
        &self,
        name: &BackupName,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<VerifyOutcome> {
        progress.phase(Phase::Restoring, Some(name.to_string()), None);
        progress.emit(JobEvent::Note {
            message: format!(
                "{} is rehearsing a restore of {name}; it answers when done",
                self.server
            ),
        });
        let segments = ["api", "backups", name.as_str(), "verify"];
        let call = self.call::<VerifyResponse>(true, Method::POST, &segments, None);
        match cancellable(cancel, call).await {
            Ok(answer) => Ok(answer.data),
            // A 404 for a backup the server lists: the route is missing, not the backup.
            Err(Error::Api(ApiError::NotFound { .. }))
                if self
                    .list_backups()
                    .await
                    .is_ok_and(|entries| entries.iter().any(|e| &e.name == name)) =>
            {
                Err(Error::Unsupported(format!(
                    "{} cannot verify backups (the RYTHM platform's API has no restore \
                     rehearsal); use direct mode or a rythm-backup server",
                    self.server
                )))
            }
            Err(error) => Err(self.explain_failure(name, error).await),
        }
    }
}
