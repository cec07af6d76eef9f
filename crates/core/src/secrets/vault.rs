//! The encrypted secrets file on disk, the store used when no OS keychain is reachable:
//! `secrets.vault` in the config folder, mode 0600, always replaced whole and atomically
//! (`fsmode::write_private_atomic`); its format and cryptography are `sealed`'s.
//!
//! Changes from several processes (the desktop app and the CLI) are serialised with an
//! exclusive lock on `secrets.vault.lock`, taken only once the key is known: a person is
//! never asked for a master password while the lock is held, so a prompt left unanswered
//! blocks nobody. Under the lock each change reads the file afresh and checks that its key
//! still fits (another program may have changed the master password meanwhile), so none is
//! lost. The lock is waited for at most `LOCK_WAIT`, then a clear error says why.
//!
//! Once this handle has seen the file, the file's disappearance means another program moved
//! the secrets away (to the OS keychain): every use then fails with `Removed` rather than
//! answering "nothing stored" or starting a new, empty file that would hide them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::sealed::{self, Entries, Key, VaultFile};
use super::{KeychainError, Sensitive};
use crate::fsmode;

/// How long a change waits for another program's change to finish.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// How often a change finds the key anew because the file's key changed under it.
const KEY_ROUNDS: usize = 3;

/// The file of secrets at `path`, and the key once unlocked.
pub(super) struct Vault {
    path: PathBuf,
    lock_path: PathBuf,
    lock_wait: Duration,
    state: std::sync::Mutex<State>,
}

struct State {
    key: Option<Key>,
    /// This handle has seen the file: if it disappears, another program moved the secrets
    /// away, and nothing may quietly start a new, nearly empty file.
    seen_file: bool,
}

/// What a front end answers when the file needs the master password.
pub(super) enum MasterAnswer {
    Password(Sensitive<String>),
    /// No way to ask (no terminal, no file named, the desktop's modal not answered yet); the
    /// hint says how to give it.
    Unavailable {
        hint: String,
    },
    Failed(KeychainError),
}

