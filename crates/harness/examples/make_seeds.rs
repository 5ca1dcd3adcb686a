//! Writes the seeds of the targets whose inputs are built, not cut from files:
//!
//! - `decode`: VXLAN and GENEVE datagrams (as the tunnel listeners receive them) carrying the
//!   frames of `tests/data/sample.pcap`;
//! - `wire`: agent connections (hello + frames) made with the agent's own encoder from the
//!   stream events of `tests/data/sample.pcap`;
//! - `vulns`, `behaviour`: the exchanges of the analysers' recorded captures, as records.
//!
//! `cargo run -p periscope-harness --example make_seeds` (from anywhere); it overwrites only
//! the files it names.

use periscope_agent::wire;
use periscope_harness::exchanges;
use periscope_http::HttpOutput;
use periscope_model::{Exchange, FlowId, StreamEvent};
use std::collections::HashMap;
use std::error::Error;
use std::path::{Path, PathBuf};

/// Index of `LinkType::Vxlan` / `LinkType::Geneve` in the `decode` target's link list.
const PICK_VXLAN: u8 = 11;
const PICK_GENEVE: u8 = 12;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() -> Result<(), Box<dyn Error>> {
    let sample = root().join("tests/data/sample.pcap");
    decode_seeds(&sample)?;
    wire_seeds(&sample)?;
    let behaviour = root().join("crates/analyse/behaviour/tests/data");
    let vulns = root().join("crates/analyse/vulns/tests/data/vulnapp.pcap");
    exchange_seeds("vulns", &vulns, "vulnapp")?;
    exchange_seeds("vulns", &behaviour.join("proxy.pcap"), "proxy")?;
    exchange_seeds("vulns", &behaviour.join("idwalk.pcap"), "idwalk")?;
    for name in [
        "benign",
        "botstuffing",
        "bruteforce",
        "dirbuster",
        "idwalk",
        "proxy",
        "scanner",
        "stealthscan",
        "stuffing",
    ] {
        exchange_seeds("behaviour", &behaviour.join(format!("{name}.pcap")), name)?;
    }
    Ok(())
}

fn write(target: &str, name: &str, data: &[u8]) -> Result<(), Box<dyn Error>> {
    let dir = root().join("fuzz/seeds").join(target);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), data)?;
    println!("fuzz/seeds/{target}/{name}: {} bytes", data.len());
    Ok(())
}

/// The first `n` frames of an Ethernet capture.
fn frames(path: &Path, n: usize) -> Result<Vec<Vec<u8>>, Box<dyn Error>> {
    let mut reader = periscope_capture::open(path)?;
    let mut out = Vec::new();
    while let Some(frame) = reader.next_frame()? {
        out.push(frame.data.to_vec());
        if out.len() == n {
            break;
        }
    }
    Ok(out)
}

fn vxlan(vni: u32, inner: &[u8]) -> Vec<u8> {
    let v = vni.to_be_bytes();
    let mut d = vec![0x08, 0, 0, 0, v[1], v[2], v[3], 0];
    d.extend_from_slice(inner);
    d
}

/// GENEVE with `options` (whole 4-byte words) and the given inner protocol.
fn geneve(vni: u32, protocol: u16, options: &[u8], inner: &[u8]) -> Vec<u8> {
    let v = vni.to_be_bytes();
    let p = protocol.to_be_bytes();
    let mut d = vec![
        (options.len() / 4) as u8,
        0,
        p[0],
        p[1],
        v[1],
        v[2],
        v[3],
        0,
    ];
    d.extend_from_slice(options);
    d.extend_from_slice(inner);
    d
}

/// The `decode` input: the link pick, then each datagram with its 2-byte length.
fn decode_input(pick: u8, datagrams: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![pick];
    for d in datagrams {
        out.extend_from_slice(&(d.len() as u16).to_be_bytes());
        out.extend_from_slice(d);
    }
    out
}

