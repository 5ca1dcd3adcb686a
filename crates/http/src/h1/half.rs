//! One direction of an HTTP/1.x connection: a message reader that turns ordered bytes and gaps
//! into heads and finished messages. It knows framing but not pairing; the connection
//! ([`super::conn`]) decides each body's framing from what it knows of the other direction.

use super::parser::{self, push_flag, Framing, Head, HeadError, Scan, StartKind};
use crate::config::HttpConfig;
use periscope_model::{Flag, Headers, Timestamp};

/// Shortest start line with its line end (`HTTP/1.1 200\r\n`, `GET / HTTP/1.1\n`).
const MIN_START_LINE: u64 = 14;

/// Longest chunk-size line (with extensions) accepted.
const MAX_CHUNK_LINE: usize = 4096;

/// A message whose head was parsed, with the body read so far.
#[derive(Debug)]
pub(crate) struct InMsg {
    pub head: Head,
    /// Time of the first byte of the head.
    pub ts: Timestamp,
    /// Time of the last byte.
    pub ts_end: Timestamp,
    /// Body bytes after de-chunking, at most `body_cap`.
    pub raw: Vec<u8>,
    /// Body length on the wire after de-chunking (including bytes lost to gaps or beyond the cap).
    pub len: u64,
    /// More bytes than `body_cap` arrived.
    pub over_cap: bool,
    /// Bytes of the body were lost to a gap.
    pub gap: bool,
    /// The message ended (gap, close, bad framing) before its framing said it would.
    pub incomplete: bool,
    pub flags: Vec<Flag>,
    pub trailers: Headers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd { seen_cr: bool },
    Trailers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting or reading a head; `buf` holds its bytes so far.
    Head,
    /// Reading a body of known length.
    Length(u64),
    /// Reading a chunked body; `buf` holds a partial size line or trailer block.
    Chunked(Chunk),
    /// Reading a body that ends with the connection.
    Close,
    /// Looking for the next message start; `buf` holds a carry for starts split across events.
    Resync,
    /// After a request asking to switch protocols: bytes wait in `buf` until the response says
    /// whether they are HTTP.
    Held,
    /// Not HTTP any more (upgrade, CONNECT tunnel): bytes are counted only.
    Tunnel,
}

/// What one call to [`Half::step`] produced.
#[derive(Debug)]
pub(crate) enum Step {
    /// All input consumed.
    NeedMore,
    /// A head was parsed; the caller must call [`Half::begin_body`].
    Head,
    /// A message ended.
    Done(Box<InMsg>),
    /// The resync scan found a message of the other role: this half's role was flipped.
    Swapped,
    /// A head could not be read and was dropped; the half is resynchronising.
    Error(ErrorKind),
    /// A head exceeded `max_header_bytes`: what fitted is ready as a message (see
    /// [`Half::head`]); the caller handles it like a parsed head, then calls
    /// [`Half::end_after_gap`], which skips the rest.
    Oversized,
}

/// Kinds of parse error, for counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Not a request or status line.
    BadStartLine,
    /// The head violated the grammar.
    Malformed,
    /// Too many header fields.
    TooManyHeaders,
    /// Head larger than `max_header_bytes`.
    HeaderTooLarge,
    /// Bad chunked framing.
    InvalidChunk,
}

/// Messages a gap swallowed beyond the one in progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Loss {
    /// None: the gap lay inside a body of known length.
    #[default]
    None,
    /// At least the start of one message (the reader was between messages or inside a
    /// head, or the gap went past a known end), maybe more.
    AtLeastOne,
    /// Unknown, maybe none (the gap went past a point whose distance to the message end was
    /// unknown).
    Maybe,
    /// The reader was already skipping bytes to find a message start: unknown, maybe none.
    DuringResync,
}

/// Result of a gap.
#[derive(Debug, Default)]
pub(crate) struct GapOutcome {
    /// The message that the gap ended.
    pub done: Option<Box<InMsg>>,
    /// What the gap may have swallowed beyond the message in progress.
    pub lost: Loss,
    /// The gap was skipped inside a body of known length.
    pub skipped: bool,
    /// The gap cut a head after its first line: what was read of it is ready as a message
    /// (see [`Half::head`]); the caller handles it like a parsed head, then calls
    /// [`Half::end_after_gap`].
    pub salvaged_head: bool,
}

