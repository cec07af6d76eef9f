//! A container shared with the RYTHM platform (direct mode with `shared_with_platform`):
//! backups are written as plain, uncompressed `.sql` with `--clean --if-exists`, so the
//! platform's admin page (which lists only `.sql`) sees them and its restore (`psql < file`
//! without ON_ERROR_STOP, into a database that changed since) really replaces the data. A
//! default backup written the same way is shown to fail that restore, so the test can fail.
//! Our own restore pipeline still restores the shared-mode file exactly.

use rythm_backup_core::catalog::{Compression, DumpFormat};
use rythm_backup_core::config::{EngineConfig, StorageConfig};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::backup::BackupRequest;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::pg::{Server, ToolKind};
use rythm_backup_core::secrets::Sensitive;
use rythm_backup_core::{BackupKind, Cancel, Engine, ErrorCode, Progress};
use rythm_platform_standin::platform::{self, PsqlRun};

use crate::support::pg::{admin_target, normalise_dump, TestDb};
use crate::support::{azure_connection_string, fresh_container};

fn engine(db: &TestDb, container: &str, shared: bool) -> Engine {
    let (format, compression) = if shared {
        (DumpFormat::Plain, Compression::None)
    } else {
        (DumpFormat::Plain, Compression::Zstd)
    };
    Engine::new(EngineConfig {
        database: Some(db.target.clone()),
        storage: StorageConfig::Azure {
            connection_string: Sensitive::new(azure_connection_string()),
            container: container.to_owned(),
        },
        retention_days: 30,
        format,
        compression,
        created_by: Some("shared-container-test".into()),
        shared_with_platform: shared,
        verify_database: None,
    })
    .expect("an engine on Azurite")
}

