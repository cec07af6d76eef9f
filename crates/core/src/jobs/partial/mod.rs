//! The partial restore: chosen tables, or one tenant's rows, or copies in a new schema,
//! from any backup we can read (plain or custom, any compression, legacy blobs, local
//! files). The backup is checked and restored like any restore, but into a scratch
//! database on the target's server (`jobs::scratch`, the one rehearsals use: it is dropped
//! even when our process is killed); the plan is decided from both catalogs (`plan`),
//! conditions are checked by PostgreSQL (`condition`), a safety backup of the affected
//! tables is taken (`safety`), and then one transaction on the target replaces exactly the
//! chosen rows (`apply`), with the guarantees of every restore (see `transaction`). A dry
//! run does all of it but the safety backup and the sequences, and rolls back. The outcome
//! carries the choice that rolls the restore back.

mod apply;
mod catalog;
mod choice;
mod condition;
mod ddl;
pub mod fk_order;
mod plan;
mod request;
mod safety;
mod script;

pub use request::{
    OtherTableChange, PartialRestoreOutcome, PartialRollback, PartialSelection, SelectionText,
    TableName, TableOutcome, DEFAULT_TENANT_COLUMN,
};

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::sync::Arc;
use std::time::Instant;

use super::backup::{self, BackupRequest, DumpOptions};
use super::restore::{checked_copy, open_source, restoring_role, RestoreSource};
use super::scratch::ScratchDatabase;
use super::sql_stream::{restore_stream, RestoreInput};
use super::{Cancel, JobEvent, Phase, Progress};
use crate::catalog::{
    is_partial_safety_backup, BackupKind, BackupName, Compression, DumpFormat,
    PARTIAL_SAFETY_PREFIX,
};
use crate::error::{Error, Result};
use crate::pg::{maintenance_target, quote_literal, DbTarget, Server};
use crate::storage::BlobStore;
use apply::Apply;
use catalog::Catalog;
use plan::{Plan, PlanKind};

/// A partial restore to run.
#[derive(Debug, Clone)]
pub struct PartialRequest {
    pub source: RestoreSource,
    pub target: DbTarget,
    /// Must equal the target database's name (not needed for a dry run).
    pub confirm: String,
    pub selection: PartialSelection,
    pub safety_backup: bool,
    pub created_by: Option<String>,
    pub safety_format: DumpFormat,
    pub safety_compression: Compression,
}

