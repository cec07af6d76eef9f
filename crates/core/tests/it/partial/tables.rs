//! Chosen tables restored: an emptied table comes back and nothing else changes; a dropped
//! table is created again with its type, index and sequence value; copies go into a new
//! schema and leave the originals alone; a restore that would leave references dangling
//! fails and changes nothing, and with `--cascade-to-referencing` deletes them and counts
//! them.

use rythm_backup_core::catalog::DumpFormat;
use rythm_backup_core::jobs::partial::{PartialSelection, TableName};
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::ErrorCode;

use super::*;

fn tables(names: &[&str]) -> PartialSelection {
    PartialSelection {
        tables: names.iter().map(|n| TableName::parse(n).unwrap()).collect(),
        ..PartialSelection::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_emptied_table_comes_back_alone() {
    let db = tenant_db("partial_emptied");
    let engine = engine_for(&db, StoreKind::Azure, DumpFormat::Custom);
    let name = backup(&engine).await;
    let workouts = table_dump(&db, "public.workouts");
    db.execute("DELETE FROM workouts; UPDATE programs SET name = name || ' (renamed)';");
    let others = all_but(&db, &["workouts"]);
    let outcome = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        tables(&["public.workouts"]),
    )
    .await
    .expect("restore");
    assert_eq!(table_dump(&db, "public.workouts"), workouts);
    assert_eq!(
        all_but(&db, &["workouts"]),
        others,
        "other tables are unchanged"
    );
    let restored = table(&outcome, "workouts");
    assert_eq!(
        (restored.inserted, restored.deleted, restored.unchanged),
        (90, 0, 0)
    );
    assert_eq!(outcome.tables.len(), 1);
    assert_eq!(
        outcome.safety_tables,
        vec![TableName::new("public", "workouts")]
    );
    no_scratch_left(&db);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_table_is_created_again_with_its_type_index_and_sequence() {
    let db = tenant_db("partial_dropped");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    let rows = table_dump(&db, "public.announcements");
    let index_sql = "SELECT indexdef FROM pg_indexes WHERE tablename = 'announcements' ORDER BY 1";
    let indexes = db.query(index_sql);
    assert_eq!(indexes.len(), 2);
    db.execute("DROP TABLE announcements; DROP TYPE tone;");
    let others = all_but(&db, &["announcements"]);
    let outcome = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        tables(&["announcements"]),
    )
    .await
    .expect("restore");
    assert_eq!(table_dump(&db, "public.announcements"), rows);
    assert_eq!(db.query(index_sql), indexes, "its indexes");
    assert_eq!(
        db.query("SELECT last_value FROM announcements_announcement_id_seq")[0][0],
        "500",
        "its sequence value"
    );
    // The default still draws from the sequence, past the backup's value.
    db.execute("INSERT INTO announcements (title, published_on) VALUES ('next', '2026-03-01')");
    assert_eq!(
        db.query("SELECT max(announcement_id), (SELECT tone FROM announcements WHERE title = 'next') FROM announcements")[0],
        vec!["501".to_owned(), "calm".to_owned()]
    );
    assert_eq!(all_but(&db, &["announcements"]), others);
    let created = table(&outcome, "announcements");
    assert!(created.created);
    assert_eq!(created.inserted, 12);
    assert!(
        created
            .sequences
            .iter()
            .any(|s| s.contains("announcements_announcement_id_seq = 500")),
        "{:?}",
        created.sequences
    );
    assert!(
        outcome.notes.iter().any(|n| n.contains("public.tone")),
        "{:?}",
        outcome.notes
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_into_a_new_schema_leave_the_originals_alone() {
    let db = tenant_db("partial_into");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Custom);
    let name = backup(&engine).await;
    let sessions_at_backup = db.query("SELECT count(*) FROM sessions")[0][0].clone();
    db.execute(&format!("DELETE FROM sessions WHERE tenant_id = '{B}'"));
    let before = all_but(&db, &[]);
    let selection = PartialSelection {
        into_schema: Some("restored".into()),
        ..tables(&["sessions", "public.users"])
    };
    let outcome = partial(&engine, &db, RestoreSource::Stored(name.clone()), selection)
        .await
        .expect("copies");
    assert_eq!(all_but(&db, &[]), before, "the originals are untouched");
    assert_eq!(
        db.query("SELECT count(*) FROM restored.sessions")[0][0],
        sessions_at_backup
    );
    assert_eq!(db.query("SELECT count(*) FROM restored.users")[0][0], "15");
    assert_eq!(
        table(&outcome, "sessions").inserted.to_string(),
        sessions_at_backup
    );
    assert_eq!(
        outcome.safety_backup, None,
        "nothing is replaced, nothing to roll back"
    );
    // Compare and merge by hand: B's sessions are in the copy.
    assert_eq!(
        db.query(&format!(
            "SELECT count(*) FROM restored.sessions WHERE tenant_id = '{B}'"
        ))[0][0],
        "40"
    );
    // A schema that exists is refused, and nothing changes.
    let again = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        PartialSelection {
            into_schema: Some("restored".into()),
            ..tables(&["workouts"])
        },
    )
    .await
    .unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");
    assert_eq!(
        db.query("SELECT to_regclass('restored.workouts') IS NULL")[0][0],
        "t"
    );
    no_scratch_left(&db);
}

#[tokio::test(flavor = "multi_thread")]
async fn dangling_references_fail_or_are_deleted_and_counted() {
    let db = tenant_db("partial_dangling");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    // Tenant A records sessions with sets after the backup: restoring sessions alone would
    // remove those sessions and leave their sets pointing at nothing.
    db.execute(&format!(
        "INSERT INTO sessions (session_id, tenant_id, user_id, started_at) \
           SELECT md5('late' || user_id)::uuid, tenant_id, user_id, '2026-07-01' \
           FROM users WHERE tenant_id = '{A}';
         INSERT INTO sets (tenant_id, session_id, exercise_id, reps) \
           SELECT tenant_id, md5('late' || user_id)::uuid, 2, 3 FROM users WHERE tenant_id = '{A}';"
    ));
    let before = all_but(&db, &[]);
    let failed = partial(
        &engine,
        &db,
        RestoreSource::Stored(name.clone()),
        tables(&["sessions"]),
    )
    .await
    .unwrap_err();
    assert_eq!(failed.code(), ErrorCode::RestoreFailed);
    let message = failed.to_string();
    assert!(message.contains("public.sets_session_id_fkey"), "{message}");
    assert!(message.contains("5 row(s) of public.sets"), "{message}");
    assert!(message.contains("--cascade-to-referencing"), "{message}");
    assert!(message.contains("unchanged"), "{message}");
    assert_eq!(all_but(&db, &[]), before, "nothing changed");

    let outcome = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        PartialSelection {
            cascade_to_referencing: true,
            ..tables(&["sessions"])
        },
    )
    .await
    .expect("with --cascade-to-referencing");
    assert_eq!(table(&outcome, "sessions").deleted, 5);
    let sets = outcome
        .other_tables
        .iter()
        .find(|t| t.name == "sets")
        .expect("the deleted sets are counted");
    assert_eq!(sets.deleted, 5);
    assert_eq!(
        db.query("SELECT count(*) FROM sets WHERE reps = 3")[0][0],
        "0"
    );
    // The safety backup holds the sets too, to roll back with.
    assert!(outcome
        .safety_tables
        .contains(&TableName::new("public", "sets")));
    no_scratch_left(&db);
}
