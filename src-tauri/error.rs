//! `UiError`: what a failed command gives the front end, `{code, message, detail?}`. `code` is
//! the engine's `ErrorCode` (the UI branches on it), `message` the engine's sentence for a
//! person, `detail` the technical text behind it for an expandable section.

use rythm_backup_core::error::ErrorReport;
use rythm_backup_core::{Error, ErrorCode};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct UiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub detail: Option<String>,
}

pub type UiResult<T> = Result<T, UiError>;

impl UiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        UiError {
            code,
            message: message.into(),
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// A file of this app's own (settings, activity, local copies) could not be used.
    pub fn io(action: &str, path: &std::path::Path, error: std::io::Error) -> Self {
        Self::new(
            ErrorCode::Io,
            format!("cannot {action} {}: {error}", path.display()),
        )
        .with_detail(format!("{error:?}"))
    }
}

impl From<Error> for UiError {
    fn from(error: Error) -> Self {
        let report = ErrorReport::from(&error);
        // The engine's errors print no secret in Debug either (`Sensitive` redacts them).
        let detail = format!("{error:#?}");
        UiError {
            code: report.code,
            message: report.message,
            detail: Some(detail),
        }
    }
}

impl From<tauri::Error> for UiError {
    fn from(error: tauri::Error) -> Self {
        Self::internal(format!("the desktop shell failed: {error}"))
            .with_detail(format!("{error:?}"))
    }
}

impl From<tokio::task::JoinError> for UiError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::internal(format!("a worker thread failed: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_code_message_and_optional_detail() {
        let plain = UiError::new(ErrorCode::Busy, "a backup runs");
        assert_eq!(
            serde_json::to_value(&plain).unwrap(),
            serde_json::json!({"code": "busy", "message": "a backup runs"})
        );
        let engine: UiError = Error::ConfirmationMismatch {
            expected: "rythm".into(),
            given: "x".into(),
        }
        .into();
        let json = serde_json::to_value(&engine).unwrap();
        assert_eq!(json["code"], "confirmation_mismatch");
        assert!(json["message"].as_str().unwrap().contains("rythm"));
        assert!(json["detail"]
            .as_str()
            .unwrap()
            .contains("ConfirmationMismatch"));
    }
}
