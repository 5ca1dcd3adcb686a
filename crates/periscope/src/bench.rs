//! `periscope bench FILE`: throughput of each stage on one capture, measured in the same run
//! so the figures compare (this machine is noisy: medians of several runs, and ratios against
//! "only reading the file").

use crate::pipeline::{Pipeline, PipelineConfig};
use anyhow::Context;
use periscope_decode::{Decoded, Decoder};
use periscope_model::{Endpoint, Segment, TcpFlags, Timestamp, TunnelPath};
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
}

/// Runs the benchmark and prints a table.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let stages: [(&str, fn(&Path) -> anyhow::Result<u64>); 4] = [
        ("read only", read_only),
        ("read + decode", read_decode),
        ("pipeline (no output)", full_pipeline),
        ("pipeline + NDJSON", full_pipeline_json),
    ];
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<24} {:>12} {:>12} {:>10} {:>10}",
        "stage", "median s", "Gbit/s", "ratio", "events"
    )?;
    let mut baseline = None;
    for (name, stage) in stages {
        let mut times = Vec::with_capacity(args.runs);
        let mut bytes = 0;
        let mut events = 0;
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            let result = stage(&args.file).with_context(|| format!("stage {name}"))?;
            times.push(started.elapsed());
            events = result;
            bytes = file_frame_bytes(&args.file)?;
        }
        times.sort();
        let median = times[times.len() / 2];
        let gbits = bytes as f64 * 8.0 / median.as_secs_f64() / 1e9;
        let base = *baseline.get_or_insert(median);
        writeln!(
            out,
            "{name:<24} {:>12.3} {gbits:>12.2} {:>10.2} {events:>10}",
            median.as_secs_f64(),
            median.as_secs_f64() / base.as_secs_f64().max(1e-9)
        )?;
    }
    if args.idle_flows > 0 {
        let (rss_before, rss_after) = idle_flow_memory(args.idle_flows)?;
        writeln!(
            out,
            "\n{} idle flows: RSS {} KiB → {} KiB ({:.0} bytes per flow)",
            args.idle_flows,
            rss_before,
            rss_after,
            (rss_after.saturating_sub(rss_before) * 1024) as f64 / args.idle_flows as f64
        )?;
    }
    Ok(())
}

/// Captured bytes of every frame of `path` (the figure Gbit/s is computed from).
fn file_frame_bytes(path: &Path) -> anyhow::Result<u64> {
    static CACHE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    if let Some(b) = CACHE.get() {
        return Ok(*b);
    }
    let mut reader = periscope_capture::open(path)?;
    let mut bytes = 0u64;
    while let Some(frame) = reader.next_frame()? {
        bytes += frame.data.len() as u64;
    }
    Ok(*CACHE.get_or_init(|| bytes))
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
    let mut pipeline = Pipeline::new(PipelineConfig::default(), |_| events += 1)?;
    feed_file(path, &mut pipeline)?;
    pipeline.finish();
    drop(pipeline);
    Ok(events)
}

fn full_pipeline_json(path: &Path) -> anyhow::Result<u64> {
    let mut events = 0u64;
    let mut sink = std::io::sink();
    let mut pipeline = Pipeline::new(PipelineConfig::default(), |event| {
        events += 1;
        // Serialising is what is measured; the sink cannot fail.
        let _ = serde_json::to_writer(&mut sink, &event);
    })?;
    feed_file(path, &mut pipeline)?;
    pipeline.finish();
    drop(pipeline);
    Ok(events)
}

fn feed_file<E: FnMut(periscope_model::Event)>(
    path: &Path,
    pipeline: &mut Pipeline<E>,
) -> anyhow::Result<()> {
    let mut reader = periscope_capture::open(path)?;
    while let Some(frame) = reader.next_frame()? {
        pipeline.feed_frame(&frame);
    }
    Ok(())
}

/// Opens `n` connections that stay idle (a SYN, a SYN-ACK and a request line each, no
/// response) and reads the resident set size before and after, in KiB.
fn idle_flow_memory(n: u64) -> anyhow::Result<(u64, u64)> {
    let mut pipeline = Pipeline::new(PipelineConfig::default(), |_| {})?;
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
        pipeline.feed_segment(&seg(
            client,
            server,
            1001,
            5001,
            TcpFlags::ACK | TcpFlags::PSH,
            request,
        ));
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
