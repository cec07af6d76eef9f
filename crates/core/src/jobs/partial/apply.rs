//! The one transaction of a partial restore, on the target: settings and helpers, the
//! definitions of missing tables (from the scratch database, through the statement filter),
//! the backup's rows of each table staged (`COPY (SELECT …) TO STDOUT` on the scratch
//! database piped into `COPY … FROM STDIN` here, a chunk at a time: two psql processes,
//! memory flat), the checks for references that would dangle, then deletes (children
//! first), updates and inserts (parents first), the deletes that had to wait for those
//! updates, sequences (raised, never lowered; a dry run only reports them), triggers back
//! on, materialized views refreshed, and the counts printed. It COMMITs through
//! `transaction` (or, for a dry run, rolls back): a failure, a cancellation or a killed
//! process changes nothing (sequences aside, which only ever go up).

use std::io::{Read, Write};
use std::process::Stdio;

use super::ddl;
use super::plan::{Plan, PlanKind, TablePlan};
use super::request::{OtherTableChange, PartialSelection, TableName, TableOutcome};
use super::script;
use crate::error::{Error, Result};
use crate::jobs::transaction::{output_rows, LineCounter, Transaction};
use crate::jobs::{Cancel, Phase, Progress};
use crate::pg::{DbTarget, PgCommand, Server, ToolKind};

const CHUNK: usize = 256 * 1024;

/// What the transaction did (or would do).
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub tables: Vec<TableOutcome>,
    pub other_tables: Vec<OtherTableChange>,
    pub refreshed: Vec<String>,
}

/// Why writing the transaction stopped.
enum Stop {
    /// psql stopped reading: its error says why.
    Target,
    Other(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Other(e)
    }
}

type Input = LineCounter<std::process::ChildStdin>;

fn sql(input: &mut Input, text: &str) -> Result<(), Stop> {
    input.write_all(text.as_bytes()).map_err(|_| Stop::Target)
}

/// Everything the transaction needs besides the plan.
pub(crate) struct Apply<'a> {
    pub server: &'a Server,
    pub target: &'a DbTarget,
    pub scratch: &'a DbTarget,
    pub selection: &'a PartialSelection,
    /// Types the created tables need, by the scratch database's ids.
    pub missing_types: &'a [u32],
    pub progress: &'a Progress,
    pub cancel: &'a Cancel,
}

