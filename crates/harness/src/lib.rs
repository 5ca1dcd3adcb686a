//! Entry points that take arbitrary bytes and drive one part of the pipeline with them.
//!
//! `fuzz/` (a cargo-fuzz crate outside the workspace) calls each function from a libFuzzer
//! target; `tests/replay.rs` calls them on the committed seeds and on every input a fuzzer
//! once crashed on (`fuzz/regressions/<target>/`), so CI catches regressions on stable Rust.
//! None of them may panic, whatever the bytes.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use periscope_decode::{Decoded, Decoder};
use periscope_http::{HttpOutput, HttpTracker};
use periscope_model::{
    Direction, Endpoint, FlowId, FlowStats, Frame, LinkType, Segment, StreamEvent, TcpFlags,
    Timestamp, TunnelPath,
};
use periscope_reassemble::Reassembler;
use std::io::Cursor;
use std::sync::OnceLock;

mod analyse;
pub mod exchanges;
mod sources;
mod wire;

pub use analyse::{behaviour, vulns, vulns_reusing};
pub use sources::{mirror_exchanges, sources};
pub use wire::wire;

/// The names of the targets, as used for `fuzz/fuzz_targets/<name>.rs` and the seed folders.
pub const TARGETS: [&str; 9] = [
    "capture",
    "decode",
    "reassemble",
    "h1",
    "detect",
    "wire",
    "vulns",
    "behaviour",
    "sources",
];

/// Runs the named target on `data`. Returns false for an unknown name.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "capture" => capture(data),
        "decode" => decode(data),
        "reassemble" => reassemble(data),
        "h1" => h1(data),
        "detect" => detect(data),
        "wire" => wire(data),
        "vulns" => vulns(data),
        "behaviour" => behaviour(data),
        "sources" => sources(data),
        _ => return false,
    }
    true
}

/// A whole capture file through capture → decode → reassemble → http.
pub fn capture(data: &[u8]) {
    let Ok(mut reader) = periscope_capture::CaptureReader::from_reader(Cursor::new(data.to_vec()))
    else {
        return;
    };
    // Bounded: a hostile file cannot make the reader loop forever, but keep the target fast.
    // Read errors are the point of fuzzing the reader: they end the input, nothing more.
    let _ = periscope_testkit::run(&mut reader, 10_000, &mut |_, _| {}, &mut |_| {});
}

/// Frames for the decoder: the first byte picks the link type (modulo 13: null, Ethernet,
/// PPP, Cisco HDLC, raw IP, loop, SLL, IPv4, IPv6, SLL2, an unknown type, then the UDP
/// payloads of the VXLAN and GENEVE listeners), then frames follow, each prefixed by a 2-byte
/// big-endian length (so that fragments of several frames meet in the defragmenter). VXLAN and
/// GENEVE datagrams are also decoded as a capture shows them (in UDP to port 4789/6081), and
/// both results must agree.
pub fn decode(data: &[u8]) {
    const LINKS: [LinkType; 13] = [
        LinkType::Null,
        LinkType::Ethernet,
        LinkType::Ppp,
        LinkType::CiscoHdlc,
        LinkType::Raw,
        LinkType::Loop,
        LinkType::LinuxSll,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::LinuxSll2,
        LinkType::Other(147),
        LinkType::Vxlan,
        LinkType::Geneve,
    ];
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let link = LINKS[usize::from(pick) % LINKS.len()];
    let Ok(mut decoder) = Decoder::new(Default::default()) else {
        return;
    };
    // Datagrams of a tunnel listener are also decoded as captured on the wire (in UDP to the
    // IANA port): both must give the same result.
    let listener_port = match link {
        LinkType::Vxlan => Some(4789),
        LinkType::Geneve => Some(6081),
        _ => None,
    };
    let Ok(mut captured) = Decoder::new(Default::default()) else {
        return;
    };
    let mut n = 0u64;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let bytes = &rest[2..2 + len];
        rest = &rest[2 + len..];
        n += 1;
        let cut = u32::from(pick & 1) * 7;
        let frame = Frame {
            ts: Timestamp(n * 1_000_000),
            link,
            data: bytes,
            orig_len: len as u32 + cut,
        };
        let listened = decoder.decode(&frame);
        let Some(wire) = listener_port.and_then(|port| in_udp(bytes, port)) else {
            continue;
        };
        let as_captured = captured.decode(&Frame {
            link: LinkType::Ethernet,
            data: &wire,
            orig_len: wire.len() as u32 + cut,
            ..frame
        });
        assert!(
            same_result(&listened, &as_captured),
            "{link:?} datagram decodes to {listened:?} from the listener but to \
             {as_captured:?} when captured in UDP"
        );
    }
    decoder.expire_fragments(Timestamp(u64::MAX / 2));
}

/// `datagram` in Ethernet, IPv4 and UDP to `port`, as a capture of the mirror traffic shows it.
fn in_udp(datagram: &[u8], port: u16) -> Option<Vec<u8>> {
    let udp_len = u16::try_from(8 + datagram.len()).ok()?;
    let ip_len = udp_len.checked_add(20)?;
    let mut f = Vec::with_capacity(14 + usize::from(ip_len));
    f.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&ip_len.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x40, 0, 64, 17, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2]);
    f.extend_from_slice(&50_000u16.to_be_bytes());
    f.extend_from_slice(&port.to_be_bytes());
    f.extend_from_slice(&udp_len.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(datagram);
    Some(f)
}

