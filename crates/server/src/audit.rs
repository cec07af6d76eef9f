//! The audit trail: one log line (tracing target `audit`) for every state-changing call,
//! saying who (the token's email, or `scheduler`), what, on which backup, and the result.
//! Never a password, token or secret.

use rythm_backup_core::Error;

use crate::error::ApiError;

/// The actor of scheduled runs.
pub const SCHEDULER: &str = "scheduler";

/// Logs one audited action. `object` is a backup name or a short description.
pub fn record(actor: &str, action: &str, object: Option<&str>, result: Result<(), &str>) {
    let object = object.unwrap_or("-");
    match result {
        Ok(()) => tracing::info!(target: "audit", actor, action, object, result = "ok", "{action}"),
        Err(error) => {
            tracing::warn!(target: "audit", actor, action, object, result = "failed", error, "{action}")
        }
    }
}

/// Logs the outcome of an action that ended with `result`.
pub fn outcome<T>(actor: &str, action: &str, object: Option<&str>, result: &Result<T, ApiError>) {
    match result {
        Ok(_) => record(actor, action, object, Ok(())),
        Err(e) => record(actor, action, object, Err(&e.message)),
    }
}

/// The same for an engine result.
pub fn engine_outcome<T>(
    actor: &str,
    action: &str,
    object: Option<&str>,
    result: &Result<T, Error>,
) {
    match result {
        Ok(_) => record(actor, action, object, Ok(())),
        Err(e) => record(actor, action, object, Err(&e.to_string())),
    }
}
