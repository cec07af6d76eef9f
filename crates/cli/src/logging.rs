//! Logging to stderr with `tracing`: the level comes from LOG_LEVEL or RUST_LOG (default
//! `warn`, so the CLI's own output stays readable).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let directive = std::env::var("LOG_LEVEL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "warn".into());
    let filter = EnvFilter::try_new(&directive).unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
