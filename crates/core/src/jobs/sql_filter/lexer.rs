//! A scanner of psql scripts that finds the very units psql sends to the server. It follows
//! psql's own lexer (`psqlscan.l`) rule by rule where statement boundaries depend on it:
//! quotes, `E''` escapes, dollar quotes, nested comments, string continuation across
//! newlines, parenthesis depth, and psql's `BEGIN ... END` heuristic for SQL-standard
//! function bodies. Where psql's reading could depend on state a script can change behind
//! our back (`standard_conforming_strings`, a client encoding whose second bytes can be a
//! backslash), it reports the spot as ambiguous instead of guessing.
//!
//! The scanner holds the bytes of the statement in progress; the filter takes them out
//! (`take`) when it has decided about them.

use std::collections::VecDeque;

/// Longest word kept for keyword matching (PostgreSQL's NAMEDATALEN - 1).
const WORD_KEEP: usize = 63;
/// Longest string literal whose text is kept (parameter values, function arguments).
const TEXT_KEEP: usize = 256;
/// A backslash line longer than this is never one of pg_dump's `\restrict KEY` lines.
const META_LINE_KEEP: usize = 256;

/// The kinds of quoted string literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrKind {
    /// `'...'` (standard_conforming_strings on: backslashes are plain characters).
    Standard,
    /// `E'...'`: backslash escapes.
    Escape,
    /// `B'...'`
    Bit,
    /// `X'...'`
    Hex,
    /// `N'...'`
    National,
    /// `U&'...'`
    Unicode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// An unquoted identifier or keyword, ASCII-lowercased (its first 63 bytes).
    Word(String),
    /// `"..."` or `U&"..."`.
    QuotedIdent,
    /// A string literal, with its text (quotes undoubled) when it is a short standard one.
    Str {
        kind: StrKind,
        text: Option<Vec<u8>>,
    },
    /// `$tag$ ... $tag$`
    DollarStr,
    Number,
    /// `$1`
    Param,
    /// One of `( ) , . [ ] :` (a `;` is an event of its own).
    Punct(u8),
    /// An operator, or `::`, `..`, `:=`.
    Op(String),
    /// A character that is no token of SQL (`{`, `}`, a lone `$`, a control character).
    Other(u8),
}

/// A token and where it lies in the scanner's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lexed {
    pub token: Token,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Token(Lexed),
    /// psql would count the `begin` word just reported as opening a `BEGIN ... END` block;
    /// `nested` when one was open already.
    BlockBegin {
        nested: bool,
    },
    /// A `;` at which psql does *not* send: inside parentheses, or inside a `BEGIN ... END`.
    GroupedSemicolon {
        at: usize,
        in_parens: bool,
    },
    /// The `;` at which psql sends the statement; the statement's bytes end at `end`.
    StatementEnd {
        end: usize,
    },
    /// A line that starts with a backslash (a psql meta-command), without its line end;
    /// `complete` is false when it was too long to keep whole.
    MetaLine {
        start: usize,
        end: usize,
        complete: bool,
    },
    /// A backslash that does not start a line (psql reads a meta-command, `\;` or `\:`).
    Backslash {
        at: usize,
    },
    /// `:name`, `:'name'`, `:"name"` or `:{?name}`: psql substitutes its variables there.
    PsqlVariable {
        at: usize,
        name: String,
    },
    /// Something psql and the server could read otherwise than we do.
    Ambiguous {
        at: usize,
        what: &'static str,
    },
}

/// What the scanner was in the middle of when its input ran out.
#[derive(Debug, Clone)]
enum State {
    /// Between tokens.
    Start,
    LineComment,
    BlockComment {
        depth: u32,
    },
    Quoted {
        kind: StrKind,
        /// Backslashes right before the scan position.
        backslashes: usize,
        /// The byte before the scan position was >= 0x80.
        after_high: bool,
        /// `Escape` only: the byte at the scan position is escaped.
        escaped: bool,
    },
    /// After a string's closing quote, looking for a continuation (newline, then a quote).
    QuoteStop {
        kind: StrKind,
        /// Just past the closing quote: where the literal ends if it does not continue.
        close: usize,
        newline: bool,
        in_comment: bool,
    },
    QuotedIdent,
    Dollar,
    MetaLine,
}

