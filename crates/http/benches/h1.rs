//! Throughput of the HTTP/1.x tracker on keep-alive GET/200 exchanges with 1 KiB JSON bodies,
//! fed as ~1460-byte segments (the size of full TCP segments). Reports bytes/s.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use periscope_http::{HttpConfig, HttpOutput, HttpTracker};
use periscope_model::{
    CloseReason, Direction, Endpoint, FlowId, FlowStats, StreamEvent, Timestamp, TunnelPath,
};
use std::hint::black_box;

fn conversation(n: usize) -> (Vec<u8>, Vec<u8>) {
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

fn run(req: &[u8], resp: &[u8]) -> u64 {
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

fn bench(c: &mut Criterion) {
    let (req, resp) = conversation(1000);
    let mut g = c.benchmark_group("h1");
    g.throughput(Throughput::Bytes((req.len() + resp.len()) as u64));
    g.bench_function("keepalive_get_200_1k_json", |b| b.iter(|| run(&req, &resp)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
