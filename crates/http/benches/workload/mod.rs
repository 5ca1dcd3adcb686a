//! The workload both `benches/h1.rs` and `examples/http_throughput.rs` measure: keep-alive GET/200
//! exchanges with 1 KiB JSON bodies, fed as ~1460-byte segments.

use periscope_http::{HttpConfig, HttpOutput, HttpTracker};
use periscope_model::{
    CloseReason, Direction, Endpoint, FlowId, FlowStats, StreamEvent, Timestamp, TunnelPath,
};
use std::hint::black_box;

/// `n` requests and their `n` responses, as two byte streams.
pub fn conversation(n: usize) -> (Vec<u8>, Vec<u8>) {
    let body: String = {
        let mut s = String::from("{\"items\":[");
        while s.len() < 1000 {
            s.push_str("{\"id\":12345,\"name\":\"widget\"},");
        }
        s.push_str("{}]}");
        s
    };
    let mut req = Vec::new();
    let mut resp = Vec::new();
    for i in 0..n {
        req.extend_from_slice(
            format!(
                "GET /api/v1/items/{i}?page=2 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: bench/1.0\r\nAccept: application/json\r\nCookie: session=abcdef0123456789\r\n\r\n"
            )
            .as_bytes(),
        );
        resp.extend_from_slice(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nServer: nginx\r\nCache-Control: no-store\r\n\r\n{}",
                body.len(),
                body
            )
            .as_bytes(),
        );
    }
    (req, resp)
}

/// Feeds one connection carrying the conversation through a fresh tracker; returns the
/// number of exchanges.
pub fn run(req: &[u8], resp: &[u8]) -> u64 {
    let mut t = HttpTracker::new(HttpConfig::default());
    let mut n = 0u64;
    let mut out = |o: HttpOutput| {
        if let HttpOutput::Exchange(x) = o {
            n += black_box(x.id) & 1;
        }
    };
    let ep = |p| Endpoint::new([10, 0, 0, 1].into(), p);
    let flow = FlowId(1);
    let ts = Timestamp(1);
    t.on_event(
        flow,
        StreamEvent::Open {
            ts,
            client: ep(40000),
            server: ep(80),
            tunnel: TunnelPath::default(),
            vlan: None,
            handshake: true,
        },
        &mut out,
    );
    // Interleave the directions segment by segment, roughly as on the wire.
    let mut a = req.chunks(1460);
    let mut b = resp.chunks(1460);
    loop {
        let x = a.next();
        let y = b.next();
        if x.is_none() && y.is_none() {
            break;
        }
        if let Some(x) = x {
            t.on_event(
                flow,
                StreamEvent::Data {
                    ts,
                    dir: Direction::ToServer,
                    bytes: x,
                },
                &mut out,
            );
        }
        if let Some(y) = y {
            t.on_event(
                flow,
                StreamEvent::Data {
                    ts,
                    dir: Direction::ToClient,
                    bytes: y,
                },
                &mut out,
            );
        }
    }
    let stats = FlowStats::default();
    t.on_event(
        flow,
        StreamEvent::Close {
            ts,
            reason: CloseReason::Fin,
            stats: &stats,
        },
        &mut out,
    );
    n
}
