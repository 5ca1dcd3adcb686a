//! Unit tests: hand-built segments, each checking the exact event sequence; a randomized
//! shuffle/duplicate/overlap/loss test against the original byte stream.

use crate::reassembler::dst_is_server_guess;
use crate::{Reassembler, ReassemblyConfig};
use periscope_model::{
    Direction, Endpoint, FlowId, FlowStats, Segment, StreamEvent, TcpFlags, Timestamp, Tunnel,
    TunnelKind, TunnelPath,
};
use std::time::Duration;

const S: u8 = TcpFlags::SYN;
/// What each buffered segment costs on top of its payload.
const OV: usize = crate::half::SEGMENT_OVERHEAD;
const A: u8 = TcpFlags::ACK;
const F: u8 = TcpFlags::FIN;
const R: u8 = TcpFlags::RST;
const P: u8 = TcpFlags::PSH;

fn ep(last: u8, port: u16) -> Endpoint {
    Endpoint::new([10, 0, 0, last].into(), port)
}

/// Client 10.0.0.1:40000, server 10.0.0.2:80.
fn cli() -> Endpoint {
    ep(1, 40000)
}
fn srv() -> Endpoint {
    ep(2, 80)
}

/// Events rendered as short strings: `open 1 40000>80 hs`, `data 1 > hello`, `gap 1 < 5`,
/// `close 1 fin`. `>` is ToServer, `<` ToClient.
#[derive(Default)]
struct Log {
    lines: Vec<String>,
    closes: Vec<FlowStats>,
}

impl crate::StreamSink for Log {
    fn on_event(&mut self, flow: FlowId, ev: StreamEvent<'_>) {
        let id = flow.0;
        let arrow = |d: Direction| if d == Direction::ToServer { ">" } else { "<" };
        let line = match ev {
            StreamEvent::Open {
                client,
                server,
                handshake,
                ..
            } => format!(
                "open {id} {}>{}{}",
                client.port,
                server.port,
                if handshake { " hs" } else { "" }
            ),
            StreamEvent::Data { dir, bytes, .. } => {
                format!(
                    "data {id} {} {}",
                    arrow(dir),
                    String::from_utf8_lossy(bytes)
                )
            }
            StreamEvent::Gap { dir, len, .. } => format!("gap {id} {} {len}", arrow(dir)),
            StreamEvent::Close { reason, stats, .. } => {
                self.closes.push(stats.clone());
                format!("close {id} {}", format!("{reason:?}").to_lowercase())
            }
        };
        self.lines.push(line);
    }
}

struct T {
    r: Reassembler,
    log: Log,
    ts: u64,
}

impl T {
    fn new() -> Self {
        Self::with(ReassemblyConfig::default())
    }
    fn with(cfg: ReassemblyConfig) -> Self {
        T {
            r: Reassembler::new(cfg),
            log: Log::default(),
            ts: 1_000_000_000,
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn seg_full(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
        payload_len: u32,
    ) {
        self.ts += 1_000;
        let s = Segment {
            ts: Timestamp(self.ts),
            src,
            dst,
            tunnel: TunnelPath::default(),
            vlan: None,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 1024,
            payload,
            payload_len,
        };
        self.r.process(&s, &mut self.log);
    }
    fn c(&mut self, seq: u32, ack: u32, flags: u8, payload: &str) {
        self.seg_full(
            cli(),
            srv(),
            seq,
            ack,
            flags,
            payload.as_bytes(),
            payload.len() as u32,
        );
    }
    fn s(&mut self, seq: u32, ack: u32, flags: u8, payload: &str) {
        self.seg_full(
            srv(),
            cli(),
            seq,
            ack,
            flags,
            payload.as_bytes(),
            payload.len() as u32,
        );
    }
    /// SYN (client ISN 0), SYN-ACK (server ISN 1000), ACK: data starts at 1 and 1001.
    fn handshake(&mut self) {
        self.c(0, 0, S, "");
        self.s(1000, 1, S | A, "");
        self.c(1, 1001, A, "");
    }
    fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log.lines)
    }
    fn finish(&mut self) {
        self.r.finish(&mut self.log);
    }
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn in_order_both_ways_then_fin() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A | P, "GET /");
    t.s(1001, 6, A | P, "HTTP/1.1 200");
    t.c(6, 1013, A | F, "");
    t.s(1013, 7, A | F, "");
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > GET /",
            "data 1 < HTTP/1.1 200",
            "close 1 fin"
        ])
    );
    let st = &t.log.closes[0];
    assert_eq!(st.packets, [4, 3]);
    assert_eq!(st.bytes, [5, 12]);
    assert!(st.syn && st.syn_ack && !st.rst);
    assert_eq!(st.fin, [true, true]);
    assert_eq!(st.gaps, [0, 0]);
    assert_eq!(t.r.stats().delivered_bytes, 17);
    // The final ACK arrives after the close: dropped, no new connection.
    t.c(7, 1014, A, "");
    assert!(t.take().is_empty());
    assert_eq!(t.r.stats().drops.after_close, 1);
    assert_eq!(t.r.stats().flows_created, 1);
}

