//! A direct profile through the real UI (clicks and typing on `data-testid`s, no `invoke`):
//! the test PostgreSQL with a local folder store, through the connection checks, a backup,
//! its download, a restore, the roll back, a delete and an edit of the profile that keeps its
//! stored password. Screenshots of each main screen go
//! to `RYTHM_E2E_SCREENSHOTS`. The profile's password goes to the OS keychain: run under
//! `keyctl session -` (scripts/test.sh does).

use std::time::Duration;

use serde_json::json;

use crate::support::ui::{
    assert_secret_nowhere, attribute, click_fresh, dismiss_toasts, id, is_disabled, property,
    wait_idle, wait_passed, LONG,
};
use crate::support::{App, AppOptions, TestDb};

fn count(db: &TestDb) -> String {
    db.query("SELECT count(*) FROM t")
}

/// Steps 1 and 2 of the restore dialog, already open: checks the submit button is disabled
/// until the database's name is typed, then restores and waits for the result.
fn confirm_restore(app: &App, db: &TestDb, shot: Option<&str>) {
    app.find(&id("restore-modal"));
    // The test server's profile connects as its superuser: step 1 says so first.
    app.wait_for_text(&id("restore-superuser-warning"), "a superuser", LONG);
    if let Some(name) = shot {
        app.screenshot(name);
    }
    app.click(&id("restore-continue"));
    app.find(&id("restore-confirm-input"));
    assert!(
        is_disabled(app, &id("restore-submit")),
        "restore must be disabled before the name is typed"
    );
    app.type_text(&id("restore-confirm-input"), "not-the-name");
    assert!(
        is_disabled(app, &id("restore-submit")),
        "restore must stay disabled for a wrong name"
    );
    app.type_text(&id("restore-confirm-input"), &db.name);
    app.wait_until("restore to be enabled", Duration::from_secs(5), || {
        !is_disabled(app, &id("restore-submit"))
    });
    app.click(&id("restore-submit"));
    app.wait_until("the restore result", LONG, || {
        app.exists(&id("restore-result"))
    });
}

