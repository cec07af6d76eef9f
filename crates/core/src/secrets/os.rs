//! The OS keychain through the `keyring` crate: the macOS Keychain, the Windows Credential
//! Manager, and on Linux the Secret Service, or the kernel keyring when `RYTHM_KEYCHAIN=kernel`
//! asks for it (chosen once per process). A store that does not keep secrets until they are
//! deleted is never chosen on its own: the kernel keyring keeps them in kernel memory only,
//! gone at reboot (keyring's `CredentialPersistence::UntilReboot`; a persistent keyring also
//! expires after days), so without the Secret Service the encrypted file is used instead.
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

/// Linux: the Secret Service when a session bus offers it; the kernel keyring only when asked
/// for. Chosen once per process.
#[cfg(target_os = "linux")]
mod linux {
    use std::sync::OnceLock;

    use keyring::credential::CredentialPersistence;
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

    /// The setting that picks the Linux store: `secret-service`, or `kernel` for the kernel
    /// keyring (which forgets everything at reboot); unset, the Secret Service or nothing.
    const KEYCHAIN_VAR: &str = "RYTHM_KEYCHAIN";

    fn choose() -> Result<Store, String> {
        choose_from(
            std::env::var(KEYCHAIN_VAR).ok().as_deref(),
            probe_secret_service,
            probe_kernel_keyring,
        )
    }

    /// Whether the kernel keyring keeps what it is given until it is deleted, as `keyring`
    /// describes it (3.6: no, until reboot).
    fn kernel_keyring_lasts() -> bool {
        matches!(
            keyring::keyutils::default_credential_builder().persistence(),
            CredentialPersistence::UntilDelete
        )
    }

    /// The rule, given the setting and the two probes.
    fn choose_from(
        setting: Option<&str>,
        secret_service: impl FnOnce() -> Result<(), String>,
        kernel: impl FnOnce() -> Result<(), String>,
    ) -> Result<Store, String> {
        match setting.map(str::trim) {
            Some("secret-service") => Ok(Store::SecretService),
            // Asked for by name: used, once it shows that it keeps a key in this session.
            Some("kernel") | Some("keyutils") => kernel()
                .map(|()| Store::KernelKeyring)
                .map_err(|e| format!("the kernel keyring ({KEYCHAIN_VAR}=kernel) {e}")),
            Some("") | None => {
                let secret_service = match secret_service() {
                    Ok(()) => return Ok(Store::SecretService),
                    Err(e) => e,
                };
                if !kernel_keyring_lasts() {
                    return Err(format!(
                        "the Secret Service {secret_service}; the kernel keyring is not used \
                         on its own, because it forgets its secrets at reboot (set \
                         {KEYCHAIN_VAR}=kernel to use it anyway)"
                    ));
                }
                match kernel() {
                    Ok(()) => Ok(Store::KernelKeyring),
                    Err(kernel) => Err(format!(
                        "the Secret Service {secret_service}; the kernel keyring {kernel}"
                    )),
                }
            }
            Some(other) => Err(format!(
                "{KEYCHAIN_VAR}={other:?} names no store (use secret-service or kernel)"
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

    #[cfg(test)]
    mod tests {
        use super::*;

        fn works() -> Result<(), String> {
            Ok(())
        }

        fn absent() -> Result<(), String> {
            Err("is not reachable (no D-Bus session bus)".into())
        }

        #[test]
        fn the_kernel_keyring_is_used_only_when_asked_for() {
            // A headless server: no Secret Service, a kernel keyring that works. Its secrets
            // would vanish at the next reboot, so nothing is chosen (the encrypted file is).
            let refused = choose_from(None, absent, works).unwrap_err();
            assert!(
                refused.contains("forgets its secrets at reboot"),
                "{refused}"
            );
            assert!(refused.contains("RYTHM_KEYCHAIN=kernel"), "{refused}");
            assert!(refused.contains("no D-Bus session bus"), "{refused}");
            assert_eq!(choose_from(Some(""), absent, works).unwrap_err(), refused);
            // Asked for by name, it is used, once its probe passes.
            assert_eq!(
                choose_from(Some("kernel"), absent, works),
                Ok(Store::KernelKeyring)
            );
            let broken = choose_from(Some("kernel"), works, || Err("did not keep a key".into()));
            assert!(broken.unwrap_err().contains("did not keep a key"));
            // The Secret Service keeps secrets on disk: chosen by itself.
            assert_eq!(choose_from(None, works, works), Ok(Store::SecretService));
            assert_eq!(
                choose_from(Some("secret-service"), absent, works),
                Ok(Store::SecretService)
            );
            assert!(choose_from(Some("gnome"), works, works).is_err());
        }
    }
}