#[test]
fn out_of_order_is_buffered_until_the_hole_fills() {
    let mut t = T::new();
    t.handshake();
    t.c(11, 1001, A, "again");
    t.c(6, 1001, A, "world");
    assert_eq!(t.r.buffered_bytes(), 10 + 2 * OV);
    t.c(1, 1001, A, "hello");
    assert_eq!(t.r.buffered_bytes(), 0);
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "data 1 > world",
            "data 1 > again",
            "close 1 endofcapture"
        ])
    );
    assert_eq!(t.log.closes[0].out_of_order, [2, 0]);
    assert_eq!(t.log.closes[0].gaps, [0, 0]);
}

#[test]
fn duplicate_is_delivered_once_and_counted() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A, "hello");
    t.c(1, 1001, A, "hello");
    t.c(6, 1001, A, "world");
    t.c(6, 1001, A, "world");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "data 1 > world",
            "close 1 endofcapture"
        ])
    );
    assert_eq!(t.log.closes[0].retransmitted_bytes, [10, 0]);
    assert_eq!(t.log.closes[0].inconsistent_overlaps, [0, 0]);
}

#[test]
fn overlap_with_same_bytes_is_consistent() {
    let mut t = T::new();
    t.handshake();
    t.c(6, 1001, A, "world");
    t.c(1, 1001, A, "hellowo");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "data 1 > world",
            "close 1 endofcapture"
        ])
    );
    assert_eq!(t.log.closes[0].inconsistent_overlaps, [0, 0]);
    assert_eq!(t.log.closes[0].retransmitted_bytes, [2, 0]);
}

#[test]
fn overlap_with_different_bytes_first_copy_wins() {
    let mut t = T::new();
    t.handshake();
    t.c(6, 1001, A, "world");
    // In-order segment overlapping the buffered one with other bytes.
    t.c(1, 1001, A, "helloXX");
    // Overlaps delivered bytes ("ld", not kept: only counted as retransmitted) and buffered
    // ones ("xy" differs: counted).
    t.c(14, 1001, A, "xyz");
    t.c(9, 1001, A, "LDabcQQ");
    // Out of order, overlapping buffered bytes with other bytes and extending past them.
    t.c(20, 1001, A, "mno");
    t.c(19, 1001, A, "_MNOp");
    t.c(17, 1001, A, "!?");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "data 1 > world",
            "data 1 > abc",
            "data 1 > xyz",
            "data 1 > !?",
            "data 1 > _",
            "data 1 > mno",
            "data 1 > p",
            "close 1 endofcapture"
        ])
    );
    assert_eq!(t.log.closes[0].inconsistent_overlaps, [3, 0]);
    assert_eq!(t.log.closes[0].retransmitted_bytes, [2 + 2 + 2 + 3, 0]);
    assert_eq!(t.r.stats().inconsistent_overlaps, 3);
}

#[test]
fn sequence_numbers_wrap_at_2_pow_32() {
    let mut t = T::new();
    let isn = u32::MAX - 2; // data starts at u32::MAX - 1
    t.c(isn, 0, S, "");
    t.s(7, isn.wrapping_add(1), S | A, "");
    // "efgh" sits after the wrap, sent first (out of order); "abcd" straddles it.
    t.c(2, 8, A, "efgh");
    t.c(u32::MAX - 1, 8, A, "abcd");
    t.c(6, 8, A, "ijkl");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > abcd",
            "data 1 > efgh",
            "data 1 > ijkl",
            "close 1 endofcapture"
        ])
    );
    assert_eq!(t.log.closes[0].gaps, [0, 0]);
}

#[test]
fn loss_detected_by_the_peers_ack() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A, "hello");
    // [6, 11) never captured; the server acknowledges it. The gap waits (the data could be
    // reordered) until `ack_gap_delay` (50 ms) has passed: here `advance` finds it.
    t.s(1001, 11, A, "");
    t.c(11, 1001, A, "again");
    assert_eq!(t.take(), lines(&["open 1 40000>80 hs", "data 1 > hello"]));
    let now = t.ts;
    t.r.advance(Timestamp(now + 49_000_000), &mut t.log);
    assert!(t.take().is_empty());
    t.r.advance(Timestamp(now + 50_000_000), &mut t.log);
    assert_eq!(t.take(), lines(&["gap 1 > 5", "data 1 > again"]));
    // A hole with buffered data after it, acknowledged beyond both: declared after 8 packets
    // of the connection.
    t.c(21, 1001, A, "later");
    t.s(1001, 26, A, ""); // packet 1
    for n in 0..6 {
        t.s(1001, 26, A, ""); // packets 2..7
        assert!(t.take().is_empty(), "{n}");
    }
    t.s(1001, 26, A, ""); // packet 8
    assert_eq!(t.take(), lines(&["gap 1 > 5", "data 1 > later"]));
    t.finish();
    assert_eq!(t.take(), lines(&["close 1 endofcapture"]));
    assert_eq!(t.log.closes[0].gap_bytes, [10, 0]);
    assert_eq!(t.log.closes[0].gaps, [2, 0]);
    assert_eq!(t.r.stats().gaps_by_ack, 2);
}

