//! `Keychain`: the one handle through which everything stores, reads and deletes secrets,
//! and the rule that picks where they live for a config folder:
//!
//! 1. `RYTHM_SECRET_STORE=keychain` or `=file` forces the OS keychain or the encrypted file.
//! 2. Otherwise, when the encrypted file `secrets.vault` exists, it is the store: it holds
//!    the secrets in use, and stays the store until they are moved to the OS keychain (one
//!    action: `move_to_os_keychain`). Entries already in the OS keychain stay there,
//!    untouched and unused, until then; a move overwrites those of the same name.
//! 3. Otherwise the OS keychain, when the probe at start finds one that works and keeps what
//!    it is given (on Linux the Secret Service; the kernel keyring only when `RYTHM_KEYCHAIN=
//!    kernel` asks for it, because it forgets everything at reboot: see `os`).
//! 4. Otherwise the encrypted file, created with a new master password when the first secret
//!    is saved. Never plain text.
//!
//! A handle that chose the file because it exists treats the file's disappearance as a move
//! by another program (`KeychainError::Removed`), never as "nothing stored".

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;

use super::master::{self, MasterPasswordPrompt, MasterPasswordRequest};
use super::migrate::{self, MoveOutcome, Written};
use super::os;
use super::vault::{MasterAnswer, Vault};
use super::{keychain_account, KeychainError, SecretKind, Sensitive};

/// The environment variable that forces a store: `keychain`, `file` or `auto` (default).
pub const SECRET_STORE_VAR: &str = "RYTHM_SECRET_STORE";

/// The encrypted file's name in the config folder.
pub const VAULT_FILE_NAME: &str = "secrets.vault";

/// Where secrets are kept: the OS keychain, the encrypted file, or a map in memory (tests).
/// Clones share everything: the store, the key of an unlocked file, the prompt.
#[derive(Clone)]
pub struct Keychain {
    inner: Arc<Inner>,
}

struct Inner {
    backend: RwLock<Backend>,
    prompt: RwLock<Option<Arc<dyn MasterPasswordPrompt>>>,
}

#[derive(Clone)]
enum Backend {
    Os { why: OsWhy },
    File { vault: Arc<Vault>, why: FileWhy },
    Memory(Arc<Mutex<HashMap<String, String>>>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OsWhy {
    Probed,
    Forced,
}

#[derive(Clone, PartialEq, Eq)]
enum FileWhy {
    /// No OS keychain works; the probe's answer.
    NoKeychain(String),
    /// The file exists and holds the secrets in use.
    Existing,
    /// `RYTHM_SECRET_STORE=file`.
    Forced,
    /// The program asked for this file itself (`Keychain::encrypted_file`).
    Chosen,
}

/// Which kind of store holds the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum SecretStoreKind {
    OsKeychain,
    EncryptedFile,
    InMemory,
}

/// The store in use, in words for people, and what can be done with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SecretStoreInfo {
    pub kind: SecretStoreKind,
    /// "kernel keyring", "Secret Service", "macOS Keychain", "encrypted file"…
    pub name: String,
    /// One or two sentences: where the secrets are kept, and why when it is not the OS
    /// keychain.
    pub summary: String,
    /// Why the encrypted file is used rather than the OS keychain.
    pub reason: Option<String>,
    /// The encrypted file (whether or not it is the store in use).
    pub file: Option<PathBuf>,
    pub file_exists: bool,
    /// The encrypted file this process used is gone: another program moved the secrets
    /// away. Nothing is saved until the program starts again (no new file is made).
    pub file_removed: bool,
    /// The encrypted file's master password was given in this process and still opens it
    /// (not after another program changed it); always true for the OS keychain.
    pub unlocked: bool,
    /// How many secrets the encrypted file holds.
    pub file_entries: u32,
    /// The OS keychain this process reaches now, if any.
    pub os_keychain: Option<String>,
    /// Why no OS keychain is reachable.
    pub os_keychain_problem: Option<String>,
    /// Whether the secrets can be moved to the OS keychain now, and if not, why.
    pub can_move: bool,
    pub move_blocker: Option<String>,
}

impl std::fmt::Debug for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.backend() {
            Backend::Os { .. } => f.write_str("Keychain(os)"),
            Backend::File { vault, .. } => write!(f, "Keychain(file {})", vault.path().display()),
            Backend::Memory(map) => {
                let n = map.lock().map(|m| m.len()).unwrap_or(0);
                write!(f, "Keychain(in memory, {n} entries)")
            }
        }
    }
}

impl Keychain {
    fn with(backend: Backend) -> Self {
        Keychain {
            inner: Arc::new(Inner {
                backend: RwLock::new(backend),
                prompt: RwLock::new(None),
            }),
        }
    }