pub async fn run(
    store: &Arc<dyn BlobStore>,
    request: &PartialRequest,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<PartialRestoreOutcome> {
    let started = Instant::now();
    let selection = &request.selection;
    selection.check()?;
    let database = request.target.database();
    if !selection.dry_run && request.confirm != database {
        return Err(Error::ConfirmationMismatch {
            expected: database,
            given: request.confirm.clone(),
        });
    }
    if let Some(condition) = &selection.where_sql {
        condition::check_text(condition)?;
    }
    let source = open_source(store, &request.source).await?;
    let server = {
        let target = request.target.clone();
        tokio::task::spawn_blocking(move || Server::probe(&target)).await??
    };
    let role = restoring_role(&server, &request.target, progress).await?;
    let (file, expected_sha256, size) = checked_copy(store, source, progress, cancel).await?;
    let label = request.source.label();
    let (file, holds) = {
        let (label, expected, cancel) = (label.clone(), expected_sha256.clone(), cancel.clone());
        tokio::task::spawn_blocking(move || held_tables(file, &label, expected, size, &cancel))
            .await??
    };
    let maintenance = maintenance_target(&request.target);
    let scratch =
        tokio::task::spawn_blocking(move || ScratchDatabase::create(&maintenance)).await??;
    let prepared = {
        let (server, scratch_target, selection) =
            (server.clone(), scratch.target().clone(), selection.clone());
        let (target, progress, cancel) = (request.target.clone(), progress.clone(), cancel.clone());
        tokio::task::spawn_blocking(move || {
            let input = RestoreInput {
                reader: file,
                label,
                expected_sha256,
                total: Some(size),
            };
            let streamed =
                restore_stream(&server, &scratch_target, input, false, &progress, &cancel)
                    .map_err(|e| scratch_failed(e, &target))?;
            let prepared = prepare(
                &server,
                &target,
                &scratch_target,
                &selection,
                holds.as_ref(),
            )?;
            Ok::<_, Error>((streamed, prepared))
        })
        .await
    };
    let (streamed, (plan, missing_types)) = match prepared {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            drop_scratch(scratch).await;
            return Err(e);
        }
        Err(e) => {
            drop_scratch(scratch).await;
            return Err(e.into());
        }
    };
    let mut safety_backup = None;
    let takes_safety = request.safety_backup
        && !selection.dry_run
        && matches!(plan.kind, PlanKind::Replace { .. })
        && !plan.safety_tables.is_empty();
    if takes_safety {
        match take_safety_backup(store, request, &server, &plan, progress, cancel).await {
            Ok(name) => safety_backup = Some(name),
            Err(e) => {
                drop_scratch(scratch).await;
                return Err(e);
            }
        }
    }
    let applied = {
        let (server, target, scratch_target, selection, plan_) = (
            server.clone(),
            request.target.clone(),
            scratch.target().clone(),
            selection.clone(),
            plan.clone(),
        );
        let (progress, cancel) = (progress.clone(), cancel.clone());
        tokio::task::spawn_blocking(move || {
            Apply {
                server: &server,
                target: &target,
                scratch: &scratch_target,
                selection: &selection,
                missing_types: &missing_types,
                progress: &progress,
                cancel: &cancel,
            }
            .run(&plan_)
        })
        .await
    };
    drop_scratch(scratch).await;
    let applied = applied?.map_err(|e| super::restore::with_safety(e, safety_backup.clone()))?;
    let mut notes = plan.notes.clone();
    let rollback = safety_backup.clone().and_then(|backup| {
        let changed: Vec<TableName> = applied
            .other_tables
            .iter()
            .filter(|t| t.deleted > 0 || t.updated > 0)
            .map(|t| TableName::new(&t.schema, &t.name))
            .collect();
        let back = safety::rollback(selection, &plan, &changed)?;
        if !back.whole_tables.is_empty() {
            let whole: Vec<String> = back.whole_tables.iter().map(ToString::to_string).collect();
            notes.push(format!(
                "{} lost rows to --cascade-to-referencing: the roll back restores {} whole \
                 from the safety backup (changes made there after this restore are undone too)",
                whole.join(", "),
                if whole.len() == 1 { "it" } else { "them" }
            ));
        }
        Some(PartialRollback {
            backup,
            selection: SelectionText::from(&back),
        })
    });
    let duration_ms = started.elapsed().as_millis() as u64;
    tracing::info!(source = %request.source.label(), database = %request.target.describe(),
        tables = applied.tables.len(), dry_run = selection.dry_run, safety_backup = ?safety_backup,
        duration_ms, "partial restore finished");
    Ok(PartialRestoreOutcome {
        source: request.source.label(),
        database,
        dry_run: selection.dry_run,
        tables: applied.tables,
        other_tables: applied.other_tables,
        tenant: selection.tenant.clone(),
        tenant_column: selection
            .tenant
            .as_ref()
            .map(|_| selection.tenant_column().to_owned()),
        where_sql: selection.where_sql.clone(),
        into_schema: selection.into_schema.clone(),
        refreshed_views: applied.refreshed,
        safety_tables: if safety_backup.is_some() {
            plan.safety_tables.clone()
        } else {
            Vec::new()
        },
        safety_backup,
        rollback,
        restored_as: Some(role),
        notes,
        bytes: streamed.bytes,
        sha256: streamed.sha256,
        checksum_verified: streamed.checksum_verified,
        format: streamed.format,
        compression: streamed.compression,
        duration_ms,
    })
}

/// A failure restoring the backup into the scratch database, told as what it means for the
/// target: nothing changed there.
fn scratch_failed(error: Error, target: &DbTarget) -> Error {
    let Error::RestoreFailed { detail, .. } = error else {
        return error;
    };
    let why = if detail.contains("row-level security") {
        "row-level security policies hide rows from the restoring role, so the backup cannot \
         be read whole: restore as a role with BYPASSRLS (or the superuser). "
    } else {
        ""
    };
    Error::RestoreFailed {
        database: target.describe(),
        detail: format!(
            "{why}The backup could not be restored into a scratch database on the same server \
             to read it: {}",
            detail.trim()
        ),
    }
}

async fn drop_scratch(scratch: ScratchDatabase) {
    let _ = tokio::task::spawn_blocking(move || scratch.drop_now()).await;
}

/// For a partial restore's safety backup (which holds every table's definition but only
/// the rows of the tables that restore changed): the tables whose rows it holds, read from
/// the backup itself (its data entries), so that no other table is emptied from it. None
/// for any other backup. Hands the file back where it was.
fn held_tables(
    mut file: File,
    label: &str,
    expected_sha256: Option<String>,
    size: u64,
    cancel: &Cancel,
) -> Result<(File, Option<BTreeSet<TableName>>)> {
    let name = std::path::Path::new(label)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !is_partial_safety_backup(&name) {
        return Ok((file, None));
    }
    let io = |e| Error::io("cannot read", std::path::Path::new(label), e);
    let at = file.stream_position().map_err(io)?;
    let input = RestoreInput {
        reader: file.try_clone().map_err(io)?,
        label: label.to_owned(),
        expected_sha256,
        total: Some(size),
    };
    let contents = super::contents::read_contents(input, None, &Progress::none(), cancel)?;
    file.seek(SeekFrom::Start(at)).map_err(io)?;
    let held = contents
        .contents
        .tables
        .iter()
        .filter(|t| t.has_data)
        .map(|t| TableName::new(&t.schema, &t.name))
        .collect();
    Ok((file, Some(held)))
}

