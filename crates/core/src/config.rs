//! Engine configuration from the seed's environment: `DATABASE_URL`,
//! `AZURE_STORAGE_CONNECTION_STRING`, `AZURE_BACKUP_CONTAINER`, or `BACKUP_DIR` for a local
//! folder, plus `RETENTION_DAYS`, `BACKUP_FORMAT`, `BACKUP_COMPRESSION` and
//! `BACKUP_SHARED_WITH_PLATFORM` (the container is shared with the RYTHM platform).

use std::path::PathBuf;

use crate::catalog::{Compression, DumpFormat};
use crate::error::{Error, Result};
use crate::pg::DbTarget;
use crate::secrets::Sensitive;

pub const DEFAULT_CONTAINER: &str = "database-backups";
pub const DEFAULT_RETENTION_DAYS: u32 = 10;

/// Where backups are kept.
#[derive(Debug, Clone)]
pub enum StorageConfig {
    Azure {
        connection_string: Sensitive<String>,
        container: String,
    },
    Local {
        dir: PathBuf,
    },
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub database: Option<DbTarget>,
    pub storage: StorageConfig,
    pub retention_days: u32,
    pub format: DumpFormat,
    pub compression: Compression,
    /// Recorded as `created_by` in each backup's metadata.
    pub created_by: Option<String>,
    /// The container is shared with the RYTHM platform: backups are written so that it
    /// lists and restores them (plain `.sql`, uncompressed, `--clean --if-exists`).
    pub shared_with_platform: bool,
    /// Where restore rehearsals run (`VERIFY_DATABASE_URL`, a scratch server); `None`: a
    /// temporary database on the backed-up server.
    pub verify_database: Option<DbTarget>,
}

