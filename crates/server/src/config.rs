//! The server's own configuration, from the environment: listen address, the JWT secret,
//! the admin and schedule files, and the limits. The engine's part (`DATABASE_URL`, storage,
//! `RETENTION_DAYS`) is `rythm_backup_core::EngineConfig`'s.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rythm_backup_core::secrets::Sensitive;

use crate::error::ServerError;

/// Where the server listens unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The shortest `JWT_SECRET` accepted, in bytes (HS256 wants at least the hash's size).
pub const MIN_JWT_SECRET_LEN: usize = 32;
/// The largest request body accepted; every body of the API is a small JSON object.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// How long an issued token is valid, as the RYTHM API's; also the longest any token is
/// accepted for, counted from its `iat`, whatever its `exp` says.
pub const TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long a connection may take to deliver what it owes, so that idle or stalled
/// connections do not pile up (`HTTP_HEADER_TIMEOUT`, `HTTP_BODY_TIMEOUT`,
/// `HTTP_IDLE_TIMEOUT`, in seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// From the first byte of a request's head to its end.
    pub header: Duration,
    /// From the end of a request's head to the end of its body (bodies are small JSON).
    /// Responses are not limited: a slow download that progresses runs as long as it needs.
    pub body: Duration,
    /// How long a connection may wait for the first byte of its next request: after it
    /// opened, or after the previous response was sent (keep-alive).
    pub idle: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        HttpTimeouts {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
            idle: Duration::from_secs(60),
        }
    }
}

/// The bound on argon2 password checks, each of which holds about 19 MiB while it runs:
/// `workers` run at once, `queue` more may wait, and any further login is answered 503 at
/// once (`LOGIN_CHECK_WORKERS`, `LOGIN_CHECK_QUEUE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCheckLimits {
    pub workers: usize,
    pub queue: usize,
}

impl Default for PasswordCheckLimits {
    fn default() -> Self {
        PasswordCheckLimits {
            workers: 2,
            queue: 16,
        }
    }
}

/// Failed logins allowed per client address within `window` before 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    pub max_failures: u32,
    pub window: Duration,
}

