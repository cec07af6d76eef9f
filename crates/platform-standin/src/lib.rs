//! A stand-in for the RYTHM platform's backup API (DESIGN.md, "The RYTHM platform's real
//! API", and NOTES.md, "Seen in late November 2026"), shared by the engine's contract tests,
//! the CLI's tests and the desktop app's end-to-end tests. It serves the same routes, status
//! codes, body shapes and error texts on a loopback port and signs real HS256 tokens; it
//! behaves as the platform does where that hurts: `HH:MM:SS` only, `retention_days` 0 taken
//! as absent, no confirmation check, no safety backup (`safetyBackup: null`), `.sql`-only
//! listing, a 500 with Azure's raw text for a missing backup, 30-day retention. With a
//! database attached, its restore is the platform's `psql < file` without `ON_ERROR_STOP`
//! (see `platform`). With `ours` set it behaves as our server where the two differ (Range
//! support, sha256 in the list, 404 for a missing backup).

mod http;
pub mod platform;
mod routes;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::net::TcpListener;

pub const SECRET: &[u8] = b"peer-test-secret-of-at-least-32-bytes";
pub const ADMIN_EMAIL: &str = "admin@rythm.test";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
pub const USER_EMAIL: &str = "user@rythm.test";
pub const USER_PASSWORD: &str = "user password";
/// The database the platform backs up and restores, as its create answer names it.
pub const DATABASE_NAME: &str = "rythm";
/// `RETENTION_DAYS` in the platform's backup service: older backups go after each backup.
pub const RETENTION_DAYS: i64 = 30;

/// A token as the peer signs them; `exp` is `expires_in` seconds from now.
pub fn token(secret: &[u8], role: &str, email: &str, expires_in: i64) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"userId": 7, "tenantId": null, "role": role, "email": email,
        "iat": now, "exp": now + expires_in});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign a test token")
}

/// A time as JavaScript's `toISOString()` writes it: milliseconds and a `Z`.
pub fn iso(t: OffsetDateTime) -> String {
    let text = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t)
        .format(&Rfc3339)
        .expect("format a time");
    // Rfc3339 drops trailing zeros of the fraction; toISOString() always writes three digits.
    let (seconds, rest) = text.split_at(19);
    let millis = rest.trim_start_matches('.').trim_end_matches('Z');
    format!("{seconds}.{millis:0<3}Z")
}

/// The platform's backup name for a time: `rythm-backup-<ISO time with : and . as ->.sql`.
pub fn backup_name(t: OffsetDateTime) -> String {
    format!("rythm-backup-{}.sql", iso(t).replace([':', '.'], "-"))
}

/// One blob in the platform's container.
#[derive(Debug, Clone)]
pub struct StoredBackup {
    pub bytes: Vec<u8>,
    /// ISO time, as the platform's list sends it.
    pub created_at: String,
    /// The platform's `type`: `manual`, `scheduled` or, for blobs it did not write,
    /// `unknown`.
    pub kind: String,
    /// The platform's `status` (`completed`, `failed`, …).
    pub status: String,
    pub initiated_by: String,
}

impl StoredBackup {
    pub fn new(bytes: Vec<u8>, created_at: OffsetDateTime, kind: &str) -> Self {
        StoredBackup {
            bytes,
            created_at: iso(created_at),
            kind: kind.into(),
            status: "completed".into(),
            initiated_by: ADMIN_EMAIL.into(),
        }
    }
}

/// One request as the peer saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub body: Value,
}

/// The database a stand-in restores into, as the platform's `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct AttachedDatabase {
    /// The `psql` to run (the platform's container has one on its PATH).
    pub psql: PathBuf,
    /// `postgresql://user@host:port/db`, without the password.
    pub url: String,
    pub password: Option<String>,
}

#[derive(Default)]
pub struct PeerState {
    pub backups: BTreeMap<String, StoredBackup>,
    pub schedule: Value,
    pub seen: Vec<Seen>,
    /// Behave as our server: Range, sha256 in the list, 404 for a missing backup.
    pub ours: bool,
    /// Our server's list: this sha256 instead of the real one.
    pub wrong_sha256: bool,
    /// Answer the restore of an existing backup with this 500 error text.
    pub restore_failure: Option<String>,
    /// Cut the next download's body after this many bytes.
    pub cut_next_download_after: Option<usize>,
    /// Restores run `psql < file` against this database; without it they only answer.
    pub database: Option<AttachedDatabase>,
    /// What each restore's psql did, in order.
    pub restores: Vec<platform::PsqlRun>,
}

pub struct Peer {
    pub url: String,
    pub state: Arc<Mutex<PeerState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The schedule a fresh platform reports: daily at 02:00 UTC, 30 days.
pub fn default_schedule() -> Value {
    json!({"schedule_id": 1, "enabled": true, "schedule_time": "02:00:00",
        "retention_days": RETENTION_DAYS, "last_run_at": "2026-01-16T02:00:00.000Z",
        "next_run_at": "2026-01-17T02:00:00.000Z", "created_at": "2025-12-01T00:00:00.000Z",
        "updated_at": "2025-12-01T00:00:00.000Z"})
}

/// `len` bytes of deterministic, poorly compressible data; `seed` varies it.
pub fn test_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

impl Peer {
    /// A stand-in holding two backups of January 2026 (a manual and a scheduled one).
    pub async fn start() -> Peer {
        let peer = Peer::start_empty().await;
        for (i, (name, created_at, kind, by)) in [
            (
                "rythm-backup-2026-01-15T10-30-00-851Z.sql",
                "2026-01-15T10:30:00.851Z",
                "manual",
                ADMIN_EMAIL,
            ),
            (
                "rythm-backup-2026-01-16T02-00-00-000Z.sql",
                "2026-01-16T02:00:00.000Z",
                "scheduled",
                "system",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let bytes = test_bytes(300_000 + i * 1000, i as u64 + 1);
            let backup = StoredBackup {
                bytes,
                created_at: created_at.into(),
                kind: kind.into(),
                status: "completed".into(),
                initiated_by: by.into(),
            };
            peer.with(|s| s.backups.insert(name.into(), backup));
        }
        peer
    }

    /// A stand-in with no backup yet.
    pub async fn start_empty() -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(PeerState {
            schedule: default_schedule(),
            ..PeerState::default()
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = http::serve(socket, state).await;
                });
            }
        });
        Peer {
            url: format!("http://{addr}"),
            state,
            task,
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut PeerState) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Adds a blob to the container under the platform's name for `created_at`; returns
    /// the name.
    pub fn put(&self, created_at: OffsetDateTime, kind: &str, bytes: Vec<u8>) -> String {
        let name = backup_name(created_at);
        let backup = StoredBackup::new(bytes, created_at, kind);
        self.with(|s| s.backups.insert(name.clone(), backup));
        name
    }

    /// Requests to the backup routes so far (login excluded).
    pub fn backup_requests(&self) -> Vec<Seen> {
        self.with(|s| {
            s.seen
                .iter()
                .filter(|r| r.path.starts_with("/api/backups"))
                .cloned()
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn names_and_times_are_the_platforms() {
        let t = datetime!(2026-01-15 10:30:00.85 UTC);
        assert_eq!(iso(t), "2026-01-15T10:30:00.850Z");
        assert_eq!(
            iso(datetime!(2026-01-15 10:30:00 UTC)),
            "2026-01-15T10:30:00.000Z"
        );
        assert_eq!(backup_name(t), "rythm-backup-2026-01-15T10-30-00-850Z.sql");
    }
}
