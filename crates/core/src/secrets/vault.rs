//! The encrypted secrets file, the store used when no OS keychain is reachable: one JSON file
//! in the config folder (`secrets.vault`), mode 0600, always replaced whole and atomically
//! (a temporary file beside it, fsynced, renamed over it). The secrets are sealed with
//! XChaCha20-Poly1305 under a 256-bit key that argon2id derives from the master password and
//! a random salt; a fresh random 24-byte nonce seals every write.
//!
//! The file's header (format, key derivation, cipher, and the names of the stored entries,
//! e.g. `prod:api-token`) is in clear and bound to the ciphertext as associated data: a
//! changed header fails to open like a wrong password does. The entry names are what
//! `profiles.json` already says (profile names and modes); listing them lets a front end say
//! "a password is stored" without asking for the master password.
//!
//! Changes from several processes (the desktop app and the CLI) are serialised with an
//! exclusive lock on `secrets.vault.lock`; each change reads the file afresh under that lock,
//! so none is lost.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{KeychainError, Sensitive};

const FORMAT: &str = "rythm-backup-secrets";
const VERSION: u32 = 1;
const CIPHER: &str = "xchacha20poly1305";
const KDF: &str = "argon2id";

/// argon2id cost for new files: 64 MiB, 3 passes, 1 lane (about a quarter of a second on a
/// laptop core; paid once per unlock, since the key is kept while the process runs).
const MEMORY_KIB: u32 = 64 * 1024;
const ITERATIONS: u32 = 3;
const PARALLELISM: u32 = 1;
/// Bounds on the cost a file may ask for, so a tampered header cannot make an unlock take
/// gigabytes or minutes.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_ITERATIONS: u32 = 64;

/// The shortest master password a new file accepts.
pub const MIN_MASTER_PASSWORD_CHARS: usize = 8;

/// The file as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VaultFile {
    #[serde(flatten)]
    header: Header,
    nonce: String,
    ciphertext: String,
}

