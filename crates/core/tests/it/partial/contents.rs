//! `contents` against real backups of the rich fixture and the tenant fixture, in every
//! format and compression, stored and as local files: every table with its exact row
//! count, the other objects, the tenants with their rows; a tampered backup is refused.

use rythm_backup_core::catalog::contents::{BackupContents, RowsSource};
use rythm_backup_core::catalog::{BackupKind, Compression, DumpFormat};
use rythm_backup_core::jobs::contents::ContentsSource;
use rythm_backup_core::pg::{quote_ident, quote_literal};
use rythm_backup_core::{Cancel, ErrorCode, Progress};

use super::*;

async fn contents_of(
    engine: &TestEngine,
    source: ContentsSource,
    tenant_column: Option<&str>,
) -> Result<BackupContents, rythm_backup_core::Error> {
    engine
        .engine
        .contents(source, tenant_column, &Progress::none(), &Cancel::new())
        .await
}

/// Every listed table's count equals the database's.
/// Every table's count is the database's own; `source` says where it came from (recorded at
/// backup time in pg_dump's snapshot, for our stored backups; counted from the dump's rows
/// otherwise). A partitioned table holds no rows of its own (its partitions do), so nothing
/// is recorded for it: its count of 0 is always counted.
fn counts_match(db: &TestDb, contents: &BackupContents, source: RowsSource) {
    assert!(!contents.contents.tables.is_empty());
    for table in &contents.contents.tables {
        let row =
            db.query(&format!(
            "SELECT count(*), (SELECT relkind::text FROM pg_class WHERE oid = '{0}'::regclass) \
             FROM ONLY {0}",
            format!("{}.{}", quote_ident(&table.schema), quote_ident(&table.name))
        ));
        let (actual, kind) = (row[0][0].clone(), row[0][1].clone());
        let source = if kind == "p" {
            RowsSource::Counted
        } else {
            source
        };
        assert!(table.has_data, "{}.{}", table.schema, table.name);
        assert_eq!(
            table.rows.to_string(),
            actual,
            "{}.{}",
            table.schema,
            table.name
        );
        // A partitioned table holds no rows itself: nothing is recorded for it.
        let relkind = db.query(&format!(
            "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = {} AND c.relname = {}",
            quote_literal(&table.schema),
            quote_literal(&table.name)
        ))[0][0]
            .clone();
        let expected = if relkind == "p" {
            RowsSource::Counted
        } else {
            source
        };
        assert_eq!(
            table.rows_source, expected,
            "{}.{}",
            table.schema, table.name
        );
        assert_eq!(
            table.rows == 0,
            table.bytes == 0,
            "{}.{}",
            table.schema,
            table.name
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn contents_lists_every_object_with_exact_counts_in_every_format() {
    let db = TestDb::with_fixture("contents_rich");
    for (kind, format, compression) in [
        (StoreKind::Azure, DumpFormat::Plain, Compression::Zstd),
        (StoreKind::Local, DumpFormat::Custom, Compression::None),
        (StoreKind::Local, DumpFormat::Plain, Compression::Gzip),
        (StoreKind::Azure, DumpFormat::Custom, Compression::Zstd),
    ] {
        let engine = TestEngine::new(kind, &db.target, format, compression);
        let name = engine
            .engine
            .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
            .await
            .unwrap()
            .backup
            .name;
        let contents = contents_of(&engine, ContentsSource::Stored(name.clone()), None)
            .await
            .unwrap();
        let what = format!("{format:?}/{compression:?}");
        assert_eq!(contents.format, format, "{what}");
        assert_eq!(contents.compression, compression, "{what}");
        assert_eq!(contents.checksum_verified, Some(true), "{what}");
        counts_match(&db, &contents, RowsSource::Recorded);
        let c = &contents.contents;
        for schema in ["billing", "Mixed Case Schema", "ünïcødé"] {
            assert!(
                c.schemas.iter().any(|s| s == schema),
                "{what}: {schema} in {:?}",
                c.schemas
            );
        }
        let names: Vec<String> = c
            .tables
            .iter()
            .map(|t| format!("{}.{}", t.schema, t.name))
            .collect();
        for table in [
            "public.tenants",
            "billing.invoices",
            "Mixed Case Schema.Odd \"Quoted\" Table",
            "public.events_2025",
        ] {
            assert!(
                names.iter().any(|n| n == table),
                "{what}: {table} in {names:?}"
            );
        }
        assert_eq!(c.materialized_views[0].name, "revenue_by_tenant", "{what}");
        assert_eq!(c.views[0].name, "active_tenants", "{what}");
        assert!(c.functions.iter().any(|f| f.name == "touch()"), "{what}");
        assert!(c.types.iter().any(|t| t.name == "plan"), "{what}");
        assert_eq!(c.extensions, vec!["hstore".to_owned()], "{what}");
        assert_eq!(c.large_objects, 1, "{what}");
        let value = |n: &str| {
            c.sequences
                .iter()
                .find(|s| s.name == n)
                .and_then(|s| s.value)
        };
        assert_eq!(value("tenants_id_seq"), Some(5000), "{what}");
        assert_eq!(value("invoice_numbers"), Some(424242), "{what}");

        // The same backup as a local file reads the same (no checksum to check there).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name.as_str());
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
        let from_file = contents_of(&engine, ContentsSource::File(path), None)
            .await
            .unwrap();
        // Counted from the dump's rows, the figures equal the recorded ones.
        counts_match(&db, &from_file, RowsSource::Counted);
        let mut recorded = contents.contents.clone();
        for table in &mut recorded.tables {
            table.rows_source = RowsSource::Counted;
        }
        assert_eq!(from_file.contents, recorded, "{what}");
        assert_eq!(from_file.checksum_verified, None);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn contents_counts_each_tenants_rows() {
    let db = tenant_db("contents_tenants");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Custom);
    let name = backup(&engine).await;
    let contents = contents_of(&engine, ContentsSource::Stored(name), Some("tenant_id"))
        .await
        .unwrap();
    counts_match(&db, &contents, RowsSource::Recorded);
    let tenants = contents.contents.tenants.expect("tenants");
    assert_eq!(tenants.column, "tenant_id");
    assert!(!tenants.truncated);
    let ids: Vec<&str> = tenants.tenants.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, vec![A, B, C]);
    // 1 tenant + 5 users + 3 programs + 40 sessions + 160 sets + 30 workouts each.
    assert!(tenants.tenants.iter().all(|t| t.rows == 239), "{tenants:?}");
    let with_column: Vec<&str> = contents
        .contents
        .tables
        .iter()
        .filter(|t| t.has_tenant_column)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        with_column,
        vec!["programs", "sessions", "sets", "tenants", "users", "workouts"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn contents_of_a_tampered_backup_is_refused() {
    let db = tenant_db("contents_tampered");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    let path = engine.local_dir().unwrap().join(name.as_str());
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();
    let refused = contents_of(&engine, ContentsSource::Stored(name), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused.code(),
            ErrorCode::ChecksumMismatch | ErrorCode::CorruptBackup
        ),
        "{refused}"
    );
}
