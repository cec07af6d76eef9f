//! The lexer's words and symbols: identifiers and keywords (with psql's `BEGIN ... END`
//! counting), `.` and `:` (psql variables), and dollar-quote tags and bodies.

use super::*;

impl Lexer {
    pub(super) fn scan_dot(&mut self, eof: bool) -> Short {
        match self.byte(1) {
            None if !eof => Short::NeedMore,
            Some(b'.') => {
                self.emit_token(Token::Op("..".into()), 2);
                Short::Done(2)
            }
            Some(b'0'..=b'9') => match scan_number(&self.buf[self.pos..], eof) {
                Short::NeedMore => Short::NeedMore,
                Short::Done(len) => {
                    self.emit_token(Token::Number, len);
                    Short::Done(len)
                }
            },
            _ => {
                self.emit_token(Token::Punct(b'.'), 1);
                Short::Done(1)
            }
        }
    }

    /// `::`, `:=`, psql's variable references, or a lone `:`.
    pub(super) fn scan_colon(&mut self, eof: bool) -> bool {
        let rest = &self.buf[self.pos..];
        let Some(&second) = rest.get(1) else {
            if !eof {
                return false;
            }
            self.emit_token(Token::Punct(b':'), 1);
            return true;
        };
        match second {
            b':' => self.emit_token(Token::Op("::".into()), 2),
            b'=' => self.emit_token(Token::Op(":=".into()), 2),
            b if is_variable_char(b) => {
                let len = 1 + rest[1..]
                    .iter()
                    .take_while(|&&b| is_variable_char(b))
                    .count();
                if len == rest.len() && !eof {
                    return false;
                }
                let name = String::from_utf8_lossy(&rest[1..len]).into_owned();
                self.pending
                    .push_back(Event::PsqlVariable { at: self.pos, name });
                self.pos += len;
                self.token_start = self.pos;
            }
            b'\'' | b'"' | b'{' => {
                // `:'name'`, `:"name"`, `:{?name}`; psql's fallback rules give back all but
                // the colon when they do not match completely.
                let (open, close) = match second {
                    b'\'' => (2, b'\''),
                    b'"' => (2, b'"'),
                    _ => (3, b'}'),
                };
                if second == b'{' && rest.get(2).is_none() && !eof {
                    return false;
                }
                if second == b'{' && rest.get(2) != Some(&b'?') {
                    self.emit_token(Token::Punct(b':'), 1);
                    return true;
                }
                let name_len = rest.get(open..).map_or(0, |r| {
                    r.iter().take_while(|&&b| is_variable_char(b)).count()
                });
                match rest.get(open + name_len) {
                    None if !eof => return false,
                    Some(&b) if b == close && name_len > 0 => {
                        let name =
                            String::from_utf8_lossy(&rest[open..open + name_len]).into_owned();
                        self.pending
                            .push_back(Event::PsqlVariable { at: self.pos, name });
                        self.pos += open + name_len + 1;
                        self.token_start = self.pos;
                    }
                    _ => self.emit_token(Token::Punct(b':'), 1),
                }
            }
            _ => self.emit_token(Token::Punct(b':'), 1),
        }
        true
    }

    pub(super) fn scan_word(&mut self, eof: bool) -> bool {
        let rest = &self.buf[self.pos..];
        let first = rest[0];
        // String prefixes: B'', X'', N'', E'', U&'' and U&"".
        let second = rest.get(1).copied();
        if second.is_none() && !eof {
            return false;
        }
        if second == Some(b'\'') {
            let kind = match first.to_ascii_lowercase() {
                b'b' => Some(StrKind::Bit),
                b'x' => Some(StrKind::Hex),
                b'n' => Some(StrKind::National),
                b'e' => Some(StrKind::Escape),
                _ => None,
            };
            if let Some(kind) = kind {
                self.pos += 2;
                self.start_quoted(kind);
                return true;
            }
        }
        if matches!(first, b'u' | b'U') && second == Some(b'&') {
            match rest.get(2) {
                None if !eof => return false,
                Some(b'\'') => {
                    self.pos += 3;
                    self.start_quoted(StrKind::Unicode);
                    return true;
                }
                Some(b'"') => {
                    self.pos += 3;
                    self.state = State::QuotedIdent;
                    return true;
                }
                // psql's `xufailed`: the `u` alone, not counted as an identifier.
                _ => {
                    self.emit_token(Token::Word((first as char).to_ascii_lowercase().into()), 1);
                    return true;
                }
            }
        }
        let len = rest.iter().take_while(|&&b| is_ident_cont(b)).count();
        if len == rest.len() && !eof {
            return false;
        }
        let word: String =
            String::from_utf8_lossy(&rest[..len.min(WORD_KEEP)]).to_ascii_lowercase();
        let begins = self.count_identifier(&word);
        self.emit_token(Token::Word(word), len);
        if let Some(nested) = begins {
            self.pending.push_back(Event::BlockBegin { nested });
        }
        true
    }

