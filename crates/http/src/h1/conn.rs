//! The state of one connection: protocol sniffing, both directions' readers, and the queue
//! that pairs requests with responses (keep-alive, pipelining, interim 1xx, upgrades) while
//! keeping its counts right across gaps, timeouts and mid-stream pick-ups.
//!
//! Pairing rule: responses answer requests in order. Whenever loss makes that order
//! uncertain, the response is emitted alone (`NoRequest`) and the request alone
//! (`NoResponse`), both flagged `Gap`, rather than paired with the wrong partner:
//! - a request-direction gap that may have swallowed whole requests opens an *ambiguous
//!   window* unless, by the next request, the server has answered something that could not be
//!   paired and nothing is outstanding (the usual non-pipelined case); requests read inside the
//!   window are never paired;
//! - after a response-direction gap of the same kind, the next response is paired only when a
//!   single request is outstanding;
//! - a request emitted early (timeout, pipelining cap) leaves a *debt*: the next response is
//!   taken as its late answer (`LateResponse`), not as the answer to a later request.

use super::half::{ErrorKind, Half, InMsg, Step};
use super::parser::{self, push_flag, Framing, Head, StartKind};
use crate::classify::{self, Protocol, Sniff};
use crate::config::HttpConfig;
use crate::decode::{self, DecodeLimits};
use crate::stats::HttpStats;
use periscope_model::{Body, Direction, Flag, Request, Response, Timestamp};
use std::collections::VecDeque;

/// A request and/or response ready to become an `Exchange`.
#[derive(Debug)]
pub(crate) struct Pair {
    pub request: Option<Request>,
    pub response: Option<Response>,
    pub flags: Vec<Flag>,
}

/// What the connection needs from its tracker while processing an event.
pub(crate) struct Ctx<'a> {
    pub cfg: &'a HttpConfig,
    pub stats: &'a mut HttpStats,
    pub out: &'a mut dyn FnMut(Pair),
    /// Response deadlines to schedule: (deadline, entry sequence number).
    pub deadlines: &'a mut Vec<(Timestamp, u64)>,
}

/// A request waiting for (or with) its response.
#[derive(Debug)]
struct Entry {
    seq: u64,
    method: String,
    /// The request once complete.
    request: Option<Request>,
    req_flags: Vec<Flag>,
    /// A response head targeting this entry was read.
    resp_started: bool,
    response: Option<Response>,
    resp_flags: Vec<Flag>,
    /// The response can no longer be paired (ambiguity after a gap): emit without one.
    resp_lost: bool,
    interim: Vec<u16>,
    /// Read inside an ambiguous window.
    ambiguous: bool,
    /// CONNECT or Upgrade: the request direction is held until the response decides.
    wants_switch: bool,
}

/// Which entry the response being read belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Entry(u64),
    /// No request: emit alone with these extra reasons.
    Orphan {
        late: bool,
        ambiguous: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// Waiting for the client's first bytes to tell the protocol.
    Sniffing,
    /// Parsing HTTP/1.x.
    Http,
    /// Not HTTP/1.x: bytes are only counted.
    Opaque,
}

/// Per-connection counters, reported in the connection summary.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnCounts {
    pub requests: u64,
    pub responses: u64,
    pub exchanges: u64,
    pub no_response: u64,
    pub no_request: u64,
    pub parse_errors: u64,
    pub gaps: u64,
}

