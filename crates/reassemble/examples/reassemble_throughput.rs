//! In-order 1460-byte segments over 1000 flows, timed by wall clock and by CPU time
//! (`/proc/self/stat`), so that the number means something on a shared, loaded machine where
//! criterion's wall-clock figures swing.
//!
//! `cargo run --release -p periscope-reassemble --example reassemble_throughput [-- SEGMENTS]`

use periscope_model::{Endpoint, FlowId, Segment, StreamEvent, TcpFlags, Timestamp, TunnelPath};
use periscope_reassemble::{Reassembler, ReassemblyConfig};
use std::time::Instant;

const FLOWS: u32 = 1000;
const SEG: u32 = 1460;

/// User + system CPU time of this process in seconds (clock ticks of 10 ms).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12th and 13th after ")".
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    ticks as f64 / 100.0
}

fn main() {
    let total: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000_000);
    let payload = vec![b'x'; SEG as usize];
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let mut delivered = 0u64;
    let mut sink = |_: FlowId, ev: StreamEvent<'_>| {
        if let StreamEvent::Data { bytes, .. } = ev {
            delivered += bytes.len() as u64;
        }
    };
    let mk = |i: u32, seq: u32, ts: u64, flags: u8, payload| Segment {
        ts: Timestamp(ts),
        src: Endpoint::new(
            [10, 0, (i >> 8) as u8, i as u8].into(),
            40000 + (i % 20000) as u16,
        ),
        dst: Endpoint::new([10, 1, 0, 1].into(), 80),
        tunnel: TunnelPath::default(),
        vlan: None,
        seq,
        ack: 1,
        flags: TcpFlags(flags),
        window: 512,
        payload,
        payload_len: SEG,
    };
    for i in 0..FLOWS {
        let mut s = mk(i, 999, 0, TcpFlags::SYN, &[]);
        s.payload_len = 0;
        r.process(&s, &mut sink);
    }
    let (c0, t0) = (cpu_secs(), Instant::now());
    let mut ts = 1u64;
    for n in 0..total {
        let i = (n % u64::from(FLOWS)) as u32;
        let round = (n / u64::from(FLOWS)) as u32;
        ts += 1000;
        let seq = 1000u32.wrapping_add(round.wrapping_mul(SEG));
        r.process(
            &mk(i, seq, ts, TcpFlags::ACK | TcpFlags::PSH, &payload),
            &mut sink,
        );
    }
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_secs() - c0);
    assert_eq!(
        delivered,
        total * u64::from(SEG),
        "every byte delivered in order"
    );
    println!(
        "{total} segments x {SEG} B over {FLOWS} flows: {:.1} ns/segment wall, {:.1} ns/segment CPU \
         ({:.2} Gbit/s of payload per CPU core); gaps={} buffered={}",
        wall * 1e9 / total as f64,
        cpu * 1e9 / total as f64,
        (total * u64::from(SEG) * 8) as f64 / cpu.max(1e-9) / 1e9,
        r.stats().gaps,
        r.buffered_bytes(),
    );
}
