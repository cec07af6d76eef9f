//! The encrypted secrets file's format and cryptography, with no file system or locking: one
//! JSON document whose secrets are sealed with XChaCha20-Poly1305 under a 256-bit key that
//! argon2id derives from the master password and a random salt; a fresh random 24-byte nonce
//! seals every write.
//!
//! The header (format, key derivation, cipher, and the names of the stored entries, e.g.
//! `prod:api-token`) is in clear and bound to the ciphertext as associated data: a changed
//! header fails to open like a wrong password does. The entry names are what `profiles.json`
//! already says (profile names and modes); listing them lets a front end say "a password is
//! stored" without asking for the master password.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

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

/// The shortest master password a new file accepts, in Unicode scalar values (Rust's
/// `chars()`; the desktop's page counts the same way).
pub const MIN_MASTER_PASSWORD_CHARS: usize = 8;

/// The file as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VaultFile {
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
pub(super) struct KdfParams {
    algorithm: String,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

impl KdfParams {
    /// Parameters for a new master password: today's cost and a new random salt.
    pub(super) fn fresh() -> Self {
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
/// Cloning copies the bytes into another wiped-on-drop buffer.
#[derive(Clone)]
pub(super) struct Key {
    bytes: Zeroizing<[u8; 32]>,
    kdf: KdfParams,
}

impl Key {
    /// Whether this key belongs to `file`: derived with its parameters and salt. (A new master
    /// password always comes with a new salt, so a change by another program shows here.)
    pub(super) fn fits(&self, file: &VaultFile) -> bool {
        self.kdf == file.header.kdf
    }
}

/// The decrypted secrets, by entry name. Their values are wiped from memory when this is
/// dropped (values taken out of it are the taker's to wipe, e.g. inside a `Sensitive`).
#[derive(Default, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct Entries(BTreeMap<String, String>);

impl Deref for Entries {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Entries {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Entries {
    fn drop(&mut self) {
        for value in self.0.values_mut() {
            value.zeroize();
        }
    }
}

impl VaultFile {
    /// The entry names in the clear header.
    pub(super) fn entry_names(&self) -> &[String] {
        &self.header.entries
    }
}

fn damaged(path: &Path, reason: impl Into<String>) -> KeychainError {
    KeychainError::Vault {
        file: path.display().to_string(),
        reason: format!("it is damaged: {}", reason.into()),
    }
}

/// Reads the file's text: a format, version, cipher and cost this program accepts, checked
/// before any key is derived.
pub(super) fn parse(path: &Path, text: &str) -> Result<VaultFile, KeychainError> {
    let file: VaultFile = serde_json::from_str(text).map_err(|e| damaged(path, e.to_string()))?;
    let h = &file.header;
    if h.format != FORMAT || h.cipher != CIPHER || h.kdf.algorithm != KDF {
        return Err(damaged(
            path,
            "it is not a rythm-backup secrets file this version reads",
        ));
    }
    if h.version > VERSION {
        return Err(damaged(
            path,
            format!(
                "it is version {}, newer than this program reads ({VERSION})",
                h.version
            ),
        ));
    }
    if h.kdf.memory_kib > MAX_MEMORY_KIB || h.kdf.iterations > MAX_ITERATIONS {
        return Err(damaged(
            path,
            "its key derivation asks for an unreasonable cost",
        ));
    }
    Ok(file)
}

/// The key that `password` gives with `file`'s parameters, checked by opening `file` (a
/// wrong password fails here).
pub(super) fn key_for_file(
    path: &Path,
    file: &VaultFile,
    password: &Sensitive<String>,
) -> Result<Key, KeychainError> {
    let key = derive(path, password, &file.header.kdf)?;
    open(path, file, &key)?;
    Ok(key)
}

/// The key of a new file under a new master password (long enough, see `check_new_password`).
pub(super) fn key_for_new_file(
    path: &Path,
    password: &Sensitive<String>,
) -> Result<Key, KeychainError> {
    check_new_password(password)?;
    derive(path, password, &KdfParams::fresh())
}

fn derive(
    path: &Path,
    password: &Sensitive<String>,
    kdf: &KdfParams,
) -> Result<Key, KeychainError> {
    let invalid = |reason: String| KeychainError::Vault {
        file: path.display().to_string(),
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

/// Decrypts `file` with `key`; a wrong key and a tampered file look the same.
pub(super) fn open(path: &Path, file: &VaultFile, key: &Key) -> Result<Entries, KeychainError> {
    let nonce = BASE64
        .decode(&file.nonce)
        .ok()
        .filter(|n| n.len() == 24)
        .ok_or_else(|| damaged(path, "its nonce is not 24 bytes of base64"))?;
    let ciphertext = BASE64
        .decode(&file.ciphertext)
        .map_err(|_| damaged(path, "its ciphertext is not base64"))?;
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
            file: path.display().to_string(),
        })?;
    let entries: Entries =
        serde_json::from_slice(&plain).map_err(|e| damaged(path, e.to_string()))?;
    if !entries.keys().eq(file.header.entries.iter()) {
        return Err(damaged(
            path,
            "its list of entries does not match its contents",
        ));
    }
    Ok(entries)
}

/// The file's bytes with `entries` sealed under `key`.
pub(super) fn seal(path: &Path, entries: &Entries, key: &Key) -> Result<Vec<u8>, KeychainError> {
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        kdf: key.kdf.clone(),
        cipher: CIPHER.into(),
        entries: entries.keys().cloned().collect(),
    };
    let plain =
        Zeroizing::new(serde_json::to_vec(entries).map_err(|e| damaged(path, e.to_string()))?);
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
            file: path.display().to_string(),
            reason: "encryption failed".into(),
        })?;
    let file = VaultFile {
        header,
        nonce: BASE64.encode(nonce),
        ciphertext: BASE64.encode(ciphertext),
    };
    let mut json = serde_json::to_vec_pretty(&file).map_err(|e| damaged(path, e.to_string()))?;
    json.push(b'\n');
    Ok(json)
}

fn associated_data(header: &Header) -> Vec<u8> {
    serde_json::to_vec(header).expect("the header serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Sensitive<String> {
        Sensitive::new(s.to_owned())
    }

    fn sealed_with(entries: &[(&str, &str)], password: &str) -> (String, Key) {
        let path = Path::new("secrets.vault");
        let key = key_for_new_file(path, &pw(password)).unwrap();
        let mut map = Entries::default();
        for (name, value) in entries {
            map.insert((*name).into(), (*value).into());
        }
        let bytes = seal(path, &map, &key).unwrap();
        (String::from_utf8(bytes).unwrap(), key)
    }

    #[test]
    fn a_sealed_file_opens_with_its_password_only() {
        let path = Path::new("secrets.vault");
        let (text, key) = sealed_with(&[("a:db-password", "s3cret")], "correct horse");
        assert!(!text.contains("s3cret"));
        let file = parse(path, &text).unwrap();
        assert!(key.fits(&file));
        assert_eq!(file.entry_names(), ["a:db-password"]);
        let entries = open(path, &file, &key).unwrap();
        assert_eq!(
            entries.get("a:db-password").map(String::as_str),
            Some("s3cret")
        );
        let again = key_for_file(path, &file, &pw("correct horse")).unwrap();
        assert!(again.fits(&file));
        let wrong = key_for_file(path, &file, &pw("wrong horse")).err().unwrap();
        assert!(matches!(wrong, KeychainError::WrongMasterPassword { .. }));
        // Another file under the same password has another salt: the key does not fit it.
        let (other, _) = sealed_with(&[], "correct horse");
        assert!(!key.fits(&parse(path, &other).unwrap()));
    }

    #[test]
    fn a_tampered_header_fails_like_a_wrong_password() {
        let path = Path::new("secrets.vault");
        let (text, key) = sealed_with(&[("a:db-password", "s3cret")], "correct horse");
        // Rename the entry in the clear header: the associated data no longer matches.
        let tampered = parse(path, &text.replace("a:db-password", "b:db-password")).unwrap();
        let error = open(path, &tampered, &key).err().unwrap();
        assert!(
            matches!(error, KeychainError::WrongMasterPassword { .. }),
            "{error}"
        );
    }

    #[test]
    fn an_unreasonable_cost_is_refused_before_any_work() {
        let path = Path::new("secrets.vault");
        let (text, _) = sealed_with(&[], "correct horse");
        let text = text.replace("\"memoryKib\": 65536", "\"memoryKib\": 4194304");
        let error = parse(path, &text).err().unwrap();
        assert!(error.to_string().contains("unreasonable cost"), "{error}");
    }

    #[test]
    fn short_master_passwords_are_refused_for_new_files() {
        let error = key_for_new_file(Path::new("x"), &pw("short"))
            .err()
            .unwrap();
        assert!(matches!(error, KeychainError::WeakMasterPassword));
        // Counted in characters, not bytes: eight accented letters are enough, seven are not.
        assert!(key_for_new_file(Path::new("x"), &pw("ééééééé")).is_err());
        assert!(check_new_password(&pw("éééééééé")).is_ok());
    }
}