/// Everything in clear; bound to the ciphertext as associated data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    format: String,
    version: u32,
    kdf: KdfParams,
    cipher: String,
    entries: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KdfParams {
    algorithm: String,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

impl KdfParams {
    fn fresh() -> Self {
        KdfParams {
            algorithm: KDF.into(),
            memory_kib: MEMORY_KIB,
            iterations: ITERATIONS,
            parallelism: PARALLELISM,
            salt: BASE64.encode(rand::random::<[u8; 16]>()),
        }
    }
}

/// A key derived from the master password, with the parameters (salt included) it belongs to.
struct Key {
    bytes: Zeroizing<[u8; 32]>,
    kdf: KdfParams,
}

/// What a change found in the file and may do to it.
pub(super) type Entries = BTreeMap<String, String>;

/// The file of secrets at `path`, and the key once unlocked.
pub(super) struct Vault {
    path: PathBuf,
    lock_path: PathBuf,
    state: std::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    key: Option<Key>,
    /// This handle has seen the file: if it disappears, another program moved the secrets
    /// away, and a write must not quietly start a new, nearly empty file.
    seen_file: bool,
}

impl Vault {
    pub(super) fn new(path: PathBuf) -> Self {
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        Vault {
            path,
            lock_path: lock_path.into(),
            state: Default::default(),
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn exists(&self) -> bool {
        self.path.is_file()
    }

    /// Whether a key is held (the master password was given in this process).
    pub(super) fn is_unlocked(&self) -> bool {
        self.state().key.is_some()
    }

    /// Forgets the key (the front end locks the store again).
    pub(super) fn lock(&self) {
        self.state().key = None;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The names of the stored entries, from the header (no key needed).
    pub(super) fn entry_names(&self) -> Result<Vec<String>, KeychainError> {
        Ok(self
            .read()?
            .map(|file| file.header.entries)
            .unwrap_or_default())
    }

    /// Checks `password` against the file and keeps the key. When there is no file yet, the
    /// password becomes the master password of a new, empty file, written now.
    pub(super) fn unlock(&self, password: &Sensitive<String>) -> Result<(), KeychainError> {
        let _lock = self.lock_file()?;
        match self.read()? {
            Some(file) => {
                let key = derive(password, &file.header.kdf)?;
                self.open(&file, &key)?;
                let mut state = self.state();
                state.key = Some(key);
                state.seen_file = true;
            }
            None => {
                check_new_password(password)?;
                let key = derive(password, &KdfParams::fresh())?;
                self.write(&Entries::new(), &key)?;
                let mut state = self.state();
                state.key = Some(key);
                state.seen_file = true;
            }
        }
        Ok(())
    }

    /// Every entry, decrypted. `ask` gives the master password when no key is held.
    pub(super) fn read_all(
        &self,
        ask: &dyn Fn(bool) -> MasterAnswer,
    ) -> Result<Entries, KeychainError> {
        match self.read()? {
            None => Ok(Entries::new()),
            Some(file) => {
                let key = self.key_for(Some(&file), ask)?;
                let entries = self.open(&file, &key);
                self.state().key = Some(key);
                entries
            }
        }
    }

    /// Reads the file under the lock, lets `change` edit the entries, and writes them back
    /// atomically when `change` says it changed something. Creates the file when there is
    /// none (asking for a new master password through `ask`).
    pub(super) fn update<T>(
        &self,
        ask: &dyn Fn(bool) -> MasterAnswer,
        change: impl FnOnce(&mut Entries) -> (T, bool),
    ) -> Result<T, KeychainError> {
        let _lock = self.lock_file()?;
        let file = self.read()?;
        if file.is_none() && self.state().seen_file {
            return Err(KeychainError::Vault {
                file: self.display(),
                reason: "it was removed by another program (were the secrets moved to the OS \
                         keychain?); start again to use the store now in place"
                    .into(),
            });
        }
        let key = self.key_for(file.as_ref(), ask)?;
        let mut entries = match &file {
            Some(file) => self.open(file, &key)?,
            None => Entries::new(),
        };
        let (answer, changed) = change(&mut entries);
        if changed || file.is_none() {
            self.write(&entries, &key)?;
        }
        let mut state = self.state();
        state.key = Some(key);
        state.seen_file = true;
        Ok(answer)
    }

    /// Re-encrypts every entry under `new`, after checking `current`; one atomic replace, so
    /// the file opens with either the old or the new password, never neither.
    pub(super) fn change_password(
        &self,
        current: &Sensitive<String>,
        new: &Sensitive<String>,
    ) -> Result<usize, KeychainError> {
        check_new_password(new)?;
        let _lock = self.lock_file()?;
        let Some(file) = self.read()? else {
            return Err(KeychainError::Vault {
                file: self.display(),
                reason: "there is no encrypted file yet: the first secret saved creates it with \
                         the master password given then"
                    .into(),
            });
        };
        let old_key = derive(current, &file.header.kdf)?;
        let entries = self.open(&file, &old_key)?;
        let new_key = derive(new, &KdfParams::fresh())?;
        self.write(&entries, &new_key)?;
        let mut state = self.state();
        state.key = Some(new_key);
        state.seen_file = true;
        Ok(entries.len())
    }

    /// Runs `work` with every entry while holding the lock, then deletes the file if `work`
    /// succeeded: the move to the OS keychain.
    pub(super) fn drain(
        &self,
        ask: &dyn Fn(bool) -> MasterAnswer,
        work: impl FnOnce(&Entries) -> Result<(), KeychainError>,
    ) -> Result<usize, KeychainError> {
        let _lock = self.lock_file()?;
        let Some(file) = self.read()? else {
            return Ok(0);
        };
        let key = self.key_for(Some(&file), ask)?;
        let entries = self.open(&file, &key)?;
        work(&entries)?;
        std::fs::remove_file(&self.path).map_err(|e| KeychainError::Vault {
            file: self.display(),
            reason: format!(
                "every secret is now in the OS keychain too, but the file could not be \
                 removed ({e}); it stays the store in use"
            ),
        })?;
        sync_dir(&self.path);
        let mut state = self.state();
        state.key = None;
        state.seen_file = false;
        Ok(entries.len())
    }

    /// The key for `file`: the one held if it fits the file's salt, else one derived from the
    /// master password that `ask` gives (`true`: a new file, so a new password).
    fn key_for(
        &self,
        file: Option<&VaultFile>,
        ask: &dyn Fn(bool) -> MasterAnswer,
    ) -> Result<Key, KeychainError> {
        {
            let mut state = self.state();
            if let Some(key) = state.key.take() {
                match file {
                    Some(f) if f.header.kdf == key.kdf => return Ok(key),
                    None => return Ok(key),
                    // The master password was changed by another program: ask again.
                    Some(_) => {}
                }
            }
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
            Some(file) => {
                let key = derive(&password, &file.header.kdf)?;
                self.open(file, &key)?;
                Ok(key)
            }
            None => {
                check_new_password(&password)?;
                derive(&password, &KdfParams::fresh())
            }
        }
    }

    fn display(&self) -> String {
        self.path.display().to_string()
    }

    fn damaged(&self, reason: impl Into<String>) -> KeychainError {
        KeychainError::Vault {
            file: self.display(),
            reason: format!("it is damaged: {}", reason.into()),
        }
    }

    fn read(&self) -> Result<Option<VaultFile>, KeychainError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io("read", e)),
        };
        let file: VaultFile =
            serde_json::from_str(&text).map_err(|e| self.damaged(e.to_string()))?;
        let h = &file.header;
        if h.format != FORMAT || h.cipher != CIPHER || h.kdf.algorithm != KDF {
            return Err(self.damaged("it is not a rythm-backup secrets file this version reads"));
        }
        if h.version > VERSION {
            return Err(self.damaged(format!(
                "it is version {}, newer than this program reads ({VERSION})",
                h.version
            )));
        }
        if h.kdf.memory_kib > MAX_MEMORY_KIB || h.kdf.iterations > MAX_ITERATIONS {
            return Err(self.damaged("its key derivation asks for an unreasonable cost"));
        }
        Ok(Some(file))
    }

    /// Decrypts `file` with `key`; a wrong key and a tampered file look the same.
    fn open(&self, file: &VaultFile, key: &Key) -> Result<Entries, KeychainError> {
        let nonce = BASE64
            .decode(&file.nonce)
            .ok()
            .filter(|n| n.len() == 24)
            .ok_or_else(|| self.damaged("its nonce is not 24 bytes of base64"))?;
        let ciphertext = BASE64
            .decode(&file.ciphertext)
            .map_err(|_| self.damaged("its ciphertext is not base64"))?;
        let aad = associated_data(&file.header);
        let cipher = XChaCha20Poly1305::new(key.bytes.as_ref().into());
        let plain = cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| KeychainError::WrongMasterPassword {
                file: self.display(),
            })?;
        let entries: Entries =
            serde_json::from_slice(&plain).map_err(|e| self.damaged(e.to_string()))?;
        let names: Vec<&String> = entries.keys().collect();
        if names != file.header.entries.iter().collect::<Vec<_>>() {
            return Err(self.damaged("its list of entries does not match its contents"));
        }
        Ok(entries)
    }

    /// Encrypts `entries` with `key` and replaces the file atomically (0600).
    fn write(&self, entries: &Entries, key: &Key) -> Result<(), KeychainError> {
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            kdf: key.kdf.clone(),
            cipher: CIPHER.into(),
            entries: entries.keys().cloned().collect(),
        };
        let plain =
            Zeroizing::new(serde_json::to_vec(entries).map_err(|e| self.damaged(e.to_string()))?);
        let nonce: [u8; 24] = rand::random();
        let aad = associated_data(&header);
        let cipher = XChaCha20Poly1305::new(key.bytes.as_ref().into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .map_err(|_| KeychainError::Vault {
                file: self.display(),
                reason: "encryption failed".into(),
            })?;
        let file = VaultFile {
            header,
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(ciphertext),
        };
        let mut json = serde_json::to_vec_pretty(&file).map_err(|e| self.damaged(e.to_string()))?;
        json.push(b'\n');
        let dir = self.dir();
        create_private_dir(dir).map_err(|e| self.io("create the folder of", e))?;
        // NamedTempFile creates the file with mode 0600 on Unix, before any byte is written.
        let mut temp = tempfile::Builder::new()
            .prefix(".secrets.vault.")
            .tempfile_in(dir)
            .map_err(|e| self.io("write", e))?;
        temp.write_all(&json)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| self.io("write", e))?;
        temp.persist(&self.path)
            .map_err(|e| self.io("replace", e.error))?;
        sync_dir(&self.path);
        Ok(())
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// The exclusive lock that serialises changes between processes, held until dropped.
    fn lock_file(&self) -> Result<File, KeychainError> {
        use fs4::fs_std::FileExt;
        create_private_dir(self.dir()).map_err(|e| self.io("create the folder of", e))?;
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).read(true).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&self.lock_path)
            .map_err(|e| self.io("open the lock file of", e))?;
        FileExt::lock_exclusive(&file).map_err(|e| self.io("lock", e))?;
        Ok(file)
    }

    fn io(&self, action: &str, e: std::io::Error) -> KeychainError {
        KeychainError::Vault {
            file: self.display(),
            reason: format!("cannot {action} it: {e}"),
        }
    }
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

