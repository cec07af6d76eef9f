//! What a partial restore is asked to do: which tables (`TableName`, parsed from
//! `SCHEMA.TABLE` as PostgreSQL reads names), which rows (one tenant's, or a `--where`
//! condition's), and where to (the tables themselves, or copies in a new schema); the same
//! choice as the front ends receive it (`SelectionText`, read here once for all three); and
//! what it reports per table, with the choice that rolls it back.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::{BackupName, Compression, DumpFormat};
use crate::error::{Error, Result};
use crate::pg::{quote_ident, RoleInfo};

/// The tenant column of RYTHM's schema.
pub const DEFAULT_TENANT_COLUMN: &str = "tenant_id";
/// PostgreSQL's longest identifier, in bytes.
const NAME_MAX: usize = 63;
/// The longest tenant id accepted.
const TENANT_MAX: usize = 256;

/// A table, by its schema and name exactly as PostgreSQL stores them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

impl TableName {
    pub fn new(schema: &str, name: &str) -> Self {
        TableName {
            schema: schema.to_owned(),
            name: name.to_owned(),
        }
    }

    /// Reads `schema.table` as PostgreSQL reads a name: unquoted parts fold to lower case,
    /// `"Quoted"` parts are exact (with `""` for a quote); a bare `table` is in `public`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::InvalidInput(format!(
                "{text:?} is not a table name ({why}); write SCHEMA.TABLE, quoting parts with \
                 capitals or dots: \"My Schema\".\"Table\""
            ))
        };
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        let mut chars = text.trim().chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    chars.next();
                    current.push('"');
                }
                '"' if quoted => quoted = false,
                '"' if current.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                '.' if !quoted => {
                    parts.push(std::mem::take(&mut current));
                    was_quoted = false;
                }
                c if c.is_control() => return Err(bad("it has a control character")),
                c if quoted => current.push(c),
                '"' => return Err(bad("a quote in the middle of a name")),
                c if c.is_whitespace() => return Err(bad("unquoted spaces")),
                c => current.push(c.to_lowercase().next().unwrap_or(c)),
            }
        }
        if quoted {
            return Err(bad("a quote is not closed"));
        }
        parts.push(current);
        let (schema, name) = match parts.as_slice() {
            [name] => ("public".to_owned(), name.clone()),
            [schema, name] => (schema.clone(), name.clone()),
            _ => return Err(bad("more than one dot")),
        };
        for part in [&schema, &name] {
            if part.is_empty() {
                return Err(bad("an empty part"));
            }
            if part.len() > NAME_MAX {
                return Err(bad("a part longer than 63 bytes"));
            }
        }
        Ok(TableName { schema, name })
    }

    /// The name as SQL, both parts quoted.
    pub fn sql(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

impl fmt::Display for TableName {
    /// As PostgreSQL prints a name: quoted only where it must be.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}",
            display_ident(&self.schema),
            display_ident(&self.name)
        )
    }
}

fn display_ident(ident: &str) -> String {
    let simple = ident
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && ident
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if simple {
        ident.to_owned()
    } else {
        quote_ident(ident)
    }
}

/// Which part of a backup to restore, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialSelection {
    /// The tables to restore; none with a tenant: every table with the tenant column.
    pub tables: Vec<TableName>,
    /// Tables restored whole (every row), beside a tenant's or a condition's rows of the
    /// others: a roll back uses them for the tables `--cascade-to-referencing` reached.
    pub whole_tables: Vec<TableName>,
    /// Restore only this tenant's rows.
    pub tenant: Option<String>,
    /// The tenant column (default `tenant_id`).
    pub tenant_column: Option<String>,
    /// Restore only the rows of the chosen tables that match this SQL condition.
    pub where_sql: Option<String>,
    /// Put copies into this new schema instead of replacing anything.
    pub into_schema: Option<String>,
    /// Delete rows of other tables that would reference rows no longer there, instead of
    /// failing.
    pub cascade_to_referencing: bool,
    /// Report what would change; change nothing.
    pub dry_run: bool,
}

/// Whether a choice asks for part of a backup (else a restore is a full one): the one rule,
/// for the parsed selection and the text the front ends receive alike.
fn asks_for_part(tables: bool, tenant: bool, into_schema: bool) -> bool {
    tables || tenant || into_schema
}

