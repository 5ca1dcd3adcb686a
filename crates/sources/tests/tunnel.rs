//! The GENEVE and VXLAN listeners over real UDP sockets: the frames of a recorded capture, each
//! wrapped in a tunnel header and sent as a datagram, come out of the listener and the decoder
//! as the same TCP segments as the capture itself, on the tunnel's VNI; malformed datagrams sent
//! in between are counted by the decoder and change nothing else. (The kernel's VXLAN device is
//! exercised in `live.rs`; this kernel has no GENEVE device, hence the crafted datagrams.)

mod common;

use common::*;
use periscope_model::{Tunnel, TunnelKind};
use periscope_sources::{FrameBatch, OwnedFrame, TunnelConfig, TunnelListener, TunnelProtocol};
use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};

/// GENEVE header: version 0, one 4-byte option (length 1 word), protocol `proto`, VNI, then
/// the option (class 0x0108, type 1, length 0 words) — what AWS GWLB-style senders add.
fn geneve(vni: u32, proto: u16, inner: &[u8]) -> Vec<u8> {
    let mut d = vec![0x01, 0x00];
    d.extend_from_slice(&proto.to_be_bytes());
    d.extend_from_slice(&(vni << 8).to_be_bytes());
    d.extend_from_slice(&[0x01, 0x08, 0x01, 0x00]);
    d.extend_from_slice(inner);
    d
}

fn vxlan(vni: u32, inner: &[u8]) -> Vec<u8> {
    let mut d = vec![0x08, 0, 0, 0];
    d.extend_from_slice(&(vni << 8).to_be_bytes());
    d.extend_from_slice(inner);
    d
}

#[test]
fn recorded_traffic_through_geneve_and_vxlan_listeners() -> TestResult {
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sample.pcap");
    let frames = read_capture(&capture)?;
    let (want, _) = decode_owned(&frames);
    assert!(!want.is_empty());
    let garbage: [&[u8]; 4] = [
        b"",
        b"\x00\x00",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x3f\x00\x65\x58\x00\x00\x07\x00",
    ];

    for (protocol, kind, vni) in [
        (TunnelProtocol::Geneve, TunnelKind::Geneve, 7),
        (TunnelProtocol::Vxlan, TunnelKind::Vxlan, 4242),
    ] {
        let mut cfg = TunnelConfig::new(protocol);
        cfg.listen = "127.0.0.1:0".parse()?;
        let mut listener = TunnelListener::bind(cfg)?;
        let to = listener.local_addr()?;
        let sender = UdpSocket::bind("127.0.0.1:0")?;
        let mut sent = 0;
        for (i, f) in frames.iter().enumerate() {
            let datagram = match protocol {
                TunnelProtocol::Geneve => geneve(vni, 0x6558, &f.data),
                TunnelProtocol::Vxlan => vxlan(vni, &f.data),
            };
            sender.send_to(&datagram, to)?;
            sent += 1;
            if i % 50 == 0 {
                sender.send_to(garbage[(i / 50) % garbage.len()], to)?;
                sent += 1;
            }
            // Loopback drops nothing unless the reader falls behind by a whole buffer; a short
            // pause every few hundred keeps the test honest on a loaded machine.
            if i % 200 == 199 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let mut got: Vec<OwnedFrame> = Vec::new();
        let mut batch = FrameBatch::default();
        let deadline = Instant::now() + Duration::from_secs(10);
        while got.len() < sent && Instant::now() < deadline {
            listener.next_batch(Duration::from_millis(100), &mut batch)?;
            got.extend(batch.iter().map(|f| OwnedFrame::from_frame(&f)));
        }
        let stats = listener.stats().snapshot();
        assert_eq!(stats.drops_socket_buffer, 0, "{stats:?}");
        assert_eq!(got.len(), sent, "{protocol:?}");

        let (segs, decoder) = decode_owned(&got);
        let tunnel = vec![Tunnel { kind, id: vni }];
        assert!(segs.iter().all(|s| s.tunnel == tunnel), "{protocol:?}");
        let strip = |v: &[Seg]| -> Vec<(u16, u16, Vec<u8>)> {
            v.iter()
                .map(|s| (s.sport, s.dport, s.payload.clone()))
                .collect()
        };
        assert!(
            strip(&segs) == strip(&want),
            "{protocol:?}: segments differ"
        );
        let garbage_sent = frames.len().div_ceil(50) as u64;
        // Every garbage datagram is malformed for both (the empty one is truncated, the last is
        // a GENEVE header whose options run past the end, or a VXLAN header without its flag).
        assert_eq!(
            decoder.stats().malformed_total(),
            garbage_sent,
            "{protocol:?}"
        );
        eprintln!(
            "{protocol:?}: {} datagrams, {} segments, {garbage_sent} malformed counted",
            got.len(),
            segs.len()
        );
    }
    Ok(())
}