    /// The store for the config folder `dir`, by the rule in this module's comment. The OS
    /// keychain is probed here (once per process).
    pub fn for_config_dir(dir: &Path) -> Result<Self, KeychainError> {
        let path = dir.join(VAULT_FILE_NAME);
        // A file that exists now holds the secrets in use: should it vanish later, another
        // program moved them, and this handle must not start a new one (`Vault::new`).
        let file = |why| Backend::File {
            vault: Arc::new(Vault::new(path.clone())),
            why,
        };
        let forced = std::env::var(SECRET_STORE_VAR).unwrap_or_default();
        let backend = match forced.trim() {
            "file" => file(FileWhy::Forced),
            "keychain" => Backend::Os { why: OsWhy::Forced },
            "" | "auto" => match (path.exists(), os::store_name()) {
                (_, Err(e)) => file(FileWhy::NoKeychain(problem(&e))),
                (true, Ok(_)) => file(FileWhy::Existing),
                (false, Ok(_)) => Backend::Os { why: OsWhy::Probed },
            },
            other => {
                return Err(KeychainError::NotApplicable(format!(
                    "{SECRET_STORE_VAR}={other:?} names no secret store: use auto, keychain or \
                     file"
                )))
            }
        };
        Ok(Self::with(backend))
    }

    /// The OS keychain, whatever else exists.
    pub fn os() -> Self {
        Self::with(Backend::Os { why: OsWhy::Forced })
    }

    /// The encrypted file at `path`, whatever else exists.
    pub fn encrypted_file(path: impl Into<PathBuf>) -> Self {
        Self::with(Backend::File {
            vault: Arc::new(Vault::new(path.into())),
            why: FileWhy::Chosen,
        })
    }

    /// A keychain that lives as long as this value and its clones.
    pub fn in_memory() -> Self {
        Self::with(Backend::Memory(Arc::default()))
    }

    /// How this process asks a person for the master password when the file needs it (after
    /// `RYTHM_MASTER_PASSWORD_FILE`, which always comes first).
    pub fn set_prompt(&self, prompt: Arc<dyn MasterPasswordPrompt>) {
        *self.inner.prompt.write().unwrap_or_else(|e| e.into_inner()) = Some(prompt);
    }

