//! Engines for the integration tests: one per test, over a fresh local folder or a fresh
//! Azurite container, with a recorder for the job events.

use std::path::PathBuf;
use std::sync::Arc;

use rythm_backup_core::catalog::{Compression, DumpFormat};
use rythm_backup_core::config::{EngineConfig, StorageConfig};
use rythm_backup_core::pg::DbTarget;
use rythm_backup_core::secrets::Sensitive;
use rythm_backup_core::storage::azure::AzureStore;
use rythm_backup_core::storage::local::LocalStore;
use rythm_backup_core::storage::BlobStore;
use rythm_backup_core::{Engine, JobEvent, Progress};
use tokio::sync::mpsc;

use super::{azure_connection_string, fresh_container};

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Local,
    Azure,
}

/// An engine and what it needs to stay alive (the temp folder).
pub struct TestEngine {
    pub engine: Engine,
    pub dir: Option<tempfile::TempDir>,
}

impl TestEngine {
    pub fn new(
        kind: StoreKind,
        database: &DbTarget,
        format: DumpFormat,
        compression: Compression,
    ) -> TestEngine {
        let (storage, store, dir): (StorageConfig, Arc<dyn BlobStore>, _) = match kind {
            StoreKind::Local => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path: PathBuf = dir.path().join("backups");
                (
                    StorageConfig::Local { dir: path.clone() },
                    Arc::new(LocalStore::new(path)),
                    Some(dir),
                )
            }
            StoreKind::Azure => {
                let container = fresh_container("it");
                let conn = azure_connection_string();
                let store = AzureStore::from_connection_string(&conn, &container)
                    .expect("Azurite connection string");
                (
                    StorageConfig::Azure {
                        connection_string: Sensitive::new(conn),
                        container,
                    },
                    Arc::new(store),
                    None,
                )
            }
        };
        let config = EngineConfig {
            database: Some(database.clone()),
            storage,
            retention_days: 10,
            format,
            compression,
            created_by: Some("integration-test".into()),
            shared_with_platform: false,
            verify_database: None,
        };
        TestEngine {
            engine: Engine::with_store(config, store),
            dir,
        }
    }

    pub fn store(&self) -> &Arc<dyn BlobStore> {
        self.engine.store()
    }

    /// The local folder, for local stores.
    pub fn local_dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("backups"))
    }
}

/// A progress sink whose events the test can read.
pub fn recorder() -> (Progress, mpsc::UnboundedReceiver<JobEvent>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (Progress::new(sender), receiver)
}
