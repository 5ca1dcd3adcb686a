//! Scanner throughput over capture files: exchanges per CPU second (this thread's CPU time).
//!
//! ```sh
//! cargo run --release -p periscope-vulns --example throughput            # tests/data/*.pcap + vulnapp
//! cargo run --release -p periscope-vulns --example throughput -- a.pcap  # given files
//! ```
//!
//! The files are read into exchanges first (not timed); then the exchanges go through a fresh
//! scanner `ROUNDS` times and the best round is reported, with the findings of one round.

#[path = "../tests/common/mod.rs"]
mod common;

use nix::time::{clock_gettime, ClockId};
use periscope_vulns::{Scanner, ScannerConfig};
use std::path::PathBuf;
use std::time::Duration;

const ROUNDS: usize = 5;

fn cpu_now() -> Duration {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(Duration::ZERO, Duration::from)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        for dir in [common::workspace_data(), common::crate_data()] {
            for e in std::fs::read_dir(dir)? {
                let p = e?.path();
                if p.extension().is_some_and(|x| x == "pcap") {
                    files.push(p);
                }
            }
        }
        files.sort();
    }
    let mut all = Vec::new();
    let mut bytes = 0u64;
    for f in &files {
        match common::exchanges(f) {
            Ok(x) => all.extend(x),
            Err(e) => eprintln!("{}: {e} (skipped)", f.display()),
        }
    }
    for x in &all {
        bytes += x.response.as_ref().map_or(0, |r| r.body.data.len() as u64);
        bytes += x.request.as_ref().map_or(0, |r| r.body.data.len() as u64);
    }
    let mut best = Duration::MAX;
    let mut findings = 0;
    let mut stats = None;
    for _ in 0..ROUNDS {
        let mut scanner = Scanner::new(ScannerConfig::default())?;
        let mut out = Vec::new();
        let t = cpu_now();
        for x in &all {
            scanner.on_exchange(x, &[], &mut out);
        }
        scanner.finish(&mut out);
        let took = cpu_now().saturating_sub(t);
        best = best.min(took);
        findings = scanner.findings().count();
        stats = Some(scanner.stats());
    }
    let secs = best.as_secs_f64().max(1e-9);
    println!(
        "files: {}, exchanges: {}, body bytes: {bytes}",
        files.len(),
        all.len()
    );
    println!(
        "best of {ROUNDS}: {:.1} ms CPU, {:.0} exchanges/s, {:.1} MB/s of bodies; findings: {findings}",
        secs * 1e3,
        all.len() as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    if let Some(s) = stats {
        println!("stats: {s:?}");
    }
    Ok(())
}