    fn backend(&self) -> Backend {
        self.inner
            .backend
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn ask<'a>(&'a self, vault: &'a Vault) -> impl Fn(bool) -> MasterAnswer + 'a {
        move |creating| {
            let file = vault.path();
            let request = if creating {
                MasterPasswordRequest::Create { file }
            } else {
                MasterPasswordRequest::Unlock { file }
            };
            let prompt = self
                .inner
                .prompt
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            master::answer(prompt.as_deref(), request)
        }
    }

    /// The store in use, e.g. "kernel keyring"; an error when it is the OS keychain and
    /// there is none.
    pub fn store_name(&self) -> Result<&'static str, KeychainError> {
        match self.backend() {
            Backend::Os { .. } => os::store_name(),
            Backend::File { .. } => Ok("encrypted file"),
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
        match self.backend() {
            Backend::Os { .. } => os::store(&account, secret.expose()),
            Backend::File { vault, .. } => vault.update(&self.ask(&vault), |entries| {
                let old = entries.insert(account, secret.expose().clone());
                ((), old.as_ref() != Some(secret.expose()))
            }),
            Backend::Memory(map) => {
                lock(&map).insert(account, secret.expose().clone());
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
        let value = match self.backend() {
            Backend::Os { .. } => os::load(&account)?,
            Backend::File { vault, .. } => {
                if !vault.entry_names()?.contains(&account) {
                    return Ok(None);
                }
                vault.read_all(&self.ask(&vault))?.remove(&account)
            }
            Backend::Memory(map) => lock(&map).get(&account).cloned(),
        };
        Ok(value.map(Sensitive::new))
    }

    /// Whether a secret is stored, without reading it (the encrypted file answers from its
    /// header, without the master password).
    pub fn contains(&self, profile: &str, kind: SecretKind) -> Result<bool, KeychainError> {
        let account = keychain_account(profile, kind);
        match self.backend() {
            Backend::File { vault, .. } => Ok(vault.entry_names()?.contains(&account)),
            _ => Ok(self.load(profile, kind)?.is_some()),
        }
    }

    /// Deletes a profile's secret; `false` when there was none.
    pub fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, KeychainError> {
        self.delete_accounts(vec![keychain_account(profile, kind)])
            .map(|n| n > 0)
    }

    /// Deletes every secret of a profile.
    pub fn delete_all(&self, profile: &str) -> Result<(), KeychainError> {
        let accounts = SecretKind::ALL
            .iter()
            .map(|kind| keychain_account(profile, *kind))
            .collect();
        self.delete_accounts(accounts).map(drop)
    }

    fn delete_accounts(&self, accounts: Vec<String>) -> Result<usize, KeychainError> {
        match self.backend() {
            Backend::Os { .. } => {
                let mut deleted = 0;
                for account in &accounts {
                    deleted += usize::from(os::delete(account)?);
                }
                Ok(deleted)
            }
            Backend::File { vault, .. } => {
                let names = vault.entry_names()?;
                // Nothing of these is stored: no master password needed, nothing written.
                if !accounts.iter().any(|a| names.contains(a)) {
                    return Ok(0);
                }
                vault.update(&self.ask(&vault), |entries| {
                    let deleted = accounts
                        .iter()
                        .filter(|a| entries.remove(*a).is_some())
                        .count();
                    (deleted, deleted > 0)
                })
            }
            Backend::Memory(map) => {
                let mut map = lock(&map);
                Ok(accounts.iter().filter(|a| map.remove(*a).is_some()).count())
            }
        }
    }

    /// Opens the encrypted file with `password` and keeps its key for this process; with no
    /// file yet, `password` becomes the master password of a new, empty one.
    pub fn unlock(&self, password: &Sensitive<String>) -> Result<(), KeychainError> {
        match self.backend() {
            Backend::File { vault, .. } => vault.unlock(password),
            _ => Err(KeychainError::NotApplicable(
                "the secrets are in the OS keychain, which has no master password here".into(),
            )),
        }
    }

    /// Unlocks the encrypted file with `RYTHM_MASTER_PASSWORD_FILE` when that names a file
    /// and the encrypted file exists; `true` when it did.
    pub fn unlock_from_env(&self) -> Result<bool, KeychainError> {
        let Backend::File { vault, .. } = self.backend() else {
            return Ok(false);
        };
        if !vault.exists() || vault.is_unlocked() {
            return Ok(false);
        }
        match master::from_env_file()? {
            Some(password) => vault.unlock(&password).map(|()| true),
            None => Ok(false),
        }
    }

    /// Forgets the encrypted file's key: the next use asks for the master password again.
    pub fn lock(&self) {
        if let Backend::File { vault, .. } = self.backend() {
            vault.lock();
        }
    }

    /// The encrypted file whose master password can be changed now, or why there is none: a
    /// front end asks this before it asks anybody for passwords.
    pub fn master_password_file(&self) -> Result<PathBuf, KeychainError> {
        self.file_to_change()
            .map(|vault| vault.path().to_path_buf())
    }

    fn file_to_change(&self) -> Result<Arc<Vault>, KeychainError> {
        let Backend::File { vault, .. } = self.backend() else {
            return Err(KeychainError::NotApplicable(
                "the secrets are in the OS keychain: there is no master password to change".into(),
            ));
        };
        let file = vault.path().display().to_string();
        if vault.exists() {
            Ok(vault)
        } else if vault.was_removed() {
            Err(KeychainError::Removed { file })
        } else {
            Err(KeychainError::NotApplicable(format!(
                "there is no encrypted secrets file {file} yet: the first secret saved creates it \
                 with the master password given then"
            )))
        }
    }

    /// Re-encrypts the encrypted file under `new` after checking `current`, in one atomic
    /// replace; the number of secrets it holds.
    pub fn change_master_password(
        &self,
        current: &Sensitive<String>,
        new: &Sensitive<String>,
    ) -> Result<usize, KeychainError> {
        self.file_to_change()?.change_password(current, new)
    }

    /// Moves every secret of the encrypted file into the OS keychain, then deletes the file;
    /// from then on this handle uses the OS keychain. All or nothing: on any failure the
    /// entries written to the keychain are undone and the file stays as it was.
    pub fn move_to_os_keychain(&self) -> Result<MoveOutcome, KeychainError> {
        let info = self.info();
        if let Some(blocker) = info.move_blocker {
            return Err(KeychainError::NotApplicable(blocker));
        }
        let Backend::File { vault, .. } = self.backend() else {
            // Another thread moved them a moment ago.
            return Err(KeychainError::NotApplicable(
                "the secrets are in the OS keychain already".into(),
            ));
        };
        let store = os::store_name()?;
        let moved = vault.drain(
            &self.ask(&vault),
            migrate::copy_into_os_keychain,
            Written::undo,
        )?;
        *self
            .inner
            .backend
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Backend::Os { why: OsWhy::Probed };
        tracing::info!(moved, store, "secrets moved to the OS keychain");
        Ok(MoveOutcome {
            moved: moved as u32,
            store: store.to_owned(),
        })
    }

    /// The store in use, in words, and what can be done with it.
    pub fn info(&self) -> SecretStoreInfo {
        let os = os::store_name().map_err(|e| problem(&e));
        let (os_keychain, os_keychain_problem) = match &os {
            Ok(name) => (Some(name.to_string()), None),
            Err(why) => (None, Some(why.clone())),
        };
        let mut info = SecretStoreInfo {
            kind: SecretStoreKind::OsKeychain,
            name: String::new(),
            summary: String::new(),
            reason: None,
            file: None,
            file_exists: false,
            file_removed: false,
            unlocked: true,
            file_entries: 0,
            os_keychain,
            os_keychain_problem,
            can_move: false,
            move_blocker: None,
        };
        match self.backend() {
            Backend::Os { why } => {
                info.move_blocker = Some("the secrets are in the OS keychain already".into());
                match (&os, why) {
                    (Ok(name), OsWhy::Probed) => {
                        info.name = name.to_string();
                        info.summary = format!("Secrets are kept in the OS keychain ({name}).");
                    }
                    (Ok(name), OsWhy::Forced) => {
                        info.name = name.to_string();
                        info.summary = format!(
                            "Secrets are kept in the OS keychain ({name}), as \
                             {SECRET_STORE_VAR}=keychain asks."
                        );
                    }
                    (Err(why), _) => {
                        info.name = "OS keychain".into();
                        info.summary = format!(
                            "Secrets are to be kept in the OS keychain, as \
                             {SECRET_STORE_VAR}=keychain asks, but none is available: {why}."
                        );
                    }
                }
            }
            Backend::Memory(map) => {
                info.kind = SecretStoreKind::InMemory;
                info.name = "in memory".into();
                info.summary = "Secrets are kept in memory only, until the program ends.".into();
                info.file_entries = lock(&map).len() as u32;
                info.move_blocker = Some("the secrets are kept in memory only".into());
            }
            Backend::File { vault, why } => {
                let path = vault.path().display().to_string();
                info.kind = SecretStoreKind::EncryptedFile;
                info.name = "encrypted file".into();
                info.file = Some(vault.path().to_path_buf());
                info.file_exists = vault.exists();
                info.file_removed = vault.was_removed();
                info.unlocked = vault.is_unlocked();
                info.file_entries = vault.entry_names().map(|n| n.len() as u32).unwrap_or(0);
                let lock_words = "encrypted with a key derived from a master password \
                                  (argon2id, XChaCha20-Poly1305)";
                let (reason, summary) = match &why {
                    FileWhy::NoKeychain(problem) => (
                        format!("no OS keychain is available: {problem}"),
                        format!(
                            "Secrets are kept in an encrypted file, {path}, {lock_words}, \
                             because no OS keychain is available: {problem}."
                        ),
                    ),
                    FileWhy::Existing => (
                        "this encrypted file already holds the secrets in use".to_owned(),
                        format!(
                            "Secrets are kept in the encrypted file {path}, {lock_words}: it \
                             already holds the secrets in use (it was made when no OS keychain \
                             was available)."
                        ),
                    ),
                    FileWhy::Chosen => (
                        "this program asked for it".to_owned(),
                        format!("Secrets are kept in the encrypted file {path}, {lock_words}."),
                    ),
                    FileWhy::Forced => (
                        format!("{SECRET_STORE_VAR}=file asks for it"),
                        format!(
                            "Secrets are kept in the encrypted file {path}, {lock_words}, as \
                             {SECRET_STORE_VAR}=file asks."
                        ),
                    ),
                };
                info.reason = Some(reason);
                info.summary = summary;
                if info.file_removed {
                    info.summary = format!(
                        "The encrypted file {path} that held the secrets was removed by another \
                         program (were the secrets moved to the OS keychain?). Start the app \
                         again to use the store that holds them now; nothing is saved until \
                         then."
                    );
                }
                info.move_blocker = match (&why, &os) {
                    _ if info.file_removed => {
                        Some("the encrypted file was removed by another program".into())
                    }
                    (FileWhy::Forced, _) => Some(format!(
                        "{SECRET_STORE_VAR}=file asks for the encrypted file; unset it to move \
                         the secrets"
                    )),
                    (_, Err(why)) => Some(format!("no OS keychain is available: {why}")),
                    (_, Ok(_)) if !info.file_exists => {
                        Some("the encrypted file holds no secrets yet".into())
                    }
                    (_, Ok(_)) => None,
                };
                if let (Ok(name), None) = (&os, &info.move_blocker) {
                    info.summary.push_str(&format!(
                        " The OS keychain ({name}) is available now: the secrets can be moved \
                         there."
                    ));
                }
                info.can_move = info.move_blocker.is_none();
            }
        }
        info
    }
}

/// The reason inside an "unavailable" error, without its "no OS keychain is available"
/// prefix.
fn problem(e: &KeychainError) -> String {
    match e {
        KeychainError::Unavailable(why) => why.clone(),
        other => other.to_string(),
    }
}

fn lock(
    map: &Mutex<HashMap<String, String>>,
) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
    map.lock().unwrap_or_else(|e| e.into_inner())
}
