//! Connection profiles: named ways to reach backups, either through a backup REST API or
//! directly (a PostgreSQL database plus Azure or a local folder), with their settings and
//! their validation. Saving them (`profiles.json` plus the OS keychain) and opening one as a
//! `Box<dyn Backups>` is `store`'s (`Profiles`).

mod store;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::api::ApiClient;
use crate::catalog::{Compression, DumpFormat};
use crate::config::{DEFAULT_CONTAINER, DEFAULT_RETENTION_DAYS};
use crate::error::{Error, ErrorCode, Result};
use crate::pg::DbTarget;
use crate::secrets::Sensitive;

pub use store::Profiles;

/// A named way to reach backups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub name: String,
    pub mode: ProfileMode,
    #[serde(default)]
    pub settings: ProfileSettings,
    /// API mode: the database the server restores into, as it named it when it created a
    /// backup (the RYTHM platform names it nowhere else). Learned, not set by hand; kept
    /// while the profile points at the same server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub server_database: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum ProfileMode {
    /// A backup REST API; the sign-in token is in the keychain.
    Api { base_url: String, email: String },
    /// The database and the store themselves; the password and the Azure connection
    /// string are in the keychain.
    Direct {
        database: DatabaseSettings,
        storage: StorageSettings,
    },
}

/// A PostgreSQL database, without its password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct DatabaseSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    pub database: String,
    pub user: String,
    /// `disable`, `prefer`, `require`, `verify-full`…; the libpq default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sslmode: Option<String>,
}

fn default_port() -> u16 {
    5432
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum StorageSettings {
    /// Azure Blob Storage; the connection string is in the keychain.
    Azure {
        container: String,
        /// The container is shared with the RYTHM platform: backups are written the way its
        /// admin page lists and restores them (plain `.sql`, uncompressed, dropping each
        /// object before creating it), about three times the size of compressed ones.
        #[serde(default, rename = "sharedWithPlatform")]
        shared_with_platform: bool,
    },
    Local {
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub struct ProfileSettings {
    pub retention_days: u32,
    pub format: DumpFormat,
    pub compression: Compression,
}

impl Default for ProfileSettings {
    fn default() -> Self {
        ProfileSettings {
            retention_days: DEFAULT_RETENTION_DAYS,
            format: DumpFormat::Plain,
            compression: Compression::Zstd,
        }
    }
}

impl StorageSettings {
    /// Azure in the default container, not shared with the RYTHM platform.
    pub fn azure_default() -> Self {
        StorageSettings::Azure {
            container: DEFAULT_CONTAINER.into(),
            shared_with_platform: false,
        }
    }

    /// Whether backups go to a container shared with the RYTHM platform.
    pub fn shared_with_platform(&self) -> bool {
        matches!(
            self,
            StorageSettings::Azure {
                shared_with_platform: true,
                ..
            }
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "invalid profile name {0:?}: use 1 to 64 letters, digits, '_' or '-', starting with a \
         letter or digit"
    )]
    InvalidName(String),
    #[error("no profile named {0:?}")]
    NotFound(String),
    #[error("profile {name:?}: {reason}")]
    Invalid { name: String, reason: String },
    #[error("the profiles file {path} is damaged: {reason}")]
    Damaged { path: String, reason: String },
}

impl ProfileError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ProfileError::InvalidName(_) | ProfileError::Invalid { .. } => ErrorCode::InvalidInput,
            ProfileError::NotFound(_) => ErrorCode::NotFound,
            ProfileError::Damaged { .. } => ErrorCode::Config,
        }
    }
}

/// Checks a profile name: `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`.
pub fn validate_profile_name(name: &str) -> Result<(), ProfileError> {
    let mut bytes = name.bytes();
    let first = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    let rest = bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if first && rest && name.len() <= 64 {
        Ok(())
    } else {
        Err(ProfileError::InvalidName(name.chars().take(80).collect()))
    }
}

impl Profile {
    /// Checks the name and the fields a profile cannot work without.
    pub fn validate(&self) -> Result<(), ProfileError> {
        validate_profile_name(&self.name)?;
        let invalid = |reason: &str| ProfileError::Invalid {
            name: self.name.clone(),
            reason: reason.to_owned(),
        };
        match &self.mode {
            ProfileMode::Api { base_url, email } => {
                ApiClient::new(base_url).map_err(|e| invalid(&e.to_string()))?;
                if email.trim().is_empty() {
                    return Err(invalid("an API profile needs the email to sign in with"));
                }
            }
            ProfileMode::Direct { database, storage } => {
                if database.host.trim().is_empty() || database.database.trim().is_empty() {
                    return Err(invalid("the database needs a host and a name"));
                }
                if database.user.trim().is_empty() {
                    return Err(invalid("the database needs a user"));
                }
                match storage {
                    StorageSettings::Azure { container, .. } if container.trim().is_empty() => {
                        return Err(invalid("the Azure storage needs a container"))
                    }
                    StorageSettings::Local { dir } if dir.as_os_str().is_empty() => {
                        return Err(invalid("the local storage needs a folder"))
                    }
                    _ => {}
                }
            }
        }
        if !(1..=3650).contains(&self.settings.retention_days) {
            return Err(invalid("retention must be from 1 to 3650 days"));
        }
        Ok(())
    }
}

impl DatabaseSettings {
    /// The target with `password` (none: the server needs none, or `~/.pgpass` has it).
    pub fn target(&self, password: Option<&Sensitive<String>>) -> Result<DbTarget> {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let credentials = match password {
            Some(p) => format!("{}:{}", enc(&self.user), enc(p.expose())),
            None => enc(&self.user),
        };
        let mut url = format!(
            "postgresql://{credentials}@{host}:{}/{}",
            self.port,
            enc(&self.database)
        );
        if let Some(mode) = self.sslmode.as_deref().filter(|m| !m.is_empty()) {
            url.push_str("?sslmode=");
            url.push_str(&enc(mode));
        }
        DbTarget::parse(&url).map_err(|e| Error::Config(format!("database settings: {e}")))
    }
}
