//! Which statements a restore lets through: the kinds pg_dump writes and nothing else. A
//! statement is judged token by token as it streams past (`StatementCheck`), so even a huge
//! one needs no more memory than its first words; anything outside the list is refused with
//! the name of its kind. The rules are written from pg_dump's own output (plain, custom via
//! pg_restore, `--clean --if-exists`, `--inserts`, large objects), not from a list of what is
//! dangerous: what is not known to be pg_dump's is refused.

use super::lexer::{StrKind, Token};

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

/// Object kinds that belong to the whole cluster, not to the database being restored.
const CLUSTER_OBJECTS: &[&str] = &["database", "role", "group", "tablespace"];

/// What pg_dump creates (after `CREATE [OR REPLACE]` and modifiers).
const CREATABLE: &[&str] = &[
    "schema",
    "table",
    "foreign",
    "view",
    "materialized",
    "sequence",
    "index",
    "function",
    "procedure",
    "aggregate",
    "operator",
    "type",
    "domain",
    "extension",
    "trigger",
    "constraint",
    "event",
    "rule",
    "policy",
    "publication",
    "subscription",
    "cast",
    "collation",
    "conversion",
    "text",
    "server",
    "user",
    "language",
    "access",
    "statistics",
    "transform",
];

/// Words that may stand between CREATE and the object kind.
const CREATE_MODIFIERS: &[&str] = &[
    "or",
    "replace",
    "unique",
    "unlogged",
    "trusted",
    "procedural",
    "default",
    "recursive",
];

/// What pg_dump alters.
const ALTERABLE: &[&str] = &[
    "table",
    "sequence",
    "view",
    "materialized",
    "index",
    "foreign",
    "type",
    "domain",
    "function",
    "procedure",
    "routine",
    "aggregate",
    "operator",
    "schema",
    "extension",
    "collation",
    "conversion",
    "text",
    "event",
    "publication",
    "subscription",
    "server",
    "language",
    "large",
    "default",
    "policy",
    "rule",
    "trigger",
    "statistics",
    "user",
];

/// Parameters pg_dump sets in its header (any version since 9), and what they may be set to.
const SETTABLE: &[&str] = &[
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "transaction_timeout",
    "client_encoding",
    "standard_conforming_strings",
    "check_function_bodies",
    "xmloption",
    "client_min_messages",
    "row_security",
    "default_tablespace",
    "default_table_access_method",
    "search_path",
    "default_with_oids",
    "escape_string_warning",
];

/// Client encodings that are also server encodings, in PostgreSQL's normalised spelling
/// (lower case, no punctuation). The client-only ones (SJIS, BIG5, GBK, UHC, GB18030,
/// JOHAB) have second bytes that look like ASCII, which psql's scanner then reads otherwise.
const SAFE_ENCODINGS: &[&str] = &[
    "sqlascii",
    "utf8",
    "unicode",
    "eucjp",
    "euccn",
    "euckr",
    "euctw",
    "eucjis2004",
    "muleinternal",
    "latin1",
    "latin2",
    "latin3",
    "latin4",
    "latin5",
    "latin6",
    "latin7",
    "latin8",
    "latin9",
    "latin10",
    "iso88591",
    "iso88592",
    "iso88593",
    "iso88594",
    "iso88595",
    "iso88596",
    "iso88597",
    "iso88598",
    "iso88599",
    "iso885910",
    "iso885913",
    "iso885914",
    "iso885915",
    "iso885916",
    "koi8",
    "koi8r",
    "koi8u",
    "win866",
    "alt",
    "win874",
    "win1250",
    "win1251",
    "win1252",
    "win1253",
    "win1254",
    "win1255",
    "win1256",
    "win1257",
    "win1258",
    "windows866",
    "windows874",
    "windows1250",
    "windows1251",
    "windows1252",
    "windows1253",
    "windows1254",
    "windows1255",
    "windows1256",
    "windows1257",
    "windows1258",
    "win",
    "abc",
    "tcvn",
    "tcvn5712",
    "vscii",
];

