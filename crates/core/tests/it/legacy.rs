//! Legacy backups: plain `.sql` blobs without our metadata, as the seed and the RYTHM API
//! write them, are listed (with their time read from the name), downloaded and restored.

use std::collections::BTreeMap;

use bytes::Bytes;
use rythm_backup_core::catalog::{BackupKind, Compression, DumpFormat};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::{Cancel, Progress};
use time::macros::datetime;

use crate::support::engine::{StoreKind, TestEngine};
use crate::support::name;
use crate::support::pg::{fresh_name, normalise_dump, TestDb};

async fn legacy_blobs(kind: StoreKind) {
    let source = TestDb::with_fixture("lg_src");
    let plain_sql = source.raw_dump(&["--format=plain"]);
    let t = TestEngine::new(kind, &source.target, DumpFormat::Plain, Compression::Zstd);
    let store = t.store();
    store.ensure_ready().await.unwrap();
    for legacy in [
        "backup-2024-01-15T10-30-00.sql",
        "rythm-backup-2025-10-01T02-00-00-851Z.sql",
    ] {
        let mut upload = store.begin_upload(&name(legacy)).await.unwrap();
        for chunk in plain_sql.chunks(1 << 20) {
            upload
                .put_block(Bytes::copy_from_slice(chunk))
                .await
                .unwrap();
        }
        upload.commit(BTreeMap::new()).await.unwrap();
    }

    let listed = t.engine.list().await.expect("list");
    let names: Vec<&str> = listed.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rythm-backup-2025-10-01T02-00-00-851Z.sql",
            "backup-2024-01-15T10-30-00.sql"
        ],
        "newest first"
    );
    for entry in &listed {
        assert!(entry.legacy);
        assert_eq!(entry.sha256, None);
        assert_eq!(
            (entry.format, entry.compression),
            (DumpFormat::Plain, Compression::None)
        );
        assert_eq!(entry.size, plain_sql.len() as u64);
        assert_eq!(entry.kind, BackupKind::Manual);
    }
    assert_eq!(listed[0].created_at, datetime!(2025-10-01 02:00:00.851 UTC));
    assert_eq!(listed[1].created_at, datetime!(2024-01-15 10:30:00 UTC));

    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("legacy.sql");
    let seed_name = name("backup-2024-01-15T10-30-00.sql");
    let downloaded = t
        .engine
        .download(
            &seed_name,
            path.clone(),
            false,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("download");
    assert_eq!(
        downloaded.checksum_verified, None,
        "legacy blobs carry no checksum"
    );
    assert_eq!(std::fs::read(&path).unwrap(), plain_sql);

    let copy = TestDb::adopt(&fresh_name("lg_copy"));
    let options = RestoreOptions {
        target: Some(copy.target.clone()),
        create: true,
        confirm: copy.name(),
        ..Default::default()
    };
    let restored = t
        .engine
        .restore(
            RestoreSource::Stored(seed_name),
            options,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("restore legacy");
    assert_eq!(restored.checksum_verified, None);
    assert_eq!(copy.dump(), normalise_dump(&plain_sql));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_legacy_blobs_are_listed_downloaded_and_restored() {
    legacy_blobs(StoreKind::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_legacy_blobs_are_listed_downloaded_and_restored() {
    legacy_blobs(StoreKind::Azure).await;
}
