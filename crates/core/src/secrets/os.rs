//! The OS keychain through the `keyring` crate: the macOS Keychain, the Windows Credential
//! Manager, and on Linux the Secret Service or the kernel keyring (probed once per process).
//! The only file that touches `keyring`.

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
pub(super) use linux::{entry, store_name};

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

/// Linux: the Secret Service when a session bus offers it, else the kernel keyring; probed
/// once per process.
#[cfg(target_os = "linux")]
mod linux {
    use std::sync::OnceLock;

    use keyring::keyutils::KeyutilsCredential;
    use keyring::secret_service::SsCredential;
    use keyring::{Entry, Error as KeyringError};

    use crate::secrets::{KeychainError, KEYCHAIN_SERVICE};

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
