//! Captures built in code: every pcap flavour, multi-interface pcapng, gzip, and damage.

use super::*;
use std::io::Write;

/// One record to write: (seconds, fraction in the file's unit, captured bytes, original length).
type Rec<'a> = (u32, u32, &'a [u8], u32);

fn put32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}
fn put16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// A classic pcap file. `nanos` picks the nanosecond magic.
fn pcap(nanos: bool, be: bool, linktype: u32, recs: &[Rec<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    put32(&mut out, if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }, be);
    put16(&mut out, 2, be);
    put16(&mut out, 4, be);
    put32(&mut out, 0, be);
    put32(&mut out, 0, be);
    put32(&mut out, 65535, be);
    put32(&mut out, linktype, be);
    for (s, f, data, orig) in recs {
        put32(&mut out, *s, be);
        put32(&mut out, *f, be);
        put32(&mut out, data.len() as u32, be);
        put32(&mut out, *orig, be);
        out.extend_from_slice(data);
    }
    out
}

fn block(out: &mut Vec<u8>, btype: u32, body: &[u8], be: bool) {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let len = 12 + body.len() as u32;
    put32(out, btype, be);
    put32(out, len, be);
    out.extend_from_slice(&body);
    put32(out, len, be);
}

fn shb(out: &mut Vec<u8>, be: bool) {
    let mut body = Vec::new();
    put32(&mut body, 0x1A2B_3C4D, be);
    put16(&mut body, 1, be);
    put16(&mut body, 0, be);
    body.extend_from_slice(&[0xff; 8]); // section length unknown
    block(out, SHB_TYPE, &body, be);
}

fn idb(
    out: &mut Vec<u8>,
    linktype: u16,
    snaplen: u32,
    tsresol: Option<u8>,
    tsoffset: Option<i64>,
    be: bool,
) {
    let mut body = Vec::new();
    put16(&mut body, linktype, be);
    put16(&mut body, 0, be);
    put32(&mut body, snaplen, be);
    if let Some(r) = tsresol {
        put16(&mut body, 9, be);
        put16(&mut body, 1, be);
        body.extend_from_slice(&[r, 0, 0, 0]);
    }
    if let Some(o) = tsoffset {
        put16(&mut body, 14, be);
        put16(&mut body, 8, be);
        body.extend_from_slice(&if be { o.to_be_bytes() } else { o.to_le_bytes() });
    }
    put16(&mut body, 0, be);
    put16(&mut body, 0, be);
    block(out, 1, &body, be);
}

fn epb(out: &mut Vec<u8>, if_id: u32, units: u64, data: &[u8], orig: u32, be: bool) {
    let mut body = Vec::new();
    put32(&mut body, if_id, be);
    put32(&mut body, (units >> 32) as u32, be);
    put32(&mut body, units as u32, be);
    put32(&mut body, data.len() as u32, be);
    put32(&mut body, orig, be);
    body.extend_from_slice(data);
    block(out, 6, &body, be);
}

fn spb(out: &mut Vec<u8>, data: &[u8], be: bool) {
    let mut body = Vec::new();
    put32(&mut body, data.len() as u32, be);
    body.extend_from_slice(data);
    block(out, 3, &body, be);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Owned copy of a frame, for comparing.
#[derive(Debug, PartialEq)]
struct Got {
    ts: u64,
    link: LinkType,
    data: Vec<u8>,
    orig_len: u32,
}

/// Reads everything; returns the frames and the final error, if any.
fn read_all(bytes: Vec<u8>) -> (Vec<Got>, Option<CaptureError>) {
    let mut r = match CaptureReader::from_reader(std::io::Cursor::new(bytes)) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut got = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => got.push(Got {
                ts: f.ts.as_nanos(),
                link: f.link,
                data: f.data.to_vec(),
                orig_len: f.orig_len,
            }),
            Ok(None) => return (got, None),
            Err(e) => {
                // A finished reader stays finished.
                assert!(matches!(r.next_frame(), Ok(None)));
                return (got, Some(e));
            }
        }
    }
}

const P1: &[u8] = b"\x00\x11\x22\x33\x44\x55first-packet";
const P2: &[u8] = b"second packet, a little longer than the first one";

