//! `GET`/`PUT /api/backups/schedule/config`: the RYTHM API's daily backup schedule, which
//! this server persists and runs itself.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use rythm_backup_core::api::wire::{ErrorBody, ScheduleResponse, ScheduleUpdate};
use serde_json::Value;

use crate::audit;
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::schedule::store::{check_retention, parse_time};
use crate::state::AppState;

/// The daily schedule.
#[utoipa::path(
    get,
    path = "/api/backups/schedule/config",
    tag = "schedule",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The schedule", body = ScheduleResponse),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
    )
)]
pub async fn get_schedule(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Json<ScheduleResponse> {
    Json(ScheduleResponse {
        success: true,
        message: None,
        data: state.schedule.get().config,
    })
}

/// Change the daily schedule: `enabled` is required; `schedule_time` is `HH:MM` or
/// `HH:MM:SS` (UTC); `retention_days` from 1 to 90.
#[utoipa::path(
    put,
    path = "/api/backups/schedule/config",
    tag = "schedule",
    security(("bearer" = [])),
    request_body = ScheduleUpdate,
    responses(
        (status = 200, description = "The updated schedule", body = ScheduleResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a credential in the query string", body = ErrorBody),
        (status = 403, description = "Not a system_admin", body = ErrorBody),
        (status = 408, description = "The body did not arrive within HTTP_BODY_TIMEOUT", body = ErrorBody),
    )
)]
pub async fn put_schedule(
    State(state): State<AppState>,
    admin: AdminUser,
    body: Bytes,
) -> Result<Json<ScheduleResponse>, ApiError> {
    let result = validated(&body).and_then(|update| {
        let what = format!(
            "enabled={} time={} retention_days={}",
            update.enabled,
            update.schedule_time.as_deref().unwrap_or("unchanged"),
            update
                .retention_days
                .map_or("unchanged".to_owned(), |d| d.to_string())
        );
        state
            .schedule
            .update(&update)
            .map(|config| (config, what))
            .map_err(ApiError::bad_request)
    });
    let object = result.as_ref().ok().map(|(_, what)| what.clone());
    audit::outcome(admin.email(), "update_schedule", object.as_deref(), &result);
    let (config, _) = result?;
    Ok(Json(ScheduleResponse {
        success: true,
        message: Some("Schedule updated successfully".into()),
        data: config,
    }))
}

/// Checks the body field by field, for messages that say what is wrong.
fn validated(body: &[u8]) -> Result<ScheduleUpdate, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("the body must be a JSON object"))?;
    let object = value
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    if !object.get("enabled").is_some_and(Value::is_boolean) {
        return Err(ApiError::bad_request("enabled (boolean) is required"));
    }
    match object.get("schedule_time") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) => {
            parse_time(t).map_err(ApiError::bad_request)?;
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "schedule_time must be a string HH:MM or HH:MM:SS",
            ))
        }
    }
    match object.get("verify_after_backup") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => {}
        Some(_) => {
            return Err(ApiError::bad_request(
                "verify_after_backup must be a boolean",
            ))
        }
    }
    match object.get("retention_days") {
        None | Some(Value::Null) => {}
        Some(v) => {
            let days = v.as_u64().and_then(|d| u32::try_from(d).ok()).unwrap_or(0);
            check_retention(days).map_err(ApiError::bad_request)?;
        }
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("invalid schedule: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_each_field() {
        assert!(validated(br#"{"enabled":true}"#).is_ok());
        assert!(
            validated(br#"{"enabled":false,"schedule_time":"02:30","retention_days":90}"#).is_ok()
        );
        assert!(validated(br#"{"enabled":true,"schedule_time":null}"#).is_ok());
        for bad in [
            &br#"{}"#[..],
            br#"{"enabled":"yes"}"#,
            br#"[]"#,
            br#"not json"#,
            br#"{"enabled":true,"schedule_time":"25:00"}"#,
            br#"{"enabled":true,"schedule_time":200}"#,
            br#"{"enabled":true,"retention_days":0}"#,
            br#"{"enabled":true,"retention_days":91}"#,
            br#"{"enabled":true,"retention_days":-1}"#,
            br#"{"enabled":true,"retention_days":1.5}"#,
            br#"{"enabled":true,"retention_days":"7"}"#,
            br#"{"enabled":true,"verify_after_backup":"yes"}"#,
        ] {
            assert!(validated(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
