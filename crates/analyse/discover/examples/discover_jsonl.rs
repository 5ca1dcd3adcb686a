//! Runs discovery over exchanges recorded by `tests/apps/shop/generate.py`, the way
//! `periscope discover` will over captures:
//!
//! ```text
//! cargo run -p periscope-discover --example discover_jsonl -- traffic.jsonl \
//!     [--openapi out.yaml] [--spec their.yaml] [--state state.json] [--format text|json] [--repeat N]
//! ```
//! `--repeat N` observes the file N times and prints the observe rate (exchanges/s).

use periscope_discover::testing::load_jsonl;
use periscope_discover::{DiscoverOptions, Inventory, OutputFormat};
use std::path::PathBuf;
use std::time::Instant;

/// CPU time of this thread (ns), from the scheduler: the machine is shared, wall time lies.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut files = Vec::new();
    let mut opts = DiscoverOptions::default();
    let mut format = OutputFormat::Text;
    let mut repeat = 0usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--openapi" => opts.openapi = args.next().map(PathBuf::from),
            "--spec" => opts.spec = args.next().map(PathBuf::from),
            "--state" => opts.state = args.next().map(PathBuf::from),
            "--format" => {
                format = if args.next().as_deref() == Some("json") {
                    OutputFormat::Json
                } else {
                    OutputFormat::Text
                }
            }
            "--repeat" => repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            _ => files.push(a),
        }
    }
    let mut exchanges = Vec::new();
    for f in &files {
        let (mut ex, bad) = load_jsonl(&std::fs::read_to_string(f)?);
        if bad > 0 {
            eprintln!("{f}: {bad} unreadable lines skipped");
        }
        exchanges.append(&mut ex);
    }
    if repeat > 0 {
        let start = Instant::now();
        let cpu0 = cpu_ns();
        let mut inv = Inventory::default();
        for _ in 0..repeat {
            for ex in &exchanges {
                inv.observe(ex);
            }
        }
        let dt = start.elapsed();
        let cpu = cpu_ns().saturating_sub(cpu0);
        let n = (exchanges.len() * repeat).max(1);
        eprintln!(
            "observe: {n} exchanges in {dt:?} wall, {:.2} µs CPU each ({:.0} exchanges per CPU-second)",
            cpu as f64 / 1e3 / n as f64,
            n as f64 * 1e9 / cpu.max(1) as f64
        );
    }
    let (_, report) = periscope_discover::run(exchanges, &opts)?;
    print!("{}", report.render(format));
    Ok(())
}
