//! The integration tests of rythm-backup-server: a real server on 127.0.0.1:0 over the real
//! engine, PostgreSQL and Azurite (started by `scripts/test.sh`; the tests fail without
//! them), driven over HTTP. One module per feature.

mod audit;
mod auth;
mod backups;
mod concurrency;
mod download;
mod limits;
mod login_burst;
#[cfg(unix)]
mod notifications;
mod openapi;
mod partial;
mod query_credentials;
mod revocation;
mod schedule;
mod startup;
mod support;
mod timeouts;
mod token_times;
mod traversal;
