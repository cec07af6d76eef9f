//! The health strip and the Verified column in the real window: a store holding only an old
//! backup reads as stale, a new backup makes it current but unproven, and the Verify action
//! restores it into a scratch database, shows the per-table report, and marks the row
//! verified with its restore time. Run under `keyctl session -` (the profile's password goes
//! to the keychain).

use crate::support::ui::{dismiss_toasts, id, wait_idle, wait_passed, LONG};
use crate::support::{App, AppOptions, TestDb};

#[test]
fn the_health_strip_and_the_verified_column() {
    let db = TestDb::create();
    db.query("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 250)");
    let store = tempfile::tempdir().expect("a store folder");
    let backups = store.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    // A legacy backup from long ago: the only one, so backups are stale.
    std::fs::write(
        backups.join("rythm-backup-2026-01-05T02-00-00-000Z.sql"),
        "SELECT 1;\n",
    )
    .unwrap();
    let app = App::start_with(AppOptions::new());
    app.find(&id("welcome"));
    app.click(&id("add-profile"));
    app.find(&id("profile-form"));
    app.type_text(&id("profile-name"), "verify");
    app.click(&id("profile-mode-direct"));
    app.type_text(&id("db-host"), &db.host);
    app.type_text(&id("db-port"), &db.port.to_string());
    app.type_text(&id("db-name"), &db.name);
    app.type_text(&id("db-user"), &db.user);
    app.type_text(&id("db-password"), &db.password);
    app.click(&id("storage-local"));
    app.type_text(&id("local-dir"), &backups.to_string_lossy());
    app.click(&id("profile-save"));
    app.find(&id("connection-checks"));
    for check in ["database", "pg_tools", "storage"] {
        wait_passed(&app, check);
    }
    app.click(&id("profile-done"));

    app.wait_for_text(&id("health-headline"), "Backups are stale", LONG);
    let strip = app.text(&id("health-strip"));
    assert!(strip.contains("more than 26 hours old"), "{strip}");
    assert!(strip.contains("no backup has been verified yet"), "{strip}");
    app.screenshot("21-health-stale");

    app.click(&id("create-backup"));
    app.wait_for_text(&id("backup-count"), "2 backups", LONG);
    wait_idle(&app);
    dismiss_toasts(&app);
    app.wait_for_text(
        &id("health-headline"),
        "none has been proven restorable yet",
        LONG,
    );
    let rows = app.find_all("[data-testid^=\"backup-row-rythm-backup-\"]");
    let names: Vec<String> = rows
        .iter()
        .map(|r| {
            app.session()
                .attribute(r, "data-testid")
                .unwrap()
                .unwrap()
                .trim_start_matches("backup-row-")
                .to_owned()
        })
        .collect();
    let name = names
        .iter()
        .find(|n| !n.starts_with("rythm-backup-2026-01-05"))
        .expect("the new backup")
        .clone();
    assert_eq!(app.text(&id(&format!("verified-{name}"))).trim(), "Never");

    app.click(&id(&format!("verify-{name}")));
    app.find(&id("verify-report"));
    let report = app.text(&id("verify-tables"));
    assert!(report.contains("public.t"), "{report}");
    assert!(report.contains("250"), "{report}");
    app.screenshot("22-verify-report");
    app.click(&id("verify-report-close"));
    wait_idle(&app);
    dismiss_toasts(&app);
    let cell = app.wait_for_text(&id(&format!("verified-{name}")), "Verified", LONG);
    assert!(
        cell.contains("restore"),
        "time and restore duration: {cell}"
    );
    app.wait_for_text(
        &id("health-headline"),
        "Backups are current and the last verification passed.",
        LONG,
    );
    app.screenshot("23-verified");
}
