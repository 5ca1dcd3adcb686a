//! Cost of `Inventory::observe` per exchange, on the same traffic as the HTTP tracker's bench
//! (`crates/http/benches/h1.rs`: keep-alive GET /api/v1/items/{i}?page=2 with a session cookie
//! and a 1 KiB JSON response), so the two throughputs compare directly; plus a mixed API
//! workload with JSON request bodies. Throughput is reported in wire bytes/s like the h1 bench.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use periscope_discover::testing::exchange_full;
use periscope_discover::Inventory;
use periscope_model::{Exchange, Timestamp};
use std::hint::black_box;

fn body_1k() -> String {
    let mut s = String::from("{\"items\":[");
    while s.len() < 1000 {
        s.push_str("{\"id\":12345,\"name\":\"widget\"},");
    }
    s.push_str("{}]}");
    s
}

fn h1_like(n: usize) -> (Vec<Exchange>, u64) {
    let body = body_1k();
    let mut wire = 0u64;
    let ex = (0..n)
        .map(|i| {
            let target = format!("/api/v1/items/{i}?page=2");
            let headers = vec![
                ("Host".to_string(), "api.example.com".to_string()),
                ("User-Agent".to_string(), "bench/1.0".to_string()),
                ("Accept".to_string(), "application/json".to_string()),
                ("Cookie".to_string(), "session=abcdef0123456789".to_string()),
            ];
            // Same request and response bytes as the h1 bench writes.
            wire += (target.len() + 120 + 130 + body.len()) as u64;
            exchange_full(
                i as u64,
                Timestamp(i as u64),
                "GET",
                &target,
                headers,
                Vec::new(),
                Some((
                    200,
                    vec![
                        ("Content-Type".to_string(), "application/json".to_string()),
                        ("Content-Length".to_string(), body.len().to_string()),
                        ("Server".to_string(), "nginx".to_string()),
                        ("Cache-Control".to_string(), "no-store".to_string()),
                    ],
                    body.clone().into_bytes(),
                )),
            )
        })
        .collect();
    (ex, wire)
}

fn mixed(n: usize) -> Vec<Exchange> {
    (0..n)
        .map(|i| {
            let (method, target, body) = match i % 4 {
                0 => ("GET", format!("/api/v1/users/{i}/orders?status=shipped&since=2026-11-25T10:00:00Z"), Vec::new()),
                1 => (
                    "POST",
                    "/api/v1/orders".to_string(),
                    format!("{{\"userId\":{i},\"items\":[{{\"sku\":\"a1b2c3d4e5f6\",\"quantity\":2,\"price\":9.99}}],\"card\":{{\"number\":\"4111111111111111\",\"cvv\":\"123\"}},\"email\":\"u{i}@example.com\"}}").into_bytes(),
                ),
                2 => ("GET", format!("/api/v1/products/{:012x}", i * 7919), Vec::new()),
                _ => ("GET", format!("/api/v1/search?q=lamp&limit=20&page={}", i % 50), Vec::new()),
            };
            let headers = vec![
                ("Host".to_string(), "shop.test".to_string()),
                ("Authorization".to_string(), "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl".to_string()),
                ("Content-Type".to_string(), "application/json".to_string()),
                ("X-Request-Id".to_string(), "9f3e2a1c-1b2c-4d5e-8f90-123456789abc".to_string()),
            ];
            let resp = format!("{{\"id\":{i},\"name\":\"Ann\",\"email\":\"ann{i}@example.org\",\"phone\":\"+1 555 123 4567\",\"tags\":[\"a\",\"b\"]}}");
            exchange_full(
                i as u64,
                Timestamp(i as u64),
                method,
                &target,
                headers,
                body,
                Some((200, vec![("Content-Type".to_string(), "application/json".to_string())], resp.into_bytes())),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let (h1, wire) = h1_like(1000);
    let mut g = c.benchmark_group("observe");
    g.throughput(Throughput::Bytes(wire));
    g.bench_function("h1_bench_traffic_1000", |b| {
        b.iter(|| {
            let mut inv = Inventory::default();
            for ex in &h1 {
                inv.observe(black_box(ex));
            }
            inv
        })
    });
    let mix = mixed(1000);
    g.throughput(Throughput::Elements(mix.len() as u64));
    g.bench_function("mixed_api_1000", |b| {
        b.iter(|| {
            let mut inv = Inventory::default();
            for ex in &mix {
                inv.observe(black_box(ex));
            }
            inv
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
