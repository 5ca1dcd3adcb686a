//! Link-layer framings etherparse does not cover in the form we need: Linux cooked capture v1
//! and v2, BSD loopback (NULL/LOOP), Cisco HDLC, PPP (with HDLC address/control bytes and
//! protocol-field compression), PPPoE session headers and MPLS label stacks. Each function
//! checks lengths and returns the next protocol and the rest of the bytes.

use crate::bytes::{be16, be32, le32, tail, u8_at};
use crate::error::{DecodeError, Layer, MalformedKind};

fn truncated(layer: Layer) -> DecodeError {
    DecodeError {
        kind: MalformedKind::Truncated,
        layer,
        offset: 0,
    }
}

/// LINKTYPE_LINUX_SLL: 16 bytes, protocol (an EtherType for most devices) last.
pub(crate) fn sll(b: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    if b.len() < 16 {
        return Err(truncated(Layer::Link));
    }
    Ok((be16(b, 14), tail(b, 16)))
}

/// LINKTYPE_LINUX_SLL2: 20 bytes, protocol first.
pub(crate) fn sll2(b: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    if b.len() < 20 {
        return Err(truncated(Layer::Link));
    }
    Ok((be16(b, 0), tail(b, 20)))
}

/// What a loopback header says the packet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
    Other,
}

fn family(n: u32) -> Family {
    match n {
        2 => Family::V4,
        // AF_INET6 differs by OS: 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS).
        24 | 28 | 30 => Family::V6,
        _ => Family::Other,
    }
}

/// LINKTYPE_NULL: 4-byte address family in the *capturing host's* byte order, which the file
/// does not record; both readings are tried (the wrong one is a huge number).
pub(crate) fn null(b: &[u8]) -> Result<(Family, &[u8]), DecodeError> {
    if b.len() < 4 {
        return Err(truncated(Layer::Link));
    }
    let f = match family(le32(b, 0)) {
        Family::Other => family(be32(b, 0)),
        f => f,
    };
    Ok((f, tail(b, 4)))
}

/// LINKTYPE_LOOP: the same family in network byte order.
pub(crate) fn loop_(b: &[u8]) -> Result<(Family, &[u8]), DecodeError> {
    if b.len() < 4 {
        return Err(truncated(Layer::Link));
    }
    Ok((family(be32(b, 0)), tail(b, 4)))
}

/// Cisco HDLC: address (0x0F unicast, 0x8F broadcast), control 0, EtherType.
pub(crate) fn cisco_hdlc(b: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    if b.len() < 4 {
        return Err(truncated(Layer::Link));
    }
    Ok((be16(b, 2), tail(b, 4)))
}

/// PPP protocol numbers we decode.
pub(crate) const PPP_IPV4: u16 = 0x0021;
pub(crate) const PPP_IPV6: u16 = 0x0057;
pub(crate) const PPP_MPLS: u16 = 0x0281;

/// PPP: optional HDLC address/control (0xFF 0x03), then a 1-byte (compressed, odd) or 2-byte
/// protocol field.
pub(crate) fn ppp(b: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    let b = if b.starts_with(&[0xff, 0x03]) {
        tail(b, 2)
    } else {
        b
    };
    let first = *b.first().ok_or(truncated(Layer::Ppp))?;
    if first & 1 == 1 {
        return Ok((u16::from(first), tail(b, 1)));
    }
    if b.len() < 2 {
        return Err(truncated(Layer::Ppp));
    }
    Ok((be16(b, 0), tail(b, 2)))
}

/// PPPoE session stage (EtherType 0x8864): 6-byte header, then PPP protocol and payload. The
/// payload is cut to the header's length (Ethernet padding follows short frames).
pub(crate) fn pppoe_session(b: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    if b.len() < 6 {
        return Err(truncated(Layer::Pppoe));
    }
    if u8_at(b, 0) != 0x11 || u8_at(b, 1) != 0 {
        return Err(DecodeError {
            kind: MalformedKind::BadTunnelHeader,
            layer: Layer::Pppoe,
            offset: 0,
        });
    }
    let len = usize::from(be16(b, 4));
    let body = tail(b, 6);
    let body = body.get(..len).unwrap_or(body);
    ppp(body).map_err(|e| DecodeError {
        layer: Layer::Pppoe,
        ..e
    })
}

/// Most MPLS labels walked.
const MAX_LABELS: usize = 8;

/// An MPLS label stack: 4 bytes per label until the bottom-of-stack bit.
pub(crate) fn mpls(b: &[u8]) -> Result<&[u8], DecodeError> {
    let mut rest = b;
    for _ in 0..MAX_LABELS {
        if rest.len() < 4 {
            return Err(truncated(Layer::Mpls));
        }
        let bottom = u8_at(rest, 2) & 0x01 != 0;
        rest = tail(rest, 4);
        if bottom {
            return Ok(rest);
        }
    }
    Err(DecodeError {
        kind: MalformedKind::TooManyHeaders,
        layer: Layer::Mpls,
        offset: 0,
    })
}