/// The reader of one direction.
#[derive(Debug)]
pub(crate) struct Half {
    /// Requests or responses.
    pub role: StartKind,
    /// Whether resync may also accept a message of the other role (mid-stream pick-up, before
    /// any message was read): the reassembler may have guessed the roles wrong.
    pub detect_any: bool,
    state: State,
    buf: Vec<u8>,
    scanned: usize,
    first_line_checked: bool,
    head_ts: Option<Timestamp>,
    msg: Option<Box<InMsg>>,
    /// Bytes counted in `Tunnel` state, or dropped while `Held` overflowed.
    pub tunnel_bytes: u64,
}

impl Half {
    pub fn new(role: StartKind, at_message_start: bool) -> Self {
        Half {
            role,
            detect_any: !at_message_start,
            state: if at_message_start {
                State::Head
            } else {
                State::Resync
            },
            buf: Vec::new(),
            scanned: 0,
            first_line_checked: false,
            head_ts: None,
            msg: None,
            tunnel_bytes: 0,
        }
    }

    /// The head of the message being read, after [`Step::Head`].
    pub fn head(&self) -> Option<&Head> {
        self.msg.as_ref().map(|m| &m.head)
    }

    /// Time of the first byte of the message being read.
    pub fn msg_ts(&self) -> Option<Timestamp> {
        self.msg.as_ref().map(|m| m.ts)
    }

    /// Mutable flags of the message being read.
    pub fn flags_mut(&mut self) -> Option<&mut Vec<Flag>> {
        self.msg.as_mut().map(|m| &mut m.flags)
    }

    /// True while a message has been started (head parsed or head bytes buffered).
    pub fn mid_message(&self) -> bool {
        self.msg.is_some() || (self.state == State::Head && !self.buf.is_empty())
    }

    pub fn is_held(&self) -> bool {
        self.state == State::Held
    }

    /// Starts the body of the message whose head was just parsed. Returns the message when
    /// it has no body (or the connection switches protocol after it).
    pub fn begin_body(&mut self, framing: Framing) -> Option<Box<InMsg>> {
        self.buf.clear();
        self.scanned = 0;
        match framing {
            Framing::None => {
                self.state = State::Head;
                self.msg.take()
            }
            Framing::Tunnel => {
                self.state = State::Tunnel;
                self.msg.take()
            }
            Framing::Length(n) => {
                self.state = State::Length(n);
                None
            }
            Framing::Chunked => {
                self.state = State::Chunked(Chunk::Size);
                None
            }
            Framing::Close => {
                self.state = State::Close;
                None
            }
        }
    }

    /// Drops the message just parsed (an interim 1xx response) and expects the next head.
    pub fn discard(&mut self) {
        self.msg = None;
        self.state = State::Head;
        self.buf.clear();
        self.scanned = 0;
    }

    /// After a request that asked to switch protocols: keep later bytes aside until the
    /// response decides.
    pub fn hold(&mut self) {
        if self.state == State::Head && self.buf.is_empty() {
            self.state = State::Held;
        }
    }

    /// The response refused the switch: the held bytes are HTTP again and must be fed anew.
    pub fn release(&mut self) -> Vec<u8> {
        if self.state != State::Held {
            return Vec::new();
        }
        self.state = State::Head;
        self.scanned = 0;
        self.first_line_checked = false;
        std::mem::take(&mut self.buf)
    }

    /// The connection switched protocols: stop parsing, count what follows.
    pub fn tunnel(&mut self) {
        self.tunnel_bytes = self.tunnel_bytes.saturating_add(self.buf.len() as u64);
        self.buf = Vec::new();
        self.msg = None;
        self.state = State::Tunnel;
    }

