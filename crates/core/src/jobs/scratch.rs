//! The scratch database a restore rehearsal restores into, which cannot outlive its job,
//! even when the process is killed. Before the database is created, two psql sessions are
//! opened on the scratch server: a *lease*, fed from our end of a pipe and so ended by the
//! server when our process dies in any way (its stdin closes), and a *watchdog*, which was
//! handed its whole script up front: wait while the lease lives, then drop the database.
//! A normal end drops the database itself and releases the lease. Scratch databases left
//! from before (a machine that lost power) have no lease and are swept at the next start.

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::pg::{
    quote_ident, quote_literal, DbTarget, PgChild, PgCommand, PgError, Server, ToolKind,
};

/// The prefix of every scratch database's name.
pub const PREFIX: &str = "rythm_verify_";
const LEASE_APP: &str = "rythm-verify-lease-";
const WATCHDOG_APP: &str = "rythm-verify-watchdog-";

/// A scratch database with its lease and watchdog.
pub(crate) struct ScratchDatabase {
    server: Server,
    maintenance: DbTarget,
    target: DbTarget,
    lease: Option<(PgChild, ChildStdin)>,
    watchdog: Option<PgChild>,
}

impl ScratchDatabase {
    /// Creates `rythm_verify_<random>` on the server of `maintenance` (a database there to
    /// connect to while creating and dropping). Blocking.
    pub(crate) fn create(maintenance: &DbTarget) -> Result<Self> {
        let server = Server::probe(maintenance)?;
        sweep_orphans(&server, maintenance);
        let suffix = format!("{:08x}", rand::random::<u32>());
        let target = maintenance.with_database(&format!("{PREFIX}{suffix}"));
        let lease = open_lease(&server, maintenance, &suffix)?;
        let watchdog = start_watchdog(&server, maintenance, &suffix, &target.database())?;
        let scratch = ScratchDatabase {
            server,
            maintenance: maintenance.clone(),
            target,
            lease: Some(lease),
            watchdog: Some(watchdog),
        };
        wait_for_watchdog(&scratch.server, maintenance, &suffix)?;
        scratch.server.sql(&scratch.maintenance).execute(&format!(
            "CREATE DATABASE {} TEMPLATE template0",
            quote_ident(&scratch.target.database())
        ))?;
        Ok(scratch)
    }

    pub(crate) fn target(&self) -> &DbTarget {
        &self.target
    }

    pub(crate) fn server(&self) -> &Server {
        &self.server
    }

    /// Drops the database now, then lets the watchdog go. Blocking; never fails (the
    /// watchdog is the fallback).
    pub(crate) fn drop_now(mut self) {
        let name = self.target.database();
        let dropped = self.server.sql(&self.maintenance).execute(&drop_sql(&name));
        if let Err(e) = &dropped {
            tracing::warn!(database = %name, error = %e, "could not drop the scratch database; its watchdog will");
        }
        self.release();
    }