impl Apply<'_> {
    pub fn run(&self, plan: &Plan) -> Result<Applied> {
        self.progress.phase(Phase::Replacing, None, None);
        let mut transaction = Transaction::begin(self.server, self.target, true)?;
        let written = self.write(transaction.input(), plan);
        if let Err(stop) = written {
            return Err(match stop {
                Stop::Target => explain(transaction.failed()),
                Stop::Other(e) => {
                    transaction.kill();
                    e
                }
            });
        }
        if self.cancel.is_cancelled() {
            transaction.kill();
            return Err(Error::Cancelled);
        }
        let printed = if self.selection.dry_run {
            transaction.rollback()
        } else {
            transaction.commit()
        }
        .map_err(explain)?;
        Ok(read_report(plan, &printed))
    }

    fn write(&self, input: &mut Input, plan: &Plan) -> Result<(), Stop> {
        let mut copied = 0u64;
        match &plan.kind {
            PlanKind::Into { schema, tables } => {
                sql(input, &script::settings(&[]))?;
                sql(input, script::PRELUDE)?;
                sql(input, &script::create_copies(schema, tables))?;
                for (i, copy) in tables.iter().enumerate() {
                    sql(input, &script::copy_in(copy))?;
                    let names: Vec<String> = copy.columns.iter().map(|c| c.name.clone()).collect();
                    let out = script::copy_out(
                        &copy.source,
                        copy.partitioned,
                        &names,
                        copy.scope.as_deref(),
                    );
                    self.rows_from_scratch(&out, &copy.source, input, &mut copied)?;
                    sql(input, &script::copied(i, copy))?;
                }
                let copies: Vec<TableName> = tables.iter().map(|t| t.copy.clone()).collect();
                sql(input, &script::report(&copies))?;
            }
            PlanKind::Replace {
                tables,
                deferred,
                references,
                inner,
                refresh,
            } => {
                sql(input, &script::settings(deferred))?;
                sql(input, script::PRELUDE)?;
                if !self.missing_types.is_empty() {
                    self.with_filtered(input, |out| {
                        ddl::write_types(self.server, self.scratch, self.missing_types, out)
                    })?;
                }
                for table in tables.iter().filter(|t| t.create) {
                    self.with_filtered(input, |out| {
                        ddl::write_table(
                            self.server,
                            self.scratch,
                            &table.name,
                            table.partitioned,
                            out,
                        )
                    })?;
                }
                // The backup's DDL sets its own session settings.
                sql(input, &script::settings(deferred))?;
                let quiet: Vec<&TableName> = tables
                    .iter()
                    .filter(|t| t.quiet_triggers)
                    .map(|t| &t.name)
                    .collect();
                sql(input, &script::triggers_off(&quiet))?;
                for (i, table) in tables.iter().enumerate() {
                    sql(input, &script::stage_and_copy(i, table))?;
                    let out = script::copy_out(
                        &table.name,
                        table.partitioned,
                        &table.columns,
                        table.scope.as_deref(),
                    );
                    self.rows_from_scratch(&out, &table.name, input, &mut copied)?;
                    sql(input, &script::staged(i))?;
                }
                let children: Vec<TableName> = references.iter().map(|r| r.child.clone()).collect();
                sql(input, &script::locks(tables, &children))?;
                // The keys each table's restore removes: its key, then the columns other
                // tables reference.
                let mut gone_tables: Vec<(usize, Vec<String>, String)> = Vec::new();
                for (i, table) in tables.iter().enumerate() {
                    if let Some(key) = &table.key {
                        sql(input, &script::gone_table(i, 0, table, key))?;
                        gone_tables.push((i, key.clone(), script::gone(i, 0)));
                    }
                }
                for check in references {
                    let parent = &tables[check.parent];
                    let known = gone_tables
                        .iter()
                        .find(|(i, cols, _)| *i == check.parent && *cols == check.parent_columns)
                        .map(|(_, _, name)| name.clone());
                    let gone = match known {
                        Some(name) => name,
                        None => {
                            let k = gone_tables
                                .iter()
                                .filter(|(i, _, _)| *i == check.parent)
                                .count()
                                + 1;
                            sql(
                                input,
                                &script::gone_table(check.parent, k, parent, &check.parent_columns),
                            )?;
                            let name = script::gone(check.parent, k);
                            gone_tables.push((
                                check.parent,
                                check.parent_columns.clone(),
                                name.clone(),
                            ));
                            name
                        }
                    };
                    sql(
                        input,
                        &script::reference_check(
                            check,
                            &parent.name,
                            check.child_partitioned,
                            &gone,
                            self.selection.cascade_to_referencing,
                        ),
                    )?;
                }
                // Rows that staying rows still reference wait until those rows are updated:
                // deleting them first would fire ON DELETE rules on rows that stay.
                let kept: Vec<Option<String>> = (0..tables.len())
                    .map(|i| script::still_referenced(i, tables, inner))
                    .collect();
                for (i, table) in tables.iter().enumerate().rev() {
                    sql(input, &script::delete(i, table, kept[i].as_deref()))?;
                }
                for (i, table) in tables.iter().enumerate() {
                    if let Some(update) = script::update(i, table) {
                        sql(input, &update)?;
                    }
                    sql(input, &script::insert(i, table))?;
                    sql(input, &script::sequences(i, table, self.selection.dry_run))?;
                }
                for (i, table) in tables.iter().enumerate().rev() {
                    if kept[i].is_some() {
                        sql(input, &script::delete(i, table, None))?;
                    }
                }
                sql(input, script::triggers_on(!quiet.is_empty()))?;
                sql(input, &script::refresh(refresh))?;
                // Refreshed views count their rows as inserted: theirs is no other change.
                let restored: Vec<TableName> = tables
                    .iter()
                    .map(|t| t.name.clone())
                    .chain(refresh.iter().cloned())
                    .collect();
                sql(input, &script::report(&restored))?;
            }
        }
        self.progress
            .bytes(Phase::Replacing, copied, None, None, true);
        Ok(())
    }

    /// Runs `write` into the transaction; an error writing there means psql stopped.
    fn with_filtered(
        &self,
        input: &mut Input,
        write: impl FnOnce(&mut Input) -> Result<()>,
    ) -> Result<(), Stop> {
        match write(input) {
            Ok(()) => Ok(()),
            Err(Error::Io { .. }) => Err(Stop::Target),
            Err(other) => Err(Stop::Other(other)),
        }
    }

    /// Streams the rows `copy_out` selects on the scratch database into the COPY started in
    /// the transaction, then ends it.
    fn rows_from_scratch(
        &self,
        copy_out: &str,
        table: &TableName,
        input: &mut Input,
        copied: &mut u64,
    ) -> Result<(), Stop> {
        let mut psql = PgCommand::new(
            &self.server.tools.path(ToolKind::Psql),
            self.scratch.password(),
        )
        .arg("--no-psqlrc")
        .arg("--no-password")
        .arg("--quiet")
        .arg("--set=ON_ERROR_STOP=1")
        .arg(format!("--dbname={}", self.scratch.url_without_password()))
        .arg("--file=-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(Error::from)?;
        {
            let mut request = psql.take_stdin().expect("stdin is piped");
            // A few hundred bytes: psql reads them before it writes anything.
            let _ = request.write_all(copy_out.as_bytes());
        }
        let mut rows = psql.take_stdout().expect("stdout is piped");
        let mut buffer = vec![0u8; CHUNK];
        loop {
            if self.cancel.is_cancelled() {
                psql.kill();
                return Err(Stop::Other(Error::Cancelled));
            }
            let n = match rows.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    psql.kill();
                    return Err(Stop::Other(Error::Internal(format!(
                        "reading the backup's rows of {table}: {e}"
                    ))));
                }
            };
            if input.write_all(&buffer[..n]).is_err() {
                psql.kill();
                return Err(Stop::Target);
            }
            *copied += n as u64;
            self.progress
                .bytes(Phase::Replacing, *copied, None, None, false);
        }
        // Only rows psql delivered in full end the COPY.
        psql.wait().map_err(|e| {
            Stop::Other(Error::RestoreFailed {
                database: self.target.describe(),
                detail: format!("reading the backup's rows of {table} failed: {e}"),
            })
        })?;
        sql(input, "\\.\n")
    }
}

