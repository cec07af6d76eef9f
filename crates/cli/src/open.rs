//! Which backups a command works on: a saved profile (`--profile`), a REST API named by the
//! environment (`BACKUP_API_URL`), or the direct engine configured by the seed's
//! environment (`DATABASE_URL`, `AZURE_STORAGE_CONNECTION_STRING`, `BACKUP_DIR`, …). An API
//! reached over plain http on another computer gets a warning, as in the desktop app.

use rythm_backup_core::api::{is_unencrypted_remote, ApiClient};
use rythm_backup_core::backups::{Backups, Mode};
use rythm_backup_core::{Engine, EngineConfig, Error};

use crate::output;

pub async fn open_backups(profile: Option<&str>, json: bool) -> Result<Box<dyn Backups>, Error> {
    let backups: Box<dyn Backups> = if let Some(name) = profile {
        crate::commands::open_profiles()?.open(name).await?
    } else if let Some(url) = std::env::var("BACKUP_API_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        // Before a sign-in with BACKUP_API_PASSWORD sends it.
        warn_if_unencrypted(&url, json);
        let client = ApiClient::from_env().await?.expect("BACKUP_API_URL is set");
        return Ok(Box::new(client));
    } else {
        Box::new(Engine::new(EngineConfig::from_env()?)?)
    };
    let description = backups.describe();
    if description.mode == Mode::Api {
        warn_if_unencrypted(&description.location, json);
    }
    Ok(backups)
}

/// Warns when `url` would carry the password and the session token unencrypted.
pub fn warn_if_unencrypted(url: &str, json: bool) {
    if is_unencrypted_remote(url) {
        output::warn(
            json,
            &format!(
                "{} uses plain http://: the password and the session token cross the network \
                 unencrypted. Use https:// (http:// is safe only to this computer)",
                url.trim().trim_end_matches('/')
            ),
        );
    }
}

/// The engine behind `backups`, or a clear error naming what needs direct mode.
pub fn direct<'a>(backups: &'a dyn Backups, what: &str) -> Result<&'a Engine, Error> {
    backups.as_engine().ok_or_else(|| {
        Error::Unsupported(format!(
            "{what} works in direct mode only (on the database and storage themselves); \
             this profile uses a backup REST API"
        ))
    })
}
