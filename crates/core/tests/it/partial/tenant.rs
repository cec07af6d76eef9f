//! One tenant restored: tenant A has added rows since the backup, tenant B lost its
//! sessions (and with them, by cascade, its sets) and had a user changed, tenant C did
//! nothing. `--tenant B` brings B back exactly as the backup has it, A keeps its new rows,
//! C stays as it was; then the safety backup, restored with the same choice, rolls it back.

use rythm_backup_core::catalog::DumpFormat;
use rythm_backup_core::jobs::partial::PartialSelection;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::{Cancel, Progress};

use super::*;

fn tenant(id: &str) -> PartialSelection {
    PartialSelection {
        tenant: Some(id.into()),
        ..PartialSelection::default()
    }
}

async fn tenant_b_comes_back(kind: StoreKind, format: DumpFormat, from_file: bool) {
    let db = tenant_db("partial_tenant");
    let engine = engine_for(&db, kind, format);
    let name = backup(&engine).await;
    let b_at_backup = tenant_dump(&db, B);
    let c_before = tenant_dump(&db, C);
    let global_before = table_dump(&db, "public.exercises");

    db.execute(&format!(
        "INSERT INTO sessions (session_id, tenant_id, user_id, started_at, notes) \
           SELECT md5('new' || user_id)::uuid, tenant_id, user_id, '2026-06-01', 'after the backup' \
           FROM users WHERE tenant_id = '{A}';
         INSERT INTO sets (tenant_id, session_id, exercise_id, reps, weight_kg) \
           SELECT tenant_id, md5('new' || user_id)::uuid, 1, 10, 50 FROM users WHERE tenant_id = '{A}';
         DELETE FROM sessions WHERE tenant_id = '{B}';
         UPDATE users SET email = 'changed@b.example' WHERE tenant_id = '{B}' AND role = 'admin';
         REFRESH MATERIALIZED VIEW tenant_volume;"
    ));
    let a_after = tenant_dump(&db, A);
    let b_before_restore = tenant_dump(&db, B);
    assert_ne!(b_before_restore, b_at_backup);

    let downloads = tempfile::tempdir().unwrap();
    let source = if from_file {
        let path = downloads.path().join(name.as_str());
        engine
            .engine
            .download(
                &name,
                path.clone(),
                false,
                &Progress::none(),
                &Cancel::new(),
            )
            .await
            .unwrap();
        RestoreSource::File(path)
    } else {
        RestoreSource::Stored(name.clone())
    };
    let outcome = partial(&engine, &db, source, tenant(B))
        .await
        .expect("partial restore");

    assert_eq!(tenant_dump(&db, B), b_at_backup, "B equals the backup");
    assert_eq!(tenant_dump(&db, A), a_after, "A keeps its new rows");
    assert_eq!(tenant_dump(&db, C), c_before, "C is unchanged");
    assert_eq!(table_dump(&db, "public.exercises"), global_before);
    // 5 users × 8 sessions, 4 sets each, came back; the admin's e-mail was put back.
    let sessions = table(&outcome, "sessions");
    assert_eq!(
        (sessions.inserted, sessions.deleted, sessions.updated),
        (40, 0, 0)
    );
    assert_eq!(table(&outcome, "sets").inserted, 160);
    let users = table(&outcome, "users");
    assert_eq!((users.updated, users.unchanged), (1, 4));
    assert_eq!(table(&outcome, "tenants").unchanged, 1);
    assert!(
        outcome.other_tables.is_empty(),
        "{:?}",
        outcome.other_tables
    );
    assert_eq!(
        outcome.refreshed_views,
        vec!["public.tenant_volume".to_owned()]
    );
    // The tables in foreign-key order: parents first.
    let order: Vec<&str> = outcome.tables.iter().map(|t| t.name.as_str()).collect();
    let at = |t: &str| order.iter().position(|x| *x == t).unwrap();
    assert!(
        at("tenants") < at("users") && at("users") < at("sessions") && at("sessions") < at("sets")
    );
    let safety = outcome.safety_backup.clone().expect("a safety backup");
    assert!(
        safety.as_str().starts_with("pre-restore-tables-"),
        "{safety}"
    );
    assert_eq!(
        outcome.checksum_verified,
        if from_file { None } else { Some(true) }
    );
    no_scratch_left(&db);

    // The safety backup, restored with the same choice, rolls the restore back.
    let rollback = partial(
        &engine,
        &db,
        RestoreSource::Stored(safety.clone()),
        tenant(B),
    )
    .await
    .expect("roll back");
    assert_eq!(tenant_dump(&db, B), b_before_restore, "rolled back");
    assert_eq!(tenant_dump(&db, A), a_after);
    assert_eq!(table(&rollback, "sessions").deleted, 40);
    // A full restore of it would empty every other table: refused.
    db.wait_idle();
    let whole = engine
        .engine
        .restore(
            RestoreSource::Stored(safety),
            rythm_backup_core::engine::RestoreOptions {
                confirm: db.name(),
                ..Default::default()
            },
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap_err();
    assert!(whole.to_string().contains("partial restore"), "{whole}");
    assert_eq!(tenant_dump(&db, A), a_after);
    // Listed as a safety backup.
    let listed = engine.engine.list().await.unwrap();
    assert!(listed
        .iter()
        .any(|e| e.name.as_str().starts_with("pre-restore-tables-")
            && e.kind == rythm_backup_core::BackupKind::PreRestore));
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_restore_plain_from_azure() {
    tenant_b_comes_back(StoreKind::Azure, DumpFormat::Plain, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_restore_custom_from_azure() {
    tenant_b_comes_back(StoreKind::Azure, DumpFormat::Custom, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_restore_plain_from_a_local_file() {
    tenant_b_comes_back(StoreKind::Local, DumpFormat::Plain, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_restore_custom_from_a_local_file() {
    tenant_b_comes_back(StoreKind::Local, DumpFormat::Custom, true).await;
}

/// A dry run reports per table what would be deleted, inserted and left, and changes
/// nothing (not even a safety backup).
#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reports_and_changes_nothing() {
    let db = tenant_db("partial_dry");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    db.execute(&format!(
        "DELETE FROM sessions WHERE tenant_id = '{B}' AND notes IS NULL;
         INSERT INTO programs (program_id, tenant_id, name, kind) VALUES \
           ('11111111-1111-1111-1111-111111111111', '{B}', 'New', 'cardio');"
    ));
    let before = all_but(&db, &[]);
    let selection = PartialSelection {
        dry_run: true,
        ..tenant(B)
    };
    db.wait_idle();
    // A dry run needs no confirmation.
    let outcome = engine
        .engine
        .partial_restore(
            RestoreSource::Stored(name),
            selection,
            rythm_backup_core::engine::RestoreOptions::default(),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("dry run");
    assert!(outcome.dry_run);
    assert_eq!(all_but(&db, &[]), before, "a dry run changes nothing");
    assert_eq!(outcome.safety_backup, None);
    let sessions = table(&outcome, "sessions");
    assert_eq!(
        (sessions.inserted, sessions.unchanged, sessions.deleted),
        (10, 30, 0)
    );
    let programs = table(&outcome, "programs");
    assert_eq!((programs.deleted, programs.unchanged), (1, 3));
    assert_eq!(
        engine.engine.list().await.unwrap().len(),
        1,
        "no safety backup"
    );
    no_scratch_left(&db);
}

/// Tenant A keeps writing while B is restored: every row A wrote is there afterwards, and B
/// equals the backup (the restore locks its tables against writers only for its last step,
/// and never touches A's rows).
#[tokio::test(flavor = "multi_thread")]
async fn other_tenants_keep_writing_during_a_restore() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    let db = tenant_db("partial_load");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    let b_at_backup = tenant_dump(&db, B);
    db.execute(&format!("DELETE FROM sessions WHERE tenant_id = '{B}'"));
    let client = db.sql_client();
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (client, stop, written) = (client.clone(), stop.clone(), written.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    client
                        .execute(&format!(
                            "INSERT INTO sessions (session_id, tenant_id, user_id, started_at, notes) \
                             SELECT md5('load{w}-{i}')::uuid, tenant_id, user_id, now(), 'load' \
                             FROM users WHERE tenant_id = '{A}' LIMIT 1"
                        ))
                        .expect("A's writes succeed during the restore");
                    written.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // The restore runs beside other sessions: it needs no exclusive access.
    let options = rythm_backup_core::engine::RestoreOptions {
        confirm: db.name(),
        ..Default::default()
    };
    let outcome = engine
        .engine
        .partial_restore(
            RestoreSource::Stored(name),
            tenant(B),
            options,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("a restore beside writers");
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(tenant_dump(&db, B), b_at_backup);
    let rows = db.query(&format!(
        "SELECT count(*) FROM sessions WHERE tenant_id = '{A}' AND notes = 'load'"
    ));
    assert!(written.load(Ordering::SeqCst) > 0);
    assert_eq!(
        rows[0][0],
        written.load(Ordering::SeqCst).to_string(),
        "no write of A was lost"
    );
    assert_eq!(table(&outcome, "sessions").inserted, 40);
}
