//! In-order 1460-byte segments over 1000 concurrent flows: the fast path (no copy, no
//! allocation). Reports time per segment.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use periscope_model::{Endpoint, FlowId, Segment, StreamEvent, TcpFlags, Timestamp, TunnelPath};
use periscope_reassemble::{Reassembler, ReassemblyConfig};
use std::hint::black_box;

const FLOWS: u32 = 1000;
const SEG: usize = 1460;

fn seg(i: u32, seq: u32, ts: u64, flags: u8, payload: &[u8]) -> Segment<'_> {
    Segment {
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
        payload_len: payload.len() as u32,
    }
}

fn in_order(c: &mut Criterion) {
    let payload = vec![b'x'; SEG];
    let mut g = c.benchmark_group("reassemble");
    g.throughput(Throughput::Elements(u64::from(FLOWS)));
    g.bench_function("in_order_1460B_1000_flows_per_round", |b| {
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let mut delivered = 0u64;
        let mut sink = |_: FlowId, ev: StreamEvent<'_>| {
            if let StreamEvent::Data { bytes, .. } = ev {
                delivered += bytes.len() as u64;
            }
        };
        for i in 0..FLOWS {
            r.process(&seg(i, 999, 0, TcpFlags::SYN, &[]), &mut sink);
        }
        let mut round: u32 = 0;
        let mut ts = 1u64;
        b.iter(|| {
            let seq = 1000u32.wrapping_add(round.wrapping_mul(SEG as u32));
            for i in 0..FLOWS {
                ts += 1000;
                r.process(
                    black_box(&seg(i, seq, ts, TcpFlags::ACK | TcpFlags::PSH, &payload)),
                    &mut sink,
                );
            }
            round = round.wrapping_add(1);
        });
        black_box(delivered);
    });
    g.finish();
}

criterion_group!(benches, in_order);
criterion_main!(benches);
