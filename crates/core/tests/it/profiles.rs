//! Profiles: the file in the config folder, secrets in a keychain (an in-memory one here;
//! `keychain.rs` tests the OS store), signing in to an API profile and opening profiles of
//! both modes as `Backups`.

use std::path::PathBuf;

use rythm_backup_core::backups::Mode;
use rythm_backup_core::profile::{
    validate_profile_name, DatabaseSettings, Profile, ProfileMode, ProfileSettings, Profiles,
    StorageSettings,
};
use rythm_backup_core::secrets::{Keychain, SecretKind, Sensitive};
use rythm_backup_core::{Compression, ErrorCode};

use rythm_platform_standin::{Peer, ADMIN_EMAIL, ADMIN_PASSWORD, USER_EMAIL, USER_PASSWORD};

fn api_profile(name: &str, url: &str, email: &str) -> Profile {
    Profile {
        name: name.into(),
        mode: ProfileMode::Api {
            base_url: url.into(),
            email: email.into(),
        },
        settings: ProfileSettings::default(),
        server_database: None,
    }
}

fn direct_profile(name: &str, storage: StorageSettings) -> Profile {
    Profile {
        name: name.into(),
        mode: ProfileMode::Direct {
            database: DatabaseSettings {
                host: "db.example".into(),
                port: 6543,
                database: "rythm".into(),
                user: "backup".into(),
                sslmode: Some("require".into()),
            },
            storage,
        },
        settings: ProfileSettings {
            retention_days: 30,
            compression: Compression::Gzip,
            ..ProfileSettings::default()
        },
        server_database: None,
    }
}

