//! Interrupted jobs: a backup cancelled mid-upload leaves nothing listed; a download whose
//! Azurite is stopped mid-transfer resumes when it is back and verifies; a cancelled
//! download resumes from its `.part` file on the next run.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rythm_backup_core::catalog::{BackupKind, BackupMetadata, Compression, DumpFormat};
use rythm_backup_core::jobs::backup::BackupOutcome;
use rythm_backup_core::jobs::download::part_path;
use rythm_backup_core::storage::azure::AzureStore;
use rythm_backup_core::storage::BlobStore;
use rythm_backup_core::{Cancel, ErrorCode, JobEvent};
use sha2::{Digest, Sha256};

use crate::support::engine::{recorder, StoreKind, TestEngine};
use crate::support::pg::TestDb;
use crate::support::{name, required_env, test_bytes};

/// A database large enough that its backup spans several upload blocks.
fn sizeable_database() -> TestDb {
    let db = TestDb::create("big");
    db.execute(
        "CREATE TABLE t (id int PRIMARY KEY, a text, b text);
         INSERT INTO t SELECT g, md5(g::text) || md5((g * 7)::text), md5((g * 13)::text) || g
         FROM generate_series(1, 400000) g;",
    );
    db
}

async fn cancel_mid_upload(kind: StoreKind) {
    let db = sizeable_database();
    let t = TestEngine::new(kind, &db.target, DumpFormat::Plain, Compression::None);
    let (progress, mut events) = recorder();
    let cancel = Cancel::new();
    let canceller = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            // Cancel once the first block is stored: the upload is under way.
            while let Some(event) = events.recv().await {
                if matches!(event, JobEvent::Progress { bytes, .. } if bytes > 0) {
                    cancel.cancel();
                    return true;
                }
            }
            false
        })
    };
    let result = t
        .engine
        .backup(BackupKind::Manual, &progress, &cancel)
        .await;
    drop(progress);
    assert!(
        canceller.await.unwrap(),
        "the backup never reported upload progress"
    );
    let error = result.expect_err("a cancelled backup fails");
    assert_eq!(error.code(), ErrorCode::Cancelled, "{error}");
    assert!(
        t.engine.list().await.unwrap().is_empty(),
        "a cancelled backup must leave nothing listed"
    );
    if let Some(dir) = t.local_dir() {
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "partial files left behind: {left:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_cancelled_backup_leaves_nothing() {
    cancel_mid_upload(StoreKind::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_cancelled_backup_leaves_nothing() {
    cancel_mid_upload(StoreKind::Azure).await;
}

/// An Azurite of this test's own, on disk, that can be stopped and started again.
struct OwnAzurite {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl OwnAzurite {
    fn start() -> OwnAzurite {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut azurite = OwnAzurite {
            child: None,
            port,
            dir: tempfile::tempdir().unwrap(),
        };
        azurite.launch();
        azurite
    }

    fn launch(&mut self) {
        let child = Command::new(required_env("AZURITE_BIN"))
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &self.port.to_string(),
            ])
            .arg("--location")
            .arg(self.dir.path())
            .args([
                "--skipApiVersionCheck",
                "--disableTelemetry",
                "--loose",
                "--silent",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Azurite");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "Azurite did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:{}/devstoreaccount1;",
            self.port
        )
    }
}

impl Drop for OwnAzurite {
    fn drop(&mut self) {
        self.stop();
    }
}

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_resumes_after_azurite_restarts() {
    let mut azurite = OwnAzurite::start();
    let store = AzureStore::from_connection_string(&azurite.connection_string(), "resume").unwrap();
    store.ensure_ready().await.unwrap();
    let data = test_bytes(64 * 1024 * 1024, 7);
    let sha = hex::encode(Sha256::digest(&data));
    let blob = name("rythm-backup-2026-02-03T04-05-06-007Z.dump");
    let metadata = BackupMetadata {
        format: DumpFormat::Custom,
        compression: Compression::None,
        sha256: Some(sha.clone()),
        ..BackupMetadata::default()
    };
    let mut upload = store.begin_upload(&blob).await.unwrap();
    for chunk in data.chunks(4 << 20) {
        upload
            .put_block(Bytes::copy_from_slice(chunk))
            .await
            .unwrap();
    }
    upload.commit(metadata.to_map()).await.unwrap();
    drop(data);
    // Let Azurite persist its metadata before it is killed.
    tokio::time::sleep(Duration::from_secs(6)).await;

    let db = TestDb::create("dl");
    let t = TestEngine::new(
        StoreKind::Azure,
        &db.target,
        DumpFormat::Plain,
        Compression::Zstd,
    );
    let engine = rythm_backup_core::Engine::with_store(
        t.engine.config().clone(),
        std::sync::Arc::new(store),
    );
    let folder = tempfile::tempdir().unwrap();
    let path: PathBuf = folder.path().join("resumed.dump");
    let (progress, mut events) = recorder();
    let download = {
        let (engine, blob, path) = (engine.clone(), blob.clone(), path.clone());
        tokio::spawn(async move {
            engine
                .download(&blob, path, false, &progress, &Cancel::new())
                .await
        })
    };
    let mut stopped_at = None;
    let mut retries = 0;
    while let Some(event) = events.recv().await {
        match event {
            JobEvent::Progress { bytes, .. } if stopped_at.is_none() && bytes > 0 => {
                azurite.stop();
                stopped_at = Some(bytes);
                tokio::time::sleep(Duration::from_millis(1500)).await;
                azurite.launch();
            }
            JobEvent::Retrying { .. } => retries += 1,
            _ => {}
        }
    }
    let outcome = download
        .await
        .unwrap()
        .expect("the download resumes and completes");
    let stopped_at = stopped_at.expect("the download reported progress");
    assert!(
        stopped_at < 64 * 1024 * 1024,
        "Azurite was stopped before the end"
    );
    assert!(retries >= 1, "the break was noticed and retried");
    assert_eq!(outcome.checksum_verified, Some(true));
    assert_eq!(sha256_of(&path), sha);
    assert!(!part_path(&path).exists());
}

/// A plain, uncompressed backup of `db` in a fresh local folder.
async fn plain_local_backup(db: &TestDb) -> (TestEngine, BackupOutcome) {
    let t = TestEngine::new(
        StoreKind::Local,
        &db.target,
        DumpFormat::Plain,
        Compression::None,
    );
    let progress = rythm_backup_core::Progress::none();
    let report = t
        .engine
        .backup(BackupKind::Manual, &progress, &Cancel::new())
        .await;
    (t, report.expect("backup").backup)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_download_resumes_from_its_part_file() {
    let db = sizeable_database();
    let (t, backup) = plain_local_backup(&db).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("copy.sql");

    let (progress, mut events) = recorder();
    let cancel = Cancel::new();
    let watcher = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if matches!(event, JobEvent::Progress { bytes, .. } if bytes > 0) {
                    cancel.cancel();
                }
            }
        })
    };
    let first = t
        .engine
        .download(&backup.name, path.clone(), false, &progress, &cancel)
        .await;
    drop(progress);
    watcher.await.unwrap();
    assert_eq!(first.expect_err("cancelled").code(), ErrorCode::Cancelled);
    assert!(
        !path.exists(),
        "an unverified download is never presented under its name"
    );
    let kept = std::fs::metadata(part_path(&path))
        .expect("the .part file stays for resuming")
        .len();
    assert!(
        kept > 0 && kept < backup.size,
        "kept {kept} of {}",
        backup.size
    );

    let second = t
        .engine
        .download(
            &backup.name,
            path.clone(),
            false,
            &rythm_backup_core::Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("resumed download");
    assert_eq!(second.resumed_from, kept);
    assert_eq!(second.checksum_verified, Some(true));
    assert_eq!(sha256_of(&path), backup.sha256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_file_of_something_else_is_not_resumed() {
    let db = TestDb::create("part");
    db.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g");
    let (t, backup) = plain_local_backup(&db).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("copy.sql");
    // A shorter .part left by some other download to the same path.
    std::fs::write(part_path(&path), b"-- not this backup's bytes\n").unwrap();
    let outcome = t
        .engine
        .download(
            &backup.name,
            path.clone(),
            false,
            &rythm_backup_core::Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("the download starts over");
    assert_eq!(outcome.resumed_from, 0);
    assert_eq!(outcome.checksum_verified, Some(true));
    assert_eq!(sha256_of(&path), backup.sha256);
    let leftovers: Vec<_> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        [std::ffi::OsString::from("copy.sql")],
        "no .part or .part.json left"
    );
}
