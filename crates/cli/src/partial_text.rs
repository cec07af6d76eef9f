//! How `contents` and partial restores read for people: tables with their rows and data
//! sizes, per-table counts of what a restore did (or would do), and the exact command that
//! rolls it back.

use indicatif::HumanBytes;
use rythm_backup_core::catalog::contents::{BackupContents, RowsSource, SchemaObject};
use rythm_backup_core::jobs::partial::{PartialRestoreOutcome, TableName, DEFAULT_TENANT_COLUMN};

/// How many tenants the text lists (JSON has them all).
const TENANTS_SHOWN: usize = 20;

pub fn contents(c: &BackupContents) {
    let checked = match c.checksum_verified {
        Some(true) => "sha256 verified",
        Some(false) => "sha256 MISMATCH",
        None => "no checksum recorded",
    };
    println!(
        "{} ({}, {}, {} stored, {} of SQL; {checked})",
        c.source,
        c.format.as_str(),
        c.compression.as_str(),
        HumanBytes(c.bytes),
        HumanBytes(c.contents.sql_bytes)
    );
    let d = &c.contents;
    if !d.schemas.is_empty() {
        println!("Schemas: {}", d.schemas.join(", "));
    }
    println!("Tables ({}):", d.tables.len());
    let names: Vec<String> = d
        .tables
        .iter()
        .map(|t| TableName::new(&t.schema, &t.name).to_string())
        .collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    println!("  {:<width$}  {:>12}  {:>10}", "table", "rows", "data");
    for (table, name) in d.tables.iter().zip(&names) {
        let recorded = if table.rows_source == RowsSource::Recorded {
            " (recorded)"
        } else {
            ""
        };
        println!(
            "  {name:<width$}  {:>12}  {:>10}{recorded}",
            table.rows,
            HumanBytes(table.bytes).to_string()
        );
    }
    let sequences: Vec<String> = d
        .sequences
        .iter()
        .map(|s| {
            let name = TableName::new(&s.schema, &s.name);
            match s.value {
                Some(v) => format!("{name} = {v}"),
                None => name.to_string(),
            }
        })
        .collect();
    for (label, items) in [
        ("Sequences", sequences),
        ("Views", objects(&d.views)),
        ("Materialized views", objects(&d.materialized_views)),
        ("Functions", objects(&d.functions)),
        ("Types", objects(&d.types)),
        ("Extensions", d.extensions.clone()),
    ] {
        if !items.is_empty() {
            println!("{label}: {}", items.join(", "));
        }
    }
    if d.large_objects > 0 {
        println!("Large objects: {}", d.large_objects);
    }
    if let Some(tenants) = &d.tenants {
        let more = if tenants.truncated { "+" } else { "" };
        println!(
            "Tenants by {} ({}{more}), rows over every table with the column:",
            tenants.column,
            tenants.tenants.len()
        );
        for t in tenants.tenants.iter().take(TENANTS_SHOWN) {
            println!("  {:<38}  {:>12}", t.id, t.rows);
        }
        if tenants.tenants.len() > TENANTS_SHOWN {
            println!(
                "  … {} more (see --json)",
                tenants.tenants.len() - TENANTS_SHOWN
            );
        }
    }
}

fn objects(list: &[SchemaObject]) -> Vec<String> {
    list.iter()
        .map(|o| format!("{}.{}", o.schema, o.name))
        .collect()
}

