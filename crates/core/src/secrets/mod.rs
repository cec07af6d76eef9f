//! Secrets: passwords, keys and tokens. `Sensitive<T>` keeps them out of Debug and Display
//! output, so a stray `{:?}` in a log line or an error cannot leak them, and wipes its value
//! when dropped; `Keychain` keeps them at rest. This is the only module that knows where
//! secrets live:
//!
//! - `os`: the OS keychain (macOS Keychain, Windows Credential Manager, the Secret Service,
//!   or on request the Linux kernel keyring), the only file that touches the `keyring` crate;
//! - `vault`: the encrypted file `secrets.vault` in the config folder, the fallback when no
//!   OS keychain is reachable, unlocked by a master password (`master` says where it comes
//!   from; `sealed` is its format and cryptography);
//! - `store`: which of the two a process uses, and why (`SecretStoreInfo`);
//! - `migrate`: moving the file's secrets into the OS keychain.
//!
//! Entries are named `PROFILE:KIND` (e.g. `prod:api-token`; service `rythm-backup` in the OS
//! keychain). Every call may block (D-Bus, system calls, argon2id): async code calls it
//! through `tokio::task::spawn_blocking`.

mod master;
mod migrate;
mod os;
mod sealed;
mod store;
mod vault;

use std::fmt;

use zeroize::Zeroize;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

pub use master::{
    from_env_file as master_password_from_env, MasterPasswordPrompt, MasterPasswordRequest,
    MASTER_PASSWORD_FILE_VAR,
};
pub use migrate::MoveOutcome;
pub use sealed::MIN_MASTER_PASSWORD_CHARS;
pub use store::{Keychain, SecretStoreInfo, SecretStoreKind, SECRET_STORE_VAR, VAULT_FILE_NAME};

/// A value that must never be printed. Read it with `expose()` only where it is used.
///
/// Its memory is overwritten with zeros when it is dropped. That narrows, not closes, the
/// time a secret sits in memory: copies that libraries make of what `expose()` hands them
/// (the keychain's, HTTP headers, a child's environment, the IPC message a desktop command
/// arrived in) are theirs, and are not wiped.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sensitive<T: Zeroize>(T);

impl<T: Zeroize> Drop for Sensitive<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The secret itself, for the one place that hands it to a library or a child process.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl<T: Zeroize> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Zeroize> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The keychain's service name for every entry.
pub const KEYCHAIN_SERVICE: &str = "rythm-backup";

/// Which secret of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretKind {
    /// API mode: the sign-in token.
    ApiToken,
    /// Direct mode: the database password.
    DbPassword,
    /// Direct mode: the Azure Storage connection string (it holds the account key).
    AzureConnectionString,
    /// Notifications: the SMTP password.
    SmtpPassword,
    /// Notifications: the Azure Communication Services connection string.
    AcsConnectionString,
    /// Notifications: the key that signs webhook bodies.
    WebhookSecret,
    /// Notifications: the webhook's URL (Slack's and Teams' carry their key in the path).
    WebhookUrl,
}

impl SecretKind {
    pub const ALL: [SecretKind; 7] = [
        SecretKind::ApiToken,
        SecretKind::DbPassword,
        SecretKind::AzureConnectionString,
        SecretKind::SmtpPassword,
        SecretKind::AcsConnectionString,
        SecretKind::WebhookSecret,
        SecretKind::WebhookUrl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::ApiToken => "api-token",
            SecretKind::DbPassword => "db-password",
            SecretKind::AzureConnectionString => "azure-connection-string",
            SecretKind::SmtpPassword => "smtp-password",
            SecretKind::AcsConnectionString => "acs-connection-string",
            SecretKind::WebhookSecret => "webhook-secret",
            SecretKind::WebhookUrl => "webhook-url",
        }
    }
}

/// The keychain's user name of a profile's secret.
pub fn keychain_account(profile: &str, kind: SecretKind) -> String {
    format!("{profile}:{}", kind.as_str())
}

