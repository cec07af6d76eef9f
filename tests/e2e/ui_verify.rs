//! The health strip and the Verified column in the real window: a store holding only an old
//! backup reads as stale, a new backup makes it current but unproven, and the Verify action
//! restores it into a scratch database, shows the per-table report, and marks the row
//! verified with its restore time. Run under `keyctl session -` (the profile's password goes
//! to the keychain).

use crate::support::ui::{dismiss_toasts, id, property, wait_idle, wait_passed, LONG};
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
    dismiss_toasts(&app);
    app.screenshot("29-health-stale");

    app.click(&id("create-backup"));
    // Retention (10 days) removes the old backup after the new one is stored.
    let old = "backup-row-rythm-backup-2026-01-05T02-00-00-000Z.sql";
    let new_row = || {
        app.find_all("[data-testid^=\"backup-row-rythm-backup-\"]")
            .iter()
            .filter_map(|r| app.session().attribute(r, "data-testid").ok().flatten())
            .find(|testid| testid != old)
    };
    app.wait_until("the new backup's row", LONG, || new_row().is_some());
    wait_idle(&app);
    dismiss_toasts(&app);
    let name = new_row()
        .unwrap()
        .trim_start_matches("backup-row-")
        .to_owned();
    app.wait_for_text(
        &id("health-headline"),
        "none has been proven restorable yet",
        LONG,
    );
    assert_eq!(app.text(&id(&format!("verified-{name}"))).trim(), "Never");

    app.click(&id(&format!("verify-{name}")));
    app.find(&id("verify-report"));
    // The dialog fades in: its text shows once it is visible.
    let report = app.wait_for_text(&id("verify-tables"), "public.t", LONG);
    assert!(report.contains("250"), "{report}");
    app.screenshot("30-verify-report");
    app.click(&id("verify-report-close"));
    wait_idle(&app);
    dismiss_toasts(&app);
    let cell_id = id(&format!("verified-{name}"));
    app.wait_for_text(&cell_id, "Verified", LONG);
    // The whole cell: its second line may sit past the table's scroll edge, where WebDriver
    // reads no text.
    let cell = property(&app, &cell_id, "textContent");
    let cell = cell.as_str().unwrap_or_default();
    assert!(
        cell.contains("just now · restore"),
        "time and restore duration: {cell}"
    );
    app.wait_for_text(
        &id("health-headline"),
        "Backups are current and the last verification passed.",
        LONG,
    );
    app.screenshot("31-verified");
}