#[test]
fn ack_seen_before_the_data_it_acknowledges_loses_nothing() {
    // A reordered capture: the client's segment carrying ACK 1013 comes before the server's
    // data it acknowledges.
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A, "GET /");
    t.c(6, 1013, A, "GET /2");
    t.s(1001, 6, A, "HTTP/1.1 200");
    t.s(1013, 12, A, "HTTP/1.1 404");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > GET /",
            "data 1 > GET /2",
            "data 1 < HTTP/1.1 200",
            "data 1 < HTTP/1.1 404",
            "close 1 endofcapture"
        ])
    );
    assert_eq!(t.r.stats().gaps, 0);
}

#[test]
fn acked_but_never_seen_tail_is_a_gap_at_close() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A, "hello");
    t.s(1001, 11, A, "");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "gap 1 > 5",
            "close 1 endofcapture"
        ])
    );
}

#[test]
fn loss_at_close() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A, "hello");
    t.c(11, 1001, A, "again");
    t.c(16, 1001, F, ""); // no ACK flag: only the close may declare the hole
    t.s(1001, 0, F, "");
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "gap 1 > 5",
            "data 1 > again",
            "close 1 fin"
        ])
    );
    assert_eq!(t.r.stats().gaps_at_close, 1);
}

#[test]
fn loss_of_the_tail_before_fin_is_a_gap() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A, "hello");
    t.c(11, 1001, F | A, ""); // FIN at 11: [6, 11) lost
    t.s(1001, 12, F | A, ""); // acks the FIN
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "gap 1 > 5",
            "close 1 fin"
        ])
    );
}

#[test]
fn mid_stream_pickup_guesses_roles() {
    let mut t = T::new();
    // The server's answer is the first packet seen.
    t.s(5000, 700, A, "HTTP/1.1 200 OK");
    t.c(700, 5015, A, "GET /next");
    t.s(5015, 709, A, "HTTP/1.1 404");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80",
            "data 1 < HTTP/1.1 200 OK",
            "data 1 > GET /next",
            "data 1 < HTTP/1.1 404",
            "close 1 endofcapture"
        ])
    );
    assert_eq!(t.r.stats().flows_with_handshake, 0);
}

#[test]
fn server_guess_rules() {
    let ports = ReassemblyConfig::default().server_ports;
    let g = |s: u16, d: u16| dst_is_server_guess(ep(1, s), ep(2, d), &ports);
    assert!(g(40000, 80)); // server_ports
    assert!(!g(80, 40000));
    assert!(g(1500, 8080)); // server_ports beats "lower below 1024"? 8080 listed, 1500 not
    assert!(g(2000, 22)); // lower port below 1024
    assert!(!g(22, 2000));
    assert!(g(50000, 6000)); // non-ephemeral
    assert!(!g(6000, 50000));
    assert!(g(7000, 6000)); // lower port
    assert!(!g(50001, 50002));
    assert!(g(80, 80)); // tie: the receiver
}

#[test]
fn syn_ack_first_fixes_roles_and_syn_retransmit_is_ignored() {
    let mut t = T::new();
    t.c(0, 0, S, "");
    t.c(0, 0, S, ""); // retransmitted SYN
    t.s(1000, 1, S | A, "");
    t.s(1000, 1, S | A, ""); // retransmitted SYN-ACK
    t.c(1, 1001, A, "hi");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&["open 1 40000>80 hs", "data 1 > hi", "close 1 endofcapture"])
    );
    assert_eq!(t.r.stats().syn_retransmissions, 2);

    // Capture starts at the SYN-ACK, sent from a non-obvious port: the SYN-ACK sender is the
    // server.
    let mut t = T::new();
    t.seg_full(ep(2, 50000), ep(1, 6000), 77, 1, S | A, b"", 0);
    t.seg_full(ep(1, 6000), ep(2, 50000), 1, 78, A, b"x", 1);
    t.finish();
    assert_eq!(
        t.take(),
        lines(&["open 1 6000>50000 hs", "data 1 > x", "close 1 endofcapture"])
    );
}

#[test]
fn rst_flushes_and_closes_at_once() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A, "hello");
    t.c(11, 1001, A, "again");
    t.s(1001, 0, R, "");
    t.c(16, 1001, A, "late");
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "gap 1 > 5",
            "data 1 > again",
            "close 1 rst"
        ])
    );
    assert!(t.log.closes[0].rst);
    assert_eq!(t.r.stats().drops.after_close, 1);
    assert_eq!(t.r.buffered_bytes(), 0);
    // RST of an unknown connection opens nothing.
    let mut u = T::new();
    u.handshake();
    u.c(1, 1001, A, "hello");
    u.s(1001 + (1 << 25), 0, R, ""); // far from the server's stream: not believed
    u.c(6, 1001, A, "world");
    u.s(1001, 0, R | A, ""); // in window
    assert_eq!(
        u.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "data 1 > world",
            "close 1 rst"
        ])
    );
    assert_eq!(u.r.stats().drops.rst_out_of_window, 1);
    t.seg_full(ep(3, 1234), srv(), 5, 0, R, b"", 0);
    assert!(t.take().is_empty());
    assert_eq!(t.r.stats().drops.rst_without_flow, 1);
}

