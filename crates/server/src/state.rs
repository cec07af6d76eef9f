//! What every request handler shares: the engine, the token keys, the admin file's path,
//! the login limiter, the job lock, the schedule and the redactor.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rythm_backup_core::Engine;

use crate::auth::JwtKeys;
use crate::jobs::JobLock;
use crate::rate_limit::LoginLimiter;
use crate::redact::Redactor;
use crate::schedule::Schedule;

#[derive(Debug)]
pub struct Shared {
    pub engine: Engine,
    pub keys: JwtKeys,
    pub admins_file: PathBuf,
    pub limiter: LoginLimiter,
    pub jobs: JobLock,
    pub schedule: Arc<Schedule>,
    pub redactor: Redactor,
    pub body_limit: usize,
    /// The OpenAPI document, set once the router is built.
    pub openapi_json: OnceLock<String>,
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
