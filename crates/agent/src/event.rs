//! The ring buffer's wire format, written by `bpf/periscope.bpf.c` (`struct event`).
//!
//! A view over the bytes the kernel wrote: `RawEvent::parse` checks every length once and
//! never panics, whatever the input (the ring buffer is trusted, but a mismatched object or
//! a bug must turn into a counter, not a crash).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Size of the fixed header before the payload.
pub(crate) const HDR_LEN: usize = 112;

/// Event kinds (`EV_*` in the C source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Payload of one call (or one chunk of it).
    Data,
    /// `close()` of a tracked descriptor; the payload holds the final offsets.
    Close,
}

/// Where the payload was read (`SRC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A read/write-family syscall: what went over the socket.
    Syscall = 0,
    /// OpenSSL's SSL_read/SSL_write: plaintext.
    Ssl = 1,
}

/// Which way the bytes moved for the traced process (`IO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoDir {
    /// Received by the process.
    In = 0,
    /// Sent by the process.
    Out = 1,
}

/// The connection's role for the traced process as the kernel saw it (`ROLE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KernelRole {
    /// The connection existed before the agent started; userspace decides.
    Unknown,
    /// Returned by accept.
    Server,
    /// Made by connect.
    Client,
}

/// Flag: the call moved more bytes than were copied.
pub(crate) const FLAG_TRUNCATED: u32 = 1;

/// One parsed ring buffer record, borrowing its payload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawEvent<'a> {
    pub ts_mono: u64,
    pub conn_start: u64,
    pub seq: u64,
    pub tgid: u32,
    pub fd: u32,
    pub flags: u32,
    pub local: (IpAddr, u16),
    pub remote: (IpAddr, u16),
    pub kind: Kind,
    pub source: Source,
    pub iodir: IoDir,
    pub role: KernelRole,
    pub comm: [u8; 16],
    pub data: &'a [u8],
}

/// Why a record was not understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// Shorter than the header.
    Short,
    /// `len` points past the record.
    LenBeyondRecord,
    /// Unknown kind, source, direction, role or address family.
    BadField,
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(off..off + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(off..off + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(off..off + 2) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

fn arr16(b: &[u8], off: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    if let Some(s) = b.get(off..off + 16) {
        a.copy_from_slice(s);
    }
    a
}

fn addr(family: u8, raw: [u8; 16]) -> Option<IpAddr> {
    match family {
        2 => Some(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))),
        10 => {
            let v6 = Ipv6Addr::from(raw);
            // Dual-stack sockets show IPv4 peers as ::ffff:a.b.c.d; report them as IPv4,
            // the way a mirror would see the packets.
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            })
        }
        _ => None,
    }
}

impl<'a> RawEvent<'a> {
    /// Parses one record.
    pub(crate) fn parse(b: &'a [u8]) -> Result<Self, ParseError> {
        if b.len() < HDR_LEN {
            return Err(ParseError::Short);
        }
        let len = u32_at(b, 40) as usize;
        let data = b
            .get(HDR_LEN..HDR_LEN.saturating_add(len))
            .ok_or(ParseError::LenBeyondRecord)?;
        let family = b.get(52).copied().unwrap_or(0);
        let field = |i: usize| b.get(i).copied().unwrap_or(u8::MAX);
        let kind = match field(53) {
            1 => Kind::Data,
            2 => Kind::Close,
            _ => return Err(ParseError::BadField),
        };
        let source = match field(54) {
            0 => Source::Syscall,
            1 => Source::Ssl,
            _ => return Err(ParseError::BadField),
        };
        let iodir = match field(55) {
            0 => IoDir::In,
            1 => IoDir::Out,
            _ => return Err(ParseError::BadField),
        };
        let role = match field(56) {
            0 => KernelRole::Unknown,
            1 => KernelRole::Server,
            2 => KernelRole::Client,
            _ => return Err(ParseError::BadField),
        };
        let laddr = addr(family, arr16(b, 64)).ok_or(ParseError::BadField)?;
        let raddr = addr(family, arr16(b, 80)).ok_or(ParseError::BadField)?;
        Ok(RawEvent {
            ts_mono: u64_at(b, 0),
            conn_start: u64_at(b, 8),
            seq: u64_at(b, 16),
            tgid: u32_at(b, 32),
            fd: u32_at(b, 36),
            flags: u32_at(b, 44),
            local: (laddr, u16_at(b, 48)),
            remote: (raddr, u16_at(b, 50)),
            kind,
            source,
            iodir,
            role,
            comm: arr16(b, 96),
            data,
        })
    }

    /// The final offsets carried by a `Close` record, `[source][iodir]`.
    pub(crate) fn close_offsets(&self) -> [[u64; 2]; 2] {
        let d = self.data;
        [[u64_at(d, 0), u64_at(d, 8)], [u64_at(d, 16), u64_at(d, 24)]]
    }
}

/// A kernel `comm` as text.
pub(crate) fn comm_str(c: &[u8; 16]) -> String {
    let end = c.iter().position(|&b| b == 0).unwrap_or(c.len());
    String::from_utf8_lossy(c.get(..end).unwrap_or(&[])).into_owned()
}

/// Builds a record the way the kernel does; for tests of this crate.
#[cfg(test)]
pub(crate) mod build {
    use super::HDR_LEN;
    use std::net::IpAddr;

    /// Fields of a test record.
    #[derive(Clone)]
    pub struct Rec {
        pub ts: u64,
        pub conn_start: u64,
        pub seq: u64,
        pub total: u64,
        pub tgid: u32,
        pub fd: u32,
        pub flags: u32,
        pub local: (IpAddr, u16),
        pub remote: (IpAddr, u16),
        pub kind: u8,
        pub source: u8,
        pub iodir: u8,
        pub role: u8,
        pub comm: &'static str,
    }