#[test]
fn reads_all_four_pcap_flavours() {
    for nanos in [false, true] {
        for be in [false, true] {
            let frac = if nanos { 123_456_789 } else { 123_456 };
            let file = pcap(
                nanos,
                be,
                1,
                &[
                    (1_700_000_000, frac, P1, 60),
                    (1_700_000_001, 0, P2, P2.len() as u32),
                ],
            );
            let mut r = CaptureReader::from_reader(std::io::Cursor::new(file.clone()))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                r.format(),
                CaptureFormat::Pcap {
                    nanos,
                    big_endian: be
                },
                "known at open"
            );
            assert_eq!(r.link_type(), Some(LinkType::Ethernet));
            let first = r
                .next_frame()
                .map(|f| f.map(|f| (f.ts, f.link, f.data.to_vec(), f.orig_len)));
            let want_ns = if nanos { 123_456_789 } else { 123_456_000 };
            assert!(
                matches!(&first, Ok(Some((ts, LinkType::Ethernet, d, 60)))
                if *ts == Timestamp::from_secs_nanos(1_700_000_000, want_ns) && d == P1),
                "{first:?}"
            );
            assert_eq!(
                r.format(),
                CaptureFormat::Pcap {
                    nanos,
                    big_endian: be
                }
            );
            let second = r.next_frame().map(|f| f.map(|f| f.data.to_vec()));
            assert!(matches!(&second, Ok(Some(d)) if d == P2));
            assert!(matches!(r.next_frame(), Ok(None)));
            assert_eq!(r.stats().frames, 2);
            assert_eq!(r.stats().frames_cut, 1);
            assert_eq!(r.bytes_read(), file.len() as u64);
        }
    }
}

#[test]
fn maps_pcap_link_types() {
    for (n, want) in [
        (101, LinkType::Raw),
        (113, LinkType::LinuxSll),
        (276, LinkType::LinuxSll2),
        (0, LinkType::Null),
        (147, LinkType::Other(147)),
    ] {
        let (got, err) = read_all(pcap(false, false, n, &[(1, 0, P1, P1.len() as u32)]));
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got.first().map(|g| g.link), Some(want));
    }
}

fn two_interface_pcapng(be: bool) -> Vec<u8> {
    let mut f = Vec::new();
    shb(&mut f, be);
    idb(&mut f, 1, 65535, None, None, be); // Ethernet, microseconds
    idb(&mut f, 101, 96, Some(9), Some(10), be); // raw IP, nanoseconds, +10 s offset
    block(&mut f, 0x0000_0BAD, b"custom block body", be); // custom block: skipped
    epb(&mut f, 0, 1_700_000_000_123_456, P1, P1.len() as u32, be);
    epb(&mut f, 1, 1_700_000_000_987_654_321, P2, 1500, be);
    block(&mut f, 5, &[0u8; 20], be); // interface statistics: skipped
    spb(&mut f, P2, be);
    epb(&mut f, 7, 1, P1, P1.len() as u32, be); // undeclared interface: skipped, counted
    f
}

#[test]
fn reads_pcapng_with_two_interfaces_both_byte_orders() {
    for be in [false, true] {
        let file = two_interface_pcapng(be);
        let mut r = CaptureReader::from_reader(std::io::Cursor::new(file))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut got = Vec::new();
        while let Ok(Some(f)) = r.next_frame() {
            got.push(Got {
                ts: f.ts.as_nanos(),
                link: f.link,
                data: f.data.to_vec(),
                orig_len: f.orig_len,
            });
        }
        assert_eq!(got.len(), 3, "be={be} {got:?}");
        assert_eq!(
            got[0],
            Got {
                ts: 1_700_000_000_123_456_000,
                link: LinkType::Ethernet,
                data: P1.to_vec(),
                orig_len: P1.len() as u32
            }
        );
        assert_eq!(
            got[1],
            Got {
                ts: 1_700_000_010_987_654_321,
                link: LinkType::Raw,
                data: P2.to_vec(),
                orig_len: 1500
            }
        );
        // Simple packet block: interface 0, last timestamp seen, padding stripped.
        assert_eq!(
            got[2],
            Got {
                ts: 1_700_000_010_987_654_321,
                link: LinkType::Ethernet,
                data: P2.to_vec(),
                orig_len: P2.len() as u32
            }
        );
        let s = r.stats();
        assert_eq!(
            (s.frames, s.sections, s.interfaces, s.unknown_interface),
            (3, 1, 2, 1)
        );
        assert_eq!(s.skipped_blocks, 5); // SHB, 2 IDB, custom, ISB
        assert_eq!(r.format(), CaptureFormat::PcapNg);
    }
}

