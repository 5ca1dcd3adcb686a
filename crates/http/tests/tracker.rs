//! Tracker-level behaviour: connection table cap, id numbering, timeouts on capture time,
//! summaries, unknown flows, role swap in the flow info.

use periscope_http::{HttpConfig, HttpOutput, HttpTracker, Protocol};
use periscope_model::{
    CloseReason, Direction, Endpoint, Exchange, Flag, FlowId, FlowStats, StreamEvent, Timestamp,
    TunnelPath,
};
use std::time::Duration;

fn ep(a: u8, p: u16) -> Endpoint {
    Endpoint::new([10, 0, 0, a].into(), p)
}

fn open(t: &mut HttpTracker, flow: u64, ts: Timestamp, handshake: bool, out: &mut Vec<HttpOutput>) {
    t.on_event(
        FlowId(flow),
        StreamEvent::Open {
            ts,
            client: ep(1, 40000),
            server: ep(2, 80),
            tunnel: TunnelPath::default(),
            vlan: Some(7),
            handshake,
        },
        &mut |o| out.push(o),
    );
}

fn data(
    t: &mut HttpTracker,
    flow: u64,
    ts: Timestamp,
    dir: Direction,
    b: &[u8],
    out: &mut Vec<HttpOutput>,
) {
    t.on_event(
        FlowId(flow),
        StreamEvent::Data { ts, dir, bytes: b },
        &mut |o| out.push(o),
    );
}

fn exchanges(out: &[HttpOutput]) -> Vec<&Exchange> {
    out.iter()
        .filter_map(|o| match o {
            HttpOutput::Exchange(x) => Some(&**x),
            HttpOutput::Connection(_) => None,
        })
        .collect()
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

#[test]
fn table_cap_evicts_oldest_and_flushes_it() {
    let cfg = HttpConfig {
        max_connections: 2,
        ..HttpConfig::default()
    };
    let mut t = HttpTracker::new(cfg);
    let mut out = Vec::new();
    let ts = Timestamp(1_000);
    for flow in 1..=2 {
        open(&mut t, flow, ts, true, &mut out);
        data(&mut t, flow, ts, Direction::ToServer, GET, &mut out);
    }
    assert!(out.is_empty());
    open(&mut t, 3, ts, true, &mut out);
    assert_eq!(t.stats().evictions, 1);
    assert_eq!(t.connections(), 2);
    let x = exchanges(&out);
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].flow_id, FlowId(1));
    assert!(x[0].has(Flag::NoResponse));
    let summary = out.iter().find_map(|o| match o {
        HttpOutput::Connection(c) => Some(c),
        _ => None,
    });
    let summary = summary.expect("evicted connection summarised");
    assert_eq!(summary.flow_id, FlowId(1));
    assert_eq!(summary.close_reason, None);
    assert_eq!(summary.protocol, Protocol::Http1);
    // Events for the evicted flow are counted, not processed.
    data(&mut t, 1, ts, Direction::ToClient, OK, &mut out);
    assert_eq!(t.stats().unknown_flow_events, 1);
}

#[test]
fn ids_follow_base_and_stride() {
    let mut t = HttpTracker::with_id_base(HttpConfig::default(), 2, 4);
    let mut out = Vec::new();
    let ts = Timestamp(1);
    open(&mut t, 1, ts, true, &mut out);
    for _ in 0..3 {
        data(&mut t, 1, ts, Direction::ToServer, GET, &mut out);
        data(&mut t, 1, ts, Direction::ToClient, OK, &mut out);
    }
    let ids: Vec<u64> = exchanges(&out).iter().map(|x| x.id).collect();
    assert_eq!(ids, vec![2, 6, 10]);
}

