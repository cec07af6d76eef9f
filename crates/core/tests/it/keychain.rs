//! The OS keychain itself: a secret is stored, read back and deleted in the real store, and
//! the encrypted file's secrets move into it, while another handle that was using the file
//! neither brings it back nor answers "nothing stored" (on Linux CI: the kernel keyring,
//! asked for with `RYTHM_KEYCHAIN=kernel` inside `keyctl session -`, or the Secret Service of
//! a private D-Bus session). With no working store this test fails, saying why; it never
//! skips.

use rythm_backup_core::secrets::{
    Keychain, KeychainError, MasterPasswordPrompt, MasterPasswordRequest, SecretKind,
    SecretStoreKind, Sensitive, VAULT_FILE_NAME,
};

#[test]
fn a_secret_round_trips_through_the_os_keychain() {
    let keychain = Keychain::os();
    let store = keychain.store_name().unwrap_or_else(|e| {
        panic!(
            "{e}\nOn Linux run the tests with the kernel keyring inside a session keyring \
             (`RYTHM_KEYCHAIN=kernel keyctl session - cargo test ...`, Debian package \
             keyutils) or with an unlocked Secret Service."
        )
    });
    eprintln!("keychain store: {store}");
    let profile = format!("it-keychain-{:016x}", rand::random::<u64>());
    let secret = Sensitive::new(format!("token-{:016x}.ünïcode", rand::random::<u64>()));
    let kind = SecretKind::ApiToken;
    keychain
        .store(&profile, kind, &secret)
        .unwrap_or_else(|e| panic!("storing in the {store} failed: {e}"));
    let read = keychain.load(&profile, kind);
    // Clean up before asserting, so a failure leaves nothing behind.
    let deleted = keychain.delete(&profile, kind);
    assert_eq!(
        read.unwrap(),
        Some(secret),
        "the {store} returned another secret"
    );
    assert!(deleted.unwrap(), "the {store} had no entry to delete");
    assert_eq!(
        keychain.load(&profile, kind).unwrap(),
        None,
        "deleted entries are gone"
    );
    assert!(!keychain.delete(&profile, kind).unwrap());
    // Replacing a secret keeps one entry with the new value.
    let first = Sensitive::new("first".to_string());
    let second = Sensitive::new("second".to_string());
    keychain
        .store(&profile, SecretKind::DbPassword, &first)
        .unwrap();
    keychain
        .store(&profile, SecretKind::DbPassword, &second)
        .unwrap();
    let read = keychain.load(&profile, SecretKind::DbPassword);
    keychain.delete_all(&profile).unwrap();
    assert_eq!(read.unwrap(), Some(second));
    assert_eq!(
        keychain.load(&profile, SecretKind::DbPassword).unwrap(),
        None
    );
}

/// A handle on an encrypted file with its master password.
fn encrypted_file(path: &std::path::Path) -> Keychain {
    struct Master;
    impl MasterPasswordPrompt for Master {
        fn ask(
            &self,
            _: MasterPasswordRequest<'_>,
        ) -> Result<Option<Sensitive<String>>, KeychainError> {
            Ok(Some(Sensitive::new("move-test master password".into())))
        }
        fn hint(&self) -> String {
            String::new()
        }
    }
    let keychain = Keychain::encrypted_file(path);
    keychain.set_prompt(std::sync::Arc::new(Master));
    keychain
}

fn os_store_or_explain() -> &'static str {
    Keychain::os().store_name().unwrap_or_else(|e| {
        panic!(
            "{e}\nOn Linux run the tests with the kernel keyring inside a session keyring \
             (`RYTHM_KEYCHAIN=kernel keyctl session - ...`) or with an unlocked Secret Service."
        )
    })
}

#[test]
fn secrets_move_from_the_encrypted_file_into_the_os_keychain() {
    let store = os_store_or_explain();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.vault");
    let file = encrypted_file(&path);
    let profile = format!("it-move-{:016x}", rand::random::<u64>());
    let os = Keychain::os();
    // An older entry already in the keychain: the file's value, the one in use, wins.
    os.store(
        &profile,
        SecretKind::DbPassword,
        &Sensitive::new("stale".into()),
    )
    .unwrap();
    let password = Sensitive::new(format!("pw-{:016x}", rand::random::<u64>()));
    let token = Sensitive::new(format!("token-{:016x}", rand::random::<u64>()));
    file.store(&profile, SecretKind::DbPassword, &password)
        .unwrap();
    file.store(&profile, SecretKind::ApiToken, &token).unwrap();
    let before = file.info();
    assert!(before.can_move, "{:?}", before.move_blocker);
    assert!(before.summary.contains(store), "{}", before.summary);

    let outcome = file.move_to_os_keychain();
    let read = (
        os.load(&profile, SecretKind::DbPassword),
        os.load(&profile, SecretKind::ApiToken),
    );
    os.delete_all(&profile).unwrap();
    let outcome = outcome.unwrap();
    assert_eq!((outcome.moved, outcome.store.as_str()), (2, store));
    assert_eq!(read.0.unwrap(), Some(password.clone()));
    assert_eq!(read.1.unwrap(), Some(token));
    assert!(!path.exists(), "no secret is left behind in the file");
    // The same handle now works on the OS keychain.
    let after = file.info();
    assert_eq!(after.kind, SecretStoreKind::OsKeychain);
    assert!(!after.can_move);
    file.store(&profile, SecretKind::DbPassword, &password)
        .unwrap();
    let direct = os.load(&profile, SecretKind::DbPassword);
    os.delete_all(&profile).unwrap();
    assert_eq!(direct.unwrap(), Some(password));
    assert!(!path.exists());
}

