//! Small SQL conversations with a server through `psql` (the same client, TLS settings and
//! authentication as the dump tools, so a profile that dumps can also query), plus quoting.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use super::{DbTarget, PgCommand, PgError};

const FIELD_SEP: char = '\u{1f}';
const RECORD_SEP: char = '\u{1e}';

/// Runs SQL against one database with psql and returns rows of text.
#[derive(Debug, Clone)]
pub struct SqlClient {
    psql: PathBuf,
    target: DbTarget,
}

impl SqlClient {
    pub fn new(psql: PathBuf, target: DbTarget) -> Self {
        SqlClient { psql, target }
    }

    pub fn target(&self) -> &DbTarget {
        &self.target
    }

    /// Runs `sql` (sent on stdin, never in argv) and returns the rows of its last statement.
    pub fn query(&self, sql: &str) -> Result<Vec<Vec<String>>, PgError> {
        let mut child = PgCommand::new(&self.psql, self.target.password())
            .arg("--no-psqlrc")
            .arg("--no-password")
            .arg("--quiet")
            .arg("--no-align")
            .arg("--tuples-only")
            .arg(format!("--field-separator={FIELD_SEP}"))
            .arg(format!("--record-separator={RECORD_SEP}"))
            .arg("--set=ON_ERROR_STOP=1")
            .arg(format!("--dbname={}", self.target.url_without_password()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdin = child.take_stdin().expect("stdin is piped");
        let mut stdout = child.take_stdout().expect("stdout is piped");
        let sql = sql.to_owned();
        // Write on another thread: a large result could otherwise block psql before it has
        // read all of our input.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(sql.as_bytes());
        });
        let mut out = String::new();
        let read = std::io::Read::read_to_string(&mut stdout, &mut out);
        let _ = writer.join();
        child.wait()?;
        read.map_err(|e| PgError::Protocol {
            query: "psql output",
            detail: e.to_string(),
        })?;
        Ok(parse_rows(&out))
    }

    /// Runs statements and ignores any rows.
    pub fn execute(&self, sql: &str) -> Result<(), PgError> {
        self.query(sql).map(|_| ())
    }

    /// The single value of a one-row, one-column query.
    pub fn query_value(&self, sql: &str, what: &'static str) -> Result<String, PgError> {
        self.query(sql)?
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .ok_or(PgError::Protocol {
                query: what,
                detail: "no row returned".into(),
            })
    }
}

fn parse_rows(out: &str) -> Vec<Vec<String>> {
    out.split(RECORD_SEP)
        .map(|record| record.trim_end_matches('\n'))
        .filter(|record| !record.is_empty())
        .map(|record| record.split(FIELD_SEP).map(str::to_owned).collect())
        .collect()
}

/// Quotes an identifier for SQL text.
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Quotes a string literal for SQL text (standard_conforming_strings is on in every
/// supported server version; `E''` is avoided so backslashes stay literal).
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_hostile_names() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn parses_separated_rows() {
        let out = format!("a{FIELD_SEP}1{RECORD_SEP}b{FIELD_SEP}{RECORD_SEP}\n");
        assert_eq!(parse_rows(&out), vec![vec!["a", "1"], vec!["b", ""]]);
        assert!(parse_rows("").is_empty());
    }
}
