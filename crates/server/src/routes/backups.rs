//! The backup routes: create, list, restore, delete and download. Each checks the token
//! first and the name second, so a refused name never reaches storage; backups and restores
//! share one job lock (409 while one runs) and answer when the job is done.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Json;
use rythm_backup_core::api::wire::{
    ActionResponse, CreateBackupResponse, ErrorBody, ListBackupsResponse, RestoreRequestBody,
    RoleResponse,
};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::backup::BackupRequest;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::{BackupKind, BackupName, Cancel, Engine, Error, ErrorCode};

use crate::auth::AdminUser;
use crate::convert;
use crate::error::{codes, ApiError};
use crate::jobs::{logged_progress, run_detached};
use crate::state::AppState;
use crate::{audit, download};

/// A backup name from the path, validated before anything else uses it. Axum has already
/// percent-decoded it, so `..%2F` arrives as `../` and is refused here.
#[derive(Debug, Clone)]
pub struct NameParam(pub BackupName);

impl<S: Send + Sync> FromRequestParts<S> for NameParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    codes::INVALID_NAME,
                    "the backup name in the path is not valid UTF-8",
                )
            })?;
        BackupName::parse(&raw)
            .map(NameParam)
            .map_err(|e| ApiError::from(Error::from(e)))
    }
}

/// The bytes of a backup, for the OpenAPI document (a binary string).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct BackupBytes(Vec<u8>);

/// An engine like the server's that applies the schedule's retention (one period for
/// every prune and every `expiresAt`, whoever triggers it) and records `actor`, if any, as
/// the creator of its backups.
pub(super) fn engine_for(state: &AppState, actor: Option<&str>) -> Engine {
    let mut config = state.engine.config().clone();
    config.retention_days = state.schedule.get().config.retention_days;
    if let Some(actor) = actor {
        config.created_by = Some(actor.to_owned());
    }
    Engine::with_store(config, state.engine.store().clone())
}

/// Take a backup now (then apply retention); answers when it is stored.
#[utoipa::path(
    post,
    path = "/api/backups",
    tag = "backups",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Backup created", body = CreateBackupResponse),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
        (status = 409, description = "Another backup or restore is running", body = ErrorBody),
        (status = 500, description = "The dump or the upload failed", body = ErrorBody),
    )
)]
pub async fn create_backup(
    State(state): State<AppState>,
    admin: AdminUser,
) -> Result<(StatusCode, Json<CreateBackupResponse>), ApiError> {
    let actor = admin.email().to_owned();
    let guard = state.jobs.try_acquire("backup").inspect_err(|e| {
        audit::record(&actor, "create_backup", None, Err(&e.message));
    })?;
    let engine = engine_for(&state, Some(&actor));
    let request = BackupRequest {
        format: engine.config().format,
        compression: engine.config().compression,
        kind: BackupKind::Manual,
        created_by: Some(actor.clone()),
    };
    let progress = logged_progress("backup", &actor);
    let result = run_detached(guard, async move {
        engine
            .backup_with(&request, &progress, &Cancel::new())
            .await
    })
    .await?;
    let object = result.as_ref().ok().map(|r| r.backup.name.to_string());
    audit::engine_outcome(&actor, "create_backup", object.as_deref(), &result);
    let report = result?;
    let at = convert::iso_millis(state.schedule.clock().now());
    state
        .schedule
        .store()
        .modify(|s| s.last_success_at = Some(at));
    Ok((
        StatusCode::CREATED,
        Json(CreateBackupResponse {
            success: true,
            message: "Backup created successfully".into(),
            data: convert::created(&report),
        }),
    ))
}

