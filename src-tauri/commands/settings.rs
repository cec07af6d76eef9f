//! The app's settings, `settings.json` in the app config folder: the theme, the defaults a
//! new profile starts with (retention, format, compression) and the profile last used.

use std::path::PathBuf;

use rythm_backup_core::profile::ProfileSettings;
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use crate::error::{UiError, UiResult};
use crate::json_file;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub theme: Theme,
    /// Retention, format and compression of new profiles.
    pub defaults: ProfileSettings,
    /// The profile shown at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub active_profile: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

/// The settings and what the settings page shows beside them.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub settings: Settings,
    /// The folder of the app's log files.
    pub log_dir: PathBuf,
    /// The profiles file (shared with the `rythm-backup` CLI).
    pub profiles_file: PathBuf,
    pub version: String,
}

pub fn load(state: &AppState) -> UiResult<Settings> {
    json_file::read(&state.paths.settings_file())
}

fn view(state: &AppState, settings: Settings) -> SettingsView {
    SettingsView {
        settings,
        log_dir: state.paths.log_dir.clone(),
        profiles_file: state.profiles.file(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> UiResult<SettingsView> {
    Ok(view(&state, load(&state)?))
}

#[tauri::command]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: Settings,
) -> UiResult<SettingsView> {
    if !(1..=3650).contains(&settings.defaults.retention_days) {
        return Err(UiError::invalid_input(
            "retention must be from 1 to 3650 days",
        ));
    }
    {
        let _files = state.lock_files();
        json_file::write(&state.paths.settings_file(), &settings)?;
    }
    Ok(view(&state, settings))
}
