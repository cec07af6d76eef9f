//! What a backup holds (`GET /api/backups/{name}/contents`) and the partial branch of the
//! restore route: a restore body with `tables`, `tenant` or `intoSchema` restores only
//! those (or copies them into a new schema), `dryRun` reports what it would change. The
//! body's names and conditions are checked by the engine before anything changes.
//!
//! A contents read streams a whole backup: at most `CONTENTS_READS` run at once (another
//! gets 503), and one whose client went away stops (its cancel token fires when the
//! request's future is dropped).

use axum::extract::{Query, State};
use axum::Json;
use rythm_backup_core::api::wire::{
    ActionResponse, ContentsResponse, ErrorBody, RestoreRequestBody,
};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::contents::ContentsSource;
use rythm_backup_core::jobs::partial::PartialSelection;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::{BackupName, Cancel, Progress};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::backups::{engine_for, NameParam};
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::jobs::{logged_progress, run_detached};
use crate::state::AppState;

/// Contents reads that may run at once: each decompresses and scans a whole backup, about
/// a core's work.
pub const CONTENTS_READS: usize = 2;

/// The bound on contents reads running at once.
#[derive(Debug, Clone)]
pub struct ContentsReads(Arc<Semaphore>);

impl Default for ContentsReads {
    fn default() -> Self {
        ContentsReads(Arc::new(Semaphore::new(CONTENTS_READS)))
    }
}

impl ContentsReads {
    /// A slot now, or 503 when every one is taken.
    fn try_acquire(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.0.clone().try_acquire_owned().map_err(|_| {
            ApiError::overloaded(format!(
                "{CONTENTS_READS} contents reads are running already: try again when one ends"
            ))
        })
    }
}

/// Query of the contents route.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ContentsQuery {
    /// Count rows per value of this column (e.g. `tenant_id`).
    pub tenant_column: Option<String>,
}

/// What a backup holds: schemas, tables with exact row counts and data sizes, sequences,
/// views, materialized views, functions, types, extensions, and rows per tenant. Read
/// from the backup itself (its checksum checked); nothing runs.
#[utoipa::path(
    get,
    path = "/api/backups/{name}/contents",
    tag = "backups",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The backup's name"), ContentsQuery),
    responses(
        (status = 200, description = "What the backup holds", body = ContentsResponse),
        (status = 400, description = "Bad name or tenant column", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
        (status = 404, description = "No such backup", body = ErrorBody),
        (status = 422, description = "The backup is damaged or its checksum does not match", body = ErrorBody),
        (status = 503, description = "Too many contents reads are running", body = ErrorBody),
    )
)]
pub async fn backup_contents(
    State(state): State<AppState>,
    _admin: AdminUser,
    NameParam(name): NameParam,
    Query(query): Query<ContentsQuery>,
) -> Result<Json<ContentsResponse>, ApiError> {
    let column = query.tenant_column.filter(|c| !c.is_empty());
    if column
        .as_deref()
        .is_some_and(|c| c.len() > 63 || c.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "tenantColumn must have 1 to 63 bytes and no control characters",
        ));
    }
    let _slot = state.contents_reads.try_acquire()?;
    // Dropped with this future when the client goes away: the read stops.
    let cancel = Cancel::new();
    let _stop_when_dropped = cancel.clone().drop_guard();
    let engine = engine_for(&state, None);
    let data = engine
        .contents(
            ContentsSource::Stored(name),
            column.as_deref(),
            &Progress::none(),
            &cancel,
        )
        .await?;
    Ok(Json(ContentsResponse {
        success: true,
        data,
    }))
}

/// The selection a restore body describes, read and checked by the engine.
pub fn selection(body: &RestoreRequestBody) -> Result<PartialSelection, ApiError> {
    Ok(body.selection_text().selection()?)
}

/// Runs a partial restore (or its dry run) holding the job lock.
pub async fn restore_part(
    state: &AppState,
    actor: &str,
    name: &BackupName,
    database: String,
    body: &RestoreRequestBody,
) -> Result<ActionResponse, ApiError> {
    let selection = selection(body)?;
    let dry_run = selection.dry_run;
    let guard = state.jobs.try_acquire("restore")?;
    let engine = engine_for(state, Some(actor));
    let options = RestoreOptions {
        confirm: database,
        skip_safety_backup: body.skip_safety_backup,
        ..RestoreOptions::default()
    };
    let progress = logged_progress("partial restore", actor);
    let source = RestoreSource::Stored(name.clone());
    let outcome = run_detached(guard, async move {
        engine
            .partial_restore(source, selection, options, &progress, &Cancel::new())
            .await
    })
    .await??;
    Ok(ActionResponse {
        success: true,
        message: if dry_run {
            "Dry run: nothing was changed".into()
        } else {
            "Tables restored successfully".into()
        },
        filename: name.to_string(),
        safety_backup: outcome.safety_backup.as_ref().map(ToString::to_string),
        restored_as: outcome.restored_as.clone(),
        partial: Some(outcome),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_reads_are_bounded_and_free_again() {
        let reads = ContentsReads::default();
        let held: Vec<_> = (0..CONTENTS_READS)
            .map(|_| reads.try_acquire().expect("a free slot"))
            .collect();
        let busy = reads.try_acquire().unwrap_err();
        assert_eq!(busy.status, axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert!(busy.message.contains("contents reads"), "{}", busy.message);
        drop(held);
        assert!(reads.try_acquire().is_ok());
    }
}
