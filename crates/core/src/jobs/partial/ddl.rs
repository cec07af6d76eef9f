//! The definitions a restored table needs when it is missing from the target, taken from
//! the scratch database by pg_dump itself (so they are exact): the table with its
//! partitions, defaults, identity, owned sequences, indexes, constraints, triggers,
//! policies, grants and comments (`pg_dump --schema-only --table`), and the types of its
//! columns that the target lacks (selected by their ids from a schema-only archive's table
//! of contents). Everything passes the statement filter on its way into the transaction,
//! like any SQL that comes from a backup.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;

use super::catalog::Table;
use super::request::TableName;
use crate::error::{Error, Result};
use crate::jobs::spool::spool_dir;
use crate::jobs::sql_filter::SqlFilter;
use crate::pg::{quote_literal, DbTarget, PgCommand, Server, SqlClient, ToolKind};

/// A pg_dump pattern that matches exactly this table (inside double quotes, pattern
/// characters are literal; a quote is doubled).
pub(crate) fn exact_pattern(table: &TableName) -> String {
    format!(
        "\"{}\".\"{}\"",
        table.schema.replace('"', "\"\""),
        table.name.replace('"', "\"\"")
    )
}

/// The partitions of a partitioned table, all levels down.
fn partitions(scratch: &SqlClient, table: &TableName) -> Result<Vec<TableName>> {
    let rows = scratch.query(&format!(
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_partition_tree({}::pg_catalog.regclass) p \
         JOIN pg_catalog.pg_class c ON c.oid = p.relid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE p.level > 0",
        quote_literal(&table.sql())
    ))?;
    Ok(rows
        .into_iter()
        .filter(|r| r.len() == 2)
        .map(|r| TableName::new(&r[0], &r[1]))
        .collect())
}

/// Writes the CREATE statements of `table` (and its partitions) from the scratch database
/// through the statement filter into `out`.
pub(crate) fn write_table(
    server: &Server,
    scratch: &DbTarget,
    table: &TableName,
    partitioned: bool,
    out: &mut impl Write,
) -> Result<()> {
    let mut command = PgCommand::new(&server.tools.path(ToolKind::PgDump), scratch.password())
        .arg("--no-password")
        .arg("--schema-only")
        .arg("--strict-names")
        .arg(format!("--dbname={}", scratch.url_without_password()))
        .arg(format!("--table={}", exact_pattern(table)))
        .stdout(Stdio::piped());
    if partitioned {
        for partition in partitions(&server.sql(scratch), table)? {
            command = command.arg(format!("--table={}", exact_pattern(&partition)));
        }
    }
    filtered(command, &format!("the definition of {table}"), out)
}

/// Runs a dump tool and passes its SQL through the filter into `out`.
fn filtered(command: PgCommand, what: &str, out: &mut impl Write) -> Result<()> {
    let mut child = command.spawn()?;
    let mut sql = child.take_stdout().expect("stdout is piped");
    let mut filter = SqlFilter::new(out);
    let mut buffer = vec![0u8; 64 * 1024];
    let copied: std::io::Result<()> = loop {
        match sql.read(&mut buffer) {
            Ok(0) => break filter.finish(),
            Ok(n) => {
                if let Err(e) = filter.write_all(&buffer[..n]) {
                    break Err(e);
                }
            }
            Err(e) => break Err(e),
        }
    };
    if let Some(refused) = filter.refused() {
        return Err(Error::UnsafeBackup {
            source_name: what.to_owned(),
            kind: refused.kind.clone(),
            line: refused.line,
        });
    }
    if let Err(e) = copied {
        child.kill();
        let _ = child.wait();
        return Err(Error::Io {
            action: "cannot pass on",
            path: what.to_owned(),
            source: e,
        });
    }
    child.wait()?;
    Ok(())
}

/// Which of these type names (as `format_type` writes them, schema-qualified) the target
/// does not know.
pub(crate) fn unknown_types(
    target: &SqlClient,
    names: impl IntoIterator<Item = String>,
) -> Result<Vec<String>> {
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let array = names
        .iter()
        .map(|n| quote_literal(n))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(target
        .query(&format!(
            "SET search_path = ''; SELECT n FROM pg_catalog.unnest(ARRAY[{array}]::text[]) n \
             WHERE pg_catalog.to_regtype(n) IS NULL"
        ))?
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect())
}

