//! The encrypted secrets file, the store used when no OS keychain is reachable: save and read,
//! a wrong master password (a clear error, nothing leaked, nothing overwritten), the file's
//! mode and bytes, a change of master password under concurrent readers, many writers at
//! once, and hostile files. (The move into the OS keychain is in `keychain.rs`.)

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rythm_backup_core::secrets::{
    Keychain, KeychainError, MasterPasswordPrompt, MasterPasswordRequest, SecretKind,
    SecretStoreKind, Sensitive,
};
use rythm_backup_core::ErrorCode;

const MASTER: &str = "correct horse battery staple";

/// Answers every request with one password (or with "nobody to ask").
struct Given(Option<String>);

impl MasterPasswordPrompt for Given {
    fn ask(
        &self,
        _request: MasterPasswordRequest<'_>,
    ) -> Result<Option<Sensitive<String>>, KeychainError> {
        Ok(self.0.clone().map(Sensitive::new))
    }

    fn hint(&self) -> String {
        "the test gives no password".into()
    }
}

fn file_store(path: &Path, master: Option<&str>) -> Keychain {
    let keychain = Keychain::encrypted_file(path);
    keychain.set_prompt(Arc::new(Given(master.map(str::to_owned))));
    keychain
}

fn secret(s: &str) -> Sensitive<String> {
    Sensitive::new(s.to_owned())
}

fn vault_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("config").join("secrets.vault")
}

#[test]
fn secrets_round_trip_through_the_encrypted_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let store = file_store(&path, Some(MASTER));
    assert!(!path.exists());
    // Nothing stored yet: reading and deleting need no master password and write nothing.
    assert_eq!(store.load("prod", SecretKind::ApiToken).unwrap(), None);
    assert!(!store.delete("prod", SecretKind::ApiToken).unwrap());
    assert!(!path.exists(), "a read must not create the file");

    let token = secret("eyJhbGciOiJIUzI1NiJ9.ünïcode-token");
    store.store("prod", SecretKind::ApiToken, &token).unwrap();
    store
        .store(
            "local",
            SecretKind::DbPassword,
            &secret("pg-pass word\n\"'\\"),
        )
        .unwrap();
    store
        .store("local", SecretKind::DbPassword, &secret("replaced"))
        .unwrap();
    assert!(path.is_file());

    // Another process: a new handle, which must ask for the master password.
    let other = file_store(&path, Some(MASTER));
    assert_eq!(other.info().kind, SecretStoreKind::EncryptedFile);
    assert!(!other.info().unlocked);
    // Whether a secret is stored is answered without the master password.
    let locked = file_store(&path, None);
    assert!(locked.contains("prod", SecretKind::ApiToken).unwrap());
    assert!(!locked.contains("prod", SecretKind::DbPassword).unwrap());
    assert_eq!(locked.info().file_entries, 2);

    assert_eq!(
        other.load("prod", SecretKind::ApiToken).unwrap(),
        Some(token)
    );
    assert_eq!(
        other.load("local", SecretKind::DbPassword).unwrap(),
        Some(secret("replaced"))
    );
    assert!(other.info().unlocked);
    other.delete_all("local").unwrap();
    assert_eq!(store.load("local", SecretKind::DbPassword).unwrap(), None);
    assert_eq!(store.info().file_entries, 1);
}