/// Every backup, newest first.
#[utoipa::path(
    get,
    path = "/api/backups",
    tag = "backups",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The backups, newest first", body = ListBackupsResponse),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
        (status = 500, description = "Storage failed", body = ErrorBody),
    )
)]
pub async fn list_backups(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<ListBackupsResponse>, ApiError> {
    let entries = engine_for(&state, None).list().await?;
    let data: Vec<_> = entries.iter().map(convert::listed).collect();
    Ok(Json(ListBackupsResponse {
        success: true,
        count: data.len(),
        data,
    }))
}

/// Restore a backup into the server's database, in one transaction, after a safety backup.
/// The optional body's `confirm`, when given, must equal the database's name. With
/// `tables`, `tenant` or `intoSchema` only those are restored (or copied into a new
/// schema), and `dryRun` reports what would change; the answer's `partial` says what was
/// restored per table.
#[utoipa::path(
    post,
    path = "/api/backups/{name}/restore",
    tag = "backups",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The backup's name")),
    request_body(content = Option<RestoreRequestBody>, description = "Optional", content_type = "application/json"),
    responses(
        (status = 200, description = "Database restored", body = ActionResponse),
        (status = 400, description = "Bad name, body or confirmation", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
        (status = 404, description = "No such backup", body = ErrorBody),
        (status = 409, description = "Another backup or restore is running, or the database is in use", body = ErrorBody),
        (status = 408, description = "The body did not arrive within HTTP_BODY_TIMEOUT", body = ErrorBody),
        (status = 422, description = "The backup is damaged; nothing was changed", body = ErrorBody),
        (status = 500, description = "The restore failed and was rolled back", body = ErrorBody),
    )
)]
pub async fn restore_backup(
    State(state): State<AppState>,
    admin: AdminUser,
    NameParam(name): NameParam,
    body: Bytes,
) -> Result<Json<ActionResponse>, ApiError> {
    let actor = admin.email().to_owned();
    let body = parse_restore_body(&body);
    let dry_run = body.as_ref().is_ok_and(|b| b.dry_run);
    let result = match body {
        Ok(body) => restore(&state, &actor, &name, body).await,
        Err(e) => Err(e),
    };
    audit::outcome(&actor, "restore_backup", Some(name.as_str()), &result);
    // A restore that ran, whatever its end, is a security event; a dry run, or a restore
    // refused before it began (a bad body, a wrong confirmation, 409), changed nothing. The
    // rule is the CLI's too.
    let error = result.as_ref().err().map(engine_code);
    if rythm_backup_core::notify::restore_is_announced(dry_run, error) {
        let event = rythm_backup_core::notify::Event::RestorePerformed {
            origin: crate::notices::origin(&state.engine),
            backup: name.to_string(),
            actor: actor.clone(),
            error: result.as_ref().err().map(|e| vec![e.message.clone()]),
        };
        crate::notices::send_detached(&state.notifier, event);
    }
    result.map(Json)
}

/// The engine's code of an error answer (our own answers use the engine's names where one
/// fits); an answer of the server's own making that names none counts as internal.
fn engine_code(error: &ApiError) -> ErrorCode {
    serde_json::from_value(serde_json::Value::String(error.code.clone()))
        .unwrap_or(ErrorCode::Internal)
}

/// The optional body of a restore (empty: a full restore with no options).
fn parse_restore_body(body: &[u8]) -> Result<RestoreRequestBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(RestoreRequestBody::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be {{\"confirm\"?: string, \"skipSafetyBackup\"?: boolean, \
             \"terminateConnections\"?: boolean, \"tables\"?: [string], \"wholeTables\"?: \
             [string], \"tenant\"?: string, \"tenantColumn\"?: string, \"where\"?: \
             string, \"intoSchema\"?: string, \"dryRun\"?: boolean, \
             \"cascadeToReferencing\"?: boolean}}: {e}"
        ))
    })
}

