//! Secrets: `Sensitive<T>` keeps passwords, keys and tokens out of Debug and Display output,
//! so a stray `{:?}` in a log line or an error cannot leak them; `Keychain` keeps them in the
//! OS keychain. This is the only module that touches the `keyring` crate.
//!
//! Entries are service `rythm-backup`, user `PROFILE:KIND` (e.g. `prod:api-token`). The
//! store: the macOS Keychain, the Windows Credential Manager, and on Linux the Secret Service
//! when a D-Bus session offers one (GNOME Keyring, KWallet), else the kernel keyring (which
//! forgets its keys after a few days without a login, or at reboot). `RYTHM_KEYCHAIN=
//! secret-service|kernel` forces one on Linux. Every keychain call blocks (D-Bus, system
//! calls): async code calls it through `tokio::task::spawn_blocking`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// A value that must never be printed. Read it with `expose()` only where it is used.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The secret itself, for the one place that hands it to a library or a child process.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Sensitive<T> {
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
}

impl SecretKind {
    pub const ALL: [SecretKind; 6] = [
        SecretKind::ApiToken,
        SecretKind::DbPassword,
        SecretKind::AzureConnectionString,
        SecretKind::SmtpPassword,
        SecretKind::AcsConnectionString,
        SecretKind::WebhookSecret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::ApiToken => "api-token",
            SecretKind::DbPassword => "db-password",
            SecretKind::AzureConnectionString => "azure-connection-string",
            SecretKind::SmtpPassword => "smtp-password",
            SecretKind::AcsConnectionString => "acs-connection-string",
            SecretKind::WebhookSecret => "webhook-secret",
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
}

/// Where secrets are kept: the OS keychain, or a map in memory (tests, and front ends that
/// must not touch the user's keychain).
#[derive(Clone)]
pub struct Keychain {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Os,
    Memory(Arc<Mutex<HashMap<String, String>>>),
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Backend::Os => f.write_str("Keychain(os)"),
            Backend::Memory(map) => {
                let n = map.lock().map(|m| m.len()).unwrap_or(0);
                write!(f, "Keychain(in memory, {n} entries)")
            }
        }
    }
}

impl Keychain {
    /// The OS keychain (chosen on first use).
    pub fn os() -> Self {
        Keychain {
            backend: Backend::Os,
        }
    }

    /// A keychain that lives as long as this value and its clones.
    pub fn in_memory() -> Self {
        Keychain {
            backend: Backend::Memory(Arc::default()),
        }
    }

    /// The store in use, e.g. "kernel keyring"; an error when there is none.
    pub fn store_name(&self) -> Result<&'static str, KeychainError> {
        match &self.backend {
            Backend::Os => os::store_name(),
            Backend::Memory(_) => Ok("in memory"),
        }
    }

    /// Stores (or replaces) a profile's secret.
    pub fn store(
        &self,
        profile: &str,
        kind: SecretKind,
        secret: &Sensitive<String>,
    ) -> Result<(), KeychainError> {
        let account = keychain_account(profile, kind);
        match &self.backend {
            Backend::Os => os::store(&account, secret.expose()),
            Backend::Memory(map) => {
                lock(map).insert(account, secret.expose().clone());
                Ok(())
            }
        }
    }

    /// A profile's secret; `None` when none is stored.
    pub fn load(
        &self,
        profile: &str,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>, KeychainError> {
        let account = keychain_account(profile, kind);
        let value = match &self.backend {
            Backend::Os => os::load(&account)?,
            Backend::Memory(map) => lock(map).get(&account).cloned(),
        };
        Ok(value.map(Sensitive::new))
    }

    /// Deletes a profile's secret; `false` when there was none.
    pub fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, KeychainError> {
        let account = keychain_account(profile, kind);
        match &self.backend {
            Backend::Os => os::delete(&account),
            Backend::Memory(map) => Ok(lock(map).remove(&account).is_some()),
        }
    }

    /// Deletes every secret of a profile.
    pub fn delete_all(&self, profile: &str) -> Result<(), KeychainError> {
        for kind in SecretKind::ALL {
            self.delete(profile, kind)?;
        }
        Ok(())
    }
}

fn lock(
    map: &Mutex<HashMap<String, String>>,
) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
    map.lock().unwrap_or_else(|e| e.into_inner())
}

/// The OS keychain through `keyring`.
mod os {
    #[cfg(not(target_os = "linux"))]
    use keyring::Entry;
    use keyring::Error as KeyringError;

    use super::{KeychainError, KEYCHAIN_SERVICE};

    pub(super) fn store(account: &str, secret: &str) -> Result<(), KeychainError> {
        let (entry, store) = entry(account)?;
        entry
            .set_password(secret)
            .map_err(|e| failed(store, "store", account, e))
    }

