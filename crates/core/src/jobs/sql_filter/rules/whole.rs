//! Statements judged on their whole text once complete: `SET`, `SELECT` of pg_dump's
//! functions, `COPY`, `GRANT`/`REVOKE`, with the token helpers they share.

use super::*;

impl StatementCheck {
    pub(super) fn judge_whole(&self) -> Result<Accepted, Refusal> {
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

    pub(super) fn judge_set(&self) -> Result<(), Refusal> {
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

    pub(super) fn judge_select(&self) -> Result<Accepted, Refusal> {
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
    pub(super) fn judge_copy(&self) -> Result<Accepted, Refusal> {
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
    pub(super) fn judge_grant(&self) -> Result<(), Refusal> {
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