#[test]
fn fin_both_ways_and_data_after_fin() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A | F, "bye");
    t.c(4, 1001, A, "more"); // beyond the client's FIN
    t.s(1001, 5, A, "ok");
    t.s(1003, 5, A | F, "");
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > bye",
            "data 1 < ok",
            "close 1 fin"
        ])
    );
    assert_eq!(t.r.stats().drops.data_after_fin, 1);
    assert_eq!(t.log.closes[0].fin, [true, true]);
}

#[test]
fn fin_out_of_order_waits_for_missing_data() {
    let mut t = T::new();
    t.handshake();
    t.c(6, 1001, A | F, "world"); // FIN with data, ahead of a hole
    t.c(1, 1001, A, "hello");
    t.s(1001, 12, A | F, "");
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hello",
            "data 1 > world",
            "close 1 fin"
        ])
    );
}

#[test]
fn new_syn_reuses_the_4_tuple() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A, "one");
    // New SYN, other ISN, while the old connection was never closed.
    t.c(5000, 0, S, "");
    t.s(9000, 5001, S | A, "");
    t.c(5001, 9001, A, "two");
    t.c(5004, 9001, A | F, "");
    t.s(9001, 5005, A | F, "");
    // Closed by FIN: a late retransmitted SYN (same ISN) is dropped, a new ISN opens again.
    t.c(5000, 0, S, "");
    t.c(7000, 0, S, "");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > one",
            "close 1 reused",
            "open 2 40000>80 hs",
            "data 2 > two",
            "close 2 fin",
            "open 3 40000>80 hs",
            "close 3 endofcapture"
        ])
    );
    assert_eq!(t.r.stats().closed.reused, 1);
    assert_eq!(t.r.stats().drops.after_close, 1);
}

#[test]
fn syn_on_a_mid_stream_flow_is_a_new_connection() {
    let mut t = T::new();
    t.c(100, 0, A, "old");
    t.c(0, 0, S, "");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80",
            "data 1 > old",
            "close 1 reused",
            "open 2 40000>80 hs",
            "close 2 endofcapture"
        ])
    );
}

#[test]
fn idle_timeout_in_capture_time() {
    let mut t = T::new();
    t.handshake();
    t.c(1, 1001, A, "hi");
    t.c(5, 1001, A, "buffered"); // hole at [3, 5)
    let now = t.ts;
    t.r.advance(Timestamp(now + 119_000_000_000), &mut t.log);
    assert_eq!(t.r.flow_count(), 1);
    t.r.advance(Timestamp(now + 120_000_000_000), &mut t.log);
    assert_eq!(t.r.flow_count(), 0);
    assert_eq!(t.r.buffered_bytes(), 0);
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hi",
            "gap 1 > 2",
            "data 1 > buffered",
            "close 1 timeout"
        ])
    );
    // `process` checks timeouts by itself: another connection's packet expires this one.
    t.c(100, 0, A, "x");
    t.ts += 121_000_000_000;
    t.seg_full(ep(9, 5555), srv(), 1, 0, A, b"y", 1);
    let got = t.take();
    assert_eq!(got[2], "close 2 timeout", "{got:?}");
    assert_eq!(t.r.stats().closed.timeout, 2);
}

#[test]
fn closed_flows_linger_then_go() {
    let cfg = ReassemblyConfig {
        closed_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let mut t = T::with(cfg);
    t.handshake();
    t.c(1, 1001, R, "");
    assert_eq!(t.r.flow_count(), 1);
    t.ts += 3_000_000_000;
    t.c(1, 1001, A, "late but new");
    // After closed_timeout the tuple is forgotten: a mid-stream connection opens.
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "close 1 rst",
            "open 2 40000>80",
            "data 2 > late but new"
        ])
    );
}

#[test]
fn eviction_at_max_flows_takes_the_least_recently_active() {
    let cfg = ReassemblyConfig {
        max_flows: 2,
        ..Default::default()
    };
    let mut t = T::with(cfg);
    t.seg_full(ep(1, 1001), srv(), 1, 0, A, b"a", 1); // flow 1
    t.seg_full(ep(1, 1002), srv(), 1, 0, A, b"b", 1); // flow 2
    t.seg_full(ep(1, 1001), srv(), 2, 0, A, b"c", 1); // flow 1 active again
    t.seg_full(ep(1, 1003), srv(), 1, 0, A, b"d", 1); // flow 3 evicts flow 2
    assert_eq!(t.r.flow_count(), 2);
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 1001>80",
            "data 1 > a",
            "open 2 1002>80",
            "data 2 > b",
            "data 1 > c",
            "close 2 evicted",
            "open 3 1003>80",
            "data 3 > d"
        ])
    );
    // A lingering closed flow goes before any active one.
    t.seg_full(ep(1, 1003), srv(), 2, 0, R, b"", 0); // flow 3 closed (tombstone)
    t.seg_full(ep(1, 1004), srv(), 1, 0, A, b"e", 1); // takes the tombstone's place
    assert_eq!(
        t.take(),
        lines(&["close 3 rst", "open 4 1004>80", "data 4 > e"])
    );
    assert_eq!(t.r.stats().closed.evicted, 1);
}