#[test]
fn binary_tsresol_and_new_section_resets_interfaces() {
    let mut f = Vec::new();
    shb(&mut f, false);
    idb(&mut f, 1, 0, Some(0x80 | 10), None, false); // 2^-10 s units
    epb(&mut f, 0, 3 * 1024 + 512, P1, P1.len() as u32, false);
    shb(&mut f, true); // second section, big-endian, no interfaces yet
    epb(&mut f, 0, 5, P1, P1.len() as u32, true);
    idb(&mut f, 113, 0, None, None, true);
    epb(&mut f, 0, 2_000_000, P2, P2.len() as u32, true);
    let (got, err) = read_all(f);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].ts, 3_500_000_000);
    assert_eq!(
        (got[1].ts, got[1].link),
        (2_000_000_000, LinkType::LinuxSll)
    );
}

#[test]
fn gzip_input_is_detected() {
    let plain = two_interface_pcapng(false);
    let (want, _) = read_all(plain.clone());
    let gz = gzip(&plain);
    let mut r = CaptureReader::from_reader(std::io::Cursor::new(gz.clone()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.compressed());
    let mut n = 0;
    while let Ok(Some(f)) = r.next_frame() {
        assert_eq!(f.data, want[n].data.as_slice());
        n += 1;
    }
    assert_eq!(n, want.len());
    assert_eq!(r.bytes_read(), gz.len() as u64);

    // Two gzip members (e.g. a rotated file appended) read as one stream.
    let file = pcap(false, false, 1, &[(1, 0, P1, 60), (2, 0, P2, 60)]);
    let (a, b) = file.split_at(40);
    let mut two = gzip(a);
    two.extend(gzip(b));
    let (got, err) = read_all(two);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got.len(), 2);
}

#[test]
fn corrupt_gzip_is_a_read_error() {
    let mut gz = gzip(&pcap(false, false, 1, &[(1, 0, P2, 60); 50]));
    let mid = gz.len() / 2;
    for b in gz.iter_mut().skip(mid).take(8) {
        *b ^= 0x5a;
    }
    let (got, err) = read_all(gz);
    assert!(got.len() < 50);
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("offset"), "{msg}");
}

#[test]
fn large_capture_crosses_buffer_refills() {
    // ~5 MiB: more than twice the reader buffer, so frames straddle refills and shifts.
    let payloads: Vec<Vec<u8>> = (0..3500u32)
        .map(|i| {
            (0..(1000 + i % 517))
                .map(|j| (i.wrapping_mul(31) ^ j) as u8)
                .collect()
        })
        .collect();
    let recs: Vec<Rec<'_>> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| (i as u32, 0, p.as_slice(), p.len() as u32))
        .collect();
    let file = pcap(false, false, 1, &recs);
    let mut r =
        CaptureReader::from_reader(std::io::Cursor::new(file)).unwrap_or_else(|e| panic!("{e}"));
    let mut i = 0;
    while let Ok(Some(f)) = r.next_frame() {
        assert_eq!(f.data, payloads[i].as_slice(), "frame {i}");
        assert_eq!(f.ts.as_nanos(), i as u64 * 1_000_000_000);
        i += 1;
    }
    assert_eq!(i, payloads.len());
}

/// Cutting the file at any byte gives the complete records before the cut, then an error that
/// names an offset, unless the cut falls exactly between records.
fn check_every_truncation(file: &[u8], boundaries: &[usize], first_record: usize, clean: &[usize]) {
    for cut in 0..file.len() {
        let (got, err) = read_all(file[..cut].to_vec());
        let complete = boundaries.iter().filter(|&&b| b <= cut).count();
        if cut < first_record {
            assert!(got.is_empty());
            assert!(err.is_some(), "cut {cut}: header cut must be an error");
            continue;
        }
        assert_eq!(got.len(), complete, "cut at {cut}");
        if boundaries.contains(&cut) || cut == first_record || clean.contains(&cut) {
            assert!(err.is_none(), "cut at {cut}: {err:?}");
        } else {
            let msg = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                msg.contains("truncated") && msg.contains("offset"),
                "cut at {cut}: {msg}"
            );
        }
    }
}