/// Functions pg_dump calls with `SELECT pg_catalog.f(literals)`.
const DUMP_FUNCTIONS: &[&str] = &[
    "set_config",
    "setval",
    "lo_create",
    "lo_open",
    "lowrite",
    "lo_close",
];

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

    fn judge_whole(&self) -> Result<Accepted, Refusal> {
        let tokens = &self.tokens;
        let Some(first) = tokens.first().and_then(word) else {
            return Err(Refusal::new(
                "something that is not a statement pg_dump writes",
            ));
        };
        match first {
            "begin" if tokens.len() == 1 => Ok(Accepted::LargeObjectBegin),
            "commit" if tokens.len() == 1 => Ok(Accepted::LargeObjectCommit),
            "begin" | "commit" => Err(self.refuse("transaction control")),
            "set" => self.judge_set().map(|()| Accepted::Sql),
            "reset" => match words_of(tokens).as_slice() {
                ["reset", "session", "authorization"] => Ok(Accepted::Sql),
                _ => Err(self.refuse("RESET")),
            },
            "select" => self.judge_select(),
            "copy" => self.judge_copy(),
            "grant" | "revoke" => self.judge_grant().map(|()| Accepted::Sql),
            "create" if self.words.contains(&"subscription".to_owned()) => {
                // CREATE SUBSCRIPTION … WITH (connect = false, …)
                let connect_false = tokens.windows(3).any(|w| {
                    word(&w[0]) == Some("connect")
                        && matches!(&w[1], Token::Op(op) if op == "=")
                        && (word(&w[2]) == Some("false") || str_text(&w[2]) == Some(b"false"))
                });
                if connect_false {
                    Ok(Accepted::Sql)
                } else {
                    Err(self.refuse("a subscription that would connect at restore time"))
                }
            }
            "alter" if self.words.get(1).map(String::as_str) == Some("subscription") => {
                match words_of(tokens).as_slice() {
                    ["alter", "subscription", _, "owner", "to", _] => Ok(Accepted::Sql),
                    _ => Err(self.refuse("a change of a subscription other than its owner")),
                }
            }
            _ => {
                // A short statement whose kind was left open: judge its words again.
                let mut check = StatementCheck::default();
                for token in tokens.iter().cloned() {
                    check.token(token)?;
                }
                match check.tail {
                    Tail::Undecided | Tail::Whole => {
                        Err(self.refuse("a statement pg_dump does not write"))
                    }
                    _ => check.finish(),
                }
            }
        }
    }

    fn judge_set(&self) -> Result<(), Refusal> {
        let tokens = &self.tokens;
        let words = words_of(tokens);
        if let ["set", "session", "authorization", ..] = words.as_slice() {
            // pg_dump --use-set-session-authorization: a name or DEFAULT. It needs superuser
            // rights, which give no more than the restoring role has already.
            return match &tokens[3..] {
                [Token::Str { .. }] | [Token::QuotedIdent] => Ok(()),
                [t] if word(t).is_some() => Ok(()),
                _ => Err(self.refuse("SET SESSION AUTHORIZATION")),
            };
        }
        let Some(name) = tokens.get(1).and_then(word) else {
            return Err(self.refuse("SET"));
        };
        if name == "role" {
            return Err(Refusal::new("SET ROLE"));
        }
        if !SETTABLE.contains(&name) {
            return Err(Refusal::new(format!(
                "SET {} (a parameter pg_dump does not set)",
                name
            )));
        }
        let assign = matches!(tokens.get(2), Some(Token::Op(op)) if op == "=")
            || tokens.get(2).and_then(word) == Some("to");
        let values = tokens.get(3..).unwrap_or_default();
        let list_ok = !values.is_empty()
            && values.iter().enumerate().all(|(i, t)| {
                if i % 2 == 1 {
                    matches!(t, Token::Punct(b','))
                } else {
                    matches!(t, Token::Str { .. } | Token::Number | Token::Word(_))
                }
            })
            && values.len() % 2 == 1;
        if !assign || !list_ok {
            return Err(Refusal::new(format!("SET {name} to an expression")));
        }
        let value = || {
            let v = &values[0];
            str_text(v)
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .or_else(|| word(v).map(str::to_owned))
                .unwrap_or_default()
        };
        match name {
            // psql reads strings by this setting: it stays on.
            "standard_conforming_strings" if !matches!(value().as_str(), "on" | "true") => {
                Err(Refusal::new("SET standard_conforming_strings to off"))
            }
            "client_encoding" => {
                let normalised: String = value()
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                if SAFE_ENCODINGS.contains(&normalised.as_str()) {
                    Ok(())
                } else {
                    Err(Refusal::new(format!(
                        "SET client_encoding to {} (a client-only encoding psql reads \
                         differently)",
                        value()
                    )))
                }
            }
            _ => Ok(()),
        }
    }

    fn judge_select(&self) -> Result<Accepted, Refusal> {
        let tokens = &self.tokens;
        let refuse = || Refusal::new("SELECT of something other than pg_dump's function calls");
        // SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE
        // oid = 'N' (pg_dump --clean).
        let unlink = [
            "select",
            "pg_catalog",
            ".",
            "lo_unlink",
            "(",
            "oid",
            ")",
            "from",
            "pg_catalog",
            ".",
            "pg_largeobject_metadata",
            "where",
            "oid",
            "=",
        ];
        if tokens.len() == unlink.len() + 1
            && tokens.iter().zip(unlink).all(|(t, s)| token_is(t, s))
            && matches!(tokens.last(), Some(Token::Str { .. } | Token::Number))
        {
            return Ok(Accepted::Sql);
        }
        // SELECT pg_catalog.f(literal, …)
        let [select, schema, dot, function, open, args @ .., close] = tokens.as_slice() else {
            return Err(refuse());
        };
        let function = word(function).unwrap_or_default();
        if !(token_is(select, "select")
            && token_is(schema, "pg_catalog")
            && token_is(dot, ".")
            && token_is(open, "(")
            && token_is(close, ")")
            && DUMP_FUNCTIONS.contains(&function))
        {
            return Err(refuse());
        }
        let args = literal_arguments(args).ok_or_else(refuse)?;
        if function == "set_config" {
            // Only the search path: set_config('role', …) would be SET ROLE.
            let first = args.first().and_then(|t| str_text(t));
            if first != Some(b"search_path") {
                return Err(Refusal::new(
                    "SELECT set_config of a parameter other than search_path",
                ));
            }
        }
        Ok(match function {
            "lo_open" | "lowrite" | "lo_close" => Accepted::LargeObjectData,
            _ => Accepted::Sql,
        })
    }

    /// `COPY name [(columns)] FROM stdin`, nothing else (no PROGRAM, no file, no TO, no
    /// options).
    fn judge_copy(&self) -> Result<Accepted, Refusal> {
        let refuse = || Refusal::new("COPY other than COPY … FROM stdin (a file or a program)");
        let is_name = |t: &Token| matches!(t, Token::Word(_) | Token::QuotedIdent);
        let mut rest = &self.tokens[1..];
        // name or schema.name
        match rest {
            [a, Token::Punct(b'.'), b, tail @ ..] if is_name(a) && is_name(b) => rest = tail,
            [a, tail @ ..] if is_name(a) => rest = tail,
            _ => return Err(refuse()),
        }
        // (column, …)
        if let [Token::Punct(b'('), tail @ ..] = rest {
            let close = tail
                .iter()
                .position(|t| matches!(t, Token::Punct(b')')))
                .ok_or_else(refuse)?;
            let columns = &tail[..close];
            let listed = columns.iter().enumerate().all(|(i, t)| {
                if i % 2 == 0 {
                    is_name(t)
                } else {
                    matches!(t, Token::Punct(b','))
                }
            });
            if !listed || columns.len() % 2 == 0 {
                return Err(refuse());
            }
            rest = &tail[close + 1..];
        }
        match rest {
            [from, stdin] if token_is(from, "from") && token_is(stdin, "stdin") => {
                Ok(Accepted::CopyFromStdin)
            }
            _ => Err(refuse()),
        }
    }

    /// GRANT/REVOKE privileges ON an object of this database; not role membership, not
    /// cluster-wide objects.
    fn judge_grant(&self) -> Result<(), Refusal> {
        let mut depth = 0u32;
        for (i, token) in self.tokens.iter().enumerate() {
            match token {
                Token::Punct(b'(') => depth += 1,
                Token::Punct(b')') => depth = depth.saturating_sub(1),
                Token::Word(w) if depth == 0 && (w == "to" || w == "from") => break,
                Token::Word(w) if depth == 0 && w == "on" => {
                    let object = self.tokens.get(i + 1).and_then(word);
                    return match object {
                        Some(o) if CLUSTER_OBJECTS.contains(&o) || o == "parameter" => {
                            Err(self.refuse("privileges on a cluster-wide object"))
                        }
                        _ => Ok(()),
                    };
                }
                _ => {}
            }
        }
        Err(self.refuse("role membership"))
    }
}

