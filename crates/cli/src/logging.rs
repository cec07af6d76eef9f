//! Logging to stderr with `tracing`: the level comes from LOG_LEVEL or RUST_LOG. The default
//! is `error`: the CLI prints a failed job's error itself, as one line, and `LOG_LEVEL=info`
//! shows every job's start, finish, duration and size.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let directive = std::env::var("LOG_LEVEL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "error".into());
    let filter = EnvFilter::try_new(&directive).unwrap_or_else(|_| EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
