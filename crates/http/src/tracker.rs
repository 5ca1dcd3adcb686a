//! The driver: a capped table of connections fed with `StreamEvent`s, response timeouts on
//! capture time, and the numbering of exchanges.

use crate::classify::Protocol;
use crate::config::HttpConfig;
use crate::error::ConfigError;
use crate::h1::conn::{Conn, Ctx, Pair};
use crate::stats::HttpStats;
use hashbrown::HashMap;
use periscope_model::exchange::FlowInfo;
use periscope_model::{CloseReason, Exchange, FlowId, FlowStats, StreamEvent, Timestamp};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// What the tracker hands on.
#[derive(Debug, Clone)]
pub enum HttpOutput {
    /// A request paired with its response (or one of them alone, flagged).
    Exchange(Box<Exchange>),
    /// A connection ended; what was seen on it, for coverage reporting.
    Connection(Box<ConnectionSummary>),
}

/// One connection's account, emitted when it closes (or is evicted, or at `finish`).
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionSummary {
    /// The reassembler's connection number.
    pub flow_id: FlowId,
    /// Addresses (client = the side that sent requests, after any role swap).
    pub flow: FlowInfo,
    /// Time of `Open`.
    pub opened: Timestamp,
    /// Time of `Close` (of the last event seen when evicted or finished).
    pub closed: Timestamp,
    /// Why it closed; `None` when this stage evicted it or `finish` was called.
    pub close_reason: Option<CloseReason>,
    /// Whether the reassembler saw the handshake.
    pub handshake: bool,
    /// What the connection carried.
    pub protocol: Protocol,
    /// Requests read.
    pub requests: u64,
    /// Final responses read.
    pub responses: u64,
    /// Exchanges emitted.
    pub exchanges: u64,
    /// Exchanges emitted without a response.
    pub no_response: u64,
    /// Exchanges emitted without a request.
    pub no_request: u64,
    /// Heads that could not be read.
    pub parse_errors: u64,
    /// The connection switched protocol (101, CONNECT).
    pub upgraded: bool,
    /// Bytes after the switch.
    pub upgraded_bytes: u64,
    /// Client and server were swapped from the reassembler's guess.
    pub roles_swapped: bool,
    /// The reassembler's counters, copied from `Close` (default when there was none).
    pub stats: FlowStats,
}

struct Tracked {
    conn: Conn,
    flow: FlowInfo,
    opened: Timestamp,
    last: Timestamp,
    handshake: bool,
}

/// Turns reassembled TCP streams into HTTP/1.x exchanges. One per worker thread; feed it the
/// events of the flows that thread owns.
pub struct HttpTracker {
    cfg: HttpConfig,
    /// Open connections. A hash map rather than an ordered map: flow ids grow monotonically,
    /// which leaves a B-tree's nodes half full (measured: about 1.2 KiB per idle connection).
    conns: HashMap<FlowId, Tracked, foldhash::fast::FixedState>,
    /// Flow ids in the order they opened, for evicting the oldest; ids of connections that
    /// already closed are skipped lazily and compacted away.
    opened: VecDeque<FlowId>,
    /// (deadline, flow, entry) min-heap; stale items are skipped when popped.
    deadlines: BinaryHeap<Reverse<(Timestamp, FlowId, u64)>>,
    scratch: Vec<(Timestamp, u64)>,
    next_id: u64,
    stride: u64,
    stats: HttpStats,
}

impl HttpTracker {
    /// A tracker numbering exchanges 1, 2, 3, …. The configuration is assumed valid (see
    /// [`HttpTracker::build`]); out-of-range limits are clamped.
    pub fn new(cfg: HttpConfig) -> Self {
        Self::with_id_base(cfg, 1, 1)
    }