impl EngineConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads configuration through `lookup` (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let database = lookup("DATABASE_URL")
            .map(|url| {
                DbTarget::parse(&url).map_err(|e| Error::Config(format!("DATABASE_URL: {e}")))
            })
            .transpose()?;
        let storage = match lookup("AZURE_STORAGE_CONNECTION_STRING") {
            Some(conn) => StorageConfig::Azure {
                connection_string: Sensitive::new(conn),
                container: lookup("AZURE_BACKUP_CONTAINER")
                    .unwrap_or_else(|| DEFAULT_CONTAINER.into()),
            },
            None => StorageConfig::Local {
                dir: lookup("BACKUP_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(default_backup_dir),
            },
        };
        let retention_days = match lookup("RETENTION_DAYS") {
            None => DEFAULT_RETENTION_DAYS,
            Some(v) => v
                .trim()
                .parse()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| {
                    Error::Config(format!(
                        "RETENTION_DAYS must be a number of days from 1 to 3650, not {v:?}"
                    ))
                })?,
        };
        let shared_with_platform = match lookup("BACKUP_SHARED_WITH_PLATFORM") {
            None => false,
            Some(v) => parse_flag(&v).ok_or_else(|| {
                Error::Config(format!(
                    "BACKUP_SHARED_WITH_PLATFORM must be true or false, not {v:?}"
                ))
            })?,
        };
        if shared_with_platform && !matches!(storage, StorageConfig::Azure { .. }) {
            return Err(Error::Config(
                "BACKUP_SHARED_WITH_PLATFORM needs the platform's Azure container: set \
                 AZURE_STORAGE_CONNECTION_STRING (and AZURE_BACKUP_CONTAINER)"
                    .into(),
            ));
        }
        // Shared with the platform, the default is what it lists: plain and uncompressed.
        let (default_format, default_compression) = if shared_with_platform {
            crate::engine::PLATFORM_FORMAT
        } else {
            (DumpFormat::Plain, Compression::Zstd)
        };
        let format = match lookup("BACKUP_FORMAT") {
            None => default_format,
            Some(v) => v
                .parse()
                .map_err(|e| Error::Config(format!("BACKUP_FORMAT: {e}")))?,
        };
        let compression = match lookup("BACKUP_COMPRESSION") {
            None => default_compression,
            Some(v) => v
                .parse()
                .map_err(|e| Error::Config(format!("BACKUP_COMPRESSION: {e}")))?,
        };
        if shared_with_platform && (format, compression) != crate::engine::PLATFORM_FORMAT {
            return Err(Error::Config(
                "BACKUP_SHARED_WITH_PLATFORM: the RYTHM platform lists and restores only plain, \
                 uncompressed .sql backups; leave BACKUP_FORMAT and BACKUP_COMPRESSION unset"
                    .into(),
            ));
        }
        let created_by = os_user(&lookup);
        Ok(EngineConfig {
            database,
            storage,
            retention_days,
            format,
            compression,
            created_by,
            shared_with_platform,
            verify_database: verify_database_from(&lookup)?,
        })
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`), any case.
fn parse_flag(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// `VERIFY_DATABASE_URL`: a server for restore rehearsals (its database is the one to
/// connect to for creating and dropping scratch databases).
pub fn verify_database_from(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<DbTarget>> {
    lookup("VERIFY_DATABASE_URL")
        .map(|url| {
            DbTarget::parse(&url).map_err(|e| Error::Config(format!("VERIFY_DATABASE_URL: {e}")))
        })
        .transpose()
}

/// The embedded default folder: the OS data directory, else `./backups`.
pub fn default_backup_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("rythm-backup").join("backups"))
        .unwrap_or_else(|| PathBuf::from("backups"))
}

/// Who runs this process, for a backup's `created_by`: `USER` (Unix) or `USERNAME`
/// (Windows), else the OS account's name.
pub(crate) fn os_user(lookup: &impl Fn(&str) -> Option<String>) -> Option<String> {
    lookup("USER")
        .or_else(|| lookup("USERNAME"))
        .or_else(|| whoami::username().ok())
        .filter(|name| !name.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<EngineConfig> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EngineConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn azure_wins_over_local_and_defaults_apply() {
        let c = config(&[(
            "AZURE_STORAGE_CONNECTION_STRING",
            "UseDevelopmentStorage=true",
        )])
        .unwrap();
        assert!(
            matches!(c.storage, StorageConfig::Azure { ref container, .. } if container == "database-backups")
        );
        assert_eq!(c.retention_days, 10);
        assert_eq!(c.compression, Compression::Zstd);
        let c = config(&[("BACKUP_DIR", "/tmp/x")]).unwrap();
        assert!(
            matches!(c.storage, StorageConfig::Local { ref dir } if dir == &PathBuf::from("/tmp/x"))
        );
    }

    #[test]
    fn bad_values_are_clear_errors_without_secrets() {
        assert!(config(&[("RETENTION_DAYS", "0")]).is_err());
        assert!(config(&[("BACKUP_FORMAT", "tar")]).is_err());
        let err = config(&[("DATABASE_URL", "mysql://u:supersecret@h/db")])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("supersecret"), "{err}");
    }

    #[test]
    fn a_container_shared_with_the_platform_gets_plain_uncompressed_backups() {
        let azure = (
            "AZURE_STORAGE_CONNECTION_STRING",
            "UseDevelopmentStorage=true",
        );
        let c = config(&[azure, ("BACKUP_SHARED_WITH_PLATFORM", "true")]).unwrap();
        assert!(c.shared_with_platform);
        assert_eq!(
            (c.format, c.compression),
            (DumpFormat::Plain, Compression::None)
        );
        assert!(!config(&[azure]).unwrap().shared_with_platform);
        for bad in [
            vec![("BACKUP_SHARED_WITH_PLATFORM", "true")],
            vec![azure, ("BACKUP_SHARED_WITH_PLATFORM", "maybe")],
            vec![
                azure,
                ("BACKUP_SHARED_WITH_PLATFORM", "yes"),
                ("BACKUP_COMPRESSION", "zstd"),
            ],
            vec![
                azure,
                ("BACKUP_SHARED_WITH_PLATFORM", "1"),
                ("BACKUP_FORMAT", "custom"),
            ],
        ] {
            let error = config(&bad).unwrap_err();
            assert_eq!(error.code(), crate::ErrorCode::Config, "{bad:?}");
            assert!(
                error.to_string().contains("BACKUP_SHARED_WITH_PLATFORM"),
                "{error}"
            );
        }
    }

    #[test]
    fn created_by_is_the_os_user_even_without_user_variables() {
        assert_eq!(
            config(&[("USER", "ada")]).unwrap().created_by.as_deref(),
            Some("ada")
        );
        assert_eq!(
            config(&[("USERNAME", "grace")])
                .unwrap()
                .created_by
                .as_deref(),
            Some("grace")
        );
        // Neither variable (a service, `env -i`): the account's name from the OS.
        let fallback = config(&[]).unwrap().created_by;
        assert!(
            fallback.as_deref().is_some_and(|n| !n.trim().is_empty()),
            "{fallback:?}"
        );
    }
}
