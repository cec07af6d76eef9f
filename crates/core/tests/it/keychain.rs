//! The OS keychain itself: a secret is stored, read back and deleted in the real store (on
//! Linux CI: the kernel keyring inside `keyctl session -`, or the Secret Service of a
//! private D-Bus session). With no working store this test fails, saying why; it never
//! skips.

use rythm_backup_core::secrets::{Keychain, SecretKind, Sensitive};

#[test]
fn a_secret_round_trips_through_the_os_keychain() {
    let keychain = Keychain::os();
    let store = keychain.store_name().unwrap_or_else(|e| {
        panic!(
            "{e}\nOn Linux run the tests inside a session keyring (`keyctl session - cargo \
             test ...`, Debian package keyutils) or with an unlocked Secret Service."
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