fn words_of(tokens: &[Token]) -> Vec<&str> {
    tokens
        .iter()
        .map(|t| match t {
            Token::Word(w) => w.as_str(),
            Token::Punct(b'.') => ".",
            _ => "?",
        })
        .collect()
}

fn token_is(token: &Token, expected: &str) -> bool {
    match token {
        Token::Word(w) => w == expected,
        Token::Punct(p) => expected.len() == 1 && expected.as_bytes()[0] == *p,
        Token::Op(op) => op == expected,
        _ => false,
    }
}

fn str_text(token: &Token) -> Option<&[u8]> {
    match token {
        Token::Str {
            kind: StrKind::Standard,
            text: Some(text),
        } => Some(text),
        _ => None,
    }
}

/// Comma-separated literals (a `-` directly before a number is part of the constant: the
/// parser folds it, no operator is looked up). `None` when anything else is there.
fn literal_arguments(tokens: &[Token]) -> Option<Vec<&Token>> {
    let mut args = Vec::new();
    let mut expect_value = true;
    let mut negative = false;
    for token in tokens {
        match token {
            Token::Op(op) if op == "-" && expect_value && !negative => negative = true,
            Token::Number if expect_value => {
                args.push(token);
                expect_value = false;
                negative = false;
            }
            t if expect_value && !negative && is_literal(t) && !matches!(t, Token::DollarStr) => {
                args.push(t);
                expect_value = false;
            }
            Token::Punct(b',') if !expect_value => expect_value = true,
            _ => return None,
        }
    }
    (!expect_value || args.is_empty()).then_some(args)
}

