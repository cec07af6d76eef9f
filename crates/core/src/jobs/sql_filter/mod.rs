//! The statement filter between a backup's SQL and psql: only what pg_dump writes may run.
//! Every statement of a restore (a plain dump, or what `pg_restore --file=-` makes of a
//! custom archive) is scanned as psql scans it (`lexer`) and judged by its kind (`rules`)
//! before psql sees it; the first statement outside pg_dump's repertoire (transaction
//! control, cluster-wide DDL, `COPY … PROGRAM`, `DO`, psql meta-commands, …) stops the
//! restore, naming its kind and line. Three things pass through specially:
//! - `COPY … FROM stdin` data lines, up to psql's end marker `\.`, as data;
//! - pg_dump's own `\restrict KEY` header line and `\unrestrict KEY` last line are dropped
//!   (the restore runs psql restricted with a key of its own, see `psql_guard`);
//! - the `BEGIN;` … `COMMIT;` pg_dump writes around large-object data are dropped, since the
//!   restore is one transaction already; only large-object calls may stand between them.
//!
//! A statement is held until it is judged (up to `HOLD_MAX`; longer ones whose kind is known
//! stream on while the rest of them is checked), so psql never holds the start of a
//! statement that turns out to be refused.

pub(crate) mod lexer;
mod rules;

use std::io::{self, Write};

use lexer::{Event, Lexer};
use rules::{Accepted, StatementCheck};

/// Bytes of one statement held back before a statement of known kind streams on.
const HOLD_MAX: usize = 8 * 1024 * 1024;
/// A statement that must be seen whole to be judged (SET, SELECT, COPY, GRANT) may not be
/// longer than this (pg_dump's longest are a few kB).
const WHOLE_MAX: usize = 64 * 1024 * 1024;

/// A statement the filter refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// e.g. "transaction control (COMMIT)".
    pub kind: String,
    /// 1-based line of the SQL where the statement starts.
    pub line: u64,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at line {}", self.kind, self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sql,
    /// The rest of a `COPY … FROM stdin;` line (psql reads the data from the next line).
    CopyLineEnd,
    /// COPY data: the length of the current line so far and its first bytes (enough to
    /// spot `\.`).
    CopyData {
        line_len: usize,
        line_start: [u8; 4],
    },
}

/// Passes a psql script to `out`, refusing what pg_dump never writes.
pub struct SqlFilter<W: Write> {
    out: W,
    lexer: Lexer,
    check: StatementCheck,
    mode: Mode,
    /// Inside pg_dump's `BEGIN;` … `COMMIT;` around large-object data.
    in_large_object_block: bool,
    /// Large-object calls in that block (pg_dump never writes an empty one).
    large_object_calls: usize,
    /// A statement other than an empty one has been seen (pg_dump's `\restrict` comes first).
    seen_statement: bool,
    /// pg_dump's closing `\unrestrict` was seen: nothing but blank lines and comments may
    /// follow.
    unrestricted: bool,
    /// Lines in the bytes already taken out of the lexer.
    lines_before: u64,
    /// Line where the statement in progress starts.
    statement_line: Option<u64>,
    refused: Option<Refused>,
}

impl<W: Write> SqlFilter<W> {
    pub fn new(out: W) -> Self {
        SqlFilter {
            out,
            lexer: Lexer::default(),
            check: StatementCheck::default(),
            mode: Mode::Sql,
            in_large_object_block: false,
            large_object_calls: 0,
            seen_statement: false,
            unrestricted: false,
            lines_before: 0,
            statement_line: None,
            refused: None,
        }
    }