    /// Consumes bytes from `input` until something happens. Call again while it does not
    /// return [`Step::NeedMore`].
    pub fn step(&mut self, input: &mut &[u8], ts: Timestamp, cfg: &HttpConfig) -> Step {
        loop {
            match self.state {
                State::Tunnel => {
                    self.tunnel_bytes = self.tunnel_bytes.saturating_add(input.len() as u64);
                    *input = &[];
                    return Step::NeedMore;
                }
                State::Held => {
                    let room = cfg.max_header_bytes.saturating_sub(self.buf.len());
                    let (keep, drop) = input.split_at(room.min(input.len()));
                    self.buf.extend_from_slice(keep);
                    self.tunnel_bytes = self.tunnel_bytes.saturating_add(drop.len() as u64);
                    *input = &[];
                    return Step::NeedMore;
                }
                State::Head => return self.step_head(input, ts, cfg),
                State::Length(rem) => {
                    if input.is_empty() {
                        return Step::NeedMore;
                    }
                    let n = rem.min(input.len() as u64) as usize;
                    let (body, rest) = input.split_at(n);
                    self.absorb(body, ts, cfg);
                    *input = rest;
                    let left = rem - n as u64;
                    if left == 0 {
                        self.state = State::Head;
                        if let Some(m) = self.msg.take() {
                            return Step::Done(m);
                        }
                    } else {
                        self.state = State::Length(left);
                    }
                }
                State::Close => {
                    let body = std::mem::take(input);
                    self.absorb(body, ts, cfg);
                    return Step::NeedMore;
                }
                State::Chunked(c) => {
                    if input.is_empty() {
                        return Step::NeedMore;
                    }
                    if let Some(step) = self.step_chunked(c, input, ts, cfg) {
                        return step;
                    }
                }
                State::Resync => {
                    if input.is_empty() {
                        return Step::NeedMore;
                    }
                    if let Some(step) = self.step_resync(input) {
                        return step;
                    }
                }
            }
        }
    }

    fn absorb(&mut self, body: &[u8], ts: Timestamp, cfg: &HttpConfig) {
        if let Some(m) = self.msg.as_mut() {
            m.len = m.len.saturating_add(body.len() as u64);
            m.ts_end = ts;
            let room = cfg.body_cap.saturating_sub(m.raw.len());
            if body.len() > room {
                m.over_cap = true;
            }
            m.raw
                .extend_from_slice(body.get(..room.min(body.len())).unwrap_or_default());
        }
    }

    fn step_head(&mut self, input: &mut &[u8], ts: Timestamp, cfg: &HttpConfig) -> Step {
        if self.buf.is_empty() {
            // Empty lines between messages are tolerated (RFC 9112 §2.2).
            let skip = input
                .iter()
                .take_while(|b| **b == b'\r' || **b == b'\n')
                .count();
            *input = input.get(skip..).unwrap_or_default();
            if input.is_empty() {
                return Step::NeedMore;
            }
            self.head_ts = Some(ts);
            self.first_line_checked = false;
            // Fast path: the whole head is in this event, no copy.
            if let Some(end) = parser::find_head_end(input, 0) {
                if end <= cfg.max_header_bytes {
                    let (head, rest) = input.split_at(end);
                    *input = rest;
                    return self.parse_head(head, ts, cfg);
                }
            }
        }
        let old = self.buf.len();
        let room = cfg.max_header_bytes.saturating_sub(old);
        let take = room.min(input.len());
        self.buf
            .extend_from_slice(input.get(..take).unwrap_or_default());
        if !self.first_line_checked {
            if let Some(nl) = memchr::memchr(b'\n', &self.buf) {
                self.first_line_checked = true;
                let line = self.buf.get(..=nl).unwrap_or_default();
                if !parser::plausible_first_line(line, self.role == StartKind::Request) {
                    // Garbage: give the bytes to the resync scan (minus the first, so that it
                    // moves on) and keep the rest of the input for it too.
                    *input = input.get(take..).unwrap_or_default();
                    self.enter_resync_from_buf(1);
                    return Step::Error(ErrorKind::BadStartLine);
                }
            }
        }
        if let Some(end) = parser::find_head_end(&self.buf, self.scanned) {
            let used = end.saturating_sub(old);
            *input = input.get(used..).unwrap_or_default();
            let head = std::mem::take(&mut self.buf);
            let head_bytes = head.get(..end).unwrap_or_default();
            let step = self.parse_head(head_bytes, ts, cfg);
            // Reuse the allocation for the next head.
            self.buf = head;
            self.buf.clear();
            self.scanned = 0;
            return step;
        }
        self.scanned = self.buf.len();
        *input = input.get(take..).unwrap_or_default();
        if self.buf.len() >= cfg.max_header_bytes {
            // The start line was real, the head just too big: keep what fits (start line
            // and complete fields), flagged, then skip the rest rather than rescanning 64 KiB
            // for starts inside it.
            if self.salvage_head(Flag::HeaderTooLarge, cfg.max_headers) {
                return Step::Oversized;
            }
            self.enter_resync_from_buf(self.buf.len());
            return Step::Error(ErrorKind::HeaderTooLarge);
        }
        Step::NeedMore
    }