pub fn restored(o: &PartialRestoreOutcome) {
    let what = match (&o.tenant, &o.into_schema) {
        (_, Some(schema)) => format!("copies into schema {schema} of {}", o.database),
        (Some(tenant), None) => format!("tenant {tenant} in {}", o.database),
        (None, None) => format!("{} table(s) in {}", o.tables.len(), o.database),
    };
    if o.dry_run {
        println!(
            "Dry run of restoring {what} from {}: nothing was changed. It would do:",
            o.source
        );
    } else {
        println!(
            "Restored {what} from {} in {:.1} s",
            o.source,
            o.duration_ms as f64 / 1000.0
        );
    }
    let names: Vec<String> = o
        .tables
        .iter()
        .map(|t| TableName::new(&t.schema, &t.name).to_string())
        .collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "  {:<width$}  {:>9}  {:>9}  {:>9}  {:>9}",
        "table", "deleted", "inserted", "updated", "unchanged"
    );
    for (t, name) in o.tables.iter().zip(&names) {
        let created = if t.created { "  (created)" } else { "" };
        println!(
            "  {name:<width$}  {:>9}  {:>9}  {:>9}  {:>9}{created}",
            t.deleted, t.inserted, t.updated, t.unchanged
        );
        for sequence in &t.sequences {
            println!("      sequence {sequence}");
        }
    }
    for other in &o.other_tables {
        println!(
            "  {}.{} (not chosen): {} deleted, {} updated, {} inserted",
            other.schema, other.name, other.deleted, other.updated, other.inserted
        );
    }
    if !o.refreshed_views.is_empty() {
        println!("Refreshed: {}", o.refreshed_views.join(", "));
    }
    for note in &o.notes {
        println!("Note: {note}");
    }
    if o.checksum_verified == Some(true) {
        println!("sha256 verified");
    }
    if let Some(role) = o.restored_as.as_ref().filter(|r| r.superuser) {
        eprintln!(
            "warning: {}",
            rythm_backup_core::jobs::restore::superuser_warning(&role.name)
        );
    }
    if let Some(safety) = &o.safety_backup {
        println!("Safety backup of the affected tables: {safety}");
    }
    if let Some(command) = rollback_command(o) {
        println!("Roll back with: {command}");
    }
}

/// The restore of the safety backup with the choice the engine decided rolls it back.
pub fn rollback_command(o: &PartialRestoreOutcome) -> Option<String> {
    let rollback = o.rollback.as_ref()?;
    let choice = &rollback.selection;
    let mut command = format!("rythm-backup restore {}", rollback.backup);
    let mut option = |name: &str, value: &str| {
        command.push_str(&format!(" --{name} {}", shell_quote(value)));
    };
    if let Some(tenant) = &choice.tenant {
        option("tenant", tenant);
    }
    if let Some(column) = choice
        .tenant_column
        .as_deref()
        .filter(|c| *c != DEFAULT_TENANT_COLUMN)
    {
        option("tenant-column", column);
    }
    for table in &choice.tables {
        option("table", table);
    }
    for table in &choice.whole_tables {
        option("whole-table", table);
    }
    if let Some(condition) = &choice.where_sql {
        option("where", condition);
    }
    option("confirm", &o.database);
    Some(command)
}

/// A word as a POSIX shell reads it back unchanged.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/@=".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("public.sets"), "public.sets");
        assert_eq!(shell_quote("\"My T\".x"), "'\"My T\".x'");
        assert_eq!(shell_quote("it's; rm -rf ~"), "'it'\\''s; rm -rf ~'");
        assert_eq!(shell_quote(""), "''");
    }

    /// The command is the engine's roll back choice, word for word: the tenant's rows of the
    /// tables it changed, whole the tables its cascades reached, every word quoted.
    #[test]
    fn the_roll_back_command_is_the_engines_choice() {
        let mut outcome: PartialRestoreOutcome = serde_json::from_value(serde_json::json!({
            "source": "rythm-backup-2026-01-15T10-30-00-851Z.sql", "database": "my db",
            "dryRun": false, "tables": [], "otherTables": [], "tenant": "b",
            "tenantColumn": "org id", "whereSql": null, "intoSchema": null,
            "refreshedViews": [], "safetyBackup": null, "safetyTables": [],
            "restoredAs": null, "notes": [], "bytes": 1, "sha256": "",
            "checksumVerified": null, "format": "plain", "compression": "none",
            "durationMs": 1,
            "rollback": {"backup": "pre-restore-tables-2026-01-16T00-00-00-000Z.sql.zst",
                "selection": {"tables": ["public.sets", "\"My T\".x"],
                    "wholeTables": ["public.audit"], "tenant": "b", "tenantColumn": "org id",
                    "cascadeToReferencing": false, "dryRun": false}}
        }))
        .unwrap();
        assert_eq!(
            rollback_command(&outcome).unwrap(),
            "rythm-backup restore pre-restore-tables-2026-01-16T00-00-00-000Z.sql.zst \
             --tenant b --tenant-column 'org id' --table public.sets --table '\"My T\".x' \
             --whole-table public.audit --confirm 'my db'"
        );
        outcome.rollback = None;
        assert_eq!(
            rollback_command(&outcome),
            None,
            "no safety backup, no roll back"
        );
    }
}
