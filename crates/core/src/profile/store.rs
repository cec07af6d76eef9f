//! The saved profiles: `profiles.json` (written atomically, owner-only, under a lock file so
//! several processes' changes all land), their secrets in the keychain, and `Profiles::open`,
//! which turns a profile into its `Box<dyn Backups>` (an API client or the engine).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{validate_profile_name, Profile, ProfileError, ProfileMode, StorageSettings};
use crate::api::{ApiClient, ApiClientOptions, TokenInfo};
use crate::backups::Backups;
use crate::config::{EngineConfig, StorageConfig};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::secrets::{Keychain, SecretKind, Sensitive};

const FILE_NAME: &str = "profiles.json";
const LOCK_FILE_NAME: &str = "profiles.json.lock";
const FILE_VERSION: u32 = 1;
/// How long a change waits for another program's change of `profiles.json` to finish.
const LOCK_WAIT: Duration = Duration::from_secs(30);

#[derive(Serialize, Deserialize)]
struct ProfilesFile {
    version: u32,
    #[serde(default)]
    profiles: Vec<Profile>,
}

/// The saved profiles: a folder holding `profiles.json`, and a keychain for the secrets.
/// Methods that touch the keychain block; the async ones move that off the runtime.
#[derive(Debug, Clone)]
pub struct Profiles {
    dir: PathBuf,
    keychain: Keychain,
    /// Serialises read-change-write of `profiles.json` within this process, so two changes
    /// at once (two profiles saved from two windows or commands) both land.
    edits: Arc<Mutex<()>>,
}

impl Profiles {
    /// `RYTHM_CONFIG_DIR`, else the OS config directory's `rythm-backup`, with the secret
    /// store `secrets` picks for it (the OS keychain, or the encrypted file).
    pub fn open_default() -> Result<Self> {
        let dir = match std::env::var_os("RYTHM_CONFIG_DIR").filter(|d| !d.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => dirs::config_dir()
                .map(|d| d.join("rythm-backup"))
                .ok_or_else(|| {
                    Error::Config(
                        "no configuration directory is known for this user; set \
                         RYTHM_CONFIG_DIR"
                            .into(),
                    )
                })?,
        };
        // `secrets` decides where the secrets of this folder live (OS keychain or file).
        let keychain = Keychain::for_config_dir(&dir)?;
        Ok(Profiles::new(dir, keychain))
    }