    fn parse_head(&mut self, head: &[u8], ts: Timestamp, cfg: &HttpConfig) -> Step {
        let mut flags = Vec::new();
        let parsed = match self.role {
            StartKind::Request => {
                parser::parse_request_head(head, cfg.max_headers, &mut flags).map(Head::Request)
            }
            StartKind::Response => {
                parser::parse_response_head(head, cfg.max_headers, &mut flags).map(Head::Response)
            }
        };
        match parsed {
            Ok(h) => {
                let start = self.head_ts.take().unwrap_or(ts);
                self.msg = Some(Box::new(InMsg {
                    head: h,
                    ts: start,
                    ts_end: ts,
                    raw: Vec::new(),
                    len: 0,
                    over_cap: false,
                    gap: false,
                    incomplete: false,
                    flags,
                    trailers: Headers::default(),
                }));
                Step::Head
            }
            Err(e) => {
                // Junk is told apart from a real message that could not be read: only the
                // latter means a message was lost.
                let line_end = memchr::memchr(b'\n', head).map_or(head.len(), |i| i + 1);
                let line = head.get(..line_end).unwrap_or_default();
                let real_start =
                    parser::plausible_first_line(line, self.role == StartKind::Request);
                self.buf.clear();
                self.buf
                    .extend_from_slice(head.get(1..).unwrap_or_default());
                self.enter_resync_from_buf(0);
                Step::Error(match e {
                    _ if !real_start => ErrorKind::BadStartLine,
                    HeadError::TooManyHeaders => ErrorKind::TooManyHeaders,
                    HeadError::Malformed(_) => ErrorKind::Malformed,
                })
            }
        }
    }

    /// Switches to resync with the current `buf` (minus `skip` leading bytes) as carry.
    fn enter_resync_from_buf(&mut self, skip: usize) {
        let skip = skip.min(self.buf.len());
        self.buf.drain(..skip);
        self.state = State::Resync;
        self.scanned = 0;
        self.msg = None;
        self.head_ts = None;
        self.trim_carry();
    }

    fn want(&self) -> (bool, bool) {
        let req = self.role == StartKind::Request;
        (req || self.detect_any, !req || self.detect_any)
    }

    /// Scans carry + input for a message start. Returns a step when the role flipped.
    fn step_resync(&mut self, input: &mut &[u8]) -> Option<Step> {
        let carry = self.buf.len();
        self.buf.extend_from_slice(input);
        match parser::find_message_start(&self.buf, self.scanned, self.want()) {
            Scan::Found(p, kind) => {
                if p >= carry {
                    *input = input.get(p - carry..).unwrap_or_default();
                    self.buf.clear();
                } else {
                    // The start lies in the carry (it was split across events): keep it as the
                    // beginning of the head and let the head reader take the input.
                    self.buf.truncate(carry);
                    self.buf.drain(..p);
                }
                self.state = State::Head;
                self.scanned = 0;
                self.first_line_checked = false;
                self.head_ts = None;
                if kind != self.role {
                    self.role = kind;
                    return Some(Step::Swapped);
                }
                None
            }
            Scan::NotYet(resume) => {
                *input = &[];
                self.scanned = resume;
                self.trim_carry();
                Some(Step::NeedMore)
            }
        }
    }

