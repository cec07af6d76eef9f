//! When a restore is announced (`Event::RestorePerformed`, a security event): one rule for
//! the CLI and the server, so both front ends tell admins about the same restores.

use crate::error::ErrorCode;

/// Whether a restore attempt that ended with `error` (`None`: it succeeded) is announced. A
/// dry run (a partial restore's preview) changes nothing, and neither does a restore refused
/// before it began: a bad name or body, a wrong confirmation, a missing backup, an option
/// the server lacks, another job or other sessions in the way, a refused sign-in. Every
/// other end, success or failure (a rollback, a damaged backup, a cancellation), is
/// announced: the restore ran against the database.
pub fn restore_is_announced(dry_run: bool, error: Option<ErrorCode>) -> bool {
    if dry_run {
        return false;
    }
    match error {
        None => true,
        Some(code) => !refused_before_it_began(code),
    }
}

fn refused_before_it_began(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::InvalidName
            | ErrorCode::InvalidInput
            | ErrorCode::ConfirmationMismatch
            | ErrorCode::NotFound
            | ErrorCode::Unsupported
            | ErrorCode::Busy
            | ErrorCode::DatabaseInUse
            | ErrorCode::AuthRequired
            | ErrorCode::NotAdmin
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_runs_and_refusals_are_not_announced_everything_that_ran_is() {
        assert!(restore_is_announced(false, None));
        assert!(!restore_is_announced(true, None), "a preview");
        assert!(!restore_is_announced(true, Some(ErrorCode::RestoreFailed)));
        for refused in [
            ErrorCode::InvalidName,
            ErrorCode::InvalidInput,
            ErrorCode::ConfirmationMismatch,
            ErrorCode::NotFound,
            ErrorCode::Unsupported,
            ErrorCode::Busy,
            ErrorCode::DatabaseInUse,
            ErrorCode::AuthRequired,
            ErrorCode::NotAdmin,
        ] {
            assert!(!restore_is_announced(false, Some(refused)), "{refused:?}");
        }
        for ran in [
            ErrorCode::RestoreFailed,
            ErrorCode::RestoreOutcomeUnknown,
            ErrorCode::ChecksumMismatch,
            ErrorCode::CorruptBackup,
            ErrorCode::UnsafeBackup,
            ErrorCode::Cancelled,
            ErrorCode::DumpFailed,
            ErrorCode::Internal,
        ] {
            assert!(restore_is_announced(false, Some(ran)), "{ran:?}");
        }
    }
}