/// What the platform does with a blob of the container: downloads it and pipes it into
/// `psql DATABASE_URL`.
async fn restore_like_the_platform(engine: &Engine, name: &str, db: &TestDb) -> PsqlRun {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join(name);
    let backup = crate::support::name(name);
    engine
        .download(
            &backup,
            file.clone(),
            false,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("download the blob");
    let sql = std::fs::read(&file).unwrap();
    let psql = Server::probe(&admin_target())
        .unwrap()
        .tools
        .path(ToolKind::Psql);
    let password = db.target.password().map(|p| p.expose().clone());
    let run = platform::psql_from_stdin(
        &psql,
        db.target.url_without_password(),
        password.as_deref(),
        &sql,
    )
    .expect("psql runs");
    assert_eq!(
        run.exit_code,
        Some(0),
        "psql without ON_ERROR_STOP never fails"
    );
    run
}

/// Everything a restore must bring back: rows deleted, changed and added, and a table
/// dropped since the backup.
fn change_since_backup(db: &TestDb) {
    db.execute(
        "DELETE FROM billing.invoices WHERE id % 3 = 0;
         UPDATE public.tenants SET name = 'renamed ' || id WHERE id % 2 = 0;
         INSERT INTO public.tenants (name) SELECT 'added ' || g FROM generate_series(1, 50) g;
         DROP TABLE \"ünïcødé\".\"tabellé_ß\";",
    );
}

#[tokio::test]
async fn the_platform_lists_and_really_restores_a_shared_mode_backup() {
    let db = TestDb::with_fixture("shared");
    let original = db.dump();
    let container = fresh_container("shared");
    let shared = engine(&db, &container, true);
    let report = shared
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .expect("a shared-mode backup");
    let name = report.backup.name.to_string();
    assert!(
        name.starts_with("rythm-backup-") && name.ends_with(".sql"),
        "{name}"
    );
    assert_eq!(
        (report.backup.format, report.backup.compression),
        (DumpFormat::Plain, Compression::None)
    );

    // A default (compressed) backup beside it, as a profile without the setting writes.
    let ours = engine(&db, &container, false)
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap()
        .backup
        .name
        .to_string();
    assert!(ours.ends_with(".sql.zst"), "{ours}");

    // The platform's admin page: every blob of the container whose name ends in .sql.
    let blobs = shared.store().list().await.unwrap();
    let listed: Vec<&str> = blobs
        .iter()
        .map(|b| b.name.as_str())
        .filter(|n| platform::lists(n))
        .collect();
    assert_eq!(
        listed,
        [name.as_str()],
        "it sees the shared-mode backup only"
    );

    change_since_backup(&db);
    assert_ne!(db.dump(), original);
    let run = restore_like_the_platform(&shared, &name, &db).await;
    assert_eq!(
        db.dump(),
        original,
        "the platform's restore replaced the data (psql errors: {:?})",
        run.errors
    );
}

#[tokio::test]
async fn a_plain_backup_without_clean_is_not_restored_by_the_platform() {
    // What the issue saw: a plain .sql written without --clean, restored by the platform,
    // changes nothing while both tools report success.
    let db = TestDb::with_fixture("unshared");
    let original = db.dump();
    let container = fresh_container("unshared");
    let plain = engine(&db, &container, false);
    let request = BackupRequest {
        format: DumpFormat::Plain,
        compression: Compression::None,
        kind: BackupKind::Manual,
        created_by: None,
    };
    let name = plain
        .backup_with(&request, &Progress::none(), &Cancel::new())
        .await
        .unwrap()
        .backup
        .name
        .to_string();
    assert!(platform::lists(&name));
    change_since_backup(&db);
    let changed = db.dump();
    let run = restore_like_the_platform(&plain, &name, &db).await;
    assert!(
        run.errors.iter().any(|e| e.contains("already exists")),
        "{:?}",
        run.errors
    );
    assert_ne!(db.dump(), original, "the data was not replaced");
    assert_ne!(
        db.dump(),
        changed,
        "but the dropped table came back, half-restored"
    );
}

#[tokio::test]
async fn our_restore_brings_back_a_shared_mode_backup_exactly() {
    let db = TestDb::with_fixture("shared_ours");
    let original = db.dump();
    let shared = engine(&db, &fresh_container("sharedours"), true);
    let name = shared
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap()
        .backup
        .name;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join(name.as_str());
    shared
        .download(
            &name,
            file.clone(),
            false,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap();
    let text = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
    assert!(
        text.contains("DROP TABLE IF EXISTS public.tenants;"),
        "pg_dump --clean --if-exists"
    );
    change_since_backup(&db);
    let options = RestoreOptions {
        confirm: db.name(),
        skip_safety_backup: true,
        ..RestoreOptions::default()
    };
    let source = RestoreSource::Stored(name.clone());
    shared
        .restore(source, options, &Progress::none(), &Cancel::new())
        .await
        .expect("our restore of a shared-mode backup");
    assert_eq!(
        normalise_dump(db.dump().as_bytes()),
        normalise_dump(original.as_bytes())
    );
}

#[tokio::test]
async fn a_shared_container_refuses_what_the_platform_cannot_list() {
    let db = TestDb::create("shared_refuse");
    let shared = engine(&db, &fresh_container("sharedrefuse"), true);
    for (format, compression) in [
        (DumpFormat::Plain, Compression::Zstd),
        (DumpFormat::Custom, Compression::None),
    ] {
        let request = BackupRequest {
            format,
            compression,
            kind: BackupKind::Manual,
            created_by: None,
        };
        let error = shared
            .backup_with(&request, &Progress::none(), &Cancel::new())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
        assert!(
            error.to_string().contains("shared with the RYTHM platform"),
            "{error}"
        );
    }
    assert!(
        shared.list().await.unwrap_or_default().is_empty(),
        "nothing was written"
    );
}

#[tokio::test]
async fn the_platforms_signs_are_found_in_the_container_and_the_database() {
    let db = TestDb::create("signs");
    let ours = engine(&db, &fresh_container("signs"), false);
    ours.backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap();
    let none = ours.platform_signs().await.unwrap();
    assert!(
        !none.any(),
        "our own backups are no sign of the platform: {none:?}"
    );

    // What the platform leaves: a plain .sql without our metadata, and its history table.
    let store = ours.store();
    let name = crate::support::name("rythm-backup-2026-11-20T02-00-00-000Z.sql");
    let mut upload = store.begin_upload(&name).await.unwrap();
    upload
        .put_block(bytes::Bytes::from_static(b"SELECT 1;\n"))
        .await
        .unwrap();
    upload.commit(Default::default()).await.unwrap();
    let signs = ours.platform_signs().await.unwrap();
    assert_eq!(signs.platform_backups, 1);
    assert!(!signs.backup_history_table);
    db.execute("CREATE TABLE public.backup_history (id serial PRIMARY KEY, filename text)");
    let signs = ours.platform_signs().await.unwrap();
    assert!(signs.backup_history_table && signs.any());
    let said = signs.describe();
    assert!(
        said.contains("1 backup(s)") && said.contains("backup_history"),
        "{said}"
    );
}
