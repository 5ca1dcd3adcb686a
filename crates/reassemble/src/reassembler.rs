//! The driver: finds or opens the connection of each segment, decides roles, handles SYN,
//! FIN, RST, reuse, timeouts and eviction, and hands payload to the two halves.

use crate::config::{ReassemblyConfig, MAX_FLOWS_LIMIT};
use crate::half::{Half, Limits, Out};
use crate::stats::ReassemblyStats;
use crate::table::{
    Flow, FlowKey, FlowTable, ListId, F_CLIENT_IS_A, F_HANDSHAKE, F_RST, F_SYN, F_SYN_ACK,
};
use crate::StreamSink;
use periscope_model::{
    CloseReason, Direction, Endpoint, FlowId, FlowStats, Segment, StreamEvent, Timestamp,
};
use std::collections::VecDeque;
use std::time::Duration;

/// Bound of the ACK-gap check queue. When full, waits are still resolved by the connection's
/// own packets and at close, just not by `advance`.
const ACK_QUEUE_MAX: usize = 1 << 16;

/// Payload lengths above this are not believed (a decoder bug or garbage): only the captured
/// bytes are used. IPv4/IPv6 cannot carry more than 64 KiB without jumbograms; GRO'd captures
/// stay well below this.
const MAX_ANNOUNCED: u64 = 16 << 20;

/// `process` checks timeouts at most this often (capture time), so that a busy stream pays
/// for the check only once in a while. `advance` always checks.
const SWEEP_EVERY: Duration = Duration::from_millis(100);

/// Lowest port of the ephemeral range (Linux uses 32768–60999, IANA 49152–65535).
const EPHEMERAL_FROM: u16 = 32768;

/// TCP reassembler for any number of connections. See the crate docs for the policies.
#[derive(Debug)]
pub struct Reassembler {
    cfg: ReassemblyConfig,
    lim: Limits,
    table: FlowTable,
    stats: ReassemblyStats,
    buffered_total: usize,
    next_id: u64,
    latest: Timestamp,
    next_sweep: Timestamp,
    /// Connections waiting to see whether data an ACK proved was only reordered:
    /// (slot, flow id, since), oldest first. Stale entries (flow gone) are skipped.
    ack_queue: VecDeque<(u32, u64, Timestamp)>,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(ReassemblyConfig::default())
    }
}

impl Reassembler {
    /// Builds a reassembler. Limits of zero are raised to one (call
    /// [`ReassemblyConfig::validate`] first to reject them instead).
    pub fn new(mut cfg: ReassemblyConfig) -> Self {
        cfg.max_flows = cfg.max_flows.clamp(1, MAX_FLOWS_LIMIT);
        let lim = Limits {
            per_flow_bytes: cfg.max_buffered_bytes_per_flow.max(1),
            per_flow_segments: cfg.max_buffered_segments_per_flow.max(1),
            total_bytes: cfg.max_buffered_bytes_total.max(1),
        };
        Reassembler {
            cfg,
            lim,
            table: FlowTable::default(),
            stats: ReassemblyStats::default(),
            buffered_total: 0,
            next_id: 1,
            latest: Timestamp(0),
            next_sweep: Timestamp(0),
            ack_queue: VecDeque::new(),
        }
    }

    /// Counters since the reassembler was built.
    pub fn stats(&self) -> &ReassemblyStats {
        &self.stats
    }

    /// Connections in the table, including closed ones lingering for late retransmissions.
    pub fn flow_count(&self) -> usize {
        self.table.len()
    }

    /// Out-of-order bytes held over all connections: payload plus 96 bytes of bookkeeping per
    /// buffered segment (what the `max_buffered_bytes_*` limits count).
    pub fn buffered_bytes(&self) -> usize {
        self.buffered_total
    }

    /// Bytes of one table entry and the number of entries the table has room for (slab slots,
    /// hash index capacity), for memory reports. Buffers of out-of-order data come on top.
    pub fn table_footprint(&self) -> (usize, usize, usize) {
        let (slots, index) = self.table.capacity();
        (std::mem::size_of::<Option<Flow>>(), slots, index)
    }

