//! Logging to stderr with `tracing`: the level comes from LOG_LEVEL or RUST_LOG. The default
//! is `error` for commands (the CLI prints a failed job's error itself, as one line; and
//! `LOG_LEVEL=info` shows every job's start, finish, duration and size) and `info` for
//! `serve`.

use tracing_subscriber::EnvFilter;

pub fn init(default_level: &str) {
    let directive = std::env::var("LOG_LEVEL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| default_level.into());
    let filter = EnvFilter::try_new(&directive).unwrap_or_else(|_| EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