    /// Validates `cfg` and builds a tracker.
    pub fn build(cfg: HttpConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Self::new(cfg))
    }

    /// A tracker numbering exchanges `start`, `start + stride`, …: worker `i` of `n` uses
    /// `(i + 1, n)` so ids stay unique across workers.
    pub fn with_id_base(mut cfg: HttpConfig, start: u64, stride: u64) -> Self {
        cfg.max_connections = cfg.max_connections.max(1);
        cfg.max_pending_requests = cfg.max_pending_requests.max(1);
        cfg.max_headers = cfg.max_headers.clamp(1, crate::config::MAX_HEADERS_LIMIT);
        cfg.decompress_max_ratio = cfg.decompress_max_ratio.max(1);
        HttpTracker {
            cfg,
            conns: HashMap::default(),
            opened: VecDeque::new(),
            deadlines: BinaryHeap::new(),
            scratch: Vec::new(),
            next_id: start,
            stride: stride.max(1),
            stats: HttpStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &HttpStats {
        &self.stats
    }

    /// Connections currently tracked.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Handles one event of connection `flow`.
    pub fn on_event(
        &mut self,
        flow: FlowId,
        ev: StreamEvent<'_>,
        out: &mut impl FnMut(HttpOutput),
    ) {
        match ev {
            StreamEvent::Open {
                ts,
                client,
                server,
                tunnel,
                vlan,
                handshake,
            } => {
                if let Some(old) = self.conns.remove(&flow) {
                    self.close_conn(flow, old, None, None, out);
                }
                if self.conns.len() >= self.cfg.max_connections {
                    while let Some(oldest) = self.opened.pop_front() {
                        if let Some(t) = self.conns.remove(&oldest) {
                            self.stats.evictions += 1;
                            self.close_conn(oldest, t, None, None, out);
                            break;
                        }
                    }
                }
                if self.opened.len() > 2 * self.conns.len() + 1024 {
                    let conns = &self.conns;
                    self.opened.retain(|id| conns.contains_key(id));
                }
                self.opened.push_back(flow);
                self.stats.connections += 1;
                self.conns.insert(
                    flow,
                    Tracked {
                        conn: Conn::new(handshake),
                        flow: FlowInfo {
                            client,
                            server,
                            tunnel,
                            vlan,
                        },
                        opened: ts,
                        last: ts,
                        handshake,
                    },
                );
            }
            StreamEvent::Data { ts, dir, bytes } => {
                self.with_conn(flow, ts, out, |conn, ctx| conn.on_data(dir, bytes, ts, ctx));
            }
            StreamEvent::Gap { ts, dir, len } => {
                self.with_conn(flow, ts, out, |conn, ctx| conn.on_gap(dir, len, ctx));
            }
            StreamEvent::Close { ts, reason, stats } => match self.conns.remove(&flow) {
                Some(mut t) => {
                    t.last = ts;
                    self.close_conn(flow, t, Some(reason), Some(stats.clone()), out);
                }
                None => self.stats.unknown_flow_events += 1,
            },
        }
    }

    fn with_conn(
        &mut self,
        flow: FlowId,
        ts: Timestamp,
        out: &mut impl FnMut(HttpOutput),
        f: impl FnOnce(&mut Conn, &mut Ctx<'_>),
    ) {
        let Some(t) = self.conns.get_mut(&flow) else {
            self.stats.unknown_flow_events += 1;
            return;
        };
        t.last = t.last.max(ts);
        let info = flow_info(t);
        let mut next_id = self.next_id;
        let stride = self.stride;
        let mut emit = |p: Pair| {
            out(HttpOutput::Exchange(Box::new(to_exchange(
                p,
                flow,
                info,
                &mut next_id,
                stride,
            ))));
        };
        self.scratch.clear();
        let mut ctx = Ctx {
            cfg: &self.cfg,
            stats: &mut self.stats,
            out: &mut emit,
            deadlines: &mut self.scratch,
        };
        f(&mut t.conn, &mut ctx);
        self.next_id = next_id;
        for (deadline, seq) in self.scratch.drain(..) {
            self.deadlines.push(Reverse((deadline, flow, seq)));
        }
        self.compact_deadlines();
    }

    /// Emits requests whose response did not start within `response_timeout` of capture time
    /// before `now`. Cheap when nothing is due.
    pub fn advance(&mut self, now: Timestamp, out: &mut impl FnMut(HttpOutput)) {
        while let Some(Reverse((deadline, flow, seq))) = self.deadlines.peek().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if self.conns.get(&flow).is_some_and(|t| t.conn.waiting(seq)) {
                self.with_conn(flow, now, out, |conn, ctx| conn.on_timeout(seq, ctx));
            }
        }
    }

    /// Ends every connection (end of input): emits what is pending and every summary.
    pub fn finish(&mut self, out: &mut impl FnMut(HttpOutput)) {
        let mut flows: Vec<FlowId> = self.conns.keys().copied().collect();
        flows.sort_unstable();
        for flow in flows {
            if let Some(t) = self.conns.remove(&flow) {
                self.close_conn(flow, t, None, None, out);
            }
        }
        self.opened.clear();
        self.deadlines.clear();
    }

    /// The heap holds one item per completed request until its deadline; rebuild it when
    /// answered requests make up most of it, so it stays proportional to what is pending.
    fn compact_deadlines(&mut self) {
        let cap = self.cfg.max_connections.saturating_mul(4).max(4096);
        if self.deadlines.len() <= cap {
            return;
        }
        let conns = &self.conns;
        let items = std::mem::take(&mut self.deadlines).into_vec();
        self.deadlines = items
            .into_iter()
            .filter(|Reverse((_, f, s))| conns.get(f).is_some_and(|t| t.conn.waiting(*s)))
            .collect();
    }

    fn close_conn(
        &mut self,
        flow: FlowId,
        mut t: Tracked,
        reason: Option<CloseReason>,
        fstats: Option<FlowStats>,
        out: &mut impl FnMut(HttpOutput),
    ) {
        let info = flow_info(&t);
        let mut next_id = self.next_id;
        let stride = self.stride;
        {
            let mut emit = |p: Pair| {
                out(HttpOutput::Exchange(Box::new(to_exchange(
                    p,
                    flow,
                    info,
                    &mut next_id,
                    stride,
                ))));
            };
            let mut ctx = Ctx {
                cfg: &self.cfg,
                stats: &mut self.stats,
                out: &mut emit,
                deadlines: &mut self.scratch,
            };
            t.conn.close(&mut ctx);
        }
        self.scratch.clear();
        self.next_id = next_id;
        let protocol = t.conn.protocol.clone().unwrap_or(Protocol::Empty);
        match protocol {
            Protocol::Http1 => self.stats.connections_http1 += 1,
            Protocol::Tls { .. } => self.stats.connections_tls += 1,
            Protocol::Http2PriorKnowledge => self.stats.connections_http2 += 1,
            Protocol::Other { .. } => self.stats.connections_other += 1,
            Protocol::Empty => self.stats.connections_empty += 1,
        }
        let upgraded_bytes = t.conn.tunnel_bytes();
        self.stats.upgraded_bytes = self.stats.upgraded_bytes.saturating_add(upgraded_bytes);
        let c = &t.conn.counts;
        let summary = ConnectionSummary {
            flow_id: flow,
            flow: info,
            opened: t.opened,
            closed: t.last,
            close_reason: reason,
            handshake: t.handshake,
            protocol,
            requests: c.requests,
            responses: c.responses,
            exchanges: c.exchanges,
            no_response: c.no_response,
            no_request: c.no_request,
            parse_errors: c.parse_errors,
            upgraded: t.conn.upgraded,
            upgraded_bytes,
            roles_swapped: t.conn.swapped,
            stats: fstats.unwrap_or_default(),
        };
        out(HttpOutput::Connection(Box::new(summary)));
    }
}

fn flow_info(t: &Tracked) -> FlowInfo {
    if t.conn.swapped {
        FlowInfo {
            client: t.flow.server,
            server: t.flow.client,
            ..t.flow
        }
    } else {
        t.flow
    }
}

fn to_exchange(
    p: Pair,
    flow_id: FlowId,
    flow: FlowInfo,
    next_id: &mut u64,
    stride: u64,
) -> Exchange {
    let id = *next_id;
    *next_id = next_id.saturating_add(stride);
    let ts = p
        .request
        .as_ref()
        .map(|r| r.ts)
        .or(p.response.as_ref().map(|r| r.ts))
        .unwrap_or_default();
    Exchange {
        id,
        flow_id,
        ts,
        flow,
        request: p.request,
        response: p.response,
        flags: p.flags,
    }
}