#[test]
fn profile_names_are_checked() {
    for ok in ["prod", "a", "Prod_2-eu", &"x".repeat(64)] {
        assert!(validate_profile_name(ok).is_ok(), "{ok}");
    }
    for bad in ["", "-x", "_x", "a b", "a/b", "a:b", "ü", &"x".repeat(65)] {
        assert!(validate_profile_name(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn profiles_are_saved_listed_replaced_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::in_memory();
    let profiles = Profiles::new(dir.path().join("config"), keychain.clone());
    assert!(profiles.list().unwrap().is_empty(), "no file yet");
    let local = direct_profile(
        "local",
        StorageSettings::Local {
            dir: PathBuf::from("/var/backups/rythm"),
        },
    );
    let api = api_profile("prod", "https://rythm.example", ADMIN_EMAIL);
    profiles.save(&api).unwrap();
    profiles.save(&local).unwrap();
    assert_eq!(profiles.list().unwrap(), vec![local.clone(), api.clone()]);
    let moved = api_profile("prod", "https://new.example", ADMIN_EMAIL);
    profiles.save(&moved).unwrap();
    assert_eq!(profiles.get("prod").unwrap(), moved);
    // The file holds no secret and nothing but the profiles.
    profiles
        .set_secret(
            "local",
            SecretKind::DbPassword,
            &Sensitive::new("pg-pass".into()),
        )
        .unwrap();
    let text = std::fs::read_to_string(profiles.file()).unwrap();
    assert!(!text.contains("pg-pass"));
    assert!(
        text.contains("\"baseUrl\": \"https://new.example\""),
        "{text}"
    );
    // profiles.json, and the empty file whose lock serialises changes between processes.
    let mut files: Vec<_> = std::fs::read_dir(dir.path().join("config"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["profiles.json", "profiles.json.lock"],
        "no temporary files are left"
    );
    assert!(profiles.remove("local").unwrap());
    assert!(!profiles.remove("local").unwrap());
    assert_eq!(
        keychain.load("local", SecretKind::DbPassword).unwrap(),
        None
    );
    let error = profiles.get("local").unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound);
    let bad = api_profile("bad name", "https://x", ADMIN_EMAIL);
    assert_eq!(
        profiles.save(&bad).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    let bad = api_profile("bad", "ftp://x", ADMIN_EMAIL);
    assert_eq!(
        profiles.save(&bad).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
}

#[test]
fn a_damaged_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = Profiles::new(dir.path(), Keychain::in_memory());
    std::fs::write(profiles.file(), "{ not json").unwrap();
    let error = profiles.list().unwrap_err();
    assert_eq!(error.code(), ErrorCode::Config);
    assert!(error.to_string().contains("damaged"), "{error}");
}

#[tokio::test]
async fn an_api_profile_signs_in_keeps_its_token_and_opens() {
    let peer = Peer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::in_memory();
    let profiles = Profiles::new(dir.path(), keychain.clone());
    profiles
        .save(&api_profile("rythm", &peer.url, ADMIN_EMAIL))
        .unwrap();
    // Not signed in yet: it opens, and calls ask for a sign-in.
    let backups = profiles.open("rythm").await.unwrap();
    assert_eq!(
        backups.list().await.unwrap_err().code(),
        ErrorCode::AuthRequired
    );
    let info = profiles
        .login("rythm", &Sensitive::new(ADMIN_PASSWORD.into()))
        .await
        .unwrap();
    assert_eq!(info.role.as_deref(), Some("system_admin"));
    assert!(keychain
        .load("rythm", SecretKind::ApiToken)
        .unwrap()
        .is_some());
    let backups = profiles.open("rythm").await.unwrap();
    let description = backups.describe();
    assert_eq!(description.mode, Mode::Api);
    assert_eq!(description.signed_in_as.as_deref(), Some(ADMIN_EMAIL));
    assert_eq!(backups.list().await.unwrap().len(), 2);
    // A stored token that cannot be read leaves the profile signed out, not broken.
    let garbage = Sensitive::new("not-a-token".to_string());
    keychain
        .store("rythm", SecretKind::ApiToken, &garbage)
        .unwrap();
    let backups = profiles.open("rythm").await.unwrap();
    assert_eq!(
        backups.list().await.unwrap_err().code(),
        ErrorCode::AuthRequired
    );
    assert_eq!(profiles.session("rythm").unwrap(), None);
    assert!(profiles.logout("rythm").unwrap());
    let backups = profiles.open("rythm").await.unwrap();
    assert_eq!(
        backups.list().await.unwrap_err().code(),
        ErrorCode::AuthRequired
    );
}

#[tokio::test]
async fn a_non_admin_profile_keeps_no_token() {
    let peer = Peer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::in_memory();
    let profiles = Profiles::new(dir.path(), keychain.clone());
    profiles
        .save(&api_profile("user", &peer.url, USER_EMAIL))
        .unwrap();
    let error = profiles
        .login("user", &Sensitive::new(USER_PASSWORD.into()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotAdmin);
    assert_eq!(keychain.load("user", SecretKind::ApiToken).unwrap(), None);
}

#[tokio::test]
async fn direct_profiles_open_with_their_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = Profiles::new(dir.path().join("config"), Keychain::in_memory());
    let store = dir.path().join("store");
    profiles
        .save(&direct_profile(
            "local",
            StorageSettings::Local { dir: store.clone() },
        ))
        .unwrap();
    profiles
        .set_secret(
            "local",
            SecretKind::DbPassword,
            &Sensitive::new("pg-pass".into()),
        )
        .unwrap();
    let backups = profiles.open("local").await.unwrap();
    let description = backups.describe();
    assert_eq!(description.mode, Mode::Direct);
    assert_eq!(
        description.database.as_deref(),
        Some("db.example:6543/rythm")
    );
    assert!(description.location.contains("store"), "{description:?}");
    assert!(!format!("{backups:?}").contains("pg-pass"));
    assert_eq!(
        backups.schedule().await.unwrap_err().code(),
        ErrorCode::Unsupported
    );
    // Azure without a stored connection string cannot open.
    profiles
        .save(&direct_profile("azure", StorageSettings::azure_default()))
        .unwrap();
    let error = profiles.open("azure").await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Config);
    assert!(error.to_string().contains("connection string"), "{error}");
    // Signing in is for API profiles.
    let error = profiles
        .login("local", &Sensitive::new("x".into()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unsupported);
}

#[test]
fn profiles_saved_at_the_same_time_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = Profiles::new(dir.path(), Keychain::in_memory());
    std::thread::scope(|scope| {
        for n in 0..16 {
            let profiles = profiles.clone();
            scope.spawn(move || {
                let profile = api_profile(&format!("p{n}"), "https://rythm.example.com", "a@b.c");
                profiles.save(&profile).unwrap();
            });
        }
    });
    let mut names: Vec<String> = profiles
        .list()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.sort();
    let mut expected: Vec<String> = (0..16).map(|n| format!("p{n}")).collect();
    expected.sort();
    assert_eq!(names, expected, "a concurrent save was lost");
}

/// After every API backup the profile remembers the server's database
/// (`remember_server_database`). A backup finishing in one process while another process adds
/// profiles must not write back the list it read before them. (Each `Profiles` here has its
/// own in-process lock, as separate processes would; only the lock file is shared.)
#[test]
fn remembering_a_server_database_loses_no_profile_saved_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let backups = Profiles::new(dir.path(), Keychain::in_memory());
    backups
        .save(&api_profile("api", "https://rythm.example.com", "a@b.c"))
        .unwrap();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..150 {
                // Another database each time, so each call rewrites the file.
                backups
                    .remember_server_database("api", &format!("rythm_{}", i % 2))
                    .unwrap();
            }
        });
        for writer in 0..3 {
            let dir = dir.path();
            scope.spawn(move || {
                let other_process = Profiles::new(dir, Keychain::in_memory());
                for n in 0..12 {
                    let name = format!("w{writer}-{n}");
                    other_process
                        .save(&api_profile(&name, "https://rythm.example.com", "a@b.c"))
                        .unwrap();
                }
            });
        }
    });
    let names: Vec<String> = backups
        .list()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names.len(), 37, "profiles were lost: {names:?}");
    assert_eq!(
        backups.get("api").unwrap().server_database.as_deref(),
        Some("rythm_1")
    );
}