#[test]
fn buffer_cap_declares_the_hole_a_gap() {
    let cfg = ReassemblyConfig {
        max_buffered_bytes_per_flow: 10 + 2 * OV,
        ..Default::default()
    };
    let mut t = T::with(cfg);
    t.handshake();
    t.c(6, 1001, A, "world");
    t.c(11, 1001, A, "again");
    assert_eq!(t.r.buffered_bytes(), 10 + 2 * OV);
    t.c(21, 1001, A, "after"); // would make 15 bytes: [1, 6) is given up
    assert_eq!(t.r.buffered_bytes(), 5 + OV);
    t.c(16, 1001, A, "fill!");
    assert_eq!(t.r.buffered_bytes(), 0);
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "gap 1 > 5",
            "data 1 > world",
            "data 1 > again",
            "data 1 > fill!",
            "data 1 > after",
            "close 1 endofcapture"
        ])
    );
    assert_eq!(t.r.stats().gaps_by_buffer_cap, 1);
}

#[test]
fn total_buffer_cap_and_segment_cap() {
    let cfg = ReassemblyConfig {
        max_buffered_bytes_total: 8 + 2 * OV,
        ..Default::default()
    };
    let mut t = T::with(cfg);
    t.handshake();
    t.c(6, 1001, A, "world");
    // Another connection needs room: it gives up its own hole, not the other's.
    t.seg_full(ep(1, 40001), srv(), 10, 0, A, b"aaaa", 4);
    t.seg_full(ep(1, 40001), srv(), 20, 0, A, b"bbbb", 4);
    assert_eq!(t.r.buffered_bytes(), 5 + OV);
    let got = t.take();
    assert_eq!(
        got[got.len() - 3..],
        lines(&["data 2 > aaaa", "gap 2 > 6", "data 2 > bbbb"])
    );

    let cfg = ReassemblyConfig {
        max_buffered_segments_per_flow: 2,
        ..Default::default()
    };
    let mut t = T::with(cfg);
    t.handshake();
    for seq in [3, 5, 7] {
        t.c(seq, 1001, A, "x");
    }
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "gap 1 > 2",
            "data 1 > x",
            "gap 1 > 1",
            "data 1 > x",
            "gap 1 > 1",
            "data 1 > x",
            "close 1 endofcapture"
        ])
    );
}

#[test]
fn snap_length_cut_delivers_the_captured_part_and_a_gap() {
    let mut t = T::new();
    t.handshake();
    t.seg_full(cli(), srv(), 1, 1001, A, b"hel", 5);
    t.c(6, 1001, A, "world");
    // Cut segment ahead of a hole: the missing tail is a gap once the hole resolves.
    t.seg_full(cli(), srv(), 16, 1001, A, b"ab", 5);
    t.c(11, 1001, A, "12345");
    t.finish();
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > hel",
            "gap 1 > 2",
            "data 1 > world",
            "data 1 > 12345",
            "data 1 > ab",
            "gap 1 > 3",
            "close 1 endofcapture"
        ])
    );
    assert_eq!(t.r.stats().gaps_by_snaplen, 1);
}

#[test]
fn flow_key_is_symmetric_and_includes_tunnel_and_vlan() {
    let mut t = T::new();
    let mk = |src, dst, vni: Option<u32>, vlan| {
        let mut tunnel = TunnelPath::default();
        if let Some(id) = vni {
            tunnel.push(Tunnel {
                kind: TunnelKind::Vxlan,
                id,
            });
        }
        Segment {
            ts: Timestamp(1),
            src,
            dst,
            tunnel,
            vlan,
            seq: 1,
            ack: 1,
            flags: TcpFlags(A),
            window: 0,
            payload: b"",
            payload_len: 0,
        }
    };
    for s in [
        mk(cli(), srv(), None, None),
        mk(srv(), cli(), None, None),
        mk(cli(), srv(), Some(7), None),
        mk(srv(), cli(), Some(7), None),
        mk(cli(), srv(), Some(8), None),
        mk(cli(), srv(), None, Some(100)),
    ] {
        t.r.process(&s, &mut t.log);
    }
    assert_eq!(t.r.flow_count(), 4);
}

#[test]
fn hostile_segments_do_not_panic_and_are_counted() {
    let mut t = T::new();
    t.handshake();
    // Announced length far beyond anything IP can carry.
    t.seg_full(cli(), srv(), 1, 1001, A, b"abc", u32::MAX);
    assert_eq!(t.r.stats().drops.bad_payload_len, 1);
    // Captured bytes longer than announced: the captured bytes count.
    t.seg_full(cli(), srv(), 4, 1001, A, b"def", 1);
    // Far ahead of the window.
    t.c(1 << 31, 1001, A, "zzz");
    assert_eq!(t.r.stats().drops.out_of_window, 1);
    // An ACK far ahead is not believed.
    t.s(1001, 2_000_000_000, A, "");
    assert_eq!(t.r.stats().drops.ack_out_of_window, 1);
    // A FIN far ahead is not believed either.
    t.c(1 << 31, 1001, F, "");
    // Same endpoint on both sides.
    t.seg_full(cli(), cli(), 1, 1, A, b"self", 4);
    // Zero-length segments everywhere, all flags at once.
    t.seg_full(ep(5, 1), ep(6, 2), 0, 0, 0xff, b"", 0);
    t.seg_full(ep(5, 1), ep(6, 2), u32::MAX, u32::MAX, !R, b"", 0);
    t.finish();
    let got = t.take();
    assert_eq!(got[1..3], lines(&["data 1 > abc", "data 1 > def"]));
    assert_eq!(t.r.flow_count(), 0);
    assert_eq!(t.r.buffered_bytes(), 0);
    assert!(got.iter().filter(|l| l.starts_with("close")).count() >= 2);
}

