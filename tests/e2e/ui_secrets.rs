//! The secret store in the real window. Without an OS keychain (the app started with no
//! usable session keyring and no D-Bus): the first screen says where secrets will go and why,
//! the first profile saved asks for a new master password, and Settings names the encrypted
//! file. With an encrypted file already holding the secrets: the unlock dialog at start (a
//! wrong password refused), a change of master password, and the move into the OS keychain
//! (here the kernel keyring of the tests' session) from Settings; and a move made by another
//! program while the app waits, locked, which it must not undo by making a new file. Neither
//! a database password nor a master password may appear in the page or in the app's files in
//! clear.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rythm_backup_core::profile::{
    DatabaseSettings, Profile, ProfileMode, ProfileSettings, Profiles, StorageSettings,
};
use rythm_backup_core::secrets::{
    Keychain, KeychainError, MasterPasswordPrompt, MasterPasswordRequest, SecretKind, Sensitive,
};
use serde_json::json;

use crate::support::ui::{assert_secret_nowhere, dismiss_toasts, id, is_disabled, wait_passed};
use crate::support::{App, AppOptions, TestDb};

/// `keyctl session _uid_ses.UID` without the D-Bus variables and without `RYTHM_KEYCHAIN`:
/// the app then finds no OS keychain, as in a login shell without a session keyring on a
/// fresh machine (even on a desktop with one).
fn no_keychain() -> Vec<String> {
    let uid = std::process::Command::new("id")
        .arg("-u")
        .output()
        .expect("id runs");
    let uid = String::from_utf8_lossy(&uid.stdout).trim().to_owned();
    // Both ways to find a session bus go: its address, and XDG_RUNTIME_DIR/bus.
    [
        "env",
        "-u",
        "DBUS_SESSION_BUS_ADDRESS",
        "-u",
        "XDG_RUNTIME_DIR",
        "-u",
        "RYTHM_KEYCHAIN",
        "keyctl",
        "session",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([format!("_uid_ses.{uid}")])
    .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn ui_without_a_keychain_keeps_secrets_in_an_encrypted_file() {
    let db = TestDb::create();
    let store = tempfile::tempdir().unwrap();
    let master = "e2e master password 4bd1";
    let app = App::start_with(AppOptions::new().wrapper(no_keychain()));

    // The first screen says where the secrets will go, and why.
    app.find(&id("welcome"));
    let note = app.wait_for_text(
        &id("welcome-secret-store"),
        "encrypted file",
        Duration::from_secs(10),
    );
    assert!(note.contains("encrypted file"), "{note}");
    assert!(note.contains("no OS keychain is available"), "{note}");
    app.screenshot("23-welcome-no-keychain");

    app.click(&id("add-profile"));
    app.find(&id("profile-form"));
    app.type_text(&id("profile-name"), "nokeychain");
    app.click(&id("profile-mode-direct"));
    app.type_text(&id("db-host"), &db.host);
    app.type_text(&id("db-port"), &db.port.to_string());
    app.type_text(&id("db-name"), &db.name);
    app.type_text(&id("db-user"), &db.user);
    app.type_text(&id("db-password"), &db.password);
    app.click(&id("storage-local"));
    app.type_text(&id("local-dir"), &store.path().to_string_lossy());
    app.click(&id("profile-save"));

    // Saving the first secret asks for a new master password, typed twice.
    app.find(&id("unlock-modal"));
    app.find(&id("master-password-repeat"));
    app.type_text(&id("master-password"), master);
    app.type_text(&id("master-password-repeat"), "something else");
    app.screenshot("24-choose-master-password");
    app.click(&id("unlock-submit"));
    app.wait_for_text(&id("unlock-modal"), "differ", Duration::from_secs(10));
    assert!(!app.config_dir().join("rythm-backup/secrets.vault").exists());
    app.type_text(&id("master-password"), master);
    app.type_text(&id("master-password-repeat"), master);
    app.click(&id("unlock-submit"));
    app.wait_gone(&id("unlock-modal"), Duration::from_secs(30));

    // The save went on: the checks pass with the password read back from the file.
    app.find(&id("connection-checks"));
    wait_passed(&app, "database");
    let file = app.config_dir().join("rythm-backup/secrets.vault");
    assert!(file.is_file(), "the encrypted file exists");
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    assert_secret_nowhere(&app, &db.password, "the database password");
    assert_secret_nowhere(&app, master, "the master password");
    app.click(&id("profile-done"));

    // Settings names the store, and why nothing can be moved.
    app.click(&id("nav-settings"));
    let summary = app.wait_for_text(
        &id("secret-store-summary"),
        "encrypted file",
        Duration::from_secs(10),
    );
    assert!(summary.contains("no OS keychain is available"), "{summary}");
    assert!(is_disabled(&app, &id("move-to-keychain")));
    dismiss_toasts(&app);
    app.screenshot("25-settings-encrypted-file");
}

/// Gives one master password, for preparing a file before the app starts.
struct Master(&'static str);

impl MasterPasswordPrompt for Master {
    fn ask(
        &self,
        _: MasterPasswordRequest<'_>,
    ) -> Result<Option<Sensitive<String>>, KeychainError> {
        Ok(Some(Sensitive::new(self.0.into())))
    }
    fn hint(&self) -> String {
        String::new()
    }
}

/// A home whose profile `name` keeps its database password in the encrypted file under
/// `master` (made on a machine without keychain); the file's path.
fn home_with_encrypted_file(
    db: &TestDb,
    backups: &Path,
    name: &str,
    master: &'static str,
) -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config/rythm-backup");
    let file_store = Keychain::encrypted_file(config.join("secrets.vault"));
    file_store.set_prompt(Arc::new(Master(master)));
    let profiles = Profiles::new(&config, file_store);
    profiles
        .save(&Profile {
            name: name.to_owned(),
            mode: ProfileMode::Direct {
                database: DatabaseSettings {
                    host: db.host.clone(),
                    port: db.port,
                    database: db.name.clone(),
                    user: db.user.clone(),
                    sslmode: None,
                },
                storage: StorageSettings::Local {
                    dir: backups.to_owned(),
                },
            },
            settings: ProfileSettings::default(),
            server_database: None,
        })
        .unwrap();
    profiles
        .set_secret(
            name,
            SecretKind::DbPassword,
            &Sensitive::new(db.password.clone()),
        )
        .unwrap();
    (home, config.join("secrets.vault"))
}

#[test]
fn ui_unlock_dialog_change_of_master_password_and_move_to_the_keychain() {
    let db = TestDb::create();
    let backups = tempfile::tempdir().unwrap();
    let (first, second) = ("first e2e master password", "second e2e master password");
    let name = format!("e2e-move-{:08x}", rand::random::<u32>());
    let (home, file) = home_with_encrypted_file(&db, backups.path(), &name, first);

    // The OS keychain works here (the tests' session keyring), but the file holds the
    // secrets in use: the app asks for its master password at start.
    let app = App::start_with(AppOptions::new().home(home));
    app.find(&id("unlock-modal"));
    assert!(!app.exists(&id("master-password-repeat")));
    app.wait_for_text(
        &id("unlock-store"),
        "already holds the secrets in use",
        Duration::from_secs(10),
    );
    app.type_text(&id("master-password"), "not the master password");
    app.click(&id("unlock-submit"));
    let error = app.wait_for_text(
        &id("unlock-error"),
        "does not open",
        Duration::from_secs(30),
    );
    assert!(!error.contains("not the master password"), "{error}");
    app.find(&id("unlock-modal"));
    app.screenshot("26-unlock");
    app.type_text(&id("master-password"), first);
    app.click(&id("unlock-submit"));
    app.wait_gone(&id("unlock-modal"), Duration::from_secs(30));
    let checks = app
        .invoke("test_connection", json!({ "name": name }))
        .expect("test_connection");
    assert_eq!(checks[0]["id"], "database", "{checks}");
    assert_eq!(checks[0]["ok"], true, "{checks}");

    // Change the master password from Settings.
    app.click(&id("nav-settings"));
    app.wait_for_text(
        &id("secret-store-summary"),
        "is available now",
        Duration::from_secs(10),
    );
    app.click(&id("change-master-password"));
    app.find(&id("change-master-modal"));
    app.type_text(&id("master-current"), first);
    app.type_text(&id("master-new"), second);
    app.type_text(&id("master-new-repeat"), second);
    app.click(&id("master-change-submit"));
    app.wait_gone(&id("change-master-modal"), Duration::from_secs(30));
    let reopen = |password: &'static str| {
        let k = Keychain::encrypted_file(&file);
        k.set_prompt(Arc::new(Master(password)));
        k.load(&name, SecretKind::DbPassword)
    };
    assert!(matches!(
        reopen(first),
        Err(KeychainError::WrongMasterPassword { .. })
    ));
    assert_eq!(
        reopen(second).unwrap(),
        Some(Sensitive::new(db.password.clone()))
    );

    // Move to the OS keychain: one click.
    dismiss_toasts(&app);
    app.screenshot("27-settings-move");
    app.click(&id("move-to-keychain"));
    app.wait_for_text(
        &id("secret-store-summary"),
        "OS keychain",
        Duration::from_secs(30),
    );
    app.find("[data-testid=\"toast\"][data-kind=\"success\"]");
    let in_keychain = Keychain::os().load(&name, SecretKind::DbPassword);
    let after_move = app.invoke("test_connection", json!({ "name": name }));
    let leaks = [first, second, &db.password].map(|s| app.files_containing(s));
    let page = app.execute("return document.documentElement.outerHTML", vec![]);
    Keychain::os().delete_all(&name).unwrap();
    assert!(!file.exists(), "no secret is left in the encrypted file");
    assert_eq!(
        in_keychain.unwrap(),
        Some(Sensitive::new(db.password.clone()))
    );
    let after_move = after_move.expect("test_connection after the move");
    assert_eq!(after_move[0]["ok"], true, "{after_move}");
    for found in leaks {
        assert!(found.is_empty(), "a secret is in these files: {found:?}");
    }
    let page = page.as_str().unwrap_or_default();
    for secret in [first, second, db.password.as_str()] {
        assert!(!page.contains(secret), "a secret is in the page");
    }
}

/// The app starts on the encrypted file and waits, locked, while a command moves the secrets
/// into the OS keychain (`rythm-backup secrets move-to-keychain`). Settings still offers
/// Unlock; clicking it reads the store again and says that the secrets moved, asking for no
/// password, and the app refuses to make a new, empty file that would hide them.
#[test]
fn ui_a_move_by_another_program_is_never_undone_by_a_new_file() {
    let db = TestDb::create();
    let backups = tempfile::tempdir().unwrap();
    let master = "e2e master password of a moved file";
    let name = format!("e2e-moved-{:08x}", rand::random::<u32>());
    let (home, file) = home_with_encrypted_file(&db, backups.path(), &name, master);
    let app = App::start_with(AppOptions::new().home(home));
    app.find(&id("unlock-modal"));
    app.click(&id("unlock-later"));
    app.wait_gone(&id("unlock-modal"), Duration::from_secs(10));
    app.click(&id("nav-settings"));
    app.find(&id("settings-unlock"));

    // Another program (the CLI) moves the secrets meanwhile.
    let mover = Keychain::encrypted_file(&file);
    mover.set_prompt(Arc::new(Master(master)));
    let moved = mover.move_to_os_keychain();
    assert!(!file.exists());

    app.click(&id("settings-unlock"));
    let notice = app.wait_for_text(
        &id("secrets-moved"),
        "removed by another program",
        Duration::from_secs(10),
    );
    let unlock_shown = app.exists(&id("unlock-modal"));
    app.screenshot("28-secrets-moved");
    app.click(&id("secrets-moved-close"));
    // Even a direct call with the old master password makes no file.
    let unlock = app.invoke("unlock_secrets", json!({ "password": master }));
    let checks = app.invoke("test_connection", json!({ "name": name }));
    let file_came_back = file.exists();
    let in_keychain = Keychain::os().load(&name, SecretKind::DbPassword);
    Keychain::os().delete_all(&name).unwrap();

    assert_eq!(moved.unwrap().moved, 1);
    assert!(notice.contains("Start the app again"), "{notice}");
    assert!(
        !unlock_shown,
        "a password was asked for a file that is gone"
    );
    let error = unlock.expect_err("unlocking a removed file");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("removed by another program"),
        "{error}"
    );
    assert!(!file_came_back, "a new file hides the moved secrets");
    let checks = checks.expect("test_connection answers");
    assert_eq!(checks[0]["ok"], false, "{checks}");
    assert!(
        checks[0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("removed by another program"),
        "{checks}"
    );
    assert_eq!(
        in_keychain.unwrap(),
        Some(Sensitive::new(db.password.clone()))
    );
}