#[test]
fn a_wrong_master_password_is_a_clear_error_that_leaks_and_overwrites_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let token = "tok-7c1d9e0b4a";
    file_store(&path, Some(MASTER))
        .store("prod", SecretKind::ApiToken, &secret(token))
        .unwrap();
    let before = std::fs::read(&path).unwrap();

    let wrong_password = "not the master password";
    let intruder = file_store(&path, Some(wrong_password));
    for error in [
        intruder.load("prod", SecretKind::ApiToken).err().unwrap(),
        intruder
            .store("prod", SecretKind::ApiToken, &secret("evil"))
            .err()
            .unwrap(),
        intruder
            .store("other", SecretKind::DbPassword, &secret("evil"))
            .err()
            .unwrap(),
        intruder.delete_all("prod").err().unwrap(),
        intruder.unlock(&secret(wrong_password)).err().unwrap(),
        intruder
            .change_master_password(&secret(wrong_password), &secret("a new password"))
            .err()
            .unwrap(),
    ] {
        assert!(
            matches!(error, KeychainError::WrongMasterPassword { .. }),
            "{error}"
        );
        assert_eq!(error.code(), ErrorCode::SecretsLocked);
        let shown = format!("{error} {error:?}");
        assert!(shown.contains("master password does not open"), "{shown}");
        for leaked in [token, wrong_password, MASTER, "evil"] {
            assert!(!shown.contains(leaked), "{leaked:?} in {shown}");
        }
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing was written");
    assert!(!intruder.info().unlocked);
    // The right password still opens it, with the secret intact.
    assert_eq!(
        file_store(&path, Some(MASTER))
            .load("prod", SecretKind::ApiToken)
            .unwrap(),
        Some(secret(token))
    );
}

#[test]
fn without_a_way_to_ask_the_error_says_how_to_give_the_master_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let nobody = file_store(&path, None);
    let creating = nobody
        .store("p", SecretKind::DbPassword, &secret("pw-1"))
        .err()
        .unwrap();
    assert_eq!(creating.code(), ErrorCode::SecretsLocked);
    let message = creating.to_string();
    assert!(message.contains("new master password"), "{message}");
    assert!(message.contains("the test gives no password"), "{message}");
    assert!(!path.exists());

    file_store(&path, Some(MASTER))
        .store("p", SecretKind::DbPassword, &secret("pw-1"))
        .unwrap();
    let locked = file_store(&path, None)
        .load("p", SecretKind::DbPassword)
        .err()
        .unwrap();
    let message = locked.to_string();
    assert!(
        message.contains("locked in the encrypted file"),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");
    // A master password that is too short is refused for a new file.
    let other = tempfile::tempdir().unwrap();
    let weak = file_store(&vault_path(&other), Some("short"))
        .store("p", SecretKind::DbPassword, &secret("pw"))
        .err()
        .unwrap();
    assert!(matches!(weak, KeychainError::WeakMasterPassword), "{weak}");
    assert!(!vault_path(&other).exists());
}

