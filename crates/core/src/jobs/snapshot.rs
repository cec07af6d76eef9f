//! Row counts taken in the very snapshot pg_dump reads. A psql session opens a `REPEATABLE
//! READ, READ ONLY` transaction and exports its snapshot; pg_dump gets it with `--snapshot`;
//! the session counts every table's rows in that same transaction while the dump runs, and
//! commits only once pg_dump has ended (an exported snapshot lives as long as the
//! transaction that exported it). So the counts are exactly the rows the backup holds: a
//! row committed while pg_dump runs is in neither.

use std::io::{BufRead, BufReader, Lines, Write};
use std::process::{ChildStdin, ChildStdout, Stdio};

use tokio::task::JoinHandle;

use crate::catalog::TableRows;
use crate::pg::{DbTarget, PgChild, PgCommand, PgError, Server, ToolKind};

/// Every user table's exact row count (schema and name hex-encoded, so no name can break
/// the line-based answer). Partitions are counted, their parents not (no double counts);
/// tables that belong to an extension (its own content, which pg_dump leaves to CREATE
/// EXTENSION) and temporary tables are left out, as pg_dump leaves them out.
pub(crate) const COUNT_ROWS_SQL: &str = "SELECT encode(convert_to(n.nspname, 'UTF8'), 'hex'), \
    encode(convert_to(c.relname, 'UTF8'), 'hex'), \
    (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text \
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
    WHERE c.relkind = 'r' AND c.relpersistence <> 't' \
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass \
        AND d.objid = c.oid AND d.deptype = 'e') \
    ORDER BY 1, 2";

/// One answer row of `COUNT_ROWS_SQL` (`hex`, `hex`, `count`) as a `TableRows`.
pub(crate) fn parse_count_row(fields: &[&str]) -> Option<TableRows> {
    let [schema, table, rows] = fields else {
        return None;
    };
    let text = |hex: &str| String::from_utf8(hex::decode(hex.trim()).ok()?).ok();
    Some(TableRows {
        schema: text(schema)?,
        table: text(table)?,
        rows: rows.trim().parse().ok()?,
    })
}