impl Default for LoginLimit {
    fn default() -> Self {
        LoginLimit {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Everything `rythm-backup serve` needs besides the engine.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Signs and checks the HS256 tokens; at least 32 bytes.
    pub jwt_secret: Sensitive<String>,
    /// The argon2 hashes of the admins allowed to log in.
    pub admins_file: PathBuf,
    /// The persisted daily schedule.
    pub schedule_file: PathBuf,
    pub body_limit: usize,
    pub login_limit: LoginLimit,
    pub password_checks: PasswordCheckLimits,
    pub timeouts: HttpTimeouts,
    pub token_ttl: Duration,
    /// Where notifications go (`SMTP_*`, `ACS_*`, `NOTIFY_*`); e-mail goes to the admins
    /// when `NOTIFY_EMAIL_TO` names nobody.
    pub notify: rythm_backup_core::notify::NotifyConfig,
    /// With the schedule on, no successful backup for this long makes the server `stale`
    /// (`STALE_AFTER_HOURS`, default 26).
    pub stale_after_hours: u32,
}

impl ServerConfig {
    /// A configuration with the defaults; fails when the secret is too short.
    pub fn new(jwt_secret: Sensitive<String>) -> Result<Self, ServerError> {
        let config = ServerConfig {
            listen: DEFAULT_LISTEN.parse().expect("the default address parses"),
            jwt_secret,
            admins_file: default_admins_file(),
            schedule_file: default_schedule_file(),
            body_limit: DEFAULT_BODY_LIMIT,
            login_limit: LoginLimit::default(),
            password_checks: PasswordCheckLimits::default(),
            timeouts: HttpTimeouts::default(),
            token_ttl: TOKEN_TTL,
            notify: Default::default(),
            stale_after_hours: rythm_backup_core::freshness::DEFAULT_STALE_AFTER_HOURS,
        };
        config.validate()?;
        Ok(config)
    }

    /// Reads `JWT_SECRET` (required), `LISTEN_ADDR`, `ADMINS_FILE`, `SCHEDULE_FILE`, the
    /// HTTP timeouts and the login limits (see the README's server section).
    pub fn from_env() -> Result<Self, ServerError> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads the configuration through `lookup` (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ServerError> {
        let secret = lookup("JWT_SECRET").ok_or_else(|| {
            ServerError::Config(format!(
                "JWT_SECRET is not set: the server needs a random secret of at least \
                 {MIN_JWT_SECRET_LEN} bytes to sign its tokens (e.g. `openssl rand -hex 32`)"
            ))
        })?;
        let mut config = ServerConfig::new(Sensitive::new(secret))?;
        if let Some(listen) = lookup("LISTEN_ADDR") {
            config.listen = parse_listen(&listen)?;
        }
        if let Some(path) = lookup("ADMINS_FILE") {
            config.admins_file = PathBuf::from(path);
        }
        if let Some(path) = lookup("SCHEDULE_FILE") {
            config.schedule_file = PathBuf::from(path);
        }
        let seconds = |key: &str, default: Duration| {
            lookup(key).map_or(Ok(default), |raw| parse_seconds(key, &raw))
        };
        let count = |key: &str, default: usize, min: usize| {
            lookup(key).map_or(Ok(default), |raw| parse_count(key, &raw, min))
        };
        let timeouts = config.timeouts;
        config.timeouts = HttpTimeouts {
            header: seconds("HTTP_HEADER_TIMEOUT", timeouts.header)?,
            body: seconds("HTTP_BODY_TIMEOUT", timeouts.body)?,
            idle: seconds("HTTP_IDLE_TIMEOUT", timeouts.idle)?,
        };
        let checks = config.password_checks;
        config.password_checks = PasswordCheckLimits {
            workers: count("LOGIN_CHECK_WORKERS", checks.workers, 1)?,
            queue: count("LOGIN_CHECK_QUEUE", checks.queue, 0)?,
        };
        let limit = config.login_limit;
        config.login_limit = LoginLimit {
            max_failures: count("LOGIN_MAX_FAILURES", limit.max_failures as usize, 1)?
                .try_into()
                .map_err(|_| ServerError::Config("LOGIN_MAX_FAILURES is too large".into()))?,
            window: seconds("LOGIN_FAILURE_WINDOW", limit.window)?,
        };
        config.notify = rythm_backup_core::notify::NotifyConfig::from_lookup(&lookup)
            .map_err(|e| ServerError::Config(e.to_string()))?;
        config.stale_after_hours = rythm_backup_core::freshness::stale_after_hours_from(&lookup)
            .map_err(|e| ServerError::Config(e.to_string()))?;
        Ok(config)
    }

    /// Refuses a secret that is too short (its value never appears in the message).
    pub fn validate(&self) -> Result<(), ServerError> {
        let len = self.jwt_secret.expose().len();
        if len < MIN_JWT_SECRET_LEN {
            return Err(ServerError::Config(format!(
                "JWT_SECRET is {len} bytes long; at least {MIN_JWT_SECRET_LEN} are required \
                 (e.g. `openssl rand -hex 32`)"
            )));
        }
        if self.body_limit == 0 {
            return Err(ServerError::Config("the body limit must not be 0".into()));
        }
        let t = self.timeouts;
        if [t.header, t.body, t.idle].contains(&Duration::ZERO) {
            return Err(ServerError::Config("HTTP timeouts must be above 0".into()));
        }
        if self.password_checks.workers == 0 || self.login_limit.max_failures == 0 {
            return Err(ServerError::Config(
                "LOGIN_CHECK_WORKERS and LOGIN_MAX_FAILURES must be at least 1".into(),
            ));
        }
        if self.token_ttl.is_zero() || self.login_limit.window.is_zero() {
            return Err(ServerError::Config(
                "the token lifetime and the login failure window must be above 0".into(),
            ));
        }
        Ok(())
    }
}

/// Parses `HOST:PORT` (e.g. `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:80`).
pub fn parse_listen(raw: &str) -> Result<SocketAddr, ServerError> {
    raw.trim().parse().map_err(|_| {
        ServerError::Config(format!(
            "listen address {raw:?} is not IP:PORT (e.g. 127.0.0.1:8080)"
        ))
    })
}

/// A duration in seconds, decimals allowed (`10`, `2.5`); above 0 and at most a day.
fn parse_seconds(key: &str, raw: &str) -> Result<Duration, ServerError> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            ServerError::Config(format!(
                "{key} is {raw:?}: expected a number of seconds above 0 and at most 86400"
            ))
        })
}

