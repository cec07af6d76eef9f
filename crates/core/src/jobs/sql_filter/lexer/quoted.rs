//! The lexer's quoted text and comments: `--` and nested `/* */` comments, strings of every
//! kind (standard, `E''`, `B''`, `X''`, `N''`, `U&''`) with psql's continuation across
//! newlines, and quoted identifiers.

use super::*;

impl Lexer {
    pub(super) fn scan_line_comment(&mut self) -> bool {
        let rest = &self.buf[self.pos..];
        match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) => {
                self.pos += i;
                self.state = State::Start;
                self.token_start = self.pos;
                true
            }
            None => {
                self.pos = self.buf.len();
                false
            }
        }
    }

    pub(super) fn scan_block_comment(&mut self, mut depth: u32, eof: bool) -> bool {
        while self.pos < self.buf.len() {
            let b = self.buf[self.pos];
            if b == 0 {
                self.pending.push_back(Event::Ambiguous {
                    at: self.pos,
                    what: "a NUL byte, which no SQL dump contains",
                });
            }
            if b != b'/' && b != b'*' {
                self.pos += 1;
                continue;
            }
            let Some(next) = self.byte(1) else {
                if eof {
                    self.pos += 1;
                    continue;
                }
                self.state = State::BlockComment { depth };
                return !self.pending.is_empty();
            };
            if b == b'/' && next == b'*' {
                depth += 1;
                self.pos += 2;
            } else if b == b'*' && next == b'/' {
                self.pos += 2;
                if depth == 0 {
                    self.state = State::Start;
                    self.token_start = self.pos;
                    return true;
                }
                depth -= 1;
            } else {
                self.pos += 1;
            }
        }
        self.state = State::BlockComment { depth };
        !self.pending.is_empty()
    }

    pub(super) fn start_quoted(&mut self, kind: StrKind) {
        self.text = (kind == StrKind::Standard).then(Vec::new);
        self.state = State::Quoted {
            kind,
            backslashes: 0,
            after_high: false,
            escaped: false,
        };
    }

    pub(super) fn keep_text(&mut self, b: u8) {
        if let Some(text) = &mut self.text {
            if text.len() < TEXT_KEEP {
                text.push(b);
            } else {
                self.text = None;
            }
        }
    }

    pub(super) fn scan_quoted(
        &mut self,
        kind: StrKind,
        mut backslashes: usize,
        mut after_high: bool,
        mut escaped: bool,
        eof: bool,
    ) -> bool {
        let opaque = matches!(kind, StrKind::Bit | StrKind::Hex);
        // Strings whose end depends on standard_conforming_strings (psql's `xq`, which is
        // `xe` when the setting is off).
        let mode_dependent = matches!(kind, StrKind::Standard | StrKind::National);
        // Strings in which a backslash matters, so an SJIS-like encoding changes the reading.
        let backslash_matters = mode_dependent || kind == StrKind::Escape;
        while self.pos < self.buf.len() {
            let b = self.buf[self.pos];
            if b == 0 {
                self.pending.push_back(Event::Ambiguous {
                    at: self.pos,
                    what: "a NUL byte, which no SQL dump contains",
                });
            }
            if kind == StrKind::Escape && escaped {
                escaped = false;
                backslashes = 0;
                after_high = b >= 0x80;
                self.pos += 1;
                continue;
            }
            if b == b'\\' && !opaque {
                if after_high && backslash_matters {
                    // A second byte of SJIS, BIG5, GBK, UHC or GB18030 can be 0x5C: in such a
                    // client encoding psql would not see this backslash.
                    self.pending.push_back(Event::Ambiguous {
                        at: self.pos,
                        what: "a backslash right after a non-ASCII byte in a string literal",
                    });
                }
                if kind == StrKind::Escape {
                    escaped = true;
                }
                backslashes += 1;
                after_high = false;
                self.keep_text(b);
                self.pos += 1;
                continue;
            }
            if b == b'\'' {
                let next = self.byte(1);
                if next.is_none() && !eof {
                    self.state = State::Quoted {
                        kind,
                        backslashes,
                        after_high,
                        escaped,
                    };
                    return !self.pending.is_empty();
                }
                if backslashes % 2 == 1 && mode_dependent {
                    // With standard_conforming_strings off (a function can turn it off) psql
                    // and the server would read this quote as escaped.
                    self.pending.push_back(Event::Ambiguous {
                        at: self.pos,
                        what: "a string literal with a backslash before a quote",
                    });
                }
                let Some(next) = next else {
                    self.pos += 1;
                    self.close_quoted(kind, eof);
                    return true;
                };
                if next == b'\'' && !opaque {
                    self.keep_text(b'\'');
                    self.pos += 2;
                    backslashes = 0;
                    after_high = false;
                    continue;
                }
                self.pos += 1;
                self.close_quoted(kind, eof);
                return true;
            }
            backslashes = 0;
            after_high = b >= 0x80;
            self.keep_text(b);
            self.pos += 1;
        }
        if eof {
            // Unterminated: the server reports it; it is the end of the script anyway.
            self.close_quoted(kind, true);
            return true;
        }
        self.state = State::Quoted {
            kind,
            backslashes,
            after_high,
            escaped,
        };
        !self.pending.is_empty()
    }

    pub(super) fn close_quoted(&mut self, kind: StrKind, eof: bool) {
        self.state = State::QuoteStop {
            kind,
            close: self.pos,
            newline: false,
            in_comment: false,
        };
        if eof && self.pos >= self.buf.len() {
            self.end_string(kind, self.pos);
        }
    }

    pub(super) fn end_string(&mut self, kind: StrKind, close: usize) {
        let text = self.text.take();
        self.pos = close;
        self.finish_token(Token::Str { kind, text });
    }

    /// psql's `xqs`: after a closing quote, whitespace with a newline and another quote
    /// continue the same literal.
    pub(super) fn scan_quote_stop(
        &mut self,
        kind: StrKind,
        close: usize,
        mut newline: bool,
        mut in_comment: bool,
        eof: bool,
    ) -> bool {
        while self.pos < self.buf.len() {
            let b = self.buf[self.pos];
            if in_comment {
                if b == b'\n' || b == b'\r' {
                    in_comment = false;
                } else {
                    self.pos += 1;
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => newline = true,
                b' ' | b'\t' | 0x0c => {}
                b'-' => match self.byte(1) {
                    None if !eof => {
                        self.state = State::QuoteStop {
                            kind,
                            close,
                            newline,
                            in_comment,
                        };
                        return false;
                    }
                    Some(b'-') => {
                        in_comment = true;
                        self.pos += 2;
                        continue;
                    }
                    _ => {
                        self.end_string(kind, close);
                        return true;
                    }
                },
                b'\'' if newline => {
                    self.pos += 1;
                    // The continuation's text is not kept (pg_dump never writes one).
                    self.text = None;
                    self.state = State::Quoted {
                        kind,
                        backslashes: 0,
                        after_high: false,
                        escaped: false,
                    };
                    return true;
                }
                _ => {
                    self.end_string(kind, close);
                    return true;
                }
            }
            self.pos += 1;
        }
        if eof {
            self.end_string(kind, close);
            return true;
        }
        self.state = State::QuoteStop {
            kind,
            close,
            newline,
            in_comment,
        };
        false
    }

    pub(super) fn scan_quoted_ident(&mut self, eof: bool) -> bool {
        while self.pos < self.buf.len() {
            match self.buf[self.pos..]
                .iter()
                .position(|&b| b == b'"' || b == 0)
            {
                None => {
                    self.pos = self.buf.len();
                    break;
                }
                Some(i) => {
                    self.pos += i;
                    if self.buf[self.pos] == 0 {
                        self.pending.push_back(Event::Ambiguous {
                            at: self.pos,
                            what: "a NUL byte, which no SQL dump contains",
                        });
                        self.pos += 1;
                        continue;
                    }
                    match self.byte(1) {
                        None if !eof => return !self.pending.is_empty(),
                        Some(b'"') => self.pos += 2,
                        _ => {
                            self.pos += 1;
                            self.finish_token(Token::QuotedIdent);
                            return true;
                        }
                    }
                }
            }
        }
        if eof {
            self.finish_token(Token::QuotedIdent);
            return true;
        }
        !self.pending.is_empty()
    }
}