    /// Takes one TCP segment; emits the events it causes.
    pub fn process(&mut self, seg: &Segment<'_>, sink: &mut impl StreamSink) {
        self.stats.segments += 1;
        self.stats.payload_bytes += seg.payload.len() as u64;
        self.latest = self.latest.max(seg.ts);
        if seg.ts >= self.next_sweep {
            self.advance(seg.ts, sink);
        }
        let (key, src_is_a) = FlowKey::of(seg);
        let hash = self.table.hash(&key);
        let flags = seg.flags;
        let existing = match self.table.find(hash, &key) {
            Some(i) => {
                let Some(f) = self.table.get(i) else { return };
                let dir = direction(f, src_is_a);
                if f.closed() {
                    let h = f.half.get(dir.index());
                    if flags.syn() && h.and_then(Half::isn) != Some(seg.seq) {
                        // A new connection on a 4-tuple that closed recently: its Close was
                        // already emitted, so the tombstone just goes.
                        self.table.remove(i);
                        None
                    } else {
                        self.stats.drops.after_close += 1;
                        return;
                    }
                } else if flags.syn() && !syn_fits(f, dir, seg) {
                    self.close(i, CloseReason::Reused, seg.ts, false, sink);
                    None
                } else {
                    Some(i)
                }
            }
            None => None,
        };
        let i = match existing {
            Some(i) => i,
            None => {
                if flags.rst() {
                    self.stats.drops.rst_without_flow += 1;
                    return;
                }
                self.open(key, hash, src_is_a, seg, sink)
            }
        };
        self.on_segment(i, src_is_a, seg, sink);
    }

