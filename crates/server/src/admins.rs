//! The admin file: who may log in to the server, as argon2id password hashes in a JSON file
//! (0600, written atomically). `rythm-backup admin add|remove|revoke` edit it. Each admin has
//! a `generation`, a random value replaced whenever the password changes or their tokens are
//! revoked; tokens carry it, so the server (which re-reads the file when it changes, see
//! `live_admins`) refuses a token once its admin is removed or has a new generation.
//!
//! ```no_run
//! use rythm_backup_server::admins::AdminFile;
//! let path = rythm_backup_server::admins::path_from_env();
//! let mut file = AdminFile::load(&path)?;
//! file.add("ops@example.com", "a long passphrase")?; // saved at once
//! # Ok::<(), rythm_backup_server::admins::AdminError>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::atomic_file;
use crate::hash_verifier::HashVerifier;

/// The shortest password `add` accepts.
pub const MIN_PASSWORD_LEN: usize = 8;

const FILE_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{action} the admin file {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("the admin file {path} is not valid: {detail}")]
    Invalid { path: String, detail: String },
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    #[error("the password is too short: at least {MIN_PASSWORD_LEN} characters are required")]
    WeakPassword,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// One admin; the hash is a PHC string (`$argon2id$v=19$m=...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminRecord {
    /// Stable id, the token's `userId`.
    pub id: String,
    pub email: String,
    pub password_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    /// Changes with every new password and every revocation; tokens carry the value they
    /// were issued with. Files written before it existed have none, and neither have the
    /// tokens issued from them: those stay valid until the admin's next change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Contents {
    version: u32,
    admins: Vec<AdminRecord>,
}

/// What `add` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    /// The admin existed; the password was replaced.
    PasswordChanged,
}

/// The admin file, loaded.
#[derive(Debug, Clone)]
pub struct AdminFile {
    path: PathBuf,
    contents: Contents,
}

/// `ADMINS_FILE`, else `admins.json` in the OS config folder (`~/.config/rythm-backup/`).
pub fn path_from_env() -> PathBuf {
    crate::config::admins_file_from_env()
}

impl AdminFile {
    /// Reads the file; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<Self, AdminError> {
        let contents = match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice::<Contents>(&bytes).map_err(|e| AdminError::Invalid {
                    path: path.display().to_string(),
                    detail: e.to_string(),
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Contents {
                version: FILE_VERSION,
                admins: Vec::new(),
            },
            Err(source) => {
                return Err(AdminError::Io {
                    action: "cannot read",
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        Ok(AdminFile {
            path: path.to_path_buf(),
            contents,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn admins(&self) -> &[AdminRecord] {
        &self.contents.admins
    }

    /// The admin with this email (compared case-insensitively).
    pub fn find(&self, email: &str) -> Option<&AdminRecord> {
        let email = normalize_email(email);
        self.contents.admins.iter().find(|a| a.email == email)
    }

    /// Adds an admin, or replaces the password of an existing one, and saves the file.
    pub fn add(&mut self, email: &str, password: &str) -> Result<AddOutcome, AdminError> {
        let email = valid_email(email)?;
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(AdminError::WeakPassword);
        }
        let password_hash = hash_password(password)?;
        let now = OffsetDateTime::now_utc();
        let outcome = match self.contents.admins.iter_mut().find(|a| a.email == email) {
            Some(existing) => {
                existing.password_hash = password_hash;
                existing.updated_at = Some(now);
                existing.generation = Some(new_generation());
                AddOutcome::PasswordChanged
            }
            None => {
                self.contents.admins.push(AdminRecord {
                    id: format!("{:032x}", rand::random::<u128>()),
                    email,
                    password_hash,
                    first_name: None,
                    last_name: None,
                    created_at: Some(now),
                    updated_at: Some(now),
                    generation: Some(new_generation()),
                });
                AddOutcome::Added
            }
        };
        self.save()?;
        Ok(outcome)
    }

    /// Removes an admin and saves the file; false when there was none with that email.
    pub fn remove(&mut self, email: &str) -> Result<bool, AdminError> {
        let email = normalize_email(email);
        let before = self.contents.admins.len();
        self.contents.admins.retain(|a| a.email != email);
        if self.contents.admins.len() == before {
            return Ok(false);
        }
        self.save()?;
        Ok(true)
    }

    /// Ends every token issued to an admin so far (a new generation) and saves the file;
    /// false when there was none with that email. The password stays.
    pub fn revoke(&mut self, email: &str) -> Result<bool, AdminError> {
        let email = normalize_email(email);
        let Some(admin) = self.contents.admins.iter_mut().find(|a| a.email == email) else {
            return Ok(false);
        };
        admin.generation = Some(new_generation());
        admin.updated_at = Some(OffsetDateTime::now_utc());
        self.save()?;
        Ok(true)
    }

    /// The admin with this id (a token's `userId`).
    pub fn by_id(&self, id: &str) -> Option<&AdminRecord> {
        self.contents.admins.iter().find(|a| a.id == id)
    }

    /// The admin whose email and password these are. An unknown email costs the same argon2
    /// verification as a known one (against a dummy hash), so timing does not tell them
    /// apart. Slow on purpose, and 19 MiB each: the server checks through `password_check`
    /// instead, which bounds how many run at once.
    pub fn verify(&self, email: &str, password: &str) -> Option<&AdminRecord> {
        let found = self.find(email);
        let hash: &str = match found {
            Some(admin) => &admin.password_hash,
            None => dummy_hash(),
        };
        let ok = HashVerifier::default().verify(hash, password.as_bytes());
        found.filter(|_| ok)
    }

    /// Writes the file atomically with mode 0600.
    pub fn save(&self) -> Result<(), AdminError> {
        let contents = Contents {
            version: FILE_VERSION,
            admins: self.contents.admins.clone(),
        };
        let json = serde_json::to_vec_pretty(&contents).expect("admin records serialise");
        atomic_file::write(&self.path, &json).map_err(|source| AdminError::Io {
            action: "cannot write",
            path: self.path.display().to_string(),
            source,
        })
    }
}

/// 128 random bits in hex.
fn new_generation() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn valid_email(email: &str) -> Result<String, AdminError> {
    let normalized = normalize_email(email);
    let ok = normalized.len() <= 254
        && normalized
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !normalized
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(normalized)
    } else {
        Err(AdminError::BadEmail(email.chars().take(80).collect()))
    }
}

fn hash_password(password: &str) -> Result<String, AdminError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| AdminError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Hash(e.to_string()))
}

/// A hash of a random password with the same parameters as real ones, verified for unknown
/// emails. Computed once (call `warm_up` at start so the first such login is not slower).
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password(&format!("{:032x}", rand::random::<u128>()))
            .expect("hashing a random password works")
    })
}