#[test]
fn pcap_truncated_at_every_offset() {
    let file = pcap(
        false,
        false,
        1,
        &[(1, 0, P1, 60), (2, 0, P2, 60), (3, 0, P1, 60)],
    );
    let b1 = 24 + 16 + P1.len();
    let b2 = b1 + 16 + P2.len();
    check_every_truncation(&file, &[b1, b2, file.len()], 24, &[]);
    let (_, err) = read_all(file[..b1 + 16 + 10].to_vec());
    assert_eq!(
        err.map(|e| e.to_string()).unwrap_or_default(),
        format!(
            "truncated packet record at offset {b1}: 26 of {} bytes",
            16 + P2.len()
        )
    );
}

#[test]
fn pcapng_truncated_at_every_offset() {
    let mut f = Vec::new();
    shb(&mut f, false);
    let shb_end = f.len();
    idb(&mut f, 1, 0, None, None, false);
    let idb_end = f.len();
    let mut bounds = Vec::new();
    for (i, p) in [P1, P2, P1].iter().enumerate() {
        epb(&mut f, 0, i as u64, p, p.len() as u32, false);
        bounds.push(f.len());
    }
    check_every_truncation(&f, &bounds, shb_end, &[idb_end]);
    // Also gzip-compressed: same frames, still an error, never a panic.
    for cut in (0..f.len()).step_by(7) {
        let (got, _) = read_all(gzip(&f[..cut]));
        assert!(got.len() <= 3);
    }
}

#[test]
fn absurd_lengths_are_errors_not_allocations() {
    let mut file = pcap(false, false, 1, &[(1, 0, P1, 60)]);
    let at = file.len();
    file.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
    file.extend_from_slice(&[0u8; 100]);
    let (got, err) = read_all(file);
    assert_eq!(got.len(), 1);
    assert_eq!(
        err.map(|e| e.to_string()).unwrap_or_default(),
        format!(
            "packet record at offset {at} claims 2147483647 bytes, more than the limit of 262144"
        )
    );

    let mut f = Vec::new();
    shb(&mut f, false);
    idb(&mut f, 1, 0, None, None, false);
    let at = f.len();
    put32(&mut f, 6, false);
    put32(&mut f, 0x4000_0000, false);
    f.extend_from_slice(&[0u8; 64]);
    let (_, err) = read_all(f);
    assert!(matches!(err, Some(CaptureError::TooLarge { offset, .. }) if offset == at as u64));

    // An EPB whose captured length runs past its own block.
    let mut f = Vec::new();
    shb(&mut f, false);
    idb(&mut f, 1, 0, None, None, false);
    let at = f.len();
    epb(&mut f, 0, 0, P1, P1.len() as u32, false);
    f[at + 20..at + 24].copy_from_slice(&1000u32.to_le_bytes());
    let (_, err) = read_all(f);
    assert!(
        matches!(err, Some(CaptureError::Corrupt { offset, .. }) if offset == at as u64),
        "{err:?}"
    );
}

#[test]
fn not_a_capture_is_said_so() {
    let (_, err) = read_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec());
    assert_eq!(
        err.map(|e| e.to_string()).unwrap_or_default(),
        "not a pcap or pcapng file: starts with 47 45 54 20"
    );
    let (_, err) = read_all(gzip(b"hello world, not a pcap"));
    assert!(err
        .map(|e| e.to_string())
        .unwrap_or_default()
        .contains("after gzip decompression"));
    let (_, err) = read_all(Vec::new());
    assert!(err
        .map(|e| e.to_string())
        .unwrap_or_default()
        .contains("empty input"));
    let missing = open(Path::new("/nonexistent/periscope/x.pcap"));
    assert!(matches!(missing, Err(CaptureError::Open { .. })));
}

#[test]
fn random_corruption_never_panics_or_spins() {
    let bases = [
        two_interface_pcapng(false),
        two_interface_pcapng(true),
        pcap(true, true, 1, &[(1, 2, P2, 99); 6]),
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..5000 {
        let mut f = bases[round % bases.len()].clone();
        for _ in 0..(1 + next() % 6) {
            let i = (next() as usize) % f.len();
            f[i] = next() as u8;
        }
        let mut r = match CaptureReader::from_reader(std::io::Cursor::new(f)) {
            Ok(r) => r,
            Err(_) => continue,
        };
        let mut calls = 0;
        while let Ok(Some(_)) = r.next_frame() {
            calls += 1;
            assert!(calls < 100, "reader does not terminate");
        }
    }
}

#[test]
fn reader_can_move_to_a_worker_thread() {
    fn is_send<T: Send>() {}
    is_send::<CaptureReader>();
    is_send::<CaptureError>();
}
