//! What a backup holds, read from its SQL as it streams by, without a database: schemas,
//! tables with their exact row counts (the dump's own `COPY` rows, counted) and the bytes of
//! their data, sequences with their values, views, materialized views, functions, types,
//! extensions and large objects; and, for a tenant column, how many rows each tenant has.
//! The SQL is scanned with the restore filter's lexer (`sql_filter::lexer`), so object
//! headers are only read where psql would see comments, and COPY data only between a `COPY
//! … FROM stdin` and its end marker. Memory stays bounded whatever the dump's size.
//!
//! Row counts recorded when the backup was taken win over counted ones where a backup has
//! them: `prefer_recorded` is the one place that decides. A table whose rows the dump left
//! out (a partial restore's safety backup keeps only the affected tables' rows) says so
//! (`has_data`), and never shows a count: it holds no rows to restore.

mod copy_rows;
mod headers;
mod statement;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::catalog::row_counts::TableRows;
use crate::catalog::{Compression, DumpFormat};
use crate::jobs::sql_filter::lexer::{Event, Lexer};
use copy_rows::{CopyBlock, TenantTally};
use statement::{Statement, StatementKind};

/// A statement longer than this is not kept whole while it is scanned (only COPY
/// statements and `setval` calls are read, and they are short).
const STATEMENT_KEEP: usize = 1024 * 1024;
/// A comment line longer than this is no object header.
const LINE_KEEP: usize = 8 * 1024;

/// Where a table's row count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum RowsSource {
    /// Counted in the dump's own data.
    Counted,
    /// Recorded when the backup was taken (in pg_dump's snapshot).
    Recorded,
}

/// A table of the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct TableContents {
    pub schema: String,
    pub name: String,
    /// Exact row count (0 where the dump holds none of the table's rows).
    pub rows: u64,
    pub rows_source: RowsSource,
    /// The dump holds the table's rows (a data entry, even an empty one). False where they
    /// were left out: the table's definition only.
    #[serde(default = "holds_rows")]
    pub has_data: bool,
    /// Bytes of the table's data in the dump (its COPY lines, before compression).
    pub bytes: u64,
    /// The table has the tenant column that was asked about.
    pub has_tenant_column: bool,
}

/// A named object in a schema (sequences, views, functions, types).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SchemaObject {
    pub schema: String,
    /// As pg_dump names it (functions with their argument types).
    pub name: String,
}

/// A sequence and the value the backup sets it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SequenceContents {
    pub schema: String,
    pub name: String,
    /// From the dump's `setval`; none for a sequence it leaves at its start.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub value: Option<i64>,
}

/// One tenant's rows in the backup (over every table with the tenant column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct TenantRows {
    pub id: String,
    pub rows: u64,
}

/// The tenants found in the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    pub column: String,
    /// Most rows first.
    pub tenants: Vec<TenantRows>,
    /// More tenants exist than are listed.
    pub truncated: bool,
}

/// What one dump holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct DumpContents {
    pub schemas: Vec<String>,
    pub tables: Vec<TableContents>,
    pub sequences: Vec<SequenceContents>,
    pub views: Vec<SchemaObject>,
    pub materialized_views: Vec<SchemaObject>,
    pub functions: Vec<SchemaObject>,
    pub types: Vec<SchemaObject>,
    pub extensions: Vec<String>,
    pub large_objects: u64,
    /// Per-tenant row counts, when a tenant column was asked about and found.
    pub tenants: Option<TenantSummary>,
    /// Bytes of SQL read.
    pub sql_bytes: u64,
}

/// A backup's contents and what was checked while reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct BackupContents {
    /// The backup's name, or the file read.
    pub source: String,
    pub format: DumpFormat,
    pub compression: Compression,
    /// Bytes as stored.
    pub bytes: u64,
    pub sha256: String,
    /// `Some(true)` when the recorded checksum matched; `None` when none was recorded.
    pub checksum_verified: Option<bool>,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub contents: DumpContents,
}

