//! What the metrics and the API cost, in CPU time (the machine is shared, so wall time says
//! little). Run: `cargo run --release -p periscope-serve --example measure`.
//!
//! - metric updates: CPU ns per call on one thread, and with 2 threads updating the same series;
//! - `encode()`: CPU µs for a registry with every family populated;
//! - `/api/v1/events?limit=1000` over loopback against a `MemoryStore` of 100 000 attack records:
//!   CPU ms per page for the whole process (server and client together).

use periscope_model::Timestamp;
use periscope_serve::{router, serve, ApiState, ApiToken, Metrics};
use periscope_store::{MemoryStore, NewRecord, Store};
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

/// CPU time of the calling thread, from `/proc/thread-self/schedstat` (nanoseconds).
fn thread_cpu_ns() -> Result<u64, Box<dyn Error>> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let first = text.split_whitespace().next().ok_or("empty schedstat")?;
    Ok(first.parse()?)
}

/// CPU time of the whole process (user + system), from `/proc/self/stat` (clock ticks of 10 ms).
fn process_cpu() -> Result<Duration, Box<dyn Error>> {
    let text = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let after = text.rsplit_once(')').ok_or("bad /proc/self/stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11).ok_or("no utime")?.parse()?;
    let stime: u64 = fields.get(12).ok_or("no stime")?.parse()?;
    Ok(Duration::from_millis((utime + stime) * 10))
}

/// CPU ns per call of `f`, best of 3 runs of `n` calls.
fn per_call(n: u64, mut f: impl FnMut(u64)) -> Result<f64, Box<dyn Error>> {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = thread_cpu_ns()?;
        for i in 0..n {
            f(i);
        }
        let ns = (thread_cpu_ns()? - start) as f64 / n as f64;
        best = best.min(ns);
    }
    Ok(best)
}

fn main() -> Result<(), Box<dyn Error>> {
    let metrics = Metrics::new();
    let n = 2_000_000;
    println!("metric updates, CPU ns per call (best of 3 x {n}):");
    let ns = per_call(n, |_| metrics.dropped("queue_full", 1))?;
    println!("  dropped(\"queue_full\", 1)            {ns:7.1}");
    let ns = per_call(n, |i| metrics.packets("eth0", 1, i & 1023))?;
    println!("  packets(\"eth0\", 1, len)             {ns:7.1}");
    let source = metrics.source_counters("eth0");
    let ns = per_call(n, |i| source.add(1, i & 1023))?;
    println!("  SourceCounters::add(1, len)         {ns:7.1}");
    let ns = per_call(n, |i| {
        metrics.observe_stage("detect", Duration::from_nanos(i & 0xffff))
    })?;
    println!("  observe_stage(\"detect\", d)          {ns:7.1}");
    let timer = metrics.stage_timer("detect");
    let ns = per_call(n, |i| timer.observe((i & 0xffff) as f64 * 1e-9))?;
    println!("  stage_timer handle .observe(s)      {ns:7.1}");
    let ns = per_call(n, |i| metrics.queue_depth("store", (i & 255) as usize))?;
    println!("  queue_depth(\"store\", n)             {ns:7.1}");

    // Two threads on the same series: the cost of sharing the cache line.
    let shared = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| per_call(n, |_| metrics.dropped("queue_full", 1)).ok()))
            .collect();
        workers
            .into_iter()
            .filter_map(|w| w.join().ok().flatten())
            .fold(0.0, f64::max)
    });
    println!("  dropped(..) from 2 threads at once  {shared:7.1}");

    for stage in ["capture", "decode", "reassemble", "http", "detect", "store"] {
        metrics.observe_stage(stage, Duration::from_micros(30));
        metrics.queue_depth(stage, 3);
    }
    for reason in ["queue_full", "store_unavailable", "kernel", "malformed"] {
        metrics.dropped(reason, 1);
    }
    let encoded = metrics.encode();
    let start = thread_cpu_ns()?;
    let rounds = 2000;
    for _ in 0..rounds {
        std::hint::black_box(metrics.encode());
    }
    let us = (thread_cpu_ns()? - start) as f64 / rounds as f64 / 1000.0;
    println!(
        "encode(): {us:.1} CPU µs for {} lines ({} bytes)",
        encoded.lines().count(),
        encoded.len()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(api_pages())
}

/// Reads every page of 100 000 events, 1000 at a time, several times over.
async fn api_pages() -> Result<(), Box<dyn Error>> {
    let store = Arc::new(MemoryStore::new());
    let records: Vec<NewRecord> = (0..100_000u64)
        .map(|n| NewRecord {
            kind: "attack",
            ts: Timestamp::from_secs_nanos(1_790_000_000 + n, 0),
            key: None,
            json: serde_json::json!({
                "type": "attack", "exchange_id": n, "ts": "2026-09-21T12:00:00.000000Z",
                "client": {"ip": "10.0.0.7", "port": 50000}, "server": {"ip": "10.0.0.1", "port": 80},
                "method": "GET", "target": "/search?q=%27%20OR%201%3D1--", "class": "sqli",
                "point": "query.q", "rule": "sqli.tautology", "excerpt": "' OR 1=1--",
                "score": 0.9, "outcome": "unknown", "status": 200,
            })
            .to_string(),
        })
        .collect();
    let bytes: usize = records.iter().map(|r| r.json.len()).sum();
    store.append(&records)?;
    let state = ApiState::new(
        store,
        Arc::new(Metrics::new()),
        ApiToken::new("measure", "example")?,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router(state), async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let passes = 5;
    let mut pages = 0u64;
    let cpu_start = process_cpu()?;
    let wall = std::time::Instant::now();
    for _ in 0..passes {
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{base}/api/v1/events?limit=1000&cursor={c}"),
                None => format!("{base}/api/v1/events?limit=1000"),
            };
            let page: serde_json::Value = http
                .get(url)
                .bearer_auth("measure")
                .send()
                .await?
                .json()
                .await?;
            pages += 1;
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
    }
    let cpu = process_cpu()? - cpu_start;
    println!(
        "/api/v1/events?limit=1000 over {} records ({} MB of JSON): {pages} pages, \
         {:.2} CPU ms per page (server + client parsing, whole process), wall {:.2} s",
        100_000,
        bytes / 1_000_000,
        cpu.as_secs_f64() * 1000.0 / pages as f64,
        wall.elapsed().as_secs_f64()
    );
    let _ = stop.send(());
    server.await??;
    Ok(())
}
