//! API profiles through the real UI (clicks and typing on `data-testid`s): against our REST
//! server (in-process, over the test PostgreSQL and a container on Azurite) a wrong password
//! is refused in words, then the right one signs in, the checks pass, a backup is created,
//! listed and really stored, and the server's schedule is edited. A non-admin account of the
//! RYTHM platform gets its own clear message. The token goes to the OS keychain: run under
//! `keyctl session -` (scripts/test.sh does).

use base64::Engine as _;
use serde_json::json;

use rythm_backup_core::jobs::backup::BackupRequest;
use rythm_backup_core::{BackupKind, Compression, DumpFormat};

use crate::support::ui::{assert_secret_nowhere, id, property, wait_idle, wait_passed, LONG};
use crate::support::{ApiServer, App, AppOptions, FileServer, TestDb};

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Fills the API profile form (the welcome screen's "Add a connection profile" already
/// clicked) and submits it.
fn submit_api_profile(app: &App, name: &str, url: &str, email: &str, password: &str) {
    app.find(&id("profile-form"));
    app.type_text(&id("profile-name"), name);
    app.click(&id("profile-mode-api"));
    app.type_text(&id("api-url"), url);
    app.type_text(&id("api-email"), email);
    app.type_text(&id("api-password"), password);
    app.click(&id("profile-save"));
}

/// Waits for the form's error box; returns its sentence.
fn form_error(app: &App) -> String {
    app.wait_until("the sign-in error", LONG, || {
        app.exists(&id("error-message"))
    });
    app.text(&id("error-message"))
}

#[test]
fn an_api_profile_signs_in_lists_and_creates_through_the_ui() {
    let db = TestDb::create();
    db.query(
        "CREATE TABLE workouts (id bigint PRIMARY KEY, title text, performed_at timestamptz);
         INSERT INTO workouts SELECT g, 'Workout ' || g || repeat(md5(g::text), 4),
             timestamptz '2026-01-01' + g * interval '7 minutes'
         FROM generate_series(1, 40000) g",
    );
    let server = ApiServer::start(&db);
    // What a server holds after some use: scheduled and manual backups in both formats.
    let made_by = |kind, format, compression, by: Option<&str>| BackupRequest {
        format,
        compression,
        kind,
        created_by: by.map(str::to_owned),
    };
    server.make_backups(&[
        made_by(
            BackupKind::Scheduled,
            DumpFormat::Custom,
            Compression::Zstd,
            Some("system"),
        ),
        made_by(
            BackupKind::Manual,
            DumpFormat::Plain,
            Compression::Gzip,
            Some("ops@rythm.test"),
        ),
        made_by(
            BackupKind::Scheduled,
            DumpFormat::Plain,
            Compression::Zstd,
            Some("system"),
        ),
    ]);
    // A zone with an offset from UTC, so the schedule shows local time and UTC apart.
    let app = App::start_with(AppOptions::new().env("TZ", "Europe/Oslo"));

    app.find(&id("welcome"));
    app.click(&id("add-profile"));

    // A wrong password: refused in words, nothing signed in, the form stays.
    submit_api_profile(
        &app,
        "rythm-api",
        &server.url,
        &server.admin_email,
        "not the password",
    );
    let refused = form_error(&app);
    assert!(
        refused.contains("email or password was not accepted"),
        "wrong password message: {refused:?}"
    );
    assert!(
        !app.exists(&id("connection-checks")),
        "no checks after a refused sign-in"
    );
    app.screenshot("16-api-wrong-password");

    // The right password: signed in, and every check of an API profile passes.
    app.type_text(&id("api-password"), &server.admin_password);
    app.click(&id("profile-save"));
    app.find(&id("connection-checks"));
    for check in ["server", "sign_in", "role"] {
        wait_passed(&app, check);
    }
    app.screenshot("17-api-checks");
    assert_secret_nowhere(&app, &server.admin_password, "the admin's password");
    // Every token is a JWT, and every JWT starts with the base64 of `{"alg":`.
    assert_secret_nowhere(&app, "eyJhbGciOi", "a session token");
    app.click(&id("profile-done"));

    // The server's list, then a backup made by the server, listed and stored.
    let before = server.stored_backups();
    app.wait_for_text(&id("backup-count"), "3 backups", LONG);
    for name in &before {
        app.find(&id(&format!("backup-row-{name}")));
    }
    app.click(&id("create-backup"));
    app.wait_until("the new backup's row", LONG, || {
        app.find_all("[data-testid^=\"backup-row-\"]").len() == 4
    });
    wait_idle(&app);
    let stored = server.stored_backups();
    assert_eq!(stored.len(), 4, "{stored:?}");
    let name = stored
        .iter()
        .find(|n| !before.contains(n))
        .expect("a new backup on the server")
        .clone();
    assert!(name.starts_with("rythm-backup-"), "{name}");
    let row_id = format!("backup-row-{name}");
    app.find(&id(&row_id));
    app.wait_for_text(&id("backup-count"), "4 backups", LONG);
    app.find("[data-testid=\"toast\"][data-kind=\"success\"]");
    app.screenshot("18-api-backups");

    // The server's daily schedule (02:00 UTC, 03:00 in Oslo in winter): switch it on and
    // change the retention; both are the server's afterwards.
    app.click(&id("nav-schedule"));
    app.find(&id("schedule-form"));
    app.wait_for_text(&id("schedule-utc"), "02:00 UTC", LONG);
    assert_eq!(
        property(&app, &id("schedule-time"), "value"),
        json!("03:00"),
        "02:00 UTC in the app's local time"
    );
    if property(&app, &id("schedule-enabled"), "checked") != json!(true) {
        app.click(&id("schedule-enabled"));
    }
    app.type_text(&id("schedule-retention"), "14");
    // Our server rehearses scheduled backups when asked (off by default without a scratch
    // server): switch it on.
    assert_eq!(
        property(&app, &id("schedule-verify"), "checked"),
        json!(false),
        "no scratch server: rehearsals start off"
    );
    app.click(&id("schedule-verify"));
    app.click(&id("schedule-save"));
    app.wait_for_text(
        "[data-testid=\"toast\"][data-kind=\"success\"]:last-child",
        "Schedule saved",
        LONG,
    );
    app.screenshot("15-schedule");
    app.click(&id("nav-backups"));
    app.find(&id(&row_id));
    app.click(&id("nav-schedule"));
    app.find(&id("schedule-form"));
    app.wait_until("the saved retention, read back", LONG, || {
        property(&app, &id("schedule-retention"), "value") == json!("14")
    });
    assert_eq!(
        property(&app, &id("schedule-enabled"), "checked"),
        json!(true),
        "the schedule stays on"
    );
    assert_eq!(
        property(&app, &id("schedule-verify"), "checked"),
        json!(true),
        "the server now rehearses each scheduled backup"
    );
    app.wait_for_text(".schedule-status", "After each scheduled backup", LONG);
}

/// What the RYTHM platform answers a successful sign-in (DESIGN.md): a token whose claims
/// carry the role, and the user. The signature is not checked by the app (it has no secret).
fn rythm_login_answer(email: &str, role: &str) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = B64URL.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({"userId": 12, "tenantId": 3, "role": role, "email": email,
        "iat": now, "exp": now + 7 * 24 * 3600});
    let payload = B64URL.encode(claims.to_string());
    let signature = B64URL.encode([7u8; 32]);
    let user = json!({"id": 12, "email": email, "role": role, "firstName": "Tess",
        "lastName": "Tenant", "tenantId": 3});
    serde_json::to_vec(&json!({"token": format!("{header}.{payload}.{signature}"), "user": user}))
        .unwrap()
}

#[test]
fn a_non_admin_account_is_told_it_is_not_a_system_admin() {
    // The RYTHM platform signs in any user; only system_admin may use the backup API.
    let platform = FileServer::start();
    let email = "tenant.admin@rythm.test";
    platform.put("/api/auth/login", rythm_login_answer(email, "tenant_admin"));
    let app = App::start();

    app.find(&id("welcome"));
    app.click(&id("add-profile"));
    submit_api_profile(&app, "platform", &platform.url(""), email, "a password");
    let refused = form_error(&app);
    assert!(
        refused.contains("not a system admin"),
        "non-admin message: {refused:?}"
    );
    assert!(!app.exists(&id("connection-checks")));
    app.screenshot("19-not-admin");
}