async fn restore(
    state: &AppState,
    actor: &str,
    name: &BackupName,
    body: RestoreRequestBody,
) -> Result<ActionResponse, ApiError> {
    let database = state
        .engine
        .config()
        .database
        .as_ref()
        .map(|d| d.database())
        .ok_or_else(|| Error::Config("no database configured: set DATABASE_URL".into()))?;
    if let Some(given) = body.confirm.clone().filter(|c| *c != database) {
        return Err(Error::ConfirmationMismatch {
            expected: database,
            given,
        }
        .into());
    }
    if body.selection_text().is_partial() {
        return super::partial::restore_part(state, actor, name, database, &body).await;
    }
    if body.dry_run || body.where_sql.is_some() || body.cascade_to_referencing {
        return Err(ApiError::bad_request(
            "dryRun, where and cascadeToReferencing belong to a partial restore: add tables, \
             tenant or intoSchema",
        ));
    }
    let guard = state.jobs.try_acquire("restore")?;
    let engine = engine_for(state, Some(actor));
    let options = RestoreOptions {
        target: None,
        create: false,
        confirm: database,
        skip_safety_backup: body.skip_safety_backup,
        terminate_connections: body.terminate_connections,
    };
    let progress = logged_progress("restore", actor);
    let source = RestoreSource::Stored(name.clone());
    let outcome = run_detached(guard, async move {
        engine
            .restore(source, options, &progress, &Cancel::new())
            .await
    })
    .await??;
    Ok(ActionResponse {
        success: true,
        message: "Database restored successfully".into(),
        filename: name.to_string(),
        safety_backup: outcome.safety_backup.map(|n| n.to_string()),
        restored_as: Some(outcome.restored_as),
        partial: None,
    })
}

/// The role restores run the backup's SQL as: a superuser gives a backup's content
/// superuser power on the database server, which clients say before a restore.
#[utoipa::path(
    get,
    path = "/api/backups/restore-role",
    tag = "backups",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The role restores run as, and whether it is a superuser", body = RoleResponse),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
        (status = 500, description = "The database could not be reached", body = ErrorBody),
    )
)]
pub async fn restore_role(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<RoleResponse>, ApiError> {
    let role = state.engine.restoring_role().await?;
    Ok(Json(RoleResponse {
        success: true,
        data: role,
    }))
}

/// Delete a backup.
#[utoipa::path(
    delete,
    path = "/api/backups/{name}",
    tag = "backups",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The backup's name")),
    responses(
        (status = 200, description = "Backup deleted", body = ActionResponse),
        (status = 400, description = "Bad name", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
        (status = 404, description = "No such backup", body = ErrorBody),
    )
)]
pub async fn delete_backup(
    State(state): State<AppState>,
    admin: AdminUser,
    NameParam(name): NameParam,
) -> Result<Json<ActionResponse>, ApiError> {
    let result = state.engine.delete(&name).await;
    audit::engine_outcome(admin.email(), "delete_backup", Some(name.as_str()), &result);
    result?;
    Ok(Json(ActionResponse {
        success: true,
        message: "Backup deleted successfully".into(),
        filename: name.to_string(),
        safety_backup: None,
        restored_as: None,
        partial: None,
    }))
}

/// The backup's bytes, streamed; supports a single `Range` and `If-Range`.
#[utoipa::path(
    get,
    path = "/api/backups/{name}/download",
    tag = "backups",
    security(("bearer" = [])),
    params(
        ("name" = String, Path, description = "The backup's name"),
        ("Range" = Option<String>, Header, description = "bytes=a-b, bytes=a- or bytes=-n"),
        ("If-Range" = Option<String>, Header, description = "An ETag or date the range depends on"),
    ),
    responses(
        (status = 200, description = "The whole backup", content_type = "application/octet-stream", body = BackupBytes),
        (status = 206, description = "The requested range, with Content-Range", content_type = "application/octet-stream", body = BackupBytes),
        (status = 400, description = "Bad name", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
        (status = 404, description = "No such backup", body = ErrorBody),
        (status = 416, description = "The range is outside the backup", body = ErrorBody),
    )
)]
pub async fn download_backup(
    State(state): State<AppState>,
    admin: AdminUser,
    NameParam(name): NameParam,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    tracing::info!(actor = %admin.email(), backup = %name, range = ?headers.get("range"),
        "download");
    download::respond(
        state.engine.store(),
        &name,
        &headers,
        method == Method::HEAD,
    )
    .await
}