    /// psql's `BEGIN ... END` heuristic for `CREATE [OR REPLACE] FUNCTION|PROCEDURE`
    /// (psqlscan.l's identifier rule); returns `Some(nested)` when `word` opened a block.
    pub(super) fn count_identifier(&mut self, word: &str) -> Option<bool> {
        if self.identifier_count == 0 {
            self.identifiers = [0; 4];
        }
        if matches!(word, "create" | "function" | "procedure" | "or" | "replace") {
            if let Some(slot) = self.identifiers.get_mut(self.identifier_count as usize) {
                *slot = word.as_bytes()[0];
            }
        }
        self.identifier_count = self.identifier_count.saturating_add(1);
        let ids = self.identifiers;
        let routine = ids[0] == b'c'
            && (ids[1] == b'f'
                || ids[1] == b'p'
                || (ids[1] == b'o' && ids[2] == b'r' && (ids[3] == b'f' || ids[3] == b'p')));
        if !routine || self.paren_depth != 0 {
            return None;
        }
        match word {
            "begin" => {
                self.begin_depth += 1;
                Some(self.begin_depth > 1)
            }
            "case" => {
                if self.begin_depth >= 1 {
                    self.begin_depth += 1;
                }
                None
            }
            "end" => {
                self.begin_depth = self.begin_depth.saturating_sub(1);
                None
            }
            _ => None,
        }
    }

    pub(super) fn scan_dollar_start(&mut self, eof: bool) -> bool {
        let rest = &self.buf[self.pos..];
        let Some(&second) = rest.get(1) else {
            if !eof {
                return false;
            }
            self.emit_token(Token::Other(b'$'), 1);
            return true;
        };
        if second.is_ascii_digit() {
            let len = 1 + rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if len == rest.len() && !eof {
                return false;
            }
            self.emit_token(Token::Param, len);
            return true;
        }
        let tag_len = if is_ident_start(second) {
            rest[1..]
                .iter()
                .take_while(|&&b| is_dollar_tag_cont(b))
                .count()
        } else {
            0
        };
        match rest.get(1 + tag_len) {
            None if !eof => false,
            Some(b'$') => {
                let tag = &rest[1..1 + tag_len];
                if tag.iter().any(|&b| b >= 0x80) {
                    // In a client encoding such as SJIS psql reads these bytes otherwise.
                    self.pending.push_back(Event::Ambiguous {
                        at: self.pos,
                        what: "a dollar-quote tag with non-ASCII characters",
                    });
                }
                self.dollar_tag = rest[..2 + tag_len].to_vec();
                self.pos += 2 + tag_len;
                self.state = State::Dollar;
                true
            }
            // psql's `dolqfailed`: the `$` alone.
            _ => {
                self.emit_token(Token::Other(b'$'), 1);
                true
            }
        }
    }

    pub(super) fn scan_dollar(&mut self, eof: bool) -> bool {
        let tag_len = self.dollar_tag.len();
        while self.pos < self.buf.len() {
            match self.buf[self.pos..].iter().position(|&b| b == b'$') {
                None => {
                    self.pos = self.buf.len();
                    break;
                }
                Some(i) => {
                    self.pos += i;
                    let rest = &self.buf[self.pos..];
                    if rest.len() < tag_len && !eof {
                        return false;
                    }
                    if rest.starts_with(&self.dollar_tag) {
                        self.pos += tag_len;
                        self.finish_token(Token::DollarStr);
                        return true;
                    }
                    self.pos += 1;
                }
            }
        }
        if eof {
            // Unterminated: the server reports the error; nothing after it is SQL for us.
            self.finish_token(Token::DollarStr);
            return true;
        }
        false
    }
}
