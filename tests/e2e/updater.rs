//! Updates: the app checks a local server for a signed update manifest, installs the update
//! when its signature matches, and refuses it when it does not. The key pair is generated
//! here, for this run only (a debug build reads the endpoint and public key from
//! RYTHM_UPDATER_ENDPOINT and RYTHM_UPDATER_PUBKEY). The installed "update" replaces a copy
//! of the app, never the binary Cargo built.

use std::os::unix::fs::PermissionsExt;

use base64::Engine as _;
use serde_json::json;

use crate::support::{App, AppOptions, FileServer, APP_BINARY};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A key pair in the Tauri signer's format: the public key and a signing function, each
/// base64 of minisign's text form.
struct UpdateKey {
    public: String,
    pair: minisign::KeyPair,
}

impl UpdateKey {
    fn generate() -> UpdateKey {
        let pair = minisign::KeyPair::generate_unencrypted_keypair().expect("a key pair");
        let public = B64.encode(pair.pk.to_box().expect("the public key").to_string());
        UpdateKey { public, pair }
    }

    fn sign(&self, data: &[u8]) -> String {
        let signature = minisign::sign(Some(&self.pair.pk), &self.pair.sk, data, None, None)
            .expect("a signature");
        B64.encode(signature.to_string())
    }
}

/// The manifest of version 9.9.9 for this platform, pointing at `url`.
fn manifest(signature: &str, url: &str) -> Vec<u8> {
    let platform = format!("linux-{}", std::env::consts::ARCH);
    let body = json!({
        "version": "9.9.9",
        "notes": "Faster restores.",
        "pub_date": "2026-11-01T12:00:00Z",
        "platforms": { platform: { "signature": signature, "url": url } },
    });
    serde_json::to_vec(&body).expect("JSON")
}

/// Serves an update whose manifest carries `signature`; the app runs from a copy that the
/// update may replace.
fn start(key: &UpdateKey, update: &[u8], signature: &str) -> (App, FileServer, tempfile::TempDir) {
    let server = FileServer::start();
    server.put(
        "/latest.json",
        manifest(signature, &server.url("/update.bin")),
    );
    server.put("/update.bin", update.to_vec());
    let dir = tempfile::tempdir().expect("a temp dir");
    let copy = dir.path().join("rythm-backup-admin");
    std::fs::copy(APP_BINARY, &copy).expect("a copy of the app");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let app = App::start_with(
        AppOptions::new()
            .binary(&copy)
            .env("RYTHM_UPDATER_ENDPOINT", server.url("/latest.json"))
            .env("RYTHM_UPDATER_PUBKEY", &key.public),
    );
    (app, server, dir)
}

/// Any small ELF executable stands in for the new version's AppImage.
fn new_version() -> Vec<u8> {
    std::fs::read("/bin/true").expect("/bin/true")
}

#[test]
fn a_signed_update_is_found_and_installed() {
    let key = UpdateKey::generate();
    let update = new_version();
    let (app, _server, dir) = start(&key, &update, &key.sign(&update));

    let info = app
        .invoke("check_for_update", json!({}))
        .expect("check_for_update");
    assert_eq!(info["available"], true, "{info}");
    assert_eq!(info["version"], "9.9.9");
    assert_eq!(info["currentVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["notes"], "Faster restores.");

    let (installed, events) = app.invoke_with_channel("install_update", json!({}), "onEvent");
    installed.expect("install_update");
    assert!(
        events.iter().any(|e| e["event"] == "installing"),
        "no install event: {events:?}"
    );
    let installed = std::fs::read(dir.path().join("rythm-backup-admin")).expect("the app file");
    assert!(installed == update, "the update did not replace the app");
}

#[test]
fn an_update_with_a_wrong_signature_is_refused() {
    let key = UpdateKey::generate();
    let update = new_version();
    let mut tampered = update.clone();
    tampered.extend_from_slice(b"tampered");
    let (app, _server, dir) = start(&key, &update, &key.sign(&tampered));

    let refused = app
        .invoke_with_channel("install_update", json!({}), "onEvent")
        .0
        .expect_err("a bad signature must be refused");
    assert_eq!(refused["code"], "checksum_mismatch", "{refused}");
    let app_file = std::fs::read(dir.path().join("rythm-backup-admin")).expect("the app file");
    assert!(
        app_file != update,
        "the app was replaced despite the bad signature"
    );
}

#[test]
fn without_an_update_server_the_check_says_so() {
    // The committed tauri.conf.json's endpoint is a placeholder on `.invalid`.
    let app = App::start();
    let refused = app
        .invoke("check_for_update", json!({}))
        .expect_err("no update server is configured");
    assert_eq!(refused["code"], "unsupported", "{refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(message.contains("no update server configured"), "{message}");
}
