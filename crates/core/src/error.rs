//! The engine's error type and the small, stable `ErrorCode` every front end branches on
//! (the CLI's exit and `--json` output, the server's status codes, the desktop's messages).

use serde::{Deserialize, Serialize};

use crate::api::ApiError;
use crate::catalog::NameError;
use crate::pg::{ChildError, PgError, ToolError};
use crate::profile::ProfileError;
use crate::secrets::KeychainError;
use crate::storage::StorageError;

/// What kind of failure this is, for code that reacts to it. Grows only when a front end
/// needs to tell two cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidName,
    InvalidInput,
    NotFound,
    Config,
    StorageAuth,
    Unreachable,
    ToolMissing,
    DumpFailed,
    RestoreFailed,
    CorruptBackup,
    ChecksumMismatch,
    DatabaseInUse,
    ConfirmationMismatch,
    AlreadyExists,
    Cancelled,
    Io,
    Internal,
    /// API mode: no valid sign-in (none stored, expired, or refused): sign in again.
    AuthRequired,
    /// API mode: the account is signed in but is not a system admin.
    NotAdmin,
    /// The operation does not exist in this mode (e.g. the schedule in direct mode).
    Unsupported,
    /// No OS keychain could store or read a secret.
    KeychainUnavailable,
    /// The encrypted secrets file needs its master password (none given yet, or a wrong one).
    SecretsLocked,
    /// API mode: the server runs another backup or restore; try again later.
    Busy,
    /// The backup holds a statement pg_dump never writes (tampered or hostile); it was
    /// refused before it ran.
    UnsafeBackup,
    /// A restore failed where it cannot be known whether its transaction committed.
    RestoreOutcomeUnknown,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    InvalidName(#[from] NameError),
    #[error("{0}")]
    InvalidInput(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("pg_dump of {database} failed: {source}")]
    DumpFailed { database: String, source: PgError },
    #[error(
        "restore into {database} failed and was rolled back; the database is unchanged. {detail}"
    )]
    RestoreFailed { database: String, detail: String },
    #[error(
        "backup {source_name} holds {kind} at line {line} of its SQL, which a pg_dump backup \
         never has (it may have been tampered with). It was refused before it could run; \
         nothing was changed. Restore another backup, and find out who can write to this \
         one's storage"
    )]
    UnsafeBackup {
        source_name: String,
        kind: String,
        line: u64,
    },
    #[error(
        "restore into {database} failed and whether it changed the database is not known: \
         {detail}. Check the database; {}",
        match safety_backup {
            Some(name) => format!("the safety backup {name} holds its state from before the restore"),
            None => "no safety backup was taken".to_owned(),
        }
    )]
    RestoreOutcomeUnknown {
        database: String,
        detail: String,
        safety_backup: Option<String>,
    },
    #[error("backup {source_name} is damaged or incomplete: {detail}. Nothing was changed.")]
    CorruptBackup { source_name: String, detail: String },
    #[error(
        "checksum mismatch for {name}: expected sha256 {expected}, got {actual}. The stored \
         bytes are not the ones that were backed up; nothing was run or changed"
    )]
    ChecksumMismatch {
        name: String,
        expected: String,
        actual: String,
    },
    #[error(
        "database {database} has {count} other session(s) connected ({sessions}); they would \
         block the restore. Close them, or pass --terminate-connections to end them first"
    )]
    DatabaseInUse {
        database: String,
        count: usize,
        sessions: String,
    },
    #[error(
        "confirmation {given:?} does not match the target database {expected:?}; \
         repeat the target database's name to confirm"
    )]
    ConfirmationMismatch { expected: String, given: String },
    #[error("{path} already exists; pass --force to overwrite it")]
    AlreadyExists { path: String },
    #[error("cancelled")]
    Cancelled,
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("{0}")]
    Unsupported(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidName(_) => ErrorCode::InvalidName,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::Storage(e) => match e {
                StorageError::NotFound { .. } => ErrorCode::NotFound,
                StorageError::Config(_) => ErrorCode::Config,
                StorageError::Auth { .. } => ErrorCode::StorageAuth,
                StorageError::Unreachable { .. } => ErrorCode::Unreachable,
                StorageError::Request { .. } => ErrorCode::Unreachable,
                StorageError::Io { .. } => ErrorCode::Io,
                StorageError::Cancelled => ErrorCode::Cancelled,
            },
            Error::Pg(PgError::Tool(_)) => ErrorCode::ToolMissing,
            Error::Pg(PgError::Child(ChildError::Spawn { .. })) => ErrorCode::ToolMissing,
            Error::Pg(PgError::Target(_)) => ErrorCode::Config,
            Error::Pg(_) => ErrorCode::Unreachable,
            Error::Config(_) => ErrorCode::Config,
            Error::DumpFailed { .. } => ErrorCode::DumpFailed,
            Error::RestoreFailed { .. } => ErrorCode::RestoreFailed,
            Error::UnsafeBackup { .. } => ErrorCode::UnsafeBackup,
            Error::RestoreOutcomeUnknown { .. } => ErrorCode::RestoreOutcomeUnknown,
            Error::CorruptBackup { .. } => ErrorCode::CorruptBackup,
            Error::ChecksumMismatch { .. } => ErrorCode::ChecksumMismatch,
            Error::DatabaseInUse { .. } => ErrorCode::DatabaseInUse,
            Error::ConfirmationMismatch { .. } => ErrorCode::ConfirmationMismatch,
            Error::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Io { .. } => ErrorCode::Io,
            Error::Internal(_) => ErrorCode::Internal,
            Error::Api(e) => e.code(),
            Error::Keychain(e) => e.code(),
            Error::Profile(e) => e.code(),
            Error::Unsupported(_) => ErrorCode::Unsupported,
        }
    }

    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

impl From<ToolError> for Error {
    fn from(e: ToolError) -> Self {
        Error::Pg(PgError::Tool(e))
    }
}

impl From<ChildError> for Error {
    fn from(e: ChildError) -> Self {
        Error::Pg(PgError::Child(e))
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(format!("a worker thread failed: {e}"))
    }
}

/// The `{code, message}` pair front ends show.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorReport {
    pub code: ErrorCode,
    pub message: String,
}

impl From<&Error> for ErrorReport {
    fn from(e: &Error) -> Self {
        ErrorReport {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
