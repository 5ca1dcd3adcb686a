//! Memory of many concurrent idle connections: opens N flows (default 100 000) with one
//! segment each and reports the table entry size, the table's capacity and the process's
//! resident memory (VmRSS) before and after.
//!
//! `cargo run --release -p periscope-reassemble --example flow_memory [-- N [MODE]]`, MODE one
//! of `idle`, `inorder`, `ooo`, `tiny` (default: all three, each measured in a fresh process so that
//! memory kept by the allocator does not hide the next one's growth).

use periscope_model::{Endpoint, FlowId, Segment, StreamEvent, TcpFlags, Timestamp, TunnelPath};
use periscope_reassemble::{Reassembler, ReassemblyConfig};

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn run(n: u32, label: &str, flags: u8, payload: &[u8], out_of_order: bool) {
    let before = vm_rss_kib();
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let mut events = 0u64;
    let mut sink = |_: FlowId, _: StreamEvent<'_>| events += 1;
    for i in 0..n {
        let mk = |seq| Segment {
            ts: Timestamp(1_000_000_000 + u64::from(i)),
            src: Endpoint::new([10, (i >> 16) as u8, (i >> 8) as u8, i as u8].into(), 40000),
            dst: Endpoint::new([10, 255, 0, 1].into(), 80),
            tunnel: TunnelPath::default(),
            vlan: None,
            seq,
            ack: 1,
            flags: TcpFlags(flags),
            window: 0,
            payload,
            payload_len: payload.len() as u32,
        };
        r.process(&mk(1000), &mut sink);
        if out_of_order {
            // A second segment ahead of a hole: buffered (allocates the per-direction extra).
            r.process(&mk(1000 + 2 * payload.len() as u32), &mut sink);
        }
    }
    let after = vm_rss_kib();
    let (entry, slots, index) = r.table_footprint();
    let delta = after.saturating_sub(before);
    println!(
        "{label}: flows={} entry={entry} B slots={slots} (= {:.1} MiB) index_capacity={index} \
         buffered={} B | VmRSS {before} -> {after} KiB, +{:.1} MiB = {:.0} B/flow",
        r.flow_count(),
        (entry * slots) as f64 / 1048576.0,
        r.buffered_bytes(),
        delta as f64 / 1024.0,
        delta as f64 * 1024.0 / f64::from(n.max(1)),
    );
    r.finish(&mut |_: FlowId, _: StreamEvent<'_>| {});
    drop(r);
    std::hint::black_box(events);
}

/// Hostile case: `flows` connections each sending one-byte segments every other byte (never
/// contiguous), so every byte is a buffered segment. Shows that the limits, which charge a
/// per-segment overhead, bound the real memory.
fn tiny(flows: u32) {
    let before = vm_rss_kib();
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let mut sink = |_: FlowId, _: StreamEvent<'_>| {};
    for i in 0..flows {
        for k in 0..5000u32 {
            let seg = Segment {
                ts: Timestamp(1_000_000_000),
                src: Endpoint::new([10, (i >> 16) as u8, (i >> 8) as u8, i as u8].into(), 40000),
                dst: Endpoint::new([10, 255, 0, 1].into(), 80),
                tunnel: TunnelPath::default(),
                vlan: None,
                seq: 1000 + 2 * k,
                ack: 1,
                flags: TcpFlags(TcpFlags::ACK),
                window: 0,
                payload: b"x",
                payload_len: 1,
            };
            r.process(&seg, &mut sink);
        }
    }
    let after = vm_rss_kib();
    println!(
        "hostile 1-byte segments: flows={flows} buffered (charged)={:.1} MiB gaps={} | VmRSS {before} -> {after} KiB, +{:.1} MiB",
        r.buffered_bytes() as f64 / 1048576.0,
        r.stats().gaps,
        after.saturating_sub(before) as f64 / 1024.0,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    match args.get(2).map(String::as_str) {
        Some("idle") => run(n, "idle (SYN only)", TcpFlags::SYN, b"", false),
        Some("inorder") => run(
            n,
            "mid-stream, 100 B in order",
            TcpFlags::ACK,
            &[b'x'; 100],
            false,
        ),
        Some("tiny") => tiny(n / 100),
        Some("ooo") => run(
            n,
            "100 B out of order buffered",
            TcpFlags::ACK,
            &[b'x'; 100],
            true,
        ),
        _ => {
            for mode in ["idle", "inorder", "ooo", "tiny"] {
                let status = args.first().map(|exe| {
                    std::process::Command::new(exe)
                        .arg(n.to_string())
                        .arg(mode)
                        .status()
                });
                if !matches!(status, Some(Ok(s)) if s.success()) {
                    eprintln!("mode {mode} failed: {status:?}");
                }
            }
        }
    }
}