#[test]
fn timeout_runs_on_capture_time_from_request_end() {
    let mut t = HttpTracker::new(HttpConfig::default());
    let mut out = Vec::new();
    let t0 = Timestamp::from_secs_nanos(100, 0);
    open(&mut t, 1, t0, true, &mut out);
    // The head starts at t0 and ends 1 s later.
    data(
        &mut t,
        1,
        t0,
        Direction::ToServer,
        b"GET /x HTTP/1.1\r\n",
        &mut out,
    );
    let t1 = t0.plus(Duration::from_secs(1));
    data(
        &mut t,
        1,
        t1,
        Direction::ToServer,
        b"Host: a\r\n\r\n",
        &mut out,
    );
    t.advance(t1.plus(Duration::from_millis(4_999)), &mut |o| out.push(o));
    assert!(out.is_empty(), "not due yet");
    t.advance(t1.plus(Duration::from_secs(5)), &mut |o| out.push(o));
    let x = exchanges(&out);
    assert_eq!(x.len(), 1);
    assert!(x[0].has(Flag::NoResponse));
    assert_eq!(x[0].ts, t0, "exchange time is the request's first byte");
    assert_eq!(x[0].request.as_ref().map(|r| r.ts), Some(t0));
    assert_eq!(t.stats().no_response, 1);
}

#[test]
fn close_copies_flow_stats_and_reason() {
    let mut t = HttpTracker::new(HttpConfig::default());
    let mut out = Vec::new();
    let ts = Timestamp(5);
    open(&mut t, 9, ts, true, &mut out);
    data(&mut t, 9, ts, Direction::ToServer, GET, &mut out);
    data(&mut t, 9, ts, Direction::ToClient, OK, &mut out);
    let stats = FlowStats {
        packets: [3, 2],
        gaps: [0, 1],
        ..FlowStats::default()
    };
    t.on_event(
        FlowId(9),
        StreamEvent::Close {
            ts: Timestamp(9),
            reason: CloseReason::Rst,
            stats: &stats,
        },
        &mut |o| out.push(o),
    );
    let c = match out.last() {
        Some(HttpOutput::Connection(c)) => c,
        other => panic!("expected a summary last, got {other:?}"),
    };
    assert_eq!(c.close_reason, Some(CloseReason::Rst));
    assert_eq!(c.stats, stats);
    assert_eq!(c.closed, Timestamp(9));
    assert_eq!((c.requests, c.responses, c.exchanges), (1, 1, 1));
    assert_eq!(c.flow.vlan, Some(7));
}

#[test]
fn swapped_roles_swap_flow_info() {
    let mut t = HttpTracker::new(HttpConfig::default());
    let mut out = Vec::new();
    let ts = Timestamp(5);
    open(&mut t, 1, ts, false, &mut out);
    data(&mut t, 1, ts, Direction::ToClient, GET, &mut out);
    data(&mut t, 1, ts, Direction::ToServer, OK, &mut out);
    t.finish(&mut |o| out.push(o));
    let x = exchanges(&out);
    assert_eq!(x.len(), 1);
    assert!(x[0].has(Flag::RolesSwapped));
    assert_eq!(x[0].flow.client, ep(2, 80));
    assert_eq!(x[0].flow.server, ep(1, 40000));
    assert_eq!(x[0].response.as_ref().map(|r| r.status), Some(200));
    assert_eq!(t.stats().roles_swapped, 1);
}

#[test]
fn server_bytes_before_client_decision_are_kept() {
    let mut t = HttpTracker::new(HttpConfig::default());
    let mut out = Vec::new();
    let ts = Timestamp(5);
    open(&mut t, 1, ts, true, &mut out);
    data(&mut t, 1, ts, Direction::ToServer, b"GE", &mut out);
    data(&mut t, 1, ts, Direction::ToClient, OK, &mut out);
    data(
        &mut t,
        1,
        ts,
        Direction::ToServer,
        b"T / HTTP/1.1\r\n\r\n",
        &mut out,
    );
    t.finish(&mut |o| out.push(o));
    let x = exchanges(&out);
    assert_eq!(x.len(), 1, "{out:?}");
    assert!(x[0].flags.is_empty(), "{:?}", x[0].flags);
}

