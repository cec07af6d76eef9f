//! The verify job, a restore rehearsal: copies a stored backup aside checking its sha256
//! (`spool`), restores it into a scratch database (on `VERIFY_DATABASE_URL`'s server, else
//! on the backed-up one; never the source database) that is dropped whatever happens, even
//! when the process is killed (`scratch`), counts every table's rows and compares them with
//! the counts recorded at backup time, measures how long the restore took (the recovery time
//! to expect), and records the result beside the backup.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::scratch::ScratchDatabase;
use super::snapshot::{parse_count_row, COUNT_ROWS_SQL};
use super::spool;
use super::sql_stream::{restore_stream, RestoreInput};
use super::{Cancel, Phase, Progress};
use crate::catalog::{
    row_counts, verification, BackupMetadata, BackupName, Mismatch, TableRows, Verification,
};
use crate::error::{Error, Result};
use crate::notify::cause_chain;
use crate::pg::{DbTarget, Server};
use crate::storage::BlobStore;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifyOutcome {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub name: BackupName,
    /// The restore succeeded and every table has the rows recorded at backup time.
    pub ok: bool,
    pub sha256: Option<String>,
    /// `Some(true)`: matched the recorded checksum; `None`: a legacy backup without one.
    pub checksum_verified: Option<bool>,
    /// The restored tables' rows.
    pub tables: Vec<TableRows>,
    pub total_rows: i64,
    /// The temporary database restored into (dropped again).
    pub scratch_database: String,
    /// Where the rehearsal ran (`host:port`).
    pub scratch_server: String,
    pub duration_ms: u64,
    /// What was recorded beside the backup.
    pub verification: Verification,
}

/// Where rehearsals run: a scratch server (`VERIFY_DATABASE_URL`, its database used to
/// connect for CREATE and DROP), else the backed-up server through its `postgres` database.
pub fn scratch_server_of(verify_database: Option<&DbTarget>, source: &DbTarget) -> DbTarget {
    match verify_database {
        Some(target) => target.clone(),
        None => crate::pg::maintenance_target(source),
    }
}

/// A rehearsal's result and the verification it recorded beside the backup. A rehearsal
/// that fails with an error (the backup does not restore at all, the worst case) records a
/// failed verification too, and whoever keeps the last verification (the server's health)
/// must see it: `verification` carries it whatever `result` is.
#[derive(Debug)]
pub struct Rehearsed {
    pub result: Result<VerifyOutcome>,
    /// What was recorded; `None` when no rehearsal began (no such backup) or it was
    /// cancelled.
    pub verification: Option<Verification>,
}

