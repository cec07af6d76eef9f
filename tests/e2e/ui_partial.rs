//! "Contents" and "Restore part…" through the real window, on a direct profile over the
//! multi-tenant fixture: the contents panel's row counts, the table picker's search, a
//! tenant picked from those found in the backup with its rows, the preview (nothing
//! changed, checked in PostgreSQL), the restore dialog's two steps, the result per table
//! and its roll back, each checked in PostgreSQL. Screenshots 23-27 are the README's.

use std::time::Duration;

use crate::support::ui::{
    attribute, click_fresh, dismiss_toasts, id, is_disabled, wait_idle, wait_passed, LONG,
};
use crate::support::{App, AppOptions, TestDb};

const TENANT_SCHEMA: &str = include_str!("../../crates/core/tests/fixtures/tenant_schema.sql");
const A: &str = "00000000-0000-0000-0000-00000000000a";
const B: &str = "00000000-0000-0000-0000-00000000000b";

fn sessions_of(db: &TestDb, tenant: &str) -> String {
    db.query(&format!(
        "SELECT count(*) FROM sessions WHERE tenant_id = '{tenant}'"
    ))
}

/// The element's text content, wherever it is scrolled to.
fn content(app: &App, css: &str) -> String {
    app.find(css);
    app.execute(
        "return document.querySelector(arguments[0]).textContent",
        vec![css.into()],
    )
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

fn is_shown(app: &App, css: &str) -> bool {
    app.execute(
        "const e = document.querySelector(arguments[0]); return !!e && e.offsetParent !== null",
        vec![css.into()],
    ) == serde_json::Value::Bool(true)
}

/// Types the database's name in step 2 (after a wrong one) and restores.
fn confirm(app: &App, db: &TestDb) {
    app.click(&id("restore-continue"));
    app.find(&id("restore-confirm-input"));
    app.type_text(&id("restore-confirm-input"), "not-the-name");
    assert!(is_disabled(app, &id("restore-submit")));
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
fn contents_and_a_tenants_restore_through_the_ui() {
    let db = TestDb::create();
    db.query(TENANT_SCHEMA);
    let store = tempfile::tempdir().expect("a store folder");
    let app = App::start_with(AppOptions::new());

    app.find(&id("welcome"));
    app.click(&id("add-profile"));
    app.find(&id("profile-form"));
    app.type_text(&id("profile-name"), "tenants");
    app.click(&id("profile-mode-direct"));
    app.type_text(&id("db-host"), &db.host);
    app.type_text(&id("db-port"), &db.port.to_string());
    app.type_text(&id("db-name"), &db.name);
    app.type_text(&id("db-user"), &db.user);
    app.type_text(&id("db-password"), &db.password);
    app.click(&id("storage-local"));
    app.type_text(&id("local-dir"), &store.path().to_string_lossy());
    app.click(&id("profile-save"));
    app.find(&id("connection-checks"));
    for check in ["database", "pg_tools", "storage"] {
        wait_passed(&app, check);
    }
    app.click(&id("profile-done"));
    app.click(&id("create-backup-empty"));
    app.wait_until("the backup's row", LONG, || {
        !app.find_all("[data-testid^=\"backup-row-\"]").is_empty()
    });
    wait_idle(&app);
    let row = app.find_all("[data-testid^=\"backup-row-\"]")[0].clone();
    let name = app
        .session()
        .attribute(&row, "data-testid")
        .unwrap()
        .unwrap()
        .trim_start_matches("backup-row-")
        .to_owned();

    // Since the backup: tenant B lost its sessions, tenant A recorded a new one.
    db.query(&format!(
        "DELETE FROM sessions WHERE tenant_id = '{B}';
         INSERT INTO sessions (session_id, tenant_id, user_id, started_at) \
           SELECT md5('new')::uuid, tenant_id, user_id, now() FROM users WHERE tenant_id = '{A}' LIMIT 1;"
    ));
    assert_eq!(sessions_of(&db, B), "0");
    assert_eq!(sessions_of(&db, A), "41");

    // Contents: every table with its exact rows, read from the backup alone.
    dismiss_toasts(&app);
    click_fresh(&app, &id(&format!("contents-{name}")));
    app.find(&id("contents-modal"));
    let sets = id("contents-row-public.sets");
    app.find(&sets);
    assert_eq!(attribute(&app, &sets, "data-rows").as_deref(), Some("480"));
    assert_eq!(content(&app, &id("contents-table-count")), "8");
    assert!(content(&app, &id("contents-tenants")).contains(B));
    std::thread::sleep(Duration::from_millis(1500));
    app.screenshot("32-contents");

    // A dialog closed while its read runs stops it by the read's id; a cancel can even
    // overtake the command (then the read starts stopped), and a stopped read says so.
    assert_eq!(
        app.invoke(
            "cancel_job",
            serde_json::json!({"jobId": "contents-e2e-closed"})
        ),
        Ok(serde_json::json!(false)),
        "no read of that id runs yet"
    );
    let stopped = app
        .invoke(
            "backup_contents",
            serde_json::json!({"profile": "tenants", "name": name, "readId": "contents-e2e-closed"}),
        )
        .expect_err("a stopped read");
    assert_eq!(stopped["code"], "cancelled", "{stopped}");

    // Restore part: from the contents panel, the picker with the same counts.
    app.click(&id("contents-restore-part"));
    app.find(&id("partial-modal"));
    app.find(&id("partial-table-public.sessions"));
    app.type_text(&id("partial-search"), "sess");
    app.wait_until("the search to filter", Duration::from_secs(5), || {
        !is_shown(&app, &id("partial-table-public.sets"))
    });
    assert!(is_shown(&app, &id("partial-table-public.sessions")));
    app.type_text(&id("partial-search"), "public.");
    app.wait_until("the list to come back", Duration::from_secs(5), || {
        is_shown(&app, &id("partial-table-public.sets"))
    });
    assert!(
        is_disabled(&app, &id("partial-preview")),
        "nothing chosen yet"
    );
    // Tenant B, picked from those the backup holds.
    app.click(&format!("{} option[value=\"{B}\"]", id("partial-tenant")));
    app.wait_until("the preview to be possible", Duration::from_secs(5), || {
        !is_disabled(&app, &id("partial-preview"))
    });
    assert!(is_disabled(&app, &id("partial-continue")), "preview first");
    app.click(&id("partial-preview"));
    let preview_row = id("partial-preview-table-row-public.sessions");
    app.wait_until("the preview", LONG, || app.exists(&preview_row));
    assert_eq!(
        attribute(&app, &preview_row, "data-inserted").as_deref(),
        Some("40")
    );
    assert_eq!(
        attribute(&app, &preview_row, "data-deleted").as_deref(),
        Some("0")
    );
    let users = id("partial-preview-table-row-public.users");
    assert_eq!(
        attribute(&app, &users, "data-unchanged").as_deref(),
        Some("5")
    );
    assert_eq!(sessions_of(&db, B), "0", "a preview changes nothing");
    wait_idle(&app);
    std::thread::sleep(Duration::from_millis(1500));
    app.screenshot("33-partial-preview");

    // The restore dialog's two steps, then the result.
    app.click(&id("partial-continue"));
    app.find(&id("restore-modal"));
    let what = content(&app, &id("restore-partial-what"));
    assert!(what.contains(B) && what.contains(&db.name), "{what}");
    app.find(&id("restore-preview-row-public.sessions"));
    app.execute(
        "document.querySelector(arguments[0] + ' .modal-body').scrollTop = 0",
        vec![id("restore-modal").into()],
    );
    std::thread::sleep(Duration::from_millis(1500));
    app.screenshot("34-partial-step1");
    confirm(&app, &db);
    assert_eq!(sessions_of(&db, B), "40", "B came back");
    assert_eq!(sessions_of(&db, A), "41", "A kept its new session");
    let result = id("restore-partial-result-row-public.sets");
    assert_eq!(
        attribute(&app, &result, "data-inserted").as_deref(),
        Some("160")
    );
    let safety = content(&app, &id("safety-backup-name"));
    assert!(safety.starts_with("pre-restore-tables-"), "{safety}");
    dismiss_toasts(&app);
    app.screenshot("35-partial-complete");

    // Roll back: the same tenant's rows from the safety backup, through the same two steps.
    app.click(&id("rollback"));
    app.find(&id("restore-modal"));
    assert!(content(&app, &id("restore-partial-what")).contains(B));
    confirm(&app, &db);
    assert_eq!(sessions_of(&db, B), "0", "rolled back");
    assert_eq!(sessions_of(&db, A), "41");
    dismiss_toasts(&app);
    app.screenshot("36-partial-rolled-back");
    app.click(&id("restore-close"));
    app.wait_gone(&id("restore-modal"), LONG);
}