#[test]
fn tls_mid_stream_is_classified() {
    let mut t = HttpTracker::new(HttpConfig::default());
    let mut out = Vec::new();
    let ts = Timestamp(5);
    open(&mut t, 1, ts, false, &mut out);
    data(
        &mut t,
        1,
        ts,
        Direction::ToClient,
        &[0x17, 3, 3, 0, 4, 1, 2, 3, 4],
        &mut out,
    );
    data(
        &mut t,
        1,
        ts,
        Direction::ToServer,
        b"GET / HTTP/1.1\r\n\r\n",
        &mut out,
    );
    t.finish(&mut |o| out.push(o));
    assert!(exchanges(&out).is_empty());
    match out.last() {
        Some(HttpOutput::Connection(c)) => {
            assert_eq!(
                c.protocol,
                Protocol::Tls {
                    sni: None,
                    version: Some("TLS 1.2".into())
                }
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.stats().connections_tls, 1);
}

#[test]
fn config_validation_rejects_zero_and_huge() {
    assert!(HttpConfig::default().validate().is_ok());
    let bad = HttpConfig {
        max_connections: 0,
        ..HttpConfig::default()
    };
    assert!(HttpTracker::build(bad).is_err());
    let bad = HttpConfig {
        max_headers: 100_000,
        ..HttpConfig::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn huge_lengths_and_gaps_do_not_overflow() {
    let mut t = HttpTracker::new(HttpConfig::default());
    let mut out = Vec::new();
    let ts = Timestamp(5);
    open(&mut t, 1, ts, true, &mut out);
    data(
        &mut t,
        1,
        ts,
        Direction::ToServer,
        b"POST / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\nab",
        &mut out,
    );
    for _ in 0..3 {
        t.on_event(
            FlowId(1),
            StreamEvent::Gap {
                ts,
                dir: Direction::ToServer,
                len: u64::MAX,
            },
            &mut |o| out.push(o),
        );
    }
    data(
        &mut t,
        1,
        ts,
        Direction::ToClient,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab",
        &mut out,
    );
    t.on_event(
        FlowId(1),
        StreamEvent::Gap {
            ts,
            dir: Direction::ToClient,
            len: u64::MAX,
        },
        &mut |o| out.push(o),
    );
    t.on_event(
        FlowId(1),
        StreamEvent::Gap {
            ts,
            dir: Direction::ToClient,
            len: u64::MAX,
        },
        &mut |o| out.push(o),
    );
    t.finish(&mut |o| out.push(o));
    let x = exchanges(&out);
    assert_eq!(x.len(), 1, "{out:?}");
    let q = x[0].request.as_ref().map(|r| r.body.len);
    assert_eq!(q, Some(u64::MAX), "length saturates");
    assert!(x[0].has(Flag::Gap));
}

#[test]
fn kept_response_goes_alone_after_timeout() {
    let mut t = HttpTracker::new(HttpConfig::default());
    let mut out = Vec::new();
    let t0 = Timestamp::from_secs_nanos(10, 0);
    open(&mut t, 1, t0, true, &mut out);
    data(&mut t, 1, t0, Direction::ToClient, OK, &mut out);
    t.advance(t0.plus(Duration::from_secs(4)), &mut |o| out.push(o));
    assert!(out.is_empty(), "kept for a late request");
    t.advance(t0.plus(Duration::from_secs(5)), &mut |o| out.push(o));
    let x = exchanges(&out);
    assert_eq!(x.len(), 1);
    assert!(x[0].has(Flag::NoRequest) && x[0].request.is_none());
    // A request after that does not take the response emitted already.
    data(&mut t, 1, t0, Direction::ToServer, GET, &mut out);
    t.finish(&mut |o| out.push(o));
    let x = exchanges(&out);
    assert_eq!(x.len(), 2);
    assert!(x[1].has(Flag::NoResponse));
}