#[test]
fn a_direct_profile_through_the_ui() {
    let db = TestDb::create();
    db.query("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100)");
    // Some bulk, so that sizes and progress look like a real database's.
    db.query(
        "CREATE TABLE workouts AS SELECT g AS id, 'Workout ' || g || repeat(md5(g::text), 4) \
         AS title FROM generate_series(1, 30000) g",
    );
    let store = tempfile::tempdir().expect("a store folder");
    let saves = tempfile::tempdir().expect("a save folder");
    let app = App::start_with(AppOptions::new().env(
        "RYTHM_E2E_SAVE_DIR",
        saves.path().to_string_lossy().into_owned(),
    ));

    // First run: the welcome screen, then the profile form.
    app.find(&id("welcome"));
    app.screenshot("01-welcome");
    app.click(&id("add-profile"));
    app.find(&id("profile-form"));
    app.type_text(&id("profile-name"), "local");
    app.click(&id("profile-mode-direct"));
    app.type_text(&id("db-host"), &db.host);
    app.type_text(&id("db-port"), &db.port.to_string());
    app.type_text(&id("db-name"), &db.name);
    app.type_text(&id("db-user"), &db.user);
    app.type_text(&id("db-password"), &db.password);
    app.click(&id("storage-local"));
    app.type_text(&id("local-dir"), &store.path().to_string_lossy());
    app.screenshot("02-add-profile");
    app.click(&id("profile-save"));

    // The checks pass.
    app.find(&id("connection-checks"));
    for check in ["database", "pg_tools", "storage"] {
        wait_passed(&app, check);
    }
    app.screenshot("03-connection-checks");
    assert_secret_nowhere(&app, &db.password, "the database password");
    app.click(&id("profile-done"));

    // An empty list, then a backup and its row.
    app.find(&id("backups-empty"));
    app.screenshot("04-backups-empty");
    app.click(&id("create-backup-empty"));
    app.wait_until("the new backup's row", LONG, || {
        !app.find_all("[data-testid^=\"backup-row-\"]").is_empty()
    });
    wait_idle(&app);
    let rows = app.find_all("[data-testid^=\"backup-row-\"]");
    assert_eq!(rows.len(), 1);
    let row_id = app
        .session()
        .attribute(&rows[0], "data-testid")
        .unwrap()
        .unwrap();
    let name = row_id.strip_prefix("backup-row-").unwrap().to_owned();
    assert!(name.starts_with("rythm-backup-"), "{name}");
    let row = id(&row_id);
    // The listed sha256 is in the badge's tooltip: "sha256 HEX".
    let badge = format!("{row} [title^=\"sha256 \"]");
    let listed_sha = attribute(&app, &badge, "title")
        .unwrap()
        .trim_start_matches("sha256 ")
        .to_owned();
    assert_eq!(listed_sha.len(), 64, "{listed_sha}");
    app.wait_for_text(&id("backup-count"), "1 backup", LONG);
    app.screenshot("05-backups");

    // The download lands in the save folder with the listed checksum.
    app.click(&id(&format!("download-{name}")));
    let path = saves.path().join(&name);
    app.wait_until("the download", LONG, || path.is_file());
    wait_idle(&app);
    app.find("[data-testid=\"toast\"][data-kind=\"success\"]");
    app.screenshot("06-downloaded");
    let output = std::process::Command::new("sha256sum")
        .arg(&path)
        .output()
        .expect("sha256sum runs");
    let sha = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(sha, listed_sha, "the download's sha256");

    // The data changes, then the restore brings it back.
    db.query("DELETE FROM t WHERE id > 10");
    assert_eq!(count(&db), "10");
    app.click(&id(&format!("restore-{name}")));
    confirm_restore(&app, &db, Some("07-restore-step1"));
    assert_eq!(count(&db), "100", "the restore brings the data back");
    let safety = app.text(&id("safety-backup-name"));
    assert!(safety.contains("pre-restore-"), "safety backup: {safety}");
    app.screenshot("08-restore-complete");

    // Roll back: the changed data is back.
    app.click(&id("rollback"));
    confirm_restore(&app, &db, None);
    assert_eq!(count(&db), "10", "the roll back restores the changed data");
    app.screenshot("09-rolled-back");
    app.click(&id("restore-close"));
    app.wait_gone(&id("restore-modal"), Duration::from_secs(10));

    // Delete the backup through its dialog.
    app.click(&id("refresh"));
    click_fresh(&app, &id(&format!("delete-{name}")));
    app.find(&id("delete-modal"));
    app.screenshot("10-delete");
    click_fresh(&app, &id("delete-confirm"));
    app.wait_gone(&id("delete-modal"), LONG);
    app.wait_gone(&row, LONG);

    // The other screens.
    for (nav, shot) in [
        ("nav-local", "11-local-copies"),
        ("nav-activity", "12-activity"),
        ("nav-profiles", "13-connections"),
        ("nav-settings", "14-settings"),
    ] {
        app.click(&id(nav));
        dismiss_toasts(&app);
        std::thread::sleep(Duration::from_millis(500));
        app.screenshot(shot);
    }

    // Edit the profile without retyping the password: the form is filled in, the password
    // field is empty, and the checks still pass (the stored password was kept).
    app.click(&id("nav-profiles"));
    app.click(&id("edit-profile-local"));
    app.find(&id("profile-form"));
    assert_eq!(property(&app, &id("db-host"), "value"), json!(db.host));
    assert_eq!(property(&app, &id("db-name"), "value"), json!(db.name));
    assert_eq!(property(&app, &id("db-password"), "value"), json!(""));
    assert_eq!(property(&app, &id("profile-name"), "readOnly"), json!(true));
    app.screenshot("20-edit-profile");
    app.click(&id("profile-save"));
    app.find(&id("connection-checks"));
    for check in ["database", "pg_tools", "storage"] {
        wait_passed(&app, check);
    }
    assert_secret_nowhere(&app, &db.password, "the database password");
}