    pub fn new(dir: impl Into<PathBuf>, keychain: Keychain) -> Self {
        Profiles {
            dir: dir.into(),
            keychain,
            edits: Arc::default(),
        }
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    pub fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    /// Every profile, by name.
    pub fn list(&self) -> Result<Vec<Profile>> {
        let path = self.file();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("cannot read", &path, e)),
        };
        let damaged = |reason: String| ProfileError::Damaged {
            path: path.display().to_string(),
            reason,
        };
        let file: ProfilesFile = serde_json::from_str(&text).map_err(|e| damaged(e.to_string()))?;
        if file.version > FILE_VERSION {
            return Err(damaged(format!(
                "it is version {}, newer than this program reads ({FILE_VERSION})",
                file.version
            ))
            .into());
        }
        let mut profiles = file.profiles;
        profiles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(profiles)
    }

    pub fn get(&self, name: &str) -> Result<Profile> {
        validate_profile_name(name)?;
        self.list()?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ProfileError::NotFound(name.to_owned()).into())
    }

    /// Adds a profile or replaces the one with its name. Secrets are set apart, with
    /// `set_secret` or `login`; a replaced profile's secrets that no longer fit it are
    /// deleted (see `stale_secrets`), so a token never travels to another server.
    pub fn save(&self, profile: &Profile) -> Result<()> {
        profile.validate()?;
        let edit = self.edits.lock().unwrap_or_else(|e| e.into_inner());
        let other_processes = self.lock_file()?;
        let mut profiles = self.list()?;
        let old = profiles.iter().find(|p| p.name == profile.name).cloned();
        let mut profile = profile.clone();
        if let Some(old) = old.as_ref().filter(|o| same_server(&o.mode, &profile.mode)) {
            profile.server_database = profile.server_database.or(old.server_database.clone());
        }
        profiles.retain(|p| p.name != profile.name);
        profiles.push(profile.clone());
        self.write(profiles)?;
        drop((edit, other_processes));
        if let Some(old) = old {
            for kind in stale_secrets(&old.mode, &profile.mode) {
                self.keychain.delete(&profile.name, kind)?;
            }
        }
        Ok(())
    }

    /// Remembers the database an API profile's server restores into, as its create answer
    /// named it (`CreateOutcome::database`). Direct profiles and unknown names are left as
    /// they are.
    pub fn remember_server_database(&self, name: &str, database: &str) -> Result<()> {
        validate_profile_name(name)?;
        let database = database.trim();
        // Read, change and write under both locks, like `save`: this runs after every API
        // backup, and must not write back a list that another process has added to meanwhile.
        let _edit = self.edits.lock().unwrap_or_else(|e| e.into_inner());
        let _other_processes = self.lock_file()?;
        let mut profiles = self.list()?;
        let Some(profile) = profiles.iter_mut().find(|p| p.name == name) else {
            return Ok(());
        };
        let is_api = matches!(profile.mode, ProfileMode::Api { .. });
        if !is_api || database.is_empty() || profile.server_database.as_deref() == Some(database) {
            return Ok(());
        }
        profile.server_database = Some(database.to_owned());
        self.write(profiles)
    }

    /// Removes a profile and its keychain entries; `false` when there was none.
    pub fn remove(&self, name: &str) -> Result<bool> {
        validate_profile_name(name)?;
        let edit = self.edits.lock().unwrap_or_else(|e| e.into_inner());
        let other_processes = self.lock_file()?;
        let mut profiles = self.list()?;
        let before = profiles.len();
        profiles.retain(|p| p.name != name);
        let removed = profiles.len() != before;
        if removed {
            self.write(profiles)?;
        }
        drop((edit, other_processes));
        self.keychain.delete_all(name)?;
        Ok(removed)
    }

    /// Stores one of a profile's secrets (the database password, the Azure connection
    /// string) in the keychain.
    pub fn set_secret(
        &self,
        name: &str,
        kind: SecretKind,
        secret: &Sensitive<String>,
    ) -> Result<()> {
        validate_profile_name(name)?;
        Ok(self.keychain.store(name, kind, secret)?)
    }

    /// Whether a secret is stored (without reading it out).
    pub fn has_secret(&self, name: &str, kind: SecretKind) -> Result<bool> {
        validate_profile_name(name)?;
        Ok(self.keychain.contains(name, kind)?)
    }

    /// Signs in to an API profile's server and keeps the token in the keychain.
    pub async fn login(&self, name: &str, password: &Sensitive<String>) -> Result<TokenInfo> {
        let profile = self.get(name)?;
        let ProfileMode::Api { base_url, email } = &profile.mode else {
            return Err(Error::Unsupported(format!(
                "profile {name:?} works directly on the database; only API profiles sign in"
            )));
        };
        let client = ApiClient::with_options(base_url, api_options(&profile))?;
        let info = client.login(email, password).await?;
        let token = client.token().expect("a successful login keeps its token");
        let (keychain, name) = (self.keychain.clone(), name.to_owned());
        blocking(move || keychain.store(&name, SecretKind::ApiToken, &token)).await??;
        Ok(info)
    }

    /// What the stored sign-in of an API profile says (role, email, expiry); `None` when
    /// there is none or it cannot be read.
    pub fn session(&self, name: &str) -> Result<Option<TokenInfo>> {
        validate_profile_name(name)?;
        let token = self.keychain.load(name, SecretKind::ApiToken)?;
        Ok(token.and_then(|t| TokenInfo::decode(t.expose()).ok()))
    }

    /// Forgets an API profile's token.
    pub fn logout(&self, name: &str) -> Result<bool> {
        validate_profile_name(name)?;
        Ok(self.keychain.delete(name, SecretKind::ApiToken)?)
    }

    /// The profile's backups, in its mode. An API profile without a usable sign-in opens,
    /// and its calls answer `AuthRequired`.
    pub async fn open(&self, name: &str) -> Result<Box<dyn Backups>> {
        let profile = self.get(name)?;
        let this = self.clone();
        blocking(move || this.open_blocking(&profile)).await?
    }

    fn open_blocking(&self, profile: &Profile) -> Result<Box<dyn Backups>> {
        let name = &profile.name;
        match &profile.mode {
            ProfileMode::Api { base_url, .. } => {
                let client = ApiClient::with_options(base_url, api_options(profile))?;
                if let Some(token) = self.keychain.load(name, SecretKind::ApiToken)? {
                    // A token that cannot be used leaves the client signed out: its calls
                    // then ask for a new sign-in.
                    if let Err(error) = client.set_token(token) {
                        tracing::warn!(profile = %name, %error, "ignoring the stored sign-in");
                    }
                }
                Ok(Box::new(client))
            }
            ProfileMode::Direct { database, storage } => {
                let password = self.keychain.load(name, SecretKind::DbPassword)?;
                let storage = match storage {
                    StorageSettings::Local { dir } => StorageConfig::Local { dir: dir.clone() },
                    StorageSettings::Azure { container, .. } => StorageConfig::Azure {
                        connection_string: self
                            .keychain
                            .load(name, SecretKind::AzureConnectionString)?
                            .ok_or_else(|| {
                                Error::Config(format!(
                                    "profile {name:?} keeps its backups in Azure, but no \
                                     connection string is stored for it"
                                ))
                            })?,
                        container: container.clone(),
                    },
                };
                // Shared with the RYTHM platform: only what it lists and restores.
                let shared = profile_storage_shared(profile);
                let (format, compression) = if shared {
                    crate::engine::PLATFORM_FORMAT
                } else {
                    (profile.settings.format, profile.settings.compression)
                };
                let config = EngineConfig {
                    database: Some(database.target(password.as_ref())?),
                    storage,
                    retention_days: profile.settings.retention_days,
                    format,
                    compression,
                    created_by: crate::config::os_user(&|k| std::env::var(k).ok()),
                    shared_with_platform: shared,
                    verify_database: crate::config::verify_database_from(&|k| {
                        std::env::var(k).ok().filter(|v| !v.trim().is_empty())
                    })?,
                };
                Ok(Box::new(Engine::new(config)?))
            }
        }
    }

    /// An exclusive lock on `profiles.json.lock` while a change reads and writes the file, so
    /// that changes from several processes at once (the app and CLI commands) all land.
    fn lock_file(&self) -> Result<std::fs::File> {
        let path = self.dir.join(LOCK_FILE_NAME);
        crate::fsmode::lock_exclusive(&path, LOCK_WAIT)
            .map_err(|e| Error::io("cannot lock", &path, e))
    }

    /// Writes the file atomically (owner-only): see `fsmode::write_private_atomic`.
    fn write(&self, mut profiles: Vec<Profile>) -> Result<()> {
        profiles.sort_by(|a, b| a.name.cmp(&b.name));
        let file = ProfilesFile {
            version: FILE_VERSION,
            profiles,
        };
        let mut json = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::Internal(format!("cannot encode the profiles: {e}")))?;
        json.push(b'\n');
        let path = self.file();
        crate::fsmode::write_private_atomic(&path, &json)
            .map_err(|e| Error::io("cannot write", &path, e))
    }
}

