//! VXLAN (RFC 7348), as sent by AWS VPC Traffic Mirroring: an 8-byte header after UDP, then an
//! Ethernet frame.

use crate::bytes::{be32, tail, u8_at};
use crate::error::{DecodeError, Layer, MalformedKind};

/// A checked view of a VXLAN header and its payload.
#[derive(Debug, Clone, Copy)]
pub struct Vxlan<B: AsRef<[u8]>> {
    buf: B,
}

impl<B: AsRef<[u8]>> Vxlan<B> {
    /// Header length.
    pub const HEADER_LEN: usize = 8;
    const FLAG_VNI_VALID: u8 = 0x08;

    /// Checks the length and the "VNI valid" flag (receivers must drop frames without it).
    pub fn new_checked(buf: B) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        let err = |kind| DecodeError {
            kind,
            layer: Layer::Vxlan,
            offset: 0,
        };
        if b.len() < Self::HEADER_LEN {
            return Err(err(MalformedKind::Truncated));
        }
        if u8_at(b, 0) & Self::FLAG_VNI_VALID == 0 {
            return Err(err(MalformedKind::BadTunnelHeader));
        }
        Ok(Vxlan { buf })
    }

    /// The 24-bit VXLAN network identifier.
    pub fn vni(&self) -> u32 {
        be32(self.buf.as_ref(), 4) >> 8
    }

    /// The encapsulated Ethernet frame.
    pub fn inner(&self) -> &[u8] {
        tail(self.buf.as_ref(), Self::HEADER_LEN)
    }
}

impl<'a> Vxlan<&'a [u8]> {
    /// The payload, borrowed for the lifetime of the underlying buffer (not of the view).
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, Self::HEADER_LEN)
    }
}
