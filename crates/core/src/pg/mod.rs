//! PostgreSQL: connection targets, finding `pg_dump`/`pg_restore`/`psql` of a fitting
//! version, and running them safely (the password in the child's environment, never in argv; no shell;
//! stderr kept for the error).

mod process;
mod server;
mod sql;
mod target;
mod tools;

pub use process::{ChildError, PgChild, PgCommand};
pub use server::{maintenance_target, RoleInfo, Server, Session};
pub use sql::{quote_ident, quote_literal, SqlClient};
pub use target::{DbTarget, TargetError};
pub use tools::{PgTools, ToolError, ToolKind};

/// Errors from running PostgreSQL tools and queries.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error(transparent)]
    Child(#[from] ChildError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("unexpected answer from PostgreSQL to {query}: {detail}")]
    Protocol { query: &'static str, detail: String },
}