    /// Keeps only what a later scan can still need: the current line (a request line may
    /// start there), at most the look-back window.
    fn trim_carry(&mut self) {
        let resume = self.scanned.min(self.buf.len());
        let floor = resume.saturating_sub(parser::RESYNC_LOOKBACK);
        let window = self.buf.get(floor..resume).unwrap_or_default();
        let keep_from = memchr::memrchr(b'\n', window).map_or(floor, |i| floor + i + 1);
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.scanned = resume - keep_from;
        }
    }

    fn step_chunked(
        &mut self,
        c: Chunk,
        input: &mut &[u8],
        ts: Timestamp,
        cfg: &HttpConfig,
    ) -> Option<Step> {
        match c {
            Chunk::Size => {
                let Some(nl) = memchr::memchr(b'\n', input) else {
                    self.buf.extend_from_slice(input);
                    *input = &[];
                    if self.buf.len() > MAX_CHUNK_LINE {
                        return Some(self.chunk_error());
                    }
                    return Some(Step::NeedMore);
                };
                self.buf
                    .extend_from_slice(input.get(..nl).unwrap_or_default());
                *input = input.get(nl + 1..).unwrap_or_default();
                if self.buf.last() != Some(&b'\r') {
                    self.flag(Flag::BareLineFeed);
                }
                let size = parser::parse_chunk_size(&self.buf);
                self.buf.clear();
                match size {
                    Some(0) => self.state = State::Chunked(Chunk::Trailers),
                    Some(n) => self.state = State::Chunked(Chunk::Data(n)),
                    None => return Some(self.chunk_error()),
                }
                None
            }
            Chunk::Data(rem) => {
                let n = rem.min(input.len() as u64) as usize;
                let (body, rest) = input.split_at(n);
                self.absorb(body, ts, cfg);
                *input = rest;
                let left = rem - n as u64;
                self.state = State::Chunked(if left == 0 {
                    Chunk::DataEnd { seen_cr: false }
                } else {
                    Chunk::Data(left)
                });
                None
            }
            Chunk::DataEnd { seen_cr } => {
                match (input.first(), seen_cr) {
                    (Some(b'\r'), false) => {
                        *input = input.get(1..).unwrap_or_default();
                        self.state = State::Chunked(Chunk::DataEnd { seen_cr: true });
                    }
                    (Some(b'\n'), _) => {
                        if !seen_cr {
                            self.flag(Flag::BareLineFeed);
                        }
                        *input = input.get(1..).unwrap_or_default();
                        self.state = State::Chunked(Chunk::Size);
                    }
                    _ => {
                        // Data longer than its size said: read on as the next size line.
                        self.flag(Flag::InvalidChunk);
                        self.state = State::Chunked(Chunk::Size);
                    }
                }
                None
            }
            Chunk::Trailers => {
                let old = self.buf.len();
                let room = cfg.max_header_bytes.saturating_sub(old);
                let take = room.min(input.len());
                self.buf
                    .extend_from_slice(input.get(..take).unwrap_or_default());
                let end = if self.buf.starts_with(b"\r\n") {
                    Some(2)
                } else if self.buf.starts_with(b"\n") {
                    Some(1)
                } else {
                    parser::find_head_end(&self.buf, self.scanned)
                };
                match end {
                    Some(end) => {
                        *input = input.get(end.saturating_sub(old)..).unwrap_or_default();
                        if end > 2 {
                            let block = self.buf.get(..end).unwrap_or_default();
                            let mut flags = Vec::new();
                            let t = parser::parse_trailers(block, cfg.max_headers, &mut flags);
                            if let Some(m) = self.msg.as_mut() {
                                m.trailers = t;
                                for f in flags {
                                    push_flag(&mut m.flags, f);
                                }
                            }
                        }
                        self.buf.clear();
                        self.scanned = 0;
                        self.state = State::Head;
                        self.msg.take().map(Step::Done)
                    }
                    None => {
                        *input = input.get(take..).unwrap_or_default();
                        self.scanned = self.buf.len();
                        if self.buf.len() >= cfg.max_header_bytes {
                            return Some(self.chunk_error());
                        }
                        Some(Step::NeedMore)
                    }
                }
            }
        }
    }

    fn flag(&mut self, f: Flag) {
        if let Some(m) = self.msg.as_mut() {
            push_flag(&mut m.flags, f);
        }
    }

    /// Bad chunked framing: end the message here, flagged, and resync on what follows.
    fn chunk_error(&mut self) -> Step {
        let mut m = self.msg.take();
        if let Some(m) = m.as_mut() {
            push_flag(&mut m.flags, Flag::InvalidChunk);
            m.incomplete = true;
        }
        self.buf.clear();
        self.enter_resync_from_buf(0);
        match m {
            Some(m) => Step::Done(m),
            None => Step::Error(ErrorKind::InvalidChunk),
        }
    }

    /// `len` bytes were lost. Bodies of known length skip them arithmetically; elsewhere the
    /// message in progress ends, flagged, and the reader resyncs at the next message start.
    pub fn gap(&mut self, len: u64) -> GapOutcome {
        let mut out = GapOutcome::default();
        if self.state == State::Head
            && self.msg.is_none()
            && self.salvage_head(Flag::Gap, usize::MAX)
        {
            out.salvaged_head = true;
            out.lost = Loss::Maybe;
            return out;
        }
        match self.state {
            State::Tunnel => self.tunnel_bytes = self.tunnel_bytes.saturating_add(len),
            State::Held => {
                // Held bytes are no longer a clean prefix; if they turn out to be HTTP, resync.
                self.buf.clear();
                self.tunnel_bytes = self.tunnel_bytes.saturating_add(len);
            }
            State::Length(rem) if len < rem => {
                self.lose(len);
                self.state = State::Length(rem - len);
                out.skipped = true;
            }
            State::Length(rem) if len == rem => {
                self.lose(len);
                self.state = State::Head;
                out.done = self.msg.take();
                out.skipped = true;
            }
            State::Chunked(Chunk::Data(rem)) if len <= rem => {
                self.lose(len);
                let left = rem - len;
                self.state = State::Chunked(if left == 0 {
                    Chunk::DataEnd { seen_cr: false }
                } else {
                    Chunk::Data(left)
                });
                out.skipped = true;
            }
            State::Close => {
                // The body runs to the close; the loss is only counted.
                self.lose(len);
                out.skipped = true;
            }
            State::Resync => {
                self.buf.clear();
                self.scanned = 0;
                out.lost = Loss::DuringResync;
            }
            State::Head | State::Length(_) | State::Chunked(_) => {
                out.lost = match self.state {
                    // Between messages or inside a head: this direction's bytes are messages,
                    // unless the gap is shorter than any start line and may be stray bytes
                    // (an extra CRLF after a body). Only responses need that care: for
                    // requests, over-counting losses is the safe side.
                    State::Head
                        if self.buf.is_empty()
                            && len < MIN_START_LINE
                            && self.role == StartKind::Response =>
                    {
                        Loss::Maybe
                    }
                    State::Head => Loss::AtLeastOne,
                    // Past the end of a body of known length (by enough to hold a start line).
                    State::Length(rem)
                        if len - rem < MIN_START_LINE && self.role == StartKind::Response =>
                    {
                        Loss::Maybe
                    }
                    State::Length(_) => Loss::AtLeastOne,
                    _ => Loss::Maybe,
                };
                if let Some(mut m) = self.msg.take() {
                    push_flag(&mut m.flags, Flag::Gap);
                    m.gap = true;
                    m.incomplete = true;
                    m.len = m.len.saturating_add(len);
                    out.done = Some(m);
                }
                self.buf.clear();
                self.enter_resync_from_buf(0);
            }
        }
        out
    }

    /// Reads the complete lines of a head cut by a gap (start line and the fields before the
    /// cut), so that what was seen of the message is kept: on captures with a small snap
    /// length this is often the whole request line and status code.
    fn salvage_head(&mut self, why: Flag, max_headers: usize) -> bool {
        let Some(last_nl) = memchr::memrchr(b'\n', &self.buf) else {
            return false;
        };
        let mut head = self.buf.get(..=last_nl).unwrap_or_default().to_vec();
        head.extend_from_slice(b"\r\n");
        let mut flags = vec![why, Flag::IncompleteMessage];
        let parsed = match self.role {
            StartKind::Request => {
                parser::parse_request_head(&head, max_headers, &mut flags).map(Head::Request)
            }
            StartKind::Response => {
                parser::parse_response_head(&head, max_headers, &mut flags).map(Head::Response)
            }
        };
        let Ok(h) = parsed else {
            return false;
        };
        let ts = self.head_ts.take().unwrap_or_default();
        self.msg = Some(Box::new(InMsg {
            head: h,
            ts,
            ts_end: ts,
            raw: Vec::new(),
            len: 0,
            over_cap: false,
            gap: true,
            incomplete: true,
            flags,
            trailers: Headers::default(),
        }));
        self.buf.clear();
        true
    }

    /// Ends the salvaged message (if its framing did not already) and resyncs.
    pub fn end_after_gap(&mut self) -> Option<Box<InMsg>> {
        let m = self.msg.take();
        if self.state != State::Tunnel {
            self.buf.clear();
            self.enter_resync_from_buf(0);
        }
        m
    }

    fn lose(&mut self, len: u64) {
        if let Some(m) = self.msg.as_mut() {
            m.len = m.len.saturating_add(len);
            m.gap = true;
            push_flag(&mut m.flags, Flag::Gap);
        }
    }

    /// The connection ended: a close-delimited body is complete; any other message in
    /// progress is incomplete.
    pub fn close(&mut self) -> Option<Box<InMsg>> {
        let complete = self.state == State::Close;
        let mut m = self.msg.take()?;
        if !complete {
            push_flag(&mut m.flags, Flag::IncompleteMessage);
            m.incomplete = true;
        }
        self.state = State::Head;
        Some(m)
    }
}
