//! Which backups a command works on: a saved profile (`--profile`), a REST API named by the
//! environment (`BACKUP_API_URL`), or the direct engine configured by the seed's
//! environment (`DATABASE_URL`, `AZURE_STORAGE_CONNECTION_STRING`, `BACKUP_DIR`, …).

use rythm_backup_core::api::ApiClient;
use rythm_backup_core::backups::Backups;
use rythm_backup_core::{Engine, EngineConfig, Error};

pub async fn open_backups(profile: Option<&str>) -> Result<Box<dyn Backups>, Error> {
    if let Some(name) = profile {
        return crate::commands::open_profiles()?.open(name).await;
    }
    if let Some(client) = ApiClient::from_env().await? {
        return Ok(Box::new(client));
    }
    Ok(Box::new(Engine::new(EngineConfig::from_env()?)?))
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
