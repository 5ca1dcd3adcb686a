//! Byte fixtures built in code for every link type, tunnel and nesting, and hostile input.

use super::*;
use periscope_model::{Frame, LinkType, TcpFlags, Tunnel, TunnelKind};
use std::net::IpAddr;

/// A tiny packet builder: each function wraps a payload in one header.
mod build {
    pub fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        v.extend_from_slice(&ethertype.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    pub fn vlan(tpid: u16, vid: u16, ethertype: u16, payload: &[u8]) -> (u16, Vec<u8>) {
        let mut v = vid.to_be_bytes().to_vec();
        v.extend_from_slice(&ethertype.to_be_bytes());
        v.extend_from_slice(payload);
        (tpid, v)
    }

    pub struct V4 {
        pub src: [u8; 4],
        pub dst: [u8; 4],
        pub proto: u8,
        pub id: u16,
        pub frag_offset8: u16,
        pub more: bool,
        pub ihl: u8,
        pub total_override: Option<u16>,
    }

    impl V4 {
        pub fn new(proto: u8) -> Self {
            V4 {
                src: [10, 0, 0, 1],
                dst: [10, 0, 0, 2],
                proto,
                id: 7,
                frag_offset8: 0,
                more: false,
                ihl: 5,
                total_override: None,
            }
        }
        pub fn build(&self, payload: &[u8]) -> Vec<u8> {
            let hl = usize::from(self.ihl.max(5)) * 4;
            let total = self.total_override.unwrap_or((hl + payload.len()) as u16);
            let mut v = vec![0x40 | (self.ihl & 0x0f), 0];
            v.extend_from_slice(&total.to_be_bytes());
            v.extend_from_slice(&self.id.to_be_bytes());
            let frag = (if self.more { 0x2000 } else { 0 }) | self.frag_offset8;
            v.extend_from_slice(&frag.to_be_bytes());
            v.extend_from_slice(&[64, self.proto, 0, 0]);
            v.extend_from_slice(&self.src);
            v.extend_from_slice(&self.dst);
            v.resize(hl, 1); // options: NOPs
            v.extend_from_slice(payload);
            v
        }
    }

    pub fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
        V4::new(proto).build(payload)
    }

    pub fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x60, 0, 0, 0];
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        v.extend_from_slice(&[next, 64]);
        let mut src = [0u8; 16];
        src[0] = 0x20;
        src[1] = 0x01;
        src[15] = 1;
        let mut dst = src;
        dst[15] = 2;
        v.extend_from_slice(&src);
        v.extend_from_slice(&dst);
        v.extend_from_slice(payload);
        v
    }

    /// A generic IPv6 extension header (hop-by-hop, routing, destination options): 8 bytes.
    pub fn ext(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![next, 0, 1, 4, 0, 0, 0, 0];
        v.extend_from_slice(payload);
        v
    }

    pub fn frag6(next: u8, offset8: u16, more: bool, id: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![next, 0];
        v.extend_from_slice(&((offset8 << 3) | u16::from(more)).to_be_bytes());
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    pub fn tcp(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&sport.to_be_bytes());
        v.extend_from_slice(&dport.to_be_bytes());
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&1000u32.to_be_bytes());
        v.extend_from_slice(&[0x60, flags]); // data offset 6: one option word
        v.extend_from_slice(&8192u16.to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, 0]);
        v.extend_from_slice(&[2, 4, 0x05, 0xb4]); // MSS option
        v.extend_from_slice(payload);
        v
    }

    pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&sport.to_be_bytes());
        v.extend_from_slice(&dport.to_be_bytes());
        v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(payload);
        v
    }

    pub fn vxlan(vni: u32, inner: &[u8]) -> Vec<u8> {
        let mut v = vec![0x08, 0, 0, 0];
        v.extend_from_slice(&(vni << 8).to_be_bytes());
        v.extend_from_slice(inner);
        v
    }

    pub fn geneve(vni: u32, proto: u16, opt_words: u8, inner: &[u8]) -> Vec<u8> {
        let mut v = vec![opt_words & 0x3f, 0];
        v.extend_from_slice(&proto.to_be_bytes());
        v.extend_from_slice(&(vni << 8).to_be_bytes());
        v.extend(std::iter::repeat_n(0xAB, usize::from(opt_words) * 4));
        v.extend_from_slice(inner);
        v
    }

    pub fn gre(
        checksum: bool,
        key: Option<u32>,
        seq: Option<u32>,
        proto: u16,
        inner: &[u8],
    ) -> Vec<u8> {
        let mut flags = 0u16;
        if checksum {
            flags |= 0x8000;
        }
        if key.is_some() {
            flags |= 0x2000;
        }
        if seq.is_some() {
            flags |= 0x1000;
        }
        let mut v = flags.to_be_bytes().to_vec();
        v.extend_from_slice(&proto.to_be_bytes());
        if checksum {
            v.extend_from_slice(&[0xde, 0xad, 0, 0]);
        }
        if let Some(k) = key {
            v.extend_from_slice(&k.to_be_bytes());
        }
        if let Some(s) = seq {
            v.extend_from_slice(&s.to_be_bytes());
        }
        v.extend_from_slice(inner);
        v
    }

    pub fn erspan2(session: u16, inner: &[u8]) -> Vec<u8> {
        let mut v = vec![0x10, 0x05]; // version 1, VLAN 5
        v.extend_from_slice(&(session & 0x3ff).to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, 1]);
        v.extend_from_slice(inner);
        v
    }

    pub fn erspan3(session: u16, ft: u8, subheader: bool, inner: &[u8]) -> Vec<u8> {
        let mut v = vec![0x20, 0x00];
        v.extend_from_slice(&(session & 0x3ff).to_be_bytes());
        v.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]); // timestamp
        v.extend_from_slice(&[0, 0]); // SGT
        v.push((ft & 0x1f) << 2);
        v.push(u8::from(subheader));
        if subheader {
            v.extend_from_slice(&[0xEE; 8]);
        }
        v.extend_from_slice(inner);
        v
    }
}