    /// Opens a connection for `seg`, making room first.
    fn open(
        &mut self,
        key: FlowKey,
        hash: u64,
        src_is_a: bool,
        seg: &Segment<'_>,
        sink: &mut impl StreamSink,
    ) -> u32 {
        while self.table.len() >= self.cfg.max_flows {
            if let Some(t) = self.table.tail(ListId::Closed) {
                self.table.remove(t);
            } else if let Some(t) = self.table.tail(ListId::Active) {
                self.close(t, CloseReason::Evicted, seg.ts, false, sink);
            } else {
                break;
            }
        }
        let f = seg.flags;
        let (src_is_client, handshake) = if f.syn() && !f.ack() {
            (true, true)
        } else if f.syn() {
            (false, true)
        } else {
            (
                dst_is_server_guess(seg.src, seg.dst, &self.cfg.server_ports),
                false,
            )
        };
        let mut flags = 0;
        if src_is_client == src_is_a {
            flags |= F_CLIENT_IS_A;
        }
        if handshake {
            flags |= F_HANDSHAKE;
            self.stats.flows_with_handshake += 1;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.stats.flows_created += 1;
        let (client, server) = if src_is_client {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        sink.on_event(
            FlowId(id),
            StreamEvent::Open {
                ts: seg.ts,
                client,
                server,
                tunnel: seg.tunnel,
                vlan: seg.vlan,
                handshake,
            },
        );
        self.table.insert(hash, Flow::new(key, id, seg.ts, flags))
    }

    /// Applies one segment to an open connection.
    fn on_segment(
        &mut self,
        i: u32,
        src_is_a: bool,
        seg: &Segment<'_>,
        sink: &mut impl StreamSink,
    ) {
        self.table.touch(i);
        let Some(f) = self.table.get_mut(i) else {
            return;
        };
        f.last_seen = f.last_seen.max(seg.ts);
        let dir = direction(f, src_is_a);
        let (me, peer) = match &mut f.half {
            [h0, h1] if dir == Direction::ToServer => (h0, h1),
            [h0, h1] => (h1, h0),
        };
        let flags = seg.flags;
        me.packets += 1;
        me.bytes += seg.payload.len() as u64;
        let mut data_seq = seg.seq;
        if flags.syn() {
            f.flags |= if flags.ack() { F_SYN_ACK } else { F_SYN };
            match me.isn() {
                Some(_) => self.stats.syn_retransmissions += 1,
                None => me.start_syn(seg.seq),
            }
            data_seq = seg.seq.wrapping_add(1);
        }
        let mut announced = u64::from(seg.payload_len).max(seg.payload.len() as u64);
        if announced > MAX_ANNOUNCED {
            self.stats.drops.bad_payload_len += 1;
            announced = seg.payload.len() as u64;
        }
        if flags.rst() && !me.rst_plausible(seg.seq) {
            self.stats.drops.rst_out_of_window += 1;
            return;
        }
        if flags.rst() {
            // Close at once; `close` flushes what is buffered (holes become gaps).
            f.flags |= F_RST;
            self.close(i, CloseReason::Rst, seg.ts, true, sink);
            return;
        }
        let mut o = Out {
            sink: &mut *sink,
            id: FlowId(f.id),
            dir: dir.reverse(),
            ts: seg.ts,
            stats: &mut self.stats,
            total: &mut self.buffered_total,
            lim: self.lim,
        };
        // What this side acknowledges tells what the peer's direction really sent.
        if flags.ack() && peer.ack(seg.ack, &mut o) && self.ack_queue.len() < ACK_QUEUE_MAX {
            self.ack_queue.push_back((i, f.id, seg.ts));
        }
        peer.poll_ack(true, self.cfg.ack_gap_delay, &mut o);
        o.dir = dir;
        me.start_at(data_seq);
        if announced > 0 {
            me.data(data_seq, seg.payload, announced, &mut o);
        }
        if flags.fin() {
            me.fin_at(data_seq.wrapping_add(announced as u32), &mut o);
        }
        me.poll_ack(true, self.cfg.ack_gap_delay, &mut o);
        if me.fin() && peer.fin() {
            self.close(i, CloseReason::Fin, seg.ts, true, sink);
        }
    }

    /// Flushes a connection's halves, emits `Close`, and either keeps a tombstone (FIN, RST)
    /// or removes it.
    fn close(
        &mut self,
        i: u32,
        reason: CloseReason,
        ts: Timestamp,
        linger: bool,
        sink: &mut impl StreamSink,
    ) {
        let Some(f) = self.table.get_mut(i) else {
            return;
        };
        let id = FlowId(f.id);
        for (n, h) in f.half.iter_mut().enumerate() {
            let dir = if n == 0 {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            let mut o = Out {
                sink: &mut *sink,
                id,
                dir,
                ts,
                stats: &mut self.stats,
                total: &mut self.buffered_total,
                lim: self.lim,
            };
            h.flush(&mut o);
        }
        let stats = flow_stats(f);
        sink.on_event(
            id,
            StreamEvent::Close {
                ts,
                reason,
                stats: &stats,
            },
        );
        for h in &mut f.half {
            h.release();
        }
        let c = &mut self.stats.closed;
        match reason {
            CloseReason::Fin => c.fin += 1,
            CloseReason::Rst => c.rst += 1,
            CloseReason::Timeout => c.timeout += 1,
            CloseReason::Evicted => c.evicted += 1,
            CloseReason::EndOfCapture => c.end_of_capture += 1,
            CloseReason::Reused => c.reused += 1,
        }
        if linger {
            self.table.move_to_closed(i, ts);
        } else {
            self.table.remove(i);
        }
    }

    /// Closes connections idle for `idle_timeout` and forgets closed ones after
    /// `closed_timeout`, both measured against `now` (capture time). O(1) when nothing expires.
    pub fn advance(&mut self, now: Timestamp, sink: &mut impl StreamSink) {
        self.next_sweep = now.plus(SWEEP_EVERY);
        let delay = self.cfg.ack_gap_delay;
        while let Some(&(i, id, since)) = self.ack_queue.front() {
            if now.since(since) < delay {
                break;
            }
            self.ack_queue.pop_front();
            let Some(f) = self.table.get_mut(i) else {
                continue;
            };
            if f.id != id || f.closed() {
                continue;
            }
            for (n, h) in f.half.iter_mut().enumerate() {
                let dir = if n == 0 {
                    Direction::ToServer
                } else {
                    Direction::ToClient
                };
                let mut o = Out {
                    sink: &mut *sink,
                    id: FlowId(id),
                    dir,
                    ts: now,
                    stats: &mut self.stats,
                    total: &mut self.buffered_total,
                    lim: self.lim,
                };
                h.poll_ack(false, delay, &mut o);
            }
        }
        while let Some(t) = self.table.tail(ListId::Closed) {
            match self.table.get(t) {
                Some(f) if now.since(f.last_seen) >= self.cfg.closed_timeout => {
                    self.table.remove(t);
                }
                _ => break,
            }
        }
        while let Some(t) = self.table.tail(ListId::Active) {
            match self.table.get(t) {
                Some(f) if now.since(f.last_seen) >= self.cfg.idle_timeout => {
                    self.close(t, CloseReason::Timeout, now, false, sink);
                }
                _ => break,
            }
        }
    }

    /// End of input: closes every connection with `EndOfCapture` (least recently active
    /// first) and empties the table.
    pub fn finish(&mut self, sink: &mut impl StreamSink) {
        while let Some(t) = self.table.tail(ListId::Active) {
            let ts = self.table.get(t).map_or(self.latest, |f| f.last_seen);
            self.close(t, CloseReason::EndOfCapture, ts, false, sink);
        }
        while let Some(t) = self.table.tail(ListId::Closed) {
            self.table.remove(t);
        }
    }
}

#[cfg(test)]
impl Reassembler {
    /// Recounts buffered bytes from the buffers themselves; panics if a running total drifted.
    pub(crate) fn check_buffer_accounting(&self) {
        let mut sum = 0;
        for f in self.table.flows() {
            for h in &f.half {
                let (kept, counted) = h.recount_buffered();
                assert_eq!(kept, counted, "flow {} half total drifted", f.id);
                sum += counted;
            }
        }
        assert_eq!(sum, self.buffered_total, "global buffered total drifted");
    }
}

/// Which way `src` sends on flow `f`.
fn direction(f: &Flow, src_is_a: bool) -> Direction {
    if src_is_a == f.has(F_CLIENT_IS_A) {
        Direction::ToServer
    } else {
        Direction::ToClient
    }
}

/// Does a SYN-bearing segment belong to the open connection `f`? A SYN from the client or a
/// SYN-ACK from the server fits when it repeats the ISN already seen or is the first segment
/// of its direction; anything else starts a new connection on the same 4-tuple.
fn syn_fits(f: &Flow, dir: Direction, seg: &Segment<'_>) -> bool {
    let right_role = if seg.flags.ack() {
        dir == Direction::ToClient
    } else {
        dir == Direction::ToServer
    };
    let Some(h) = f.half.get(dir.index()) else {
        return false;
    };
    right_role
        && match h.isn() {
            Some(isn) => isn == seg.seq,
            None => !h.started(),
        }
}

/// Guesses the server of a connection picked up mid-stream: true when `dst` looks like it.
pub(crate) fn dst_is_server_guess(src: Endpoint, dst: Endpoint, server_ports: &[u16]) -> bool {
    let (s, d) = (src.port, dst.port);
    let (sp, dp) = (server_ports.contains(&s), server_ports.contains(&d));
    if sp != dp {
        return dp;
    }
    if s != d && s.min(d) < 1024 {
        return d < s;
    }
    let (se, de) = (s >= EPHEMERAL_FROM, d >= EPHEMERAL_FROM);
    if se != de {
        return se;
    }
    d <= s
}

/// The connection's counters in the shared shape.
fn flow_stats(f: &Flow) -> FlowStats {
    let [c, s] = &f.half;
    let x = |h: &Half, get: fn(&crate::half::HalfExtra) -> u64| h.extra().map_or(0, get);
    let pair = |get: fn(&crate::half::HalfExtra) -> u64| [x(c, get), x(s, get)];
    FlowStats {
        packets: [c.packets, s.packets],
        bytes: [c.bytes, s.bytes],
        syn: f.has(F_SYN),
        syn_ack: f.has(F_SYN_ACK),
        fin: [c.fin(), s.fin()],
        rst: f.has(F_RST),
        gap_bytes: pair(|x| x.gap_bytes),
        gaps: pair(|x| x.gaps),
        retransmitted_bytes: pair(|x| x.retransmitted),
        out_of_order: pair(|x| x.out_of_order),
        inconsistent_overlaps: pair(|x| x.inconsistent),
    }
}
