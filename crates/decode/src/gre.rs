//! GRE (RFC 2784 with the RFC 2890 key and sequence extensions).

use crate::bytes::{be16, be32, tail};
use crate::error::{DecodeError, Layer, MalformedKind};

/// A checked view of a GRE header and its payload.
#[derive(Debug, Clone, Copy)]
pub struct Gre<B: AsRef<[u8]>> {
    buf: B,
}

impl<B: AsRef<[u8]>> Gre<B> {
    const CHECKSUM: u16 = 0x8000;
    const ROUTING: u16 = 0x4000;
    const KEY: u16 = 0x2000;
    const SEQUENCE: u16 = 0x1000;
    const VERSION: u16 = 0x0007;

    /// Checks version 0, no (RFC 1701) routing, and that the optional fields fit.
    pub fn new_checked(buf: B) -> Result<Self, DecodeError> {
        let err = |kind| DecodeError {
            kind,
            layer: Layer::Gre,
            offset: 0,
        };
        if buf.as_ref().len() < 4 {
            return Err(err(MalformedKind::Truncated));
        }
        let v = Gre { buf };
        // Version 1 is PPTP's enhanced GRE (PPP inside), routing is RFC 1701 only: neither
        // carries mirrored traffic.
        if v.flags() & (Self::VERSION | Self::ROUTING) != 0 {
            return Err(err(MalformedKind::BadTunnelHeader));
        }
        if v.header_len() > v.buf.as_ref().len() {
            return Err(err(MalformedKind::Truncated));
        }
        Ok(v)
    }

    fn flags(&self) -> u16 {
        be16(self.buf.as_ref(), 0)
    }

    /// Header length: 4, plus 4 for each of checksum, key, sequence present.
    pub fn header_len(&self) -> usize {
        let f = self.flags();
        4 + [Self::CHECKSUM, Self::KEY, Self::SEQUENCE]
            .iter()
            .filter(|&&b| f & b != 0)
            .count()
            * 4
    }

    /// Protocol type (an EtherType).
    pub fn protocol(&self) -> u16 {
        be16(self.buf.as_ref(), 2)
    }

    /// The key, when present.
    pub fn key(&self) -> Option<u32> {
        let f = self.flags();
        (f & Self::KEY != 0).then(|| {
            let at = if f & Self::CHECKSUM != 0 { 8 } else { 4 };
            be32(self.buf.as_ref(), at)
        })
    }

    /// Whether the sequence number is present (ERSPAN type II/III set it; type I does not).
    pub fn has_sequence(&self) -> bool {
        self.flags() & Self::SEQUENCE != 0
    }

    /// The payload.
    pub fn inner(&self) -> &[u8] {
        tail(self.buf.as_ref(), self.header_len())
    }
}

impl<'a> Gre<&'a [u8]> {
    /// The payload, borrowed for the lifetime of the underlying buffer (not of the view).
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.header_len())
    }
}
