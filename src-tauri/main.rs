//! The desktop app's entry point; the app itself is the library (`lib.rs`).

// No console window beside the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    rythm_backup_admin::run();
}