/// Our own refusals and PostgreSQL's row-security error, in plain words.
fn explain(error: Error) -> Error {
    let Error::RestoreFailed { database, detail } = error else {
        return error;
    };
    if let Some(line) = detail.lines().find(|l| l.contains("rythm-backup: ")) {
        let message = line.split("rythm-backup: ").nth(1).unwrap_or(line).trim();
        return Error::RestoreFailed {
            database,
            detail: format!(
                "{message}. Restore those rows too, or pass --cascade-to-referencing to delete \
                 them"
            ),
        };
    }
    if detail.contains("row-level security") {
        return Error::RestoreFailed {
            database,
            detail: format!(
                "row-level security would hide rows from the restoring role, so it stopped \
                 instead of changing a filtered subset. Restore as a role with BYPASSRLS. \
                 ({})",
                detail.trim()
            ),
        };
    }
    Error::RestoreFailed { database, detail }
}

/// The counts the transaction printed.
fn read_report(plan: &Plan, printed: &[u8]) -> Applied {
    let names: Vec<(TableName, bool)> = match &plan.kind {
        PlanKind::Into { tables, .. } => tables.iter().map(|t| (t.copy.clone(), false)).collect(),
        PlanKind::Replace { tables, .. } => tables
            .iter()
            .map(|t: &TablePlan| (t.name.clone(), t.create))
            .collect(),
    };
    let mut outcomes: Vec<TableOutcome> = names
        .iter()
        .map(|(name, created)| TableOutcome {
            schema: name.schema.clone(),
            name: name.name.clone(),
            deleted: 0,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            created: *created,
            sequences: Vec::new(),
        })
        .collect();
    let mut staged = vec![0u64; outcomes.len()];
    let mut applied = Applied::default();
    for row in output_rows(printed) {
        match row.first().map(String::as_str) {
            Some("count") if row.len() == 5 => {
                let (Ok(i), Ok(n)) = (row[1].parse::<usize>(), row[3].parse::<i64>()) else {
                    continue;
                };
                let Some(outcome) = outcomes.get_mut(i) else {
                    continue;
                };
                let count = n.max(0) as u64;
                match row[2].as_str() {
                    "deleted" => outcome.deleted += count,
                    "inserted" => outcome.inserted += count,
                    "updated" => outcome.updated += count,
                    "staged" => staged[i] = count,
                    "sequence" => outcome.sequences.push(format!("{} = {n}", row[4])),
                    _ => {}
                }
            }
            Some("other") if row.len() == 6 => {
                let number = |s: &str| s.parse::<i64>().unwrap_or(0).max(0) as u64;
                applied.other_tables.push(OtherTableChange {
                    schema: row[1].clone(),
                    name: row[2].clone(),
                    inserted: number(&row[3]),
                    updated: number(&row[4]),
                    deleted: number(&row[5]),
                });
            }
            _ => {}
        }
    }
    for (outcome, staged) in outcomes.iter_mut().zip(staged) {
        outcome.unchanged = staged.saturating_sub(outcome.inserted + outcome.updated);
    }
    if let PlanKind::Replace { refresh, .. } = &plan.kind {
        applied.refreshed = refresh.iter().map(ToString::to_string).collect();
    }
    applied.tables = outcomes;
    applied
}