#[test]
fn entry_stays_small() {
    // A flow table entry (key, id, times, list links, two directions). Regressions here cost
    // memory times max_flows.
    let (entry, _, _) = Reassembler::new(ReassemblyConfig::default()).table_footprint();
    println!("flow table entry: {entry} bytes");
    assert!(entry <= 256, "entry is {entry} bytes");
}

#[allow(clippy::too_many_arguments)]
fn mk<'a>(
    src: Endpoint,
    dst: Endpoint,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &'a [u8],
    ts: u64,
) -> Segment<'a> {
    Segment {
        ts: Timestamp(ts),
        src,
        dst,
        tunnel: TunnelPath::default(),
        vlan: None,
        seq,
        ack,
        flags: TcpFlags(flags),
        window: 0,
        payload,
        payload_len: payload.len() as u32,
    }
}

/// xorshift64* PRNG: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Rebuilds one direction from the events and checks it against `orig`: every `Data` must
/// match the original at its position, and data + gaps must cover every byte once.
#[derive(Default)]
struct Checker {
    pos: usize,
    gap_bytes: usize,
    data_bytes: usize,
    mismatch: Option<usize>,
    closes: usize,
    orig: Vec<u8>,
}

impl crate::StreamSink for Checker {
    fn on_event(&mut self, _: FlowId, ev: StreamEvent<'_>) {
        match ev {
            StreamEvent::Data {
                bytes,
                dir: Direction::ToServer,
                ..
            } => {
                let want = self.orig.get(self.pos..self.pos + bytes.len());
                if want != Some(bytes) && self.mismatch.is_none() {
                    self.mismatch = Some(self.pos);
                }
                self.pos += bytes.len();
                self.data_bytes += bytes.len();
            }
            StreamEvent::Gap {
                len,
                dir: Direction::ToServer,
                ..
            } => {
                self.pos += len as usize;
                self.gap_bytes += len as usize;
            }
            StreamEvent::Close { .. } => self.closes += 1,
            _ => {}
        }
    }
}

/// Splits a random stream into segments, reorders, duplicates and overlaps them, optionally
/// drops some and sends ACKs as a receiver would; returns the checker after the close.
fn random_run(seed: u64, lose: bool) -> (Checker, Reassembler) {
    let mut rng = Rng(seed | 1);
    let len = 1 + rng.below(60_000) as usize;
    let orig: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    let isn = rng.next() as u32; // anywhere, so that many runs wrap
                                 // Segments as (offset, len).
    let mut segs: Vec<(usize, usize)> = Vec::new();
    let mut off = 0;
    while off < len {
        let l = (1 + rng.below(1460) as usize).min(len - off);
        segs.push((off, l));
        off += l;
    }
    // Overlapping copies (same bytes) and duplicates.
    let extra = segs.len() / 3;
    for _ in 0..extra {
        let a = rng.below(len as u64) as usize;
        let l = (1 + rng.below(2000) as usize).min(len - a);
        segs.push((a, l));
    }
    for _ in 0..extra {
        let d = segs[rng.below(segs.len() as u64) as usize];
        segs.push(d);
    }
    // Local reordering: sort by a noisy position.
    let mut keyed: Vec<(u64, (usize, usize))> = segs
        .into_iter()
        .map(|s| (s.0 as u64 + rng.below(8000), s))
        .collect();
    keyed.sort_by_key(|k| k.0);
    if lose {
        let n = keyed.len();
        for _ in 0..1 + n / 10 {
            let i = rng.below(keyed.len() as u64) as usize;
            keyed.remove(i);
        }
    }
    let cfg = ReassemblyConfig {
        max_buffered_bytes_per_flow: if lose { 16 * 1024 } else { 1 << 20 },
        ..Default::default()
    };
    let mut r = Reassembler::new(cfg);
    let mut ck = Checker {
        orig: orig.clone(),
        ..Default::default()
    };
    let sseq = 77u32;
    let base = isn.wrapping_add(1);
    r.process(&mk(cli(), srv(), isn, 0, S, b"", 1), &mut ck);
    r.process(&mk(srv(), cli(), sseq, base, S | A, b"", 2), &mut ck);
    let mut ts = 3;
    let mut sent_hi = 0usize; // highest end the receiver could have seen
    for (_, (o, l)) in &keyed {
        ts += 10;
        let payload = orig.get(*o..*o + *l).unwrap_or_default();
        let seq = base.wrapping_add(*o as u32);
        r.process(
            &mk(cli(), srv(), seq, sseq + 1, A | P, payload, ts),
            &mut ck,
        );
        sent_hi = sent_hi.max(o + l);
        if lose && rng.below(20) == 0 {
            // The receiver acknowledges a prefix of what was sent (a real receiver got it all;
            // the capture may not have).
            let acked = rng.below(sent_hi as u64 + 1) as u32;
            r.process(
                &mk(srv(), cli(), sseq + 1, base.wrapping_add(acked), A, b"", ts),
                &mut ck,
            );
        }
    }
    let fin = base.wrapping_add(len as u32);
    r.process(
        &mk(cli(), srv(), fin, sseq + 1, F | A, b"", ts + 1),
        &mut ck,
    );
    r.process(
        &mk(
            srv(),
            cli(),
            sseq + 1,
            fin.wrapping_add(1),
            F | A,
            b"",
            ts + 2,
        ),
        &mut ck,
    );
    (ck, r)
}

