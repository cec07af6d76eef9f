//! The native save dialog of a download, answered or abandoned: a Cancel of the job while
//! the dialog is still open ends the job at once and closes the dialog (Linux: the GTK file
//! chooser is told "cancel"; where the dialog belongs to another process, as with a desktop
//! portal, or on other systems, it is abandoned: whatever it answers later is ignored).

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

/// Where to save `name`: the save dialog's answer; in debug builds (the end-to-end tests),
/// `RYTHM_E2E_SAVE_DIR/NAME` when that variable is set. A dismissed dialog or a fired
/// `cancel` is a `cancelled` error.
pub async fn ask(window: &WebviewWindow, name: &BackupName, cancel: &Cancel) -> UiResult<PathBuf> {
    if cfg!(debug_assertions) {
        if let Some(dir) = std::env::var_os(E2E_SAVE_DIR).filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir).join(name.as_str()));
        }
    }
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
            close(window);
            return Err(UiError::new(ErrorCode::Cancelled, "the download was cancelled"));
        }
    };
    match path.map(|p| p.into_path()) {
        Some(Ok(path)) => Ok(path),
        Some(Err(e)) => Err(UiError::invalid_input(format!("cannot save there: {e}"))),
        None => Err(UiError::new(ErrorCode::Cancelled, "no file was chosen")),
    }
}

/// Closes this app's open save dialogs as if their Cancel button had been pressed.
#[cfg(target_os = "linux")]
fn close(window: &WebviewWindow) {
    let closed = window.run_on_main_thread(|| {
        use gtk::prelude::*;
        for toplevel in gtk::Window::list_toplevels() {
            if let Ok(dialog) = toplevel.downcast::<gtk::FileChooserDialog>() {
                if dialog.title().as_deref() == Some(TITLE) {
                    dialog.response(gtk::ResponseType::Cancel);
                }
            }
        }
    });
    if let Err(e) = closed {
        tracing::warn!(error = %e, "could not close the save dialog; it is abandoned");
    }
}

/// Elsewhere the dialog cannot be reached: it is abandoned.
#[cfg(not(target_os = "linux"))]
fn close(_window: &WebviewWindow) {
    tracing::info!("a download was cancelled while its save dialog was open; it is abandoned");
}
