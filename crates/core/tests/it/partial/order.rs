//! The order of a partial restore's changes, and what a rollback cannot undo. A child row
//! that stays but now points at a parent the backup lacks is put back before that parent
//! goes, so no `ON DELETE` rule fires on it (with CASCADE its own children would vanish;
//! with NO ACTION the restore would fail). Sequences, which `setval` changes outside any
//! transaction, are never lowered, and a dry run sets none: a preview, or a restore that
//! fails late, leaves every sequence as it was.

use rythm_backup_core::catalog::DumpFormat;
use rythm_backup_core::jobs::partial::{PartialSelection, TableName};
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::ErrorCode;

use super::*;

const NEW_USER: &str = "00000000-0000-0000-0000-0000000000ee";

/// After the backup, tenant B gets a new user and one of B's sessions (in the backup, with
/// 4 sets) is moved over to it. Returns that session.
fn move_a_session_to_a_new_user(db: &TestDb) -> String {
    let session = db.query(&format!(
        "SELECT session_id FROM sessions WHERE tenant_id = '{B}' ORDER BY session_id LIMIT 1"
    ))[0][0]
        .clone();
    db.execute(&format!(
        "INSERT INTO users (user_id, tenant_id, email) VALUES ('{NEW_USER}', '{B}', 'new@b.example');
         UPDATE sessions SET user_id = '{NEW_USER}' WHERE session_id = '{session}';"
    ));
    session
}

fn sets_of(db: &TestDb, session: &str) -> String {
    db.query(&format!(
        "SELECT count(*) FROM sets WHERE session_id = '{session}'"
    ))[0][0]
        .clone()
}

/// With ON DELETE CASCADE from users to sessions to sets: restoring users and sessions (not
/// sets) deletes the new user only after the session was pointed back at its old one, so
/// the session is updated, not deleted and inserted again, and its sets stay.
#[tokio::test(flavor = "multi_thread")]
async fn a_child_whose_parent_the_backup_lacks_keeps_its_own_children() {
    let db = tenant_db("partial_order_cascade");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    let users_at_backup = table_dump(&db, "public.users");
    let sessions_at_backup = table_dump(&db, "public.sessions");
    let session = move_a_session_to_a_new_user(&db);
    let sets_before = table_dump(&db, "public.sets");
    assert_eq!(sets_of(&db, &session), "4");

    let outcome = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        PartialSelection {
            tables: vec![
                TableName::new("public", "users"),
                TableName::new("public", "sessions"),
            ],
            ..PartialSelection::default()
        },
    )
    .await
    .expect("restore");
    assert_eq!(table_dump(&db, "public.users"), users_at_backup);
    assert_eq!(table_dump(&db, "public.sessions"), sessions_at_backup);
    assert_eq!(
        sets_of(&db, &session),
        "4",
        "the session's sets are still there"
    );
    assert_eq!(
        table_dump(&db, "public.sets"),
        sets_before,
        "no set vanished"
    );
    let sessions = table(&outcome, "sessions");
    assert_eq!(
        (sessions.updated, sessions.inserted, sessions.deleted),
        (1, 0, 0),
        "the session was updated in place"
    );
    assert_eq!(table(&outcome, "users").deleted, 1);
    assert!(
        outcome.other_tables.is_empty(),
        "no cascade fired: {:?}",
        outcome.other_tables
    );
    no_scratch_left(&db);
}