#[cfg(test)]
mod tests {
    use super::super::lexer::{Event, Lexer};
    use super::*;

    /// Judges each statement of `script`; the kind of each refusal, or "ok".
    fn judge(script: &str) -> Vec<String> {
        let mut lexer = Lexer::default();
        lexer.push(script.as_bytes());
        let mut results = Vec::new();
        let mut check = StatementCheck::default();
        let mut failed: Option<Refusal> = None;
        while let Some(event) = lexer.next(true) {
            let step = match event {
                Event::Token(lexed) => check.token(lexed.token),
                Event::BlockBegin { nested } => check.block_begin(nested),
                Event::GroupedSemicolon { in_parens, .. } => check.grouped_semicolon(in_parens),
                Event::StatementEnd { end } => {
                    let finished = std::mem::take(&mut check).finish();
                    results.push(match (failed.take(), finished) {
                        (Some(r), _) | (None, Err(r)) => r.kind,
                        (None, Ok(_)) => "ok".into(),
                    });
                    lexer.take(end);
                    Ok(())
                }
                other => panic!("unexpected {other:?}"),
            };
            if let Err(r) = step {
                failed.get_or_insert(r);
            }
        }
        results
    }

    fn refused(statement: &str) -> String {
        let results = judge(statement);
        assert_eq!(results.len(), 1, "{statement}: {results:?}");
        assert_ne!(results[0], "ok", "{statement} was accepted");
        results[0].clone()
    }