    impl Default for Rec {
        fn default() -> Self {
            Rec {
                ts: 1_000,
                conn_start: 7,
                seq: 0,
                total: 0,
                tgid: 100,
                fd: 5,
                flags: 0,
                local: ([127, 0, 0, 1].into(), 8080),
                remote: ([127, 0, 0, 1].into(), 40000),
                kind: 1,
                source: 0,
                iodir: 0,
                role: 1,
                comm: "nginx",
            }
        }
    }

    impl Rec {
        pub fn bytes(&self, data: &[u8]) -> Vec<u8> {
            let mut b = vec![0u8; HDR_LEN];
            b[0..8].copy_from_slice(&self.ts.to_le_bytes());
            b[8..16].copy_from_slice(&self.conn_start.to_le_bytes());
            b[16..24].copy_from_slice(&self.seq.to_le_bytes());
            let total = if self.total == 0 {
                data.len() as u64
            } else {
                self.total
            };
            b[24..32].copy_from_slice(&total.to_le_bytes());
            b[32..36].copy_from_slice(&self.tgid.to_le_bytes());
            b[36..40].copy_from_slice(&self.fd.to_le_bytes());
            b[40..44].copy_from_slice(&(data.len() as u32).to_le_bytes());
            b[44..48].copy_from_slice(&self.flags.to_le_bytes());
            b[48..50].copy_from_slice(&self.local.1.to_le_bytes());
            b[50..52].copy_from_slice(&self.remote.1.to_le_bytes());
            let fam = |ip: IpAddr, out: &mut [u8]| match ip {
                IpAddr::V4(v) => {
                    out[..4].copy_from_slice(&v.octets());
                    2u8
                }
                IpAddr::V6(v) => {
                    out.copy_from_slice(&v.octets());
                    10u8
                }
            };
            b[52] = fam(self.local.0, &mut b[64..80]);
            fam(self.remote.0, &mut b[80..96]);
            b[53] = self.kind;
            b[54] = self.source;
            b[55] = self.iodir;
            b[56] = self.role;
            let c = self.comm.as_bytes();
            b[96..96 + c.len().min(15)].copy_from_slice(&c[..c.len().min(15)]);
            b.extend_from_slice(data);
            b
        }
    }
}

#[cfg(test)]
mod tests {
    use super::build::Rec;
    use super::*;

    #[test]
    fn parses_what_it_builds() {
        let r = Rec {
            seq: 42,
            ..Default::default()
        };
        let b = r.bytes(b"GET / HTTP/1.1\r\n\r\n");
        let e = RawEvent::parse(&b);
        assert!(e.is_ok(), "{e:?}");
        if let Ok(e) = e {
            assert_eq!(e.seq, 42);
            assert_eq!(e.data, b"GET / HTTP/1.1\r\n\r\n");
            assert_eq!(e.local, (IpAddr::from([127, 0, 0, 1]), 8080));
            assert_eq!(comm_str(&e.comm), "nginx");
            assert_eq!(e.kind, Kind::Data);
            assert_eq!(e.role, KernelRole::Server);
        }
    }

    #[test]
    fn hostile_records_are_errors_not_panics() {
        let good = Rec::default().bytes(b"abc");
        for cut in 0..good.len() {
            let r = RawEvent::parse(&good[..cut]);
            if cut < HDR_LEN {
                assert_eq!(r.err(), Some(ParseError::Short));
            } else {
                assert_eq!(r.err(), Some(ParseError::LenBeyondRecord), "cut {cut}");
            }
        }
        let mut huge = good.clone();
        huge[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            RawEvent::parse(&huge).err(),
            Some(ParseError::LenBeyondRecord)
        );
        for (off, v) in [(52usize, 7u8), (53, 9), (54, 2), (55, 3), (56, 4)] {
            let mut b = good.clone();
            b[off] = v;
            assert_eq!(
                RawEvent::parse(&b).err(),
                Some(ParseError::BadField),
                "offset {off}"
            );
        }
        // Garbage of every length up to two headers never panics.
        let mut x: u32 = 12345;
        for n in 0..2 * HDR_LEN {
            let g: Vec<u8> = (0..n)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect();
            let _ = RawEvent::parse(&g);
        }
    }

    #[test]
    fn v4_mapped_v6_is_reported_as_v4() {
        let r = Rec {
            local: (
                "::ffff:10.0.0.1".parse().unwrap_or(IpAddr::from([0u8; 16])),
                443,
            ),
            remote: (
                "2001:db8::1".parse().unwrap_or(IpAddr::from([0u8; 16])),
                5555,
            ),
            ..Default::default()
        };
        let b = r.bytes(b"");
        let e = RawEvent::parse(&b);
        assert!(e.is_ok());
        if let Ok(e) = e {
            assert_eq!(e.local.0, IpAddr::from([10, 0, 0, 1]));
            assert!(e.remote.0.is_ipv6());
        }
    }

    #[test]
    fn close_offsets_read_four_counters_and_tolerate_short_payload() {
        let mut d = Vec::new();
        for v in [1u64, 2, 3, 4] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        let b = Rec {
            kind: 2,
            ..Default::default()
        }
        .bytes(&d);
        let e = RawEvent::parse(&b);
        assert!(e.is_ok());
        if let Ok(e) = e {
            assert_eq!(e.close_offsets(), [[1, 2], [3, 4]]);
        }
        let b = Rec {
            kind: 2,
            ..Default::default()
        }
        .bytes(&[1, 2, 3]);
        if let Ok(e) = RawEvent::parse(&b) {
            assert_eq!(e.close_offsets(), [[0, 0], [0, 0]]);
        }
    }
}