/// The kernel keyring refuses a value over 32 KiB: a move that meets one stops halfway.
#[test]
fn a_move_that_fails_halfway_loses_nothing_and_undoes_what_it_wrote() {
    let store = os_store_or_explain();
    assert_eq!(
        store, "kernel keyring",
        "this test makes the kernel keyring refuse a value; run it with the kernel keyring \
         (RYTHM_KEYCHAIN=kernel)"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.vault");
    let file = encrypted_file(&path);
    let os = Keychain::os();
    let first = format!("it-half-a-{:016x}", rand::random::<u64>());
    let second = format!("it-half-b-{:016x}", rand::random::<u64>());
    let last = format!("it-half-z-{:016x}", rand::random::<u64>());
    os.store(
        &first,
        SecretKind::DbPassword,
        &Sensitive::new("older".into()),
    )
    .unwrap();
    file.store(&first, SecretKind::DbPassword, &Sensitive::new("a".into()))
        .unwrap();
    file.store(&second, SecretKind::DbPassword, &Sensitive::new("b".into()))
        .unwrap();
    // Entries move in name order: this one comes last, after the two above were written.
    let huge = Sensitive::new("x".repeat(40_000));
    file.store(&last, SecretKind::DbPassword, &huge).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let error = file.move_to_os_keychain().expect_err("the move fails");
    let state = (
        os.load(&first, SecretKind::DbPassword),
        os.load(&second, SecretKind::DbPassword),
        os.load(&last, SecretKind::DbPassword),
    );
    for p in [&first, &second, &last] {
        os.delete_all(p).unwrap();
    }
    let message = error.to_string();
    assert!(message.contains("Nothing was lost"), "{message}");
    assert!(message.contains("undone"), "{message}");
    assert!(!message.contains("xxxxxxxx"), "a secret in the message");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the file is untouched"
    );
    assert_eq!(state.0.unwrap(), Some(Sensitive::new("older".into())));
    assert_eq!(state.1.unwrap(), None, "the written entry was undone");
    assert_eq!(state.2.unwrap(), None);
    // The file is still the store in use, with every secret.
    assert_eq!(file.info().kind, SecretStoreKind::EncryptedFile);
    assert_eq!(
        file.load(&last, SecretKind::DbPassword).unwrap(),
        Some(huge)
    );
}

/// The desktop app started on the encrypted file and is still locked; meanwhile a command
/// (`rythm-backup secrets move-to-keychain`) moves the secrets into the OS keychain. When its
/// person then types the old master password, the app must not make a new, empty file, which
/// would become every program's store and hide the moved secrets; nor may it answer "nothing
/// stored". A program started afterwards finds the secrets in the keychain.
#[test]
fn a_store_using_the_file_never_brings_it_back_after_a_move_elsewhere() {
    os_store_or_explain();
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join(VAULT_FILE_NAME);
    let profile = format!("it-moved-{:016x}", rand::random::<u64>());
    let password = Sensitive::new(format!("pw-{:016x}", rand::random::<u64>()));
    encrypted_file(&path)
        .store(&profile, SecretKind::DbPassword, &password)
        .unwrap();
    // The desktop: the store picked for its folder because the file exists; still locked.
    let desktop = Keychain::for_config_dir(config.path()).unwrap();
    let before = desktop.info();
    assert_eq!(before.kind, SecretStoreKind::EncryptedFile);
    assert!(before.file_exists && !before.unlocked && !before.file_removed);

    // The command moves the secrets.
    let moved = encrypted_file(&path).move_to_os_keychain().unwrap();
    assert_eq!(moved.moved, 1);

    let master = Sensitive::new("move-test master password".to_string());
    let unlock = desktop.unlock(&master);
    let save = desktop.store(&profile, SecretKind::ApiToken, &password);
    let load = desktop.load(&profile, SecretKind::DbPassword);
    let contains = desktop.contains(&profile, SecretKind::DbPassword);
    let info = desktop.info();
    let file_came_back = path.exists();
    let restarted = Keychain::for_config_dir(config.path()).unwrap();
    let after_restart = (
        restarted.info().kind,
        restarted.load(&profile, SecretKind::DbPassword),
    );
    Keychain::os().delete_all(&profile).unwrap();

    assert!(!file_came_back, "a new file hides the moved secrets");
    for (what, error) in [
        ("unlock", unlock.err()),
        ("save", save.err()),
        ("load", load.err()),
        ("contains", contains.err()),
    ] {
        let error = error.unwrap_or_else(|| panic!("{what} went on as if nothing moved"));
        assert!(
            matches!(error, KeychainError::Removed { .. }),
            "{what}: {error}"
        );
    }
    assert!(info.file_removed && !info.file_exists, "{info:?}");
    assert!(!info.can_move);
    assert!(
        info.summary.contains("removed by another program"),
        "{}",
        info.summary
    );
    assert_eq!(after_restart.0, SecretStoreKind::OsKeychain);
    assert_eq!(after_restart.1.unwrap(), Some(password));
}
