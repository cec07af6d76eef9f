//! Keeps a backup's SQL from running anything but SQL on this machine. A plain dump is a
//! psql script: a line such as `\! rm -rf ~` or `\connect` in it (a tampered blob, a
//! hostile server, CVE-2025-8714) would otherwise run as the admin, or step outside the
//! restore's transaction. Every restore therefore starts psql's restricted mode with a
//! random key of its own (`\restrict KEY`, psql 13.22, 14.19, 15.14, 16.10, 17.6 and
//! later), where psql refuses every backslash command; and `RestrictGuard` drops the
//! script's own `\restrict` header line and final `\unrestrict` line, which newer pg_dump
//! and pg_restore write with their own keys (psql would refuse them, since it is already
//! restricted, and they must not end our restriction).

use std::io::{self, Write};

use rand::distr::{Alphanumeric, SampleString};

use crate::error::{Error, Result};

const RESTRICT: &[u8] = b"\\restrict ";
const UNRESTRICT: &[u8] = b"\\unrestrict ";
/// Longer lines are never guard lines (pg_dump's keys have 64 characters).
const MAX_GUARD_LINE: usize = 256;

/// A fresh key for `\restrict`: 64 letters and digits, as pg_dump makes them.
pub(crate) fn restrict_key() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 64)
}

/// Refuses a psql without `\restrict`, naming the versions that have it.
pub(crate) fn require_restrict_support(psql_version: &str) -> Result<()> {
    if supports_restrict(psql_version) {
        return Ok(());
    }
    Err(Error::Unsupported(format!(
        "psql {psql_version} cannot restore safely: it lacks \\restrict, which keeps a \
         backup's SQL from running commands on this machine. Install PostgreSQL client tools \
         13.22, 14.19, 15.14, 16.10, 17.6 or newer."
    )))
}

fn supports_restrict(version: &str) -> bool {
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    match major {
        0..=12 => false,
        13 => minor >= 22,
        14 => minor >= 19,
        15 => minor >= 14,
        16 => minor >= 10,
        17 => minor >= 6,
        // 18 and later had it from their first release (betas included).
        _ => true,
    }
}

/// Where the guard is within the current line.
enum Line {
    /// At its start, or still reading the first bytes to see whether it is a guard line.
    Deciding(Vec<u8>),
    /// It starts like a guard line: kept whole until its end.
    Candidate(Vec<u8>),
    /// An ordinary line: passed through to its end.
    Passing,
}

/// Passes a psql script through, minus its own `\restrict KEY` line when that comes before
/// any statement (pg_dump's header), and its `\unrestrict KEY` line when nothing but blank
/// lines follows it (pg_dump's last line). Every other byte passes unchanged: a data line of
/// a COPY can be neither, since COPY data follows a statement and ends with `\.`.
pub(crate) struct RestrictGuard<W: Write> {
    inner: W,
    line: Line,
    /// Only comments and blank lines so far.
    in_header: bool,
    /// An `\unrestrict` line and the blank lines after it: dropped at the end, written out
    /// if anything else follows.
    held: Vec<u8>,
}

impl<W: Write> RestrictGuard<W> {
    pub(crate) fn new(inner: W) -> Self {
        RestrictGuard {
            inner,
            line: Line::Deciding(Vec::new()),
            in_header: true,
            held: Vec::new(),
        }
    }

    /// Ends the script: a last line without a newline is judged like any other; a held
    /// `\unrestrict` is dropped.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        match std::mem::replace(&mut self.line, Line::Passing) {
            Line::Deciding(bytes) | Line::Candidate(bytes) if !bytes.is_empty() => {
                self.complete_line(bytes)?
            }
            _ => {}
        }
        Ok(self.inner)
    }

    fn feed(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match &mut self.line {
                Line::Passing => {
                    let (part, ends) = up_to_newline(buf);
                    self.inner.write_all(part)?;
                    buf = &buf[part.len()..];
                    if ends {
                        self.line = Line::Deciding(Vec::new());
                    }
                }
                Line::Deciding(start) => {
                    let (part, ends) = up_to_newline(buf);
                    let wanted = UNRESTRICT.len() - start.len().min(UNRESTRICT.len());
                    let take = if ends {
                        part.len().min(wanted.max(1))
                    } else {
                        part.len().min(wanted)
                    };
                    start.extend_from_slice(&part[..take]);
                    buf = &buf[take..];
                    let start = std::mem::take(start);
                    let line_ended = start.last() == Some(&b'\n');
                    if is_guard_start(&start) {
                        if line_ended {
                            self.complete_line(start)?;
                            self.line = Line::Deciding(Vec::new());
                        } else {
                            self.line = Line::Candidate(start);
                        }
                    } else if line_ended || (!could_be_guard(&start) && start.len() >= 2) {
                        // (Two bytes at least: a comment's "--" keeps the header going.)
                        self.ordinary(&start)?;
                        self.line = if line_ended {
                            Line::Deciding(Vec::new())
                        } else {
                            Line::Passing
                        };
                    } else {
                        self.line = Line::Deciding(start);
                    }
                }
                Line::Candidate(line) => {
                    let (part, ends) = up_to_newline(buf);
                    line.extend_from_slice(part);
                    buf = &buf[part.len()..];
                    if ends {
                        let line = std::mem::take(line);
                        self.complete_line(line)?;
                        self.line = Line::Deciding(Vec::new());
                    } else if line.len() > MAX_GUARD_LINE {
                        let line = std::mem::take(line);
                        self.ordinary(&line)?;
                        self.line = Line::Passing;
                    }
                }
            }
        }
        Ok(())
    }

    /// A whole line (with its newline, unless it is the script's last).
    fn complete_line(&mut self, line: Vec<u8>) -> io::Result<()> {
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if self.in_header && guard_key(text, RESTRICT).is_some() {
            return Ok(()); // the script's own \restrict: ours is in force already
        }
        if guard_key(text, UNRESTRICT).is_some() {
            self.release_held()?;
            self.held = line;
            return Ok(());
        }
        self.ordinary(&line)
    }

    /// The start (or all) of a line that is not a guard line.
    fn ordinary(&mut self, start: &[u8]) -> io::Result<()> {
        let blank = start == b"\n";
        if !self.held.is_empty() && blank {
            self.held.push(b'\n');
            return Ok(());
        }
        self.release_held()?;
        if !(blank || start.starts_with(b"--")) {
            self.in_header = false;
        }
        self.inner.write_all(start)
    }

    /// Something followed a held `\unrestrict`: it was not the last line, so psql judges it.
    fn release_held(&mut self) -> io::Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        self.in_header = false;
        self.inner.write_all(&held)
    }
}

