//! The state of one connection: protocol sniffing, both directions' readers, and the queue
//! that pairs requests with responses (keep-alive, pipelining, interim 1xx, upgrades) while
//! keeping its counts right across gaps, timeouts and mid-stream pick-ups.
//!
//! Pairing rule: responses answer requests in order. Whenever loss makes that order
//! uncertain, requests and responses are emitted alone (`NoResponse` / `NoRequest`, flagged
//! `Gap`) rather than paired with the wrong partner:
//! - the response direction carries only responses, so a gap between messages (or inside a
//!   head, or past a known body end) took at least the start of one: the oldest waiting
//!   request will not get its answer. Any other waiting requests are then not paired, and
//!   the responses still owed to them (at most one each, `owed_max`) are emitted alone; when
//!   none can be owed any more, order is certain again;
//! - a request-direction gap hides an unknown number of requests whose answers come after
//!   those of the requests already waiting. The next request pairs normally only when the
//!   client evidently waits for each answer (no pipelining seen, nothing waiting, the server
//!   idle and at least as many unexplained answers as requests surely lost); otherwise pairing
//!   stays suspended until that holds again. A pipelining client therefore loses pairings for
//!   the rest of the connection after request loss;
//! - a request emitted early (timeout, pipelining cap) leaves a *debt*: the next response is
//!   taken as its late answer (`LateResponse`), not as the answer to a later request.
//!
//! `tests/conversations.rs::gaps_never_cause_wrong_pairs` checks this on random loss.

use super::half::{ErrorKind, Half, InMsg, Loss, Step};
use super::parser::{self, push_flag, Framing, Head, StartKind};
use crate::classify::{self, Protocol, Sniff};
use crate::config::HttpConfig;
use crate::decode::{self, DecodeLimits};
use crate::stats::HttpStats;
use periscope_model::{Body, Direction, Flag, Request, Response, Timestamp};
use std::collections::VecDeque;

/// Interim (1xx) statuses kept per response.
const MAX_INTERIM: usize = 16;

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
    /// No request yet on a connection seen whole and without request loss: the request is
    /// late (its segments waited for reordering); keep the response for the next request.
    Early,
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
    /// Time of the first sniffed byte.
    sniff_ts: Timestamp,
    /// Server bytes that arrived while `sniff` was undecided.
    sniff_server: Vec<u8>,
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
    /// Request-direction losses since the last request head that surely took the start of a
    /// request with them: at least this many requests are owed an answer.
    req_lost_min: u64,
    /// Pairing by order is suspended: loss made it unknown how many of the coming responses
    /// answer requests that will not be paired.
    uncertain: bool,
    /// While `uncertain`: the most responses that may still answer unpaired requests (`None`:
    /// no bound is known). When it reaches zero, order is certain again.
    owed_max: Option<u64>,
    /// Two requests were seen waiting at once: the client pipelines, so timing says nothing
    /// about which response answers which request.
    pipelined: bool,
    /// Final responses read since the last request head.
    responses_since_req_head: u64,
    /// Responses that answered no known request (their request was lost or skipped), since
    /// the last request head.
    orphans_since_req_head: u64,
    /// The connection was seen from its handshake.
    handshake: bool,
    /// Bytes were lost (or unreadable) in the request direction at some point.
    req_loss_seen: bool,
    /// Responses that came before their request (see [`Target::Early`]), oldest first.
    early: VecDeque<(u64, Response, Vec<Flag>)>,
    pub upgraded: bool,
    pub counts: ConnCounts,
}

/// Responses kept while waiting for a late request.
const MAX_EARLY: usize = 4;