/// One connection.
#[derive(Debug)]
pub(crate) struct Conn {
    /// Readers by wire direction ([`Direction::index`]).
    halves: [Half; 2],
    /// The wire direction that carries requests (`ToClient` once roles were swapped).
    req_dir: Direction,
    pub swapped: bool,
    mode: Mode,
    pub protocol: Option<Protocol>,
    sniff: Vec<u8>,
    first_bytes: [Vec<u8>; 2],
    /// The direction whose bytes came first (for `Protocol::Other`).
    first_dir: Option<Direction>,
    seen: [u64; 2],
    queue: VecDeque<Entry>,
    next_seq: u64,
    target: Option<Target>,
    target_switch: bool,
    /// Interim statuses read while no request was outstanding.
    stray_interim: Vec<u16>,
    late_debt: u64,
    /// A request-direction gap may have lost whole requests; decided at the next request.
    req_gap_pending: bool,
    /// Responses whose head was read since the last such gap.
    responses_since_req_gap: u64,
    /// Requests read while pairing is uncertain are not paired.
    ambiguous_window: bool,
    /// A response-direction gap may have lost whole responses: entries below this sequence
    /// number were outstanding at the time.
    resp_gap_before: Option<u64>,
    pub upgraded: bool,
    pub counts: ConnCounts,
}

impl Conn {
    /// `handshake`: the connection was seen from its start, so bytes begin at a message start
    /// and the roles are right.
    pub fn new(handshake: bool) -> Self {
        Conn {
            halves: [
                Half::new(StartKind::Request, handshake),
                Half::new(StartKind::Response, handshake),
            ],
            req_dir: Direction::ToServer,
            swapped: false,
            mode: if handshake {
                Mode::Sniffing
            } else {
                Mode::Http
            },
            protocol: None,
            sniff: Vec::new(),
            first_bytes: [Vec::new(), Vec::new()],
            first_dir: None,
            seen: [0, 0],
            queue: VecDeque::new(),
            next_seq: 1,
            target: None,
            target_switch: false,
            stray_interim: Vec::new(),
            late_debt: 0,
            req_gap_pending: false,
            responses_since_req_gap: 0,
            ambiguous_window: false,
            resp_gap_before: None,
            upgraded: false,
            counts: ConnCounts::default(),
        }
    }

    fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::ToServer => &mut self.halves[0],
            Direction::ToClient => &mut self.halves[1],
        }
    }

    fn is_req_dir(&self, dir: Direction) -> bool {
        dir == self.req_dir
    }

    /// Bytes in `dir`.
    pub fn on_data(&mut self, dir: Direction, bytes: &[u8], ts: Timestamp, ctx: &mut Ctx<'_>) {
        let i = dir.index();
        if self.first_dir.is_none() && !bytes.is_empty() {
            self.first_dir = Some(dir);
        }
        if let Some(fb) = self.first_bytes.get_mut(i) {
            if fb.len() < 16 {
                let n = (16 - fb.len()).min(bytes.len());
                fb.extend_from_slice(bytes.get(..n).unwrap_or_default());
            }
        }
        let first_in_dir = self.seen.get(i).copied() == Some(0);
        if let Some(s) = self.seen.get_mut(i) {
            *s += bytes.len() as u64;
        }
        match self.mode {
            Mode::Opaque => return,
            Mode::Sniffing => {
                if dir == Direction::ToServer {
                    let room = classify::SNIFF_CAP.saturating_sub(self.sniff.len());
                    self.sniff
                        .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
                    match classify::sniff_client(
                        &self.sniff,
                        self.sniff.len() >= classify::SNIFF_CAP,
                    ) {
                        Sniff::NeedMore => return,
                        Sniff::Known(p) => {
                            self.protocol = Some(p);
                            self.mode = Mode::Opaque;
                            self.sniff = Vec::new();
                            return;
                        }
                        Sniff::Http => {
                            self.mode = Mode::Http;
                            let buf = std::mem::take(&mut self.sniff);
                            let rest = bytes.get(room.min(bytes.len())..).unwrap_or_default();
                            self.feed(dir, &buf, ts, ctx);
                            self.feed(dir, rest, ts, ctx);
                            return;
                        }
                    }
                }
                // The server spoke first (or its bytes overtook the client's).
                let http_like = bytes.starts_with(b"HTTP/") || b"HTTP/".starts_with(bytes);
                if self.sniff.is_empty() && !http_like {
                    self.protocol = Some(Protocol::Other {
                        first_bytes: classify::hex_prefix(bytes),
                    });
                    self.mode = Mode::Opaque;
                    return;
                }
                if self.sniff.is_empty() {
                    self.mode = Mode::Http;
                }
            }
            Mode::Http => {
                if first_in_dir
                    && self.protocol.is_none()
                    && self.counts.requests + self.counts.responses == 0
                {
                    if let Some(version) = classify::tls_record_version(bytes) {
                        self.protocol = Some(Protocol::Tls {
                            sni: None,
                            version: Some(version),
                        });
                        self.mode = Mode::Opaque;
                        return;
                    }
                }
            }
        }
        if self.mode == Mode::Http {
            self.feed(dir, bytes, ts, ctx);
        }
    }

    fn feed(&mut self, dir: Direction, bytes: &[u8], ts: Timestamp, ctx: &mut Ctx<'_>) {
        let mut input = bytes;
        loop {
            let step = self.half(dir).step(&mut input, ts, ctx.cfg);
            match step {
                Step::NeedMore => break,
                Step::Head => self.on_head(dir, ts, ctx),
                Step::Done(m) => self.on_done(dir, *m, ctx),
                Step::Swapped => self.swap_roles(dir, ctx),
                Step::Error(kind) => {
                    self.counts.parse_errors += 1;
                    let e = &mut ctx.stats.parse_errors;
                    match kind {
                        ErrorKind::BadStartLine => e.bad_start_line += 1,
                        ErrorKind::Malformed => e.malformed_head += 1,
                        ErrorKind::TooManyHeaders => e.too_many_headers += 1,
                        ErrorKind::HeaderTooLarge => e.header_too_large += 1,
                        ErrorKind::InvalidChunk => e.invalid_chunk += 1,
                    }
                    // Whatever that message was, it is lost; pairing must not assume otherwise.
                    self.note_lost(dir);
                }
            }
        }
    }

    /// The half reading `dir` found a message of the other role before any message was read.
    fn swap_roles(&mut self, dir: Direction, ctx: &mut Ctx<'_>) {
        let new_role = self.half(dir).role;
        let other = dir.reverse();
        let other_role = match new_role {
            StartKind::Request => StartKind::Response,
            StartKind::Response => StartKind::Request,
        };
        self.half(other).role = other_role;
        for h in &mut self.halves {
            h.detect_any = false;
        }
        self.req_dir = if new_role == StartKind::Request {
            dir
        } else {
            other
        };
        if self.req_dir != Direction::ToServer && !self.swapped {
            self.swapped = true;
            ctx.stats.roles_swapped += 1;
        } else if self.req_dir == Direction::ToServer {
            self.swapped = false;
        }
    }

    fn note_lost(&mut self, dir: Direction) {
        if self.is_req_dir(dir) {
            self.req_gap_pending = true;
            self.responses_since_req_gap = 0;
        } else {
            self.resp_gap_before = Some(self.next_seq);
        }
    }

    fn on_head(&mut self, dir: Direction, ts: Timestamp, ctx: &mut Ctx<'_>) {
        for h in &mut self.halves {
            h.detect_any = false;
        }
        if self.protocol.is_none() {
            self.protocol = Some(Protocol::Http1);
        }
        if self.is_req_dir(dir) {
            self.on_request_head(dir, ctx);
        } else {
            self.on_response_head(dir, ts, ctx);
        }
    }

    fn on_request_head(&mut self, dir: Direction, ctx: &mut Ctx<'_>) {
        self.counts.requests += 1;
        ctx.stats.requests += 1;
        if self.req_gap_pending {
            self.req_gap_pending = false;
            let outstanding = self.queue.iter().any(|e| !e.resp_started && !e.resp_lost);
            let resp_idle = !self
                .halves
                .get(self.req_dir.reverse().index())
                .is_some_and(Half::mid_message);
            if outstanding || !resp_idle || self.responses_since_req_gap == 0 {
                self.ambiguous_window = true;
            }
        }
        if self.queue.len() >= ctx.cfg.max_pending_requests {
            if let Some(mut e) = self.queue.pop_front() {
                ctx.stats.pending_overflow += 1;
                if !e.resp_started {
                    self.late_debt += 1;
                }
                e.resp_lost = true;
                self.emit_entry(e, ctx);
            }
        }
        let half = self.half(dir);
        let Some(Head::Request(head)) = half.head() else {
            return;
        };
        let method = head.method.clone();
        let wants_switch =
            method.eq_ignore_ascii_case("CONNECT") || head.headers.get("upgrade").is_some();
        let mut flags = Vec::new();
        let framing = parser::request_framing(&head.headers, &mut flags);
        if let Some(f) = half.flags_mut() {
            for x in flags {
                push_flag(f, x);
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push_back(Entry {
            seq,
            method,
            request: None,
            req_flags: Vec::new(),
            resp_started: false,
            response: None,
            resp_flags: Vec::new(),
            resp_lost: false,
            interim: Vec::new(),
            ambiguous: self.ambiguous_window,
            wants_switch,
        });
        if let Some(m) = self.half(dir).begin_body(framing) {
            self.on_done(dir, *m, ctx);
        }
    }

    fn on_response_head(&mut self, dir: Direction, ts: Timestamp, ctx: &mut Ctx<'_>) {
        let _ = ts;
        let Some(Head::Response(head)) = self.half(dir).head() else {
            return;
        };
        let status = head.status;
        if (100..200).contains(&status) && status != 101 {
            ctx.stats.interim_responses += 1;
            match self
                .queue
                .iter_mut()
                .find(|e| !e.resp_started && !e.resp_lost)
            {
                Some(e) => e.interim.push(status),
                None => self.stray_interim.push(status),
            }
            self.half(dir).discard();
            return;
        }
        self.counts.responses += 1;
        ctx.stats.responses += 1;
        self.responses_since_req_gap += 1;
        let target = self.pick_target(ctx);
        self.target = Some(target);
        let method = match target {
            Target::Entry(seq) => self
                .queue
                .iter()
                .find(|e| e.seq == seq)
                .map(|e| e.method.clone()),
            Target::Orphan { .. } => None,
        };
        let mut flags = Vec::new();
        let framing = {
            let Some(Head::Response(head)) = self.half(dir).head() else {
                return;
            };
            parser::response_framing(status, method.as_deref(), &head.headers, &mut flags)
        };
        if let Some(f) = self.half(dir).flags_mut() {
            for x in flags {
                push_flag(f, x);
            }
        }
        self.target_switch = framing == Framing::Tunnel;
        let req_dir = self.req_dir;
        if !self.target_switch && self.half(req_dir).is_held() {
            // The server did not switch: what the client sent meanwhile is HTTP after all.
            let held = self.half(req_dir).release();
            self.feed(req_dir, &held, ts, ctx);
        }
        if let Some(m) = self.half(dir).begin_body(framing) {
            self.on_done(dir, *m, ctx);
        }
    }

    /// Chooses the request a response answers (see the module doc for the rules).
    fn pick_target(&mut self, ctx: &mut Ctx<'_>) -> Target {
        if self.late_debt > 0 {
            self.late_debt -= 1;
            return Target::Orphan {
                late: true,
                ambiguous: false,
            };
        }
        let gap_before = self.resp_gap_before.take();
        let outstanding: Vec<(u64, bool)> = self
            .queue
            .iter()
            .filter(|e| !e.resp_started && !e.resp_lost)
            .map(|e| (e.seq, e.ambiguous))
            .collect();
        let Some(&(seq, ambiguous)) = outstanding.first() else {
            return Target::Orphan {
                late: false,
                ambiguous: false,
            };
        };
        if let Some(before) = gap_before {
            let pre_gap = outstanding.iter().filter(|(s, _)| *s < before).count();
            if pre_gap > 1 {
                // Some of these lost their responses in the gap, but which ones is unknown.
                for e in self
                    .queue
                    .iter_mut()
                    .filter(|e| e.seq < before && !e.resp_started)
                {
                    e.resp_lost = true;
                }
                ctx.stats.ambiguous_after_gap += 1;
                self.try_emit(ctx);
                return Target::Orphan {
                    late: false,
                    ambiguous: true,
                };
            }
        }
        if ambiguous {
            if let Some(e) = self.queue.iter_mut().find(|e| e.seq == seq) {
                e.resp_lost = true;
            }
            ctx.stats.ambiguous_after_gap += 1;
            self.try_emit(ctx);
            return Target::Orphan {
                late: false,
                ambiguous: true,
            };
        }
        if let Some(e) = self.queue.iter_mut().find(|e| e.seq == seq) {
            e.resp_started = true;
        }
        Target::Entry(seq)
    }

    fn on_done(&mut self, dir: Direction, m: InMsg, ctx: &mut Ctx<'_>) {
        if self.is_req_dir(dir) {
            self.on_request_done(dir, m, ctx);
        } else {
            self.on_response_done(m, ctx);
        }
    }

    fn on_request_done(&mut self, dir: Direction, m: InMsg, ctx: &mut Ctx<'_>) {
        let ts_end = m.ts_end;
        let (request, flags) = build_request(m, ctx);
        let Some(request) = request else { return };
        // The request being read is the newest entry without a request.
        let entry = self.queue.iter_mut().rev().find(|e| e.request.is_none());
        match entry {
            Some(e) => {
                let seq = e.seq;
                e.request = Some(request);
                e.req_flags = flags;
                ctx.deadlines
                    .push((ts_end.plus(ctx.cfg.response_timeout), seq));
                if e.wants_switch && e.response.is_none() {
                    self.half(dir).hold();
                }
                self.try_emit(ctx);
            }
            None => {
                // Its entry was pushed out by the pipelining cap.
                let mut flags = flags;
                push_flag(&mut flags, Flag::NoResponse);
                self.emit(Some(request), None, flags, ctx);
            }
        }
    }

    fn on_response_done(&mut self, m: InMsg, ctx: &mut Ctx<'_>) {
        let (response, mut flags) = build_response(m, ctx);
        let Some(mut response) = response else { return };
        let switched = std::mem::take(&mut self.target_switch);
        if switched {
            push_flag(&mut flags, Flag::Upgraded);
            self.upgraded = true;
            ctx.stats.upgrades += 1;
            for h in &mut self.halves {
                h.tunnel();
            }
        }
        let target = self.target.take().unwrap_or(Target::Orphan {
            late: false,
            ambiguous: false,
        });
        if let Target::Entry(seq) = target {
            if let Some(e) = self.queue.iter_mut().find(|e| e.seq == seq) {
                response.interim = std::mem::take(&mut e.interim);
                e.response = Some(response);
                e.resp_flags = flags;
                self.try_emit(ctx);
                return;
            }
        }
        // No entry (any more): emit alone.
        response.interim = std::mem::take(&mut self.stray_interim);
        push_flag(&mut flags, Flag::NoRequest);
        match target {
            Target::Orphan { late: true, .. } | Target::Entry(_) => {
                push_flag(&mut flags, Flag::LateResponse);
                ctx.stats.late_responses += 1;
            }
            Target::Orphan {
                ambiguous: true, ..
            } => push_flag(&mut flags, Flag::Gap),
            Target::Orphan { .. } => {}
        }
        self.emit(None, Some(response), flags, ctx);
    }

    /// Emits finished entries from the front of the queue, in order.
    fn try_emit(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(front) = self.queue.front() {
            let ready = front.request.is_some() && (front.response.is_some() || front.resp_lost);
            if !ready {
                break;
            }
            if let Some(e) = self.queue.pop_front() {
                self.emit_entry(e, ctx);
            }
        }
        if self.queue.is_empty() {
            self.ambiguous_window = false;
        }
    }

    fn emit_entry(&mut self, e: Entry, ctx: &mut Ctx<'_>) {
        let mut flags = e.req_flags;
        for f in e.resp_flags {
            push_flag(&mut flags, f);
        }
        if e.response.is_none() {
            push_flag(&mut flags, Flag::NoResponse);
            if e.resp_lost && e.ambiguous {
                push_flag(&mut flags, Flag::Gap);
            }
        }
        self.emit(e.request, e.response, flags, ctx);
    }

    fn emit(
        &mut self,
        request: Option<Request>,
        response: Option<Response>,
        mut flags: Vec<Flag>,
        ctx: &mut Ctx<'_>,
    ) {
        if request.is_none() && response.is_none() {
            return;
        }
        if self.swapped {
            push_flag(&mut flags, Flag::RolesSwapped);
        }
        if request.is_none() {
            push_flag(&mut flags, Flag::NoRequest);
            self.counts.no_request += 1;
            ctx.stats.no_request += 1;
        }
        if response.is_none() {
            push_flag(&mut flags, Flag::NoResponse);
            self.counts.no_response += 1;
            ctx.stats.no_response += 1;
        }
        self.counts.exchanges += 1;
        ctx.stats.exchanges += 1;
        (ctx.out)(Pair {
            request,
            response,
            flags,
        });
    }

    /// `len` bytes lost in `dir`.
    pub fn on_gap(&mut self, dir: Direction, len: u64, ctx: &mut Ctx<'_>) {
        self.counts.gaps += 1;
        ctx.stats.gaps += 1;
        if self.mode != Mode::Http {
            if self.mode == Mode::Sniffing {
                // The first bytes are gone: whatever follows is mid-stream.
                self.mode = Mode::Http;
                for h in &mut self.halves {
                    *h = Half::new(h.role, false);
                }
            }
            return;
        }
        let out = self.half(dir).gap(len);
        if out.skipped {
            ctx.stats.gaps_skipped += 1;
        }
        if let Some(m) = out.done {
            self.on_done(dir, *m, ctx);
        }
        if out.lost_unknown {
            self.note_lost(dir);
        }
    }

    /// A response deadline passed for entry `seq`.
    pub fn on_timeout(&mut self, seq: u64, ctx: &mut Ctx<'_>) {
        let Some(pos) = self.queue.iter().position(|e| e.seq == seq) else {
            return;
        };
        let waiting = self
            .queue
            .get(pos)
            .is_some_and(|e| e.request.is_some() && !e.resp_started && e.response.is_none());
        if !waiting {
            return;
        }
        if let Some(mut e) = self.queue.remove(pos) {
            if !e.resp_lost {
                self.late_debt += 1;
            }
            e.resp_lost = true;
            self.emit_entry(e, ctx);
        }
        self.try_emit(ctx);
    }

    /// True when entry `seq` still waits for a response head.
    pub fn waiting(&self, seq: u64) -> bool {
        self.queue
            .iter()
            .any(|e| e.seq == seq && !e.resp_started && e.response.is_none())
    }

    /// The connection ended: finish messages in progress and emit everything still queued.
    pub fn close(&mut self, ctx: &mut Ctx<'_>) {
        if self.mode == Mode::Sniffing {
            if let Sniff::Known(p) = classify::sniff_client(&self.sniff, true) {
                self.protocol = Some(p);
            } else if !self.sniff.is_empty() {
                self.mode = Mode::Http;
                let buf = std::mem::take(&mut self.sniff);
                self.feed(Direction::ToServer, &buf, Timestamp::default(), ctx);
            }
        }
        let resp_dir = self.req_dir.reverse();
        if let Some(m) = self.half(resp_dir).close() {
            self.on_done(resp_dir, *m, ctx);
        }
        let req_dir = self.req_dir;
        if let Some(m) = self.half(req_dir).close() {
            self.on_done(req_dir, *m, ctx);
        }
        while let Some(e) = self.queue.pop_front() {
            self.emit_entry(e, ctx);
        }
        // `Other` is decided on the first bytes that arrived; report the first 16 seen.
        let first = self
            .first_dir
            .and_then(|d| self.first_bytes.get(d.index()))
            .map(|b| classify::hex_prefix(b));
        match (&mut self.protocol, first) {
            (None, Some(hex)) => self.protocol = Some(Protocol::Other { first_bytes: hex }),
            (None, None) => self.protocol = Some(Protocol::Empty),
            (Some(Protocol::Other { first_bytes }), Some(hex)) => *first_bytes = hex,
            _ => {}
        }
    }

    /// Bytes seen after a switch of protocol.
    pub fn tunnel_bytes(&self) -> u64 {
        self.halves.iter().map(|h| h.tunnel_bytes).sum()
    }
}

fn finish_body(m: &InMsg, ctx: &mut Ctx<'_>, request: bool, flags: &mut Vec<Flag>) -> Body {
    let codings = decode::parse_codings(m.head.headers().get_all("content-encoding"));
    let raw_complete = !m.over_cap && !m.gap && !m.incomplete;
    let mut body = Body {
        len: m.len,
        data: Vec::new(),
        decoded_from: None,
        truncated: !raw_complete,
    };
    if codings.is_empty() || m.raw.is_empty() {
        body.data = m.raw.clone();
    } else {
        let limits = DecodeLimits {
            keep: ctx.cfg.body_cap,
            max_bytes: ctx.cfg.decompress_max_bytes,
            max_ratio: ctx.cfg.decompress_max_ratio,
        };
        match decode::decode(&codings, &m.raw, raw_complete, limits) {
            Ok(d) => {
                body.data = d.data;
                body.truncated |= d.truncated;
                body.decoded_from = m.head.headers().get("content-encoding").map(|_| {
                    m.head
                        .headers()
                        .get_all("content-encoding")
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                if d.limit_hit {
                    push_flag(flags, Flag::DecompressionLimit);
                    ctx.stats.decompression_limits += 1;
                }
            }
            Err(_) => {
                body.data = m.raw.clone();
                push_flag(flags, Flag::ContentDecodingFailed);
                ctx.stats.decompression_failures += 1;
            }
        }
    }
    if body.truncated {
        ctx.stats.truncated_bodies += 1;
        push_flag(
            flags,
            if request {
                Flag::RequestTruncated
            } else {
                Flag::ResponseTruncated
            },
        );
    }
    body
}

fn build_request(mut m: InMsg, ctx: &mut Ctx<'_>) -> (Option<Request>, Vec<Flag>) {
    let mut flags = std::mem::take(&mut m.flags);
    let body = finish_body(&m, ctx, true, &mut flags);
    let Head::Request(h) = m.head else {
        return (None, flags);
    };
    let req = Request {
        ts: m.ts,
        method: h.method,
        target: h.target,
        version: h.version,
        headers: h.headers,
        body,
        trailers: m.trailers,
    };
    (Some(req), flags)
}

fn build_response(mut m: InMsg, ctx: &mut Ctx<'_>) -> (Option<Response>, Vec<Flag>) {
    let mut flags = std::mem::take(&mut m.flags);
    let body = finish_body(&m, ctx, false, &mut flags);
    let Head::Response(h) = m.head else {
        return (None, flags);
    };
    let resp = Response {
        ts: m.ts,
        version: h.version,
        status: h.status,
        reason: h.reason,
        headers: h.headers,
        body,
        trailers: m.trailers,
        interim: Vec::new(),
    };
    (Some(resp), flags)
}
