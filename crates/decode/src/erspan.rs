//! ERSPAN (Cisco's encapsulated remote SPAN) inside GRE: type II (GRE protocol 0x88BE, 8-byte
//! header) and type III (0x22EB, 12-byte header plus an optional 8-byte platform-specific
//! subheader when the O bit is set).

use crate::bytes::{be16, tail, u8_at};
use crate::error::{DecodeError, Layer, MalformedKind};

fn err(kind: MalformedKind) -> DecodeError {
    DecodeError {
        kind,
        layer: Layer::Erspan,
        offset: 0,
    }
}

/// A checked view of an ERSPAN type II header.
#[derive(Debug, Clone, Copy)]
pub struct ErspanII<B: AsRef<[u8]>> {
    buf: B,
}

impl<B: AsRef<[u8]>> ErspanII<B> {
    /// Header length.
    pub const HEADER_LEN: usize = 8;

    /// Checks the length and version 1.
    pub fn new_checked(buf: B) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        if b.len() < Self::HEADER_LEN {
            return Err(err(MalformedKind::Truncated));
        }
        if u8_at(b, 0) >> 4 != 1 {
            return Err(err(MalformedKind::BadTunnelHeader));
        }
        Ok(ErspanII { buf })
    }

    /// The 10-bit session id.
    pub fn session_id(&self) -> u16 {
        be16(self.buf.as_ref(), 2) & 0x03ff
    }

    /// The mirrored Ethernet frame.
    pub fn inner(&self) -> &[u8] {
        tail(self.buf.as_ref(), Self::HEADER_LEN)
    }
}

/// What an ERSPAN type III frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErspanFrameType {
    /// An Ethernet frame (FT = 0).
    Ethernet,
    /// An IP packet (FT = 2).
    Ip,
    /// Anything else.
    Other(u8),
}

/// A checked view of an ERSPAN type III header.
#[derive(Debug, Clone, Copy)]
pub struct ErspanIII<B: AsRef<[u8]>> {
    buf: B,
}

impl<B: AsRef<[u8]>> ErspanIII<B> {
    /// Header length without the platform subheader.
    pub const HEADER_LEN: usize = 12;
    const SUBHEADER_LEN: usize = 8;

    /// Checks the length (with the subheader when O is set) and version 2.
    pub fn new_checked(buf: B) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        if b.len() < Self::HEADER_LEN {
            return Err(err(MalformedKind::Truncated));
        }
        if u8_at(b, 0) >> 4 != 2 {
            return Err(err(MalformedKind::BadTunnelHeader));
        }
        let v = ErspanIII { buf };
        if v.header_len() > v.buf.as_ref().len() {
            return Err(err(MalformedKind::Truncated));
        }
        Ok(v)
    }

    /// Header length, including the platform subheader when present.
    pub fn header_len(&self) -> usize {
        let o = u8_at(self.buf.as_ref(), 11) & 0x01 != 0;
        Self::HEADER_LEN + if o { Self::SUBHEADER_LEN } else { 0 }
    }

    /// The 10-bit session id.
    pub fn session_id(&self) -> u16 {
        be16(self.buf.as_ref(), 2) & 0x03ff
    }

    /// The frame type field.
    pub fn frame_type(&self) -> ErspanFrameType {
        match (u8_at(self.buf.as_ref(), 10) >> 2) & 0x1f {
            0 => ErspanFrameType::Ethernet,
            2 => ErspanFrameType::Ip,
            n => ErspanFrameType::Other(n),
        }
    }

    /// The mirrored frame.
    pub fn inner(&self) -> &[u8] {
        tail(self.buf.as_ref(), self.header_len())
    }
}

impl<'a> ErspanII<&'a [u8]> {
    /// The payload, borrowed for the lifetime of the underlying buffer (not of the view).
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, Self::HEADER_LEN)
    }
}

impl<'a> ErspanIII<&'a [u8]> {
    /// The payload, borrowed for the lifetime of the underlying buffer (not of the view).
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.header_len())
    }
}
