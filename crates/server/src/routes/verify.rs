//! `POST /api/backups/{name}/verify`: a restore rehearsal on demand. It holds the job lock
//! (409 while a backup or restore runs), restores the backup into a scratch database,
//! compares every table's rows with those recorded at backup time, records the result
//! beside the backup and for `/api/health`, and notifies. It answers when done.

use axum::extract::State;
use axum::Json;
use rythm_backup_core::api::wire::{ErrorBody, VerifyResponse};
use rythm_backup_core::Cancel;

use super::backups::NameParam;
use crate::audit;
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::jobs::{logged_progress, run_detached};
use crate::schedule::runner::record_verification;
use crate::state::AppState;

/// Rehearse a restore of a backup into a scratch database and compare its row counts.
#[utoipa::path(
    post,
    path = "/api/backups/{name}/verify",
    tag = "backups",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The backup's name")),
    responses(
        (status = 200, description = "The rehearsal ran; `success` and `data.ok` say whether the backup proved restorable", body = VerifyResponse),
        (status = 400, description = "Bad name", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
        (status = 404, description = "No such backup", body = ErrorBody),
        (status = 409, description = "A backup, restore or verification is running", body = ErrorBody),
        (status = 422, description = "The backup is damaged (checksum); recorded as a failed verification", body = ErrorBody),
        (status = 500, description = "The rehearsal failed; recorded as a failed verification", body = ErrorBody),
    )
)]
pub async fn verify_backup(
    State(state): State<AppState>,
    admin: AdminUser,
    NameParam(name): NameParam,
) -> Result<Json<VerifyResponse>, ApiError> {
    let actor = admin.email().to_owned();
    let guard = state.jobs.try_acquire("verification").inspect_err(|e| {
        audit::record(
            &actor,
            "verify_backup",
            Some(name.as_str()),
            Err(&e.message),
        );
    })?;
    let engine = state.engine.clone();
    let progress = logged_progress("verification", &actor);
    let job_name = name.clone();
    let rehearsed = run_detached(guard, async move {
        engine
            .verify_recorded(&job_name, &progress, &Cancel::new())
            .await
    })
    .await?;
    audit::engine_outcome(
        &actor,
        "verify_backup",
        Some(name.as_str()),
        &rehearsed.result,
    );
    if let Some(event) = record_verification(&state.schedule, &state.engine, &name, &rehearsed) {
        crate::notices::send_detached(&state.notifier, event);
    }
    let outcome = rehearsed.result?;
    Ok(Json(VerifyResponse {
        success: outcome.ok,
        message: if outcome.ok {
            "The backup restored and every table has the rows recorded at backup time".into()
        } else {
            outcome
                .verification
                .error
                .clone()
                .unwrap_or_else(|| "The backup failed verification".into())
        },
        data: outcome,
    }))
}
