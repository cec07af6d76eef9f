//! OS notifications (tauri-plugin-notification) when a create, download, restore or verify
//! ends while the window is not focused, so a long job finishing in the background is not
//! missed. The message says what ended and how; the details stay in the window.

use std::sync::OnceLock;

use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::error::UiError;
use crate::state::Action;

static APP: OnceLock<AppHandle> = OnceLock::new();

/// Remembers the app, once, at start-up.
pub fn install(app: AppHandle) {
    let _ = APP.set(app);
}

/// The title and body of the notice for `action` ending with `result`; `None` for jobs
/// that need none (deletions, sign-ins, …) or a cancellation the person asked for.
/// `failure` is why a job that returned still failed (a verification whose restored rows
/// differ from the recorded ones): announced as a failure, not as finished.
pub fn notice<T>(
    action: Action,
    result: &Result<T, UiError>,
    failure: Option<&str>,
) -> Option<(String, String)> {
    let what = match action {
        Action::CreateBackup => "Backup",
        Action::DownloadBackup => "Download",
        Action::RestoreBackup | Action::RestoreLocalCopy => "Restore",
        Action::VerifyBackup => "Verification",
        _ => return None,
    };
    match result {
        Ok(_) if failure.is_some() => Some((
            format!("{what} failed"),
            failure.unwrap_or_default().to_owned(),
        )),
        Ok(_) => Some((
            format!("{what} finished"),
            "RYTHM Backup Admin: open the window for the details.".to_owned(),
        )),
        Err(e) if e.code == rythm_backup_core::ErrorCode::Cancelled => None,
        Err(e) => Some((format!("{what} failed"), e.message.clone())),
    }
}

/// Shows the notice of a job that ended, if the main window is not focused.
pub fn job_ended<T>(action: Action, result: &Result<T, UiError>, failure: Option<String>) {
    let Some(app) = APP.get() else { return };
    let Some((title, body)) = notice(action, result, failure.as_deref()) else {
        return;
    };
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    if focused {
        return;
    }
    if let Err(e) = app
        .notification()
        .builder()
        .title(&title)
        .body(&body)
        .show()
    {
        tracing::debug!(error = %e, "no OS notification could be shown");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rythm_backup_core::ErrorCode;

    #[test]
    fn only_long_jobs_notify_and_cancellations_do_not() {
        let ok: Result<(), UiError> = Ok(());
        assert_eq!(
            notice(Action::VerifyBackup, &ok, None).unwrap().0,
            "Verification finished"
        );
        assert!(notice(Action::DeleteBackup, &ok, None).is_none());
        let cancelled: Result<(), UiError> = Err(UiError::new(ErrorCode::Cancelled, "cancelled"));
        assert!(notice(Action::CreateBackup, &cancelled, None).is_none());
        let failed: Result<(), UiError> =
            Err(UiError::new(ErrorCode::DumpFailed, "pg_dump failed"));
        assert_eq!(
            notice(Action::CreateBackup, &failed, None),
            Some(("Backup failed".into(), "pg_dump failed".into()))
        );
    }

    #[test]
    fn a_verification_with_mismatches_is_announced_as_failed() {
        let outcome = mismatched_outcome();
        let failure = crate::commands::verify::failure_of(&outcome);
        let result: Result<_, UiError> = Ok(outcome);
        let (title, body) = notice(Action::VerifyBackup, &result, failure.as_deref()).unwrap();
        assert_eq!(title, "Verification failed");
        assert!(body.contains("public.orders"), "{body}");
        // A checksum that does not match says so, not that the rows differ.
        let mut altered = mismatched_outcome();
        altered.checksum_verified = Some(false);
        altered.verification.error = None;
        altered.verification.mismatches.clear();
        let why = crate::commands::verify::failure_of(&altered).unwrap();
        assert!(why.contains("sha256"), "{why}");
        // A passing one still finished.
        let mut passed = mismatched_outcome();
        passed.ok = true;
        passed.verification.ok = true;
        passed.verification.mismatches.clear();
        passed.verification.error = None;
        assert_eq!(crate::commands::verify::failure_of(&passed), None);
    }

    fn mismatched_outcome() -> rythm_backup_core::jobs::verify::VerifyOutcome {
        use rythm_backup_core::catalog::{Mismatch, Verification};
        let mismatches = vec![Mismatch {
            schema: "public".into(),
            table: "orders".into(),
            recorded: Some(20),
            restored: Some(19),
        }];
        rythm_backup_core::jobs::verify::VerifyOutcome {
            name: rythm_backup_core::BackupName::parse("rythm-backup-2026-11-24T02-00-00-000Z.sql")
                .unwrap(),
            ok: false,
            sha256: None,
            checksum_verified: Some(true),
            tables: Vec::new(),
            total_rows: 0,
            scratch_database: "scratch".into(),
            scratch_server: "127.0.0.1:5432".into(),
            duration_ms: 1,
            verification: Verification {
                at: time::OffsetDateTime::UNIX_EPOCH,
                ok: false,
                restore_seconds: 1.0,
                tables: 1,
                rows: 19,
                error: Some("1 table(s) differ from the counts recorded at backup time: public.orders: recorded 20 rows, restored 19 rows".into()),
                mismatches,
                compared: true,
            },
        }
    }
}