fn decode_seeds(sample: &Path) -> Result<(), Box<dyn Error>> {
    let eth = frames(sample, 12)?;
    let vx: Vec<_> = eth.iter().map(|f| vxlan(0x00abcd, f)).collect();
    write("decode", "listener-vxlan", &decode_input(PICK_VXLAN, &vx))?;
    // AWS Gateway Load Balancer style: Ethernet inside, one 8-byte option (class 0x0108).
    let option = [0x01, 0x08, 0x01, 0x01, 0xde, 0xad, 0xbe, 0xef];
    let gn: Vec<_> = eth.iter().map(|f| geneve(77, 0x6558, &option, f)).collect();
    write("decode", "listener-geneve", &decode_input(PICK_GENEVE, &gn))?;
    // GENEVE carrying IP directly: the Ethernet header (14 bytes, IPv4) dropped.
    let ip: Vec<_> = eth
        .iter()
        .filter(|f| f.get(12..14) == Some(&[0x08, 0x00]))
        .map(|f| geneve(78, 0x0800, &[], &f[14..]))
        .collect();
    write(
        "decode",
        "listener-geneve-ip",
        &decode_input(PICK_GENEVE, &ip),
    )?;
    // VXLAN inside GENEVE, as a GWLB in front of a VXLAN mirror delivers it.
    let nested: Vec<_> = eth
        .iter()
        .map(|f| {
            let mut udp_vxlan = f[..14].to_vec(); // reuse the Ethernet header of the frame
            let inner = vxlan(9, f);
            let udp_len = (8 + inner.len()) as u16;
            let total = 20 + udp_len;
            udp_vxlan[12..14].copy_from_slice(&[0x08, 0x00]);
            udp_vxlan.extend_from_slice(&[
                0x45,
                0,
                (total >> 8) as u8,
                total as u8,
                0,
                1,
                0x40,
                0,
                64,
                17,
                0,
                0,
            ]);
            udp_vxlan.extend_from_slice(&[10, 9, 0, 1, 10, 9, 0, 2]);
            udp_vxlan.extend_from_slice(&50000u16.to_be_bytes());
            udp_vxlan.extend_from_slice(&4789u16.to_be_bytes());
            udp_vxlan.extend_from_slice(&udp_len.to_be_bytes());
            udp_vxlan.extend_from_slice(&[0, 0]);
            udp_vxlan.extend_from_slice(&inner);
            geneve(5, 0x6558, &[], &udp_vxlan)
        })
        .collect();
    write(
        "decode",
        "listener-geneve-vxlan",
        &decode_input(PICK_GENEVE, &nested),
    )?;
    Ok(())
}

/// Runs a capture through the stages, showing every stream event to `on_event`; its exchanges.
fn pipeline(
    path: &Path,
    on_event: &mut dyn FnMut(FlowId, &StreamEvent<'_>),
) -> Result<Vec<Exchange>, Box<dyn Error>> {
    let mut reader = periscope_capture::open(path)?;
    let mut out = Vec::new();
    periscope_testkit::run(
        &mut reader,
        usize::MAX,
        &mut |f, e| on_event(f, e),
        &mut |o| {
            if let HttpOutput::Exchange(x) = o {
                out.push(*x);
            }
        },
    )?;
    Ok(out)
}

/// The `wire` input: mode byte (bit 0: the sensor takes the hello's token; bits 1-3: read size).
fn wire_seeds(sample: &Path) -> Result<(), Box<dyn Error>> {
    let mut frames = Vec::new();
    pipeline(sample, &mut |flow, ev| {
        // Enough for a few whole connections; small inputs fuzz faster.
        if frames.len() < 12 * 1024 {
            wire::encode(&mut frames, flow, ev);
        }
    })?;
    let token = b"periscope-fuzz-token";
    let mut fixed_token = vec![0b0000_1100]; // expects the fixed token, 1500-byte reads
    fixed_token.extend(wire::hello(7, 0, token));
    fixed_token.extend_from_slice(&frames);
    write("wire", "sample-session", &fixed_token)?;
    let mut resumed = vec![0b0000_0101]; // any token, 3-byte reads, resumed at the 3rd frame
    let third = third_frame_offset(&frames);
    resumed.extend(wire::hello(9, third, b"t"));
    resumed.extend_from_slice(&frames[third as usize..]);
    write("wire", "resumed-session", &resumed)?;
    let mut bad = vec![0b0000_1111]; // any token, 64 KiB reads
    bad.extend(wire::hello(1, 0, b""));
    bad.extend_from_slice(&frames[..frames.len().min(300)]);
    bad.extend_from_slice(&[9, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8]); // unknown kind
    bad.extend_from_slice(&[0, 0, 0, 0]); // zero length ends the session
    write("wire", "bad-frames", &bad)?;
    Ok(())
}

fn third_frame_offset(frames: &[u8]) -> u64 {
    let mut at = 0usize;
    for _ in 0..2 {
        let len = frames
            .get(at..at + 4)
            .map_or(0, |l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize);
        at += 4 + len;
    }
    at.min(frames.len()) as u64
}

/// One record per exchange of the capture, with the real detector's attacks.
fn exchange_seeds(target: &str, path: &Path, name: &str) -> Result<(), Box<dyn Error>> {
    let detector = periscope_detect::Detector::new(Default::default())?;
    let exchanges = pipeline(path, &mut |_, _| {})?;
    let mut clients = HashMap::new();
    let mut out = vec![0u8];
    let mut last = None;
    for ex in &exchanges {
        let next = clients.len() as u8;
        let client = *clients.entry(ex.flow.client.ip).or_insert(next);
        let secs = last.map_or(0, |t| ex.ts.since(t).as_secs());
        let step = if secs < 128 {
            secs as u8
        } else {
            0x80 | (secs / 60).min(127) as u8
        };
        last = Some(ex.ts);
        let attacks = detector.analyse(ex);
        if out.len() > 1 {
            out.push(0xff);
        }
        out.extend(exchanges::record(ex, client, step, &attacks, 2048));
        if out.len() > 16 * 1024 {
            break;
        }
    }
    write(target, name, &out)
}