impl PartialSelection {
    /// Whether anything partial was asked for (else a restore is a full one).
    pub fn is_partial(&self) -> bool {
        asks_for_part(
            !self.tables.is_empty() || !self.whole_tables.is_empty(),
            self.tenant.is_some(),
            self.into_schema.is_some(),
        )
    }

    pub fn tenant_column(&self) -> &str {
        self.tenant_column
            .as_deref()
            .unwrap_or(DEFAULT_TENANT_COLUMN)
    }

    /// Refuses combinations that mean nothing, and names that cannot be PostgreSQL's.
    pub fn check(&self) -> Result<()> {
        let invalid = |m: &str| Err(Error::InvalidInput(m.to_owned()));
        if !self.is_partial() {
            return invalid("choose tables (--table), a tenant (--tenant) or --into-schema");
        }
        if self.where_sql.is_some() && self.tables.is_empty() {
            return invalid("--where needs the tables it applies to (--table SCHEMA.TABLE)");
        }
        if self.where_sql.is_some() && self.tenant.is_some() {
            return invalid(
                "--where and --tenant do not go together: --tenant restores one tenant's rows \
                 of the tables with the tenant column, --where the matching rows of the tables \
                 given",
            );
        }
        if self.tenant_column.is_some() && self.tenant.is_none() {
            return invalid("--tenant-column needs --tenant");
        }
        if self.into_schema.is_some() && self.cascade_to_referencing {
            return invalid(
                "--cascade-to-referencing has nothing to do with --into-schema, which changes \
                 no existing rows",
            );
        }
        if !self.whole_tables.is_empty() {
            if self.tenant.is_none() && self.where_sql.is_none() {
                return invalid(
                    "--whole-table goes beside --tenant or --where; without them every --table \
                     is restored whole already",
                );
            }
            if self.into_schema.is_some() {
                return invalid("--whole-table has nothing to do with --into-schema");
            }
        }
        if let Some(tenant) = &self.tenant {
            if tenant.trim().is_empty() || tenant.len() > TENANT_MAX {
                return invalid("a tenant id has 1 to 256 characters");
            }
            if tenant.chars().any(char::is_control) {
                return invalid("a tenant id has no control characters");
            }
        }
        check_identifier("the tenant column", self.tenant_column())?;
        if let Some(schema) = &self.into_schema {
            check_identifier("the schema name", schema)?;
            if schema.starts_with("pg_") {
                return invalid("a schema name may not start with pg_ (PostgreSQL's own)");
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for table in self.tables.iter().chain(&self.whole_tables) {
            if !seen.insert(table) {
                return Err(Error::InvalidInput(format!("{table} is chosen twice")));
            }
        }
        Ok(())
    }
}

fn check_identifier(what: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "{what} must have 1 to 63 bytes and no control characters"
        )));
    }
    Ok(())
}

/// A partial restore's choice as the front ends receive it (the server's restore body, the
/// desktop's input, the CLI's arguments): table names as typed. `selection` reads it, the
/// same way for all three.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SelectionText {
    /// `schema.table` names.
    #[serde(default)]
    pub tables: Vec<String>,
    /// `schema.table` names restored whole beside a tenant's or a condition's rows.
    #[serde(default)]
    pub whole_tables: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub tenant: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub tenant_column: Option<String>,
    #[serde(rename = "where", default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub where_sql: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub into_schema: Option<String>,
    #[serde(default)]
    pub cascade_to_referencing: bool,
    /// Report what would change; change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

impl SelectionText {
    /// Whether part of a backup is asked for (else a restore is a full one).
    pub fn is_partial(&self) -> bool {
        asks_for_part(
            !self.tables.is_empty() || !self.whole_tables.is_empty(),
            self.tenant.is_some(),
            self.into_schema.is_some(),
        )
    }

