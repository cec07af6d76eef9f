//! The plan of a partial restore, decided from the two catalogs before anything changes:
//! which tables (chosen, or every table with the tenant column; only those whose rows the
//! backup holds), which of their rows (the scope), which columns travel, by which key rows
//! are matched, in which order tables are changed (`fk_order`), which rows of other tables
//! must be checked for references that would dangle, which tables a
//! `--cascade-to-referencing` can reach (they go into the safety backup, and the roll back
//! restores them), which sequences and materialized views follow, and what is refused up
//! front (a cycle of constraints that cannot be deferred, row-level security that would
//! hide rows from our role). Pure: the catalogs are read elsewhere.

use std::collections::{BTreeMap, BTreeSet};

use super::catalog::{Catalog, Column, Table};
use super::choice;
use super::fk_order::{fk_order, FkEdge};
use super::request::{PartialSelection, TableName};
use super::safety;
use crate::error::{Error, Result};

/// A sequence set to the backup's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SequenceSet {
    pub sequence: TableName,
    pub value: i64,
}

/// One table whose rows are replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TablePlan {
    pub name: TableName,
    /// Missing from the target: created from the backup first.
    pub create: bool,
    pub partitioned: bool,
    /// The columns copied (in the backup and written in the target).
    pub columns: Vec<String>,
    /// The primary key rows are matched by; none: the scope is replaced whole.
    pub key: Option<Vec<String>>,
    /// Columns an UPDATE sets (not the key, not GENERATED ALWAYS identities).
    pub update_columns: Vec<String>,
    /// A column is an identity (inserts override its generation).
    pub identity: bool,
    /// The rows restored, as an SQL condition on the table; none: all of them.
    pub scope: Option<String>,
    pub sequences: Vec<SequenceSet>,
    /// Its enabled user triggers are switched off while rows are replaced.
    pub quiet_triggers: bool,
}

/// Rows of `child` outside the restore that reference `parent` (an index into the plan's
/// tables) through `constraint`: they must not point at rows the restore removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReferenceCheck {
    /// `schema.name` of the constraint.
    pub constraint: String,
    pub child: TableName,
    pub child_partitioned: bool,
    pub child_columns: Vec<String>,
    /// The child is restored too, with this scope: only its rows outside it are checked.
    pub child_scope: Option<String>,
    pub parent: usize,
    pub parent_columns: Vec<String>,
}

/// A foreign key between two restored tables that match rows by key (indexes into the
/// plan's tables): the parent's removed rows that rows staying in the child still reference
/// are deleted only after the child's rows have been updated, so that no `ON DELETE` action
/// fires on a row that stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InnerReference {
    pub child: usize,
    pub child_columns: Vec<String>,
    pub parent: usize,
    pub parent_columns: Vec<String>,
}

