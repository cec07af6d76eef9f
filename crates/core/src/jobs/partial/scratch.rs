//! The scratch database a partial restore reads the backup from: created on the target's
//! server, restored from the backup like any restore (checksum, statement filter, end
//! marker; see `sql_stream`), and dropped again whatever happens. The drop is entrusted to
//! a keeper: a psql of its own process group, connected to the maintenance database, that
//! waits for the end of its input and then drops the scratch database. Our end of its input
//! closes when we finish, fail, or die (even by SIGKILL), so the scratch database is gone
//! in every case; a Ctrl-C in our terminal does not reach the keeper.
//! Scratch databases a keeper could not drop (the server was down) are dropped by a later
//! restore once they are a day old and unused.

use std::io::Write;
use std::process::{ChildStdin, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Result;
use crate::pg::{maintenance_target, quote_ident, DbTarget, PgChild, PgCommand, Server, ToolKind};

const PREFIX: &str = "rythm_partial_";
/// A scratch database older than this with nobody connected is left over.
const STALE_SECS: u64 = 24 * 3600;

/// A scratch database and its keeper.
pub(crate) struct Scratch {
    pub target: DbTarget,
    server: Server,
    keeper: Option<(PgChild, ChildStdin)>,
}

impl Scratch {
    /// Creates an empty scratch database next to `of`, with its keeper.
    pub fn create(server: &Server, of: &DbTarget) -> Result<Scratch> {
        let maintenance = maintenance_target(of);
        drop_stale(server, &maintenance);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let name = format!("{PREFIX}{now:x}_{:08x}", rand::random::<u32>());
        let target = of.with_database(&name);
        server.sql(&maintenance).execute(&format!(
            "CREATE DATABASE {} TEMPLATE template0",
            quote_ident(&name)
        ))?;
        let mut scratch = Scratch {
            target,
            server: server.clone(),
            keeper: None,
        };
        // From here on `scratch` drops the database, through the keeper or by itself.
        let mut keeper = PgCommand::new(&server.tools.path(ToolKind::Psql), of.password())
            .arg("--no-psqlrc")
            .arg("--no-password")
            .arg("--quiet")
            .arg(format!("--dbname={}", maintenance.url_without_password()))
            .arg("--file=-")
            .arg("--command=SET client_min_messages = error")
            .arg(format!("--command={}", drop_sql(server, &name)))
            .stdin(Stdio::piped())
            .independent()
            .spawn()?;
        let input = keeper.take_stdin().expect("stdin is piped");
        scratch.keeper = Some((keeper, input));
        tracing::info!(scratch = %scratch.target.describe(), "scratch database created");
        Ok(scratch)
    }

    /// Drops the database now (through the keeper; by itself if the keeper failed).
    pub fn drop_now(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        let Some((keeper, mut input)) = self.keeper.take() else {
            return;
        };
        let _ = input.flush();
        drop(input);
        if keeper.wait().is_ok() {
            tracing::info!(scratch = %self.target.describe(), "scratch database dropped");
            return;
        }
        let name = self.target.database();
        let dropped = self
            .server
            .sql(&maintenance_target(&self.target))
            .execute(&drop_sql(&self.server, &name));
        if let Err(e) = dropped {
            tracing::warn!(scratch = %self.target.describe(), error = %e,
                "could not drop the scratch database");
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.finish();
    }
}

fn drop_sql(server: &Server, name: &str) -> String {
    // FORCE ends a session a killed psql may have left behind for a moment.
    let force = if server.major >= 13 {
        " WITH (FORCE)"
    } else {
        ""
    };
    format!("DROP DATABASE IF EXISTS {}{force}", quote_ident(name))
}

/// Drops scratch databases left over for a day with nobody connected (best effort).
fn drop_stale(server: &Server, maintenance: &DbTarget) {
    let sql = server.sql(maintenance);
    let rows = match sql.query(&format!(
        "SELECT d.datname FROM pg_catalog.pg_database d WHERE d.datname LIKE '{}%' \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.datname = d.datname)",
        PREFIX.replace('_', "\\_")
    )) {
        Ok(rows) => rows,
        Err(_) => return,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    for name in rows.into_iter().filter_map(|r| r.into_iter().next()) {
        let created = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|hex| u64::from_str_radix(hex, 16).ok());
        if created.is_some_and(|t| now.saturating_sub(t) > STALE_SECS) {
            tracing::warn!(scratch = %name, "dropping a scratch database left over by an earlier restore");
            let _ = sql.execute(&drop_sql(server, &name));
        }
    }
}
