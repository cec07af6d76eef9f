//! Which statements a restore lets through: the kinds pg_dump writes and nothing else. A
//! statement is judged token by token as it streams past (`StatementCheck`), so even a huge
//! one needs no more memory than its first words; anything outside the list is refused with
//! the name of its kind. The rules are written from pg_dump's own output (plain, custom via
//! pg_restore, `--clean --if-exists`, `--inserts`, large objects), not from a list of what is
//! dangerous: what is not known to be pg_dump's is refused.

use super::lexer::{StrKind, Token};

mod allowlist;
mod whole;

use allowlist::*;

/// Why a statement may not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// What kind of statement it is, e.g. "transaction control (COMMIT)".
    pub kind: String,
}

impl Refusal {
    fn new(kind: impl Into<String>) -> Self {
        Refusal { kind: kind.into() }
    }
}

/// What an accepted statement is, for the filter's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accepted {
    /// Only whitespace and comments, or a lone `;`.
    Empty,
    /// `COPY … FROM stdin`: data lines follow.
    CopyFromStdin,
    /// pg_dump's `BEGIN;` before large-object data (outside a single-transaction restore).
    LargeObjectBegin,
    /// pg_dump's `COMMIT;` after large-object data.
    LargeObjectCommit,
    /// `SELECT pg_catalog.lo_open/lowrite/lo_close(…)`: large-object data.
    LargeObjectData,
    /// Any other statement pg_dump writes.
    Sql,
}

/// Statements that need their whole text to be judged are kept up to this many tokens.
const WHOLE_TOKENS_MAX: usize = 16_384;
/// The words that decide most kinds.
const HEAD_WORDS: usize = 6;

/// How the rest of a statement is checked once its first words are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Not decided yet: keep collecting.
    Undecided,
    /// Anything may follow (e.g. the body of a CREATE TABLE).
    Free,
    /// CREATE TABLE: nothing of `CREATE TABLE … AS` (a query run at restore time).
    TableDefinition,
    /// INSERT: names up to VALUES, then only literal rows.
    InsertHead,
    InsertValues,
    /// Judged when complete (SET, SELECT, COPY, GRANT, …).
    Whole,
}

/// One statement as it streams past.
#[derive(Debug)]
pub(crate) struct StatementCheck {
    /// All tokens while the kind needs them; the first few otherwise.
    tokens: Vec<Token>,
    /// Tokens seen in all.
    count: usize,
    depth: u32,
    tail: Tail,
    /// The first words, for the kind's name.
    words: Vec<String>,
    /// psql counted a `begin`: the next token must be ATOMIC.
    expect_atomic: bool,
    atomic_body: bool,
    /// INSERT: the previous token was a `-` (a negative number must follow).
    after_minus: bool,
    /// INSERT: ON CONFLICT DO NOTHING, as `--on-conflict-do-nothing` writes it.
    conflict_words: usize,
}

impl Default for StatementCheck {
    fn default() -> Self {
        StatementCheck {
            tokens: Vec::new(),
            count: 0,
            depth: 0,
            tail: Tail::Undecided,
            words: Vec::new(),
            expect_atomic: false,
            atomic_body: false,
            after_minus: false,
            conflict_words: 0,
        }
    }
}

fn word(token: &Token) -> Option<&str> {
    match token {
        Token::Word(w) => Some(w),
        _ => None,
    }
}

fn is_literal(token: &Token) -> bool {
    matches!(token, Token::Str { .. } | Token::Number | Token::DollarStr)
        || matches!(word(token), Some("true" | "false" | "null"))
}