/// A whole number of at least `min` (and at most 10,000, which no sane setting exceeds).
fn parse_count(key: &str, raw: &str, min: usize) -> Result<usize, ServerError> {
    raw.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (min..=10_000).contains(n))
        .ok_or_else(|| {
            ServerError::Config(format!(
                "{key} is {raw:?}: expected a whole number from {min} to 10000"
            ))
        })
}

/// `ADMINS_FILE`, else `admins.json` in the OS config folder's `rythm-backup`.
pub fn admins_file_from_env() -> PathBuf {
    std::env::var_os("ADMINS_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(default_admins_file)
}

/// `admins.json` in the OS config folder's `rythm-backup` (e.g. `~/.config/rythm-backup`).
pub fn default_admins_file() -> PathBuf {
    dirs::config_dir()
        .map(|d| d.join("rythm-backup"))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("admins.json")
}

/// `schedule.json` in the OS data folder's `rythm-backup` (e.g. `~/.local/share/rythm-backup`).
pub fn default_schedule_file() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("rythm-backup"))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("schedule.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<ServerConfig, ServerError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ServerConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn requires_a_long_enough_secret_and_never_echoes_it() {
        assert!(config(&[]).is_err());
        let err = config(&[("JWT_SECRET", "short-secret-value")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("18 bytes"), "{err}");
        assert!(!err.contains("short-secret-value"), "{err}");
        let ok = config(&[("JWT_SECRET", &"x".repeat(32))]).unwrap();
        assert_eq!(ok.listen.to_string(), DEFAULT_LISTEN);
        assert!(!format!("{ok:?}").contains(&"x".repeat(32)));
    }

    #[test]
    fn reads_paths_and_listen_address() {
        let c = config(&[
            ("JWT_SECRET", &"s".repeat(40)),
            ("LISTEN_ADDR", "0.0.0.0:9000"),
            ("ADMINS_FILE", "/tmp/a.json"),
            ("SCHEDULE_FILE", "/tmp/s.json"),
        ])
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.admins_file, PathBuf::from("/tmp/a.json"));
        assert_eq!(c.schedule_file, PathBuf::from("/tmp/s.json"));
        assert!(config(&[("JWT_SECRET", &"s".repeat(40)), ("LISTEN_ADDR", "nope")]).is_err());
    }

    #[test]
    fn reads_timeouts_and_login_limits() {
        let defaults = config(&[("JWT_SECRET", &"s".repeat(40))]).unwrap();
        assert_eq!(defaults.timeouts, HttpTimeouts::default());
        assert_eq!(defaults.password_checks, PasswordCheckLimits::default());
        assert_eq!(defaults.login_limit, LoginLimit::default());
        let c = config(&[
            ("JWT_SECRET", &"s".repeat(40)),
            ("HTTP_HEADER_TIMEOUT", "2.5"),
            ("HTTP_BODY_TIMEOUT", "7"),
            ("HTTP_IDLE_TIMEOUT", " 90 "),
            ("LOGIN_CHECK_WORKERS", "4"),
            ("LOGIN_CHECK_QUEUE", "0"),
            ("LOGIN_MAX_FAILURES", "3"),
            ("LOGIN_FAILURE_WINDOW", "60"),
        ])
        .unwrap();
        assert_eq!(c.timeouts.header, Duration::from_millis(2500));
        assert_eq!(c.timeouts.body, Duration::from_secs(7));
        assert_eq!(c.timeouts.idle, Duration::from_secs(90));
        assert_eq!(c.password_checks.workers, 4);
        assert_eq!(c.password_checks.queue, 0);
        assert_eq!(c.login_limit.max_failures, 3);
        assert_eq!(c.login_limit.window, Duration::from_secs(60));
        for (key, bad) in [
            ("HTTP_HEADER_TIMEOUT", "0"),
            ("HTTP_BODY_TIMEOUT", "-1"),
            ("HTTP_IDLE_TIMEOUT", "soon"),
            ("HTTP_IDLE_TIMEOUT", "NaN"),
            ("HTTP_IDLE_TIMEOUT", "1e9"),
            ("LOGIN_CHECK_WORKERS", "0"),
            ("LOGIN_CHECK_QUEUE", "-3"),
            ("LOGIN_MAX_FAILURES", "0"),
        ] {
            let error = config(&[("JWT_SECRET", &"s".repeat(40)), (key, bad)])
                .unwrap_err()
                .to_string();
            assert!(error.contains(key), "{key}={bad}: {error}");
        }
    }
}