/// The user-defined types (enums, composites, domains, ranges) of `tables`' columns that
/// `target` lacks, as the scratch database's type ids with their names.
pub(crate) fn missing_types(
    target: &SqlClient,
    scratch: &SqlClient,
    tables: &[&Table],
) -> Result<Vec<(u32, String)>> {
    let names = tables
        .iter()
        .flat_map(|t| t.columns.iter())
        .map(|c| c.type_name.trim_end_matches("[]").to_owned());
    let missing = unknown_types(target, names)?;
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let array = missing
        .iter()
        .map(|n| quote_literal(n))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = scratch.query(&format!(
        "SET search_path = ''; SELECT t.oid, n FROM pg_catalog.unnest(ARRAY[{array}]::text[]) n \
         JOIN pg_catalog.pg_type t ON t.oid = pg_catalog.to_regtype(n) \
         WHERE t.typtype IN ('e', 'c', 'd', 'r')"
    ))?;
    let found: Vec<(u32, String)> = rows
        .into_iter()
        .filter(|r| r.len() == 2)
        .filter_map(|r| Some((r[0].parse().ok()?, r[1].clone())))
        .collect();
    if let Some(unknown) = missing.iter().find(|m| !found.iter().any(|(_, n)| n == *m)) {
        return Err(Error::InvalidInput(format!(
            "a restored table needs the type {unknown}, which the database lacks and the backup \
             cannot provide by itself; restore into a new database instead"
        )));
    }
    Ok(found)
}

/// Writes the CREATE statements of the scratch database's types `ids` through the filter
/// into `out`: a schema-only custom archive, its table of contents cut down to those
/// types, replayed by pg_restore.
pub(crate) fn write_types(
    server: &Server,
    scratch: &DbTarget,
    ids: &[u32],
    out: &mut impl Write,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let dir = tempfile::Builder::new()
        .prefix("rythm-ddl-")
        .tempdir_in(prepared(&spool_dir())?)
        .map_err(|e| Error::io("cannot create a temporary folder in", &spool_dir(), e))?;
    let archive = dir.path().join("schema.dump");
    let list = dir.path().join("types.list");
    PgCommand::new(&server.tools.path(ToolKind::PgDump), scratch.password())
        .arg("--no-password")
        .arg("--schema-only")
        .arg("--format=custom")
        .arg(format!("--file={}", archive.display()))
        .arg(format!("--dbname={}", scratch.url_without_password()))
        .spawn()?
        .wait()?;
    let mut listing = PgCommand::new(&server.tools.path(ToolKind::PgRestore), None)
        .arg("--list")
        .arg(&archive)
        .stdout(Stdio::piped())
        .spawn()?;
    let mut toc = String::new();
    listing
        .take_stdout()
        .expect("stdout is piped")
        .read_to_string(&mut toc)
        .map_err(|e| Error::io("cannot read the table of contents of", &archive, e))?;
    listing.wait()?;
    let wanted: Vec<&str> = toc
        .lines()
        .filter(|line| {
            // `ID; CATALOG OID DESC …`: types live in pg_type (1247).
            let mut fields = line.split(';').nth(1).unwrap_or("").split_whitespace();
            fields.next() == Some("1247")
                && fields
                    .next()
                    .and_then(|oid| oid.parse::<u32>().ok())
                    .is_some_and(|oid| ids.contains(&oid))
        })
        .collect();
    std::fs::write(&list, wanted.join("\n") + "\n")
        .map_err(|e| Error::io("cannot write", &list, e))?;
    let command = PgCommand::new(&server.tools.path(ToolKind::PgRestore), None)
        .arg(format!("--use-list={}", list.display()))
        .arg("--file=-")
        .arg(&archive)
        .stdout(Stdio::piped());
    filtered(command, "the definitions of the backup's types", out)
}

fn prepared(dir: &Path) -> Result<&Path> {
    crate::fsmode::create_private_dir_all(dir)
        .map_err(|e| Error::io("cannot create folder", dir, e))?;
    Ok(dir)
}
