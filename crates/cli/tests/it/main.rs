//! The integration tests of the `rythm-backup` binary: one test binary, a module per
//! feature. They run the real executable against the PostgreSQL and Azurite that
//! `scripts/test.sh` starts, each test with its own database and storage.

mod api_mode;
// Interruptions are observed through /proc and sent as Unix signals.
#[cfg(target_os = "linux")]
mod failures;
// /proc/PID/environ and Unix file modes.
#[cfg(target_os = "linux")]
mod hardening;
mod names;
#[cfg(unix)]
mod notifications;
mod partial;
mod platform;
// The kernel keyring and `keyctl` are Linux's.
#[cfg(target_os = "linux")]
mod secret_store;
// Many loopback source addresses and /proc/PID/status.
#[cfg(target_os = "linux")]
mod server_security;
mod support;
mod workflow;