/// A copy of one table of the backup in a new schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyPlan {
    pub source: TableName,
    pub partitioned: bool,
    pub copy: TableName,
    pub columns: Vec<Column>,
    pub scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PlanKind {
    Replace {
        /// Parents before children.
        tables: Vec<TablePlan>,
        /// Constraints (`schema`, `name`) deferred to the COMMIT.
        deferred: Vec<(String, String)>,
        references: Vec<ReferenceCheck>,
        inner: Vec<InnerReference>,
        refresh: Vec<TableName>,
    },
    Into {
        schema: String,
        tables: Vec<CopyPlan>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub kind: PlanKind,
    pub notes: Vec<String>,
    /// The tables whose rows the restore may change: a roll back restores them.
    pub safety_tables: Vec<TableName>,
    /// The tables whose rows the safety backup holds: those, and every table they
    /// reference (so the safety backup restores with its foreign keys intact).
    pub safety_data: Vec<TableName>,
    /// Tables outside the chosen rows whose rows `--cascade-to-referencing` may delete or
    /// change: the rows outside the restore that reference removed rows, and whatever their
    /// `ON DELETE` rules reach from there.
    pub reached: Vec<TableName>,
}

/// Decides the plan; `target` is the database restored into, `backup` the scratch copy of
/// the backup; `holds`, for a backup that holds the rows of only some tables (a partial
/// restore's safety backup), which ones.
pub(crate) fn build(
    selection: &PartialSelection,
    target: &Catalog,
    backup: &Catalog,
    holds: Option<&BTreeSet<TableName>>,
) -> Result<Plan> {
    let chosen = choice::chosen_tables(selection, target, backup, holds)?;
    let mut notes = Vec::new();
    if let Some(schema) = &selection.into_schema {
        let tables = copies(selection, schema, &chosen, backup);
        return Ok(Plan {
            kind: PlanKind::Into {
                schema: schema.clone(),
                tables,
            },
            notes,
            safety_tables: Vec::new(),
            safety_data: Vec::new(),
            reached: Vec::new(),
        });
    }
    let mut plans = Vec::new();
    for name in &chosen {
        plans.push(table_plan(selection, name, target, backup, &mut notes)?);
    }
    let index: BTreeMap<TableName, usize> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.clone(), i))
        .collect();
    let mut edges = Vec::new();
    for (catalog, created_only) in [(target, false), (backup, true)] {
        for fk in &catalog.foreign_keys {
            let (Some(&child), Some(&parent)) = (index.get(&fk.child()), index.get(&fk.parent()))
            else {
                continue;
            };
            if plans[child].create == created_only {
                edges.push(FkEdge {
                    child,
                    parent,
                    constraint: format!("{}.{}", fk.schema, fk.name),
                    deferrable: fk.deferrable,
                });
            }
        }
    }
    let order = fk_order(plans.len(), &edges).map_err(|cycle| {
        let tables: Vec<String> = cycle
            .tables
            .iter()
            .map(|&t| plans[t].name.to_string())
            .collect();
        Error::InvalidInput(format!(
            "{} reference each other through {} that cannot be deferred, so no order of \
             deleting and inserting keeps every reference valid; make those constraints \
             DEFERRABLE, or restore these tables with the whole database",
            tables.join(", "),
            cycle.constraints.join(", ")
        ))
    })?;
    let deferred = order
        .deferred
        .iter()
        .filter_map(|c| c.split_once('.'))
        .map(|(s, n)| (s.to_owned(), n.to_owned()))
        .collect();
    let references = reference_checks(&plans, &index, target);
    check_row_security(&plans, &references, target)?;
    let mut safety_tables: BTreeSet<TableName> = plans
        .iter()
        .filter(|p| !p.create)
        .map(|p| p.name.clone())
        .collect();
    let reached = if selection.cascade_to_referencing {
        safety::cascade_reach(&references, target)
    } else {
        BTreeSet::new()
    };
    safety_tables.extend(reached.iter().cloned());
    let mut refresh = Vec::new();
    for view in &target.materialized_views {
        if !view.tables.iter().any(|t| index.contains_key(t)) {
            continue;
        }
        let name = TableName::new(&view.schema, &view.name);
        if view.owned {
            refresh.push(name);
        } else {
            notes.push(format!(
                "materialized view {name} is built on restored tables but is not refreshed: \
                 it belongs to another role"
            ));
        }
    }
    if selection.tables.is_empty() && selection.tenant.is_some() {
        for t in &target.tables {
            let name = t.table_name();
            if t.column(selection.tenant_column()).is_some() && !index.contains_key(&name) {
                let why = if backup.table(&name).is_some() {
                    "the backup holds none of its rows"
                } else {
                    "it is not in the backup"
                };
                notes.push(format!(
                    "{name} has the tenant column but {why}: left as it is"
                ));
            }
        }
    }
    let inner = inner_references(&plans, &index, target);
    let mut ordered: Vec<Option<TablePlan>> = plans.into_iter().map(Some).collect();
    let tables: Vec<TablePlan> = order
        .insert
        .iter()
        .filter_map(|&i| ordered[i].take())
        .collect();
    // References point into the plan by index: re-point them at the new order.
    let position: BTreeMap<usize, usize> = order
        .insert
        .iter()
        .enumerate()
        .map(|(new, &old)| (old, new))
        .collect();
    let references = references
        .into_iter()
        .map(|mut r| {
            r.parent = position[&r.parent];
            r
        })
        .collect();
    let inner = inner
        .into_iter()
        .map(|mut r| {
            r.parent = position[&r.parent];
            r.child = position[&r.child];
            r
        })
        .collect();
    let safety_data = safety::with_parents(&safety_tables, target);
    Ok(Plan {
        kind: PlanKind::Replace {
            tables,
            deferred,
            references,
            inner,
            refresh,
        },
        notes,
        safety_tables: safety_tables.into_iter().collect(),
        safety_data,
        reached: reached.into_iter().collect(),
    })
}

