//! A partial restore's safety backup and its roll back. The safety backup holds the rows of
//! every table the restore can change, those its `--cascade-to-referencing` reaches through
//! other tables' `ON DELETE` rules included, and records no row counts for the tables whose
//! rows it leaves out (its contents show them without rows; a rehearsal of it passes). The
//! engine says how to roll back, and that choice brings back what the cascades took. A
//! restore from such a backup refuses tables whose rows it does not hold.

use rythm_backup_core::catalog::contents::RowsSource;
use rythm_backup_core::catalog::DumpFormat;
use rythm_backup_core::jobs::contents::ContentsSource;
use rythm_backup_core::jobs::partial::{PartialSelection, TableName};
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::{Cancel, ErrorCode, Progress};

use super::*;

const NEW_USER: &str = "00000000-0000-0000-0000-0000000000ef";

/// Coach notes on users (no tenant column: not a tenant table) and tags on the notes, each
/// removed with what it hangs on by ON DELETE CASCADE.
const NOTES: &str = "
CREATE TABLE public.coach_notes (
    note_id int PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES public.users ON DELETE CASCADE,
    note text NOT NULL
);
CREATE TABLE public.note_tags (
    tag_id int PRIMARY KEY,
    note_id int NOT NULL REFERENCES public.coach_notes ON DELETE CASCADE,
    tag text NOT NULL
);
INSERT INTO coach_notes SELECT row_number() OVER (ORDER BY user_id), user_id, 'note'
    FROM users;
INSERT INTO note_tags SELECT note_id, note_id, 'tag' FROM coach_notes;
";

fn notes(db: &TestDb) -> String {
    format!(
        "{}\n{}",
        table_dump(db, "public.coach_notes"),
        table_dump(db, "public.note_tags")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_roll_back_brings_back_what_the_cascades_took() {
    let db = tenant_db("partial_rollback_cascade");
    db.execute(NOTES);
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Custom);
    let name = backup(&engine).await;
    // After the backup, B gets a user with a note and two tags on it.
    db.execute(&format!(
        "INSERT INTO users (user_id, tenant_id, email) VALUES ('{NEW_USER}', '{B}', 'late@b.example');
         INSERT INTO coach_notes VALUES (100, '{NEW_USER}', 'late note');
         INSERT INTO note_tags VALUES (100, 100, 'late'), (101, 100, 'later');"
    ));
    let b_before = tenant_dump(&db, B);
    let a_before = tenant_dump(&db, A);
    let notes_before = notes(&db);

    let outcome = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        PartialSelection {
            tenant: Some(B.into()),
            cascade_to_referencing: true,
            ..PartialSelection::default()
        },
    )
    .await
    .expect("restore");
    let deleted = |t: &str| {
        outcome
            .other_tables
            .iter()
            .find(|o| o.name == t)
            .map(|o| o.deleted)
    };
    assert_eq!(
        deleted("coach_notes"),
        Some(1),
        "{:?}",
        outcome.other_tables
    );
    assert_eq!(
        deleted("note_tags"),
        Some(2),
        "taken by coach_notes' ON DELETE rule"
    );
    assert_eq!(
        db.query("SELECT count(*) FROM note_tags WHERE note_id = 100")[0][0],
        "0"
    );
    let safety = outcome.safety_backup.clone().expect("a safety backup");
    for t in ["coach_notes", "note_tags"] {
        assert!(
            outcome.safety_tables.contains(&TableName::new("public", t)),
            "{t} in {:?}",
            outcome.safety_tables
        );
    }

    // The engine's roll back: B's rows of the tables it restored, and whole the tables the
    // cascade reached.
    let rollback = outcome.rollback.clone().expect("a roll back");
    assert_eq!(rollback.backup, safety);
    assert_eq!(rollback.selection.tenant.as_deref(), Some(B));
    assert_eq!(
        rollback.selection.whole_tables,
        vec!["public.coach_notes", "public.note_tags"]
    );
    let mut tables = rollback.selection.tables.clone();
    tables.sort();
    let mut tenant_tables: Vec<String> = TENANT_TABLES
        .iter()
        .map(|t| format!("public.{t}"))
        .collect();
    tenant_tables.sort();
    assert_eq!(tables, tenant_tables);
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains("public.coach_notes")),
        "{:?}",
        outcome.notes
    );

    let back = partial(
        &engine,
        &db,
        RestoreSource::Stored(rollback.backup.clone()),
        rollback
            .selection
            .selection()
            .expect("the roll back's choice"),
    )
    .await
    .expect("roll back");
    assert_eq!(tenant_dump(&db, B), b_before, "B is back as it was");
    assert_eq!(tenant_dump(&db, A), a_before, "A untouched");
    assert_eq!(
        notes(&db),
        notes_before,
        "the notes and their tags are back"
    );
    assert_eq!(table(&back, "note_tags").inserted, 2);
    no_scratch_left(&db);
}

/// The safety backup of a tenant's restore: counts recorded for no table (it leaves most
/// tables' rows out), contents that show those tables without rows, a rehearsal that
/// passes, and a restore of a table it holds no rows of refused with nothing changed.
#[tokio::test(flavor = "multi_thread")]
async fn a_safety_backup_shows_and_restores_only_the_rows_it_holds() {
    let db = tenant_db("partial_safety_rows");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    db.execute(&format!("DELETE FROM sessions WHERE tenant_id = '{B}'"));
    let outcome = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        PartialSelection {
            tenant: Some(B.into()),
            ..PartialSelection::default()
        },
    )
    .await
    .expect("restore");
    let safety = outcome.safety_backup.clone().expect("a safety backup");

    let listed = engine.engine.list().await.unwrap();
    let entry = listed.iter().find(|e| e.name == safety).unwrap();
    assert!(entry.row_counts.is_none(), "{:?}", entry.row_counts);
    let contents = engine
        .engine
        .contents(
            ContentsSource::Stored(safety.clone()),
            None,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("contents");
    let of = |t: &str| {
        contents
            .contents
            .tables
            .iter()
            .find(|c| c.name == t)
            .unwrap_or_else(|| panic!("{t}"))
    };
    let announcements = of("announcements");
    assert!(!announcements.has_data);
    assert_eq!(
        (announcements.rows, announcements.rows_source),
        (0, RowsSource::Counted)
    );
    assert!(of("sessions").has_data);
    assert_eq!(
        of("sessions").rows,
        80,
        "as before the restore: B's were gone"
    );
    // exercises: referenced by sets, so its rows are kept for the foreign keys.
    assert!(of("exercises").has_data);

    let verified = engine
        .engine
        .verify(&safety, &Progress::none(), &Cancel::new())
        .await
        .expect("verify");
    assert!(verified.ok, "{verified:?}");

    let before = all_but(&db, &[]);
    let refused = partial(
        &engine,
        &db,
        RestoreSource::Stored(safety.clone()),
        PartialSelection {
            tables: vec![TableName::new("public", "announcements")],
            ..PartialSelection::default()
        },
    )
    .await
    .expect_err("announcements' rows are not in it");
    assert_eq!(refused.code(), ErrorCode::InvalidInput, "{refused}");
    assert!(
        refused.to_string().contains("holds none of its rows"),
        "{refused}"
    );
    assert_eq!(all_but(&db, &[]), before, "nothing changed");
    no_scratch_left(&db);
}
