//! Damaged backups: a flipped byte, a truncated dump, a truncated archive, an SQL error
//! half-way, an empty file, psql backslash commands slipped into a plain dump. Each restore
//! fails with a clear error and leaves the target database exactly as it was (and runs
//! nothing on this machine). Hostile statements are `hostile.rs`'s.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::TryStreamExt;
use rythm_backup_core::catalog::{BackupKind, BackupName, Compression, DumpFormat};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::storage::BlobStore;
use rythm_backup_core::{Cancel, ErrorCode, Progress};

use crate::support::engine::{StoreKind, TestEngine};
use crate::support::name;
use crate::support::pg::TestDb;

async fn put(
    store: &dyn BlobStore,
    blob: &BackupName,
    bytes: &[u8],
    metadata: BTreeMap<String, String>,
) {
    let mut upload = store.begin_upload(blob).await.unwrap();
    upload
        .put_block(Bytes::copy_from_slice(bytes))
        .await
        .unwrap();
    upload.commit(metadata).await.unwrap();
}

async fn read_all(store: &dyn BlobStore, blob: &BackupName) -> Vec<u8> {
    let stream = store.get_from(blob, 0).await.unwrap();
    stream
        .try_fold(Vec::new(), |mut all, c| async move {
            all.extend_from_slice(&c);
            Ok(all)
        })
        .await
        .unwrap()
}

/// The first `fraction` of `bytes`, cut just after a line end.
fn cut_at_line(bytes: &[u8], fraction: f64) -> Vec<u8> {
    let at = (bytes.len() as f64 * fraction) as usize;
    let end = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("a line end")
        + 1;
    bytes[..end].to_vec()
}

/// The plain dump of `case` with `lines` inserted between two statements past its middle
/// (not inside COPY data).
fn dump_with_inserted(case: &Case, lines: &str) -> Vec<u8> {
    let full = case.target.raw_dump(&["--format=plain"]);
    let middle = full.len() / 2;
    let at = middle
        + full[middle..]
            .windows(6)
            .position(|w| w == b"\n--\n--")
            .expect("a section header")
        + 1;
    let mut changed = full[..at].to_vec();
    changed.extend_from_slice(lines.as_bytes());
    changed.extend_from_slice(&full[at..]);
    changed
}

/// The dump's own `\restrict` key (pg_dump 15.14 and later write one).
fn dump_key(dump: &[u8]) -> String {
    let text = String::from_utf8_lossy(dump);
    text.lines()
        .find_map(|l| l.strip_prefix("\\restrict "))
        .expect("the dump has a \\restrict line")
        .trim()
        .to_owned()
}

struct Case {
    target: TestDb,
    before: String,
    t: TestEngine,
}

impl Case {
    fn new(kind: StoreKind, format: DumpFormat, compression: Compression) -> Case {
        let target = TestDb::with_fixture("dmg");
        // Make the target differ from any backup, so a partial restore would show.
        target.execute("CREATE TABLE public.precious (x text); INSERT INTO public.precious VALUES ('keep me');");
        let before = target.dump();
        let t = TestEngine::new(kind, &target.target, format, compression);
        Case { target, before, t }
    }