/// Same segment, same skip reason, or the same error in the same layer (offsets differ by
/// the outer headers).
fn same_result(a: &Decoded<'_>, b: &Decoded<'_>) -> bool {
    match (a, b) {
        (Decoded::Tcp(x), Decoded::Tcp(y)) => format!("{x:?}") == format!("{y:?}"),
        (Decoded::Held, Decoded::Held) => true,
        (Decoded::Skipped(x), Decoded::Skipped(y)) => x == y,
        (Decoded::Malformed(x), Decoded::Malformed(y)) => (x.kind, x.layer) == (y.kind, y.layer),
        _ => false,
    }
}

/// TCP segments built from the bytes, through reassembly into the HTTP tracker. Each segment
/// is a 6-byte header — flags, direction, sequence offset (2 bytes, scaled), payload length,
/// time step — then its payload.
pub fn reassemble(data: &[u8]) {
    let client = Endpoint::new([10, 0, 0, 1].into(), 40000);
    let server = Endpoint::new([10, 0, 0, 2].into(), 80);
    let mut reassembler = Reassembler::new(Default::default());
    let mut http = HttpTracker::new(Default::default());
    let mut sink = |_: HttpOutput| {};
    let mut rest = data;
    let mut ts = Timestamp::from_secs_nanos(1_700_000_000, 0);
    let isn = [0xffff_ff00u32, 0x7fff_0000];
    while rest.len() >= 6 {
        let (flags, dir, offset, len, step) = (
            rest[0],
            rest[1] & 1,
            u32::from(u16::from_be_bytes([rest[2], rest[3]])),
            usize::from(rest[4]),
            rest[5],
        );
        let payload = &rest[6..(6 + len).min(rest.len())];
        rest = &rest[(6 + len).min(rest.len())..];
        ts = ts.plus(std::time::Duration::from_millis(u64::from(step) * 20));
        let (src, dst) = if dir == 0 {
            (client, server)
        } else {
            (server, client)
        };
        let segment = Segment {
            ts,
            src,
            dst,
            tunnel: TunnelPath::default(),
            vlan: None,
            seq: isn[usize::from(dir)].wrapping_add(offset.wrapping_mul(7)),
            ack: isn[usize::from(1 - dir)].wrapping_add(offset.wrapping_mul(5)),
            flags: TcpFlags(flags),
            window: 512,
            payload,
            payload_len: payload.len() as u32 + u32::from(flags >> 7) * 13,
        };
        reassembler.process(&segment, &mut |flow: FlowId, ev: StreamEvent<'_>| {
            http.on_event(flow, ev, &mut sink)
        });
        reassembler.advance(ts, &mut |flow: FlowId, ev: StreamEvent<'_>| {
            http.on_event(flow, ev, &mut sink)
        });
        http.advance(ts, &mut sink);
    }
    reassembler.finish(&mut |flow: FlowId, ev: StreamEvent<'_>| http.on_event(flow, ev, &mut sink));
    http.finish(&mut sink);
}

/// Two byte streams straight into the HTTP tracker: the input is cut at each `0xff` byte and
/// the pieces alternate between client and server; a piece starting with `0xfe` is a gap.
pub fn h1(data: &[u8]) {
    let mut http = HttpTracker::new(Default::default());
    let mut sink = |_: HttpOutput| {};
    let flow = FlowId(1);
    let ts = Timestamp::from_secs_nanos(1_700_000_000, 0);
    http.on_event(
        flow,
        StreamEvent::Open {
            ts,
            client: Endpoint::new([10, 0, 0, 1].into(), 40000),
            server: Endpoint::new([10, 0, 0, 2].into(), 80),
            tunnel: TunnelPath::default(),
            vlan: None,
            handshake: data.first().is_some_and(|b| b & 1 == 1),
        },
        &mut sink,
    );
    for (i, piece) in data.split(|&b| b == 0xff).enumerate() {
        let dir = if i % 2 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let ts = ts.plus(std::time::Duration::from_millis(i as u64 * 300));
        let ev = match piece.split_first() {
            Some((0xfe, len)) => StreamEvent::Gap {
                ts,
                dir,
                len: len.len() as u64 * 100,
            },
            _ => StreamEvent::Data {
                ts,
                dir,
                bytes: piece,
            },
        };
        http.on_event(flow, ev, &mut sink);
        http.advance(ts, &mut sink);
    }
    let stats = FlowStats::default();
    http.on_event(
        flow,
        StreamEvent::Close {
            ts,
            reason: periscope_model::CloseReason::Fin,
            stats: &stats,
        },
        &mut sink,
    );
    http.finish(&mut sink);
}

/// A request for the attack detector: the first line is the target, the next lines up to an
/// empty line are `name: value` headers, the rest is the body.
pub fn detect(data: &[u8]) {
    static DETECTOR: OnceLock<Option<periscope_detect::Detector>> = OnceLock::new();
    let Some(detector) =
        DETECTOR.get_or_init(|| periscope_detect::Detector::new(Default::default()).ok())
    else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let target = lines.next().unwrap_or("/");
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();
    let method = if body.is_empty() { "GET" } else { "POST" };
    let request = periscope_detect::request_from_parts(method, target, &headers, body.as_bytes());
    let _ = detector.inspect(&request);
}