/// The open transaction that exported a snapshot.
struct Session {
    child: PgChild,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Session {
    /// Opens the transaction; returns it, the snapshot's id and the session's backend pid.
    fn open(server: &Server, database: &DbTarget) -> Result<(Session, String, u32), PgError> {
        let mut child = PgCommand::new(&server.tools.path(ToolKind::Psql), database.password())
            .arg("--no-psqlrc")
            .arg("--no-password")
            .arg("--quiet")
            .arg("--no-align")
            .arg("--tuples-only")
            .arg("--field-separator=,")
            .arg(format!("--dbname={}", database.url_without_password()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdin = child.take_stdin().expect("stdin is piped");
        let lines = BufReader::new(child.take_stdout().expect("stdout is piped")).lines();
        let mut session = Session {
            child,
            stdin,
            lines,
        };
        // pg_dump turns row security off and fails rather than dump a filtered table: so
        // do the counts.
        session.send(
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n\
             SET LOCAL row_security = off;\n\
             SELECT 'snapshot:' || pg_catalog.pg_export_snapshot() || ' ' || pg_catalog.pg_backend_pid();\n",
        )?;
        let (id, pid) = loop {
            match session.lines.next() {
                Some(Ok(line)) => {
                    if let Some((id, pid)) = line
                        .strip_prefix("snapshot:")
                        .and_then(|rest| rest.trim().split_once(' '))
                    {
                        break (id.to_owned(), pid.parse().unwrap_or(0));
                    }
                }
                _ => return Err(session.failed("exporting a snapshot")),
            }
        };
        Ok((session, id, pid))
    }

    fn send(&mut self, sql: &str) -> Result<(), PgError> {
        self.stdin
            .write_all(sql.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| PgError::Protocol {
                query: "snapshot session",
                detail: e.to_string(),
            })
    }

    /// The session ended early: its stderr says why.
    fn failed(self, what: &'static str) -> PgError {
        let Session { child, stdin, .. } = self;
        drop(stdin);
        match child.wait() {
            Err(e) => e.into(),
            Ok(stderr) => PgError::Protocol {
                query: what,
                detail: if stderr.is_empty() {
                    "psql ended without an answer".into()
                } else {
                    stderr
                },
            },
        }
    }

    /// Counts in a savepoint, so a failed count (a table the role may not read) does not
    /// abort the transaction and with it the snapshot pg_dump may still be importing.
    fn count(&mut self) -> Result<Vec<TableRows>, PgError> {
        self.send(&format!(
            "SAVEPOINT rythm_counts;\n{COUNT_ROWS_SQL};\nSELECT 'counted';\n\
             ROLLBACK TO SAVEPOINT rythm_counts;\nSELECT 'done';\n"
        ))?;
        let mut tables = Vec::new();
        let mut counted = false;
        loop {
            let line = match self.lines.next() {
                Some(Ok(line)) => line,
                _ => {
                    return Err(PgError::Protocol {
                        query: "row counts",
                        detail: "the session ended while counting".into(),
                    })
                }
            };
            match line.as_str() {
                "counted" => counted = true,
                "done" if counted => return Ok(tables),
                "done" => {
                    return Err(PgError::Protocol {
                        query: "row counts",
                        detail: "counting failed (the role may not read every table; see \
                                 the debug log for psql's message)"
                            .into(),
                    })
                }
                "" => {}
                row if !counted => {
                    let fields: Vec<&str> = row.split(',').collect();
                    let parsed = parse_count_row(&fields).ok_or(PgError::Protocol {
                        query: "row counts",
                        detail: format!("unexpected line {row:?}"),
                    })?;
                    tables.push(parsed);
                }
                _ => {}
            }
        }
    }

    fn close(mut self) {
        let _ = self.send("COMMIT;\n\\q\n");
        let Session { child, stdin, .. } = self;
        drop(stdin);
        if let Err(e) = child.wait() {
            tracing::debug!(error = %e, "the snapshot session ended with an error");
        }
    }
}

/// Counting rows in an exported snapshot, alongside a dump.
pub(crate) struct RowCounting {
    snapshot: String,
    /// The session's server process, and where to ask whether it has ended.
    backend: u32,
    server: Server,
    database: DbTarget,
    task: JoinHandle<(Session, Result<Vec<TableRows>, PgError>)>,
}

impl RowCounting {
    /// Exports a snapshot and starts counting in it. `None` (logged) when the server cannot
    /// export one (a standby before 10, a pooler in transaction mode): the backup is then
    /// taken as before, without counts.
    pub(crate) async fn start(server: &Server, database: &DbTarget) -> Option<RowCounting> {
        let (server, database) = (server.clone(), database.clone());
        let opened = {
            let (server, database) = (server.clone(), database.clone());
            tokio::task::spawn_blocking(move || Session::open(&server, &database)).await
        };
        let (mut session, snapshot, backend) = match opened {
            Ok(Ok(opened)) => opened,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "no snapshot could be exported: the backup records no row counts");
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the snapshot session failed to start");
                return None;
            }
        };
        let task = tokio::task::spawn_blocking(move || {
            let counted = session.count();
            (session, counted)
        });
        Some(RowCounting {
            snapshot,
            backend,
            server,
            database,
            task,
        })
    }

    /// The snapshot for `pg_dump --snapshot`.
    pub(crate) fn snapshot(&self) -> &str {
        &self.snapshot
    }

    /// Waits for the counts, then ends the transaction (call once pg_dump has ended).
    pub(crate) async fn finish(self) -> Option<Vec<TableRows>> {
        let (session, counted) = match self.task.await {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(error = %e, "row counting stopped");
                return None;
            }
        };
        let (server, database, backend) = (self.server, self.database, self.backend);
        let _ = tokio::task::spawn_blocking(move || {
            session.close();
            wait_for_backend_exit(&server, &database, backend);
        })
        .await;
        match counted {
            Ok(tables) => Some(tables),
            Err(e) => {
                tracing::warn!(error = %e, "the backup records no row counts");
                None
            }
        }
    }
}

/// Waits (up to 5 s) until the session's server process is gone, so the backup leaves no
/// session behind on its database (a restore right after it would find one and refuse).
/// Asked through the maintenance database, whose own sessions do not count on this one.
/// Best effort: a server that cannot be asked is not waited for.
fn wait_for_backend_exit(server: &Server, database: &DbTarget, backend: u32) {
    if backend == 0 {
        return;
    }
    let via = crate::pg::maintenance_target(database);
    let sql = format!("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid = {backend}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        match server.sql(&via).query_value(&sql, "snapshot session") {
            Ok(n) if n != "0" => std::thread::sleep(std::time::Duration::from_millis(20)),
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_names_of_any_shape() {
        let schema = hex::encode("public");
        let table = hex::encode("we,ird\n\"name\"");
        let row = parse_count_row(&[&schema, &table, "42"]).unwrap();
        assert_eq!(row.table, "we,ird\n\"name\"");
        assert_eq!(row.rows, 42);
        assert!(parse_count_row(&["zz", &table, "1"]).is_none());
        assert!(parse_count_row(&[&schema, &table]).is_none());
        assert!(parse_count_row(&[&schema, &table, "x"]).is_none());
    }
}