impl<W: Write> Write for RestrictGuard<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.feed(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn up_to_newline(buf: &[u8]) -> (&[u8], bool) {
    match buf.iter().position(|&b| b == b'\n') {
        Some(i) => (&buf[..=i], true),
        None => (buf, false),
    }
}

fn is_guard_start(start: &[u8]) -> bool {
    start.starts_with(RESTRICT) || start.starts_with(UNRESTRICT)
}

/// Whether more bytes could still make `start` a guard line's start.
fn could_be_guard(start: &[u8]) -> bool {
    RESTRICT.starts_with(start) || UNRESTRICT.starts_with(start)
}

/// The key of `\restrict KEY` / `\unrestrict KEY` (letters and digits only), if `line` is
/// exactly that.
fn guard_key<'a>(line: &'a [u8], command: &[u8]) -> Option<&'a [u8]> {
    let key = line.strip_prefix(command)?;
    let key = key.strip_suffix(b"\r").unwrap_or(key);
    (!key.is_empty() && key.iter().all(u8::is_ascii_alphanumeric)).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script through the guard, fed `chunk` bytes at a time.
    fn guarded(script: &str, chunk: usize) -> String {
        let mut guard = RestrictGuard::new(Vec::new());
        for part in script.as_bytes().chunks(chunk) {
            guard.feed(part).unwrap();
        }
        String::from_utf8(guard.finish().unwrap()).unwrap()
    }

    fn every_chunking(script: &str) -> String {
        let whole = guarded(script, script.len().max(1));
        for chunk in [1, 2, 3, 5, 7, 11, 64] {
            assert_eq!(guarded(script, chunk), whole, "chunks of {chunk}");
        }
        whole
    }

    const DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abcDEF123\n\n\
        SET x = 1;\nCOPY t (a) FROM stdin;\n1\n\\restrict notInTheHeader\n\\.\n\n\
        --\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abcDEF123\n\n";

    #[test]
    fn drops_the_dumps_own_guard_lines_and_nothing_else() {
        let out = every_chunking(DUMP);
        assert_eq!(
            out,
            "--\n-- PostgreSQL database dump\n--\n\n\nSET x = 1;\nCOPY t (a) FROM stdin;\n1\n\
             \\restrict notInTheHeader\n\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n"
        );
    }

    #[test]
    fn an_unrestrict_followed_by_more_is_kept_for_psql_to_refuse() {
        let script = "SELECT 1;\n\\unrestrict k1\n\n\\! touch /tmp/owned\n";
        assert_eq!(every_chunking(script), script);
    }

    #[test]
    fn a_restrict_after_the_first_statement_is_kept() {
        let script = "SELECT 1;\n\\restrict k2\nSELECT 2;\n";
        assert_eq!(every_chunking(script), script);
    }

    #[test]
    fn other_backslash_lines_and_long_lines_pass_unchanged() {
        let long = format!("\\restrict {}\n", "k".repeat(400));
        let script = format!("\\! echo hi\n\\connect other\n{long}\\unrestrictX y\nSELECT 1;");
        assert_eq!(every_chunking(&script), script);
    }

    #[test]
    fn a_last_line_without_newline_is_judged_too() {
        assert_eq!(every_chunking("SELECT 1;\n\\unrestrict abc"), "SELECT 1;\n");
        assert_eq!(
            every_chunking("SELECT 1;\nSELECT 2;"),
            "SELECT 1;\nSELECT 2;"
        );
        assert_eq!(every_chunking(""), "");
    }

    #[test]
    fn keys_are_letters_and_digits() {
        assert_eq!(guard_key(b"\\restrict abc9", RESTRICT), Some(&b"abc9"[..]));
        assert_eq!(
            guard_key(b"\\restrict abc9\r", RESTRICT),
            Some(&b"abc9"[..])
        );
        assert_eq!(guard_key(b"\\restrict ab c", RESTRICT), None);
        assert_eq!(guard_key(b"\\restrict ", RESTRICT), None);
        assert_eq!(guard_key(b"\\restrict abc; DROP", RESTRICT), None);
        let key = restrict_key();
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(key, restrict_key());
    }

    #[test]
    fn knows_which_psql_has_restrict() {
        for yes in [
            "13.22", "14.19", "15.14", "15.18", "16.10", "17.6", "18.0", "18beta1", "19",
        ] {
            assert!(supports_restrict(yes), "{yes}");
        }
        for no in [
            "12.22", "13.21", "14.18", "15.13", "16.9", "17.5", "", "garbage",
        ] {
            assert!(!supports_restrict(no), "{no}");
        }
        let refused = require_restrict_support("15.13").unwrap_err().to_string();
        assert!(refused.contains("15.14"), "{refused}");
    }
}
