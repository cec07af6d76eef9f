//! A real server under test over the real engine, with its own database, storage, admin
//! file, schedule file and manual clock.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use rythm_backup_core::{Engine, EngineConfig};
use rythm_backup_server::admins::{AdminFile, AdminRecord};
use rythm_backup_server::{BackupServer, ManualClock, ServerConfig};
use serde_json::Value;
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{capture_logs, random_hex, required_env, TestDb};

/// Where a test server keeps its backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Azure,
    Local,
}

pub const ADMIN_EMAIL_DOMAIN: &str = "example.test";
/// The clock's default start: a minute before the default schedule time.
pub fn default_start() -> OffsetDateTime {
    time::macros::datetime!(2026-03-01 01:59:00 UTC)
}

pub struct Options {
    pub backend: Backend,
    /// DATABASE_URL; the test database's when `None`.
    pub database_url: Option<String>,
    /// Changes to the server's configuration (timeouts, limits) before it starts.
    pub configure: fn(&mut ServerConfig),
    /// Notification and freshness variables (`SMTP_*`, `NOTIFY_*`, `STALE_AFTER_HOURS`, …).
    pub env: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backend: Backend::Azure,
            database_url: None,
            configure: |_| {},
            env: Vec::new(),
        }
    }
}

/// One server under test with its own database, storage, admin file and schedule file.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub jwt_secret: String,
    pub admin_email: String,
    pub admin_password: String,
    /// Holds the admin file, the schedule file and, for `Local`, `backups/`.
    pub dir: TempDir,
    pub config: ServerConfig,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), rythm_backup_server::ServerError>>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> TestServer {
        capture_logs();
        let db = TestDb::create();
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut env = BTreeMap::new();
        env.insert(
            "DATABASE_URL",
            options.database_url.clone().unwrap_or_else(|| db.url()),
        );
        match options.backend {
            Backend::Azure => {
                env.insert(
                    "AZURE_STORAGE_CONNECTION_STRING",
                    required_env("RYTHM_TEST_AZURE_CONNECTION_STRING"),
                );
                env.insert("AZURE_BACKUP_CONTAINER", format!("srv-{}", random_hex()));
            }
            Backend::Local => {
                env.insert(
                    "BACKUP_DIR",
                    dir.path().join("backups").display().to_string(),
                );
            }
        }
        let engine_config = EngineConfig::from_lookup(|k| env.get(k).cloned())
            .expect("the test engine configuration is valid");
        let engine = Engine::new(engine_config).expect("the engine starts");

        let jwt_secret = format!("{}{}{}", random_hex(), random_hex(), random_hex());
        let admin_email = format!("admin-{}@{ADMIN_EMAIL_DOMAIN}", random_hex());
        let admin_password = format!("pw-{}", random_hex());
        let mut config = ServerConfig::new(jwt_secret.clone().into()).expect("a valid secret");
        config.admins_file = dir.path().join("admins.json");
        config.schedule_file = dir.path().join("schedule.json");
        let vars: BTreeMap<&str, String> = options.env.iter().cloned().collect();
        let lookup = |k: &str| vars.get(k).cloned();
        config.notify = rythm_backup_core::notify::NotifyConfig::from_lookup(lookup)
            .expect("the test's notification settings are valid");
        config.stale_after_hours = rythm_backup_core::freshness::stale_after_hours_from(&lookup)
            .expect("a valid STALE_AFTER_HOURS");
        (options.configure)(&mut config);
        AdminFile::load(&config.admins_file)
            .unwrap()
            .add(&admin_email, &admin_password)
            .expect("the admin is added");

        let clock = ManualClock::new(default_start());
        let mut server = TestServer {
            addr: "127.0.0.1:0".parse().unwrap(),
            base: String::new(),
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("a client"),
            db,
            engine,
            clock,
            jwt_secret,
            admin_email,
            admin_password,
            dir,
            config,
            shutdown: None,
            task: None,
        };
        server.launch().await;
        server
    }

    /// Starts a server instance over this test's engine, files and clock.
    async fn launch(&mut self) {
        let app =
            BackupServer::with_clock(self.config.clone(), self.engine.clone(), self.clock.clone())
                .expect("the server starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        self.addr = listener.local_addr().unwrap();
        self.base = format!("http://{}", self.addr);
        let (sender, receiver) = oneshot::channel::<()>();
        self.shutdown = Some(sender);
        self.task = Some(tokio::spawn(app.serve(listener, async {
            let _ = receiver.await;
        })));
    }

    /// Stops this instance and starts a new one on the same files (a restart).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    pub async fn stop(&mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("the server stops within 30 s")
                .expect("the server task does not panic")
                .expect("the server ends cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The test admin's record in the admin file (id and generation, as tokens carry them).
    pub fn admin_record(&self) -> AdminRecord {
        AdminFile::load(&self.config.admins_file)
            .expect("the admin file")
            .find(&self.admin_email)
            .expect("the test admin exists")
            .clone()
    }

    /// Logs in as the test's admin and returns the token.
    pub async fn token(&self) -> String {
        let (status, body) = self
            .json(
                Method::POST,
                "/api/auth/login",
                None,
                Some(
                    serde_json::json!({"email": self.admin_email, "password": self.admin_password}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// A JSON request; returns the status and the JSON answer (`Null` when empty).
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{path}: answer is not JSON ({e}): {text}"))
        };
        (status, value)
    }

    /// Takes a backup through the API; returns the answer's `data`.
    pub async fn create_backup(&self, token: &str) -> Value {
        let (status, body) = self
            .json(Method::POST, "/api/backups", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"].clone()
    }

    pub async fn list(&self, token: &str) -> Vec<Value> {
        let (status, body) = self
            .json(Method::GET, "/api/backups", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().expect("data is an array").clone()
    }

    /// The names in storage, straight from the store (not through the server).
    pub async fn stored_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .engine
            .store()
            .list()
            .await
            .expect("the store lists")
            .into_iter()
            .map(|b| b.name)
            .collect();
        names.sort();
        names
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
    }
}
