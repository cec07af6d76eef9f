//! API mode's errors: what a backup REST server's answers mean, for the RYTHM API (500 for a
//! missing backup, `{error}` bodies from its auth middleware) and for ours alike.

use reqwest::StatusCode;

use super::wire::ErrorBody;
use crate::error::ErrorCode;

/// A failed call to a backup REST API. `server` is the API's base URL (never a credential).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("sign in to {server} again: {reason}")]
    AuthRequired { server: String, reason: String },
    #[error("this account is not a system admin ({detail}); backups at {server} need one")]
    NotAdmin { server: String, detail: String },
    #[error("{server}: {message}")]
    NotFound { server: String, message: String },
    #[error("{server} refused the request: {message}")]
    BadRequest { server: String, message: String },
    #[error("{server} is busy: {message}")]
    Busy { server: String, message: String },
    #[error("{server} answered {status}: {message}")]
    Server {
        server: String,
        status: u16,
        message: String,
    },
    /// Our server's answer with one of the engine's codes (e.g. `confirmation_mismatch`).
    #[error("{server}: {message}")]
    Remote {
        server: String,
        status: u16,
        code: ErrorCode,
        message: String,
    },
    #[error("cannot reach {server}: {message}")]
    Unreachable { server: String, message: String },
    #[error("unexpected answer from {server} to {request}: {detail}")]
    Protocol {
        server: String,
        request: String,
        detail: String,
    },
    #[error("invalid API address {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The server has not said which database it restores into, so the person repeats the
    /// backup's name instead; what they gave was not it.
    #[error(
        "{server} does not say which database it restores into, so a restore is confirmed \
         with the backup's name: repeat {expected:?} (you gave {given:?})"
    )]
    ConfirmWithBackupName {
        server: String,
        expected: String,
        given: String,
    },
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::AuthRequired { .. } => ErrorCode::AuthRequired,
            ApiError::NotAdmin { .. } => ErrorCode::NotAdmin,
            ApiError::NotFound { .. } => ErrorCode::NotFound,
            ApiError::BadRequest { .. } => ErrorCode::InvalidInput,
            ApiError::Busy { .. } => ErrorCode::Busy,
            ApiError::Server {
                status: 502..=504, ..
            } => ErrorCode::Unreachable,
            ApiError::Server { .. } | ApiError::Protocol { .. } => ErrorCode::Internal,
            ApiError::Remote { code, .. } => *code,
            ApiError::Unreachable { .. } => ErrorCode::Unreachable,
            ApiError::InvalidUrl { .. } => ErrorCode::Config,
            ApiError::ConfirmWithBackupName { .. } => ErrorCode::ConfirmationMismatch,
        }
    }

    /// A 5xx that may stand for a missing backup (the RYTHM API answers 500 for one).
    pub(crate) fn is_server_failure(&self) -> bool {
        matches!(self, ApiError::Server { status, .. } if *status >= 500)
    }
}

/// Which call an error answer belongs to: the login answers 401 for a wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Login,
    Authorized,
}

/// The error text of an answer body: `{error}` when it is JSON, else the start of the text.
pub(crate) fn error_text(status: StatusCode, body: &[u8]) -> (String, Option<String>) {
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        return (clean(&parsed.error), parsed.code);
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(message) = value.get("message").and_then(|m| m.as_str()) {
            return (clean(message), None);
        }
    }
    let text = clean(&String::from_utf8_lossy(body));
    if text.is_empty() {
        let reason = status.canonical_reason().unwrap_or("no reason given");
        (reason.to_owned(), None)
    } else {
        (text, None)
    }
}

/// The error an answer with a non-success `status` stands for.
pub(crate) fn from_status(server: &str, status: StatusCode, body: &[u8], call: Call) -> ApiError {
    let (message, code) = error_text(status, body);
    let server = server.to_owned();
    let lower = message.to_ascii_lowercase();
    match status.as_u16() {
        401 if call == Call::Login => ApiError::AuthRequired {
            server,
            reason: format!("the email or password was refused ({message})"),
        },
        401 => ApiError::AuthRequired {
            server,
            reason: format!("the server answered: {message}"),
        },
        403 if lower.contains("admin")
            || matches!(code.as_deref(), Some("forbidden" | "not_admin")) =>
        {
            ApiError::NotAdmin {
                server,
                detail: format!("the server answered: {message}"),
            }
        }
        // The RYTHM API's "Invalid or expired token", or another refusal of the token.
        403 => ApiError::AuthRequired {
            server,
            reason: format!("the server answered: {message}"),
        },
        404 => ApiError::NotFound { server, message },
        _ if engine_code(code.as_deref()).is_some() => ApiError::Remote {
            server,
            status: status.as_u16(),
            code: engine_code(code.as_deref()).expect("checked"),
            message,
        },
        // 409: another job runs (our server); 429: too many failed sign-ins.
        409 | 429 => ApiError::Busy { server, message },
        400 | 413 | 416 | 422 => ApiError::BadRequest { server, message },
        500..=599 if says_missing(&lower) => ApiError::NotFound { server, message },
        _ => ApiError::Server {
            server,
            status: status.as_u16(),
            message,
        },
    }
}