#[test]
fn randomized_reordering_duplicates_and_overlaps_deliver_the_exact_stream() {
    for seed in 1..=60u64 {
        let (ck, r) = random_run(seed * 0x9E37_79B9, false);
        assert_eq!(ck.mismatch, None, "seed {seed}: wrong bytes");
        assert_eq!(ck.gap_bytes, 0, "seed {seed}: unexpected gap");
        assert_eq!(ck.data_bytes, ck.orig.len(), "seed {seed}: length");
        assert_eq!(ck.closes, 1, "seed {seed}");
        assert_eq!(r.flow_count(), 1, "seed {seed}: the tombstone lingers");
        assert_eq!(r.buffered_bytes(), 0, "seed {seed}");
        assert_eq!(r.stats().closed.fin, 1);
    }
}

#[test]
fn randomized_loss_is_accounted_for_by_gaps() {
    let mut saw_gaps = 0;
    for seed in 1..=60u64 {
        let (ck, r) = random_run(seed * 0x51_7CC1_B727, true);
        assert_eq!(
            ck.mismatch, None,
            "seed {seed}: wrong bytes at {:?}",
            ck.mismatch
        );
        assert_eq!(
            ck.data_bytes + ck.gap_bytes,
            ck.orig.len(),
            "seed {seed}: accounting"
        );
        assert_eq!(ck.closes, 1, "seed {seed}");
        assert_eq!(r.buffered_bytes(), 0, "seed {seed}");
        saw_gaps += usize::from(ck.gap_bytes > 0);
    }
    assert!(saw_gaps > 30, "loss produced gaps in only {saw_gaps} runs");
}

#[test]
fn close_reasons_are_each_emitted_once() {
    // Every Open has exactly one Close, whatever the mix of endings.
    let mut t = T::with(ReassemblyConfig {
        max_flows: 3,
        ..Default::default()
    });
    for i in 0..20u16 {
        let c = ep(1, 2000 + i % 7);
        t.seg_full(
            c,
            srv(),
            u32::from(i),
            0,
            if i % 5 == 0 { S } else { A },
            b"x",
            1,
        );
        if i % 4 == 0 {
            t.seg_full(srv(), c, 9, 0, R, b"", 0);
        }
    }
    t.finish();
    let got = t.take();
    // Per id: "open" first, exactly one "close", last.
    let mut ids: Vec<&str> = got.iter().filter_map(|l| l.split(' ').nth(1)).collect();
    ids.sort_unstable();
    ids.dedup();
    assert!(ids.len() > 3, "{got:#?}");
    for id in ids {
        let mine: Vec<&String> = got
            .iter()
            .filter(|l| l.split(' ').nth(1) == Some(id))
            .collect();
        assert!(
            mine.first().is_some_and(|l| l.starts_with("open")),
            "{id}: {mine:?}"
        );
        assert!(
            mine.last().is_some_and(|l| l.starts_with("close")),
            "{id}: {mine:?}"
        );
        assert_eq!(
            mine.iter().filter(|l| l.starts_with("close")).count(),
            1,
            "{id}: {mine:?}"
        );
        assert_eq!(
            mine.iter().filter(|l| l.starts_with("open")).count(),
            1,
            "{id}: {mine:?}"
        );
    }
    let c = &t.r.stats().closed;
    assert_eq!(
        c.fin + c.rst + c.timeout + c.evicted + c.end_of_capture + c.reused,
        t.r.stats().flows_created
    );
}

/// Checks the event contract per flow id: `Open` first, one `Close` last, nothing after it.
#[derive(Default)]
struct Contract {
    state: std::collections::HashMap<u64, u8>, // 1 open, 2 closed
    violations: Vec<String>,
    events: u64,
}

impl crate::StreamSink for Contract {
    fn on_event(&mut self, flow: FlowId, ev: StreamEvent<'_>) {
        self.events += 1;
        let st = self.state.entry(flow.0).or_insert(0);
        let ok = match ev {
            StreamEvent::Open { .. } => *st == 0,
            StreamEvent::Data { bytes, .. } => *st == 1 && !bytes.is_empty(),
            StreamEvent::Gap { len, .. } => *st == 1 && len > 0,
            StreamEvent::Close { .. } => *st == 1,
        };
        if !ok && self.violations.len() < 10 {
            self.violations
                .push(format!("flow {} in state {st}: {ev:?}", flow.0));
        }
        *st = match ev {
            StreamEvent::Open { .. } => 1,
            StreamEvent::Close { .. } => 2,
            _ => *st,
        };
    }
}