fn holds_rows() -> bool {
    true
}

/// Counts recorded at backup time replace the counted ones of the same tables (a recorded
/// count comes from pg_dump's own snapshot, so both agree for a sound backup; where a backup
/// records them, reading them is what a listing should trust). Never for a table whose rows
/// the dump does not hold: a count recorded for it (by an earlier version, which counted
/// every table of a safety backup) describes rows that are not there.
pub fn prefer_recorded(tables: &mut [TableContents], recorded: Option<&[TableRows]>) {
    let Some(recorded) = recorded else {
        return;
    };
    for table in tables.iter_mut().filter(|t| t.has_data) {
        if let Some(r) = recorded
            .iter()
            .find(|r| r.schema == table.schema && r.table == table.name)
        {
            table.rows = r.rows.max(0) as u64;
            table.rows_source = RowsSource::Recorded;
        }
    }
}

#[derive(Debug)]
enum Mode {
    Sql,
    /// The rest of the `COPY … FROM stdin;` line.
    CopyLineEnd(CopyBlock, (String, String)),
    Copy(CopyBlock, (String, String)),
}

/// Reads a dump's SQL written into it (`Write`); `finish` says what it held.
pub struct ContentsReader {
    lexer: Lexer,
    mode: Mode,
    statement: Option<Statement>,
    /// A comment line between statements that has not ended yet.
    partial_line: Vec<u8>,
    tenant_column: Option<String>,
    tenants: TenantTally,
    tenant_tables: BTreeSet<(String, String)>,
    headers: Headers,
    data: BTreeMap<(String, String), (u64, u64)>,
    /// Partitioned tables' partitions (`ATTACH PARTITION`): the parent holds their rows.
    partitions: BTreeMap<(String, String), Vec<(String, String)>>,
    sequence_values: BTreeMap<(String, String), i64>,
    sql_bytes: u64,
}

#[derive(Debug, Default)]
struct Headers {
    schemas: BTreeSet<String>,
    tables: BTreeSet<(String, String)>,
    sequences: BTreeSet<(String, String)>,
    views: BTreeSet<SchemaObject>,
    materialized_views: BTreeSet<SchemaObject>,
    functions: BTreeSet<SchemaObject>,
    types: BTreeSet<SchemaObject>,
    extensions: BTreeSet<String>,
    large_objects: u64,
}

impl ContentsReader {
    /// A reader; `tenant_column` names the column whose values are tallied per tenant.
    pub fn new(tenant_column: Option<&str>) -> Self {
        ContentsReader {
            lexer: Lexer::default(),
            mode: Mode::Sql,
            statement: None,
            partial_line: Vec::new(),
            tenant_column: tenant_column.map(str::to_owned),
            tenants: TenantTally::default(),
            tenant_tables: BTreeSet::new(),
            headers: Headers::default(),
            data: BTreeMap::new(),
            partitions: BTreeMap::new(),
            sequence_values: BTreeMap::new(),
            sql_bytes: 0,
        }
    }

