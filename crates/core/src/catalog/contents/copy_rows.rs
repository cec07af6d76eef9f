//! The rows of one `COPY … FROM stdin` block of a dump, counted as they stream by: data
//! lines up to psql's end marker (a line that is exactly `\.`), their bytes, and, when the
//! table has the tenant column, each row's value of it. A line may arrive in pieces; only a
//! few bytes of it are kept.

use std::collections::HashMap;

/// The longest tenant value kept (a uuid is 36 bytes).
const VALUE_KEEP: usize = 256;

/// Row counts per tenant value, for a bounded number of distinct values.
#[derive(Debug, Default)]
pub(super) struct TenantTally {
    pub counts: HashMap<String, u64>,
    /// More distinct values were seen than are kept.
    pub truncated: bool,
}

/// Distinct tenant values kept; a backup with more tenants lists these and says so.
pub(super) const MAX_TENANTS: usize = 10_000;

impl TenantTally {
    fn add(&mut self, value: String) {
        if let Some(count) = self.counts.get_mut(&value) {
            *count += 1;
        } else if self.counts.len() < MAX_TENANTS {
            self.counts.insert(value, 1);
        } else {
            self.truncated = true;
        }
    }
}

/// One COPY block being read.
#[derive(Debug)]
pub(super) struct CopyBlock {
    pub rows: u64,
    pub bytes: u64,
    /// The tenant column's position among the block's columns.
    tenant_field: Option<usize>,
    line_len: usize,
    line_start: [u8; 4],
    field: usize,
    value: Vec<u8>,
}

impl CopyBlock {
    pub fn new(tenant_field: Option<usize>) -> Self {
        CopyBlock {
            rows: 0,
            bytes: 0,
            tenant_field,
            line_len: 0,
            line_start: [0; 4],
            field: 0,
            value: Vec::new(),
        }
    }

    /// Reads data; `Some(used)` once the end marker was read (`used` bytes include it),
    /// `None` when all of `bytes` were data.
    pub fn feed(&mut self, bytes: &[u8], tenants: &mut TenantTally) -> Option<usize> {
        let mut begin = 0;
        for newline in memchr::memchr_iter(b'\n', bytes) {
            self.segment(&bytes[begin..newline]);
            begin = newline + 1;
            if self.end_line(tenants) {
                return Some(begin);
            }
        }
        self.segment(&bytes[begin..]);
        None
    }

    fn segment(&mut self, piece: &[u8]) {
        for (slot, &b) in self.line_start.iter_mut().skip(self.line_len).zip(piece) {
            *slot = b;
        }
        self.line_len += piece.len();
        let Some(wanted) = self.tenant_field else {
            return;
        };
        let mut rest = piece;
        while self.field <= wanted {
            let tab = memchr::memchr(b'\t', rest);
            if self.field == wanted {
                let part = &rest[..tab.unwrap_or(rest.len())];
                let room = VALUE_KEEP.saturating_sub(self.value.len());
                self.value.extend_from_slice(&part[..part.len().min(room)]);
            }
            match tab {
                Some(i) => {
                    self.field += 1;
                    rest = &rest[i + 1..];
                }
                None => break,
            }
        }
    }

    /// A line ended: the end marker (true), or a row.
    fn end_line(&mut self, tenants: &mut TenantTally) -> bool {
        let marker = (self.line_len == 2 && &self.line_start[..2] == b"\\.")
            || (self.line_len == 3 && &self.line_start[..3] == b"\\.\r");
        if !marker {
            self.rows += 1;
            self.bytes += self.line_len as u64 + 1;
            if self.tenant_field.is_some() && self.field >= self.tenant_field.unwrap_or(0) {
                let raw = std::mem::take(&mut self.value);
                if raw != b"\\N" {
                    tenants.add(unescape(&raw));
                }
            }
        }
        self.line_len = 0;
        self.line_start = [0; 4];
        self.field = 0;
        self.value.clear();
        marker
    }
}

/// A value of COPY's text format as text (`\\`, `\t`, `\n`, … and octal escapes undone).
pub(super) fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' || i + 1 == raw.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let next = raw[i + 1];
        i += 2;
        match next {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut value = u32::from(next - b'0');
                let mut digits = 1;
                while digits < 3 && i < raw.len() && (b'0'..=b'7').contains(&raw[i]) {
                    value = value * 8 + u32::from(raw[i] - b'0');
                    i += 1;
                    digits += 1;
                }
                out.push(value as u8);
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(block: &mut CopyBlock, input: &[u8], piece: usize) -> (usize, TenantTally) {
        let mut tally = TenantTally::default();
        let mut offset = 0;
        for chunk in input.chunks(piece) {
            if let Some(used) = block.feed(chunk, &mut tally) {
                return (offset + used, tally);
            }
            offset += chunk.len();
        }
        panic!("no end marker");
    }

    #[test]
    fn counts_rows_bytes_and_tenants_in_any_pieces() {
        let data = b"1\tA\tx\n2\tB\t\\.\n3\tA\ty\\tz\n4\t\\N\tq\n\\.\nCOPY next";
        for piece in [1, 2, 3, 7, 100] {
            let mut block = CopyBlock::new(Some(1));
            let (used, tally) = read_all(&mut block, data, piece);
            assert_eq!(&data[used..], b"COPY next", "piece {piece}");
            assert_eq!(block.rows, 4);
            assert_eq!(block.bytes, (data.len() - b"\\.\nCOPY next".len()) as u64);
            assert_eq!(tally.counts.get("A"), Some(&2));
            assert_eq!(tally.counts.get("B"), Some(&1));
            assert_eq!(tally.counts.len(), 2, "NULL is no tenant");
        }
    }

    #[test]
    fn only_an_exact_marker_line_ends_the_block() {
        let mut block = CopyBlock::new(None);
        let (used, _) = read_all(&mut block, b"\\.x\n \\.\n\\.\r\nrest", 4);
        assert_eq!(block.rows, 2);
        assert_eq!(used, 12);
    }

    #[test]
    fn unescapes_copy_text() {
        assert_eq!(unescape(b"a\\\\b\\tc\\101\\n"), "a\\b\tcA\n");
        assert_eq!(unescape(b"plain"), "plain");
    }

    #[test]
    fn distinct_tenants_are_bounded() {
        let mut tally = TenantTally::default();
        for i in 0..MAX_TENANTS + 5 {
            tally.add(i.to_string());
        }
        tally.add("0".into());
        assert_eq!(tally.counts.len(), MAX_TENANTS);
        assert!(tally.truncated);
        assert_eq!(tally.counts["0"], 2);
    }
}