/// Our server's `code` when it is one of the engine's (the server's own, such as
/// `unauthorized` or `rate_limited`, are read from the status instead).
fn engine_code(code: Option<&str>) -> Option<ErrorCode> {
    serde_json::from_value(serde_json::Value::String(code?.to_owned())).ok()
}

/// Whether an error text says that something does not exist (Azure's "The specified blob
/// does not exist.", Node's "ENOENT: no such file", "Backup not found").
fn says_missing(lower: &str) -> bool {
    [
        "not found",
        "does not exist",
        "no such file",
        "blobnotfound",
        "enoent",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

/// One line of at most 300 characters, without control characters.
fn clean(text: &str) -> String {
    let line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line.trim().to_owned()
}

/// A transport failure (no answer at all).
pub(crate) fn from_transport(server: &str, error: &reqwest::Error) -> ApiError {
    let what = if error.is_timeout() {
        "the server stopped answering (timed out)".to_owned()
    } else if error.is_connect() {
        format!("cannot connect ({})", source_chain(error))
    } else {
        source_chain(error)
    };
    ApiError::Unreachable {
        server: server.to_owned(),
        message: what,
    }
}

/// The error and its causes in one line; reqwest's own message omits the causes. URLs in
/// reqwest errors carry no credentials here: the token travels in a header.
fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: u16, body: &str, call: Call) -> ApiError {
        from_status(
            "http://x",
            StatusCode::from_u16(status).unwrap(),
            body.as_bytes(),
            call,
        )
    }

    #[test]
    fn the_peers_auth_answers() {
        let e = map(
            401,
            r#"{"error":"Access token required"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::AuthRequired);
        let e = map(
            403,
            r#"{"error":"Invalid or expired token"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::AuthRequired);
        assert!(e.to_string().contains("Invalid or expired token"), "{e}");
        let e = map(
            403,
            r#"{"error":"Admin access required"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::NotAdmin);
        assert!(e.to_string().contains("not a system admin"), "{e}");
        let e = map(401, r#"{"error":"Invalid credentials"}"#, Call::Login);
        assert_eq!(e.code(), ErrorCode::AuthRequired);
        assert!(e.to_string().contains("email or password"), "{e}");
    }

    #[test]
    fn backup_errors() {
        let e = map(
            500,
            r#"{"success":false,"error":"The specified blob does not exist."}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::NotFound);
        let e = map(
            500,
            r#"{"success":false,"error":"Failed to restore backup"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::Internal);
        assert!(e.is_server_failure());
        let e = map(
            400,
            r#"{"success":false,"error":"Invalid backup filename"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert!(e.to_string().contains("Invalid backup filename"));
        let e = map(
            409,
            r#"{"success":false,"error":"another backup is running","code":"busy"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::Busy);
        let e = map(
            403,
            r#"{"success":false,"error":"Forbidden","code":"forbidden"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::NotAdmin);
        let e = map(
            429,
            r#"{"success":false,"error":"Too many failed login attempts; try again later","code":"rate_limited"}"#,
            Call::Login,
        );
        assert_eq!(e.code(), ErrorCode::Busy);
        assert_eq!(map(404, "", Call::Authorized).code(), ErrorCode::NotFound);
        // Our server names the engine's code.
        let e = map(
            400,
            r#"{"success":false,"error":"confirmation \"x\" does not match","code":"confirmation_mismatch"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::ConfirmationMismatch);
        assert!(e.to_string().contains("does not match"), "{e}");
        let e = map(
            500,
            r#"{"success":false,"error":"x","code":"config"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::Config);
        let e = map(
            400,
            r#"{"success":false,"error":"x","code":"invalid_input"}"#,
            Call::Authorized,
        );
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert_eq!(
            map(503, "", Call::Authorized).code(),
            ErrorCode::Unreachable
        );
    }

    #[test]
    fn odd_bodies_become_one_clean_line() {
        let e = map(502, "<html>\nBad\tGateway</html>", Call::Authorized);
        assert_eq!(
            e.to_string(),
            "http://x answered 502: <html> Bad Gateway</html>"
        );
        let e = map(500, "", Call::Authorized);
        assert!(e.to_string().ends_with("Internal Server Error"), "{e}");
        let long = "x".repeat(1000);
        assert!(map(500, &long, Call::Authorized).to_string().len() < 400);
    }
}