    #[test]
    fn pg_dump_statements_pass() {
        let script = r#"
SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET default_tablespace = '';
CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA public;
COMMENT ON EXTENSION hstore IS 'data type for storing sets of (key, value) pairs';
CREATE SCHEMA billing;
ALTER SCHEMA billing OWNER TO postgres;
CREATE TYPE billing.plan AS ENUM ('free', 'pro');
CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;
CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a; SELECT CASE WHEN a > 0 THEN 1 END; END;
CREATE PROCEDURE p() LANGUAGE plpgsql AS $_$ BEGIN ROLLBACK; END $_$;
CREATE TABLE public.tenants (id bigint NOT NULL, name text DEFAULT 'x'::text, g int GENERATED ALWAYS AS (id + 1) STORED);
CREATE UNLOGGED TABLE t2 (a int);
CREATE MATERIALIZED VIEW billing.r AS SELECT 1 AS one WITH NO DATA;
CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2));
ALTER TABLE ONLY public.tenants ALTER COLUMN id SET DEFAULT nextval('public.tenants_id_seq'::regclass);
COPY public.tenants (id, name) FROM stdin;
SELECT pg_catalog.setval('public.tenants_id_seq', 5000, true);
SELECT pg_catalog.setval('public.neg_seq', -5, false);
SELECT pg_catalog.lo_create('987654');
BEGIN;
SELECT pg_catalog.lo_open('987654', 131072);
SELECT pg_catalog.lowrite(0, '\x6c61');
SELECT pg_catalog.lo_close(0);
COMMIT;
ALTER LARGE OBJECT 987654 OWNER TO postgres;
CREATE INDEX tenants_gin ON public.tenants USING gin (name);
CREATE TRIGGER t BEFORE UPDATE ON billing.invoices FOR EACH ROW EXECUTE FUNCTION billing.touch();
REFRESH MATERIALIZED VIEW billing.r;
GRANT SELECT ON TABLE public.tenants TO PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT SELECT(name) ON TABLE public.tenants TO reader;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO reader;
CREATE POLICY p ON public.tenants USING ((id > 0));
CREATE USER MAPPING FOR postgres SERVER s OPTIONS (user 'x');
CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p WITH (connect = false, slot_name = 's');
ALTER SUBSCRIPTION s OWNER TO postgres;
SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = '987654';
DROP TABLE IF EXISTS public.tenants;
ALTER TABLE IF EXISTS ONLY billing.invoices DROP CONSTRAINT IF EXISTS fk;
DROP EXTENSION IF EXISTS hstore;
INSERT INTO public.t (a, "b c") VALUES (1, 'x'), (-2, NULL), (3, E'\\'), (4, DEFAULT);
INSERT INTO public.t OVERRIDING SYSTEM VALUE VALUES (1, true) ON CONFLICT DO NOTHING;
SET SESSION AUTHORIZATION 'postgres';
RESET SESSION AUTHORIZATION;
SECURITY LABEL FOR selinux ON TABLE t IS 'x';
;
"#;
        let results = judge(script);
        let failures: Vec<_> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| *r != "ok")
            .collect();
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(results.len(), 50);
    }

    #[test]
    fn transaction_control_in_every_spelling_is_refused() {
        // A bare `COMMIT;` is pg_dump's end of a large-object block: the filter accepts it
        // only there (see the filter's tests).
        for statement in [
            "commit work;",
            "END;",
            "end transaction;",
            "ROLLBACK;",
            "ABORT;",
            "BEGIN ISOLATION LEVEL SERIALIZABLE;",
            "START TRANSACTION;",
            "SAVEPOINT a;",
            "RELEASE a;",
            "PREPARE TRANSACTION 'x';",
            "COMMIT PREPARED 'x';",
            "ROLLBACK PREPARED 'x';",
            "SET TRANSACTION READ ONLY;",
        ] {
            let kind = refused(statement);
            assert!(
                kind.contains("transaction") || kind.contains("PREPARE") || kind.contains("SET"),
                "{statement}: {kind}"
            );
        }
    }

    #[test]
    fn cluster_level_and_side_effect_statements_are_refused() {
        for (statement, expected) in [
            ("ALTER SYSTEM SET work_mem = '1GB';", "ALTER SYSTEM"),
            ("CREATE DATABASE x;", "database DDL"),
            ("DROP DATABASE x;", "database DDL"),
            ("ALTER DATABASE x SET search_path = a;", "database DDL"),
            ("CREATE ROLE x SUPERUSER;", "role DDL"),
            ("CREATE USER x;", "role DDL"),
            ("ALTER USER postgres PASSWORD 'x';", "role DDL"),
            ("ALTER ROLE x SUPERUSER;", "role DDL"),
            ("DROP ROLE x;", "role DDL"),
            ("CREATE TABLESPACE t LOCATION '/tmp';", "tablespace DDL"),
            ("GRANT pg_read_server_files TO x;", "role membership"),
            ("GRANT ALL ON DATABASE x TO y;", "cluster-wide"),
            ("COPY t FROM PROGRAM 'id';", "COPY"),
            ("COPY t TO '/tmp/x';", "COPY"),
            ("COPY (SELECT 1) TO STDOUT;", "COPY"),
            ("COPY t FROM '/etc/passwd';", "COPY"),
            ("LOAD 'x';", "LOAD"),
            ("DO $$ BEGIN END $$;", "DO"),
            ("CALL p();", "CALL"),
            ("SET ROLE postgres;", "SET ROLE"),
            (
                "SET session_replication_role = replica;",
                "SET session_replication_role",
            ),
            (
                "SET standard_conforming_strings = off;",
                "standard_conforming_strings",
            ),
            ("SET client_encoding = 'SJIS';", "client_encoding"),
            (
                "SELECT pg_catalog.set_config('role', 'x', false);",
                "set_config",
            ),
            ("SELECT pg_read_file('/etc/passwd');", "SELECT"),
            ("SELECT pg_catalog.setval('s', (SELECT 1), true);", "SELECT"),
            ("SELECT pg_catalog.setval('s', 1 + 1, true);", "SELECT"),
            ("SELECT pg_catalog.lo_export(1, '/tmp/x');", "SELECT"),
            ("INSERT INTO t SELECT * FROM pg_authid;", "INSERT"),
            ("INSERT INTO t VALUES (pg_terminate_backend(1));", "INSERT"),
            ("CREATE TABLE t AS SELECT pg_sleep(1);", "CREATE TABLE"),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p;",
                "subscription",
            ),
            ("COMMENT ON DATABASE x IS 'y';", "cluster-wide"),
            ("DROP OWNED BY x;", "DROP OWNED"),
            ("REASSIGN OWNED BY x TO y;", "pg_dump does not write"),
            ("VACUUM;", "pg_dump does not write"),
            ("TRUNCATE t;", "pg_dump does not write"),
            (
                "WITH x AS (DELETE FROM t) SELECT 1;",
                "pg_dump does not write",
            ),
            ("EXPLAIN ANALYZE SELECT 1;", "pg_dump does not write"),
            ("(SELECT 1);", "not a statement"),
        ] {
            let kind = refused(statement);
            assert!(kind.contains(expected), "{statement}: {kind}");
        }
    }

    #[test]
    fn psql_grouping_tricks_are_refused() {
        // psql would send both statements in one message after `begin` as a name.
        let kind = refused("CREATE FUNCTION begin() RETURNS int AS 'x'; COMMIT; END;");
        assert!(kind.contains("BEGIN"), "{kind}");
        let kind = refused("SELECT (1; COMMIT; SELECT 2);");
        assert!(kind.contains("several statements"), "{kind}");
    }
}