/// The secrets of a profile saved as `old` that must not stay when it becomes `new`: a
/// sign-in belongs to one server and account, a database password to one server and user,
/// and a mode or store no longer used needs none of its secrets.
fn stale_secrets(old: &ProfileMode, new: &ProfileMode) -> Vec<SecretKind> {
    use ProfileMode::{Api, Direct};
    match (old, new) {
        (
            Api {
                base_url: old_url,
                email: old_email,
            },
            Api { base_url, email },
        ) => {
            if old_url != base_url || old_email != email {
                vec![SecretKind::ApiToken]
            } else {
                vec![]
            }
        }
        (Api { .. }, Direct { .. }) => vec![SecretKind::ApiToken],
        (Direct { .. }, Api { .. }) => {
            vec![SecretKind::DbPassword, SecretKind::AzureConnectionString]
        }
        (
            Direct {
                database: old_db,
                storage: old_storage,
            },
            Direct { database, storage },
        ) => {
            let mut stale = vec![];
            if (&old_db.host, old_db.port, &old_db.user)
                != (&database.host, database.port, &database.user)
            {
                stale.push(SecretKind::DbPassword);
            }
            if matches!(old_storage, StorageSettings::Azure { .. })
                && !matches!(storage, StorageSettings::Azure { .. })
            {
                stale.push(SecretKind::AzureConnectionString);
            }
            stale
        }
    }
}

/// Whether a profile's container is shared with the RYTHM platform.
fn profile_storage_shared(profile: &Profile) -> bool {
    matches!(&profile.mode, ProfileMode::Direct { storage, .. } if storage.shared_with_platform())
}

/// Whether two modes reach the same backup server (what a learned database belongs to).
fn same_server(old: &ProfileMode, new: &ProfileMode) -> bool {
    matches!(
        (old, new),
        (ProfileMode::Api { base_url: a, .. }, ProfileMode::Api { base_url: b, .. }) if a == b
    )
}

fn api_options(profile: &Profile) -> ApiClientOptions {
    ApiClientOptions {
        retention_days: profile.settings.retention_days,
        known_database: profile.server_database.clone(),
        ..ApiClientOptions::default()
    }
}

/// Runs keychain work off the async runtime.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    Ok(tokio::task::spawn_blocking(work).await?)
}