    /// What the dump held.
    pub fn finish(mut self) -> DumpContents {
        if matches!(self.mode, Mode::Sql) {
            self.scan(true);
            self.take_gap_rest();
        }
        let h = std::mem::take(&mut self.headers);
        let mut tables: BTreeMap<(String, String), TableContents> = BTreeMap::new();
        for key in h.tables.iter().chain(self.data.keys()) {
            let (rows, bytes) = self.data.get(key).copied().unwrap_or_default();
            tables.insert(
                key.clone(),
                TableContents {
                    schema: key.0.clone(),
                    name: key.1.clone(),
                    rows,
                    rows_source: RowsSource::Counted,
                    has_data: self.holds_rows_of(key, 0),
                    bytes,
                    has_tenant_column: self.tenant_tables.contains(key),
                },
            );
        }
        let tenants = self
            .tenant_column
            .filter(|_| !self.tenant_tables.is_empty())
            .map(|column| {
                let mut tenants: Vec<TenantRows> = self
                    .tenants
                    .counts
                    .into_iter()
                    .map(|(id, rows)| TenantRows { id, rows })
                    .collect();
                tenants.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.id.cmp(&b.id)));
                TenantSummary {
                    column,
                    tenants,
                    truncated: self.tenants.truncated,
                }
            });
        DumpContents {
            schemas: h.schemas.into_iter().collect(),
            tables: tables.into_values().collect(),
            sequences: h
                .sequences
                .into_iter()
                .map(|(schema, name)| SequenceContents {
                    value: self
                        .sequence_values
                        .get(&(schema.clone(), name.clone()))
                        .copied(),
                    schema,
                    name,
                })
                .collect(),
            views: h.views.into_iter().collect(),
            materialized_views: h.materialized_views.into_iter().collect(),
            functions: h.functions.into_iter().collect(),
            types: h.types.into_iter().collect(),
            extensions: h.extensions.into_iter().collect(),
            large_objects: h.large_objects,
            tenants,
            sql_bytes: self.sql_bytes,
        }
    }

    /// Whether the dump holds `table`'s rows: a data entry of its own, or (a partitioned
    /// table, which has none) of one of its partitions, at any level.
    fn holds_rows_of(&self, table: &(String, String), depth: usize) -> bool {
        // PostgreSQL nests partitions a few levels at most; a dump naming a loop is no
        // reason to recurse for ever.
        self.data.contains_key(table)
            || (depth < 32
                && self
                    .partitions
                    .get(table)
                    .is_some_and(|p| p.iter().any(|t| self.holds_rows_of(t, depth + 1))))
    }

    /// Scans what the lexer holds.
    fn scan(&mut self, eof: bool) {
        while let Some(event) = self.lexer.next(eof) {
            match event {
                Event::Token(lexed) => {
                    if self.statement.is_none() {
                        // The comment lines before a statement's first token are the
                        // headers of what it creates.
                        let gap = self.lexer.buffer()[..lexed.start].to_vec();
                        self.gap(&gap);
                        self.line_end();
                        self.statement = Some(Statement::default());
                    }
                    let text = &self.lexer.buffer()[lexed.start..lexed.end];
                    if let Some(statement) = &mut self.statement {
                        statement.token(&lexed.token, text);
                    }
                }
                Event::StatementEnd { end } => {
                    self.lexer.take(end);
                    let statement = self.statement.take().unwrap_or_default();
                    match statement.kind() {
                        StatementKind::CopyFromStdin { table, columns } => {
                            let tenant_field = self.tenant_field(&table, &columns);
                            let block = CopyBlock::new(tenant_field);
                            self.mode = Mode::CopyLineEnd(block, table);
                            let rest = self.lexer.take_unscanned();
                            self.copy_data(&rest);
                            return;
                        }
                        StatementKind::SetSequence { sequence, value } => {
                            self.sequence_values.insert(sequence, value);
                        }
                        StatementKind::AttachPartition { parent, partition } => {
                            self.partitions.entry(parent).or_default().push(partition);
                        }
                        StatementKind::Other => {}
                    }
                }
                Event::MetaLine { start, .. } if self.statement.is_none() => {
                    let gap = self.lexer.buffer()[..start].to_vec();
                    self.gap(&gap);
                    self.line_end();
                    let settled = self.lexer.settled();
                    self.lexer.take(settled);
                }
                // Nothing runs here: psql's own syntax and oddities do not matter.
                _ => {}
            }
        }
        self.bound_held();
    }

    /// Keeps memory bounded: between statements, comments are read and dropped; inside a
    /// long one, what was scanned is dropped.
    fn bound_held(&mut self) {
        let settled = self.lexer.settled();
        if self.statement.is_none() {
            let gap = self.lexer.take(settled);
            self.gap(&gap);
        } else if self.lexer.held() > STATEMENT_KEEP {
            self.lexer.take(settled);
        }
    }

    /// The rest of a comment-only stretch at the end of the input.
    fn take_gap_rest(&mut self) {
        let settled = self.lexer.settled();
        let gap = self.lexer.take(settled);
        self.gap(&gap);
        self.line_end();
    }

    /// Comment and blank lines between statements: headers are read from whole lines.
    fn gap(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some(newline) = memchr::memchr(b'\n', rest) {
            self.push_line_part(&rest[..newline]);
            self.line_end();
            rest = &rest[newline + 1..];
        }
        self.push_line_part(rest);
    }

    fn push_line_part(&mut self, part: &[u8]) {
        let room = LINE_KEEP.saturating_sub(self.partial_line.len());
        self.partial_line
            .extend_from_slice(&part[..part.len().min(room)]);
    }

    fn line_end(&mut self) {
        let line = std::mem::take(&mut self.partial_line);
        let text = String::from_utf8_lossy(&line);
        let Some(header) = headers::parse(text.trim_end_matches('\r')) else {
            return;
        };
        let h = &mut self.headers;
        let schema = header.schema.clone().unwrap_or_default();
        let object = SchemaObject {
            schema: schema.clone(),
            name: header.name.clone(),
        };
        match header.kind.as_str() {
            "SCHEMA" => {
                h.schemas.insert(header.name);
            }
            "TABLE" => {
                h.tables.insert((schema, header.name));
            }
            "SEQUENCE" => {
                h.sequences.insert((schema, header.name));
            }
            "VIEW" => {
                h.views.insert(object);
            }
            "MATERIALIZED VIEW" => {
                h.materialized_views.insert(object);
            }
            "FUNCTION" | "PROCEDURE" | "AGGREGATE" => {
                h.functions.insert(object);
            }
            "TYPE" | "DOMAIN" => {
                h.types.insert(object);
            }
            "EXTENSION" => {
                h.extensions.insert(header.name);
            }
            "BLOB" | "LARGE OBJECT" => h.large_objects += 1,
            _ => {}
        }
        if let Some(schema) = header.schema {
            if !schema.starts_with("pg_") {
                h.schemas.insert(schema);
            }
        }
    }

    fn tenant_field(&mut self, table: &(String, String), columns: &[String]) -> Option<usize> {
        let wanted = self.tenant_column.as_deref()?;
        let at = columns.iter().position(|c| c == wanted)?;
        self.tenant_tables.insert(table.clone());
        Some(at)
    }

    /// Data of a COPY block, then (after its end marker) SQL again.
    fn copy_data(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match std::mem::replace(&mut self.mode, Mode::Sql) {
                Mode::Sql => {
                    self.lexer.push(bytes);
                    self.scan(false);
                    return;
                }
                Mode::CopyLineEnd(block, table) => match memchr::memchr(b'\n', bytes) {
                    Some(newline) => {
                        bytes = &bytes[newline + 1..];
                        self.mode = Mode::Copy(block, table);
                    }
                    None => {
                        self.mode = Mode::CopyLineEnd(block, table);
                        return;
                    }
                },
                Mode::Copy(mut block, table) => match block.feed(bytes, &mut self.tenants) {
                    Some(used) => {
                        let entry = self.data.entry(table).or_default();
                        entry.0 += block.rows;
                        entry.1 += block.bytes;
                        bytes = &bytes[used..];
                    }
                    None => {
                        self.mode = Mode::Copy(block, table);
                        return;
                    }
                },
            }
        }
    }
}

impl Write for ContentsReader {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sql_bytes += buf.len() as u64;
        match self.mode {
            Mode::Sql => {
                self.lexer.push(buf);
                self.scan(false);
            }
            _ => self.copy_data(buf),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