#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error("no OS keychain is available: {0}")]
    Unavailable(String),
    #[error("the OS keychain ({store}) could not {action} {entry}: {message}")]
    Failed {
        store: &'static str,
        action: &'static str,
        entry: String,
        message: String,
    },
    /// The encrypted file needs its master password and nobody could be asked.
    #[error(
        "{} {file}: {hint}",
        if *creating {
            "no OS keychain is available, so secrets go to an encrypted file that needs a new \
             master password first,"
        } else {
            "the secrets are locked in the encrypted file"
        }
    )]
    Locked {
        file: String,
        creating: bool,
        hint: String,
    },
    /// The master password does not open the file (or the file was tampered with: the two
    /// cannot be told apart, on purpose).
    #[error("the master password does not open the encrypted secrets file {file}")]
    WrongMasterPassword { file: String },
    /// The encrypted file this process was using is gone: another program moved the secrets
    /// (to the OS keychain, most likely). Nothing is written in its place.
    #[error(
        "the encrypted secrets file {file} was removed by another program (were the secrets \
         moved to the OS keychain?); nothing was saved in its place: start this program again \
         to use the store that holds them now"
    )]
    Removed { file: String },
    #[error(
        "a master password needs at least {} characters",
        sealed::MIN_MASTER_PASSWORD_CHARS
    )]
    WeakMasterPassword,
    #[error("the master password file {file} (RYTHM_MASTER_PASSWORD_FILE): {reason}")]
    MasterPasswordFile { file: String, reason: String },
    /// The encrypted file could not be read, written or understood.
    #[error("the encrypted secrets file {file}: {reason}")]
    Vault { file: String, reason: String },
    /// A move to the OS keychain stopped; the message says what was kept and undone.
    #[error("the secrets were not moved to the OS keychain: {0}")]
    MoveFailed(String),
    /// A request that does not fit the store in use (e.g. a master password for the OS
    /// keychain).
    #[error("{0}")]
    NotApplicable(String),
}

impl KeychainError {
    pub fn code(&self) -> ErrorCode {
        match self {
            KeychainError::Unavailable(_)
            | KeychainError::Failed { .. }
            | KeychainError::MoveFailed(_) => ErrorCode::KeychainUnavailable,
            KeychainError::Locked { .. } | KeychainError::WrongMasterPassword { .. } => {
                ErrorCode::SecretsLocked
            }
            KeychainError::WeakMasterPassword | KeychainError::NotApplicable(_) => {
                ErrorCode::InvalidInput
            }
            KeychainError::MasterPasswordFile { .. }
            | KeychainError::Vault { .. }
            | KeychainError::Removed { .. } => ErrorCode::Config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_secret() {
        let s = Sensitive::new("hunter2".to_string());
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn a_dropped_secret_is_wiped() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        // A value that records being wiped (a String's bytes are zeroed by `zeroize` itself).
        struct Probe(Arc<AtomicBool>);
        impl Zeroize for Probe {
            fn zeroize(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let wiped = Arc::new(AtomicBool::new(false));
        let secret = Sensitive::new(Probe(wiped.clone()));
        assert!(!wiped.load(Ordering::SeqCst));
        drop(secret);
        assert!(
            wiped.load(Ordering::SeqCst),
            "dropping a Sensitive wipes its value"
        );
    }

    #[test]
    fn accounts_name_the_profile_and_the_kind() {
        assert_eq!(
            keychain_account("prod", SecretKind::ApiToken),
            "prod:api-token"
        );
        assert_eq!(
            keychain_account("p", SecretKind::AzureConnectionString),
            "p:azure-connection-string"
        );
    }

    #[test]
    fn memory_keychain_round_trip_without_printing_values() {
        let keychain = Keychain::in_memory();
        let secret = Sensitive::new("s3cret-token".to_string());
        assert_eq!(keychain.load("a", SecretKind::ApiToken).unwrap(), None);
        keychain.store("a", SecretKind::ApiToken, &secret).unwrap();
        keychain
            .store("a", SecretKind::DbPassword, &secret)
            .unwrap();
        let clone = keychain.clone();
        assert_eq!(clone.load("a", SecretKind::ApiToken).unwrap(), Some(secret));
        assert!(!format!("{keychain:?}").contains("s3cret"));
        assert!(keychain.delete("a", SecretKind::ApiToken).unwrap());
        assert!(!keychain.delete("a", SecretKind::ApiToken).unwrap());
        keychain.delete_all("a").unwrap();
        assert_eq!(keychain.load("a", SecretKind::DbPassword).unwrap(), None);
    }

    #[test]
    fn unavailable_says_so() {
        let e = KeychainError::Unavailable("no D-Bus".into());
        assert_eq!(e.to_string(), "no OS keychain is available: no D-Bus");
    }
}