    /// Why the script was refused, once it was.
    pub fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }

    /// The writer the script goes to.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Ends the script: what is left is judged like any statement (psql sends an
    /// unterminated last statement at the end of its input).
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(refused) = &self.refused {
            return Err(refusal_error(refused));
        }
        if matches!(self.mode, Mode::Sql) {
            self.process(true)?;
            let last = std::mem::take(&mut self.check);
            let accepted = last.finish().map_err(|r| self.refuse(r))?;
            if accepted != Accepted::Empty {
                // psql sends an unterminated last statement at the end of its input.
                self.accept_statement(accepted, self.lexer.settled())?;
            } else {
                let rest = self.lexer.take(self.lexer.settled());
                self.out.write_all(&rest)?;
            }
            if self.in_large_object_block {
                return Err(self.refuse_kind("a large-object block without its COMMIT"));
            }
        }
        Ok(())
    }

    fn refuse(&mut self, refusal: rules::Refusal) -> io::Error {
        self.refuse_kind(&refusal.kind)
    }

    fn refuse_kind(&mut self, kind: &str) -> io::Error {
        let line = self
            .statement_line
            .unwrap_or_else(|| self.line_at(self.lexer.settled()));
        self.refuse_at_line(kind, line)
    }

    fn refuse_at_line(&mut self, kind: &str, line: u64) -> io::Error {
        let refused = self.refused.get_or_insert(Refused {
            kind: kind.to_owned(),
            line,
        });
        refusal_error(refused)
    }

    /// 1-based line of the byte at `offset` of the lexer's buffer.
    fn line_at(&self, offset: usize) -> u64 {
        let buffer = self.lexer.buffer();
        let offset = offset.min(buffer.len());
        self.lines_before + count_newlines(&buffer[..offset]) + 1
    }

    /// Takes the first `n` bytes out of the lexer, for writing or dropping.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let taken = self.lexer.take(n);
        self.lines_before += count_newlines(&taken);
        taken
    }

    fn process(&mut self, eof: bool) -> io::Result<()> {
        while let Some(event) = self.lexer.next(eof) {
            self.on_event(event)?;
            if !matches!(self.mode, Mode::Sql) {
                // The rest of the input is COPY data: hand it over.
                let rest = self.lexer.take_unscanned();
                return self.copy_data(&rest);
            }
        }
        self.limit_held()
    }

    fn on_event(&mut self, event: Event) -> io::Result<()> {
        match event {
            Event::Token(lexed) => {
                if self.unrestricted {
                    let line = self.line_at(lexed.start);
                    return Err(
                        self.refuse_at_line("SQL after pg_dump's closing \\unrestrict", line)
                    );
                }
                if self.statement_line.is_none() {
                    self.statement_line = Some(self.line_at(lexed.start));
                }
                self.check.token(lexed.token).map_err(|r| self.refuse(r))
            }
            Event::BlockBegin { nested } => {
                self.check.block_begin(nested).map_err(|r| self.refuse(r))
            }
            Event::GroupedSemicolon { in_parens, .. } => self
                .check
                .grouped_semicolon(in_parens)
                .map_err(|r| self.refuse(r)),
            Event::StatementEnd { end } => {
                let check = std::mem::take(&mut self.check);
                let accepted = check.finish().map_err(|r| self.refuse(r))?;
                self.accept_statement(accepted, end)
            }
            Event::MetaLine {
                start,
                end,
                complete,
            } => self.meta_line(start, end, complete),
            Event::Backslash { at } => {
                let line = self.line_at(at);
                Err(self.refuse_at_line("a psql meta-command (a backslash outside quotes)", line))
            }
            Event::PsqlVariable { at, name } => {
                // psql substitutes its own variables (all upper case: DBNAME, USER, …) and
                // any `:'x'`, `:"x"` form; pg_dump writes none of them.
                let psql_style = name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
                let quoted = !self.lexer.buffer()[at + 1].is_ascii_alphanumeric()
                    && self.lexer.buffer()[at + 1] != b'_';
                if psql_style || quoted {
                    let line = self.line_at(at);
                    return Err(
                        self.refuse_at_line(&format!("a psql variable reference (:{name})"), line)
                    );
                }
                Ok(())
            }
            Event::Ambiguous { at, what } => {
                let line = self.line_at(at);
                Err(self.refuse_at_line(what, line))
            }
        }
    }

    /// A complete statement that passed: written, or dropped when it is pg_dump's
    /// large-object BEGIN/COMMIT.
    fn accept_statement(&mut self, accepted: Accepted, end: usize) -> io::Result<()> {
        let in_block = self.in_large_object_block;
        let refusal = match accepted {
            Accepted::LargeObjectBegin if in_block => {
                Some("transaction control (BEGIN inside a large-object block)")
            }
            Accepted::LargeObjectCommit if !in_block || self.large_object_calls == 0 => {
                Some("transaction control (COMMIT)")
            }
            Accepted::Sql | Accepted::CopyFromStdin if in_block => {
                Some("transaction control (a BEGIN … COMMIT block around other statements than large-object data)")
            }
            _ => None,
        };
        if let Some(kind) = refusal {
            return Err(self.refuse_kind(kind));
        }
        let statement = self.take(end);
        self.statement_line = None;
        match accepted {
            Accepted::LargeObjectBegin => {
                self.in_large_object_block = true;
                self.large_object_calls = 0;
            }
            Accepted::LargeObjectCommit => self.in_large_object_block = false,
            Accepted::LargeObjectData => {
                self.large_object_calls += 1;
                self.out.write_all(&statement)?;
            }
            _ => self.out.write_all(&statement)?,
        }
        if accepted != Accepted::Empty {
            self.seen_statement = true;
        }
        if accepted == Accepted::CopyFromStdin {
            self.mode = Mode::CopyLineEnd;
        }
        Ok(())
    }

    /// A line starting with a backslash: pg_dump's own guard lines are dropped, anything
    /// else is refused.
    fn meta_line(&mut self, start: usize, end: usize, complete: bool) -> io::Result<()> {
        let line = self.line_at(start);
        let text = self.lexer.buffer()[start..end].to_vec();
        let text = text.strip_suffix(b"\r").unwrap_or(&text);
        let fresh = self.check.is_empty() && !self.unrestricted;
        if complete && fresh && !self.seen_statement && guard_key(text, b"\\restrict ") {
            return self.drop_meta_line(start);
        }
        if complete && fresh && guard_key(text, b"\\unrestrict ") {
            self.unrestricted = true;
            return self.drop_meta_line(start);
        }
        let command: String = String::from_utf8_lossy(text)
            .split_whitespace()
            .next()
            .unwrap_or("\\")
            .chars()
            .take(20)
            .collect();
        Err(self.refuse_at_line(&format!("a psql meta-command ({command})"), line))
    }

    fn drop_meta_line(&mut self, start: usize) -> io::Result<()> {
        let settled = self.lexer.settled();
        let taken = self.take(settled);
        self.out.write_all(&taken[..start])
    }

    /// Keeps the statement held in the lexer within bounds.
    fn limit_held(&mut self) -> io::Result<()> {
        let held = self.lexer.held();
        if held <= HOLD_MAX {
            return Ok(());
        }
        if self.check.is_empty() || self.check.streamable() {
            // Comments only, or a statement of known kind whose rest is checked as it comes.
            let settled = self.lexer.settled();
            let taken = self.take(settled);
            return self.out.write_all(&taken);
        }
        if held > WHOLE_MAX {
            return Err(self.refuse_kind("a statement too long to check"));
        }
        Ok(())
    }

    /// COPY data: passed on as it comes until psql's end marker, a line that is exactly
    /// `\.` (psql's `handleCopyIn` reads lines and stops at `\.\n` or `\.\r\n`); then
    /// back to SQL. Lines are examined where they start, and written in bulk.
    fn copy_data(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match self.mode {
                Mode::Sql => {
                    self.lexer.push(bytes);
                    return self.process(false);
                }
                Mode::CopyLineEnd => {
                    let end = memchr::memchr(b'\n', bytes);
                    let part = &bytes[..end.map_or(bytes.len(), |i| i + 1)];
                    if part
                        .iter()
                        .any(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                    {
                        // psql would run it as SQL after the data: pg_dump never writes it.
                        let line = self.lines_before + 1;
                        return Err(
                            self.refuse_at_line("SQL after COPY … FROM stdin on its line", line)
                        );
                    }
                    self.out.write_all(part)?;
                    self.lines_before += count_newlines(part);
                    bytes = &bytes[part.len()..];
                    if end.is_some() {
                        self.mode = Mode::CopyData {
                            line_len: 0,
                            line_start: [0; 4],
                        };
                    }
                }
                Mode::CopyData {
                    line_len,
                    line_start,
                } => {
                    let used = self.copy_lines(bytes, line_len, line_start)?;
                    bytes = &bytes[used..];
                }
            }
        }
        Ok(())
    }

    /// Passes COPY data lines up to and including the end marker; returns the bytes used.
    fn copy_lines(
        &mut self,
        bytes: &[u8],
        mut line_len: usize,
        mut line_start: [u8; 4],
    ) -> io::Result<usize> {
        if let Some(at) = memchr::memchr(0, bytes) {
            // psql reads data lines with fgets() and strlen(): a NUL would cut them short.
            let line = self.lines_before + count_newlines(&bytes[..at]) + 1;
            return Err(self.refuse_at_line("a NUL byte, which no SQL dump contains", line));
        }
        let mut line_begin = 0;
        for newline in memchr::memchr_iter(b'\n', bytes) {
            let line = &bytes[line_begin..=newline];
            remember_line_start(&mut line_start, line_len, line);
            let len = line_len + line.len();
            let marker = (len == 3 && &line_start[..3] == b"\\.\n")
                || (len == 4 && &line_start == b"\\.\r\n");
            if marker {
                let used = newline + 1;
                self.out.write_all(&bytes[..used])?;
                self.lines_before += count_newlines(&bytes[..used]);
                self.mode = Mode::Sql;
                return Ok(used);
            }
            line_len = 0;
            line_start = [0; 4];
            line_begin = newline + 1;
        }
        let rest = &bytes[line_begin..];
        remember_line_start(&mut line_start, line_len, rest);
        self.mode = Mode::CopyData {
            line_len: line_len.saturating_add(rest.len()),
            line_start,
        };
        self.out.write_all(bytes)?;
        self.lines_before += count_newlines(bytes);
        Ok(bytes.len())
    }
}

/// Keeps the first four bytes of a line that arrives in pieces.
fn remember_line_start(line_start: &mut [u8; 4], seen: usize, piece: &[u8]) {
    for (slot, &b) in line_start.iter_mut().skip(seen).zip(piece) {
        *slot = b;
    }
}

impl<W: Write> Write for SqlFilter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(refused) = &self.refused {
            return Err(refusal_error(refused));
        }
        match self.mode {
            Mode::Sql => {
                self.lexer.push(buf);
                self.process(false)?;
            }
            _ => self.copy_data(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn refusal_error(refused: &Refused) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, refused.to_string())
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Whether `line` is exactly `COMMAND KEY` with a key of letters and digits, as pg_dump
/// writes its `\restrict` and `\unrestrict` lines.
fn guard_key(line: &[u8], command: &[u8]) -> bool {
    line.strip_prefix(command).is_some_and(|key| {
        !key.is_empty() && key.len() <= 128 && key.iter().all(u8::is_ascii_alphanumeric)
    })
}

#[cfg(test)]
mod tests;
