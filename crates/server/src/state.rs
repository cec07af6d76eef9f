//! What every request handler shares: the engine, the token keys, the admin file (re-read
//! when it changes), the login limiter, the password checks, the job lock, the bound on
//! contents reads, the schedule, the redactor and the limits.

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use rythm_backup_core::redact::Redactor;
use rythm_backup_core::Engine;

use crate::auth::JwtKeys;
use crate::config::HttpTimeouts;
use crate::jobs::JobLock;
use crate::live_admins::LiveAdmins;
use crate::password_check::PasswordChecks;
use crate::rate_limit::LoginLimiter;
use crate::routes::partial::ContentsReads;
use crate::schedule::Schedule;

#[derive(Debug)]
pub struct Shared {
    pub engine: Engine,
    pub keys: JwtKeys,
    pub admins: LiveAdmins,
    pub limiter: LoginLimiter,
    pub password_checks: PasswordChecks,
    pub jobs: JobLock,
    pub contents_reads: ContentsReads,
    pub schedule: Arc<Schedule>,
    pub redactor: Redactor,
    pub body_limit: usize,
    pub timeouts: HttpTimeouts,
    /// The OpenAPI document, set once the router is built.
    pub openapi_json: OnceLock<String>,
    pub notifier: rythm_backup_core::notify::Notifier,
    pub stale_after_hours: u32,
}

/// Cheap to clone: one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
