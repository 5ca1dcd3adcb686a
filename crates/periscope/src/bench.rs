//! `periscope bench FILE`: throughput of each stage on one capture, measured in the same run
//! so the figures compare: medians of several runs, ratios against "only reading the file",
//! and the thread's CPU time beside the wall time (on a loaded machine the wall time measures
//! the other processes too).

use crate::pipeline::{Pipeline, PipelineConfig};
use anyhow::Context;
use periscope_decode::{Decoded, Decoder};
use periscope_model::{Endpoint, Event, Segment, TcpFlags, Timestamp, TunnelPath};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `periscope bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// The capture to measure on (read from the page cache: run once to warm it).
    file: PathBuf,
    /// Runs per stage; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Also measure the memory of this many concurrent idle flows (0 to skip).
    #[arg(long, default_value_t = 100_000)]
    idle_flows: u64,
    /// Internal: measure only the idle flows, in this fresh process (`handshake` or `request`).
    #[arg(long, hide = true)]
    idle_only: Option<String>,
}

/// One measured stage: runs over the file, returns how many items it produced.
type Stage = fn(&Path) -> anyhow::Result<u64>;

/// Runs the benchmark and prints a table.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    if let Some(kind) = &args.idle_only {
        let (before, after) = idle_flow_memory(args.idle_flows, kind == "request")?;
        println!("{before} {after}");
        return Ok(());
    }
    let stages: [(&str, Stage); 4] = [
        ("read only", read_only),
        ("read + decode", read_decode),
        ("pipeline (no output)", full_pipeline),
        ("pipeline + NDJSON", full_pipeline_json),
    ];
    let mut out = std::io::stdout().lock();
    let bytes = file_frame_bytes(&args.file)?;
    writeln!(
        out,
        "{bytes} bytes of frames; {} runs per stage, medians",
        args.runs
    )?;
    writeln!(
        out,
        "{:<24} {:>9} {:>9} {:>12} {:>12} {:>9} {:>10}",
        "stage", "wall s", "cpu s", "Gbit/s wall", "Gbit/s cpu", "cpu ratio", "events"
    )?;
    let mut baseline = None;
    for (name, stage) in stages {
        let mut wall = Vec::with_capacity(args.runs);
        let mut cpu = Vec::with_capacity(args.runs);
        let mut events = 0;
        for _ in 0..args.runs.max(1) {
            let (started, cpu_started) = (Instant::now(), thread_cpu_seconds());
            events = stage(&args.file).with_context(|| format!("stage {name}"))?;
            wall.push(started.elapsed().as_secs_f64());
            cpu.push(thread_cpu_seconds() - cpu_started);
        }
        let (wall, cpu) = (median(&mut wall), median(&mut cpu));
        let gbits = |secs: f64| bytes as f64 * 8.0 / secs.max(1e-9) / 1e9;
        let base = *baseline.get_or_insert(cpu);
        writeln!(
            out,
            "{name:<24} {wall:>9.3} {cpu:>9.3} {:>12.2} {:>12.2} {:>9.2} {events:>10}",
            gbits(wall),
            gbits(cpu),
            cpu / base.max(1e-9)
        )?;
    }
    if args.idle_flows > 0 {
        writeln!(out)?;
        for (what, kind) in [
            ("handshake only", "handshake"),
            ("handshake + unanswered request", "request"),
        ] {
            // A fresh process each, so that memory freed by an earlier measurement is not reused.
            let child = std::process::Command::new(std::env::current_exe()?)
                .args([
                    "bench",
                    "--idle-only",
                    kind,
                    "--idle-flows",
                    &args.idle_flows.to_string(),
                ])
                .arg(&args.file)
                .output()?;
            let text = String::from_utf8_lossy(&child.stdout);
            let mut fields = text
                .split_whitespace()
                .map(|v| v.parse::<u64>().unwrap_or(0));
            let (rss_before, rss_after) = (fields.next().unwrap_or(0), fields.next().unwrap_or(0));
            writeln!(
                out,
                "{} idle flows, {what}: RSS {} KiB → {} KiB ({:.0} bytes per flow)",
                args.idle_flows,
                rss_before,
                rss_after,
                (rss_after.saturating_sub(rss_before) * 1024) as f64 / args.idle_flows as f64
            )?;
        }
    }
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// CPU time this thread has run, in seconds, from the scheduler's own account
/// (`/proc/thread-self/schedstat`, nanoseconds); 0 where it is not available.
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|ns| ns as f64 / 1e9)
        .unwrap_or(0.0)
}

/// Captured bytes of every frame of `path` (the figure Gbit/s is computed from).
fn file_frame_bytes(path: &Path) -> anyhow::Result<u64> {
    let mut reader = periscope_capture::open(path)?;
    let mut bytes = 0u64;
    while let Some(frame) = reader.next_frame()? {
        bytes += frame.data.len() as u64;
    }
    Ok(bytes)
}

fn read_only(path: &Path) -> anyhow::Result<u64> {
    let mut reader = periscope_capture::open(path)?;
    let mut frames = 0u64;
    while let Some(frame) = reader.next_frame()? {
        frames += u64::from(frame.data.first().copied().unwrap_or(0) != 0xff);
    }
    Ok(frames)
}

fn read_decode(path: &Path) -> anyhow::Result<u64> {
    let mut reader = periscope_capture::open(path)?;
    let mut decoder = Decoder::new(Default::default())?;
    let mut segments = 0u64;
    while let Some(frame) = reader.next_frame()? {
        if let Decoded::Tcp(_) = decoder.decode(&frame) {
            segments += 1;
        }
    }
    Ok(segments)
}

fn full_pipeline(path: &Path) -> anyhow::Result<u64> {
    let mut events = 0u64;
    let mut pipeline = Pipeline::new(PipelineConfig::default(), |_: Event| events += 1)?;
    feed_file(path, &mut pipeline)?;
    pipeline.finish();
    drop(pipeline);
    Ok(events)
}

fn full_pipeline_json(path: &Path) -> anyhow::Result<u64> {
    let mut events = 0u64;
    let mut sink = std::io::sink();
    let mut pipeline = Pipeline::new(PipelineConfig::default(), |event: Event| {
        events += 1;
        // Serialising is what is measured; the sink cannot fail.
        let _ = serde_json::to_writer(&mut sink, &event);
    })?;
    feed_file(path, &mut pipeline)?;
    pipeline.finish();
    drop(pipeline);
    Ok(events)
}

fn feed_file<E: crate::pipeline::EventSink>(
    path: &Path,
    pipeline: &mut Pipeline<E>,
) -> anyhow::Result<()> {
    let mut reader = periscope_capture::open(path)?;
    while let Some(frame) = reader.next_frame()? {
        pipeline.feed_frame(&frame);
    }
    Ok(())
}

/// Opens `n` connections that stay idle (a SYN and a SYN-ACK each, and with `with_request` a
/// request that gets no response) and reads the resident set size before and after, in KiB.
fn idle_flow_memory(n: u64, with_request: bool) -> anyhow::Result<(u64, u64)> {
    let mut pipeline = Pipeline::new(PipelineConfig::default(), |_: Event| {})?;
    let before = rss_kib();
    let server = Endpoint::new([10, 0, 0, 1].into(), 80);
    let request = b"GET /idle HTTP/1.1\r\nHost: example\r\n\r\n";
    for i in 0..n {
        let client = Endpoint::new(
            [10, 1, (i >> 16) as u8, (i >> 8) as u8].into(),
            1024 + (i & 0xff) as u16 * 200,
        );
        let ts = Timestamp::from_secs_nanos(1_700_000_000, (i % 1_000_000) as u32 * 1000);
        let seg = |src, dst, seq, ack, flags, payload: &'static [u8]| Segment {
            ts,
            src,
            dst,
            tunnel: TunnelPath::default(),
            vlan: None,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 1024,
            payload,
            payload_len: payload.len() as u32,
        };
        pipeline.feed_segment(&seg(client, server, 1000, 0, TcpFlags::SYN, b""));
        pipeline.feed_segment(&seg(
            server,
            client,
            5000,
            1001,
            TcpFlags::SYN | TcpFlags::ACK,
            b"",
        ));
        if with_request {
            pipeline.feed_segment(&seg(
                client,
                server,
                1001,
                5001,
                TcpFlags::ACK | TcpFlags::PSH,
                request,
            ));
        }
    }
    let after = rss_kib();
    drop(pipeline);
    Ok((before, after))
}

/// VmRSS of this process in KiB (0 where /proc is not available).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