    async fn restore(&self, source: RestoreSource, safety: bool) -> rythm_backup_core::Error {
        let options = RestoreOptions {
            confirm: self.target.name(),
            skip_safety_backup: !safety,
            ..RestoreOptions::default()
        };
        let result = self
            .t
            .engine
            .restore(source, options, &Progress::none(), &Cancel::new())
            .await;
        let error = result.expect_err("restoring a damaged backup must fail");
        assert_eq!(
            self.target.dump(),
            self.before,
            "the target changed after a failed restore: {error}"
        );
        error
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipped_byte_fails_the_checksum_and_changes_nothing() {
    let case = Case::new(StoreKind::Local, DumpFormat::Plain, Compression::None);
    let good = case
        .t
        .engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap()
        .backup;
    let store = case.t.store().as_ref();
    let mut bytes = read_all(store, &good.name).await;
    // Still valid SQL after the change: only the checksum can notice.
    let at = bytes
        .windows(4)
        .position(|w| w == b"Acme")
        .expect("fixture data in the dump");
    bytes[at + 3] = b'f';
    let metadata = store.head(&good.name).await.unwrap().metadata;
    let tampered = name("rythm-backup-2026-01-01T00-00-00-000Z.sql");
    put(store, &tampered, &bytes, metadata).await;
    let error = case.restore(RestoreSource::Stored(tampered), true).await;
    assert_eq!(error.code(), ErrorCode::ChecksumMismatch, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_plain_dump_is_refused_at_its_end() {
    let case = Case::new(StoreKind::Azure, DumpFormat::Plain, Compression::None);
    let full = case.target.raw_dump(&["--format=plain"]);
    let store = case.t.store().as_ref();
    store.ensure_ready().await.unwrap();
    // A legacy blob (no checksum) cut at a line end: every statement in it is valid.
    let blob = name("backup-2024-01-15T10-30-00.sql");
    put(store, &blob, &cut_at_line(&full, 0.97), BTreeMap::new()).await;
    let error = case.restore(RestoreSource::Stored(blob), false).await;
    assert_eq!(error.code(), ErrorCode::CorruptBackup, "{error}");
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_compressed_archive_file_changes_nothing() {
    let case = Case::new(StoreKind::Local, DumpFormat::Custom, Compression::Zstd);
    let good = case
        .t
        .engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap()
        .backup;
    let bytes = read_all(case.t.store().as_ref(), &good.name).await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("cut.dump.zst");
    std::fs::write(&file, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let error = case.restore(RestoreSource::File(file), false).await;
    assert_eq!(error.code(), ErrorCode::CorruptBackup, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_uncompressed_archive_changes_nothing() {
    let case = Case::new(StoreKind::Local, DumpFormat::Custom, Compression::None);
    let archive = case.target.raw_dump(&["--format=custom"]);
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("cut.dump");
    std::fs::write(&file, &archive[..archive.len() * 3 / 4]).unwrap();
    let error = case.restore(RestoreSource::File(file), false).await;
    assert_eq!(error.code(), ErrorCode::CorruptBackup, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_error_half_way_rolls_everything_back() {
    let case = Case::new(StoreKind::Local, DumpFormat::Plain, Compression::None);
    // A statement of a kind pg_dump writes, that fails: the transaction rolls back.
    let broken = dump_with_inserted(
        &case,
        "ALTER TABLE public.no_such_table OWNER TO postgres;\n",
    );
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("broken.sql");
    std::fs::write(&file, &broken).unwrap();
    let error = case.restore(RestoreSource::File(file), true).await;
    assert_eq!(error.code(), ErrorCode::RestoreFailed, "{error}");
    assert!(
        error.to_string().contains("no_such_table"),
        "psql's error is shown: {error}"
    );
    assert!(
        error.to_string().contains("rolled back"),
        "and that nothing changed: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backslash_commands_in_a_dump_run_nothing_and_change_nothing() {
    let case = Case::new(StoreKind::Local, DumpFormat::Plain, Compression::None);
    let folder = tempfile::tempdir().unwrap();
    let marker = folder.path().join("owned");
    let shell = format!("\\! touch {}\n", marker.display());
    let key = dump_key(&case.target.raw_dump(&["--format=plain"]));
    for (label, lines) in [
        ("a shell escape", shell.clone()),
        // Ending the restriction with the dump's own key: psql's key is another one.
        (
            "\\unrestrict with the dump's key",
            format!("\\unrestrict {key}\n{shell}"),
        ),
        ("a \\connect", "\\connect postgres\n".to_owned()),
        ("a second \\restrict", format!("\\restrict abc\n{shell}")),
    ] {
        let file = folder.path().join("hostile.sql");
        std::fs::write(&file, dump_with_inserted(&case, &lines)).unwrap();
        let error = case.restore(RestoreSource::File(file), false).await;
        // The statement filter refuses them before psql (itself restricted) sees them.
        assert_eq!(error.code(), ErrorCode::UnsafeBackup, "{label}: {error}");
        assert!(
            error.to_string().contains("psql meta-command"),
            "{label}: the refusal names it: {error}"
        );
        assert!(!marker.exists(), "{label}: the shell command ran");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_garbage_files_are_refused() {
    let case = Case::new(StoreKind::Local, DumpFormat::Plain, Compression::None);
    let folder = tempfile::tempdir().unwrap();
    let empty = folder.path().join("empty.sql");
    std::fs::write(&empty, b"").unwrap();
    let error = case.restore(RestoreSource::File(empty), false).await;
    assert_eq!(error.code(), ErrorCode::CorruptBackup, "{error}");
    let garbage = folder.path().join("garbage.sql.zst");
    let mut bytes = vec![0x28, 0xb5, 0x2f, 0xfd];
    bytes.extend((0..5000u32).map(|i| (i * 31 % 251) as u8));
    std::fs::write(&garbage, &bytes).unwrap();
    let error = case.restore(RestoreSource::File(garbage), false).await;
    assert_eq!(error.code(), ErrorCode::CorruptBackup, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_restore_drops_the_database_it_created() {
    let case = Case::new(StoreKind::Local, DumpFormat::Plain, Compression::None);
    let full = case.target.raw_dump(&["--format=plain"]);
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("cut.sql");
    std::fs::write(&file, cut_at_line(&full, 0.9)).unwrap();
    let fresh = TestDb::adopt(&crate::support::pg::fresh_name("dmg_new"));
    let options = RestoreOptions {
        target: Some(fresh.target.clone()),
        create: true,
        confirm: fresh.name(),
        ..RestoreOptions::default()
    };
    let error = case
        .t
        .engine
        .restore(
            RestoreSource::File(file),
            options,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect_err("a truncated dump fails");
    assert_eq!(error.code(), ErrorCode::CorruptBackup, "{error}");
    assert!(
        !fresh.exists(),
        "the database created for the failed restore must be dropped"
    );
}