/// Deadline numbers of kept responses have this bit set (requests' numbers never do).
const EARLY_SEQ: u64 = 1 << 63;

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
            sniff_server: Vec::new(),
            sniff_ts: Timestamp::default(),
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
            req_lost_min: 0,
            uncertain: false,
            owed_max: None,
            pipelined: false,
            responses_since_req_head: 0,
            orphans_since_req_head: 0,
            handshake,
            req_loss_seen: false,
            early: VecDeque::new(),
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
                    if self.sniff.is_empty() {
                        self.sniff_ts = ts;
                    }
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
                            self.sniff_server = Vec::new();
                            return;
                        }
                        Sniff::Http => {
                            self.mode = Mode::Http;
                            self.protocol = Some(Protocol::Http1);
                            let buf = std::mem::take(&mut self.sniff);
                            let rest = bytes.get(room.min(bytes.len())..).unwrap_or_default();
                            // The head began when its first byte arrived, not now.
                            self.feed(dir, &buf, self.sniff_ts, ctx);
                            self.feed(dir, rest, ts, ctx);
                            let server = std::mem::take(&mut self.sniff_server);
                            self.feed(Direction::ToClient, &server, ts, ctx);
                            return;
                        }
                    }
                }
                if !self.sniff.is_empty() {
                    // The server answered before the client's first bytes were decided: keep
                    // its bytes until they are.
                    let room = classify::SNIFF_CAP.saturating_sub(self.sniff_server.len());
                    self.sniff_server
                        .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
                    return;
                }
                // The server spoke first.
                let http_like = bytes.starts_with(b"HTTP/") || b"HTTP/".starts_with(bytes);
                if !http_like {
                    self.protocol = Some(Protocol::Other {
                        first_bytes: classify::hex_prefix(bytes),
                    });
                    self.mode = Mode::Opaque;
                    return;
                }
                self.mode = Mode::Http;
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
                Step::Oversized => {
                    self.counts.parse_errors += 1;
                    ctx.stats.parse_errors.header_too_large += 1;
                    self.finish_salvaged(dir, ctx);
                    // The rest of that message is skipped: what else it hid is unknown.
                    self.note_lost(dir, Loss::Maybe, ctx);
                }
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
                    // A message that began like one but could not be read is lost; pairing
                    // must not assume otherwise. Junk that is no message start is skipped,
                    // except from the client, where the server may still answer it (400).
                    if kind != ErrorKind::BadStartLine || self.is_req_dir(dir) {
                        self.note_lost(dir, Loss::AtLeastOne, ctx);
                    }
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

    /// Bytes beyond the message in progress were lost (gap, or a head that could not be read)
    /// in `dir`. The response direction carries nothing but responses: with
    /// [`Loss::AtLeastOne`] the oldest request still waiting cannot get its answer any more.
    /// How many more were lost is unknown, so the other waiting requests are not paired and
    /// the responses still owed to them are orphaned (`owed_max` bounds how many).
    fn note_lost(&mut self, dir: Direction, loss: Loss, ctx: &mut Ctx<'_>) {
        if self.is_req_dir(dir) {
            self.req_loss_seen = true;
            // A response kept for a late request may answer a lost one: let it go alone.
            self.flush_early(true, ctx);
            self.req_gap_pending = true;
            // Requests surely lost. Bytes lost while resynchronising are counted as one too:
            // over-counting only costs pairings, under-counting could pair an answer with the
            // wrong request. Inside a chunked body nothing is assumed.
            if matches!(loss, Loss::AtLeastOne | Loss::DuringResync) {
                self.req_lost_min += 1;
            }
            return;
        }
        if loss != Loss::AtLeastOne {
            // Maybe nothing was lost: every waiting request may still be answered.
        } else if self.late_debt > 0 {
            // The lost response may be the late answer that was expected.
            self.late_debt -= 1;
        } else if self.uncertain {
            self.owed_max = self.owed_max.map(|m| m.saturating_sub(1));
        } else if let Some(e) = self
            .queue
            .iter_mut()
            .find(|e| !e.resp_started && !e.resp_lost)
        {
            e.resp_lost = true;
            e.ambiguous = true;
            ctx.stats.ambiguous_after_gap += 1;
        }
        // More responses may have been lost with it: the requests still waiting can no longer
        // be paired by order. At most one response per such request is still to come.
        let mut remaining = 0;
        for e in self
            .queue
            .iter_mut()
            .filter(|e| !e.resp_started && !e.resp_lost)
        {
            e.resp_lost = true;
            e.ambiguous = true;
            remaining += 1;
        }
        if remaining > 0 {
            ctx.stats.ambiguous_after_gap += remaining;
            self.owed_max = match (self.uncertain, self.owed_max) {
                (false, _) => Some(remaining),
                (true, Some(m)) => Some(m + remaining),
                (true, None) => None,
            };
            self.uncertain = true;
        }
        self.settle();
        self.try_emit(ctx);
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
        let waiting = self
            .queue
            .iter()
            .filter(|e| e.response.is_none() && !e.resp_lost)
            .count();
        // Pipelining shows as a request sent while an earlier one is unanswered: one is waiting,
        // two request heads came with no response between them, or fewer answers to lost
        // requests came than requests were surely lost. (A lost response looks the same; erring
        // that way only costs pairings, never makes a wrong one.)
        let earlier_requests = self.counts.requests > 1;
        let lost_answered = self.orphans_since_req_head >= self.req_lost_min;
        if waiting > 0
            || (earlier_requests && self.responses_since_req_head == 0)
            || (self.req_gap_pending && !lost_answered)
        {
            self.pipelined = true;
        }
        let resp_idle = !self
            .halves
            .get(self.req_dir.reverse().index())
            .is_some_and(Half::mid_message);
        // A client that waits for each answer before the next request, with nothing waiting
        // and the server idle and heard from: every earlier request has been answered.
        let quiet = !self.pipelined && waiting == 0 && resp_idle;
        if self.req_gap_pending {
            self.req_gap_pending = false;
            // Requests were lost; their answers come after those of the requests waiting now.
            if !(quiet && lost_answered) {
                // Unanswered lost requests: their answers are still to come, after those of
                // the requests waiting now.
                self.uncertain = true;
                self.owed_max = None;
            }
        } else if self.uncertain && quiet && self.orphans_since_req_head > 0 {
            self.uncertain = false;
            self.owed_max = None;
        }
        self.responses_since_req_head = 0;
        self.orphans_since_req_head = 0;
        self.req_lost_min = 0;
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
            // Read while order is uncertain: never paired, emitted as soon as it is complete.
            resp_lost: self.uncertain,
            interim: Vec::new(),
            ambiguous: self.uncertain,
            wants_switch,
        });
        if self.uncertain {
            self.owed_max = self.owed_max.map(|m| m + 1);
        } else if let Some((_, r, f)) = self.early.pop_front() {
            // The late request of a response that came first.
            if let Some(e) = self.queue.back_mut() {
                e.resp_started = true;
                e.response = Some(r);
                e.resp_flags = f;
            }
        }
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
            let list = match self
                .queue
                .iter_mut()
                .find(|e| !e.resp_started && !e.resp_lost)
            {
                Some(e) => &mut e.interim,
                None => &mut self.stray_interim,
            };
            // A server may send any number of interim responses; keep the first few.
            if list.len() < MAX_INTERIM {
                list.push(status);
            }
            self.half(dir).discard();
            return;
        }
        self.counts.responses += 1;
        ctx.stats.responses += 1;
        self.responses_since_req_head += 1;
        let target = self.pick_target(ctx);
        self.target = Some(target);
        let method = match target {
            Target::Entry(seq) => self
                .queue
                .iter()
                .find(|e| e.seq == seq)
                .map(|e| e.method.clone()),
            Target::Orphan { .. } | Target::Early => None,
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
        let first = self
            .queue
            .iter_mut()
            .find(|e| !e.resp_started && !e.resp_lost);
        if let Some(e) = first {
            // Requests read before order became uncertain are still answered first, in order.
            e.resp_started = true;
            return Target::Entry(e.seq);
        }
        if !self.uncertain && self.handshake && !self.req_loss_seen {
            // Nothing was lost, so its request exists and is only late.
            return Target::Early;
        }
        // This response answers a request that was lost or skipped.
        self.orphans_since_req_head += 1;
        if self.uncertain {
            ctx.stats.ambiguous_after_gap += 1;
            self.owed_max = self.owed_max.map(|m| m.saturating_sub(1));
            self.settle();
            return Target::Orphan {
                late: false,
                ambiguous: true,
            };
        }
        Target::Orphan {
            late: false,
            ambiguous: false,
        }
    }

    /// Order is certain again once no unpaired request can still be owed a response.
    fn settle(&mut self) {
        if self.uncertain && self.owed_max == Some(0) {
            self.uncertain = false;
            self.owed_max = None;
        }
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
        let ts_end = m.ts_end;
        let (response, mut flags) = build_response(m, ctx);
        let Some(mut response) = response else { return };
        let switched = std::mem::take(&mut self.target_switch);
        if switched {
            push_flag(&mut flags, Flag::Upgraded);
            self.upgraded = true;
            ctx.stats.upgrades += 1;
            // A request still being read ends here (flagged incomplete) so that it is
            // emitted rather than dropped with the parser state.
            let req_dir = self.req_dir;
            if let Some(m) = self.half(req_dir).close() {
                self.on_done(req_dir, *m, ctx);
            }
            for h in &mut self.halves {
                h.tunnel();
            }
        }
        let target = self.target.take().unwrap_or(Target::Orphan {
            late: false,
            ambiguous: false,
        });
        if target == Target::Early && !switched {
            response.interim = std::mem::take(&mut self.stray_interim);
            let seq = EARLY_SEQ | self.next_seq;
            self.next_seq += 1;
            // If no request comes within the response timeout, it goes out alone.
            ctx.deadlines
                .push((ts_end.plus(ctx.cfg.response_timeout), seq));
            self.early.push_back((seq, response, flags));
            if self.early.len() > MAX_EARLY {
                if let Some((_, r, f)) = self.early.pop_front() {
                    self.emit_orphan(r, f, ctx);
                }
            }
            return;
        }
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
            Target::Orphan { .. } | Target::Early => {}
        }
        self.emit(None, Some(response), flags, ctx);
    }

    fn emit_orphan(&mut self, response: Response, mut flags: Vec<Flag>, ctx: &mut Ctx<'_>) {
        push_flag(&mut flags, Flag::NoRequest);
        self.emit(None, Some(response), flags, ctx);
    }

    /// Emits the responses kept for late requests on their own (`gap`: because of loss).
    fn flush_early(&mut self, gap: bool, ctx: &mut Ctx<'_>) {
        while let Some((_, r, mut f)) = self.early.pop_front() {
            if gap {
                push_flag(&mut f, Flag::Gap);
            }
            self.emit_orphan(r, f, ctx);
        }
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
        match self.mode {
            Mode::Opaque => return,
            Mode::Sniffing => {
                // The first bytes are gone: whatever follows is mid-stream, and the lost
                // bytes may have held messages (the gap below reports them lost).
                self.mode = Mode::Http;
                let early = std::mem::take(&mut self.sniff_server);
                for h in &mut self.halves {
                    *h = Half::new(h.role, false);
                    // The handshake fixed the roles.
                    h.detect_any = false;
                }
                self.sniff.clear();
                if !early.is_empty() {
                    self.feed(Direction::ToClient, &early, self.sniff_ts, ctx);
                }
            }
            Mode::Http => {}
        }
        let out = self.half(dir).gap(len);
        if out.skipped {
            ctx.stats.gaps_skipped += 1;
        }
        if out.salvaged_head {
            self.finish_salvaged(dir, ctx);
        }
        if let Some(m) = out.done {
            self.on_done(dir, *m, ctx);
        }
        if out.lost != Loss::None {
            self.note_lost(dir, out.lost, ctx);
        }
    }

    /// A message whose head was cut (gap, size cap) was salvaged: treat it as read, then end it.
    fn finish_salvaged(&mut self, dir: Direction, ctx: &mut Ctx<'_>) {
        let ts = self.half(dir).msg_ts().unwrap_or_default();
        self.on_head(dir, ts, ctx);
        if let Some(m) = self.half(dir).end_after_gap() {
            self.on_done(dir, *m, ctx);
        }
    }

    /// A response deadline passed for entry `seq`.
    pub fn on_timeout(&mut self, seq: u64, ctx: &mut Ctx<'_>) {
        if seq & EARLY_SEQ != 0 {
            // A kept response whose request never came: it and any kept before it go alone.
            while self.early.front().is_some_and(|(s, _, _)| *s <= seq) {
                if let Some((_, r, f)) = self.early.pop_front() {
                    self.emit_orphan(r, f, ctx);
                }
            }
            return;
        }
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
        if seq & EARLY_SEQ != 0 {
            return self.early.iter().any(|(s, _, _)| *s == seq);
        }
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
                self.feed(Direction::ToServer, &buf, self.sniff_ts, ctx);
                let server = std::mem::take(&mut self.sniff_server);
                self.feed(Direction::ToClient, &server, self.sniff_ts, ctx);
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
        self.flush_early(false, ctx);
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
        self.halves
            .iter()
            .fold(0u64, |a, h| a.saturating_add(h.tunnel_bytes))
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