    /// Ends the lease; the watchdog then drops the database (if still there) and exits.
    fn release(&mut self) {
        if let Some((lease, stdin)) = self.lease.take() {
            drop(stdin);
            let _ = lease.wait();
        }
        if let Some(watchdog) = self.watchdog.take() {
            if let Err(e) = watchdog.wait() {
                tracing::warn!(error = %e, "the scratch database's watchdog failed");
            }
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        // A job that ended without drop_now (a panic, an early return): the lease ends
        // here, and the watchdog drops the database.
        self.release();
    }
}

/// Ends sessions on `database` and drops it (any server version; the role's own sessions).
fn drop_sql(database: &str) -> String {
    format!(
        "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity \
         WHERE datname = {} AND pid <> pg_catalog.pg_backend_pid();\n\
         DROP DATABASE IF EXISTS {};\n",
        quote_literal(database),
        quote_ident(database)
    )
}

fn psql(server: &Server, target: &DbTarget) -> PgCommand {
    PgCommand::new(&server.tools.path(ToolKind::Psql), target.password())
        .arg("--no-psqlrc")
        .arg("--no-password")
        .arg("--quiet")
        .arg("--no-align")
        .arg("--tuples-only")
        .arg(format!("--dbname={}", target.url_without_password()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
}

fn open_lease(
    server: &Server,
    maintenance: &DbTarget,
    suffix: &str,
) -> Result<(PgChild, ChildStdin)> {
    let mut child = psql(server, maintenance).spawn()?;
    let mut stdin = child.take_stdin().expect("stdin is piped");
    let stdout = child.take_stdout().expect("stdout is piped");
    let written = stdin
        .write_all(
            format!("SET application_name = '{LEASE_APP}{suffix}';\nSELECT 'leased';\n").as_bytes(),
        )
        .and_then(|()| stdin.flush());
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    if written.is_err() || read.is_err() || line.trim() != "leased" {
        drop(stdin);
        return Err(match child.wait() {
            Err(e) => e.into(),
            Ok(stderr) => Error::from(PgError::Protocol {
                query: "scratch database lease",
                detail: stderr,
            }),
        });
    }
    Ok((child, stdin))
}

fn start_watchdog(
    server: &Server,
    maintenance: &DbTarget,
    suffix: &str,
    database: &str,
) -> Result<PgChild> {
    let mut child = psql(server, maintenance).stdout(Stdio::null()).spawn()?;
    let mut stdin = child.take_stdin().expect("stdin is piped");
    // pg_stat_activity is read once per transaction unless the snapshot is cleared.
    let script = format!(
        "SET application_name = '{WATCHDOG_APP}{suffix}';\n\
         DO $rythm$ BEGIN\n\
           LOOP\n\
             PERFORM pg_catalog.pg_stat_clear_snapshot();\n\
             EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity \
               WHERE application_name = '{LEASE_APP}{suffix}');\n\
             PERFORM pg_catalog.pg_sleep(0.5);\n\
           END LOOP;\n\
         END $rythm$;\n{}",
        drop_sql(database)
    );
    stdin.write_all(script.as_bytes()).map_err(|e| {
        Error::Internal(format!("cannot start the scratch database's watchdog: {e}"))
    })?;
    drop(stdin);
    Ok(child)
}

/// Waits until the watchdog's loop runs, so no scratch database exists unguarded.
fn wait_for_watchdog(server: &Server, maintenance: &DbTarget, suffix: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let sql = format!(
        "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = '{WATCHDOG_APP}{suffix}' \
         AND state = 'active'"
    );
    loop {
        if server.sql(maintenance).query_value(&sql, "watchdog")? != "0" {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::Internal(
                "the scratch database's watchdog did not start within 30 s".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Drops scratch databases whose lease is gone (left by a machine that went down, or by
/// a version without leases). Best effort: logged, never an error.
fn sweep_orphans(server: &Server, maintenance: &DbTarget) {
    let sql = format!(
        "SELECT datname FROM pg_catalog.pg_database d WHERE datname LIKE 'rythm\\_verify\\_%' \
         AND pg_catalog.pg_has_role(d.datdba, 'USAGE') \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity \
           WHERE application_name = '{LEASE_APP}' || substr(d.datname, {}))",
        PREFIX.len() + 1
    );
    let orphans = match server.sql(maintenance).query(&sql) {
        Ok(rows) => rows,
        Err(e) => {
            tracing::debug!(error = %e, "cannot look for abandoned scratch databases");
            return;
        }
    };
    for row in orphans {
        let Some(name) = row.first() else { continue };
        match server.sql(maintenance).execute(&drop_sql(name)) {
            Ok(()) => tracing::info!(database = %name, "dropped an abandoned scratch database"),
            Err(e) => {
                tracing::warn!(database = %name, error = %e, "cannot drop an abandoned scratch database")
            }
        }
    }
}