impl StatementCheck {
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether everything said so far may be handed on before the statement ends (the kind
    /// is known and the rest is checked as it comes).
    pub(crate) fn streamable(&self) -> bool {
        !matches!(self.tail, Tail::Undecided | Tail::Whole)
    }

    fn name(&self) -> String {
        self.words
            .iter()
            .take(3)
            .map(|w| w.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn refuse(&self, category: &str) -> Refusal {
        let name = self.name();
        if name.is_empty() {
            Refusal::new(category)
        } else {
            Refusal::new(format!("{category} ({name})"))
        }
    }

    pub(crate) fn token(&mut self, token: Token) -> Result<(), Refusal> {
        self.count += 1;
        if self.expect_atomic {
            self.expect_atomic = false;
            if word(&token) != Some("atomic") {
                return Err(self.refuse("a BEGIN that psql would read as a block but is none"));
            }
            self.atomic_body = true;
        }
        match &token {
            Token::Punct(b'(') => self.depth += 1,
            Token::Punct(b')') => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        if self.words.len() < HEAD_WORDS && self.words.len() == self.count - 1 {
            if let Some(w) = word(&token) {
                self.words.push(w.to_owned());
            }
        }
        match self.tail {
            Tail::Undecided => {
                self.tokens.push(token);
                self.decide_head()?;
                if self.streamable() {
                    // Tokens already seen went through the head's own checks.
                    self.tokens.truncate(HEAD_WORDS);
                }
                Ok(())
            }
            Tail::Whole => {
                if self.tokens.len() >= WHOLE_TOKENS_MAX {
                    return Err(self.refuse("a statement too long to check"));
                }
                self.tokens.push(token);
                Ok(())
            }
            Tail::Free => Ok(()),
            Tail::TableDefinition => {
                if self.depth == 0 && word(&token) == Some("as") {
                    return Err(Refusal::new(
                        "CREATE TABLE … AS (a query run by the restore)",
                    ));
                }
                Ok(())
            }
            Tail::InsertHead => self.insert_head(&token),
            Tail::InsertValues => self.insert_values(&token),
        }
    }

    /// psql counted a `begin` toward a `BEGIN … END` block.
    pub(crate) fn block_begin(&mut self, nested: bool) -> Result<(), Refusal> {
        if nested {
            return Err(self.refuse("a nested BEGIN in a function body"));
        }
        self.expect_atomic = true;
        Ok(())
    }

    /// A `;` psql does not send at: psql would send what follows in the same message.
    pub(crate) fn grouped_semicolon(&mut self, in_parens: bool) -> Result<(), Refusal> {
        let words: Vec<&str> = self.words.iter().map(String::as_str).collect();
        let rule = matches!(words.as_slice(), ["create", "rule", ..])
            || matches!(words.as_slice(), ["create", "or", "replace", "rule", ..]);
        if in_parens && rule {
            return Ok(());
        }
        if !in_parens && self.atomic_body {
            return Ok(());
        }
        Err(self.refuse("several statements that psql would send as one"))
    }

    /// The statement is complete.
    pub(crate) fn finish(mut self) -> Result<Accepted, Refusal> {
        if self.expect_atomic {
            return Err(self.refuse("a BEGIN that psql would read as a block but is none"));
        }
        if self.count == 0 {
            return Ok(Accepted::Empty);
        }
        if self.tail == Tail::Undecided {
            // Short statements: decide with what there is.
            self.tail = Tail::Whole;
        }
        match self.tail {
            Tail::Whole => self.judge_whole(),
            Tail::InsertHead => Err(self.refuse("an INSERT without VALUES")),
            Tail::InsertValues if self.after_minus || !matches!(self.conflict_words, 0 | 4) => {
                Err(self.refuse("an INSERT of something other than literal rows"))
            }
            _ => Ok(Accepted::Sql),
        }
    }

    /// Decides the kind from the first words, when they suffice.
    fn decide_head(&mut self) -> Result<(), Refusal> {
        let Some(first) = self.tokens.first().and_then(word).map(str::to_owned) else {
            return Err(Refusal::new(
                "something that is not a statement pg_dump writes",
            ));
        };
        let w = |i: usize| self.tokens.get(i).and_then(word);
        let known = self.tokens.len();
        match first.as_str() {
            "begin" | "start" | "commit" | "end" | "rollback" | "abort" | "savepoint"
            | "release" => {
                // BEGIN; and COMMIT; alone are judged whole (pg_dump's large-object blocks).
                if matches!(first.as_str(), "begin" | "commit") && known == 1 {
                    return Ok(());
                }
                Err(self.refuse("transaction control"))
            }
            "prepare" => Err(self.refuse("PREPARE (transaction control or a prepared query)")),
            "set" | "reset" | "select" | "copy" | "grant" | "revoke" => {
                self.tail = Tail::Whole;
                Ok(())
            }
            "insert" => {
                self.tail = Tail::InsertHead;
                Ok(())
            }
            "refresh" => match w(1) {
                None => Ok(()),
                Some("materialized") => {
                    self.tail = Tail::Free;
                    Ok(())
                }
                Some(_) => Err(self.refuse("a statement pg_dump does not write")),
            },
            "comment" | "security" => self.decide_label(),
            "create" => self.decide_create(),
            "alter" => self.decide_alter(),
            "drop" => self.decide_drop(),
            "do" => Err(self.refuse("a DO block")),
            "call" => Err(self.refuse("CALL")),
            "load" => Err(self.refuse("LOAD (a server-side library)")),
            _ => Err(self.refuse("a statement pg_dump does not write")),
        }
    }

    /// COMMENT ON / SECURITY LABEL [FOR p] ON: not on cluster-wide objects.
    fn decide_label(&mut self) -> Result<(), Refusal> {
        let on = self.tokens.iter().position(|t| word(t) == Some("on"));
        let Some(on) = on else {
            return if self.tokens.len() > 4 {
                Err(self.refuse("a statement pg_dump does not write"))
            } else {
                Ok(())
            };
        };
        match self.tokens.get(on + 1).and_then(word) {
            None => Ok(()),
            Some(object) if CLUSTER_OBJECTS.contains(&object) => {
                Err(self.refuse("a comment or label on a cluster-wide object"))
            }
            Some(_) => {
                self.tail = Tail::Free;
                Ok(())
            }
        }
    }

    fn decide_create(&mut self) -> Result<(), Refusal> {
        let words: Vec<Option<&str>> = self.tokens.iter().map(word).collect();
        let mut i = 1;
        while let Some(Some(w)) = words.get(i) {
            if !CREATE_MODIFIERS.contains(w) {
                break;
            }
            i += 1;
        }
        let Some(object) = words.get(i) else {
            return Ok(()); // more words needed
        };
        let Some(object) = *object else {
            return Err(self.refuse("a statement pg_dump does not write"));
        };
        if CLUSTER_OBJECTS.contains(&object) {
            return Err(self.refuse(&format!("{object} DDL")));
        }
        if object == "user" {
            return match words.get(i + 1) {
                None => Ok(()),
                Some(Some("mapping")) => {
                    self.tail = Tail::Free;
                    Ok(())
                }
                Some(_) => Err(self.refuse("role DDL")),
            };
        }
        if !CREATABLE.contains(&object) {
            return Err(self.refuse("a statement pg_dump does not write"));
        }
        self.tail = match object {
            "table" => Tail::TableDefinition,
            // Must say `connect = false`, as pg_dump writes it: judged whole.
            "subscription" => Tail::Whole,
            _ => Tail::Free,
        };
        Ok(())
    }

    fn decide_alter(&mut self) -> Result<(), Refusal> {
        let Some(object) = self.tokens.get(1) else {
            return Ok(());
        };
        let Some(object) = word(object) else {
            return Err(self.refuse("a statement pg_dump does not write"));
        };
        match object {
            "system" => Err(Refusal::new("ALTER SYSTEM")),
            o if CLUSTER_OBJECTS.contains(&o) => Err(self.refuse(&format!("{o} DDL"))),
            "user" => match self.tokens.get(2) {
                None => Ok(()),
                Some(t) if word(t) == Some("mapping") => {
                    self.tail = Tail::Free;
                    Ok(())
                }
                Some(_) => Err(self.refuse("role DDL")),
            },
            // pg_dump only changes a subscription's owner.
            "subscription" => {
                self.tail = Tail::Whole;
                Ok(())
            }
            o if ALTERABLE.contains(&o) => {
                self.tail = Tail::Free;
                Ok(())
            }
            _ => Err(self.refuse("a statement pg_dump does not write")),
        }
    }

    fn decide_drop(&mut self) -> Result<(), Refusal> {
        let Some(object) = self.tokens.get(1) else {
            return Ok(());
        };
        let Some(object) = word(object) else {
            return Err(self.refuse("a statement pg_dump does not write"));
        };
        match object {
            o if CLUSTER_OBJECTS.contains(&o) => Err(self.refuse(&format!("{o} DDL"))),
            "owned" => Err(self.refuse("DROP OWNED")),
            "user" => match self.tokens.get(2) {
                None => Ok(()),
                Some(t) if word(t) == Some("mapping") => {
                    self.tail = Tail::Free;
                    Ok(())
                }
                Some(_) => Err(self.refuse("role DDL")),
            },
            o if CREATABLE.contains(&o) => {
                self.tail = Tail::Free;
                Ok(())
            }
            _ => Err(self.refuse("a statement pg_dump does not write")),
        }
    }

    /// `INSERT INTO name [(columns)] [OVERRIDING … VALUE] VALUES`
    fn insert_head(&mut self, token: &Token) -> Result<(), Refusal> {
        match token {
            Token::Word(w) if w == "values" && self.depth == 0 => {
                self.tail = Tail::InsertValues;
                Ok(())
            }
            Token::Word(w)
                if !matches!(
                    w.as_str(),
                    "select" | "with" | "table" | "default" | "returning" | "on"
                ) =>
            {
                Ok(())
            }
            Token::QuotedIdent | Token::Punct(b'.' | b',' | b'(' | b')') => Ok(()),
            _ => Err(self.refuse("an INSERT of something other than literal rows")),
        }
    }

    /// `(literal, …), (…)` and optionally `ON CONFLICT DO NOTHING`.
    fn insert_values(&mut self, token: &Token) -> Result<(), Refusal> {
        let refusal = self.refuse("an INSERT of something other than literal rows");
        let refuse = || refusal.clone();
        if self.conflict_words > 0 {
            const TAIL: [&str; 4] = ["on", "conflict", "do", "nothing"];
            if self.conflict_words < 4 && word(token) == Some(TAIL[self.conflict_words]) {
                self.conflict_words += 1;
                return Ok(());
            }
            return Err(refuse());
        }
        if self.after_minus {
            self.after_minus = false;
            return if matches!(token, Token::Number) {
                Ok(())
            } else {
                Err(refuse())
            };
        }
        match token {
            Token::Punct(b'(' | b')' | b',') => Ok(()),
            Token::Op(op) if op == "-" => {
                self.after_minus = true;
                Ok(())
            }
            Token::Word(w) if w == "default" => Ok(()),
            Token::Word(w) if w == "on" && self.depth == 0 => {
                self.conflict_words = 1;
                Ok(())
            }
            t if is_literal(t) && !matches!(t, Token::DollarStr) => Ok(()),
            _ => Err(refuse()),
        }
    }
}

#[cfg(test)]
mod tests;