fn associated_data(header: &Header) -> Vec<u8> {
    serde_json::to_vec(header).expect("the header serialises")
}

fn derive(password: &Sensitive<String>, kdf: &KdfParams) -> Result<Key, KeychainError> {
    let invalid = |reason: String| KeychainError::Vault {
        file: "the secrets file".into(),
        reason,
    };
    let salt = BASE64
        .decode(&kdf.salt)
        .map_err(|_| invalid("its salt is not base64".into()))?;
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| invalid(format!("its key derivation parameters are invalid ({e})")))?;
    let mut bytes = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.expose().as_bytes(), &salt, bytes.as_mut())
        .map_err(|e| invalid(format!("the key could not be derived ({e})")))?;
    Ok(Key {
        bytes,
        kdf: kdf.clone(),
    })
}

/// A new master password: long enough to resist guessing at argon2id's cost.
pub(super) fn check_new_password(password: &Sensitive<String>) -> Result<(), KeychainError> {
    if password.expose().chars().count() < MIN_MASTER_PASSWORD_CHARS {
        return Err(KeychainError::WeakMasterPassword);
    }
    Ok(())
}

/// Creates `dir` (and its parents) when missing; a folder created here is 0700 on Unix.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes a rename or a removal in `path`'s folder durable (Unix; elsewhere a no-op).
fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        if let Ok(dir) = File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        }) {
            let _ = dir.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Sensitive<String> {
        Sensitive::new(s.to_owned())
    }

    fn given(p: &'static str) -> impl Fn(bool) -> MasterAnswer {
        move |_| MasterAnswer::Password(pw(p))
    }

    #[test]
    fn a_tampered_header_fails_like_a_wrong_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.vault");
        let vault = Vault::new(path.clone());
        vault
            .update(&given("correct horse"), |e| {
                e.insert("a:db-password".into(), "s3cret".into());
                ((), true)
            })
            .unwrap();
        // Rename the entry in the clear header: the associated data no longer matches.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("a:db-password", "b:db-password")).unwrap();
        let fresh = Vault::new(path);
        let error = fresh.read_all(&given("correct horse")).err().unwrap();
        assert!(
            matches!(error, KeychainError::WrongMasterPassword { .. }),
            "{error}"
        );
    }

    #[test]
    fn an_unreasonable_cost_is_refused_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.vault");
        Vault::new(path.clone())
            .unlock(&pw("correct horse"))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("\"memoryKib\": 65536", "\"memoryKib\": 4194304");
        std::fs::write(&path, text).unwrap();
        let error = Vault::new(path)
            .read_all(&given("correct horse"))
            .err()
            .unwrap();
        assert!(error.to_string().contains("unreasonable cost"), "{error}");
    }

    #[test]
    fn short_master_passwords_are_refused_for_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::new(dir.path().join("secrets.vault"));
        let error = vault.unlock(&pw("short")).err().unwrap();
        assert!(matches!(error, KeychainError::WeakMasterPassword));
        assert!(!vault.exists(), "nothing is written for a refused password");
    }
}
