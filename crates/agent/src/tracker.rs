//! Turns ring buffer records into per-connection stream events.
//!
//! One entry per connection `(tgid, fd, start)`. The entry decides, once:
//! - the role (server side or client side of the traced process): from accept/connect when
//!   the kernel saw them, else from the host's listening ports;
//! - whether the payload comes from the syscalls (plaintext TCP) or from OpenSSL (TLS): a
//!   connection whose first syscall bytes are a TLS record, or that OpenSSL touched, only
//!   delivers SSL plaintext.
//!
//! Every record carries its byte offset within (source, direction); a jump becomes a
//! `Gap` (lost events, truncated calls, sendfile), a step back is dropped as a duplicate.
//! `Open` is sent lazily before the first delivered byte, so connections that are filtered
//! out or whose TLS cannot be decrypted produce no events at all (they are counted).

use crate::event::{comm_str, IoDir, KernelRole, Kind, RawEvent, Source};
use periscope_model::{
    CloseReason, Direction, Endpoint, FlowId, FlowStats, StreamEvent, Timestamp,
};
use std::collections::{HashMap, HashSet};

/// Identifies a connection: the kernel's (tgid, fd) plus the time its entry was created,
/// so a reused descriptor is a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ConnKey {
    tgid: u32,
    fd: u32,
    start: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    /// No payload seen yet.
    Undecided,
    /// Syscall bytes are the application's bytes.
    Plain,
    /// Only SSL plaintext is delivered.
    Tls,
}

#[derive(Debug)]
struct Conn {
    id: FlowId,
    /// True when the traced process is the server.
    server_side: bool,
    /// Roles fixed by accept/connect (false: guessed from listening ports).
    handshake: bool,
    ignored: bool,
    payload: Payload,
    ssl_seen: bool,
    opened: bool,
    client: Endpoint,
    server: Endpoint,
    expected: [[u64; 2]; 2],
    stats: FlowStats,
    last_mono: u64,
    tgid: u32,
    comm: [u8; 16],
}

/// A process whose TLS traffic could not be decrypted, as seen from its connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueTls {
    /// Process id.
    pub pid: u32,
    /// Process name.
    pub comm: String,
    /// Connections that carried TLS records but no OpenSSL plaintext.
    pub connections: u64,
}

/// Counters of the userspace side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// Connections that produced stream events.
    pub flows: u64,
    /// Connections seen but not reported (client side, filtered).
    pub ignored: u64,
    /// Connections closed because the table was full.
    pub evicted: u64,
    /// Connections closed after the idle timeout.
    pub timed_out: u64,
    /// Gaps reported (lost or truncated payload).
    pub gaps: u64,
    /// Bytes reported as gaps.
    pub gap_bytes: u64,
    /// Bytes dropped because they repeated an earlier offset.
    pub duplicate_bytes: u64,
    /// Records that could not be parsed.
    pub malformed: u64,
    /// Records of calls the kernel truncated.
    pub truncated_records: u64,
}

/// Connection table and the record → event translation. Pure: no BPF, testable alone.
#[derive(Debug)]
pub(crate) struct Tracker {
    conns: HashMap<ConnKey, Conn>,
    max_conns: usize,
    outbound: bool,
    listening: HashSet<u16>,
    /// Added to the kernel's monotonic clock to get wall-clock nanoseconds.
    mono_to_real: i128,
    next_id: u64,
    pub stats: TrackerStats,
    opaque: HashMap<u32, OpaqueTls>,
}

/// Cap on the per-process table of undecryptable TLS, evicting nothing: new processes past
/// the cap are not listed (the count of flows still is).
const MAX_OPAQUE: usize = 4096;

fn looks_like_tls(b: &[u8]) -> bool {
    // A TLS record: content type 20..=23, version 3.x.
    matches!(b, [20..=23, 3, 0..=4, ..])
}

impl Tracker {
    pub(crate) fn new(max_conns: usize, outbound: bool, mono_to_real: i128) -> Self {
        Tracker {
            conns: HashMap::new(),
            max_conns: max_conns.max(1),
            outbound,
            listening: HashSet::new(),
            mono_to_real,
            next_id: 1,
            stats: TrackerStats::default(),
            opaque: HashMap::new(),
        }
    }

    /// Replaces the set of local listening ports (used for connections older than the agent).
    pub(crate) fn set_listening(&mut self, ports: HashSet<u16>) {
        self.listening = ports;
    }

    pub(crate) fn opaque_tls(&self) -> Vec<OpaqueTls> {
        let mut v: Vec<_> = self.opaque.values().cloned().collect();
        v.sort_by_key(|o| o.pid);
        v
    }

    pub(crate) fn open_connections(&self) -> usize {
        self.conns.len()
    }

