//! Why a frame produced no segment: skip reasons (not TCP, or not for us) and malformed-input
//! errors. Both are plain `Copy` values (no allocation on the hot path) with stable snake_case
//! names used as metric labels.

use std::fmt;
use thiserror::Error;

macro_rules! labelled_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $label:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $v,)*
        }
        impl $name {
            /// Every value, in declaration order (for exporting counters).
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            /// Stable snake_case label, for metrics and logs.
            pub fn name(self) -> &'static str {
                match self { $($name::$v => $label,)* }
            }
            #[allow(dead_code)] // not every label set indexes a counter array
            pub(crate) fn index(self) -> usize {
                self as usize
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

labelled_enum! {
    /// Why a well-formed frame yields no TCP segment.
    SkipReason {
        /// The capture's link type is not decoded.
        UnsupportedLinkType => "unsupported_link_type",
        /// Not IP: unknown EtherType, 802.3/LLC frame, PPP control protocol, PPPoE discovery,
        /// unknown loopback address family.
        NotIp => "not_ip",
        /// ARP or RARP.
        Arp => "arp",
        /// UDP that is not a configured tunnel port.
        Udp => "udp",
        /// ICMP or ICMPv6.
        Icmp => "icmp",
        /// Another IP protocol (SCTP, OSPF, ...).
        OtherIpProtocol => "other_ip_protocol",
        /// IPsec ESP: encrypted, nothing to see.
        Encrypted => "encrypted",
        /// IPv6 "no next header".
        NoNextHeader => "no_next_header",
        /// A tunnel packet while `decode_tunnels` is false.
        TunnelsDisabled => "tunnels_disabled",
        /// A tunnel whose payload type is not decoded (e.g. GRE carrying PPP, ERSPAN frame
        /// type other than Ethernet/IP, MPLS pseudowire without Ethernet).
        UnknownTunnelPayload => "unknown_tunnel_payload",
        /// An IP fragment while defragmentation is disabled.
        DefragDisabled => "defrag_disabled",
        /// A fragment inside an already reassembled datagram (reassembly is one level deep).
        NestedFragment => "nested_fragment",
        /// A fragment, or its whole datagram, was dropped by a defragmentation cap.
        FragmentDropped => "fragment_dropped",
    }
}

labelled_enum! {
    /// What is wrong with a malformed frame.
    MalformedKind {
        /// A header is longer than the bytes captured.
        Truncated => "truncated",
        /// Wrong IP version nibble.
        BadVersion => "bad_version",
        /// A header length field is impossible (IPv4 IHL < 5, TCP data offset < 5, IPv6
        /// extension or GENEVE options running past the end).
        BadHeaderLength => "bad_header_length",
        /// A total/payload length field is impossible (smaller than the header, or beyond the
        /// frame when the frame was not cut by the snap length).
        BadLength => "bad_length",
        /// A tunnel header with a wrong version or flags.
        BadTunnelHeader => "bad_tunnel_header",
        /// More nested tunnels than `max_tunnel_depth`.
        TooDeep => "too_deep",
        /// More VLAN tags, MPLS labels or IPv6 extension headers than we walk.
        TooManyHeaders => "too_many_headers",
        /// A fragment that cannot be part of a valid datagram (length not a multiple of 8, end
        /// beyond 65535, cut by the snap length, conflicting end).
        BadFragment => "bad_fragment",
        /// Overlapping IPv6 fragments: the datagram is dropped (RFC 5722).
        FragmentOverlap => "fragment_overlap",
    }
}

labelled_enum! {
    /// The protocol layer where a problem was found.
    Layer {
        /// Link layer framing (SLL, loopback, HDLC).
        Link => "link",
        /// Ethernet II.
        Ethernet => "ethernet",
        /// 802.1Q/802.1ad tag.
        Vlan => "vlan",
        /// MPLS label stack.
        Mpls => "mpls",
        /// PPPoE session header.
        Pppoe => "pppoe",
        /// PPP.
        Ppp => "ppp",
        /// IPv4 header.
        Ipv4 => "ipv4",
        /// IPv6 header.
        Ipv6 => "ipv6",
        /// IPv6 extension header.
        Ipv6Ext => "ipv6_ext",
        /// IP fragment reassembly.
        Fragment => "fragment",
        /// TCP header.
        Tcp => "tcp",
        /// UDP header.
        Udp => "udp",
        /// VXLAN header.
        Vxlan => "vxlan",
        /// GENEVE header.
        Geneve => "geneve",
        /// GRE header.
        Gre => "gre",
        /// ERSPAN header.
        Erspan => "erspan",
        /// Tunnel nesting.
        Tunnel => "tunnel",
    }
}

/// A malformed frame: what is wrong, in which layer, and where that layer starts (byte offset
/// in the frame, or in the reassembled datagram when `layer` follows reassembly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{kind} in {layer} header at byte {offset}")]
pub struct DecodeError {
    /// The problem.
    pub kind: MalformedKind,
    /// The layer.
    pub layer: Layer,
    /// Offset of the layer's first byte.
    pub offset: usize,
}
