//! The built seeds (`examples/make_seeds.rs`) still reach the code they were made for: a seed
//! that the parser rejects at its first byte (after a format change, say) fuzzes nothing.
//! Rerun the example when one of these fails.

use periscope_decode::{Decoded, Decoder};
use periscope_harness::exchanges;
use periscope_model::{Frame, LinkType, Timestamp, TunnelKind};
use std::error::Error;
use std::path::{Path, PathBuf};

fn seed(target: &str, name: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target)
        .join(name);
    Ok(std::fs::read(path)?)
}

/// Datagrams of a `decode` seed (link pick, then 2-byte lengths).
fn datagrams(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data.get(1..).unwrap_or_default();
    while let [a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    out
}

#[test]
fn listener_seeds_decode_to_tunnelled_tcp() -> Result<(), Box<dyn Error>> {
    for (name, link, kind) in [
        ("listener-vxlan", LinkType::Vxlan, TunnelKind::Vxlan),
        ("listener-geneve", LinkType::Geneve, TunnelKind::Geneve),
        ("listener-geneve-ip", LinkType::Geneve, TunnelKind::Geneve),
        (
            "listener-geneve-vxlan",
            LinkType::Geneve,
            TunnelKind::Geneve,
        ),
    ] {
        let data = seed("decode", name)?;
        let mut decoder = Decoder::new(Default::default())?;
        let mut tcp = 0;
        for d in datagrams(&data) {
            let frame = Frame {
                ts: Timestamp(1),
                link,
                data: d,
                orig_len: d.len() as u32,
            };
            if let Decoded::Tcp(segment) = decoder.decode(&frame) {
                let outer = segment.tunnel.iter().next().map(|t| t.kind);
                assert_eq!(outer, Some(kind), "{name}");
                tcp += 1;
            }
        }
        assert!(tcp >= 6, "{name}: only {tcp} TCP segments");
    }
    Ok(())
}

#[test]
fn wire_seeds_deliver_events() -> Result<(), Box<dyn Error>> {
    for (name, token) in [
        ("sample-session", &b"periscope-fuzz-token"[..]),
        ("resumed-session", b"t"),
    ] {
        let data = seed("wire", name)?;
        let mut stream = std::io::Cursor::new(data.get(1..).unwrap_or_default().to_vec());
        let mut events = 0;
        let mut prior = Default::default();
        let mut sink =
            |_: periscope_model::FlowId, _: periscope_model::StreamEvent<'_>| events += 1;
        let mut both = ReadWrite(&mut stream);
        let session =
            periscope_agent::wire::SensorSession::serve(&mut both, token, &mut prior, &mut sink)?;
        assert_eq!(session.malformed, 0, "{name}");
        assert!(events > 20, "{name}: {events} events");
    }
    Ok(())
}

/// A cursor that also takes (and drops) the acks.
struct ReadWrite<'a>(&'a mut std::io::Cursor<Vec<u8>>);

impl std::io::Read for ReadWrite<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl std::io::Write for ReadWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn exchange_seeds_raise_findings() -> Result<(), Box<dyn Error>> {
    let data = seed("vulns", "vulnapp")?;
    let mut scanner = periscope_vulns::Scanner::new(Default::default())?;
    let mut out = Vec::new();
    let cases = exchanges::from_bytes(data.get(1..).unwrap_or_default());
    assert!(cases.len() > 10, "{} exchanges", cases.len());
    for c in &cases {
        scanner.on_exchange(&c.exchange, &c.attacks, &mut out);
    }
    scanner.finish(&mut out);
    assert!(out.len() >= 5, "vulnapp seed: {} findings", out.len());

    for name in ["bruteforce", "dirbuster", "scanner"] {
        let data = seed("behaviour", name)?;
        let mut behaviour = periscope_behaviour::Behaviour::new(Default::default())?;
        let mut out = Vec::new();
        for c in exchanges::from_bytes(data.get(1..).unwrap_or_default()) {
            behaviour.on_exchange(&c.exchange, &c.attacks, &mut out);
        }
        behaviour.finish(&mut out);
        assert!(!out.is_empty(), "{name} seed raises no incident");
    }
    Ok(())
}

/// The mirror seeds reach the handler: a trusted nginx sets the client, server and version;
/// an untrusted peer does not.
#[test]
fn mirror_seeds_deliver_exchanges() -> Result<(), Box<dyn Error>> {
    let part = |name| -> Result<Vec<u8>, Box<dyn Error>> {
        let data = seed("sources", name)?;
        let rest = data.get(1..).unwrap_or_default();
        Ok(rest
            .split(|&b| b == 0xfe)
            .next()
            .unwrap_or_default()
            .to_vec())
    };
    let trusted = periscope_harness::mirror_exchanges(&part("trusted-nginx-copy")?, 0);
    let [ex] = &trusted[..] else {
        panic!("one exchange expected, got {}", trusted.len());
    };
    assert_eq!(ex.flow.client.to_string(), "203.0.113.5:51234");
    assert_eq!(ex.flow.server.to_string(), "10.1.0.80:443");
    let req = ex.request.as_ref().ok_or("no request")?;
    assert_eq!(req.version, periscope_model::HttpVersion::Http10);
    assert_eq!(req.body.data, b"user=alice&password=secret");

    let spoofed = periscope_harness::mirror_exchanges(&part("untrusted-spoofing")?, 2);
    let [ex] = &spoofed[..] else {
        panic!("one exchange expected, got {}", spoofed.len());
    };
    assert_eq!(ex.flow.client.to_string(), "192.0.2.9:1234");
    Ok(())
}
