//! `POST /api/auth/login`: the RYTHM API's login against the admin file, with failed logins
//! limited per client address and audited (never with the password).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use rythm_backup_core::api::wire::{ErrorBody, LoginRequest, LoginResponse, User, ADMIN_ROLE};
use serde_json::Value;
use time::OffsetDateTime;

use crate::admins::AdminFile;
use crate::audit;
use crate::error::{codes, ApiError};
use crate::state::AppState;

pub const MISSING_FIELDS: &str = "Missing required fields";
pub const INVALID_CREDENTIALS: &str = "Invalid credentials";

/// Log in with an admin's email and password; the token is valid for 7 days.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Missing required fields", body = ErrorBody),
        (status = 401, description = "Invalid credentials", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address; see Retry-After", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<LoginResponse>, ApiError> {
    let request = serde_json::from_slice::<LoginRequest>(&body)
        .ok()
        .filter(|r| !r.email.trim().is_empty() && !r.password.is_empty())
        .ok_or_else(|| ApiError::bad_request(MISSING_FIELDS))?;
    let client = peer.ip();
    let email = request.email.trim().to_owned();
    if let Err(wait) = state.limiter.check(client) {
        audit::record(&email, "login", None, Err("rate limited"));
        tracing::warn!(client = %client, "login refused: too many failed attempts");
        return Err(ApiError::too_many_requests(wait.as_secs_f64().ceil() as u64));
    }

    let path = state.admins_file.clone();
    let password = request.password;
    let checked_email = email.clone();
    let verified = tokio::task::spawn_blocking(move || {
        AdminFile::load(&path).map(|file| file.verify(&checked_email, &password).cloned())
    })
    .await
    .map_err(|e| ApiError::internal(format!("the login check stopped: {e}")))?;

    let admin = match verified {
        Ok(Some(admin)) => admin,
        Ok(None) => {
            state.limiter.failed(client);
            audit::record(&email, "login", None, Err("invalid credentials"));
            tracing::warn!(client = %client, "login failed");
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                INVALID_CREDENTIALS,
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read the admin file");
            return Err(ApiError::internal(
                "the server cannot read its admin file; see its log",
            ));
        }
    };
    state.limiter.succeeded(client);
    let (token, claims) = state
        .keys
        .issue(&admin.id, &admin.email, OffsetDateTime::now_utc())?;
    audit::record(&admin.email, "login", None, Ok(()));
    Ok(Json(LoginResponse {
        token,
        user: User {
            id: claims.user_id,
            email: admin.email,
            role: ADMIN_ROLE.to_owned(),
            first_name: Some(admin.first_name.unwrap_or_default()),
            last_name: Some(admin.last_name.unwrap_or_default()),
            tenant_id: Some(claims.tenant_id.unwrap_or(Value::Null)),
        },
    }))
}
