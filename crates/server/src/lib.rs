//! rythm-backup-server: the REST server of `rythm-backup serve`. It speaks the RYTHM
//! platform's backup API (a compatible superset, see DESIGN.md "Our server") over the
//! engine: HS256 tokens for admins from an argon2 admin file (revoked when an admin is
//! removed or changes password), race-free login limits and bounded password hashing,
//! streamed downloads with Range, one job lock for backups and restores, a persisted daily
//! schedule it runs itself, an audit log, connection timeouts, and an OpenAPI document
//! generated from the handlers.
//!
//! ```no_run
//! # async fn example() -> Result<(), rythm_backup_server::ServerError> {
//! use rythm_backup_core::{Engine, EngineConfig};
//! use rythm_backup_server::{run, ServerConfig};
//! let config = ServerConfig::from_env()?; // JWT_SECRET, LISTEN_ADDR, ADMINS_FILE, SCHEDULE_FILE
//! let engine = Engine::new(EngineConfig::from_env()?)?;
//! run(config, engine, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

pub mod admins;
mod atomic_file;
pub mod audit;
pub mod auth;
pub mod config;
pub mod convert;
pub mod download;
pub mod error;
mod hash_verifier;
pub mod jobs;
mod listener;
pub mod live_admins;
pub mod notices;
pub mod openapi;
pub mod password_check;
pub mod query_tokens;
pub mod rate_limit;
pub mod redact;
pub mod routes;
pub mod schedule;
pub mod state;

use std::future::Future;
use std::sync::{Arc, OnceLock};

use rythm_backup_core::Engine;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::ServerConfig;
pub use error::ServerError;
pub use schedule::{Clock, ManualClock, SystemClock};

use crate::auth::JwtKeys;
use crate::jobs::JobLock;
use crate::live_admins::LiveAdmins;
use crate::password_check::PasswordChecks;
use crate::rate_limit::LoginLimiter;
use crate::routes::partial::ContentsReads;
use crate::schedule::{Schedule, ScheduleStore};
use crate::state::{AppState, Shared};

/// A configured server, ready to serve on a listener.
#[derive(Debug)]
pub struct BackupServer {
    state: AppState,
}

impl BackupServer {
    /// Checks the configuration (refuses a JWT secret under 32 bytes) and loads the
    /// schedule; uses the system clock.
    pub fn new(config: ServerConfig, engine: Engine) -> Result<Self, ServerError> {
        Self::with_clock(config, engine, Arc::new(SystemClock))
    }

    /// The same with another clock for the scheduler (tests: `ManualClock`).
    pub fn with_clock(
        config: ServerConfig,
        engine: Engine,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ServerError> {
        config.validate()?;
        let keys = JwtKeys::new(&config.jwt_secret, config.token_ttl)?;
        let store = ScheduleStore::load(
            &config.schedule_file,
            engine.config().retention_days,
            clock.now(),
        )?;
        let admins = LiveAdmins::load(&config.admins_file)?;
        if admins.current()?.admins().is_empty() {
            tracing::warn!(file = %config.admins_file.display(),
                "no admins can log in: add one with `rythm-backup admin add EMAIL`");
        }
        admins::warm_up();
        if engine.config().database.is_none() {
            tracing::warn!("DATABASE_URL is not set: backups and restores will fail");
        }
        let password_checks =
            PasswordChecks::start(config.password_checks).map_err(|source| ServerError::Io {
                action: "cannot start the password check threads for",
                path: config.admins_file.display().to_string(),
                source,
            })?;
        store.default_verify_after_backup(engine.config().verify_database.is_some());
        let admin_emails: Vec<String> = admins
            .current()?
            .admins()
            .iter()
            .map(|a| a.email.clone())
            .collect();
        let redactor = redact::server_redactor(&config, engine.config());
        let notifier = notices::notifier(&config.notify, admin_emails, &redactor)?;
        let state = AppState(Arc::new(Shared {
            redactor,
            engine,
            keys,
            admins,
            limiter: LoginLimiter::new(config.login_limit),
            password_checks,
            jobs: JobLock::default(),
            contents_reads: ContentsReads::default(),
            schedule: Arc::new(Schedule::new(store, clock)),
            body_limit: config.body_limit,
            timeouts: config.timeouts,
            openapi_json: OnceLock::new(),
            notifier,
            stale_after_hours: config.stale_after_hours,
        }));
        Ok(BackupServer { state })
    }

    /// The application, for serving or for in-process tests.
    pub fn router(&self) -> axum::Router {
        routes::router(self.state.clone())
    }

    /// Serves on `listener` and runs the scheduler until `shutdown` completes; then stops
    /// accepting, lets requests in flight finish, and cancels a scheduled run in progress.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let address = listener.local_addr().ok();
        let app = self.router();
        let cancel = CancellationToken::new();
        let runner = schedule::runner::Runner {
            engine: self.state.engine.clone(),
            jobs: self.state.jobs.clone(),
            schedule: self.state.schedule.clone(),
            notifier: self.state.notifier.clone(),
            stale_after_hours: self.state.stale_after_hours,
        };
        let scheduler = tokio::spawn(runner.run(cancel.child_token()));
        if let Some(address) = address {
            tracing::info!(%address, storage = %self.state.engine.store().location(),
                "rythm-backup server listening");
        }
        let stop = cancel.clone();
        listener::serve(listener, app, self.state.timeouts, async move {
            shutdown.await;
            tracing::info!("shutting down");
            stop.cancel();
        })
        .await;
        cancel.cancel();
        let _ = scheduler.await;
        Ok(())
    }
}

/// Binds `config.listen` and serves until `shutdown` completes.
pub async fn run(
    config: ServerConfig,
    engine: Engine,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let listen = config.listen;
    let server = BackupServer::new(config, engine)?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ServerError::Io {
            action: "cannot listen on",
            path: listen.to_string(),
            source,
        })?;
    server.serve(listener, shutdown).await
}