/// Reads both catalogs, decides the plan and has PostgreSQL check every condition on every
/// table it applies to (on the target and on the backup's copy), before anything changes.
fn prepare(
    server: &Server,
    target: &DbTarget,
    scratch: &DbTarget,
    selection: &PartialSelection,
    holds: Option<&BTreeSet<TableName>>,
) -> Result<(Plan, Vec<u32>)> {
    let (target_sql, scratch_sql) = (server.sql(target), server.sql(scratch));
    let target_catalog = Catalog::read(&target_sql)?;
    let scratch_catalog = Catalog::read(&scratch_sql)?;
    let mut plan = plan::build(selection, &target_catalog, &scratch_catalog, holds)?;
    let mut missing_types = Vec::new();
    match &mut plan.kind {
        PlanKind::Replace { tables, .. } => {
            for table in tables.iter() {
                let Some(scope) = &table.scope else {
                    continue;
                };
                if !table.create {
                    condition::check_on(&target_sql, &table.name, table.partitioned, scope)?;
                }
                condition::check_on(&scratch_sql, &table.name, table.partitioned, scope)?;
            }
            let created: Vec<&catalog::Table> = tables
                .iter()
                .filter(|t| t.create)
                .filter_map(|t| scratch_catalog.table(&t.name))
                .collect();
            missing_types = ddl::missing_types(&target_sql, &scratch_sql, &created)?
                .into_iter()
                .map(|(id, name)| {
                    plan.notes.push(format!(
                        "the type {name} was missing and is created from the backup"
                    ));
                    id
                })
                .collect();
        }
        PlanKind::Into { tables, .. } => {
            for copy in tables.iter() {
                if let Some(scope) = &copy.scope {
                    condition::check_on(&scratch_sql, &copy.source, copy.partitioned, scope)?;
                }
            }
            let names = tables
                .iter()
                .flat_map(|t| &t.columns)
                .map(|c| c.type_name.clone());
            let unknown = ddl::unknown_types(&target_sql, names)?;
            for copy in tables.iter_mut() {
                for column in &mut copy.columns {
                    if unknown.contains(&column.type_name) {
                        plan.notes.push(format!(
                            "{}.{} is of type {}, which the database lacks: its copy holds \
                             the values as text",
                            copy.copy, column.name, column.type_name
                        ));
                        column.type_name = "text".into();
                    }
                }
            }
        }
    }
    Ok((plan, missing_types))
}

/// A backup of the target's whole schema with the rows of the tables the restore changes
/// (and only those), named `pre-restore-tables-…` so it is never restored whole.
async fn take_safety_backup(
    store: &Arc<dyn BlobStore>,
    request: &PartialRequest,
    server: &Server,
    plan: &Plan,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<BackupName> {
    let others = {
        let (server, target, keep) = (
            server.clone(),
            request.target.clone(),
            plan.safety_data.clone(),
        );
        tokio::task::spawn_blocking(move || tables_without(&server, &target, &keep)).await??
    };
    progress.phase(Phase::SafetyBackup, None, None);
    let dump = DumpOptions {
        clean: false,
        exclude_table_data: others,
        name_prefix: Some(PARTIAL_SAFETY_PREFIX),
    };
    let safety = BackupRequest {
        format: request.safety_format,
        compression: request.safety_compression,
        kind: BackupKind::PreRestore,
        created_by: request.created_by.clone(),
    };
    let outcome = backup::run_with(store, &request.target, &safety, dump, progress, cancel).await?;
    progress.emit(JobEvent::Note {
        message: format!("safety backup {} taken", outcome.name),
    });
    Ok(outcome.name)
}

/// pg_dump patterns of every table of the target but `keep` (and their partitions).
fn tables_without(server: &Server, target: &DbTarget, keep: &[TableName]) -> Result<Vec<String>> {
    let keep = keep
        .iter()
        .map(|t| format!("{}::pg_catalog.regclass", quote_literal(&t.sql())))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = server.sql(target).query(&format!(
        "WITH keep AS (SELECT k FROM pg_catalog.unnest(ARRAY[{keep}]::pg_catalog.regclass[]) k), \
         kept AS (SELECT k AS relid FROM keep UNION \
           SELECT p.relid FROM keep CROSS JOIN LATERAL pg_catalog.pg_partition_tree(k) p) \
         SELECT n.nspname, c.relname FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND n.nspname !~ '^pg_(toast|temp_)' AND c.oid NOT IN (SELECT relid FROM kept)"
    ))?;
    Ok(rows
        .into_iter()
        .filter(|r| r.len() == 2)
        .map(|r| ddl::exact_pattern(&TableName::new(&r[0], &r[1])))
        .collect())
}
