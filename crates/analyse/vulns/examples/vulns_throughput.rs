//! Scanner throughput over capture files: exchanges per CPU second (this thread's CPU time).
//!
//! ```sh
//! cargo run --release -p periscope-vulns --example vulns_throughput            # tests/data/*.pcap + vulnapp
//! cargo run --release -p periscope-vulns --example vulns_throughput -- a.pcap  # given files
//! VULNS_LIST=1 cargo run … # also list the findings
//! ```
//!
//! The files are read into exchanges first (not timed); then the exchanges go through one
//! scanner `1 + ROUNDS` times: the first pass (cold) and the best of the others (warm) are
//! reported, with the findings.

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
    // Round 0 is a fresh scanner (cold regex caches, every finding new); rounds 1.. reuse it,
    // as a long-running sensor would (warm caches, findings deduplicated, checks still run).
    let mut scanner = Scanner::new(ScannerConfig::default())?;
    let mut out = Vec::new();
    let mut cold = Duration::ZERO;
    let mut best = Duration::MAX;
    for round in 0..=ROUNDS {
        out.clear();
        let t = cpu_now();
        for x in &all {
            scanner.on_exchange(x, &[], &mut out);
        }
        scanner.finish(&mut out);
        let took = cpu_now().saturating_sub(t);
        if round == 0 {
            cold = took;
        } else {
            best = best.min(took);
        }
    }
    let findings = scanner.findings().count();
    if std::env::var_os("VULNS_LIST").is_some() {
        for v in scanner.findings() {
            println!(
                "  {:<24} {:<9} {:<16} {:<24} {} | {}",
                v.kind,
                format!("{:?}", v.severity),
                v.host,
                v.endpoint,
                v.title,
                v.evidence
            );
        }
    }
    let stats = Some(scanner.stats());
    println!(
        "cold (first pass, fresh scanner): {:.1} ms CPU, {:.0} exchanges/s",
        cold.as_secs_f64() * 1e3,
        all.len() as f64 / cold.as_secs_f64().max(1e-9)
    );
    let secs = best.as_secs_f64().max(1e-9);
    println!(
        "files: {}, exchanges: {}, body bytes: {bytes}",
        files.len(),
        all.len()
    );
    println!(
        "warm, best of {ROUNDS}: {:.1} ms CPU, {:.0} exchanges/s, {:.1} MB/s of bodies; findings: {findings}",
        secs * 1e3,
        all.len() as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    if let Some(s) = stats {
        println!("stats: {s:?}");
    }
    Ok(())
}