impl Vault {
    /// A handle on the file at `path`. A file that exists now holds the secrets in use:
    /// should it vanish later, another program moved them away (see `Removed`).
    pub(super) fn new(path: PathBuf) -> Self {
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        let seen_file = path.is_file();
        Vault {
            path,
            lock_path: lock_path.into(),
            lock_wait: LOCK_WAIT,
            state: std::sync::Mutex::new(State {
                key: None,
                seen_file,
            }),
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn exists(&self) -> bool {
        self.path.is_file()
    }

    /// This handle saw the file and it is gone: another program moved the secrets away.
    pub(super) fn was_removed(&self) -> bool {
        self.state().seen_file && !self.path.exists()
    }

    /// Whether the master password was given in this process and still opens the file (not
    /// when another program changed it since).
    pub(super) fn is_unlocked(&self) -> bool {
        let Some(key) = self.state().key.clone() else {
            return false;
        };
        matches!(self.read(), Ok(Some(file)) if key.fits(&file))
    }

    /// Forgets the key (the front end locks the store again).
    pub(super) fn lock(&self) {
        self.state().key = None;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `key` for this process (after it opened or wrote the file).
    fn keep(&self, key: &Key) {
        self.state().key = Some(key.clone());
    }

    /// The names of the stored entries, from the header (no key needed).
    pub(super) fn entry_names(&self) -> Result<Vec<String>, KeychainError> {
        Ok(self
            .read()?
            .map(|file| file.entry_names().to_vec())
            .unwrap_or_default())
    }

    /// Checks `password` against the file and keeps the key. When there is no file yet, the
    /// password becomes the master password of a new, empty file, written now; but never in
    /// place of a file this handle has seen (see `Removed`).
    pub(super) fn unlock(&self, password: &Sensitive<String>) -> Result<(), KeychainError> {
        self.locked(
            |file| match file {
                Some(file) => sealed::key_for_file(&self.path, file, password),
                None => sealed::key_for_new_file(&self.path, password),
            },
            |file, key| {
                if file.is_none() {
                    self.write(&Entries::default(), key)?;
                }
                self.keep(key);
                Ok(())
            },
        )
    }

    /// Every entry, decrypted. `ask` gives the master password when no fitting key is held.
    pub(super) fn read_all(
        &self,
        ask: &dyn Fn(bool) -> MasterAnswer,
    ) -> Result<Entries, KeychainError> {
        let Some(file) = self.read()? else {
            return Ok(Entries::default());
        };
        let key = self.key_or_ask(Some(&file), ask)?;
        let entries = sealed::open(&self.path, &file, &key)?;
        self.keep(&key);
        Ok(entries)
    }

    /// Lets `change` edit the entries read under the lock, and writes them back atomically
    /// when it says it changed something. Creates the file when there is none (asking for a
    /// new master password through `ask`).
    pub(super) fn update<T>(
        &self,
        ask: &dyn Fn(bool) -> MasterAnswer,
        change: impl FnOnce(&mut Entries) -> (T, bool),
    ) -> Result<T, KeychainError> {
        self.locked(
            |file| self.key_or_ask(file, ask),
            |file, key| {
                let mut entries = match &file {
                    Some(file) => sealed::open(&self.path, file, key)?,
                    None => Entries::default(),
                };
                let (answer, changed) = change(&mut entries);
                if changed || file.is_none() {
                    self.write(&entries, key)?;
                }
                self.keep(key);
                Ok(answer)
            },
        )
    }

    /// Re-encrypts every entry under `new`, after checking `current`; one atomic replace, so
    /// the file opens with either the old or the new password, never neither.
    pub(super) fn change_password(
        &self,
        current: &Sensitive<String>,
        new: &Sensitive<String>,
    ) -> Result<usize, KeychainError> {
        let no_file = || KeychainError::Vault {
            file: self.display(),
            reason: "there is no encrypted file yet: the first secret saved creates it with the \
                     master password given then"
                .into(),
        };
        // Derived before the lock, like every key.
        let new_key = sealed::key_for_new_file(&self.path, new)?;
        self.locked(
            |file| match file {
                Some(file) => sealed::key_for_file(&self.path, file, current),
                None => Err(no_file()),
            },
            |file, old_key| {
                let file = file.ok_or_else(no_file)?;
                let entries = sealed::open(&self.path, &file, old_key)?;
                self.write(&entries, &new_key)?;
                self.keep(&new_key);
                Ok(entries.len())
            },
        )
    }

    /// The move to the OS keychain: runs `work` with every entry while holding the lock, then
    /// deletes the file. When the file cannot be deleted, `undo` takes back what `work` did
    /// (its answer says what it could not) and the file stays the store in use, so the move
    /// is all or nothing.
    pub(super) fn drain<W>(
        &self,
        ask: &dyn Fn(bool) -> MasterAnswer,
        work: impl FnOnce(&Entries) -> Result<W, KeychainError>,
        undo: impl FnOnce(W) -> String,
    ) -> Result<usize, KeychainError> {
        if self.read()?.is_none() {
            return Ok(0);
        }
        self.locked(
            |file| self.key_or_ask(file, ask),
            |file, key| {
                let Some(file) = file else {
                    return Ok(0);
                };
                let entries = sealed::open(&self.path, &file, key)?;
                self.keep(key);
                let done = work(&entries)?;
                if let Err(e) = std::fs::remove_file(&self.path) {
                    let undone = undo(done);
                    return Err(KeychainError::MoveFailed(format!(
                        "the encrypted file {} could not be removed ({e}), so it stays the store \
                         in use, with every secret{undone}",
                        self.display()
                    )));
                }
                fsmode::sync_parent(&self.path);
                let mut state = self.state();
                state.key = None;
                state.seen_file = false;
                Ok(entries.len())
            },
        )
    }

    /// The way every change goes: `key_for` finds the key for the file as it is (which may
    /// ask a person) with no lock held; then, under the lock, the file is read again and
    /// `work` runs only if the key still fits it. If another program changed the master
    /// password or created the file meanwhile, the key is found again for the new file.
    fn locked<T>(
        &self,
        mut key_for: impl FnMut(Option<&VaultFile>) -> Result<Key, KeychainError>,
        work: impl FnOnce(Option<VaultFile>, &Key) -> Result<T, KeychainError>,
    ) -> Result<T, KeychainError> {
        let mut file = self.read()?;
        for _ in 0..KEY_ROUNDS {
            let key = key_for(file.as_ref())?;
            let _lock = self.lock_file()?;
            let now = self.read()?;
            let fits = match &now {
                Some(now) => key.fits(now),
                // `read` fails when a file seen before is gone, so there was none before.
                None => file.is_none(),
            };
            if fits {
                return work(now, &key);
            }
            file = now;
        }
        Err(KeychainError::Vault {
            file: self.display(),
            reason: "its master password kept changing while this program tried to use it; \
                     try again"
                .into(),
        })
    }

    /// The key for `file`: a copy of the one held if it fits the file's salt, else one derived
    /// from the master password that `ask` gives (`true`: a new file, so a new password) and
    /// checked against the file. The held key is left in place: a failure later forgets
    /// nothing, and other threads of this process keep using it meanwhile.
    fn key_or_ask(
        &self,
        file: Option<&VaultFile>,
        ask: &dyn Fn(bool) -> MasterAnswer,
    ) -> Result<Key, KeychainError> {
        if let (Some(key), Some(file)) = (self.state().key.as_ref(), file) {
            if key.fits(file) {
                return Ok(key.clone());
            }
            // Otherwise the master password was changed by another program: ask again.
        }
        let creating = file.is_none();
        let password = match ask(creating) {
            MasterAnswer::Password(p) => p,
            MasterAnswer::Unavailable { hint } => {
                return Err(KeychainError::Locked {
                    file: self.display(),
                    creating,
                    hint,
                })
            }
            MasterAnswer::Failed(e) => return Err(e),
        };
        match file {
            Some(file) => sealed::key_for_file(&self.path, file, &password),
            None => sealed::key_for_new_file(&self.path, &password),
        }
    }

    fn display(&self) -> String {
        self.path.display().to_string()
    }

    /// The file, or `None` when there is none yet; `Removed` when this handle saw it before.
    fn read(&self) -> Result<Option<VaultFile>, KeychainError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => zeroize::Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return if self.state().seen_file {
                    Err(KeychainError::Removed {
                        file: self.display(),
                    })
                } else {
                    Ok(None)
                };
            }
            Err(e) => return Err(self.io("read", e)),
        };
        let file = sealed::parse(&self.path, &text)?;
        self.state().seen_file = true;
        Ok(Some(file))
    }

    /// Encrypts `entries` with `key` and replaces the file atomically (0600).
    fn write(&self, entries: &Entries, key: &Key) -> Result<(), KeychainError> {
        let bytes = sealed::seal(&self.path, entries, key)?;
        fsmode::write_private_atomic(&self.path, &bytes).map_err(|e| self.io("write", e))?;
        self.state().seen_file = true;
        Ok(())
    }

    /// The exclusive lock that serialises changes between processes, held until dropped.
    fn lock_file(&self) -> Result<std::fs::File, KeychainError> {
        fsmode::lock_exclusive(&self.lock_path, self.lock_wait).map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                KeychainError::Vault {
                    file: self.display(),
                    reason: format!(
                        "another rythm-backup program (the desktop app or a command) is changing \
                         it and has held its lock {} for more than {:?}; try again when it is \
                         done",
                        self.lock_path.display(),
                        self.lock_wait
                    ),
                }
            } else {
                self.io("lock", e)
            }
        })
    }

    fn io(&self, action: &str, e: std::io::Error) -> KeychainError {
        KeychainError::Vault {
            file: self.display(),
            reason: format!("cannot {action} it: {e}"),
        }
    }
}

#[cfg(test)]
mod tests;