#[test]
fn a_changed_profile_drops_the_secrets_that_no_longer_fit() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = Profiles::new(dir.path(), Keychain::in_memory());
    let secret = |s: &str| Sensitive::new(s.to_owned());
    let has = |kind| profiles.has_secret("p", kind).unwrap();

    // API: the same server and account keep the sign-in; another server drops it.
    profiles
        .save(&api_profile("p", "https://a.example", "ada@a.example"))
        .unwrap();
    profiles
        .set_secret("p", SecretKind::ApiToken, &secret("token-for-a"))
        .unwrap();
    let mut same = api_profile("p", "https://a.example", "ada@a.example");
    same.settings.retention_days = 20;
    profiles.save(&same).unwrap();
    assert!(
        has(SecretKind::ApiToken),
        "a settings change keeps the sign-in"
    );
    profiles
        .save(&api_profile("p", "https://b.example", "ada@a.example"))
        .unwrap();
    assert!(
        !has(SecretKind::ApiToken),
        "a token must never go to another server"
    );

    // API → direct → API: each mode's secrets go with it.
    profiles
        .set_secret("p", SecretKind::ApiToken, &secret("token"))
        .unwrap();
    let azure = || StorageSettings::Azure {
        container: "c".into(),
        shared_with_platform: false,
    };
    profiles.save(&direct_profile("p", azure())).unwrap();
    assert!(!has(SecretKind::ApiToken));
    profiles
        .set_secret("p", SecretKind::DbPassword, &secret("pw"))
        .unwrap();
    profiles
        .set_secret("p", SecretKind::AzureConnectionString, &secret("conn"))
        .unwrap();

    // Direct: another database on the same server keeps the password; another host drops
    // it; leaving Azure drops the connection string.
    let mut other_db = direct_profile("p", azure());
    if let ProfileMode::Direct { database, .. } = &mut other_db.mode {
        database.database = "rythm_copy".into();
    }
    profiles.save(&other_db).unwrap();
    assert!(has(SecretKind::DbPassword) && has(SecretKind::AzureConnectionString));
    let mut other_host = direct_profile(
        "p",
        StorageSettings::Local {
            dir: PathBuf::from("/backups"),
        },
    );
    if let ProfileMode::Direct { database, .. } = &mut other_host.mode {
        database.host = "elsewhere.example".into();
    }
    profiles.save(&other_host).unwrap();
    assert!(
        !has(SecretKind::DbPassword),
        "another host: the password goes"
    );
    assert!(
        !has(SecretKind::AzureConnectionString),
        "no Azure: its secret goes"
    );
}