/// The same with NO ACTION, for one tenant: the end state is valid, so the restore succeeds
/// (deleting the new user first would have failed on the session still pointing at it).
#[tokio::test(flavor = "multi_thread")]
async fn a_child_whose_parent_the_backup_lacks_does_not_block_a_no_action_key() {
    let db = tenant_db("partial_order_noaction");
    db.execute(
        "ALTER TABLE sessions DROP CONSTRAINT sessions_user_id_fkey, \
         ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users",
    );
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Custom);
    let name = backup(&engine).await;
    let b_at_backup = tenant_dump(&db, B);
    let a_before = tenant_dump(&db, A);
    let session = move_a_session_to_a_new_user(&db);

    let outcome = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        PartialSelection {
            tenant: Some(B.into()),
            tables: vec![
                TableName::new("public", "users"),
                TableName::new("public", "sessions"),
            ],
            ..PartialSelection::default()
        },
    )
    .await
    .expect("a restore whose end state is valid succeeds");
    assert_eq!(tenant_dump(&db, B), b_at_backup);
    assert_eq!(tenant_dump(&db, A), a_before);
    assert_eq!(sets_of(&db, &session), "4");
    assert_eq!(table(&outcome, "sessions").updated, 1);
    assert_eq!(table(&outcome, "users").deleted, 1);
}

fn announcements_sequence(db: &TestDb) -> String {
    db.query("SELECT last_value FROM announcements_announcement_id_seq")[0][0].clone()
}

/// The backup's announcements sequence is at 500; three announcements are added after it
/// (501-503). A dry run of `--table public.announcements`, and a real one that fails at its
/// end (a materialized view that cannot be refreshed), leave the sequence at 503, so the
/// next insert does not collide with the live rows. A restore that succeeds keeps it there
/// too (the ids it had used are merely skipped).
#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_and_a_failed_restore_leave_every_sequence_as_it_was() {
    let db = tenant_db("partial_sequences");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    assert_eq!(announcements_sequence(&db), "500");
    db.execute(
        "INSERT INTO announcements (title, published_on) \
         SELECT 'Late ' || g, '2026-05-01' FROM generate_series(1, 3) g",
    );
    assert_eq!(announcements_sequence(&db), "503");
    let whole = || PartialSelection {
        tables: vec![TableName::new("public", "announcements")],
        ..PartialSelection::default()
    };

    db.wait_idle();
    let dry = engine
        .engine
        .partial_restore(
            RestoreSource::Stored(name.clone()),
            PartialSelection {
                dry_run: true,
                ..whole()
            },
            rythm_backup_core::engine::RestoreOptions::default(),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("dry run");
    assert_eq!(
        announcements_sequence(&db),
        "503",
        "a dry run sets no sequence"
    );
    let reported = &table(&dry, "announcements").sequences;
    assert!(
        reported
            .iter()
            .any(|s| s == "public.announcements_announcement_id_seq = 503"),
        "the dry run reports the value it would set: {reported:?}"
    );
    assert_eq!(table(&dry, "announcements").deleted, 3);

    // Refreshing this view fails once the late rows are gone: after the sequence step.
    db.execute(
        "CREATE MATERIALIZED VIEW late_share AS \
         SELECT 100 / (SELECT count(*) FROM announcements WHERE announcement_id > 500) AS pct",
    );
    let rows = table_dump(&db, "public.announcements");
    let failed = partial(&engine, &db, RestoreSource::Stored(name.clone()), whole())
        .await
        .expect_err("the refresh fails");
    assert_eq!(failed.code(), ErrorCode::RestoreFailed, "{failed}");
    assert!(failed.to_string().contains("division by zero"), "{failed}");
    assert_eq!(table_dump(&db, "public.announcements"), rows, "rolled back");
    assert_eq!(
        announcements_sequence(&db),
        "503",
        "a failed restore leaves the sequence as it was"
    );

    db.execute("DROP MATERIALIZED VIEW late_share");
    let outcome = partial(&engine, &db, RestoreSource::Stored(name), whole())
        .await
        .expect("restore");
    assert_eq!(table(&outcome, "announcements").deleted, 3);
    assert_eq!(announcements_sequence(&db), "503", "never lowered");
    db.execute("INSERT INTO announcements (title, published_on) VALUES ('next', '2026-06-01')");
    assert_eq!(
        db.query("SELECT max(announcement_id) FROM announcements")[0][0],
        "504"
    );
    no_scratch_left(&db);
}