    /// The selection: names read as PostgreSQL reads them, then checked.
    pub fn selection(&self) -> Result<PartialSelection> {
        let names = |list: &[String]| {
            list.iter()
                .map(|t| TableName::parse(t))
                .collect::<Result<Vec<_>>>()
        };
        let selection = PartialSelection {
            tables: names(&self.tables)?,
            whole_tables: names(&self.whole_tables)?,
            tenant: self.tenant.clone(),
            tenant_column: self.tenant_column.clone(),
            where_sql: self.where_sql.clone(),
            into_schema: self.into_schema.clone(),
            cascade_to_referencing: self.cascade_to_referencing,
            dry_run: self.dry_run,
        };
        selection.check()?;
        Ok(selection)
    }
}

impl From<&PartialSelection> for SelectionText {
    /// The names as PostgreSQL prints them, which `selection` reads back exactly.
    fn from(s: &PartialSelection) -> Self {
        let names = |list: &[TableName]| list.iter().map(ToString::to_string).collect();
        SelectionText {
            tables: names(&s.tables),
            whole_tables: names(&s.whole_tables),
            tenant: s.tenant.clone(),
            tenant_column: s.tenant_column.clone(),
            where_sql: s.where_sql.clone(),
            into_schema: s.into_schema.clone(),
            cascade_to_referencing: s.cascade_to_referencing,
            dry_run: s.dry_run,
        }
    }
}

/// How to undo a partial restore: its safety backup, restored with this choice. Decided by
/// the engine (the front ends show it, never work it out again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PartialRollback {
    pub backup: BackupName,
    /// The same rows of the tables the restore changed; whole, the tables its
    /// `--cascade-to-referencing` deletions reached outside the chosen rows.
    pub selection: SelectionText,
}

/// What happened (or, in a dry run, would happen) to one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct TableOutcome {
    pub schema: String,
    pub name: String,
    /// Rows that were there and are not in the backup.
    pub deleted: u64,
    /// Rows of the backup that were not there.
    pub inserted: u64,
    /// Rows whose key was there with other values.
    pub updated: u64,
    /// Rows that were there exactly as in the backup.
    pub unchanged: u64,
    /// The table was missing and was created from the backup.
    pub created: bool,
    /// Sequences set (in a dry run: that would be set) to the backup's values, never
    /// lower than they are (`schema.name = value`).
    pub sequences: Vec<String>,
}

/// Rows of a table that was not chosen, changed as a consequence (deleted by
/// `--cascade-to-referencing` and the cascades it set off, or by the table's triggers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct OtherTableChange {
    pub schema: String,
    pub name: String,
    pub deleted: u64,
    pub updated: u64,
    pub inserted: u64,
}