use build::*;

const HTTP: &[u8] = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n";

fn frame(link: LinkType, data: &[u8]) -> Frame<'_> {
    Frame {
        ts: Timestamp(1_000_000_000),
        link,
        data,
        orig_len: data.len() as u32,
    }
}

/// A TCP segment in IPv4 in Ethernet.
fn eth_v4_tcp(payload: &[u8]) -> Vec<u8> {
    eth(
        0x0800,
        &ipv4(
            6,
            &tcp(40000, 80, 1, TcpFlags::PSH | TcpFlags::ACK, payload),
        ),
    )
}

/// Owned summary of a decode result, so tests can compare after the borrow ends.
#[derive(Debug, PartialEq)]
enum R {
    Tcp {
        src: IpAddr,
        sport: u16,
        dport: u16,
        payload: Vec<u8>,
        payload_len: u32,
        tunnel: Vec<Tunnel>,
        vlan: Option<u16>,
    },
    Held,
    Skipped(SkipReason),
    Malformed(MalformedKind, Layer),
}

fn run(d: &mut Decoder, f: &Frame<'_>) -> R {
    match d.decode(f) {
        Decoded::Tcp(s) => R::Tcp {
            src: s.src.ip,
            sport: s.src.port,
            dport: s.dst.port,
            payload: s.payload.to_vec(),
            payload_len: s.payload_len,
            tunnel: s.tunnel.iter().copied().collect(),
            vlan: s.vlan,
        },
        Decoded::Held => R::Held,
        Decoded::Skipped(r) => R::Skipped(r),
        Decoded::Malformed(e) => R::Malformed(e.kind, e.layer),
    }
}

fn one(link: LinkType, data: &[u8]) -> R {
    run(&mut Decoder::default(), &frame(link, data))
}

/// Asserts a TCP result with the HTTP payload to port 80; returns its tunnel path and VLAN.
fn http_path(r: R) -> (Vec<Tunnel>, Option<u16>) {
    match r {
        R::Tcp {
            payload,
            payload_len,
            dport: 80,
            tunnel,
            vlan,
            ..
        } if payload == HTTP && payload_len as usize == HTTP.len() => (tunnel, vlan),
        other => panic!("expected the HTTP segment, got {other:?}"),
    }
}

fn t(kind: TunnelKind, id: u32) -> Tunnel {
    Tunnel { kind, id }
}

