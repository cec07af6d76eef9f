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
pub fn notice<T>(action: Action, result: &Result<T, UiError>) -> Option<(String, String)> {
    let what = match action {
        Action::CreateBackup => "Backup",
        Action::DownloadBackup => "Download",
        Action::RestoreBackup | Action::RestoreLocalCopy => "Restore",
        Action::VerifyBackup => "Verification",
        _ => return None,
    };
    match result {
        Ok(_) => Some((
            format!("{what} finished"),
            "RYTHM Backup Admin: open the window for the details.".to_owned(),
        )),
        Err(e) if e.code == rythm_backup_core::ErrorCode::Cancelled => None,
        Err(e) => Some((format!("{what} failed"), e.message.clone())),
    }
}

/// Shows the notice of a job that ended, if the main window is not focused.
pub fn job_ended<T>(action: Action, result: &Result<T, UiError>) {
    let Some(app) = APP.get() else { return };
    let Some((title, body)) = notice(action, result) else {
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
            notice(Action::VerifyBackup, &ok).unwrap().0,
            "Verification finished"
        );
        assert!(notice(Action::DeleteBackup, &ok).is_none());
        let cancelled: Result<(), UiError> = Err(UiError::new(ErrorCode::Cancelled, "cancelled"));
        assert!(notice(Action::CreateBackup, &cancelled).is_none());
        let failed: Result<(), UiError> =
            Err(UiError::new(ErrorCode::DumpFailed, "pg_dump failed"));
        assert_eq!(
            notice(Action::CreateBackup, &failed),
            Some(("Backup failed".into(), "pg_dump failed".into()))
        );
    }
}
