//! The verify job: copies a stored backup aside checking its sha256 (`spool`), restores it
//! into a temporary database on the same server, reports each table's row count, and drops
//! the temporary database whatever happened.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::restore::drop_created;
use super::spool;
use super::sql_stream::{restore_stream, RestoreInput};
use super::{Cancel, Phase, Progress};
use crate::catalog::{BackupMetadata, BackupName};
use crate::error::{Error, Result};
use crate::pg::{maintenance_target, quote_ident, DbTarget, Server};
use crate::storage::BlobStore;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TableCount {
    pub schema: String,
    pub table: String,
    pub rows: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyOutcome {
    pub name: BackupName,
    pub ok: bool,
    pub sha256: String,
    /// `Some(true)`: matched the recorded checksum; `None`: a legacy backup without one.
    pub checksum_verified: Option<bool>,
    pub tables: Vec<TableCount>,
    pub total_rows: i64,
    /// The temporary database restored into (dropped again).
    pub scratch_database: String,
    pub duration_ms: u64,
}

/// Counts every table's rows in one statement (query_to_xml runs a count per table).
const COUNT_ROWS_SQL: &str = "SELECT n.nspname, c.relname, \
    (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text \
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
    AND n.nspname NOT LIKE 'pg\\_toast%' ORDER BY 1, 2";

pub async fn run(
    store: &Arc<dyn BlobStore>,
    server_of: &DbTarget,
    name: &BackupName,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<VerifyOutcome> {
    let started = Instant::now();
    let info = store.head(name).await?;
    let expected_sha256 = BackupMetadata::from_map(&info.metadata).and_then(|m| m.sha256);
    // Nothing of the backup runs before its checksum is checked.
    let copy = spool::fetch(
        store,
        name,
        expected_sha256.as_deref(),
        Some(info.size),
        progress,
        cancel,
    )
    .await?;
    let scratch = server_of.with_database(&format!("rythm_verify_{:08x}", rand::random::<u32>()));
    let server = {
        let scratch = scratch.clone();
        tokio::task::spawn_blocking(move || {
            let maintenance = maintenance_target(&scratch);
            let server = Server::probe(&maintenance)?;
            server.sql(&maintenance).execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                quote_ident(&scratch.database())
            ))?;
            Ok::<_, Error>(server)
        })
        .await??
    };
    tracing::info!(backup = %name, scratch = %scratch.describe(), "verify started");

    let checked = {
        let (server, scratch, progress, cancel) = (
            server.clone(),
            scratch.clone(),
            progress.clone(),
            cancel.clone(),
        );
        let label = name.to_string();
        tokio::task::spawn_blocking(move || {
            let input = RestoreInput {
                reader: copy.file,
                label,
                expected_sha256,
                total: Some(copy.bytes),
            };
            let streamed = restore_stream(&server, &scratch, input, false, &progress, &cancel)?;
            progress.phase(Phase::Checking, None, None);
            let tables = count_rows(&server, &scratch)?;
            Ok::<_, Error>((streamed, tables))
        })
        .await
    };
    drop_created(&server, &scratch).await;
    let (streamed, tables) = checked??;
    let total_rows = tables.iter().map(|t| t.rows).sum();
    tracing::info!(backup = %name, tables = tables.len(), total_rows, "verify finished");
    Ok(VerifyOutcome {
        name: name.clone(),
        ok: streamed.checksum_verified != Some(false),
        sha256: streamed.sha256,
        checksum_verified: streamed.checksum_verified,
        tables,
        total_rows,
        scratch_database: scratch.database(),
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

fn count_rows(server: &Server, database: &DbTarget) -> Result<Vec<TableCount>> {
    let rows = server.sql(database).query(COUNT_ROWS_SQL)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.len() == 3)
        .map(|r| TableCount {
            schema: r[0].clone(),
            table: r[1].clone(),
            rows: r[2].parse().unwrap_or(-1),
        })
        .collect())
}
