//! What capture hands to decode ([`Frame`]) and what decode hands to reassemble ([`Segment`]).

use crate::flow::{Endpoint, TcpFlags, TunnelPath};
use crate::time::Timestamp;
use serde::Serialize;

/// Link-layer header type of a captured frame (the LINKTYPE_* values of pcap/pcapng).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// LINKTYPE_NULL (0): BSD loopback, 4-byte address family in host byte order.
    Null,
    /// LINKTYPE_ETHERNET (1).
    Ethernet,
    /// LINKTYPE_PPP (9).
    Ppp,
    /// LINKTYPE_PPP_HDLC (50) / LINKTYPE_C_HDLC (104): Cisco HDLC framing.
    CiscoHdlc,
    /// LINKTYPE_RAW (101) or DLT_RAW (12/14): a bare IPv4 or IPv6 packet.
    Raw,
    /// LINKTYPE_LOOP (108): OpenBSD loopback, address family in network byte order.
    Loop,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1.
    LinuxSll,
    /// LINKTYPE_IPV4 (228).
    Ipv4,
    /// LINKTYPE_IPV6 (229).
    Ipv6,
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2.
    LinuxSll2,
    /// Not a pcap link type: the data starts at a VXLAN header, as in the payload of a UDP
    /// datagram received by a VXLAN listener (AWS VPC Traffic Mirroring). Never returned by
    /// [`LinkType::from_linktype`].
    Vxlan,
    /// Not a pcap link type: the data starts at a GENEVE header, as in the payload of a UDP
    /// datagram received by a GENEVE listener. Never returned by [`LinkType::from_linktype`].
    Geneve,
    /// Any other link type; frames of it are counted and skipped.
    Other(u32),
}

impl LinkType {
    /// Maps a pcap/pcapng LINKTYPE_* number.
    pub fn from_linktype(n: u32) -> Self {
        match n {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            9 => LinkType::Ppp,
            50 | 104 => LinkType::CiscoHdlc,
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            other => LinkType::Other(other),
        }
    }
}

/// One captured frame, borrowed from the reader's buffer until the next read.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Link-layer type of `data`.
    pub link: LinkType,
    /// The captured bytes (at most the snap length).
    pub data: &'a [u8],
    /// Length of the frame on the wire; larger than `data.len()` when the snap length cut it.
    pub orig_len: u32,
}

/// One TCP segment as decoded from a frame (tunnels unwrapped, IP fragments reassembled).
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Tunnels the packet was unwrapped from, outermost first.
    pub tunnel: TunnelPath,
    /// Innermost 802.1Q VLAN id, when tagged.
    pub vlan: Option<u16>,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (valid when `flags` has ACK).
    pub ack: u32,
    /// TCP flags.
    pub flags: TcpFlags,
    /// Receive window (unscaled).
    pub window: u16,
    /// The payload bytes that were captured.
    pub payload: &'a [u8],
    /// The payload length the IP and TCP headers announce. Larger than `payload.len()` when the
    /// snap length cut the frame: the missing tail is a gap for the reassembler.
    pub payload_len: u32,
}
