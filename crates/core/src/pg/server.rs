//! What we ask a server before working with it: its version (to pick fitting client tools),
//! which databases exist, and who else is connected to a database about to be restored.

use super::{quote_literal, DbTarget, PgError, PgTools, SqlClient, ToolKind};

/// A server's version and the client tools chosen for it.
#[derive(Debug, Clone)]
pub struct Server {
    pub tools: PgTools,
    /// e.g. `15.18`.
    pub version: String,
    pub major: u32,
}

/// The role a connection works as.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RoleInfo {
    pub name: String,
    /// A superuser: a backup's SQL restored as this role runs with superuser power.
    pub superuser: bool,
}

/// Another session connected to a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub pid: i64,
    pub user: String,
    pub application: String,
    pub client: String,
}

impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let app = if self.application.is_empty() {
            "unnamed app"
        } else {
            &self.application
        };
        let client = if self.client.is_empty() {
            "local socket"
        } else {
            &self.client
        };
        write!(
            f,
            "pid {} {} via {} from {}",
            self.pid, self.user, app, client
        )
    }
}

impl Server {
    /// Connects to `target` (any database of the server) and picks the tools for it.
    pub fn probe(target: &DbTarget) -> Result<Server, PgError> {
        let newest = PgTools::newest()?;
        let client = SqlClient::new(newest.path(ToolKind::Psql), target.clone());
        let rows = client.query(
            "SELECT current_setting('server_version_num'), split_part(current_setting('server_version'), ' ', 1)",
        )?;
        let row = rows.first().ok_or(PgError::Protocol {
            query: "server version",
            detail: "no row".into(),
        })?;
        let num: u32 = row[0].parse().map_err(|_| PgError::Protocol {
            query: "server version",
            detail: row[0].clone(),
        })?;
        let major = num / 10_000;
        let tools = PgTools::for_server(major)?;
        Ok(Server {
            tools,
            version: row.get(1).cloned().unwrap_or_default(),
            major,
        })
    }

    pub fn sql(&self, target: &DbTarget) -> SqlClient {
        SqlClient::new(self.tools.path(ToolKind::Psql), target.clone())
    }

    /// The role `target` connects as, and whether it is a superuser.
    pub fn role(&self, target: &DbTarget) -> Result<RoleInfo, PgError> {
        let rows = self.sql(target).query(
            "SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user",
        )?;
        let row = rows
            .first()
            .filter(|r| r.len() == 2)
            .ok_or(PgError::Protocol {
                query: "current role",
                detail: "no row".into(),
            })?;
        Ok(RoleInfo {
            name: row[0].clone(),
            superuser: row[1] == "t",
        })
    }

    /// Whether `database` exists, asked through the maintenance database of `target`'s server.
    pub fn database_exists(&self, via: &DbTarget, database: &str) -> Result<bool, PgError> {
        let sql = format!(
            "SELECT count(*) FROM pg_database WHERE datname = {}",
            quote_literal(database)
        );
        Ok(self.sql(via).query_value(&sql, "database exists")? != "0")
    }

    /// Client sessions on `target`'s database other than our own.
    pub fn other_sessions(&self, target: &DbTarget) -> Result<Vec<Session>, PgError> {
        let rows = self.sql(target).query(
            "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), \
             coalesce(host(client_addr), '') FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_type = 'client backend' ORDER BY pid",
        )?;
        Ok(rows
            .into_iter()
            .filter(|r| r.len() == 4)
            .map(|r| Session {
                pid: r[0].parse().unwrap_or_default(),
                user: r[1].clone(),
                application: r[2].clone(),
                client: r[3].clone(),
            })
            .collect())
    }

    /// Ends the given sessions (needs superuser or pg_signal_backend).
    pub fn terminate(&self, target: &DbTarget, sessions: &[Session]) -> Result<(), PgError> {
        let pids: Vec<String> = sessions.iter().map(|s| s.pid.to_string()).collect();
        if pids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT pg_terminate_backend(pid, 5000) FROM unnest(ARRAY[{}]::int[]) AS pid",
            pids.join(",")
        );
        self.sql(target).execute(&sql)
    }
}

/// The maintenance database to use for CREATE/DROP DATABASE on `target`'s server.
pub fn maintenance_target(target: &DbTarget) -> DbTarget {
    target.with_database("postgres")
}
