//! Updates through tauri-plugin-updater: the endpoint and public key are tauri.conf.json's
//! (`plugins.updater`); every download is checked against that key before it is installed.
//! Debug builds take `RYTHM_UPDATER_ENDPOINT` and `RYTHM_UPDATER_PUBKEY` instead, so that a
//! test can serve a manifest signed with a key it generated. While the endpoint is the
//! committed placeholder (`.invalid`), a check says so instead of failing to connect.

use rythm_backup_core::ErrorCode;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};
use tauri_plugin_updater::{Update, Updater, UpdaterExt};
use ts_rs::TS;

use crate::error::{UiError, UiResult};
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInfo {
    pub available: bool,
    pub current_version: String,
    /// The new version, when there is one.
    pub version: Option<String>,
    /// Its release notes.
    pub notes: Option<String>,
    /// RFC 3339, when the manifest gives it.
    pub date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum UpdateEvent {
    /// Bytes of the update downloaded so far.
    Progress { downloaded: u64, total: Option<u64> },
    /// Downloaded and verified; installing.
    Installing,
}

#[tauri::command]
pub async fn check_for_update(app: AppHandle) -> UiResult<UpdateInfo> {
    let update = updater(&app)?.check().await.map_err(update_error)?;
    Ok(info(&app, update.as_ref()))
}

/// Downloads, verifies and installs the update found by a new check. The app runs the old
/// version until `restart_app`.
#[tauri::command]
pub async fn install_update(
    app: AppHandle,
    on_event: Channel<UpdateEvent>,
) -> UiResult<UpdateInfo> {
    no_job_running(&app, "installing an update")?;
    let update = updater(&app)?.check().await.map_err(update_error)?;
    let Some(update) = update else {
        return Err(UiError::new(
            ErrorCode::NotFound,
            "there is no update to install",
        ));
    };
    let mut downloaded = 0u64;
    let progress = on_event.clone();
    update
        .download_and_install(
            |chunk, total| {
                downloaded += chunk as u64;
                let _ = progress.send(UpdateEvent::Progress { downloaded, total });
            },
            || {
                let _ = on_event.send(UpdateEvent::Installing);
            },
        )
        .await
        .map_err(update_error)?;
    tracing::info!(version = %update.version, "update installed");
    Ok(info(&app, Some(&update)))
}

#[tauri::command]
pub fn restart_app(app: AppHandle) -> UiResult<()> {
    no_job_running(&app, "restarting")?;
    app.restart();
}

/// An install may end the process (Windows installers do) and a restart does: neither may
/// cut a backup, download or restore short.
fn no_job_running(app: &AppHandle, what: &str) -> UiResult<()> {
    match app.state::<AppState>().jobs.describe_running() {
        None => Ok(()),
        Some(running) => Err(UiError::new(
            ErrorCode::Busy,
            format!("{running} is running: wait for it to finish, or cancel it, before {what}"),
        )),
    }
}

fn updater(app: &AppHandle) -> UiResult<Updater> {
    #[allow(unused_mut)]
    let mut builder = app.updater_builder();
    #[allow(unused_mut)]
    let mut overridden = false;
    #[cfg(debug_assertions)]
    {
        if let Ok(endpoint) = std::env::var("RYTHM_UPDATER_ENDPOINT") {
            overridden = true;
            let url = endpoint
                .parse()
                .map_err(|e| UiError::invalid_input(format!("RYTHM_UPDATER_ENDPOINT: {e}")))?;
            builder = builder.endpoints(vec![url]).map_err(update_error)?;
        }
        if let Ok(pubkey) = std::env::var("RYTHM_UPDATER_PUBKEY") {
            builder = builder.pubkey(pubkey);
        }
    }
    if !overridden && !has_update_server(&configured_endpoints(app)) {
        return Err(UiError::new(
            ErrorCode::Unsupported,
            "This build has no update server configured. Updates come with your \
             organisation's installer.",
        ));
    }
    builder.build().map_err(update_error)
}

/// `plugins.updater.endpoints` of tauri.conf.json (as built, `--config` overrides included).
fn configured_endpoints(app: &AppHandle) -> Vec<String> {
    app.config()
        .plugins
        .0
        .get("updater")
        .and_then(|updater| updater.get("endpoints"))
        .and_then(|endpoints| endpoints.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether any endpoint is a real address: the committed configuration's placeholder is on
/// `.invalid` (RFC 2606), which never resolves, until a release sets its own server.
fn has_update_server(endpoints: &[String]) -> bool {
    endpoints.iter().any(|endpoint| {
        url::Url::parse(endpoint)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .is_some_and(|host| host != "invalid" && !host.ends_with(".invalid"))
    })
}

fn info(app: &AppHandle, update: Option<&Update>) -> UpdateInfo {
    let date = update.and_then(|u| u.date).and_then(|d| {
        d.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    UpdateInfo {
        available: update.is_some(),
        current_version: app.package_info().version.to_string(),
        version: update.map(|u| u.version.clone()),
        notes: update.and_then(|u| u.body.clone()),
        date,
    }
}

fn update_error(error: tauri_plugin_updater::Error) -> UiError {
    use tauri_plugin_updater::Error as E;
    let code = match &error {
        E::Reqwest(_) | E::Network(_) | E::ReleaseNotFound => ErrorCode::Unreachable,
        E::Minisign(_) | E::Base64(_) | E::SignatureUtf8(_) => ErrorCode::ChecksumMismatch,
        _ => ErrorCode::Internal,
    };
    UiError::new(code, format!("update failed: {error}")).with_detail(format!("{error:?}"))
}

#[cfg(test)]
mod tests {
    use super::has_update_server;

    #[test]
    fn the_invalid_placeholder_is_no_update_server() {
        let placeholder = "https://updates.example.invalid/app/{{target}}/latest.json";
        assert!(!has_update_server(&[placeholder.to_owned()]));
        assert!(!has_update_server(&[]));
        assert!(!has_update_server(&["not a url".to_owned()]));
        assert!(has_update_server(&[
            placeholder.to_owned(),
            "https://updates.rythm.example.com/latest.json".to_owned()
        ]));
    }
}
