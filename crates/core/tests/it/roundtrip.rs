//! Round trips on real PostgreSQL and storage: the rich fixture is backed up in every format
//! and compression, to the local folder and to Azurite, restored into a new database and
//! over a changed one, and rolled back from the safety backup; each time `pg_dump` of the
//! restored database must equal `pg_dump` of the source.

use rythm_backup_core::catalog::{BackupKind, Compression, DumpFormat};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::{Cancel, JobEvent, Progress};

use crate::support::engine::{recorder, StoreKind, TestEngine};
use crate::support::pg::{fresh_name, TestDb};

/// Changes a restored copy in ways a naive restore would leave behind.
const DIRTY_SQL: &str = "
    CREATE TABLE public.junk (x int);
    CREATE SCHEMA leftover;
    CREATE TABLE leftover.t AS SELECT 1 AS x;
    DELETE FROM billing.invoices WHERE id % 2 = 0;
    DROP MATERIALIZED VIEW billing.revenue_by_tenant;
    DROP TABLE public.blobs;
    SELECT lo_from_bytea(1234, 'extra large object');
    SELECT setval('public.tenants_id_seq', 1, false);";

async fn round_trip(kind: StoreKind, format: DumpFormat, compression: Compression) {
    let source = TestDb::with_fixture("rt_src");
    let expected = source.dump();
    let t = TestEngine::new(kind, &source.target, format, compression);
    let engine = &t.engine;
    let (progress, mut events) = recorder();

    let report = engine
        .backup(BackupKind::Manual, &progress, &Cancel::new())
        .await
        .expect("backup");
    let backup = &report.backup;
    assert_eq!((backup.format, backup.compression), (format, compression));
    assert_eq!(
        backup.name.kind(),
        (format, compression),
        "the extension states the format"
    );
    assert!(backup.size > 0 && backup.raw_size > 0);
    if compression != Compression::None {
        assert!(
            backup.size < backup.raw_size,
            "compressed {} >= raw {}",
            backup.size,
            backup.raw_size
        );
    }
    let listed = engine.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, backup.name);
    assert_eq!(listed[0].sha256.as_deref(), Some(backup.sha256.as_str()));
    assert_eq!(listed[0].size, backup.size);
    assert!(!listed[0].legacy);
    let mut saw_progress = false;
    while let Ok(event) = events.try_recv() {
        saw_progress |= matches!(event, JobEvent::Progress { .. });
    }
    assert!(saw_progress, "the backup reported progress");

    // Into a new database.
    let copy = TestDb::adopt(&fresh_name("rt_copy"));
    let options = |create| RestoreOptions {
        target: Some(copy.target.clone()),
        create,
        confirm: copy.name(),
        ..RestoreOptions::default()
    };
    let source_ref = RestoreSource::Stored(backup.name.clone());
    let restored = engine
        .restore(
            source_ref.clone(),
            options(true),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("restore");
    assert!(restored.created_database);
    assert_eq!(
        restored.safety_backup, None,
        "a new database needs no safety backup"
    );
    assert_eq!(restored.checksum_verified, Some(true));
    assert_eq!(
        copy.dump(),
        expected,
        "restored copy differs from the source"
    );

    // Over a changed database: the result equals the backup, and a safety backup is taken.
    copy.execute(DIRTY_SQL);
    let dirty = copy.dump();
    assert_ne!(dirty, expected);
    copy.wait_idle();
    let restored = engine
        .restore(
            source_ref,
            options(false),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("restore over");
    assert!(!restored.created_database);
    let safety = restored
        .safety_backup
        .expect("a safety backup of the replaced contents");
    assert!(safety.as_str().starts_with("pre-restore-"), "{safety}");
    assert_eq!(
        copy.dump(),
        expected,
        "restore over a changed database must equal the backup"
    );
    let listed = engine.list().await.expect("list");
    let safety_entry = listed
        .iter()
        .find(|e| e.name == safety)
        .expect("safety backup listed");
    assert_eq!(safety_entry.kind, BackupKind::PreRestore);

    // Roll back: the safety backup brings the changed state back.
    let rolled = engine
        .restore(
            RestoreSource::Stored(safety),
            options(false),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("roll back");
    assert_eq!(rolled.checksum_verified, Some(true));
    assert_eq!(
        copy.dump(),
        dirty,
        "rolling back must restore the replaced contents"
    );
}

macro_rules! round_trips {
    ($($test:ident: $kind:ident, $format:ident, $compression:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            round_trip(StoreKind::$kind, DumpFormat::$format, Compression::$compression).await;
        }
    )*};
}

round_trips! {
    local_plain_none: Local, Plain, None;
    local_plain_gzip: Local, Plain, Gzip;
    local_plain_zstd: Local, Plain, Zstd;
    local_custom_none: Local, Custom, None;
    local_custom_gzip: Local, Custom, Gzip;
    local_custom_zstd: Local, Custom, Zstd;
    azure_plain_none: Azure, Plain, None;
    azure_plain_gzip: Azure, Plain, Gzip;
    azure_plain_zstd: Azure, Plain, Zstd;
    azure_custom_none: Azure, Custom, None;
    azure_custom_gzip: Azure, Custom, Gzip;
    azure_custom_zstd: Azure, Custom, Zstd;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_row_counts_and_leaves_no_database() {
    let source = TestDb::with_fixture("vf_src");
    let t = TestEngine::new(
        StoreKind::Local,
        &source.target,
        DumpFormat::Custom,
        Compression::Zstd,
    );
    let report = t
        .engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap();
    let verified = t
        .engine
        .verify(&report.backup.name, &Progress::none(), &Cancel::new())
        .await
        .expect("verify");
    assert!(verified.ok);
    assert_eq!(verified.checksum_verified, Some(true));
    let count = |schema: &str, table: &str| {
        verified
            .tables
            .iter()
            .find(|c| c.schema == schema && c.table == table)
            .map(|c| c.rows)
    };
    assert_eq!(count("public", "tenants"), Some(203));
    assert_eq!(count("billing", "invoices"), Some(300));
    let in_2025: i64 = source.query("SELECT count(*) FROM public.events_2025")[0][0]
        .parse()
        .unwrap();
    assert!(in_2025 > 0 && in_2025 < 1000);
    assert_eq!(count("public", "events_2025"), Some(in_2025));
    // A partitioned table's rows are counted in its partitions, not twice.
    assert_eq!(count("public", "events"), None);
    let partitions: i64 = verified
        .tables
        .iter()
        .filter(|c| c.table.starts_with("events_"))
        .map(|c| c.rows)
        .sum();
    assert_eq!(partitions, 1000);
    // The backup recorded the same counts in its snapshot, and they all matched.
    assert!(verified.verification.compared);
    assert!(verified.verification.mismatches.is_empty());
    assert_eq!(count("ünïcødé", "tabellé_ß"), Some(3));
    assert!(verified.scratch_database.starts_with("rythm_verify_"));
    assert!(
        !TestDb::adopt(&verified.scratch_database).exists(),
        "the scratch database must be dropped"
    );
}
