//! The activity log: one JSON line per operation of this app (time, profile, action, result,
//! message) in `activity.jsonl` in the app data folder, appended to and never rewritten.

use std::io::Write;

use rythm_backup_core::ErrorCode;
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use crate::error::{UiError, UiResult};
use crate::state::{now_rfc3339, Action, AppState};

/// How many entries `list_activity` returns when the front end names no limit.
const DEFAULT_LIMIT: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    /// RFC 3339, UTC.
    pub time: String,
    pub profile: Option<String>,
    pub action: Action,
    pub result: ActivityResult,
    pub message: String,
    /// The error's code, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub code: Option<ErrorCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ActivityResult {
    Ok,
    Failed,
    Cancelled,
}

/// Appends the outcome of `action`; `summary` words a success. A log that cannot be written
/// is reported in the app's log file, never to the operation.
pub fn record<T>(
    state: &AppState,
    profile: Option<&str>,
    action: Action,
    result: &UiResult<T>,
    summary: impl FnOnce(&T) -> String,
) {
    let (outcome, message, code) = match result {
        Ok(value) => (ActivityResult::Ok, summary(value), None),
        Err(e) if e.code == ErrorCode::Cancelled => {
            (ActivityResult::Cancelled, e.message.clone(), Some(e.code))
        }
        Err(e) => (ActivityResult::Failed, e.message.clone(), Some(e.code)),
    };
    let entry = ActivityEntry {
        time: now_rfc3339(),
        profile: profile.map(str::to_owned),
        action,
        result: outcome,
        message,
        code,
    };
    tracing::info!(?action, profile, result = ?outcome, "activity");
    let path = state.paths.activity_file();
    let _files = state.lock_files();
    let written = serde_json::to_string(&entry)
        .map_err(std::io::Error::other)
        .and_then(|mut line| {
            line.push('\n');
            std::fs::create_dir_all(&state.paths.data_dir)?;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            file.write_all(line.as_bytes())
        });
    if let Err(error) = written {
        tracing::warn!(path = %path.display(), %error, "cannot append to the activity log");
    }
}

/// `record`, then the result itself, for commands that end with it.
pub fn logged<T>(
    state: &AppState,
    profile: &str,
    action: Action,
    result: UiResult<T>,
    summary: impl FnOnce(&T) -> String,
) -> UiResult<T> {
    record(state, Some(profile), action, &result, summary);
    result
}

/// The newest `limit` entries (500 when absent), newest first.
#[tauri::command]
pub async fn list_activity(
    state: State<'_, AppState>,
    limit: Option<u32>,
) -> UiResult<Vec<ActivityEntry>> {
    let path = state.paths.activity_file();
    let text = match tokio::fs::read_to_string(&path).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(UiError::io("read", &path, e)),
    };
    let limit = limit.map_or(DEFAULT_LIMIT, |l| l as usize);
    Ok(text
        .lines()
        .rev()
        // A line cut short by a crash is skipped, not fatal.
        .filter_map(|line| serde_json::from_str(line).ok())
        .take(limit)
        .collect())
}
