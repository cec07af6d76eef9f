//! Our REST API server (`rythm-backup-server`, what `rythm-backup serve` runs) on a loopback
//! port for API-mode scenarios: over the real engine, backing up a test database into a
//! container of its own on Azurite, with one admin in its admin file.

use std::sync::atomic::{AtomicU32, Ordering};

use rythm_backup_core::jobs::backup::BackupRequest;
use rythm_backup_core::{Cancel, Engine, EngineConfig, Progress};
use rythm_backup_server::admins::AdminFile;
use rythm_backup_server::{BackupServer, ServerConfig};
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use super::pg::{required_env, TestDb};

pub struct ApiServer {
    /// `http://127.0.0.1:PORT`, what an API profile's URL field takes.
    pub url: String,
    pub admin_email: String,
    pub admin_password: String,
    /// The server's engine: what the server really stores, for a test to check.
    pub engine: Engine,
    runtime: Runtime,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: TempDir,
}

impl ApiServer {
    /// Starts a server whose DATABASE_URL is `db` and whose storage is a fresh container on
    /// the test Azurite (`RYTHM_TEST_AZURE_CONNECTION_STRING`).
    pub fn start(db: &TestDb) -> ApiServer {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let container = format!(
            "e2e-api-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let connection_string = required_env("RYTHM_TEST_AZURE_CONNECTION_STRING");
        let database_url = db.url();
        let engine_config = EngineConfig::from_lookup(|key| match key {
            "DATABASE_URL" => Some(database_url.clone()),
            "AZURE_STORAGE_CONNECTION_STRING" => Some(connection_string.clone()),
            "AZURE_BACKUP_CONTAINER" => Some(container.clone()),
            _ => None,
        })
        .expect("the server's engine configuration");
        let engine = Engine::new(engine_config).expect("the server's engine");

        let dir = tempfile::tempdir().expect("a temp dir");
        let admin_email = "admin@rythm.test".to_owned();
        let admin_password = format!("pw-{}-{}", std::process::id(), container.len());
        // A random secret per run: tokens of one run mean nothing to another.
        let secret: String = (0..48)
            .map(|_| char::from(b'a' + rand::random_range(0..26u8)))
            .collect();
        let mut config = ServerConfig::new(secret.into()).expect("a valid JWT secret");
        config.admins_file = dir.path().join("admins.json");
        config.schedule_file = dir.path().join("schedule.json");
        AdminFile::load(&config.admins_file)
            .expect("the admin file")
            .add(&admin_email, &admin_password)
            .expect("the admin is added");

        let runtime = Runtime::new().expect("a tokio runtime");
        let server = BackupServer::new(config, engine.clone()).expect("the server starts");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let (shutdown, stop) = oneshot::channel::<()>();
        runtime.spawn(async move {
            let stopped = async move {
                let _ = stop.await;
            };
            if let Err(e) = server.serve(listener, stopped).await {
                eprintln!("the test API server failed: {e}");
            }
        });
        ApiServer {
            url,
            admin_email,
            admin_password,
            engine,
            runtime,
            shutdown: Some(shutdown),
            _dir: dir,
        }
    }

    /// Backs up the server's database once per request, as its schedule or an admin would
    /// have (a list that looks like a server's after a few days of use).
    pub fn make_backups(&self, requests: &[BackupRequest]) {
        for request in requests {
            self.runtime
                .block_on(
                    self.engine
                        .backup_with(request, &Progress::none(), &Cancel::new()),
                )
                .expect("a backup on the server's storage");
        }
    }

    /// The names of the backups the server's storage holds, newest first.
    pub fn stored_backups(&self) -> Vec<String> {
        let entries = self
            .runtime
            .block_on(self.engine.list())
            .expect("the server's storage lists");
        entries.into_iter().map(|e| e.name.to_string()).collect()
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