/// The result of a partial restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PartialRestoreOutcome {
    /// The backup's name, or the file restored from.
    pub source: String,
    pub database: String,
    /// Nothing was changed: the figures are what a restore would do.
    pub dry_run: bool,
    pub tables: Vec<TableOutcome>,
    /// Changes outside the chosen tables.
    pub other_tables: Vec<OtherTableChange>,
    pub tenant: Option<String>,
    pub tenant_column: Option<String>,
    pub where_sql: Option<String>,
    /// The schema the copies were put into.
    pub into_schema: Option<String>,
    /// Materialized views refreshed because their tables changed.
    pub refreshed_views: Vec<String>,
    /// The backup of the affected tables taken first; restore it with the same choice to
    /// roll back.
    pub safety_backup: Option<BackupName>,
    /// The tables whose data the safety backup holds.
    pub safety_tables: Vec<TableName>,
    /// How to roll the restore back (none without a safety backup).
    #[serde(default)]
    pub rollback: Option<PartialRollback>,
    pub restored_as: Option<RoleInfo>,
    /// Things worth knowing (columns only one side has, triggers that did not fire, …).
    pub notes: Vec<String>,
    /// Bytes of the backup read.
    pub bytes: u64,
    pub sha256: String,
    pub checksum_verified: Option<bool>,
    pub format: DumpFormat,
    pub compression: Compression,
    pub duration_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_table_names_as_postgresql_does() {
        assert_eq!(
            TableName::parse("public.Users").unwrap(),
            TableName::new("public", "users")
        );
        assert_eq!(
            TableName::parse("sessions").unwrap(),
            TableName::new("public", "sessions")
        );
        assert_eq!(
            TableName::parse("\"Mixed Case\".\"a.b\"\"c\"").unwrap(),
            TableName::new("Mixed Case", "a.b\"c")
        );
        for bad in [
            "",
            "a.b.c",
            "a.",
            ".b",
            "\"open",
            "a b",
            "x\"y",
            "a.\"\u{1}\"",
            &"x".repeat(64),
        ] {
            assert!(TableName::parse(bad).is_err(), "{bad:?}");
        }
        let odd = TableName::new("Mixed Case", "t\"x");
        assert_eq!(odd.to_string(), "\"Mixed Case\".\"t\"\"x\"");
        assert_eq!(TableName::parse(&odd.to_string()).unwrap(), odd);
        assert_eq!(odd.sql(), "\"Mixed Case\".\"t\"\"x\"");
        assert_eq!(TableName::new("app", "sets").to_string(), "app.sets");
    }

    /// The text the front ends receive reads back into the same selection, odd names
    /// included; whether it asks for part of a backup is one rule for both.
    #[test]
    fn selection_text_reads_back_what_it_was_made_from() {
        let selection = PartialSelection {
            tables: vec![
                TableName::new("Mixed Case", "t\"x"),
                TableName::new("app", "sets"),
            ],
            whole_tables: vec![TableName::new("public", "audit")],
            tenant: Some("b".into()),
            cascade_to_referencing: true,
            ..Default::default()
        };
        let text = SelectionText::from(&selection);
        assert_eq!(text.tables, vec!["\"Mixed Case\".\"t\"\"x\"", "app.sets"]);
        assert!(text.is_partial());
        assert_eq!(text.selection().unwrap(), selection);
        let json = serde_json::to_value(&text).unwrap();
        assert_eq!(json["wholeTables"][0], "public.audit");
        let back: SelectionText = serde_json::from_value(json).unwrap();
        assert_eq!(back, text);
        assert!(!SelectionText::default().is_partial());
        assert!(SelectionText::default().selection().is_err());
        let bad = SelectionText {
            tables: vec!["a.b.c".into()],
            ..Default::default()
        };
        assert!(bad.selection().is_err());
    }

    #[test]
    fn refuses_combinations_that_mean_nothing() {
        let table = vec![TableName::new("public", "t")];
        let ok = [
            PartialSelection {
                tables: table.clone(),
                ..Default::default()
            },
            PartialSelection {
                tenant: Some("b".into()),
                ..Default::default()
            },
            PartialSelection {
                tables: table.clone(),
                where_sql: Some("id > 3".into()),
                ..Default::default()
            },
            PartialSelection {
                into_schema: Some("restored".into()),
                ..Default::default()
            },
        ];
        for selection in ok {
            selection.check().unwrap();
        }
        let bad = [
            PartialSelection::default(),
            PartialSelection {
                where_sql: Some("true".into()),
                tenant: Some("b".into()),
                ..Default::default()
            },
            PartialSelection {
                tables: table.clone(),
                where_sql: Some("true".into()),
                tenant: Some("b".into()),
                ..Default::default()
            },
            PartialSelection {
                tables: table.clone(),
                tenant_column: Some("org".into()),
                ..Default::default()
            },
            PartialSelection {
                tenant: Some("\n".into()),
                ..Default::default()
            },
            PartialSelection {
                tenant: Some("b".into()),
                tenant_column: Some("x".repeat(64)),
                ..Default::default()
            },
            PartialSelection {
                into_schema: Some("pg_x".into()),
                ..Default::default()
            },
            PartialSelection {
                into_schema: Some("x".into()),
                cascade_to_referencing: true,
                ..Default::default()
            },
            PartialSelection {
                tables: vec![table[0].clone(), table[0].clone()],
                ..Default::default()
            },
            // Whole tables only beside a tenant or a condition, never twice, not as copies.
            PartialSelection {
                tables: table.clone(),
                whole_tables: vec![TableName::new("public", "u")],
                ..Default::default()
            },
            PartialSelection {
                tables: table.clone(),
                whole_tables: table.clone(),
                tenant: Some("b".into()),
                ..Default::default()
            },
            PartialSelection {
                whole_tables: table.clone(),
                tenant: Some("b".into()),
                into_schema: Some("x".into()),
                ..Default::default()
            },
        ];
        for selection in bad {
            assert!(selection.check().is_err(), "{selection:?}");
        }
    }
}
