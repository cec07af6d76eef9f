//! Local copies: the backups this app downloaded, listed in `local-copies.json` in the app
//! data folder, so they can be found again and restored offline; "Show in folder" reveals
//! one in the OS file manager (the opener plugin, used from Rust only).

use std::path::{Path, PathBuf};

use rythm_backup_core::jobs::download::DownloadOutcome;
use rythm_backup_core::ErrorCode;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;
use ts_rs::TS;

use crate::error::{UiError, UiResult};
use crate::json_file;
use crate::state::{now_rfc3339, AppState};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LocalCopy {
    pub path: PathBuf,
    /// The backup's name in its store.
    pub name: String,
    pub size: u64,
    /// Hex sha256 of the file.
    pub sha256: String,
    /// Whether the store's recorded checksum matched; null for legacy backups.
    pub checksum_verified: Option<bool>,
    /// RFC 3339, UTC.
    pub downloaded_at: String,
    /// The profile it was downloaded from.
    pub profile: String,
    /// Whether the file is still there (checked on every listing).
    #[serde(default)]
    pub exists: bool,
}

#[derive(Default, Serialize, Deserialize)]
struct CopiesFile {
    copies: Vec<LocalCopy>,
}

/// Adds a finished download to the list (replacing an older entry for the same file).
pub fn record(state: &AppState, profile: &str, outcome: &DownloadOutcome) -> UiResult<LocalCopy> {
    let copy = LocalCopy {
        path: outcome.path.clone(),
        name: outcome.name.to_string(),
        size: outcome.size,
        sha256: outcome.sha256.clone(),
        checksum_verified: outcome.checksum_verified,
        downloaded_at: now_rfc3339(),
        profile: profile.to_owned(),
        exists: true,
    };
    update(state, |copies| {
        copies.retain(|c| c.path != copy.path);
        copies.insert(0, copy.clone());
    })?;
    Ok(copy)
}

fn update(state: &AppState, change: impl FnOnce(&mut Vec<LocalCopy>)) -> UiResult<()> {
    let path = state.paths.local_copies_file();
    let _files = state.lock_files();
    let mut file: CopiesFile = json_file::read(&path)?;
    change(&mut file.copies);
    json_file::write(&path, &file)
}

/// Every recorded copy, newest first, with whether its file still exists.
#[tauri::command]
pub async fn list_local_copies(state: State<'_, AppState>) -> UiResult<Vec<LocalCopy>> {
    let file: CopiesFile = json_file::read(&state.paths.local_copies_file())?;
    Ok(file
        .copies
        .into_iter()
        .map(|c| LocalCopy {
            exists: c.path.is_file(),
            ..c
        })
        .collect())
}

/// Forgets a copy; the file itself stays. `false` when it was not listed.
#[tauri::command]
pub async fn remove_from_list(state: State<'_, AppState>, path: PathBuf) -> UiResult<bool> {
    let mut removed = false;
    update(&state, |copies| {
        let before = copies.len();
        copies.retain(|c| c.path != path);
        removed = copies.len() != before;
    })?;
    Ok(removed)
}

/// The listed copy at `path` (compared as absolute, resolved paths): the page may only
/// name files this app downloaded.
pub fn listed(state: &AppState, path: &Path) -> UiResult<LocalCopy> {
    let wanted = resolved(path);
    let file: CopiesFile = json_file::read(&state.paths.local_copies_file())?;
    file.copies
        .into_iter()
        .find(|c| resolved(&c.path) == wanted)
        .ok_or_else(|| {
            UiError::new(
                ErrorCode::InvalidInput,
                format!(
                    "{} is not among the local copies this app downloaded",
                    path.display()
                ),
            )
        })
}

fn resolved(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Shows a listed local copy, or the log folder, selected in the OS file manager.
#[tauri::command]
pub async fn show_in_folder(
    app: AppHandle,
    state: State<'_, AppState>,
    path: PathBuf,
) -> UiResult<()> {
    if resolved(&path) != resolved(&state.paths.log_dir) {
        listed(&state, &path)?;
    }
    ensure_exists(&path)?;
    app.opener().reveal_item_in_dir(&path).map_err(|e| {
        UiError::internal(format!("cannot show {} in its folder: {e}", path.display()))
    })
}

fn ensure_exists(path: &Path) -> UiResult<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(UiError::new(
            ErrorCode::NotFound,
            format!("{} no longer exists", path.display()),
        ))
    }
}
