//! What a partial restore's safety backup must hold, and how the restore is rolled back
//! from it: the tables whose rows the restore may change (the chosen ones, and those a
//! `--cascade-to-referencing` reaches through `ON DELETE` rules), with every table they
//! reference (so the safety backup restores with its foreign keys intact); and the choice
//! that restores them again. Pure: decided from the plan and the target's catalog.

use std::collections::BTreeSet;

use super::catalog::Catalog;
use super::plan::{Plan, PlanKind, ReferenceCheck};
use super::request::{PartialSelection, TableName};

/// The tables whose rows `--cascade-to-referencing` may delete or change: the children
/// whose rows are checked for references into removed rows, and every table their `ON
/// DELETE CASCADE`, `SET NULL` or `SET DEFAULT` rules reach from there, all levels down.
pub(super) fn cascade_reach(
    references: &[ReferenceCheck],
    target: &Catalog,
) -> BTreeSet<TableName> {
    let mut reached: BTreeSet<TableName> = references.iter().map(|r| r.child.clone()).collect();
    let mut todo: Vec<TableName> = reached.iter().cloned().collect();
    while let Some(parent) = todo.pop() {
        for fk in &target.foreign_keys {
            if fk.parent() == parent && fk.acts_on_delete() && reached.insert(fk.child()) {
                todo.push(fk.child());
            }
        }
    }
    reached
}

/// `tables` and every table they reference, directly or not.
pub(super) fn with_parents(tables: &BTreeSet<TableName>, catalog: &Catalog) -> Vec<TableName> {
    let mut all = tables.clone();
    let mut todo: Vec<TableName> = tables.iter().cloned().collect();
    while let Some(child) = todo.pop() {
        for fk in catalog.foreign_keys.iter().filter(|fk| fk.child() == child) {
            if all.insert(fk.parent()) {
                todo.push(fk.parent());
            }
        }
    }
    all.into_iter().collect()
}

/// The choice that rolls a restore back from its safety backup: the same rows of the tables
/// it changed (not those it created: the safety backup does not have them), and whole the
/// tables its `--cascade-to-referencing` changed outside them (`changed`: the tables the
/// transaction changed besides the chosen ones). None when nothing could be rolled back.
pub(crate) fn rollback(
    selection: &PartialSelection,
    plan: &Plan,
    changed: &[TableName],
) -> Option<PartialSelection> {
    let PlanKind::Replace { tables: plans, .. } = &plan.kind else {
        return None;
    };
    let mut scoped = Vec::new();
    let mut whole = Vec::new();
    for p in plans.iter().filter(|p| !p.create) {
        if p.scope.is_some() {
            scoped.push(p.name.clone());
        } else {
            whole.push(p.name.clone());
        }
    }
    for name in &plan.reached {
        if changed.contains(name) && !plans.iter().any(|p| &p.name == name) {
            whole.push(name.clone());
        }
    }
    if scoped.is_empty() {
        // Nothing is restored by tenant or condition: every table is restored whole.
        return (!whole.is_empty()).then(|| PartialSelection {
            tables: whole,
            ..PartialSelection::default()
        });
    }
    Some(PartialSelection {
        tables: scoped,
        whole_tables: whole,
        tenant: selection.tenant.clone(),
        tenant_column: selection.tenant_column.clone(),
        where_sql: selection.where_sql.clone(),
        ..PartialSelection::default()
    })
}