    fn ts(&self, mono: u64) -> Timestamp {
        let v = i128::from(mono) + self.mono_to_real;
        Timestamp(v.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// Handles one ring buffer record.
    pub(crate) fn handle(&mut self, rec: &[u8], sink: &mut impl FnMut(FlowId, StreamEvent<'_>)) {
        let ev = match RawEvent::parse(rec) {
            Ok(ev) => ev,
            Err(_) => {
                self.stats.malformed += 1;
                return;
            }
        };
        if ev.flags & crate::event::FLAG_TRUNCATED != 0 {
            self.stats.truncated_records += 1;
        }
        let key = ConnKey {
            tgid: ev.tgid,
            fd: ev.fd,
            start: ev.conn_start,
        };
        if !self.conns.contains_key(&key) {
            if ev.kind == Kind::Close {
                return;
            }
            if self.conns.len() >= self.max_conns {
                self.evict_oldest(sink);
            }
            let conn = self.new_conn(&ev);
            self.conns.insert(key, conn);
        }
        let ts = self.ts(ev.ts_mono);
        let Some(conn) = self.conns.get_mut(&key) else {
            return;
        };
        conn.last_mono = conn.last_mono.max(ev.ts_mono);
        match ev.kind {
            Kind::Close => {
                let offs = ev.close_offsets();
                if let Some(conn) = self.conns.remove(&key) {
                    self.finish(conn, Some(offs), ts, CloseReason::Fin, sink);
                }
            }
            Kind::Data => {
                if conn.ignored {
                    return;
                }
                Self::data(conn, &ev, ts, &mut self.stats, sink);
            }
        }
    }

    fn new_conn(&mut self, ev: &RawEvent<'_>) -> Conn {
        let local = Endpoint::new(ev.local.0, ev.local.1);
        let remote = Endpoint::new(ev.remote.0, ev.remote.1);
        let (server_side, handshake) = match ev.role {
            KernelRole::Server => (true, true),
            KernelRole::Client => (false, true),
            KernelRole::Unknown => (self.listening.contains(&local.port), false),
        };
        let ignored = !server_side && !self.outbound;
        if ignored {
            self.stats.ignored += 1;
        }
        let (client, server) = if server_side {
            (remote, local)
        } else {
            (local, remote)
        };
        let id = FlowId(self.next_id);
        self.next_id += 1;
        Conn {
            id,
            server_side,
            handshake,
            ignored,
            payload: Payload::Undecided,
            ssl_seen: false,
            opened: false,
            client,
            server,
            expected: [[0; 2]; 2],
            stats: FlowStats::default(),
            last_mono: ev.ts_mono,
            tgid: ev.tgid,
            comm: ev.comm,
        }
    }

    fn direction(conn: &Conn, io: IoDir) -> Direction {
        match (conn.server_side, io) {
            (true, IoDir::In) | (false, IoDir::Out) => Direction::ToServer,
            _ => Direction::ToClient,
        }
    }

    fn open(
        conn: &mut Conn,
        ts: Timestamp,
        stats: &mut TrackerStats,
        sink: &mut impl FnMut(FlowId, StreamEvent<'_>),
    ) {
        if conn.opened {
            return;
        }
        conn.opened = true;
        stats.flows += 1;
        sink(
            conn.id,
            StreamEvent::Open {
                ts,
                client: conn.client,
                server: conn.server,
                tunnel: Default::default(),
                vlan: None,
                handshake: conn.handshake,
            },
        );
    }

    fn data(
        conn: &mut Conn,
        ev: &RawEvent<'_>,
        ts: Timestamp,
        stats: &mut TrackerStats,
        sink: &mut impl FnMut(FlowId, StreamEvent<'_>),
    ) {
        match ev.source {
            Source::Ssl => {
                conn.ssl_seen = true;
                conn.payload = Payload::Tls;
            }
            Source::Syscall => match conn.payload {
                Payload::Tls => return,
                Payload::Plain => {}
                Payload::Undecided => {
                    if ev.data.is_empty() {
                        return;
                    }
                    if looks_like_tls(ev.data) {
                        conn.payload = Payload::Tls;
                        return;
                    }
                    conn.payload = Payload::Plain;
                }
            },
        }
        let dir = Self::direction(conn, ev.iodir);
        let d = dir.index();
        let (s, i) = (ev.source as usize & 1, ev.iodir as usize & 1);
        let expected = conn.expected[s][i];
        let len = ev.data.len() as u64;
        let mut bytes = ev.data;
        if ev.seq > expected {
            Self::open(conn, ts, stats, sink);
            let gap = ev.seq - expected;
            Self::gap(conn, dir, gap, ts, stats, sink);
        } else if ev.seq < expected {
            let dup = expected - ev.seq;
            if dup >= len {
                stats.duplicate_bytes += len;
                conn.stats.retransmitted_bytes[d] += len;
                return;
            }
            stats.duplicate_bytes += dup;
            conn.stats.retransmitted_bytes[d] += dup;
            bytes = bytes.get(dup as usize..).unwrap_or(&[]);
        }
        conn.expected[s][i] = ev.seq.saturating_add(len).max(expected);
        if bytes.is_empty() {
            return;
        }
        Self::open(conn, ts, stats, sink);
        conn.stats.packets[d] += 1;
        conn.stats.bytes[d] += bytes.len() as u64;
        sink(conn.id, StreamEvent::Data { ts, dir, bytes });
    }

    fn gap(
        conn: &mut Conn,
        dir: Direction,
        len: u64,
        ts: Timestamp,
        stats: &mut TrackerStats,
        sink: &mut impl FnMut(FlowId, StreamEvent<'_>),
    ) {
        stats.gaps += 1;
        stats.gap_bytes += len;
        conn.stats.gaps[dir.index()] += 1;
        conn.stats.gap_bytes[dir.index()] += len;
        sink(conn.id, StreamEvent::Gap { ts, dir, len });
    }

    /// Ends a connection: missing tails become gaps, then `Close` (only if it was opened).
    fn finish(
        &mut self,
        mut conn: Conn,
        offsets: Option<[[u64; 2]; 2]>,
        ts: Timestamp,
        reason: CloseReason,
        sink: &mut impl FnMut(FlowId, StreamEvent<'_>),
    ) {
        if conn.ignored {
            return;
        }
        if conn.payload == Payload::Tls && !conn.ssl_seen {
            self.record_opaque(conn.tgid, &conn.comm);
        }
        if let Some(offs) = offsets {
            let src = match conn.payload {
                Payload::Tls => Source::Ssl as usize,
                Payload::Plain => Source::Syscall as usize,
                Payload::Undecided => return,
            };
            if conn.opened {
                for io in [IoDir::In, IoDir::Out] {
                    let i = io as usize;
                    let (want, have) = (offs[src][i], conn.expected[src][i]);
                    if want > have {
                        let dir = Self::direction(&conn, io);
                        Self::gap(&mut conn, dir, want - have, ts, &mut self.stats, sink);
                    }
                }
            }
        }
        if conn.opened {
            sink(
                conn.id,
                StreamEvent::Close {
                    ts,
                    reason,
                    stats: &conn.stats,
                },
            );
        }
    }

    /// Closes connections idle for longer than `idle_ns` (kernel monotonic clock).
    pub(crate) fn sweep(
        &mut self,
        now_mono: u64,
        idle_ns: u64,
        sink: &mut impl FnMut(FlowId, StreamEvent<'_>),
    ) {
        let old: Vec<ConnKey> = self
            .conns
            .iter()
            .filter(|(_, c)| now_mono.saturating_sub(c.last_mono) > idle_ns)
            .map(|(k, _)| *k)
            .collect();
        let ts = self.ts(now_mono);
        for k in old {
            if let Some(c) = self.conns.remove(&k) {
                self.stats.timed_out += 1;
                self.finish(c, None, ts, CloseReason::Timeout, sink);
            }
        }
    }

    fn evict_oldest(&mut self, sink: &mut impl FnMut(FlowId, StreamEvent<'_>)) {
        // O(n) only when the table is full; the idle sweep keeps that rare.
        let oldest = self
            .conns
            .iter()
            .min_by_key(|(_, c)| c.last_mono)
            .map(|(k, _)| *k);
        if let Some(k) = oldest {
            if let Some(c) = self.conns.remove(&k) {
                self.stats.evicted += 1;
                let ts = self.ts(c.last_mono);
                self.finish(c, None, ts, CloseReason::Evicted, sink);
            }
        }
    }

    fn record_opaque(&mut self, pid: u32, comm: &[u8; 16]) {
        if let Some(o) = self.opaque.get_mut(&pid) {
            o.connections += 1;
        } else if self.opaque.len() < MAX_OPAQUE {
            self.opaque.insert(
                pid,
                OpaqueTls {
                    pid,
                    comm: comm_str(comm),
                    connections: 1,
                },
            );
        }
    }

    /// Closes every connection (agent stopping).
    pub(crate) fn close_all(
        &mut self,
        now_mono: u64,
        sink: &mut impl FnMut(FlowId, StreamEvent<'_>),
    ) {
        let ts = self.ts(now_mono);
        let keys: Vec<ConnKey> = self.conns.keys().copied().collect();
        for k in keys {
            if let Some(c) = self.conns.remove(&k) {
                self.finish(c, None, ts, CloseReason::EndOfCapture, sink);
            }
        }
    }
}
