//! Throughput of the HTTP/1.x tracker on keep-alive GET/200 exchanges with 1 KiB JSON bodies,
//! fed as ~1460-byte segments (the size of full TCP segments). Reports bytes/s.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

#[path = "workload/mod.rs"]
mod workload;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use workload::{conversation, run};

fn bench(c: &mut Criterion) {
    let (req, resp) = conversation(1000);
    let mut g = c.benchmark_group("h1");
    g.throughput(Throughput::Bytes((req.len() + resp.len()) as u64));
    g.bench_function("keepalive_get_200_1k_json", |b| b.iter(|| run(&req, &resp)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