#[test]
fn ethernet_ipv4_tcp_fields() {
    let data = eth_v4_tcp(HTTP);
    let mut d = Decoder::default();
    let f = frame(LinkType::Ethernet, &data);
    match d.decode(&f) {
        Decoded::Tcp(s) => {
            assert_eq!(s.src.to_string(), "10.0.0.1:40000");
            assert_eq!(s.dst.to_string(), "10.0.0.2:80");
            assert_eq!((s.seq, s.ack, s.window), (1, 1000, 8192));
            assert!(s.flags.ack() && s.flags.has(TcpFlags::PSH) && !s.flags.syn());
            assert_eq!(s.payload, HTTP);
            assert_eq!(s.payload_len as usize, HTTP.len());
            assert!(s.tunnel.is_empty() && s.vlan.is_none());
            assert_eq!(s.ts, Timestamp(1_000_000_000));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((d.stats().frames, d.stats().tcp_segments), (1, 1));
}

#[test]
fn ethernet_padding_is_not_payload() {
    let mut data = eth_v4_tcp(b"");
    data.resize(60, 0); // minimum Ethernet frame: 6 padding bytes after a 40+4-byte packet
    match one(LinkType::Ethernet, &data) {
        R::Tcp {
            payload,
            payload_len,
            ..
        } => assert_eq!((payload.len(), payload_len), (0, 0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_link_type() {
    let v4 = ipv4(6, &tcp(40000, 80, 1, TcpFlags::ACK, HTTP));
    let v6 = ipv6(6, &tcp(40000, 80, 1, TcpFlags::ACK, HTTP));
    let with = |prefix: &[u8], ip: &[u8]| [prefix, ip].concat();
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
    sll.extend_from_slice(&0x0800u16.to_be_bytes());
    let mut sll2 = 0x86ddu16.to_be_bytes().to_vec();
    sll2.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0]);
    let cases: Vec<(&str, LinkType, Vec<u8>)> = vec![
        ("ethernet v6", LinkType::Ethernet, eth(0x86dd, &v6)),
        ("sll", LinkType::LinuxSll, with(&sll, &v4)),
        ("sll2", LinkType::LinuxSll2, with(&sll2, &v6)),
        ("raw v4", LinkType::Raw, v4.clone()),
        ("raw v6", LinkType::Raw, v6.clone()),
        ("ipv4", LinkType::Ipv4, v4.clone()),
        ("ipv6", LinkType::Ipv6, v6.clone()),
        ("null le v4", LinkType::Null, with(&2u32.to_le_bytes(), &v4)),
        ("null be v4", LinkType::Null, with(&2u32.to_be_bytes(), &v4)),
        (
            "null v6 24",
            LinkType::Null,
            with(&24u32.to_le_bytes(), &v6),
        ),
        (
            "null v6 28",
            LinkType::Null,
            with(&28u32.to_be_bytes(), &v6),
        ),
        (
            "null v6 30",
            LinkType::Null,
            with(&30u32.to_le_bytes(), &v6),
        ),
        ("loop v4", LinkType::Loop, with(&2u32.to_be_bytes(), &v4)),
        ("loop v6", LinkType::Loop, with(&30u32.to_be_bytes(), &v6)),
        (
            "cisco hdlc",
            LinkType::CiscoHdlc,
            with(&[0x0f, 0x00, 0x08, 0x00], &v4),
        ),
        (
            "ppp in hdlc framing",
            LinkType::CiscoHdlc,
            with(&[0xff, 0x03, 0x00, 0x21], &v4),
        ),
        ("ppp", LinkType::Ppp, with(&[0xff, 0x03, 0x00, 0x57], &v6)),
        (
            "ppp no address/control",
            LinkType::Ppp,
            with(&[0x00, 0x21], &v4),
        ),
        ("ppp compressed protocol", LinkType::Ppp, with(&[0x21], &v4)),
        ("pppoe", LinkType::Ethernet, {
            let mut p = vec![0x11, 0x00, 0x12, 0x34];
            p.extend_from_slice(&((v4.len() + 2) as u16).to_be_bytes());
            p.extend_from_slice(&[0x00, 0x21]);
            p.extend_from_slice(&v4);
            p.resize(p.len() + 5, 0); // trailing padding beyond the PPPoE length
            eth(0x8864, &p)
        }),
    ];
    for (name, link, data) in cases {
        let (tunnel, vlan) = http_path(one(link, &data));
        assert!(tunnel.is_empty() && vlan.is_none(), "{name}");
    }
    assert_eq!(
        one(LinkType::Other(147), &v4),
        R::Skipped(SkipReason::UnsupportedLinkType)
    );
    assert_eq!(
        one(LinkType::Null, &with(&99u32.to_le_bytes(), &v4)),
        R::Skipped(SkipReason::NotIp)
    );
    assert_eq!(
        one(LinkType::Ppp, &with(&[0xc0, 0x21], &[1, 2, 3, 4])),
        R::Skipped(SkipReason::NotIp)
    );
}

#[test]
fn vlan_tags_and_mpls() {
    let v4 = ipv4(6, &tcp(40000, 80, 1, TcpFlags::ACK, HTTP));
    let (tpid, inner) = vlan(0x8100, 200, 0x0800, &v4);
    let (tpid, outer) = vlan(0x88a8, 100, tpid, &inner);
    let (_, p) = http_path(one(LinkType::Ethernet, &eth(tpid, &outer)));
    assert_eq!(p, Some(200), "QinQ records the innermost id");
    let (tpid, single) = vlan(0x9100, 0x0fff & 42, 0x0800, &v4);
    assert_eq!(
        http_path(one(LinkType::Ethernet, &eth(tpid, &single))).1,
        Some(42)
    );

    // Nine stacked tags: beyond what we walk.
    let mut payload = v4.clone();
    let mut et = 0x0800;
    for i in 0..9 {
        let (tp, p) = vlan(0x8100, i, et, &payload);
        payload = p;
        et = tp;
    }
    assert_eq!(
        one(LinkType::Ethernet, &eth(et, &payload)),
        R::Malformed(MalformedKind::TooManyHeaders, Layer::Vlan)
    );

    // MPLS: two labels then IPv4; and an Ethernet pseudowire with a control word.
    let labels = [0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40];
    http_path(one(
        LinkType::Ethernet,
        &eth(0x8847, &[&labels[..], &v4].concat()),
    ));
    let pw = [&labels[..], &[0, 0, 0, 0], &eth(0x0800, &v4)].concat();
    http_path(one(LinkType::Ethernet, &eth(0x8847, &pw)));
}

#[test]
fn ipv6_extension_headers() {
    let seg = tcp(40000, 80, 1, TcpFlags::ACK, HTTP);
    // AH: next header, payload len (in 4-byte units minus 2) = 4 -> 24 bytes.
    let mut ah = vec![6, 4, 0, 0];
    ah.extend_from_slice(&[0u8; 20]);
    ah.extend_from_slice(&seg);
    let chain = {
        let dest = ext(51, &ah);
        let routing = ext(60, &dest);
        ext(43, &routing)
    };
    http_path(one(LinkType::Ipv6, &ipv6(0, &chain)));
    let atomic = frag6(6, 0, false, 9, &seg);
    http_path(one(LinkType::Ipv6, &ipv6(44, &atomic)));
    assert_eq!(
        one(LinkType::Ipv6, &ipv6(50, &[0; 16])),
        R::Skipped(SkipReason::Encrypted)
    );
    assert_eq!(
        one(LinkType::Ipv6, &ipv6(60, &ext(59, &[]))),
        R::Skipped(SkipReason::NoNextHeader)
    );
    // An extension header whose length points past the packet.
    let mut bad = ext(6, &seg);
    bad[1] = 200;
    assert_eq!(
        one(LinkType::Ipv6, &ipv6(60, &bad)),
        R::Malformed(MalformedKind::BadHeaderLength, Layer::Ipv6Ext)
    );
}

#[test]
fn snap_length_cut_gives_short_payload() {
    let data = eth_v4_tcp(HTTP);
    let cut = &data[..data.len() - 10];
    let f = Frame {
        ts: Timestamp(0),
        link: LinkType::Ethernet,
        data: cut,
        orig_len: data.len() as u32,
    };
    let mut d = Decoder::default();
    match run(&mut d, &f) {
        R::Tcp {
            payload,
            payload_len,
            ..
        } => {
            assert_eq!(payload, &HTTP[..HTTP.len() - 10]);
            assert_eq!(payload_len as usize, HTTP.len());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.stats().tcp_segments_cut, 1);
    // The same bytes claiming to be complete: the IP length lies.
    let f = Frame {
        orig_len: cut.len() as u32,
        ..f
    };
    assert_eq!(
        run(&mut d, &f),
        R::Malformed(MalformedKind::BadLength, Layer::Ipv4)
    );
}

#[test]
fn hostile_headers() {
    let seg = tcp(1, 80, 1, 0, b"x");
    let mut v4 = V4::new(6);
    v4.ihl = 4;
    let mut p = v4.build(&seg);
    p[0] = 0x44;
    assert_eq!(
        one(LinkType::Ipv4, &p),
        R::Malformed(MalformedKind::BadHeaderLength, Layer::Ipv4)
    );
    let mut v4 = V4::new(6);
    v4.total_override = Some(10);
    assert_eq!(
        one(LinkType::Ipv4, &v4.build(&seg)),
        R::Malformed(MalformedKind::BadLength, Layer::Ipv4)
    );
    v4.total_override = Some(2000);
    assert_eq!(
        one(LinkType::Ipv4, &v4.build(&seg)),
        R::Malformed(MalformedKind::BadLength, Layer::Ipv4)
    );
    let mut bad_tcp = seg.clone();
    bad_tcp[12] = 0x30; // data offset 3
    assert_eq!(
        one(LinkType::Ipv4, &ipv4(6, &bad_tcp)),
        R::Malformed(MalformedKind::BadHeaderLength, Layer::Tcp)
    );
    bad_tcp[12] = 0xf0; // data offset 15: 60 bytes, more than present
    assert_eq!(
        one(LinkType::Ipv4, &ipv4(6, &bad_tcp)),
        R::Malformed(MalformedKind::Truncated, Layer::Tcp)
    );
    assert_eq!(
        one(LinkType::Ipv4, &ipv4(6, &seg[..10])),
        R::Malformed(MalformedKind::Truncated, Layer::Tcp)
    );
    assert_eq!(
        one(LinkType::Raw, &[0x75, 0, 0]),
        R::Malformed(MalformedKind::BadVersion, Layer::Ipv4)
    );
    assert_eq!(
        one(LinkType::Ethernet, &[1, 2, 3]),
        R::Malformed(MalformedKind::Truncated, Layer::Ethernet)
    );
    assert_eq!(
        one(LinkType::Ipv6, &[0x60; 20]),
        R::Malformed(MalformedKind::Truncated, Layer::Ipv6)
    );
    // TSO capture: total length 0 means "what was captured".
    let mut tso = V4::new(6);
    tso.total_override = Some(0);
    let mut d = Decoder::default();
    let data = tso.build(&tcp(1, 80, 1, 0, HTTP));
    assert!(
        matches!(run(&mut d, &frame(LinkType::Ipv4, &data)), R::Tcp { payload, .. } if payload == HTTP)
    );
    assert_eq!(d.stats().ipv4_zero_total_len, 1);
    // Error offsets point at the broken layer.
    let mut bad = eth_v4_tcp(HTTP);
    bad[14 + 20 + 12] = 0x20;
    match Decoder::default().decode(&frame(LinkType::Ethernet, &bad)) {
        Decoded::Malformed(e) => {
            assert_eq!((e.layer, e.offset), (Layer::Tcp, 34));
            assert_eq!(e.to_string(), "bad_header_length in tcp header at byte 34");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn not_tcp_is_skipped_and_counted() {
    let mut d = Decoder::default();
    let cases = [
        (eth(0x0806, &[0; 28]), SkipReason::Arp),
        (eth(0x0026, &[0; 38]), SkipReason::NotIp), // 802.3 length field
        (
            eth(0x0800, &ipv4(17, &udp(53, 53, b"dns"))),
            SkipReason::Udp,
        ),
        (eth(0x0800, &ipv4(1, &[8, 0, 0, 0])), SkipReason::Icmp),
        (eth(0x86dd, &ipv6(58, &[128, 0, 0, 0])), SkipReason::Icmp),
        (
            eth(0x0800, &ipv4(132, &[0; 12])),
            SkipReason::OtherIpProtocol,
        ),
        (eth(0x0800, &ipv4(50, &[0; 12])), SkipReason::Encrypted),
    ];
    for (data, reason) in &cases {
        assert_eq!(
            run(&mut d, &frame(LinkType::Ethernet, data)),
            R::Skipped(*reason)
        );
    }
    assert_eq!(d.stats().skipped(SkipReason::Icmp), 2);
    assert_eq!(d.stats().skipped_total(), cases.len() as u64);
    assert_eq!(d.stats().tcp_segments, 0);
}

#[test]
fn tunnels_each_kind() {
    let inner = eth_v4_tcp(HTTP);
    let v4_tcp = ipv4(6, &tcp(40000, 80, 1, TcpFlags::ACK, HTTP));
    let over_udp = |port: u16, body: &[u8]| eth(0x0800, &ipv4(17, &udp(50000, port, body)));
    let over_gre = |g: Vec<u8>| eth(0x0800, &ipv4(47, &g));
    let cases: Vec<(&str, Vec<u8>, Vec<Tunnel>)> = vec![
        (
            "vxlan",
            over_udp(4789, &vxlan(0x123456, &inner)),
            vec![t(TunnelKind::Vxlan, 0x123456)],
        ),
        (
            "geneve ethernet, options",
            over_udp(6081, &geneve(77, 0x6558, 3, &inner)),
            vec![t(TunnelKind::Geneve, 77)],
        ),
        (
            "geneve ipv4",
            over_udp(6081, &geneve(78, 0x0800, 0, &v4_tcp)),
            vec![t(TunnelKind::Geneve, 78)],
        ),
        (
            "gre ip with key",
            over_gre(gre(false, Some(0xabcd), None, 0x0800, &v4_tcp)),
            vec![t(TunnelKind::Gre, 0xabcd)],
        ),
        (
            "gre teb with csum+key+seq",
            over_gre(gre(true, Some(5), Some(9), 0x6558, &inner)),
            vec![t(TunnelKind::Gre, 5)],
        ),
        (
            "gre no key",
            over_gre(gre(
                false,
                None,
                None,
                0x86dd,
                &ipv6(6, &tcp(40000, 80, 1, 0, HTTP)),
            )),
            vec![t(TunnelKind::Gre, 0)],
        ),
        (
            "erspan ii",
            over_gre(gre(false, None, Some(1), 0x88be, &erspan2(300, &inner))),
            vec![t(TunnelKind::ErspanII, 300)],
        ),
        (
            "erspan iii",
            over_gre(gre(
                false,
                None,
                Some(1),
                0x22eb,
                &erspan3(1023, 0, false, &inner),
            )),
            vec![t(TunnelKind::ErspanIII, 1023)],
        ),
        (
            "erspan iii subheader",
            over_gre(gre(
                false,
                None,
                Some(1),
                0x22eb,
                &erspan3(7, 0, true, &inner),
            )),
            vec![t(TunnelKind::ErspanIII, 7)],
        ),
        (
            "erspan iii ip frame",
            over_gre(gre(
                false,
                None,
                Some(1),
                0x22eb,
                &erspan3(8, 2, false, &v4_tcp),
            )),
            vec![t(TunnelKind::ErspanIII, 8)],
        ),
        (
            "erspan i",
            over_gre(gre(false, None, None, 0x88be, &inner)),
            vec![t(TunnelKind::Gre, 0)],
        ),
        (
            "ipip",
            eth(0x0800, &ipv4(4, &v4_tcp)),
            vec![t(TunnelKind::IpInIp, 0)],
        ),
        (
            "6in4",
            eth(0x0800, &ipv4(41, &ipv6(6, &tcp(40000, 80, 1, 0, HTTP)))),
            vec![t(TunnelKind::IpInIp, 0)],
        ),
    ];
    let mut d = Decoder::default();
    for (name, data, want) in &cases {
        let (got, _) = http_path(run(&mut d, &frame(LinkType::Ethernet, data)));
        assert_eq!(&got, want, "{name}");
    }
    assert_eq!(d.stats().tunnels(TunnelKind::ErspanIII), 3);
    assert_eq!(d.stats().tunnels(TunnelKind::Gre), 4);
}

#[test]
fn aws_gwlb_geneve_carrying_vxlan_mirror() {
    // GWLB: GENEVE (with its 3 TLV options = 12 words here) carrying an IPv4 packet that is a
    // VPC Traffic Mirroring VXLAN packet, which carries a VLAN-tagged Ethernet frame.
    let (tpid, tagged) = vlan(
        0x8100,
        12,
        0x0800,
        &ipv4(6, &tcp(40000, 80, 1, TcpFlags::ACK, HTTP)),
    );
    let mirrored = eth(tpid, &tagged);
    let vx = ipv4(17, &udp(40001, 4789, &vxlan(0x00beef, &mirrored)));
    let outer = eth(
        0x0800,
        &ipv4(17, &udp(40002, 6081, &geneve(0x0abcde, 0x0800, 12, &vx))),
    );
    let (tunnel, vlan) = http_path(one(LinkType::Ethernet, &outer));
    assert_eq!(
        tunnel,
        vec![
            t(TunnelKind::Geneve, 0x0abcde),
            t(TunnelKind::Vxlan, 0xbeef)
        ]
    );
    assert_eq!(vlan, Some(12));
}

#[test]
fn tunnel_configuration() {
    let inner = eth_v4_tcp(HTTP);
    let data = eth(0x0800, &ipv4(17, &udp(1, 4789, &vxlan(1, &inner))));
    let off = DecodeConfig {
        decode_tunnels: false,
        ..DecodeConfig::default()
    };
    let mut d = Decoder::new(off).unwrap_or_default();
    assert_eq!(
        run(&mut d, &frame(LinkType::Ethernet, &data)),
        R::Skipped(SkipReason::TunnelsDisabled)
    );
    let gre_data = eth(0x0800, &ipv4(47, &gre(false, None, None, 0x6558, &inner)));
    assert_eq!(
        run(&mut d, &frame(LinkType::Ethernet, &gre_data)),
        R::Skipped(SkipReason::TunnelsDisabled)
    );

    let custom = DecodeConfig {
        vxlan_ports: vec![8472],
        ..DecodeConfig::default()
    };
    let mut d = Decoder::new(custom).unwrap_or_default();
    assert_eq!(
        run(&mut d, &frame(LinkType::Ethernet, &data)),
        R::Skipped(SkipReason::Udp)
    );
    let linux = eth(0x0800, &ipv4(17, &udp(1, 8472, &vxlan(9, &inner))));
    assert_eq!(
        http_path(run(&mut d, &frame(LinkType::Ethernet, &linux))).0,
        vec![t(TunnelKind::Vxlan, 9)]
    );

    let json = r#"{"vxlan_ports":[4789,8472],"defrag":{"max_datagrams":10}}"#;
    let cfg: DecodeConfig = serde_json::from_str(json).unwrap_or_default();
    assert_eq!(cfg.vxlan_ports, vec![4789, 8472]);
    assert_eq!(
        (
            cfg.defrag.max_datagrams,
            cfg.defrag.timeout_secs,
            cfg.geneve_ports.clone()
        ),
        (10, 30, vec![6081])
    );
    assert!(serde_json::from_str::<DecodeConfig>(r#"{"vxlan_port":[1]}"#).is_err());
    let both = DecodeConfig {
        geneve_ports: vec![4789],
        ..DecodeConfig::default()
    };
    assert_eq!(
        Decoder::new(both).err(),
        Some(ConfigError::PortInBoth(4789))
    );
    let deep = DecodeConfig {
        max_tunnel_depth: 0,
        ..DecodeConfig::default()
    };
    assert!(Decoder::new(deep).is_err());
}

#[test]
fn hostile_tunnels() {
    let inner = eth_v4_tcp(HTTP);
    let over_udp = |port: u16, body: &[u8]| eth(0x0800, &ipv4(17, &udp(1, port, body)));
    // GENEVE option length running past the end of the packet.
    let mut g = geneve(1, 0x6558, 0, &[0; 10]);
    g[0] = 0x3f; // 63 words of options
    assert_eq!(
        one(LinkType::Ethernet, &over_udp(6081, &g)),
        R::Malformed(MalformedKind::BadHeaderLength, Layer::Geneve)
    );
    let mut v = vxlan(1, &inner);
    v[0] = 0; // VNI-valid flag missing
    assert_eq!(
        one(LinkType::Ethernet, &over_udp(4789, &v)),
        R::Malformed(MalformedKind::BadTunnelHeader, Layer::Vxlan)
    );
    assert_eq!(
        one(LinkType::Ethernet, &over_udp(4789, &[8, 0, 0])),
        R::Malformed(MalformedKind::Truncated, Layer::Vxlan)
    );
    let mut pptp = gre(false, Some(1), None, 0x880b, &[0; 8]);
    pptp[1] = 1; // version 1
    assert_eq!(
        one(LinkType::Ipv4, &ipv4(47, &pptp)),
        R::Malformed(MalformedKind::BadTunnelHeader, Layer::Gre)
    );
    assert_eq!(
        one(LinkType::Ipv4, &ipv4(47, &[0x30, 0, 0x08, 0, 1])),
        R::Malformed(MalformedKind::Truncated, Layer::Gre)
    );
    let mut e3 = erspan3(1, 0, true, &[]);
    e3.truncate(14); // O bit set, subheader missing
    assert_eq!(
        one(
            LinkType::Ipv4,
            &ipv4(47, &gre(false, None, Some(1), 0x22eb, &e3))
        ),
        R::Malformed(MalformedKind::Truncated, Layer::Erspan)
    );
    let mut e2 = erspan2(1, &inner);
    e2[0] = 0x20;
    assert_eq!(
        one(
            LinkType::Ipv4,
            &ipv4(47, &gre(false, None, Some(1), 0x88be, &e2))
        ),
        R::Malformed(MalformedKind::BadTunnelHeader, Layer::Erspan)
    );
    // UDP length larger than the IP payload.
    let mut u = udp(1, 4789, &vxlan(1, &inner));
    u[4] = 0xff;
    assert_eq!(
        one(LinkType::Ipv4, &ipv4(17, &u)),
        R::Malformed(MalformedKind::BadLength, Layer::Udp)
    );
}

/// `n` levels of IP-in-IP around a TCP segment.
fn nested_ipip(n: usize) -> Vec<u8> {
    let mut p = ipv4(6, &tcp(40000, 80, 1, 0, HTTP));
    for _ in 0..n {
        p = ipv4(4, &p);
    }
    p
}

#[test]
fn deep_nesting_is_capped() {
    let mut d = Decoder::default();
    let data = nested_ipip(20);
    assert_eq!(
        run(&mut d, &frame(LinkType::Ipv4, &data)),
        R::Malformed(MalformedKind::TooDeep, Layer::Tunnel)
    );
    assert_eq!(d.stats().malformed(MalformedKind::TooDeep), 1);
    // Within the cap, deeper than the path records: outermost layers kept, overflow counted.
    let mut d = Decoder::new(DecodeConfig {
        max_tunnel_depth: 32,
        ..DecodeConfig::default()
    })
    .unwrap_or_default();
    let (tunnel, _) = http_path(run(&mut d, &frame(LinkType::Ipv4, &data)));
    assert_eq!(tunnel.len(), periscope_model::TunnelPath::MAX);
    assert_eq!(d.stats().tunnel_path_overflow, 16);
    // Mixed nesting: VXLAN in GRE in VXLAN, 20 deep, all capped the same way.
    let mut p = eth_v4_tcp(HTTP);
    for i in 0..20u32 {
        p = if i % 2 == 0 {
            eth(0x0800, &ipv4(17, &udp(1, 4789, &vxlan(i, &p))))
        } else {
            eth(0x0800, &ipv4(47, &gre(false, Some(i), None, 0x6558, &p)))
        };
    }
    assert_eq!(
        one(LinkType::Ethernet, &p),
        R::Malformed(MalformedKind::TooDeep, Layer::Tunnel)
    );
}

/// Splits an IP payload into IPv4 fragments of `size` bytes (a multiple of 8).
fn v4_fragments(id: u16, payload: &[u8], size: usize) -> Vec<Vec<u8>> {
    payload
        .chunks(size)
        .enumerate()
        .map(|(i, c)| {
            let mut h = V4::new(6);
            h.id = id;
            h.frag_offset8 = (i * size / 8) as u16;
            h.more = (i + 1) * size < payload.len();
            h.build(c)
        })
        .collect()
}

#[test]
fn ipv4_fragments_reassemble_out_of_order() {
    let body: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let seg = tcp(40000, 80, 5, TcpFlags::ACK, &body);
    let frags = v4_fragments(99, &seg, 96);
    assert_eq!(frags.len(), 4);
    let mut d = Decoder::default();
    for i in [2, 0, 3] {
        assert_eq!(run(&mut d, &frame(LinkType::Ipv4, &frags[i])), R::Held);
    }
    match run(&mut d, &frame(LinkType::Ipv4, &frags[1])) {
        R::Tcp {
            payload,
            payload_len,
            ..
        } => {
            assert_eq!(payload, body);
            assert_eq!(payload_len as usize, body.len());
        }
        other => panic!("{other:?}"),
    }
    let s = d.stats().fragments;
    assert_eq!((s.held, s.reassembled, s.overlaps), (3, 1, 0));
    assert_eq!(d.defrag.in_flight(), 0);
    // Fragments of a tunnelled packet keep their tunnel path.
    let frags = v4_fragments(5, &seg, 64);
    let mut last = R::Held;
    for f in &frags {
        last = run(
            &mut d,
            &frame(
                LinkType::Ethernet,
                &eth(
                    0x0800,
                    &ipv4(17, &udp(1, 4789, &vxlan(42, &eth(0x0800, f)))),
                ),
            ),
        );
    }
    assert_eq!(http_path_any(last), vec![t(TunnelKind::Vxlan, 42)]);
}

fn http_path_any(r: R) -> Vec<Tunnel> {
    match r {
        R::Tcp { tunnel, .. } => tunnel,
        other => panic!("{other:?}"),
    }
}

#[test]
fn ipv4_overlap_first_copy_wins_and_conflicts_are_counted() {
    let body = vec![b'A'; 64];
    let seg = tcp(1, 80, 1, 0, &body);
    let frags = v4_fragments(3, &seg, 32);
    // A rewritten copy of fragment 1 with different bytes, sent before the original.
    let mut evil = V4::new(6);
    evil.id = 3;
    evil.frag_offset8 = 4;
    evil.more = true;
    let evil = evil.build(&[b'X'; 32]);
    let mut d = Decoder::default();
    assert_eq!(run(&mut d, &frame(LinkType::Ipv4, &frags[0])), R::Held);
    assert_eq!(run(&mut d, &frame(LinkType::Ipv4, &frags[1])), R::Held);
    assert_eq!(run(&mut d, &frame(LinkType::Ipv4, &evil)), R::Held);
    match run(&mut d, &frame(LinkType::Ipv4, &frags[2])) {
        R::Tcp { payload, .. } => assert_eq!(payload, body, "the first copy wins"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        (
            d.stats().fragments.overlaps,
            d.stats().fragments.overlap_conflicts
        ),
        (1, 1)
    );
}

#[test]
fn ipv6_fragments_and_overlap() {
    let body: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
    let seg = tcp(40000, 80, 5, TcpFlags::ACK, &body);
    let (a, b) = seg.split_at(120);
    let f1 = ipv6(44, &frag6(6, 0, true, 0xdead, a));
    let f2 = ipv6(44, &frag6(6, 15, false, 0xdead, b));
    let mut d = Decoder::default();
    assert_eq!(run(&mut d, &frame(LinkType::Ipv6, &f2)), R::Held);
    match run(&mut d, &frame(LinkType::Ipv6, &f1)) {
        R::Tcp { payload, .. } => assert_eq!(payload, body),
        other => panic!("{other:?}"),
    }
    // Overlapping IPv6 fragments drop the datagram (RFC 5722).
    let o1 = ipv6(44, &frag6(6, 0, true, 1, &seg[..64]));
    let o2 = ipv6(44, &frag6(6, 4, true, 1, &seg[32..96]));
    assert_eq!(run(&mut d, &frame(LinkType::Ipv6, &o1)), R::Held);
    assert_eq!(
        run(&mut d, &frame(LinkType::Ipv6, &o2)),
        R::Malformed(MalformedKind::FragmentOverlap, Layer::Fragment)
    );
    assert_eq!(d.defrag.in_flight(), 0);
    // A fragment ending past 65535 bytes.
    let mut far = V4::new(6);
    far.frag_offset8 = 8191;
    assert_eq!(
        run(&mut d, &frame(LinkType::Ipv4, &far.build(&[0u8; 16]))),
        R::Malformed(MalformedKind::BadFragment, Layer::Fragment)
    );
    // A cut fragment cannot be reassembled.
    let mut part = V4::new(6);
    part.more = true;
    let part = part.build(&[0u8; 64]);
    let cut = Frame {
        orig_len: part.len() as u32,
        ..frame(LinkType::Ipv4, &part[..50])
    };
    assert_eq!(
        run(&mut d, &cut),
        R::Malformed(MalformedKind::BadFragment, Layer::Fragment)
    );
    // A non-final fragment that is not a multiple of 8 bytes.
    let odd = ipv6(44, &frag6(6, 0, true, 2, &seg[..13]));
    assert_eq!(
        run(&mut d, &frame(LinkType::Ipv6, &odd)),
        R::Malformed(MalformedKind::BadFragment, Layer::Fragment)
    );
}

#[test]
fn fragment_flood_is_capped_and_counted() {
    let cfg = DecodeConfig {
        defrag: DefragConfig {
            max_datagrams: 16,
            max_bytes: 4096,
            max_fragments: 4,
            ..DefragConfig::default()
        },
        ..DecodeConfig::default()
    };
    let mut d = Decoder::new(cfg).unwrap_or_default();
    let seg = tcp(1, 80, 1, 0, &[0u8; 200]);
    for id in 0..100u16 {
        let first = &v4_fragments(id, &seg, 64)[0];
        assert_eq!(run(&mut d, &frame(LinkType::Ipv4, first)), R::Held);
        assert!(d.defrag.in_flight() <= 16);
    }
    assert_eq!(d.stats().fragments.dropped_at_cap, 84);
    // The byte cap: a datagram near 4 KiB evicts the others.
    let big = tcp(1, 80, 1, 0, &[0u8; 4000]);
    let frags = v4_fragments(500, &big, 1000);
    assert_eq!(run(&mut d, &frame(LinkType::Ipv4, &frags[0])), R::Held);
    assert_eq!(run(&mut d, &frame(LinkType::Ipv4, &frags[3])), R::Held);
    assert!(
        d.defrag.in_flight() < 16,
        "byte cap evicted older datagrams"
    );
    // Too many fragments for one datagram: tiny pieces, never the last one.
    let mut dropped = false;
    for i in 0..10u16 {
        let mut h = V4::new(6);
        h.id = 900;
        h.frag_offset8 = i;
        h.more = true;
        if run(&mut d, &frame(LinkType::Ipv4, &h.build(&[0u8; 8])))
            == R::Skipped(SkipReason::FragmentDropped)
        {
            dropped = true;
        }
    }
    assert!(dropped);
    assert!(d.stats().skipped(SkipReason::FragmentDropped) >= 1);
}

#[test]
fn fragments_expire_in_capture_time() {
    let seg = tcp(1, 80, 1, 0, &[0u8; 100]);
    let frags = v4_fragments(1, &seg, 64);
    let mut d = Decoder::default();
    let f0 = Frame {
        ts: Timestamp::from_secs_nanos(100, 0),
        ..frame(LinkType::Ipv4, &frags[0])
    };
    assert_eq!(run(&mut d, &f0), R::Held);
    let f1 = Frame {
        ts: Timestamp::from_secs_nanos(131, 0),
        ..frame(LinkType::Ipv4, &frags[1])
    };
    assert_eq!(
        run(&mut d, &f1),
        R::Held,
        "the old half expired; this one waits alone"
    );
    assert_eq!(d.stats().fragments.expired, 1);
    d.expire_fragments(Timestamp::from_secs_nanos(200, 0));
    assert_eq!(d.stats().fragments.expired, 2);
    assert_eq!(d.defrag.in_flight(), 0);
    let off = DecodeConfig {
        defrag: DefragConfig {
            enabled: false,
            ..DefragConfig::default()
        },
        ..DecodeConfig::default()
    };
    let mut d = Decoder::new(off).unwrap_or_default();
    assert_eq!(
        run(&mut d, &frame(LinkType::Ipv4, &frags[0])),
        R::Skipped(SkipReason::DefragDisabled)
    );
}

/// Every link type gets random bytes and mutated valid packets; decoding must never panic and
/// every frame must be accounted for exactly once.
#[test]
fn random_and_mutated_input_never_panics() {
    let links = [
        LinkType::Ethernet,
        LinkType::Raw,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::Null,
        LinkType::Loop,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::CiscoHdlc,
        LinkType::Ppp,
        LinkType::Other(999),
    ];
    let inner = eth_v4_tcp(HTTP);
    let seeds: Vec<Vec<u8>> = vec![
        inner.clone(),
        eth(
            0x0800,
            &ipv4(
                17,
                &udp(
                    1,
                    6081,
                    &geneve(1, 0x0800, 2, &ipv4(17, &udp(1, 4789, &vxlan(2, &inner)))),
                ),
            ),
        ),
        eth(
            0x0800,
            &ipv4(
                47,
                &gre(true, Some(1), Some(2), 0x22eb, &erspan3(1, 0, true, &inner)),
            ),
        ),
        eth(0x86dd, &ipv6(0, &ext(44, &frag6(6, 0, true, 1, &[0; 64])))),
        eth(0x8864, &[0x11, 0, 0, 1, 0, 60, 0, 0x21]),
        nested_ipip(6),
    ];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut d = Decoder::new(DecodeConfig {
        defrag: DefragConfig {
            max_datagrams: 8,
            ..DefragConfig::default()
        },
        ..DecodeConfig::default()
    })
    .unwrap_or_default();
    let mut frames = 0u64;
    let mut buf = Vec::new();
    for round in 0..60_000u32 {
        buf.clear();
        if round % 2 == 0 {
            let len = (rnd() % 200) as usize;
            buf.extend((0..len).map(|_| rnd() as u8));
        } else {
            buf.extend_from_slice(&seeds[(rnd() as usize) % seeds.len()]);
            for _ in 0..(1 + rnd() % 4) {
                let i = (rnd() as usize) % buf.len();
                buf[i] = rnd() as u8;
            }
            let keep = buf.len() - (rnd() as usize) % (buf.len() / 4 + 1);
            buf.truncate(keep);
        }
        let link = if round % 2 == 1 && round % 3 != 0 {
            LinkType::Ethernet
        } else {
            links[(rnd() as usize) % links.len()]
        };
        let cut = rnd() % 4 == 0;
        let f = Frame {
            ts: Timestamp(u64::from(round) * 1_000_000),
            link,
            data: &buf,
            orig_len: buf.len() as u32 + if cut { 100 } else { 0 },
        };
        let _ = d.decode(&f);
        frames += 1;
    }
    let s = d.stats();
    assert_eq!(s.frames, frames);
    assert_eq!(
        s.tcp_segments + s.skipped_total() + s.malformed_total() + s.fragments.held,
        frames
    );
    assert!(s.tcp_segments > 0 && s.malformed_total() > 0 && s.skipped_total() > 0);
}

#[test]
fn decoder_can_move_to_a_worker_thread() {
    fn is_send<T: Send>() {}
    is_send::<Decoder>();
}

/// Frames from a VXLAN or GENEVE UDP listener start at the tunnel header: they decode like the
/// same datagram captured with its IP/UDP headers, with the same tunnel on the path, and bad
/// tunnel headers are counted as malformed, never fatal.
#[test]
fn tunnel_listener_link_types() {
    let inner = eth_v4_tcp(HTTP);
    let v4_tcp = ipv4(6, &tcp(40000, 80, 1, TcpFlags::ACK, HTTP));
    let cases = [
        (
            LinkType::Vxlan,
            vxlan(42, &inner),
            4789,
            TunnelKind::Vxlan,
            42,
        ),
        (
            LinkType::Geneve,
            geneve(7, 0x6558, 2, &inner),
            6081,
            TunnelKind::Geneve,
            7,
        ),
        (
            LinkType::Geneve,
            geneve(8, 0x0800, 0, &v4_tcp),
            6081,
            TunnelKind::Geneve,
            8,
        ),
    ];
    for (link, datagram, port, kind, id) in cases {
        let (listened, _) = http_path(one(link, &datagram));
        assert_eq!(listened, vec![t(kind, id)], "{link:?}");
        let captured = eth(0x0800, &ipv4(17, &udp(50000, port, &datagram)));
        let (from_capture, _) = http_path(one(LinkType::Ethernet, &captured));
        assert_eq!(listened, from_capture, "{link:?}");
    }

    let mut d = Decoder::default();
    let mut no_vni = vxlan(1, &inner);
    no_vni[0] = 0;
    assert_eq!(
        run(&mut d, &frame(LinkType::Vxlan, &no_vni)),
        R::Malformed(MalformedKind::BadTunnelHeader, Layer::Vxlan)
    );
    assert_eq!(
        run(&mut d, &frame(LinkType::Vxlan, &[8, 0, 0])),
        R::Malformed(MalformedKind::Truncated, Layer::Vxlan)
    );
    let mut long_options = geneve(1, 0x6558, 0, &[0; 10]);
    long_options[0] = 0x3f;
    assert_eq!(
        run(&mut d, &frame(LinkType::Geneve, &long_options)),
        R::Malformed(MalformedKind::BadHeaderLength, Layer::Geneve)
    );
    assert_eq!(
        run(&mut d, &frame(LinkType::Geneve, &[])),
        R::Malformed(MalformedKind::Truncated, Layer::Geneve)
    );
    assert_eq!(d.stats().frames, 4);
    assert_eq!(d.stats().malformed_total(), 4);

    // Tunnel decoding switched off: skipped, as for captured tunnels.
    let cfg = DecodeConfig {
        decode_tunnels: false,
        ..DecodeConfig::default()
    };
    let mut off = Decoder::new(cfg).unwrap_or_default();
    assert_eq!(
        run(&mut off, &frame(LinkType::Vxlan, &vxlan(42, &inner))),
        R::Skipped(SkipReason::TunnelsDisabled)
    );
}
