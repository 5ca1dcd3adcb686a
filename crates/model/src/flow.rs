//! Addresses, tunnels and directions: what identifies a flow.

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;

/// One end of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Endpoint {
    /// IPv4 or IPv6 address.
    pub ip: IpAddr,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// Builds an endpoint.
    pub fn new(ip: IpAddr, port: u16) -> Self {
        Endpoint { ip, port }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(ip) => write!(f, "{ip}:{}", self.port),
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}", self.port),
        }
    }
}

/// The kind of encapsulation a mirrored packet arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TunnelKind {
    /// VXLAN (RFC 7348); id is the 24-bit VNI. AWS VPC Traffic Mirroring uses it.
    Vxlan,
    /// GENEVE (RFC 8926); id is the 24-bit VNI.
    Geneve,
    /// GRE (RFC 2784/2890), IP or transparent Ethernet bridging; id is the key when present, else 0.
    Gre,
    /// ERSPAN type II; id is the 10-bit session id.
    #[serde(rename = "erspan2")]
    ErspanII,
    /// ERSPAN type III; id is the 10-bit session id.
    #[serde(rename = "erspan3")]
    ErspanIII,
    /// IP-in-IP (IPv4 or IPv6 inside IPv4 or IPv6); id is 0.
    #[serde(rename = "ipip")]
    IpInIp,
}

/// One layer of encapsulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Tunnel {
    /// Which encapsulation.
    pub kind: TunnelKind,
    /// VNI, GRE key or ERSPAN session id (0 when the encapsulation has none).
    pub id: u32,
}

/// The tunnels a packet was unwrapped from, outermost first. Fixed size and `Copy` so that
/// it can sit in a flow key without allocating; deeper nesting than [`TunnelPath::MAX`] is
/// recorded as the outermost layers only.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TunnelPath {
    layers: [Option<Tunnel>; TunnelPath::MAX],
}

impl TunnelPath {
    /// How many layers a path records.
    pub const MAX: usize = 4;

    /// Appends an inner layer. Returns false (and records nothing) when the path is full.
    pub fn push(&mut self, t: Tunnel) -> bool {
        match self.layers.iter_mut().find(|l| l.is_none()) {
            Some(slot) => {
                *slot = Some(t);
                true
            }
            None => false,
        }
    }

    /// The layers, outermost first.
    pub fn iter(&self) -> impl Iterator<Item = &Tunnel> {
        self.layers.iter().map_while(|l| l.as_ref())
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True for traffic that was not encapsulated.
    pub fn is_empty(&self) -> bool {
        self.layers[0].is_none()
    }

    /// The innermost layer, the one closest to the flow.
    pub fn innermost(&self) -> Option<&Tunnel> {
        self.iter().last()
    }
}

impl fmt::Debug for TunnelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for TunnelPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for t in self.iter() {
            seq.serialize_element(t)?;
        }
        seq.end()
    }
}

/// Which way bytes travel on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the client (the side that opened the connection) to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Self {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }

    /// 0 for `ToServer`, 1 for `ToClient`: an index into per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// A connection's number, unique within one run of the pipeline (assigned by the reassembler).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FlowId(pub u64);

/// TCP header flags, as the low byte of the flags field (CWR ECE URG ACK PSH RST SYN FIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN: the sender has no more data.
    pub const FIN: u8 = 0x01;
    /// SYN: synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// RST: reset the connection.
    pub const RST: u8 = 0x04;
    /// PSH: push.
    pub const PSH: u8 = 0x08;
    /// ACK: the acknowledgment field is valid.
    pub const ACK: u8 = 0x10;

    /// True when every bit of `mask` is set.
    pub fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
    /// SYN set.
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    /// ACK set.
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    /// FIN set.
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    /// RST set.
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnel_path_keeps_order_and_caps() {
        let mut p = TunnelPath::default();
        assert!(p.is_empty());
        for id in 0..6 {
            let pushed = p.push(Tunnel {
                kind: TunnelKind::Vxlan,
                id,
            });
            assert_eq!(pushed, (id as usize) < TunnelPath::MAX);
        }
        assert_eq!(p.len(), TunnelPath::MAX);
        assert_eq!(p.iter().next().map(|t| t.id), Some(0));
        assert_eq!(p.innermost().map(|t| t.id), Some(3));
        let json = serde_json::to_string(&p).unwrap_or_default();
        assert!(json.starts_with(r#"[{"kind":"vxlan","id":0}"#), "{json}");
    }

    #[test]
    fn endpoint_display_brackets_v6() {
        let e = Endpoint::new("::1".parse().unwrap_or(IpAddr::from([0u8; 16])), 80);
        assert_eq!(e.to_string(), "[::1]:80");
    }
}
