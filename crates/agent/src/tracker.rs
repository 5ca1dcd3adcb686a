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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build::Rec;

    /// A stream event, owned, for comparisons.
    #[derive(Debug, Clone, PartialEq)]
    enum Ev {
        Open {
            client: Endpoint,
            server: Endpoint,
            handshake: bool,
        },
        Data(Direction, Vec<u8>),
        Gap(Direction, u64),
        Close(CloseReason, FlowStats),
    }

    fn run(t: &mut Tracker, recs: &[Vec<u8>]) -> Vec<(u64, Ev)> {
        let mut out = Vec::new();
        for r in recs {
            t.handle(r, &mut |id, ev| {
                out.push((
                    id.0,
                    match ev {
                        StreamEvent::Open {
                            client,
                            server,
                            handshake,
                            ..
                        } => Ev::Open {
                            client,
                            server,
                            handshake,
                        },
                        StreamEvent::Data { dir, bytes, .. } => Ev::Data(dir, bytes.to_vec()),
                        StreamEvent::Gap { dir, len, .. } => Ev::Gap(dir, len),
                        StreamEvent::Close { reason, stats, .. } => {
                            Ev::Close(reason, stats.clone())
                        }
                    },
                ))
            });
        }
        out
    }

    fn ep(port: u16) -> Endpoint {
        Endpoint::new([127, 0, 0, 1].into(), port)
    }

    fn close_rec(base: &Rec, offs: [[u64; 2]; 2]) -> Vec<u8> {
        let mut d = Vec::new();
        for v in offs.iter().flatten() {
            d.extend_from_slice(&v.to_le_bytes());
        }
        Rec {
            kind: 2,
            ..base.clone()
        }
        .bytes(&d)
    }

    #[test]
    fn server_side_plaintext_exchange() {
        let mut t = Tracker::new(16, false, 0);
        let r = Rec::default();
        let req = b"GET / HTTP/1.1\r\n\r\n";
        let resp = b"HTTP/1.1 200 OK\r\n\r\n";
        let out = run(
            &mut t,
            &[
                r.bytes(req),
                Rec {
                    iodir: 1,
                    ..r.clone()
                }
                .bytes(resp),
                close_rec(&r, [[req.len() as u64, resp.len() as u64], [0, 0]]),
            ],
        );
        assert_eq!(out.len(), 4, "{out:?}");
        assert_eq!(
            out[0].1,
            Ev::Open {
                client: ep(40000),
                server: ep(8080),
                handshake: true
            }
        );
        assert_eq!(out[1].1, Ev::Data(Direction::ToServer, req.to_vec()));
        assert_eq!(out[2].1, Ev::Data(Direction::ToClient, resp.to_vec()));
        match &out[3].1 {
            Ev::Close(CloseReason::Fin, st) => {
                assert_eq!(st.bytes, [req.len() as u64, resp.len() as u64]);
                assert_eq!(st.gaps, [0, 0]);
            }
            other => panic!("{other:?}"),
        }
        assert!(out.iter().all(|(id, _)| *id == out[0].0));
        assert_eq!(t.open_connections(), 0);
    }

    #[test]
    fn client_side_ignored_unless_outbound() {
        let r = Rec {
            role: 2,
            local: ([127, 0, 0, 1].into(), 40000),
            remote: ([127, 0, 0, 1].into(), 8080),
            iodir: 1,
            ..Default::default()
        };
        let mut t = Tracker::new(16, false, 0);
        assert!(run(
            &mut t,
            &[
                r.bytes(b"GET / HTTP/1.1\r\n\r\n"),
                close_rec(&r, [[0, 18], [0, 0]])
            ]
        )
        .is_empty());
        assert_eq!(t.stats.ignored, 1);
        let mut t = Tracker::new(16, true, 0);
        let out = run(&mut t, &[r.bytes(b"GET / HTTP/1.1\r\n\r\n")]);
        assert_eq!(
            out[0].1,
            Ev::Open {
                client: ep(40000),
                server: ep(8080),
                handshake: true
            }
        );
        assert_eq!(
            out[1].1,
            Ev::Data(Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n".to_vec())
        );
    }

    #[test]
    fn unknown_role_uses_listening_ports() {
        let mut t = Tracker::new(16, false, 0);
        t.set_listening([8080].into_iter().collect());
        let r = Rec {
            role: 0,
            ..Default::default()
        };
        let out = run(&mut t, &[r.bytes(b"x")]);
        assert_eq!(
            out[0].1,
            Ev::Open {
                client: ep(40000),
                server: ep(8080),
                handshake: false
            }
        );
        // Same process, other connection where the local port is not listening: client side.
        let c = Rec {
            role: 0,
            fd: 9,
            local: ([127, 0, 0, 1].into(), 45000),
            ..Default::default()
        };
        assert!(run(&mut t, &[c.bytes(b"y")]).is_empty());
    }

    #[test]
    fn offset_jumps_are_gaps_and_repeats_are_dropped() {
        let mut t = Tracker::new(16, false, 0);
        let r = Rec::default();
        let out = run(
            &mut t,
            &[
                Rec {
                    seq: 0,
                    ..r.clone()
                }
                .bytes(b"abcd"),
                // a lost record of 6 bytes, then one at offset 10
                Rec {
                    seq: 10,
                    ..r.clone()
                }
                .bytes(b"klmn"),
                // overlap: offset 12, bytes "mnop" -> only "op" is new
                Rec {
                    seq: 12,
                    ..r.clone()
                }
                .bytes(b"mnop"),
                // full repeat
                Rec {
                    seq: 0,
                    ..r.clone()
                }
                .bytes(b"abcd"),
                // truncated tail announced by close: 20 bytes sent in total
                close_rec(&r, [[20, 0], [0, 0]]),
            ],
        );
        let evs: Vec<Ev> = out.into_iter().map(|(_, e)| e).collect();
        assert_eq!(evs[1], Ev::Data(Direction::ToServer, b"abcd".to_vec()));
        assert_eq!(evs[2], Ev::Gap(Direction::ToServer, 6));
        assert_eq!(evs[3], Ev::Data(Direction::ToServer, b"klmn".to_vec()));
        assert_eq!(evs[4], Ev::Data(Direction::ToServer, b"op".to_vec()));
        assert_eq!(evs[5], Ev::Gap(Direction::ToServer, 4));
        match &evs[6] {
            Ev::Close(_, st) => {
                assert_eq!(st.gap_bytes, [10, 0]);
                assert_eq!(st.gaps, [2, 0]);
                assert_eq!(st.retransmitted_bytes, [6, 0]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.stats.gap_bytes, 10);
        assert_eq!(t.stats.duplicate_bytes, 6);
    }

    #[test]
    fn tls_ciphertext_is_dropped_and_ssl_plaintext_delivered() {
        let mut t = Tracker::new(16, false, 0);
        let r = Rec::default();
        let hello = [22u8, 3, 1, 0, 5, 1, 0, 0, 1, 0];
        let out = run(
            &mut t,
            &[
                r.bytes(&hello),
                Rec {
                    iodir: 1,
                    ..r.clone()
                }
                .bytes(&[22, 3, 3, 0, 2, 2, 0]),
                Rec {
                    source: 1,
                    ..r.clone()
                }
                .bytes(b"GET /secret HTTP/1.1\r\n\r\n"),
                Rec {
                    source: 1,
                    iodir: 1,
                    ..r.clone()
                }
                .bytes(b"HTTP/1.1 200 OK\r\n\r\n"),
                Rec {
                    seq: 10,
                    ..r.clone()
                }
                .bytes(&[23, 3, 3, 0, 1, 9]),
                close_rec(&r, [[16, 7], [24, 19]]),
            ],
        );
        let evs: Vec<Ev> = out.into_iter().map(|(_, e)| e).collect();
        assert_eq!(evs.len(), 4, "{evs:?}");
        assert_eq!(
            evs[1],
            Ev::Data(
                Direction::ToServer,
                b"GET /secret HTTP/1.1\r\n\r\n".to_vec()
            )
        );
        assert_eq!(
            evs[2],
            Ev::Data(Direction::ToClient, b"HTTP/1.1 200 OK\r\n\r\n".to_vec())
        );
        assert!(matches!(evs[3], Ev::Close(CloseReason::Fin, _)));
        assert!(t.opaque_tls().is_empty());
    }

    #[test]
    fn tls_without_openssl_is_reported_not_delivered() {
        let mut t = Tracker::new(16, false, 0);
        let r = Rec {
            comm: "gosrv",
            tgid: 77,
            ..Default::default()
        };
        let out = run(
            &mut t,
            &[
                r.bytes(&[22, 3, 1, 0, 5, 1, 0, 0, 1, 0]),
                close_rec(&r, [[10, 0], [0, 0]]),
            ],
        );
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(
            t.opaque_tls(),
            vec![OpaqueTls {
                pid: 77,
                comm: "gosrv".into(),
                connections: 1
            }]
        );
    }

    #[test]
    fn table_is_capped_and_evicts_the_least_recent() {
        let mut t = Tracker::new(2, false, 0);
        let recs: Vec<Vec<u8>> = (0..3u32)
            .map(|i| {
                Rec {
                    fd: 10 + i,
                    ts: 100 + u64::from(i),
                    ..Default::default()
                }
                .bytes(b"x")
            })
            .collect();
        let out = run(&mut t, &recs);
        assert_eq!(t.open_connections(), 2);
        assert_eq!(t.stats.evicted, 1);
        let closes: Vec<_> = out
            .iter()
            .filter(|(_, e)| matches!(e, Ev::Close(CloseReason::Evicted, _)))
            .collect();
        assert_eq!(closes.len(), 1);
        assert_eq!(closes[0].0, out[0].0, "the oldest flow is evicted");
    }

    #[test]
    fn idle_sweep_and_close_all() {
        let mut t = Tracker::new(16, false, 0);
        let a = Rec {
            fd: 1,
            ts: 1_000,
            ..Default::default()
        };
        let b = Rec {
            fd: 2,
            ts: 9_000,
            ..Default::default()
        };
        run(&mut t, &[a.bytes(b"a"), b.bytes(b"b")]);
        let mut out = Vec::new();
        t.sweep(10_000, 5_000, &mut |id, ev| {
            out.push((
                id,
                matches!(
                    ev,
                    StreamEvent::Close {
                        reason: CloseReason::Timeout,
                        ..
                    }
                ),
            ))
        });
        assert_eq!(out.len(), 1);
        assert!(out[0].1);
        assert_eq!(t.stats.timed_out, 1);
        let mut n = 0;
        t.close_all(20_000, &mut |_, ev| {
            n += usize::from(matches!(
                ev,
                StreamEvent::Close {
                    reason: CloseReason::EndOfCapture,
                    ..
                }
            ))
        });
        assert_eq!(n, 1);
        assert_eq!(t.open_connections(), 0);
    }

    #[test]
    fn garbage_records_are_counted() {
        let mut t = Tracker::new(16, false, 0);
        let out = run(&mut t, &[vec![], vec![0u8; 50], vec![0xff; 200]]);
        assert!(out.is_empty());
        assert_eq!(t.stats.malformed, 3);
    }

    #[test]
    fn fd_reuse_is_a_new_connection() {
        let mut t = Tracker::new(16, false, 0);
        let a = Rec {
            conn_start: 1,
            ..Default::default()
        };
        let b = Rec {
            conn_start: 2,
            ..Default::default()
        };
        let out = run(&mut t, &[a.bytes(b"a"), b.bytes(b"b")]);
        let opens = out
            .iter()
            .filter(|(_, e)| matches!(e, Ev::Open { .. }))
            .count();
        assert_eq!(opens, 2);
    }

    #[test]
    fn timestamps_use_the_clock_offset() {
        let mut t = Tracker::new(16, false, 1_000_000);
        let mut ts = Vec::new();
        t.handle(
            &Rec {
                ts: 5,
                ..Default::default()
            }
            .bytes(b"a"),
            &mut |_, ev| {
                if let StreamEvent::Data { ts: x, .. } = ev {
                    ts.push(x)
                }
            },
        );
        assert_eq!(ts, vec![Timestamp(1_000_005)]);
    }
}