#[test]
fn randomized_garbage_keeps_the_event_contract_and_the_limits() {
    for seed in 1..=8u64 {
        let mut rng = Rng(seed.wrapping_mul(0xA076_1D64_78BD_642F) | 1);
        let cfg = ReassemblyConfig {
            max_flows: 16,
            max_buffered_bytes_per_flow: 3000,
            max_buffered_bytes_total: 20_000,
            max_buffered_segments_per_flow: 8,
            idle_timeout: Duration::from_millis(500),
            closed_timeout: Duration::from_millis(200),
            ..Default::default()
        };
        let mut r = Reassembler::new(cfg);
        let mut ck = Contract::default();
        let data: Vec<u8> = (0..4000).map(|_| rng.next() as u8).collect();
        let mut ts = 0u64;
        // Few endpoints and sequence numbers near each other, so flows collide, reuse, wrap.
        let mut seqs = [0u32; 8];
        for s in seqs.iter_mut() {
            *s = rng.next() as u32;
        }
        for _ in 0..30_000 {
            ts += rng.below(2_000_000);
            // Mostly a few busy connections (buffers fill), sometimes many others (eviction).
            let (a, b) = if rng.below(10) != 0 {
                (
                    ep(1, 1000 + rng.below(3) as u16),
                    ep(2, 80 + rng.below(2) as u16),
                )
            } else {
                (ep(3 + rng.below(50) as u8, 1000), ep(2, 80))
            };
            let (src, dst) = if rng.below(2) == 0 { (a, b) } else { (b, a) };
            let base = seqs[rng.below(8) as usize];
            let seq = base
                .wrapping_add(rng.below(12_000) as u32)
                .wrapping_sub(2000);
            let ack = seqs[rng.below(8) as usize].wrapping_add(rng.below(20_000) as u32);
            let flags = match rng.below(10) {
                0 => S,
                1 => S | A,
                2 => F | A,
                3 if rng.below(4) == 0 => R,
                _ => A | (rng.next() as u8 & P),
            };
            let start = rng.below(data.len() as u64) as usize;
            let len = (rng.below(1500) as usize).min(data.len() - start);
            let payload = data.get(start..start + len).unwrap_or_default();
            let payload_len = match rng.below(20) {
                0 => len as u32 + rng.below(100) as u32,
                1 => rng.next() as u32,
                _ => len as u32,
            };
            let mut s = mk(src, dst, seq, ack, flags, payload, ts);
            s.payload_len = payload_len;
            r.process(&s, &mut ck);
            assert!(
                r.flow_count() <= 16,
                "seed {seed}: {} flows",
                r.flow_count()
            );
            assert!(
                r.buffered_bytes() <= 20_000,
                "seed {seed}: {} buffered",
                r.buffered_bytes()
            );
            if rng.below(500) == 0 {
                r.advance(Timestamp(ts), &mut ck);
            }
            if rng.below(100) == 0 {
                r.check_buffer_accounting();
            }
        }
        r.finish(&mut ck);
        assert_eq!(ck.violations, Vec::<String>::new(), "seed {seed}");
        assert!(
            ck.state.values().all(|&s| s == 2),
            "seed {seed}: a flow was never closed"
        );
        assert_eq!((r.flow_count(), r.buffered_bytes()), (0, 0), "seed {seed}");
        let st = r.stats();
        let c = &st.closed;
        assert_eq!(
            c.fin + c.rst + c.timeout + c.evicted + c.end_of_capture + c.reused,
            st.flows_created,
            "seed {seed}"
        );
        assert_eq!(st.flows_created as usize, ck.state.len(), "seed {seed}");
        assert!(
            c.evicted > 0 && c.reused > 0 && c.rst > 0,
            "seed {seed}: {c:?}"
        );
        assert!(
            st.out_of_order_segments > 0 && st.gaps_by_buffer_cap > 0,
            "seed {seed}: {st:?}"
        );
        assert!(
            st.gaps_by_ack > 0 && st.gaps_by_snaplen > 0 && st.gaps_at_close > 0,
            "{st:?}"
        );
    }
}

#[test]
fn syn_with_data_and_data_straddling_the_fin() {
    let mut t = T::new();
    // TCP Fast Open: the SYN carries the first request bytes.
    t.c(0, 0, S, "GET");
    t.s(1000, 4, S | A, "");
    // Retransmitted SYN with the same data: ignored as a retransmission.
    t.c(0, 0, S, "GET");
    // FIN at 7 announced with the data; a later segment straddles it (its "x" at 6 is a
    // retransmission, the rest lies beyond the FIN).
    t.c(4, 1001, A | F, " /x");
    t.c(6, 1001, A, "xyZZ");
    t.s(1001, 8, A | F, "");
    assert_eq!(
        t.take(),
        lines(&[
            "open 1 40000>80 hs",
            "data 1 > GET",
            "data 1 >  /x",
            "close 1 fin"
        ])
    );
    assert_eq!(t.r.stats().syn_retransmissions, 1);
    assert_eq!(t.r.stats().drops.data_after_fin, 1);
    assert_eq!(t.log.closes[0].retransmitted_bytes, [3 + 1, 0]);
}
