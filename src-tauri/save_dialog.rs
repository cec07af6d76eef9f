//! The native save dialog of a download, answered or abandoned: a Cancel of the job while
//! the dialog is still open ends the job at once and closes the dialog (Linux: the GTK file
//! chooser is told "cancel"; where the dialog belongs to another process, as with a desktop
//! portal, or on other systems, it is abandoned: whatever it answers later is ignored).
//!
//! One save dialog is open at a time: a second download (of another profile) waits for the
//! first's answer before its own dialog opens. So the dialog that a Cancel closes, found by
//! its title, is always the cancelled job's own, never another download's.

use std::path::PathBuf;

use rythm_backup_core::{BackupName, Cancel, ErrorCode};
use tauri::WebviewWindow;
use tauri_plugin_dialog::DialogExt;

use crate::error::{UiError, UiResult};

/// Test-only answer to the save dialog (debug builds): downloads go to this folder under the
/// backup's name.
const E2E_SAVE_DIR: &str = "RYTHM_E2E_SAVE_DIR";

/// The dialog's title; also how a Cancel finds it among the app's windows.
const TITLE: &str = "Save backup";

/// Held while a save dialog is open (see the module's comment).
static OPEN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn cancelled() -> UiError {
    UiError::new(ErrorCode::Cancelled, "the download was cancelled")
}

/// Where to save `name`: the save dialog's answer; in debug builds (the end-to-end tests),
/// `RYTHM_E2E_SAVE_DIR/NAME` when that variable is set. A dismissed dialog or a fired
/// `cancel` is a `cancelled` error.
pub async fn ask(window: &WebviewWindow, name: &BackupName, cancel: &Cancel) -> UiResult<PathBuf> {
    if cfg!(debug_assertions) {
        if let Some(dir) = std::env::var_os(E2E_SAVE_DIR).filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir).join(name.as_str()));
        }
    }
    // Another download's dialog is open: wait for its answer (a Cancel meanwhile just ends
    // this job; no dialog of its own was opened yet).
    let _open = tokio::select! {
        open = OPEN.lock() => open,
        _ = cancel.cancelled() => return Err(cancelled()),
    };
    let (sender, chosen) = tokio::sync::oneshot::channel();
    window
        .dialog()
        .file()
        .set_parent(window)
        .set_title(TITLE)
        .set_file_name(name.as_str())
        .save_file(move |path| {
            let _ = sender.send(path);
        });
    let path = tokio::select! {
        chosen = chosen => chosen.ok().flatten(),
        _ = cancel.cancelled() => {
            // Closed before the next dialog may open, so that it is this one that closes.
            close(window).await;
            return Err(cancelled());
        }
    };
    match path.map(|p| p.into_path()) {
        Some(Ok(path)) => Ok(path),
        Some(Err(e)) => Err(UiError::invalid_input(format!("cannot save there: {e}"))),
        None => Err(UiError::new(ErrorCode::Cancelled, "no file was chosen")),
    }
}

/// Closes the app's open save dialog (the only one: see `OPEN`) as if its Cancel button had
/// been pressed; returns once the main thread has done so (or after a second).
#[cfg(target_os = "linux")]
async fn close(window: &WebviewWindow) {
    let (done, closed) = tokio::sync::oneshot::channel();
    let queued = window.run_on_main_thread(move || {
        use gtk::prelude::*;
        for toplevel in gtk::Window::list_toplevels() {
            if let Ok(dialog) = toplevel.downcast::<gtk::FileChooserDialog>() {
                // Shown ones only: a dialog answered before may linger, hidden.
                if dialog.title().as_deref() == Some(TITLE) && dialog.is_visible() {
                    dialog.response(gtk::ResponseType::Cancel);
                }
            }
        }
        let _ = done.send(());
    });
    if let Err(e) = queued {
        tracing::warn!(error = %e, "could not close the save dialog; it is abandoned");
        return;
    }
    if tokio::time::timeout(std::time::Duration::from_secs(1), closed)
        .await
        .is_err()
    {
        tracing::warn!("the save dialog was not closed within a second");
    }
}

/// Elsewhere the dialog cannot be reached: it is abandoned.
#[cfg(not(target_os = "linux"))]
async fn close(_window: &WebviewWindow) {
    tracing::info!("a download was cancelled while its save dialog was open; it is abandoned");
}