    pub(super) fn load(account: &str) -> Result<Option<String>, KeychainError> {
        let (entry, store) = entry(account)?;
        match entry.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(failed(store, "read", account, e)),
        }
    }

    pub(super) fn delete(account: &str) -> Result<bool, KeychainError> {
        let (entry, store) = entry(account)?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(KeyringError::NoEntry) => Ok(false),
            Err(e) => Err(failed(store, "delete", account, e)),
        }
    }

    fn failed(
        store: &'static str,
        action: &'static str,
        account: &str,
        e: KeyringError,
    ) -> KeychainError {
        match e {
            KeyringError::NoStorageAccess(inner) => {
                KeychainError::Unavailable(format!("the {store} refused access ({inner})"))
            }
            other => KeychainError::Failed {
                store,
                action,
                entry: format!("{KEYCHAIN_SERVICE}/{account}"),
                message: other.to_string(),
            },
        }
    }

    #[cfg(target_os = "linux")]
    pub(super) use super::linux::{entry, store_name};

    #[cfg(not(target_os = "linux"))]
    pub(super) fn store_name() -> Result<&'static str, KeychainError> {
        use keyring::credential::CredentialPersistence;
        let persistence = keyring::default::default_credential_builder().persistence();
        if matches!(
            persistence,
            CredentialPersistence::EntryOnly | CredentialPersistence::ProcessOnly
        ) {
            return Err(KeychainError::Unavailable(
                "this OS has no keychain that rythm-backup supports".into(),
            ));
        }
        Ok(if cfg!(target_os = "macos") {
            "macOS Keychain"
        } else if cfg!(windows) {
            "Windows Credential Manager"
        } else {
            "Secret Service"
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn entry(account: &str) -> Result<(Entry, &'static str), KeychainError> {
        let store = store_name()?;
        let entry =
            Entry::new(KEYCHAIN_SERVICE, account).map_err(|e| failed(store, "open", account, e))?;
        Ok((entry, store))
    }
}

/// Linux: the Secret Service when a session bus offers it, else the kernel keyring; probed
/// once per process.
#[cfg(target_os = "linux")]
mod linux {
    use std::sync::OnceLock;

    use keyring::keyutils::KeyutilsCredential;
    use keyring::secret_service::SsCredential;
    use keyring::{Entry, Error as KeyringError};

    use super::{KeychainError, KEYCHAIN_SERVICE};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Store {
        SecretService,
        KernelKeyring,
    }

    impl Store {
        fn name(self) -> &'static str {
            match self {
                Store::SecretService => "Secret Service",
                Store::KernelKeyring => "kernel keyring",
            }
        }
    }

    static CHOSEN: OnceLock<Result<Store, String>> = OnceLock::new();

    fn chosen() -> Result<Store, KeychainError> {
        CHOSEN
            .get_or_init(choose)
            .clone()
            .map_err(KeychainError::Unavailable)
    }

    pub(in crate::secrets) fn store_name() -> Result<&'static str, KeychainError> {
        chosen().map(Store::name)
    }

    pub(in crate::secrets) fn entry(account: &str) -> Result<(Entry, &'static str), KeychainError> {
        let store = chosen()?;
        let entry = open(store, account).map_err(|e| KeychainError::Failed {
            store: store.name(),
            action: "open",
            entry: format!("{KEYCHAIN_SERVICE}/{account}"),
            message: e.to_string(),
        })?;
        Ok((entry, store.name()))
    }

    fn open(store: Store, account: &str) -> keyring::Result<Entry> {
        Ok(match store {
            Store::SecretService => Entry::new_with_credential(Box::new(
                SsCredential::new_with_target(None, KEYCHAIN_SERVICE, account)?,
            )),
            Store::KernelKeyring => Entry::new_with_credential(Box::new(
                KeyutilsCredential::new_with_target(None, KEYCHAIN_SERVICE, account)?,
            )),
        })
    }

    fn choose() -> Result<Store, String> {
        match std::env::var("RYTHM_KEYCHAIN")
            .ok()
            .as_deref()
            .map(str::trim)
        {
            Some("secret-service") => return Ok(Store::SecretService),
            Some("kernel") | Some("keyutils") => return Ok(Store::KernelKeyring),
            Some("") | None => {}
            Some(other) => {
                return Err(format!(
                    "RYTHM_KEYCHAIN={other:?} names no store (use secret-service or kernel)"
                ))
            }
        }
        let secret_service = probe_secret_service();
        if secret_service.is_ok() {
            return Ok(Store::SecretService);
        }
        match probe_kernel_keyring() {
            Ok(()) => {
                tracing::debug!(reason = ?secret_service.err(), "using the kernel keyring");
                Ok(Store::KernelKeyring)
            }
            Err(kernel) => Err(format!(
                "the Secret Service {}; the kernel keyring {kernel}",
                secret_service.err().unwrap_or_default()
            )),
        }
    }

    fn session_bus_present() -> bool {
        let address = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").filter(|a| !a.is_empty());
        let runtime_bus = std::env::var_os("XDG_RUNTIME_DIR")
            .map(|dir| std::path::Path::new(&dir).join("bus").exists())
            .unwrap_or(false);
        address.is_some() || runtime_bus
    }

    /// Searching for an entry that does not exist tells whether a Secret Service answers,
    /// without creating anything or prompting to unlock.
    fn probe_secret_service() -> Result<(), String> {
        if !session_bus_present() {
            return Err("is not reachable (no D-Bus session bus)".into());
        }
        let entry =
            open(Store::SecretService, "probe:none").map_err(|e| format!("is not usable ({e})"))?;
        match entry.get_password() {
            Ok(_) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(format!("is not usable ({e})")),
        }
    }

    /// A kernel keyring without a session keyring accepts keys and then cannot find them,
    /// so the probe stores one, reads it back and deletes it.
    fn probe_kernel_keyring() -> Result<(), String> {
        let account = format!("probe:{}", std::process::id());
        let entry =
            open(Store::KernelKeyring, &account).map_err(|e| format!("is not usable ({e})"))?;
        const HINT: &str = "this process has no usable session keyring (log in with a \
                            session, or run under `keyctl session -`)";
        entry
            .set_password("probe")
            .map_err(|e| format!("cannot store a key ({e}): {HINT}"))?;
        let read = entry.get_password();
        let _ = entry.delete_credential();
        match read {
            Ok(value) if value == "probe" => Ok(()),
            Ok(_) => Err("returned another value than it stored".into()),
            Err(e) => Err(format!("did not keep a test key ({e}): {HINT}")),
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
