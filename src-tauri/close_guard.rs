//! Closing the window while a backup, download or restore runs: the window stays open and a
//! native dialog asks first. Quitting cancels the jobs (a cancelled restore rolls back, a
//! cancelled backup leaves nothing listed, a cancelled download keeps its `.part` file).

use tauri::{Manager, Window, WindowEvent};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};

use crate::state::AppState;

/// For `Builder::on_window_event`.
pub fn on_window_event(window: &Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let Some(state) = window.try_state::<AppState>() else {
        return;
    };
    let Some(running) = state.jobs.describe_running() else {
        return;
    };
    api.prevent_close();
    let window = window.clone();
    window
        .dialog()
        .message(format!(
            "{} is running. Quitting cancels it: a restore is rolled back, a backup is not \
             kept, a download can resume later.",
            capitalised(&running)
        ))
        .title("Quit RYTHM Backup Admin?")
        .kind(MessageDialogKind::Warning)
        .buttons(MessageDialogButtons::OkCancelCustom(
            "Cancel it and quit".into(),
            "Keep running".into(),
        ))
        .show(move |quit| {
            if quit {
                if let Some(state) = window.try_state::<AppState>() {
                    state.jobs.cancel_all();
                }
                tracing::info!("quitting with jobs running: they were cancelled");
                let _ = window.destroy();
            }
        });
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