/// Computes the dummy hash now rather than at the first login with an unknown email.
pub fn warm_up() {
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_verify_remove_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admins.json");
        let mut file = AdminFile::load(&path).unwrap();
        assert!(file.admins().is_empty());
        assert_eq!(
            file.add(" Ops@Example.com ", "correct horse").unwrap(),
            AddOutcome::Added
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("$argon2id$"), "{text}");
        assert!(!text.contains("correct horse"));

        let file = AdminFile::load(&path).unwrap();
        assert!(file.verify("ops@example.com", "correct horse").is_some());
        assert!(file.verify("OPS@example.com", "correct horse").is_some());
        assert!(file.verify("ops@example.com", "wrong").is_none());
        assert!(file.verify("nobody@example.com", "correct horse").is_none());

        let mut file = AdminFile::load(&path).unwrap();
        let id = file.admins()[0].id.clone();
        let generation = file.admins()[0].generation.clone();
        assert!(generation.as_ref().is_some_and(|g| g.len() == 32));
        assert_eq!(
            file.add("ops@example.com", "another pass").unwrap(),
            AddOutcome::PasswordChanged
        );
        assert_eq!(file.admins()[0].id, id);
        assert_ne!(
            file.admins()[0].generation,
            generation,
            "a new password revokes"
        );
        let generation = file.admins()[0].generation.clone();
        assert!(file.revoke("OPS@example.com").unwrap());
        assert_ne!(file.admins()[0].generation, generation);
        assert!(!file.revoke("nobody@example.com").unwrap());
        let reloaded = AdminFile::load(&path).unwrap();
        assert_eq!(
            reloaded.by_id(&id).unwrap().generation,
            file.admins()[0].generation
        );
        assert!(reloaded.verify("ops@example.com", "another pass").is_some());
        assert!(file.remove("OPS@example.com").unwrap());
        assert!(!file.remove("ops@example.com").unwrap());
        assert!(AdminFile::load(&path).unwrap().admins().is_empty());
    }

    #[test]
    fn files_written_before_generations_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.json");
        let hash = hash_password("an old password").unwrap();
        let old = serde_json::json!({"version": 1, "admins": [{
            "id": "0123", "email": "old@example.com", "passwordHash": hash,
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}]});
        std::fs::write(&path, old.to_string()).unwrap();
        let mut file = AdminFile::load(&path).unwrap();
        assert_eq!(file.by_id("0123").unwrap().generation, None);
        assert!(file.verify("old@example.com", "an old password").is_some());
        assert!(file.revoke("old@example.com").unwrap());
        assert!(AdminFile::load(&path).unwrap().admins()[0]
            .generation
            .is_some());
    }

    #[test]
    fn refuses_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = AdminFile::load(&dir.path().join("a.json")).unwrap();
        assert!(matches!(
            file.add("not-an-email", "long enough"),
            Err(AdminError::BadEmail(_))
        ));
        assert!(matches!(
            file.add("a@b", "short"),
            Err(AdminError::WeakPassword)
        ));
        std::fs::write(dir.path().join("bad.json"), "{not json").unwrap();
        assert!(AdminFile::load(&dir.path().join("bad.json")).is_err());
    }
}
