//! Which tables and rows a selection means in a given backup: the tables named (checked
//! against the backup: present, holding rows, with the tenant column where a tenant is
//! asked for), or every table with the tenant column; and each table's scope, the SQL
//! condition of the rows restored. Pure.

use std::collections::BTreeSet;

use super::catalog::{Catalog, Table};
use super::request::{PartialSelection, TableName};
use crate::error::{Error, Result};
use crate::pg::{quote_ident, quote_literal};

/// The tables the selection names, or every table of the backup with the tenant column,
/// or (for copies into a new schema without either) every table of the backup; of a backup
/// that holds the rows of only some tables (`holds`), only those.
pub(super) fn chosen_tables(
    selection: &PartialSelection,
    target: &Catalog,
    backup: &Catalog,
    holds: Option<&BTreeSet<TableName>>,
) -> Result<Vec<TableName>> {
    let column = selection.tenant_column();
    let has_tenant = |t: &Table| t.column(column).is_some_and(|c| !c.generated);
    let held = |name: &TableName| holds.is_none_or(|h| h.contains(name));
    for name in selection.tables.iter().chain(&selection.whole_tables) {
        let Some(table) = backup.table(name) else {
            let hint = if target.table(name).is_some() {
                "it is in the database but not in the backup"
            } else {
                "no such table in the backup (partitions are restored through their \
                 partitioned table; views and materialized views are not tables)"
            };
            return Err(Error::InvalidInput(format!(
                "cannot restore {name}: {hint}"
            )));
        };
        if !held(name) {
            let holds: Vec<String> = holds
                .into_iter()
                .flatten()
                .map(ToString::to_string)
                .collect();
            return Err(Error::InvalidInput(format!(
                "cannot restore {name}: this backup holds none of its rows, only those of {} \
                 (a partial restore's safety backup holds the tables that restore changed); \
                 roll back with the choice that restore printed",
                if holds.is_empty() {
                    "no table".to_owned()
                } else {
                    holds.join(", ")
                }
            )));
        }
        let whole = selection.whole_tables.contains(name);
        if selection.tenant.is_some() && !whole && !has_tenant(table) {
            return Err(Error::InvalidInput(format!(
                "{name} has no column {column}, so it holds no tenant's rows; leave it out, \
                 or restore it with --where"
            )));
        }
    }
    let mut chosen = selection.tables.clone();
    if chosen.is_empty() {
        chosen = backup
            .tables
            .iter()
            .filter(|t| selection.tenant.is_none() || has_tenant(t))
            .map(Table::table_name)
            .filter(|name| held(name) && !selection.whole_tables.contains(name))
            .collect();
    }
    chosen.extend(selection.whole_tables.iter().cloned());
    if chosen.is_empty() {
        return Err(Error::InvalidInput(match selection.tenant {
            Some(_) if holds.is_some() => {
                format!("no table with a column {column} has rows in this backup")
            }
            Some(_) => format!("no table of the backup has a column {column}"),
            None => "the backup holds no table".to_owned(),
        }));
    }
    Ok(chosen)
}

/// The rows a table's restore covers (all of them for a table chosen whole).
pub(super) fn scope_of(selection: &PartialSelection, name: &TableName) -> Option<String> {
    if selection.whole_tables.contains(name) {
        return None;
    }
    if let Some(tenant) = &selection.tenant {
        return Some(format!(
            "{} = {}",
            quote_ident(selection.tenant_column()),
            quote_literal(tenant)
        ));
    }
    selection.where_sql.clone()
}
