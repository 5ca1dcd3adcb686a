//! Throughput on CPU time (not wall time, so it holds on a busy machine): keep-alive GET/200
//! with 1 KiB JSON bodies, as in `benches/h1.rs`. Run with
//! `cargo run --release -p periscope-http --example http_throughput`.

#[path = "../benches/workload/mod.rs"]
mod workload;

use workload::{conversation, run};

/// Nanoseconds this thread has spent on a CPU (Linux `schedstat`).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let (req, resp) = conversation(1000);
    let bytes = (req.len() + resp.len()) as f64;
    let rounds = 200;
    let wall = std::time::Instant::now();
    let cpu0 = cpu_ns();
    let mut n = 0;
    for _ in 0..rounds {
        n += run(&req, &resp);
    }
    let cpu = (cpu_ns() - cpu0) as f64 / 1e9;
    let wall = wall.elapsed().as_secs_f64();
    println!(
        "{rounds} x 1000 exchanges ({:.2} MB each): {:.0} MB/s on CPU time ({:.0} MB/s wall), {:.0} exchanges/s CPU [{n}]",
        bytes / 1e6,
        bytes * rounds as f64 / cpu / 1e6,
        bytes * rounds as f64 / wall / 1e6,
        1000.0 * rounds as f64 / cpu
    );
}