#[cfg(unix)]
#[test]
fn the_file_is_private_and_its_bytes_hold_no_secret() {
    use base64::Engine as _;
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let store = file_store(&path, Some(MASTER));
    let secrets = [
        "azure-AccountKey=Eby8vdM02xNOcqFlqUwJPLlm",
        "database password 123",
        "token.ab.cd",
    ];
    for (i, s) in secrets.iter().enumerate() {
        store
            .store(&format!("p{i}"), SecretKind::DbPassword, &secret(s))
            .unwrap();
    }
    for file in [path.clone(), path.with_extension("vault.lock")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", file.display());
    }
    let folder = std::fs::metadata(path.parent().unwrap()).unwrap();
    assert_eq!(
        folder.permissions().mode() & 0o077,
        0,
        "the folder it made is private"
    );
    let bytes = std::fs::read(&path).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    for s in secrets.iter().chain([&MASTER]) {
        for needle in [s.to_string(), b64.encode(s), hex::encode(s)] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle:?} is in the file's bytes"
            );
        }
    }
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn changing_the_master_password_is_atomic_for_concurrent_readers() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let store = file_store(&path, Some(MASTER));
    for i in 0..5 {
        store
            .store(
                &format!("p{i}"),
                SecretKind::DbPassword,
                &secret(&format!("s{i}")),
            )
            .unwrap();
    }
    let passwords = [MASTER, "second master password", "third master password"];
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A reader in another "process" takes snapshots of the file while it changes: each one
    // must be whole, open with one of the passwords and hold every secret.
    let reader = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let scratch = tempfile::tempdir().unwrap();
            let copy = scratch.path().join("snapshot.vault");
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || reads == 0 {
                std::fs::write(&copy, std::fs::read(&path).unwrap()).unwrap();
                let opened = passwords.iter().any(|p| {
                    file_store(&copy, Some(p))
                        .load("p4", SecretKind::DbPassword)
                        .ok()
                        .flatten()
                        == Some(secret("s4"))
                });
                assert!(opened, "a snapshot opened with none of the passwords");
                reads += 1;
            }
            reads
        })
    };
    for round in 0..6 {
        let (current, new) = (passwords[round % 3], passwords[(round + 1) % 3]);
        assert_eq!(
            store
                .change_master_password(&secret(current), &secret(new))
                .unwrap(),
            5
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().expect("the reader saw only whole files");
    assert!(reads > 0);
    // After six changes the password is the first again; the old ones fail.
    let error = file_store(&path, Some(passwords[1]))
        .load("p0", SecretKind::DbPassword)
        .err()
        .unwrap();
    assert!(matches!(error, KeychainError::WrongMasterPassword { .. }));
    let reopened = file_store(&path, Some(MASTER));
    for i in 0..5 {
        assert_eq!(
            reopened
                .load(&format!("p{i}"), SecretKind::DbPassword)
                .unwrap(),
            Some(secret(&format!("s{i}")))
        );
    }
    // The handle that changed it keeps working without asking again.
    let no_prompt = Keychain::encrypted_file(&path);
    assert!(no_prompt.load("p0", SecretKind::DbPassword).is_err());
    assert_eq!(
        store.load("p0", SecretKind::DbPassword).unwrap(),
        Some(secret("s0"))
    );
}

#[test]
fn many_writers_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    file_store(&path, Some(MASTER))
        .unlock(&secret(MASTER))
        .unwrap();
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                // One handle per writer, as separate processes would have.
                let store = file_store(&path, Some(MASTER));
                for i in 0..4 {
                    store
                        .store(
                            &format!("w{w}-{i}"),
                            SecretKind::AzureConnectionString,
                            &secret(&format!("value {w} {i}")),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let store = file_store(&path, Some(MASTER));
    assert_eq!(store.info().file_entries, 24);
    for w in 0..6 {
        for i in 0..4 {
            assert_eq!(
                store
                    .load(&format!("w{w}-{i}"), SecretKind::AzureConnectionString)
                    .unwrap(),
                Some(secret(&format!("value {w} {i}")))
            );
        }
    }
}

#[test]
fn damaged_or_foreign_files_are_clear_errors_and_are_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    file_store(&path, Some(MASTER))
        .store("p", SecretKind::DbPassword, &secret("pw-1"))
        .unwrap();
    let good = std::fs::read_to_string(&path).unwrap();
    let cases = [
        ("truncated", good[..good.len() / 2].to_owned()),
        ("not json", "plain text password=hunter2".to_owned()),
        (
            "newer version",
            good.replace("\"version\": 1", "\"version\": 99"),
        ),
        (
            "other format",
            good.replace("rythm-backup-secrets", "something-else"),
        ),
        (
            "flipped ciphertext",
            good.replacen("\"ciphertext\": \"", "\"ciphertext\": \"AAAA", 1),
        ),
        (
            "bad nonce",
            good.replacen("\"nonce\": \"", "\"nonce\": \"x", 1),
        ),
    ];
    for (what, text) in cases {
        std::fs::write(&path, &text).unwrap();
        let store = file_store(&path, Some(MASTER));
        let read = store.load("p", SecretKind::DbPassword);
        let write = store.store("q", SecretKind::DbPassword, &secret("pw-2"));
        for result in [read.map(drop), write] {
            let error = result.err().unwrap_or_else(|| panic!("{what}: accepted"));
            let message = error.to_string();
            assert!(
                message.contains(&path.display().to_string()),
                "{what}: {message}"
            );
            assert!(!message.contains("pw-"), "{what}: {message}");
        }
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "{what}: the file was changed"
        );
    }
}
