//! Restore and retention safety on real PostgreSQL: other sessions block a restore and are
//! named, `--terminate-connections` ends them; retention deletes only what is older than
//! the period, never the newest backup, runs after every backup, and a dry run deletes
//! nothing.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rythm_backup_core::catalog::{BackupKind, BackupName, Compression, DumpFormat};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::pg::{PgTools, ToolKind};
use rythm_backup_core::{Cancel, ErrorCode, Progress};

use crate::support::engine::{StoreKind, TestEngine};
use crate::support::name;
use crate::support::pg::TestDb;

/// A psql session that sits connected to `db` until killed.
fn blocking_session(db: &TestDb) -> Child {
    let psql = PgTools::newest().unwrap().path(ToolKind::Psql);
    let child = Command::new(psql)
        .arg(format!("--dbname={}", db.target.url_without_password()))
        .args(["--no-psqlrc", "--command", "SELECT pg_sleep(600)"])
        .env("PGPASSWORD", db.target.password().unwrap().expose())
        .env("PGAPPNAME", "rythm-test-blocker")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start psql");
    let deadline = Instant::now() + Duration::from_secs(10);
    let connected = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rythm-test-blocker' AND datname = current_database()";
    while db.query(connected)[0][0] == "0" {
        assert!(
            Instant::now() < deadline,
            "the blocking session never connected"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sessions_block_a_restore_until_terminated() {
    let db = TestDb::with_fixture("sess");
    let t = TestEngine::new(
        StoreKind::Local,
        &db.target,
        DumpFormat::Plain,
        Compression::Zstd,
    );
    let backup = t
        .engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap()
        .backup;
    db.execute("CREATE TABLE public.after_backup (x int)");
    let before = db.dump();
    let mut blocker = blocking_session(&db);
    let options = |terminate| RestoreOptions {
        confirm: db.name(),
        terminate_connections: terminate,
        ..RestoreOptions::default()
    };
    let source = RestoreSource::Stored(backup.name.clone());

    let error = t
        .engine
        .restore(
            source.clone(),
            options(false),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect_err("another session blocks the restore");
    assert_eq!(error.code(), ErrorCode::DatabaseInUse, "{error}");
    let message = error.to_string();
    assert!(
        message.contains("rythm-test-blocker"),
        "the session is named: {message}"
    );
    assert!(
        message.contains(&blocker.id().to_string()) || message.contains("pid"),
        "{message}"
    );
    assert_eq!(db.dump(), before, "a refused restore changes nothing");
    assert_eq!(
        t.engine.list().await.unwrap().len(),
        1,
        "a refused restore takes no safety backup"
    );

    let restored = t
        .engine
        .restore(source, options(true), &Progress::none(), &Cancel::new())
        .await
        .expect("restore after ending the other session");
    assert_eq!(restored.terminated_sessions, 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while blocker.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the blocking session was not ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let gone = db.query("SELECT count(*) FROM pg_class WHERE relname = 'after_backup'");
    assert_eq!(gone[0][0], "0", "the restore replaced the contents");
}

/// Puts an empty legacy-style blob whose name dates it.
async fn put_dated(t: &TestEngine, blob: &str) {
    let store = t.store();
    store.ensure_ready().await.unwrap();
    let mut upload = store.begin_upload(&name(blob)).await.unwrap();
    upload
        .put_block(Bytes::from_static(b"-- dated\n"))
        .await
        .unwrap();
    upload.commit(BTreeMap::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_young_backups_and_the_newest() {
    let db = TestDb::create("ret");
    let t = TestEngine::new(
        StoreKind::Azure,
        &db.target,
        DumpFormat::Plain,
        Compression::Zstd,
    );
    let old = [
        "rythm-backup-2020-01-01T00-00-00-000Z.sql",
        "backup-2021-06-01T00-00-00.sql",
    ];
    for blob in old {
        put_dated(&t, blob).await;
    }
    let dry = t.engine.prune(true).await.unwrap();
    assert!(dry.dry_run);
    let mut would: Vec<&str> = dry.deleted.iter().map(|d| d.name.as_str()).collect();
    would.sort();
    assert_eq!(
        would,
        ["rythm-backup-2020-01-01T00-00-00-000Z.sql"],
        "the newest backup stays, however old"
    );
    assert_eq!(
        t.engine.list().await.unwrap().len(),
        2,
        "a dry run deletes nothing"
    );

    // A backup runs retention afterwards: both old blobs go, the new backup stays.
    let report = t
        .engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap();
    let mut pruned: Vec<&str> = report.pruned.iter().map(|n| n.as_str()).collect();
    pruned.sort();
    assert_eq!(
        pruned,
        [
            "backup-2021-06-01T00-00-00.sql",
            "rythm-backup-2020-01-01T00-00-00-000Z.sql"
        ]
    );
    let left: Vec<_> = t
        .engine
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(left, std::slice::from_ref(&report.backup.name));

    // Young backups are kept.
    let again = t.engine.prune(false).await.unwrap();
    assert!(again.deleted.is_empty());
    assert_eq!(again.kept, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_prune_deletes_only_reviewed_backups_still_due() {
    let db = TestDb::create("appr");
    let t = TestEngine::new(
        StoreKind::Local,
        &db.target,
        DumpFormat::Plain,
        Compression::Zstd,
    );
    for blob in [
        "rythm-backup-2020-01-01T00-00-00-000Z.sql",
        "rythm-backup-2020-02-01T00-00-00-000Z.sql",
        "rythm-backup-2020-03-01T00-00-00-000Z.sql",
    ] {
        put_dated(&t, blob).await;
    }
    // Reviewed: the two older ones (the newest of all stays anyway).
    let reviewed = t.engine.prune(true).await.unwrap();
    let approved: Vec<BackupName> = reviewed.deleted.iter().map(|d| d.name.clone()).collect();
    assert_eq!(approved.len(), 2);
    // Since the review: a new backup makes the 2020-03 one due too, but it was not reviewed.
    t.engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap_or_else(|e| panic!("backup: {e}"));
    // (The backup's own retention ran with it; put the reviewed ones back to prune them now.)
    for blob in [
        "rythm-backup-2020-01-01T00-00-00-000Z.sql",
        "rythm-backup-2020-02-01T00-00-00-000Z.sql",
        "rythm-backup-2020-03-01T00-00-00-000Z.sql",
    ] {
        put_dated(&t, blob).await;
    }
    // Approving one that is not due (the new backup) deletes nothing of it.
    let mut with_extra = approved.clone();
    let newest = t.engine.list().await.unwrap()[0].name.clone();
    with_extra.push(newest.clone());
    let done = t.engine.prune_approved(&with_extra).await.unwrap();
    let mut deleted: Vec<&str> = done.deleted.iter().map(|d| d.name.as_str()).collect();
    deleted.sort();
    assert_eq!(
        deleted,
        [
            "rythm-backup-2020-01-01T00-00-00-000Z.sql",
            "rythm-backup-2020-02-01T00-00-00-000Z.sql"
        ],
        "only the reviewed backups still due"
    );
    let left: Vec<String> = t
        .engine
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name.to_string())
        .collect();
    assert_eq!(
        left,
        [
            newest.to_string(),
            "rythm-backup-2020-03-01T00-00-00-000Z.sql".to_owned()
        ],
        "the unreviewed due backup and the young one stay"
    );
}