pub async fn run(
    store: &Arc<dyn BlobStore>,
    scratch_server: &DbTarget,
    name: &BackupName,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<VerifyOutcome> {
    run_recorded(store, scratch_server, name, progress, cancel)
        .await
        .result
}

/// `run`, with the verification recorded even when the rehearsal failed with an error.
pub async fn run_recorded(
    store: &Arc<dyn BlobStore>,
    scratch_server: &DbTarget,
    name: &BackupName,
    progress: &Progress,
    cancel: &Cancel,
) -> Rehearsed {
    let started = Instant::now();
    let at = OffsetDateTime::now_utc();
    let info = match store.head(name).await {
        Ok(info) => info,
        Err(e) => {
            return Rehearsed {
                result: Err(e.into()),
                verification: None,
            }
        }
    };
    let metadata = BackupMetadata::from_map(&info.metadata);
    let expected_sha256 = metadata.as_ref().and_then(|m| m.sha256.clone());
    tracing::info!(backup = %name, scratch = %scratch_server.describe(), "verify started");

    let rehearsal = rehearse(
        store,
        scratch_server,
        name,
        &info,
        expected_sha256,
        progress,
        cancel,
    )
    .await;
    if cancel.is_cancelled() {
        return Rehearsed {
            result: Err(Error::Cancelled),
            verification: None,
        };
    }
    let restore_seconds = started.elapsed().as_secs_f64();
    let (verification, outcome) = match rehearsal {
        Ok(done) => {
            let mismatches = match &done.recorded {
                Some(recorded) => compare(recorded, &done.tables),
                None => Vec::new(),
            };
            let checksum_ok = done.checksum_verified != Some(false);
            let verification = Verification {
                at,
                ok: checksum_ok && mismatches.is_empty(),
                restore_seconds: done.restore_seconds,
                tables: done.tables.len() as u64,
                rows: done.tables.iter().map(|t| t.rows).sum(),
                error: (!mismatches.is_empty()).then(|| {
                    format!(
                        "{} table(s) differ from the counts recorded at backup time: {}",
                        mismatches.len(),
                        mismatches
                            .iter()
                            .take(5)
                            .map(|m| m.to_string())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                }),
                mismatches,
                compared: done.recorded.is_some(),
            };
            (verification, Ok(done))
        }
        Err(e) => {
            let verification = Verification {
                at,
                ok: false,
                restore_seconds,
                tables: 0,
                rows: 0,
                mismatches: Vec::new(),
                compared: false,
                error: Some(cause_chain(&e).join(": ")),
            };
            (verification, Err(e))
        }
    };
    // The result is recorded whatever it is; a store that cannot take it is worth a
    // warning, not a lost rehearsal result.
    if let Err(e) = verification::store(store, name, &verification).await {
        tracing::warn!(backup = %name, error = %e, "could not record the verification");
    }
    let done = match outcome {
        Ok(done) => done,
        Err(e) => {
            return Rehearsed {
                result: Err(e),
                verification: Some(verification),
            }
        }
    };
    let total_rows = done.tables.iter().map(|t| t.rows).sum();
    tracing::info!(backup = %name, ok = verification.ok, tables = done.tables.len(), total_rows,
        mismatches = verification.mismatches.len(), restore_seconds = verification.restore_seconds,
        "verify finished");
    Rehearsed {
        result: Ok(VerifyOutcome {
            name: name.clone(),
            ok: verification.ok,
            sha256: done.sha256,
            checksum_verified: done.checksum_verified,
            tables: done.tables,
            total_rows,
            scratch_database: done.scratch_database,
            scratch_server: format!("{}:{}", scratch_server.host(), scratch_server.port()),
            duration_ms: started.elapsed().as_millis() as u64,
            verification: verification.clone(),
        }),
        verification: Some(verification),
    }
}

struct Rehearsal {
    sha256: Option<String>,
    checksum_verified: Option<bool>,
    tables: Vec<TableRows>,
    recorded: Option<Vec<TableRows>>,
    scratch_database: String,
    restore_seconds: f64,
}

async fn rehearse(
    store: &Arc<dyn BlobStore>,
    scratch_server: &DbTarget,
    name: &BackupName,
    info: &crate::storage::BlobInfo,
    expected_sha256: Option<String>,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<Rehearsal> {
    let started = Instant::now();
    // Recorded counts unreadable (a manifest gone) fail the rehearsal before it starts.
    let recorded = match BackupMetadata::from_map(&info.metadata) {
        Some(_) => row_counts::recorded_in(store, name, &info.metadata).await?,
        None => None,
    };
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
    let maintenance = scratch_server.clone();
    let scratch =
        tokio::task::spawn_blocking(move || ScratchDatabase::create(&maintenance)).await??;
    let scratch_database = scratch.target().database();
    let (progress, cancel) = (progress.clone(), cancel.clone());
    let label = name.to_string();
    let done = tokio::task::spawn_blocking(move || {
        let input = RestoreInput {
            reader: copy.file,
            label,
            expected_sha256,
            total: Some(copy.bytes),
        };
        let result = restore_stream(
            scratch.server(),
            scratch.target(),
            input,
            false,
            &progress,
            &cancel,
        )
        .and_then(|streamed| {
            let restore_seconds = started.elapsed().as_secs_f64();
            progress.phase(Phase::Checking, None, None);
            let tables = count_rows(scratch.server(), scratch.target())?;
            Ok((streamed, restore_seconds, tables))
        });
        scratch.drop_now();
        result
    })
    .await??;
    let (streamed, restore_seconds, tables) = done;
    Ok(Rehearsal {
        sha256: Some(streamed.sha256),
        checksum_verified: streamed.checksum_verified,
        tables,
        recorded,
        scratch_database,
        restore_seconds,
    })
}

fn count_rows(server: &Server, database: &DbTarget) -> Result<Vec<TableRows>> {
    let rows = server.sql(database).query(COUNT_ROWS_SQL)?;
    Ok(rows
        .iter()
        .filter_map(|r| parse_count_row(&r.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect())
}

/// The tables whose restored rows differ from the recorded ones, either way missing
/// included, in name order.
pub fn compare(recorded: &[TableRows], restored: &[TableRows]) -> Vec<Mismatch> {
    let key = |t: &TableRows| (t.schema.clone(), t.table.clone());
    let mut sides: BTreeMap<(String, String), (Option<i64>, Option<i64>)> = BTreeMap::new();
    for t in recorded {
        sides.entry(key(t)).or_default().0 = Some(t.rows);
    }
    for t in restored {
        sides.entry(key(t)).or_default().1 = Some(t.rows);
    }
    sides
        .into_iter()
        .filter(|(_, (a, b))| a != b)
        .map(|((schema, table), (recorded, restored))| Mismatch {
            schema,
            table,
            recorded,
            restored,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(table: &str, rows: i64) -> TableRows {
        TableRows {
            schema: "public".into(),
            table: table.into(),
            rows,
        }
    }

    #[test]
    fn compare_names_every_difference() {
        let recorded = [t("a", 1), t("b", 2), t("c", 3)];
        let restored = [t("a", 1), t("b", 1), t("d", 0)];
        let m = compare(&recorded, &restored);
        let shown: Vec<String> = m.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            shown,
            [
                "public.b: recorded 2 rows, restored 1 rows",
                "public.c: recorded 3 rows, restored missing",
                "public.d: recorded missing, restored 0 rows",
            ]
        );
        assert!(compare(&recorded, &recorded).is_empty());
    }
}