/// The foreign keys of the target between two restored tables that both match rows by key.
fn inner_references(
    plans: &[TablePlan],
    index: &BTreeMap<TableName, usize>,
    target: &Catalog,
) -> Vec<InnerReference> {
    target
        .foreign_keys
        .iter()
        .filter_map(|fk| {
            let (&child, &parent) = (index.get(&fk.child())?, index.get(&fk.parent())?);
            let keyed = |p: &TablePlan| !p.create && p.key.is_some();
            (keyed(&plans[child]) && keyed(&plans[parent])).then(|| InnerReference {
                child,
                child_columns: fk.child_columns.clone(),
                parent,
                parent_columns: fk.parent_columns.clone(),
            })
        })
        .collect()
}

fn table_plan(
    selection: &PartialSelection,
    name: &TableName,
    target: &Catalog,
    backup: &Catalog,
    notes: &mut Vec<String>,
) -> Result<TablePlan> {
    let from = backup.table(name).expect("chosen from the backup");
    let scope = choice::scope_of(selection, name);
    let Some(into) = target.table(name) else {
        let columns: Vec<String> = from
            .columns
            .iter()
            .filter(|c| !c.generated)
            .map(|c| c.name.clone())
            .collect();
        return Ok(TablePlan {
            name: name.clone(),
            create: true,
            partitioned: from.kind == "p",
            update_columns: update_columns(&columns, from.primary_key.as_deref(), from),
            key: from.primary_key.clone(),
            identity: from.columns.iter().any(|c| !c.identity.is_empty()),
            columns,
            scope,
            sequences: sequence_values(name, backup, backup),
            quiet_triggers: from.triggers > 0,
        });
    };
    if scope.is_some()
        && selection.tenant.is_some()
        && into.column(selection.tenant_column()).is_none()
    {
        return Err(Error::InvalidInput(format!(
            "{name} has no column {} in the database (the backup's has): restore it with \
             --table alone, or --into-schema",
            selection.tenant_column()
        )));
    }
    let mut columns = Vec::new();
    for column in &into.columns {
        match from.column(&column.name) {
            _ if column.generated => {}
            Some(_) => columns.push(column.name.clone()),
            None => notes.push(format!(
                "{name}.{} is not in the backup: restored rows get its default",
                column.name
            )),
        }
    }
    for column in &from.columns {
        if !column.generated && into.column(&column.name).is_none() {
            notes.push(format!(
                "the backup's column {name}.{} is not in the database: its values are not \
                 restored",
                column.name
            ));
        }
    }
    if columns.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{name} has no column in common with the backup's"
        )));
    }
    let key = into
        .primary_key
        .clone()
        .filter(|key| key.iter().all(|k| columns.contains(k)));
    if key.is_none() {
        notes.push(format!(
            "{name} has no primary key: its restored rows are replaced whole (deleted and \
             inserted again), not matched"
        ));
    }
    if into.triggers > 0 && !into.owned {
        notes.push(format!(
            "{name}'s triggers fire as rows are replaced: only its owner can switch them off"
        ));
    }
    Ok(TablePlan {
        name: name.clone(),
        create: false,
        partitioned: into.kind == "p",
        update_columns: update_columns(&columns, key.as_deref(), into),
        identity: into
            .columns
            .iter()
            .any(|c| !c.identity.is_empty() && columns.contains(&c.name)),
        key,
        columns,
        scope,
        sequences: sequence_values(name, target, backup),
        quiet_triggers: into.triggers > 0 && into.owned,
    })
}

/// What an UPDATE may set: not the key, and not a GENERATED ALWAYS identity (which
/// PostgreSQL lets no UPDATE change).
fn update_columns(columns: &[String], key: Option<&[String]>, table: &Table) -> Vec<String> {
    columns
        .iter()
        .filter(|c| !key.is_some_and(|k| k.contains(c)))
        .filter(|c| table.column(c).is_none_or(|col| col.identity != "a"))
        .cloned()
        .collect()
}

