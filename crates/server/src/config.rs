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
/// How long an issued token is valid, as the RYTHM API's.
pub const TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

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
    pub token_ttl: Duration,
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
            token_ttl: TOKEN_TTL,
        };
        config.validate()?;
        Ok(config)
    }

    /// Reads `JWT_SECRET` (required), `LISTEN_ADDR`, `ADMINS_FILE` and `SCHEDULE_FILE`.
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
}