#[derive(Debug)]
pub(crate) struct Lexer {
    buf: Vec<u8>,
    /// Next byte to scan.
    pos: usize,
    /// Start of the token in progress (or `pos` between tokens).
    token_start: usize,
    state: State,
    /// The text of the string literal in progress, while short.
    text: Option<Vec<u8>>,
    dollar_tag: Vec<u8>,
    pending: VecDeque<Event>,
    /// The last byte taken out of the buffer (a newline at the start of the script).
    taken_last: u8,
    // psql's own state (psqlscan.l), mirrored.
    paren_depth: u32,
    begin_depth: u32,
    identifier_count: u32,
    identifiers: [u8; 4],
}

impl Default for Lexer {
    fn default() -> Self {
        Lexer {
            buf: Vec::new(),
            pos: 0,
            token_start: 0,
            state: State::Start,
            text: None,
            dollar_tag: Vec::new(),
            pending: VecDeque::new(),
            taken_last: b'\n',
            paren_depth: 0,
            begin_depth: 0,
            identifier_count: 0,
            identifiers: [0; 4],
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

fn is_dollar_tag_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

fn is_variable_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

fn is_op_char(b: u8) -> bool {
    matches!(
        b,
        b'~' | b'!'
            | b'@'
            | b'#'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'<'
            | b'>'
            | b'='
    )
}

/// The result of scanning one short token from the current position.
enum Short {
    /// Its length in bytes.
    Done(usize),
    /// The buffer ends before the token is known to end.
    NeedMore,
}

impl Lexer {
    /// Appends input to scan.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes held: the statement in progress plus what is not scanned yet.
    pub(crate) fn held(&self) -> usize {
        self.buf.len()
    }

    /// Where the token in progress starts (everything before it is scanned and reported).
    pub(crate) fn settled(&self) -> usize {
        if self.pending.is_empty() {
            self.token_start
        } else {
            0
        }
    }

    /// Removes the first `n` bytes (a statement decided on, or its settled part).
    pub(crate) fn take(&mut self, n: usize) -> Vec<u8> {
        debug_assert!(n <= self.token_start && self.pending.is_empty());
        let taken: Vec<u8> = self.buf.drain(..n).collect();
        if let Some(&last) = taken.last() {
            self.taken_last = last;
        }
        self.pos -= n;
        self.token_start -= n;
        if let State::QuoteStop { close, .. } = &mut self.state {
            *close -= n;
        }
        taken
    }

    /// Hands the unscanned rest of the input back (for COPY data, which is not SQL), and
    /// forgets the statement state.
    pub(crate) fn take_unscanned(&mut self) -> Vec<u8> {
        debug_assert!(matches!(self.state, State::Start) && self.pending.is_empty());
        let rest = self.buf.split_off(self.pos);
        if let Some(&last) = self.buf.last() {
            self.taken_last = last;
        }
        self.buf.clear();
        self.pos = 0;
        self.token_start = 0;
        rest
    }

    /// The next event; `None` when the input scanned so far is used up (`eof`: there is no
    /// more to come, so tokens at the very end are complete).
    pub(crate) fn next(&mut self, eof: bool) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if !self.step(eof) {
                return self.pending.pop_front();
            }
        }
    }

    /// Scans a little; false when nothing more can be scanned now.
    fn step(&mut self, eof: bool) -> bool {
        match self.state.clone() {
            State::Start => self.scan_start(eof),
            State::LineComment => self.scan_line_comment(),
            State::BlockComment { depth } => self.scan_block_comment(depth, eof),
            State::Quoted {
                kind,
                backslashes,
                after_high,
                escaped,
            } => self.scan_quoted(kind, backslashes, after_high, escaped, eof),
            State::QuoteStop {
                kind,
                close,
                newline,
                in_comment,
            } => self.scan_quote_stop(kind, close, newline, in_comment, eof),
            State::QuotedIdent => self.scan_quoted_ident(eof),
            State::Dollar => self.scan_dollar(eof),
            State::MetaLine => self.scan_meta_line(eof),
        }
    }

    fn emit_token(&mut self, token: Token, len: usize) {
        let start = self.pos;
        self.pos += len;
        self.token_start = self.pos;
        self.pending.push_back(Event::Token(Lexed {
            token,
            start,
            end: self.pos,
        }));
    }

    fn byte(&self, offset: usize) -> Option<u8> {
        self.buf.get(self.pos + offset).copied()
    }

    fn scan_start(&mut self, eof: bool) -> bool {
        // Whitespace is skipped in bulk.
        while self.pos < self.buf.len() && is_space(self.buf[self.pos]) {
            self.pos += 1;
        }
        self.token_start = self.pos;
        let Some(b) = self.byte(0) else {
            return false;
        };
        let next = self.byte(1);
        let need_next = next.is_none() && !eof;
        match b {
            0 => {
                self.pending.push_back(Event::Ambiguous {
                    at: self.pos,
                    what: "a NUL byte, which no SQL dump contains",
                });
                self.pos += 1;
                self.token_start = self.pos;
            }
            b'-' | b'/' if need_next => return false,
            b'-' if next == Some(b'-') => {
                self.pos += 2;
                self.state = State::LineComment;
            }
            b'/' if next == Some(b'*') => {
                self.pos += 2;
                self.state = State::BlockComment { depth: 0 };
            }
            b'(' => {
                self.paren_depth += 1;
                self.emit_token(Token::Punct(b), 1);
            }
            b')' => {
                self.paren_depth = self.paren_depth.saturating_sub(1);
                self.emit_token(Token::Punct(b), 1);
            }
            b';' => {
                let at = self.pos;
                self.pos += 1;
                self.token_start = self.pos;
                if self.paren_depth == 0 && self.begin_depth == 0 {
                    self.identifier_count = 0;
                    self.pending
                        .push_back(Event::StatementEnd { end: self.pos });
                } else {
                    self.pending.push_back(Event::GroupedSemicolon {
                        at,
                        in_parens: self.paren_depth > 0,
                    });
                }
            }
            b',' | b'[' | b']' => self.emit_token(Token::Punct(b), 1),
            b'.' => match self.scan_dot(eof) {
                Short::NeedMore => return false,
                Short::Done(_) => {}
            },
            b':' => return self.scan_colon(eof),
            b'\\' => {
                let before = match self.pos {
                    0 => self.taken_last,
                    pos => self.buf[pos - 1],
                };
                let at_line_start = before == b'\n';
                if at_line_start && self.starts_statement() {
                    self.state = State::MetaLine;
                } else {
                    self.pending.push_back(Event::Backslash { at: self.pos });
                    self.pos += 1;
                    self.token_start = self.pos;
                }
            }
            b'\'' => {
                self.pos += 1;
                self.start_quoted(StrKind::Standard);
            }
            b'"' => {
                self.pos += 1;
                self.state = State::QuotedIdent;
            }
            b'$' => return self.scan_dollar_start(eof),
            b'0'..=b'9' => match scan_number(&self.buf[self.pos..], eof) {
                Short::NeedMore => return false,
                Short::Done(len) => self.emit_token(Token::Number, len),
            },
            b if is_ident_start(b) => return self.scan_word(eof),
            b if is_op_char(b) => match scan_operator(&self.buf[self.pos..], eof) {
                Short::NeedMore => return false,
                Short::Done(len) => {
                    let text = String::from_utf8_lossy(&self.buf[self.pos..self.pos + len]);
                    let text = text.into_owned();
                    self.emit_token(Token::Op(text), len);
                }
            },
            other => self.emit_token(Token::Other(other), 1),
        }
        true
    }

    /// Whether no token of the current statement has been reported yet.
    fn starts_statement(&self) -> bool {
        self.buf[..self.pos].iter().all(|&b| is_space(b)) || self.only_comments_before()
    }

    fn only_comments_before(&self) -> bool {
        // Conservative: only `--` comment lines and blank lines (pg_dump's header).
        self.buf[..self.pos].split(|&b| b == b'\n').all(|line| {
            let line = line.trim_ascii_start();
            line.is_empty() || line.starts_with(b"--")
        })
    }

    fn scan_dot(&mut self, eof: bool) -> Short {
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
    fn scan_colon(&mut self, eof: bool) -> bool {
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

    fn scan_word(&mut self, eof: bool) -> bool {
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
    fn count_identifier(&mut self, word: &str) -> Option<bool> {
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

    fn scan_dollar_start(&mut self, eof: bool) -> bool {
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

    fn scan_dollar(&mut self, eof: bool) -> bool {
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

    fn finish_token(&mut self, token: Token) {
        let start = self.token_start;
        self.token_start = self.pos;
        self.state = State::Start;
        self.pending.push_back(Event::Token(Lexed {
            token,
            start,
            end: self.pos,
        }));
    }

    fn scan_line_comment(&mut self) -> bool {
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

    fn scan_block_comment(&mut self, mut depth: u32, eof: bool) -> bool {
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

    fn start_quoted(&mut self, kind: StrKind) {
        self.text = (kind == StrKind::Standard).then(Vec::new);
        self.state = State::Quoted {
            kind,
            backslashes: 0,
            after_high: false,
            escaped: false,
        };
    }

    fn keep_text(&mut self, b: u8) {
        if let Some(text) = &mut self.text {
            if text.len() < TEXT_KEEP {
                text.push(b);
            } else {
                self.text = None;
            }
        }
    }

    fn scan_quoted(
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

    fn close_quoted(&mut self, kind: StrKind, eof: bool) {
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

    fn end_string(&mut self, kind: StrKind, close: usize) {
        let text = self.text.take();
        self.pos = close;
        self.finish_token(Token::Str { kind, text });
    }

    /// psql's `xqs`: after a closing quote, whitespace with a newline and another quote
    /// continue the same literal.
    fn scan_quote_stop(
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

    fn scan_quoted_ident(&mut self, eof: bool) -> bool {
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

    fn scan_meta_line(&mut self, eof: bool) -> bool {
        let start = self.token_start;
        let rest = &self.buf[start..];
        let newline = rest.iter().position(|&b| b == b'\n');
        let line_len = match newline {
            Some(i) => i,
            None if eof => rest.len(),
            None if rest.len() > META_LINE_KEEP => rest.len(),
            None => {
                self.pos = self.buf.len();
                return false;
            }
        };
        let complete = line_len <= META_LINE_KEEP && (newline.is_some() || eof);
        let end = start + line_len;
        // The line end is consumed with the line (psql reads meta-commands to the line end).
        self.pos = end + usize::from(newline.is_some());
        self.token_start = self.pos;
        self.state = State::Start;
        self.pending.push_back(Event::MetaLine {
            start,
            end,
            complete,
        });
        true
    }
}

/// `{integer}`, `{decimal}` or `{real}` at the start of `rest`, with psql's fallbacks.
fn scan_number(rest: &[u8], eof: bool) -> Short {
    let digits = |from: usize| {
        rest[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut len = digits(0);
    let at = |i: usize| rest.get(i).copied();
    if at(len).is_none() && !eof {
        return Short::NeedMore;
    }
    if at(len) == Some(b'.') {
        match at(len + 1) {
            None if !eof => return Short::NeedMore,
            // `1..10`: the integer alone (decimalfail).
            Some(b'.') => return Short::Done(len),
            _ => {
                len += 1;
                len += digits(len);
                if at(len).is_none() && !eof {
                    return Short::NeedMore;
                }
            }
        }
    }
    if matches!(at(len), Some(b'e' | b'E')) {
        let mut exp = len + 1;
        if matches!(at(exp), Some(b'+' | b'-')) {
            exp += 1;
        }
        match at(exp) {
            None if !eof => return Short::NeedMore,
            Some(b'0'..=b'9') => {
                len = exp + digits(exp);
                if at(len).is_none() && !eof {
                    return Short::NeedMore;
                }
            }
            // realfail: the exponent marker is not part of the number.
            _ => {}
        }
    }
    Short::Done(len)
}

/// `{operator}` at the start of `rest`: the longest run of operator characters, cut before
/// a comment start, without trailing `+`/`-` unless it holds a non-SQL operator character.
fn scan_operator(rest: &[u8], eof: bool) -> Short {
    let mut len = rest.iter().take_while(|&&b| is_op_char(b)).count();
    if len == rest.len() && !eof {
        return Short::NeedMore;
    }
    let run = &rest[..len];
    let comment = run
        .windows(2)
        .position(|w| w == b"/*" || w == b"--")
        .unwrap_or(len);
    len = comment.max(1).min(len);
    if len > 1 && matches!(run[len - 1], b'+' | b'-') {
        let qualifies = run[..len - 1].iter().any(|b| {
            matches!(
                b,
                b'~' | b'!' | b'@' | b'#' | b'^' | b'&' | b'|' | b'`' | b'?' | b'%'
            )
        });
        if !qualifies {
            while len > 1 && matches!(run[len - 1], b'+' | b'-') {
                len -= 1;
            }
        }
    }
    Short::Done(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event of `script` fed `chunk` bytes at a time, with token texts instead of
    /// offsets (offsets change when input arrives in pieces).
    fn events(script: &str, chunk: usize) -> Vec<String> {
        let mut lexer = Lexer::default();
        let mut out = Vec::new();
        let mut base = 0usize;
        let bytes = script.as_bytes();
        let mut fed = 0;
        let mut collect = |lexer: &mut Lexer, eof: bool, out: &mut Vec<String>| {
            while let Some(event) = lexer.next(eof) {
                let line = match &event {
                    Event::Token(lexed) => format!(
                        "{:?} {}",
                        lexed.token,
                        String::from_utf8_lossy(&lexer.buffer()[lexed.start..lexed.end])
                    ),
                    Event::StatementEnd { end } => {
                        let taken = lexer.take(*end);
                        base += taken.len();
                        format!("END {}", String::from_utf8_lossy(&taken).trim())
                    }
                    Event::MetaLine { start, end, .. } => format!(
                        "META {}",
                        String::from_utf8_lossy(&lexer.buffer()[*start..*end])
                    ),
                    other => format!("{other:?}")
                        .split_once(" {")
                        .map_or_else(|| format!("{other:?}"), |(k, _)| k.to_owned()),
                };
                out.push(line);
            }
        };
        while fed < bytes.len() {
            let n = chunk.min(bytes.len() - fed);
            lexer.push(&bytes[fed..fed + n]);
            fed += n;
            collect(&mut lexer, false, &mut out);
        }
        collect(&mut lexer, true, &mut out);
        out
    }

    fn same_in_every_chunking(script: &str) -> Vec<String> {
        let whole = events(script, script.len().max(1));
        for chunk in [1, 2, 3, 5, 8, 13] {
            assert_eq!(
                events(script, chunk),
                whole,
                "chunks of {chunk}: {script:?}"
            );
        }
        whole
    }

    fn ends(script: &str) -> Vec<String> {
        same_in_every_chunking(script)
            .into_iter()
            .filter_map(|e| e.strip_prefix("END ").map(str::to_owned))
            .collect()
    }

    #[test]
    fn statements_end_at_semicolons_outside_quotes_and_comments() {
        let script = "SELECT 'a;b' ; SELECT \"x;y\";\n-- c; d\nSELECT /* e; /* f; */ g; */ 1;\n\
                      SELECT $$h;$$, $q$ $$; $q$; SELECT E'i\\';j';";
        assert_eq!(
            ends(script),
            vec![
                "SELECT 'a;b' ;",
                "SELECT \"x;y\";",
                "-- c; d\nSELECT /* e; /* f; */ g; */ 1;",
                "SELECT $$h;$$, $q$ $$; $q$;",
                "SELECT E'i\\';j';",
            ]
        );
    }

    #[test]
    fn parentheses_and_function_bodies_group_semicolons_as_psql_does() {
        let script = "CREATE RULE r AS ON INSERT TO t DO INSTEAD (SELECT 1; SELECT 2);\n\
             CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true \
             THEN 1 END; SELECT 2; END;\nSELECT 3;";
        let events = same_in_every_chunking(script);
        assert_eq!(
            events
                .iter()
                .filter(|e| e.starts_with("GroupedSemicolon"))
                .count(),
            3
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| e.starts_with("BlockBegin"))
                .count(),
            1
        );
        assert_eq!(ends(script).len(), 3);
        // psql counts `begin` after CREATE FUNCTION however it is meant.
        let tricky = "CREATE FUNCTION begin() RETURNS int AS 'x'; COMMIT; END;";
        assert_eq!(ends(tricky).len(), 1);
        // ... but not after other statements.
        assert_eq!(ends("SELECT begin; COMMIT; END;").len(), 3);
    }

    #[test]
    fn string_continuation_across_a_newline_is_one_literal() {
        let events = same_in_every_chunking("SELECT 'a'\n  'b;' , 'c' 'd';");
        let strings = events.iter().filter(|e| e.starts_with("Str")).count();
        assert_eq!(strings, 3, "{events:?}");
        assert_eq!(ends("SELECT 'a' -- x\n'b;';").len(), 1);
    }

    #[test]
    fn reports_what_psql_and_the_server_might_read_otherwise() {
        for (script, what) in [
            ("SELECT 'a\\';", "backslash before a quote"),
            ("SELECT '\u{e9}\\n';", "after a non-ASCII byte"),
            ("SELECT $\u{e9}$ x $\u{e9}$;", "dollar-quote tag"),
            ("SELECT 1;\0", "NUL"),
        ] {
            let events = same_in_every_chunking(script);
            assert!(
                events.iter().any(|e| e.starts_with("Ambiguous")),
                "{what}: {events:?}"
            );
        }
        // An even run of backslashes, or one not before a quote, reads the same both ways.
        let events = same_in_every_chunking("SELECT 'a\\\\', '\\x41';");
        assert!(
            !events.iter().any(|e| e.starts_with("Ambiguous")),
            "{events:?}"
        );
    }

    #[test]
    fn backslashes_and_psql_variables_are_reported() {
        let events =
            same_in_every_chunking("\\restrict abc\nSELECT 1 \\g\nSELECT :'X', :Y, 1::int;");
        assert_eq!(events[0], "META \\restrict abc");
        assert!(events.contains(&"Backslash".to_owned()), "{events:?}");
        assert_eq!(
            events
                .iter()
                .filter(|e| e.starts_with("PsqlVariable"))
                .count(),
            2
        );
        assert!(events.iter().any(|e| e.starts_with("Op(\"::\")")));
    }

    #[test]
    fn words_numbers_and_operators() {
        let events = same_in_every_chunking("SELECT -1.5e3, 1..2, a+-b, x--c\n, $1;");
        assert!(events.contains(&"Number 1.5e3".to_owned()), "{events:?}");
        assert!(events.contains(&"Op(\"..\") ..".to_owned()), "{events:?}");
        assert!(events.contains(&"Op(\"+\") +".to_owned()), "{events:?}");
        assert!(events.contains(&"Param $1".to_owned()), "{events:?}");
        assert!(!events.iter().any(|e| e.contains(" c")), "{events:?}");
    }
}
