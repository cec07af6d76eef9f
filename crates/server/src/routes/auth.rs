//! `POST /api/auth/login`: the RYTHM API's login against the admin file, with failed logins
//! limited per client address (race-free), password checks bounded server-wide, and every
//! attempt audited (never with the password).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use rythm_backup_core::api::wire::{ErrorBody, LoginRequest, LoginResponse, User, ADMIN_ROLE};
use rythm_backup_core::secrets::Sensitive;
use serde_json::Value;
use time::OffsetDateTime;

use crate::admins::dummy_hash;
use crate::audit;
use crate::error::{codes, ApiError};
use crate::password_check::CheckError;
use crate::state::AppState;

pub const MISSING_FIELDS: &str = "Missing required fields";
pub const INVALID_CREDENTIALS: &str = "Invalid credentials";

/// Log in with an admin's email and password; the token is valid for 7 days, until the
/// admin is removed, changes password or has their tokens revoked.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Missing required fields", body = ErrorBody),
        (status = 401, description = "Invalid credentials, or a credential in the query string", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 408, description = "The body did not arrive within HTTP_BODY_TIMEOUT", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address; see Retry-After", body = ErrorBody),
        (status = 503, description = "Too many logins being checked at once; see Retry-After", body = ErrorBody),
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
    // The attempt takes its place in the address's count before the password is checked,
    // so a burst of parallel attempts cannot check more than the limit allows.
    let attempt = state.limiter.reserve(client).map_err(|wait| {
        audit::record(&email, "login", None, Err("rate limited"));
        tracing::warn!(client = %client, "login refused: too many failed attempts");
        ApiError::too_many_requests(wait.as_secs_f64().ceil() as u64)
    })?;
    let admins = match state.admins.current() {
        Ok(admins) => admins,
        Err(e) => {
            attempt.not_checked();
            tracing::error!(error = %e, "cannot read the admin file");
            return Err(ApiError::internal(
                "the server cannot read its admin file; see its log",
            ));
        }
    };
    let found = admins.find(&email).cloned();
    // An unknown email costs the same argon2 check (against a dummy hash) as a known one,
    // so timing does not tell them apart.
    let hash = found
        .as_ref()
        .map_or_else(|| dummy_hash().to_owned(), |a| a.password_hash.clone());
    let checked = state
        .password_checks
        .check(client, hash, Sensitive::new(request.password))
        .await;
    let admin = match (checked, found) {
        (Ok(true), Some(admin)) => admin,
        (Ok(_), _) => {
            attempt.failed();
            audit::record(&email, "login", None, Err("invalid credentials"));
            tracing::warn!(client = %client, "login failed");
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                INVALID_CREDENTIALS,
            ));
        }
        (Err(CheckError::Busy), _) => {
            attempt.not_checked();
            tracing::warn!(client = %client, "login refused: every password check slot is taken");
            return Err(ApiError::overloaded(
                "The server is busy checking other logins; try again in a moment",
            ));
        }
        (Err(e @ CheckError::Stopped), _) => {
            attempt.not_checked();
            return Err(ApiError::internal(format!(
                "cannot check the password: {e}"
            )));
        }
    };
    attempt.succeeded();
    let (token, claims) = state.keys.issue(&admin, OffsetDateTime::now_utc())?;
    audit::record(&admin.email, "login", None, Ok(()));
    Ok(Json(LoginResponse {
        token,
        user: User {
            id: claims.peer.user_id,
            email: admin.email,
            role: ADMIN_ROLE.to_owned(),
            first_name: Some(admin.first_name.unwrap_or_default()),
            last_name: Some(admin.last_name.unwrap_or_default()),
            tenant_id: Some(claims.peer.tenant_id.unwrap_or(Value::Null)),
        },
    }))
}
