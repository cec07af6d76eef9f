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

mod quoted;
mod words;

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
mod tests;
