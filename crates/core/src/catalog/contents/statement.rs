//! The few statements of a dump whose words matter to its contents: `COPY … FROM stdin`
//! (which table, which columns), pg_dump's `SELECT pg_catalog.setval('seq', N, bool)` and
//! `ALTER TABLE ONLY parent ATTACH PARTITION partition` (whose rows a partitioned table
//! holds). Tokens are kept only while a statement could still be one of them, and only so
//! many.

use crate::jobs::sql_filter::lexer::Token;

/// Tokens kept of one statement (a COPY names at most 1600 columns, with commas).
const TOKENS_KEEP: usize = 4000;
/// Tokens kept of an `ALTER`: `ALTER TABLE ONLY s . t ATTACH PARTITION s . t`.
const ALTER_KEEP: usize = 11;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A name (unquoted and lower case, or quoted and undoubled) or keyword.
    Name {
        text: String,
        quoted: bool,
    },
    Punct(u8),
    Number(String),
    Str(String),
    Other,
}

/// A statement being scanned.
#[derive(Debug, Default)]
pub(super) struct Statement {
    tokens: Vec<Tok>,
    /// Not one of the statements read here: tokens are no longer kept.
    ignored: bool,
}

/// What a statement says about the dump's contents.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum StatementKind {
    CopyFromStdin {
        table: (String, String),
        columns: Vec<String>,
    },
    SetSequence {
        sequence: (String, String),
        value: i64,
    },
    AttachPartition {
        parent: (String, String),
        partition: (String, String),
    },
    Other,
}

impl Statement {
    pub fn token(&mut self, token: &Token, text: &[u8]) {
        if self.ignored {
            return;
        }
        let tok = match token {
            Token::Word(word) => Tok::Name {
                text: word.clone(),
                quoted: false,
            },
            Token::QuotedIdent => Tok::Name {
                text: unquote_ident(text),
                quoted: true,
            },
            Token::Punct(b) => Tok::Punct(*b),
            Token::Number => Tok::Number(String::from_utf8_lossy(text).into_owned()),
            Token::Str { text: Some(t), .. } => Tok::Str(String::from_utf8_lossy(t).into_owned()),
            Token::Op(op) if op == "-" => Tok::Punct(b'-'),
            _ => Tok::Other,
        };
        if self.tokens.is_empty() {
            let first = match &tok {
                Tok::Name {
                    text,
                    quoted: false,
                } => text.as_str(),
                _ => "",
            };
            if first != "copy" && first != "select" && first != "alter" {
                self.ignored = true;
                return;
            }
        }
        if self.tokens.len() >= ALTER_KEEP && keyword(self.tokens.first(), "alter") {
            // The rest of an ALTER (a partition's bounds) does not matter here.
            return;
        }
        if self.tokens.len() >= TOKENS_KEEP {
            self.ignored = true;
            self.tokens.clear();
            return;
        }
        self.tokens.push(tok);
    }

    pub fn kind(&self) -> StatementKind {
        if self.ignored {
            return StatementKind::Other;
        }
        copy_from_stdin(&self.tokens)
            .or_else(|| set_sequence(&self.tokens))
            .or_else(|| attach_partition(&self.tokens))
            .unwrap_or(StatementKind::Other)
    }
}

fn keyword(tok: Option<&Tok>, word: &str) -> bool {
    matches!(tok, Some(Tok::Name { text, quoted: false }) if text == word)
}

fn name(tok: Option<&Tok>) -> Option<String> {
    match tok {
        Some(Tok::Name { text, .. }) => Some(text.clone()),
        _ => None,
    }
}

/// `COPY schema.table (a, b) FROM stdin`
fn copy_from_stdin(t: &[Tok]) -> Option<StatementKind> {
    let n = t.len();
    if n < 6 || !keyword(t.first(), "copy") {
        return None;
    }
    if !keyword(t.get(n - 2), "from") || !keyword(t.get(n - 1), "stdin") {
        return None;
    }
    let schema = name(t.get(1))?;
    if t.get(2) != Some(&Tok::Punct(b'.')) {
        return None;
    }
    let table = name(t.get(3))?;
    let mut columns = Vec::new();
    if t.get(4) == Some(&Tok::Punct(b'(')) {
        let mut i = 5;
        loop {
            columns.push(name(t.get(i))?);
            match t.get(i + 1) {
                Some(Tok::Punct(b',')) => i += 2,
                Some(Tok::Punct(b')')) => break,
                _ => return None,
            }
        }
    }
    Some(StatementKind::CopyFromStdin {
        table: (schema, table),
        columns,
    })
}

/// `SELECT pg_catalog.setval('schema.seq', 42, true)`
fn set_sequence(t: &[Tok]) -> Option<StatementKind> {
    let setval = [
        keyword(t.first(), "select"),
        keyword(t.get(1), "pg_catalog"),
        t.get(2) == Some(&Tok::Punct(b'.')),
        keyword(t.get(3), "setval"),
        t.get(4) == Some(&Tok::Punct(b'(')),
    ];
    if setval.contains(&false) {
        return None;
    }
    let Some(Tok::Str(regclass)) = t.get(5) else {
        return None;
    };
    let (negative, at) = match t.get(7) {
        Some(Tok::Punct(b'-')) => (true, 8),
        _ => (false, 7),
    };
    let Some(Tok::Number(digits)) = t.get(at) else {
        return None;
    };
    let value: i64 = digits.parse().ok()?;
    Some(StatementKind::SetSequence {
        sequence: split_qualified(regclass)?,
        value: if negative { -value } else { value },
    })
}

/// `ALTER TABLE ONLY schema.parent ATTACH PARTITION schema.partition …`, as pg_dump writes
/// it (names always schema-qualified).
fn attach_partition(t: &[Tok]) -> Option<StatementKind> {
    let only = usize::from(keyword(t.get(2), "only"));
    let at = |i: usize| t.get(i + only);
    let shape = [
        keyword(t.first(), "alter"),
        keyword(t.get(1), "table"),
        at(3) == Some(&Tok::Punct(b'.')),
        keyword(at(5), "attach"),
        keyword(at(6), "partition"),
        at(8) == Some(&Tok::Punct(b'.')),
    ];
    if shape.contains(&false) {
        return None;
    }
    Some(StatementKind::AttachPartition {
        parent: (name(at(2))?, name(at(4))?),
        partition: (name(at(7))?, name(at(9))?),
    })
}

/// `"My Schema".seq` → (`My Schema`, `seq`), as regclass text names a sequence.
pub(super) fn split_qualified(text: &str) -> Option<(String, String)> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            c if quoted => current.push(c),
            c => current.push(c.to_ascii_lowercase()),
        }
    }
    parts.push(current);
    match parts.as_slice() {
        [schema, name] => Some((schema.clone(), name.clone())),
        [name] => Some(("public".into(), name.clone())),
        _ => None,
    }
}

/// `"a""b"` → `a"b`.
fn unquote_ident(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(&text);
    inner.replace("\"\"", "\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_regclass_text() {
        assert_eq!(
            split_qualified("public.tenants_id_seq"),
            Some(("public".into(), "tenants_id_seq".into()))
        );
        assert_eq!(
            split_qualified("\"Mixed Case\".\"se.q\"\"x\""),
            Some(("Mixed Case".into(), "se.q\"x".into()))
        );
        assert_eq!(split_qualified("a.b.c"), None);
    }
}
