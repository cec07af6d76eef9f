//! Errors: `ServerError` for starting and running the server, and `ApiError`, an HTTP answer
//! `{success:false, error, code}` with its status, built from the engine's `ErrorCode`s.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rythm_backup_core::api::wire::ErrorBody;
use rythm_backup_core::{Error, ErrorCode};

use crate::admins::AdminError;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Admins(#[from] AdminError),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] Error),
}

/// Codes of the answers the server gives itself: the engine's `ErrorCode` names where one
/// fits (so our client maps them back), a few of the server's own otherwise.
pub mod codes {
    pub const UNAUTHORIZED: &str = "auth_required";
    pub const FORBIDDEN: &str = "not_admin";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const BUSY: &str = "busy";
    pub const INVALID_INPUT: &str = "invalid_input";
    pub const INVALID_NAME: &str = "invalid_name";
    pub const NOT_FOUND: &str = "not_found";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub const RANGE_NOT_SATISFIABLE: &str = "range_not_satisfiable";
    pub const OVERLOADED: &str = "overloaded";
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    pub const INTERNAL: &str = "internal";
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_INPUT, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, message)
    }

    pub fn busy(running: &str) -> Self {
        ApiError::new(
            StatusCode::CONFLICT,
            codes::BUSY,
            format!("another {running} is running; try again when it has finished"),
        )
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after_secs.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                "Too many failed login attempts; try again later",
            )
        }
    }

    /// 503 with `Retry-After: 1`: a bounded resource (the password checks) is saturated.
    pub fn overloaded(message: impl Into<String>) -> Self {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::OVERLOADED, message)
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL, message)
    }

    /// `{success:false, error, code}`: the RYTHM API's auth errors lack `success`; ours
    /// always carry it (a compatible superset).
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            success: Some(false),
            error: self.message.clone(),
            code: Some(self.code.clone()),
        }
    }
}

/// The status of each engine error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidName | ErrorCode::InvalidInput | ErrorCode::ConfirmationMismatch => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::AuthRequired => StatusCode::UNAUTHORIZED,
        ErrorCode::NotAdmin => StatusCode::FORBIDDEN,
        ErrorCode::DatabaseInUse | ErrorCode::AlreadyExists | ErrorCode::Busy => {
            StatusCode::CONFLICT
        }
        ErrorCode::Unsupported => StatusCode::NOT_IMPLEMENTED,
        ErrorCode::CorruptBackup | ErrorCode::ChecksumMismatch | ErrorCode::UnsafeBackup => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ErrorCode::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Config
        | ErrorCode::StorageAuth
        | ErrorCode::Unreachable
        | ErrorCode::ToolMissing
        | ErrorCode::DumpFailed
        | ErrorCode::RestoreFailed
        | ErrorCode::RestoreOutcomeUnknown
        | ErrorCode::Io
        | ErrorCode::KeychainUnavailable
        | ErrorCode::SecretsLocked
        | ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The `code` string of an engine error code (its serde name, e.g. `not_found`).
pub fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| codes::INTERNAL.to_owned())
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let code = error.code();
        // The engine's messages name paths, hosts and databases but never credentials;
        // the response layer redacts the known secrets once more.
        ApiError::new(status_of(code), &code_name(code), error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&secs.to_string()).expect("digits are a header value"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rythm_backup_core::BackupName;

    #[test]
    fn engine_codes_map_to_statuses() {
        let err = Error::from(BackupName::parse("../x.sql").unwrap_err());
        let api = ApiError::from(err);
        assert_eq!(api.status, StatusCode::BAD_REQUEST);
        assert_eq!(api.code, "invalid_name");
        assert_eq!(status_of(ErrorCode::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(status_of(ErrorCode::DatabaseInUse), StatusCode::CONFLICT);
        assert_eq!(code_name(ErrorCode::DatabaseInUse), "database_in_use");
        // The server's own codes are the engine's names where one fits.
        assert_eq!(code_name(ErrorCode::AuthRequired), codes::UNAUTHORIZED);
        assert_eq!(code_name(ErrorCode::NotAdmin), codes::FORBIDDEN);
        assert_eq!(code_name(ErrorCode::Busy), codes::BUSY);
        assert_eq!(code_name(ErrorCode::InvalidName), codes::INVALID_NAME);
        assert_eq!(code_name(ErrorCode::InvalidInput), codes::INVALID_INPUT);
        assert_eq!(code_name(ErrorCode::NotFound), codes::NOT_FOUND);
    }

    #[test]
    fn body_has_the_contracts_fields() {
        let body = serde_json::to_value(ApiError::busy("backup").body()).unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "busy");
        assert!(body["error"].as_str().unwrap().contains("backup"));
    }
}
