//! GENEVE (RFC 8926): 8-byte header plus variable options (skipped by their total length),
//! then an Ethernet frame (protocol 0x6558) or an IP packet (AWS Gateway Load Balancer sends
//! IPv4/IPv6 with its own options).

use crate::bytes::{be16, be32, tail, u8_at};
use crate::error::{DecodeError, Layer, MalformedKind};

/// A checked view of a GENEVE header and its payload.
#[derive(Debug, Clone, Copy)]
pub struct Geneve<B: AsRef<[u8]>> {
    buf: B,
}

impl<B: AsRef<[u8]>> Geneve<B> {
    /// Fixed header length (without options).
    pub const HEADER_LEN: usize = 8;

    /// Checks version 0 and that the options fit in the buffer.
    pub fn new_checked(buf: B) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        let err = |kind| DecodeError {
            kind,
            layer: Layer::Geneve,
            offset: 0,
        };
        if b.len() < Self::HEADER_LEN {
            return Err(err(MalformedKind::Truncated));
        }
        if u8_at(b, 0) >> 6 != 0 {
            return Err(err(MalformedKind::BadTunnelHeader));
        }
        let v = Geneve { buf };
        if v.header_len() > v.buf.as_ref().len() {
            return Err(err(MalformedKind::BadHeaderLength));
        }
        Ok(v)
    }

    /// Header length including options.
    pub fn header_len(&self) -> usize {
        Self::HEADER_LEN + usize::from(u8_at(self.buf.as_ref(), 0) & 0x3f) * 4
    }

    /// Protocol type of the payload (an EtherType; 0x6558 = Ethernet).
    pub fn protocol(&self) -> u16 {
        be16(self.buf.as_ref(), 2)
    }

    /// The 24-bit virtual network identifier.
    pub fn vni(&self) -> u32 {
        be32(self.buf.as_ref(), 4) >> 8
    }

    /// The payload after the options.
    pub fn inner(&self) -> &[u8] {
        tail(self.buf.as_ref(), self.header_len())
    }
}

impl<'a> Geneve<&'a [u8]> {
    /// The payload, borrowed for the lifetime of the underlying buffer (not of the view).
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.header_len())
    }
}
