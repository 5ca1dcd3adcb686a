//! Live-rate benchmark of `periscope run` (ignored by default; root, tcpreplay):
//!
//! ```sh
//! cargo test --release -p periscope --test run_bench -- --ignored --nocapture
//! ```
//!
//! A veth pair between two network namespaces; tcpreplay replays `tests/data/sample.pcap` in a
//! loop with `--unique-ip` (new addresses each loop, so every loop is new flows) at increasing
//! rates into one end, and the daemon's `interface` source captures the other end. For each rate:
//! packets the daemon read, drops (kernel ring and worker queues), and the daemon's CPU time.
//! It reports the highest rate with no drop and the first rate with drops.

#[path = "run_daemon.rs"]
mod daemon;

use daemon::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// Namespaces deleted when dropped.
struct Namespaces(Vec<String>);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

/// Sum of every series of a counter in the Prometheus text.
fn counter(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum()
}

/// utime + stime of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> Res<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit(')').next().ok_or("bad stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11).ok_or("no utime")?.parse()?;
    let stime: f64 = fields.get(12).ok_or("no stime")?.parse()?;
    Ok((utime + stime) / 100.0)
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture (root, tcpreplay)"]
fn live_rate_on_a_veth() -> Res {
    if !is_root() || !have("tcpreplay") || !have("nsenter") {
        println!("SKIP live_rate_on_a_veth: needs root, tcpreplay and nsenter");
        return Ok(());
    }
    let pid = std::process::id();
    let ns = Namespaces(vec![format!("pbench{pid}a"), format!("pbench{pid}b")]);
    for n in &ns.0 {
        Command::new("ip").args(["netns", "add", n]).status()?;
    }
    let (a, b) = (format!("ba{pid}"), format!("bb{pid}"));
    let script = format!(
        "set -e; ip link add {a} type veth peer name {b}; ip link set {a} netns {na}; ip link set {b} netns {nb}; \
         ip -n {na} link set {a} up; ip -n {nb} link set {b} up; ip -n {na} link set lo up; ip -n {nb} link set lo up",
        na = ns.0[0],
        nb = ns.0[1]
    );
    if !Command::new("sh")
        .arg("-c")
        .arg(&script)
        .status()?
        .success()
    {
        return Err("veth setup failed".into());
    }
    let dir = TempDir::new("bench")?;
    let d = Daemon::start_in(
        &dir,
        &format!(
            "[[sources]]\ntype = \"interface\"\ninterface = \"{b}\"\nfilter = \"tcp\"\n\n[store]\nsqlite = \"events.db\"\n"
        ),
        Some(&ns.0[1]),
    )?;
    let sample = data("sample.pcap");
    let sample_mbit = std::fs::metadata(&sample)?.len() as f64 * 8.0 / 1e6;
    let metrics = |d: &Daemon| -> Res<(f64, f64)> {
        let text = d.get_text("/metrics")?;
        Ok((
            counter(&text, "periscope_packets_total"),
            counter(&text, "periscope_dropped_total"),
        ))
    };

    println!("| offered | tcpreplay pps | daemon packets | drops | daemon CPU s | CPU µs/packet |");
    println!("|---|---|---|---|---|---|");
    let mut best_clean: Option<f64> = None;
    let mut first_drop: Option<String> = None;
    for rate in ["50", "100", "200", "400", "800", "topspeed"] {
        let loops = match rate.parse::<f64>() {
            Ok(mbps) => ((mbps * 4.0 / sample_mbit).ceil() as u64).max(1),
            Err(_) => 400,
        };
        let (p0, d0) = metrics(&d)?;
        let c0 = cpu_seconds(d.pid())?;
        let speed = if rate == "topspeed" {
            "--topspeed".to_string()
        } else {
            format!("--mbps={rate}")
        };
        let started = Instant::now();
        let out = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", ns.0[0]))
            .args(["tcpreplay", "-i", &a, &speed, "--unique-ip"])
            .arg(format!("--loop={loops}"))
            .arg(&sample)
            .output()?;
        let elapsed = started.elapsed();
        let report = String::from_utf8_lossy(&out.stdout).to_string();
        let pps = report
            .lines()
            .find(|l| l.trim_start().starts_with("Rated:"))
            .and_then(|l| l.split(',').nth(2))
            .map(|s| s.trim().trim_end_matches("pps").trim().to_string())
            .unwrap_or_else(|| "?".into());
        // Let the queues drain.
        std::thread::sleep(Duration::from_secs(2));
        let (p1, d1) = metrics(&d)?;
        let c1 = cpu_seconds(d.pid())?;
        let (packets, drops, cpu) = (p1 - p0, d1 - d0, c1 - c0);
        println!(
            "| {rate} Mbit/s ({:.1} s) | {pps} | {packets} | {drops} | {cpu:.2} | {:.1} |",
            elapsed.as_secs_f64(),
            if packets > 0.0 {
                cpu * 1e6 / packets
            } else {
                0.0
            }
        );
        if drops == 0.0 {
            if let Ok(m) = rate.parse::<f64>() {
                best_clean = Some(best_clean.map_or(m, |b: f64| b.max(m)));
            }
        } else if first_drop.is_none() {
            first_drop = Some(format!("{rate} ({pps} pps)"));
        }
    }
    println!(
        "highest offered rate without drops: {} Mbit/s; drops began at: {}",
        best_clean.map_or("none".into(), |b| b.to_string()),
        first_drop.unwrap_or_else(|| "never (topspeed included)".into())
    );
    assert_eq!(d.terminate()?, 0);
    Ok(())
}