/// The target's sequences owned by `name`'s columns, with the backup's values.
fn sequence_values(name: &TableName, target: &Catalog, backup: &Catalog) -> Vec<SequenceSet> {
    let owned_by = |c: &Catalog, column: &str| {
        c.sequences
            .iter()
            .find(|s| {
                s.table_schema == name.schema && s.table_name == name.name && s.column == column
            })
            .cloned()
    };
    backup
        .sequences
        .iter()
        .filter(|s| s.table_schema == name.schema && s.table_name == name.name)
        .filter_map(|s| {
            let value = s.last_value?;
            let target_seq = owned_by(target, &s.column)?;
            Some(SequenceSet {
                sequence: TableName::new(&target_seq.schema, &target_seq.name),
                value,
            })
        })
        .collect()
}

/// Every foreign key of the target into a restored table from rows the restore does not
/// cover.
fn reference_checks(
    plans: &[TablePlan],
    index: &BTreeMap<TableName, usize>,
    target: &Catalog,
) -> Vec<ReferenceCheck> {
    let mut checks = Vec::new();
    for fk in &target.foreign_keys {
        let Some(&parent) = index.get(&fk.parent()) else {
            continue;
        };
        let child_scope = match index.get(&fk.child()) {
            // The child is replaced whole from the same backup: its rows are consistent.
            Some(&child) if plans[child].scope.is_none() => continue,
            Some(&child) => plans[child].scope.clone(),
            None => None,
        };
        checks.push(ReferenceCheck {
            constraint: format!("{}.{}", fk.schema, fk.name),
            child_partitioned: target.table(&fk.child()).is_some_and(|t| t.kind == "p"),
            child: fk.child(),
            child_columns: fk.child_columns.clone(),
            child_scope,
            parent,
            parent_columns: fk.parent_columns.clone(),
        });
    }
    checks
}

/// Refuses, before anything changes, when row-level security would show our role only part
/// of a table the restore reads or changes (PostgreSQL would then refuse mid-way too, since
/// the restore runs with `row_security = off`).
fn check_row_security(
    plans: &[TablePlan],
    references: &[ReferenceCheck],
    target: &Catalog,
) -> Result<()> {
    let role = &target.role;
    if role.superuser || role.bypass_rls {
        return Ok(());
    }
    let touched = plans
        .iter()
        .filter(|p| !p.create)
        .map(|p| &p.name)
        .chain(references.iter().map(|r| &r.child));
    let hidden: BTreeSet<String> = touched
        .filter_map(|name| target.table(name))
        .filter(|t| t.rls && (t.force_rls || !t.owned))
        .map(|t| t.table_name().to_string())
        .collect();
    if hidden.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidInput(format!(
        "row-level security policies on {} would let role {} see only some of their rows, so \
         a restore could delete or compare a filtered subset. Nothing was changed. Restore as \
         a role with BYPASSRLS (or the owner, when the policies are not FORCEd)",
        hidden.into_iter().collect::<Vec<_>>().join(", "),
        role.name
    )))
}

/// Copies of `chosen` into `schema`: every column of the backup's table, with its type;
/// names that clash get their schema in front.
fn copies(
    selection: &PartialSelection,
    schema: &str,
    chosen: &[TableName],
    backup: &Catalog,
) -> Vec<CopyPlan> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for name in chosen {
        *seen.entry(name.name.as_str()).or_default() += 1;
    }
    chosen
        .iter()
        .filter_map(|name| {
            let table = backup.table(name)?;
            let copy_name = if seen[name.name.as_str()] > 1 {
                truncate_name(&format!("{}_{}", name.schema, name.name))
            } else {
                name.name.clone()
            };
            Some(CopyPlan {
                source: name.clone(),
                partitioned: table.kind == "p",
                copy: TableName::new(schema, &copy_name),
                columns: table.columns.clone(),
                scope: choice::scope_of(selection, name),
            })
        })
        .collect()
}

fn truncate_name(name: &str) -> String {
    let mut end = name.len().min(63);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

#[cfg(test)]
mod tests;
