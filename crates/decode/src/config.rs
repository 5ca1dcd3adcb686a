//! Decoder configuration: which UDP ports carry tunnels, whether to unwrap them at all, and the
//! limits of IP defragmentation. Every field has a documented default (`Default`), and
//! [`DecodeConfig::validate`] rejects nonsense at start-up rather than mid-traffic.

use serde::Deserialize;
use thiserror::Error;

/// How frames are decoded. Deserialize from the `decode` section of the config file; missing
/// fields take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecodeConfig {
    /// Unwrap tunnels (VXLAN, GENEVE, GRE, ERSPAN, IP-in-IP). When false, tunnel packets are
    /// skipped with [`crate::SkipReason::TunnelsDisabled`]. Default: true.
    pub decode_tunnels: bool,
    /// UDP destination ports decoded as VXLAN. Default: `[4789]` (IANA; AWS VPC Traffic
    /// Mirroring sends to it).
    pub vxlan_ports: Vec<u16>,
    /// UDP destination ports decoded as GENEVE. Default: `[6081]` (IANA; AWS Gateway Load
    /// Balancer uses it).
    pub geneve_ports: Vec<u16>,
    /// Most tunnels unwrapped from one frame; deeper nesting is malformed
    /// ([`crate::MalformedKind::TooDeep`]). Default: 8. At most 32.
    pub max_tunnel_depth: u8,
    /// IP fragment reassembly.
    pub defrag: DefragConfig,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig {
            decode_tunnels: true,
            vxlan_ports: vec![4789],
            geneve_ports: vec![6081],
            max_tunnel_depth: 8,
            defrag: DefragConfig::default(),
        }
    }
}

/// Limits of IPv4/IPv6 fragment reassembly. The table is keyed by traffic, so every dimension
/// is capped; what a cap throws away is counted in [`crate::FragmentStats`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DefragConfig {
    /// Reassemble fragmented datagrams. When false, fragments are skipped with
    /// [`crate::SkipReason::DefragDisabled`]. Default: true.
    pub enabled: bool,
    /// Datagrams being reassembled at once; a new one beyond this evicts the oldest.
    /// Default: 1024.
    pub max_datagrams: usize,
    /// Bytes buffered over all datagrams; going beyond evicts the oldest datagrams.
    /// Default: 16 MiB.
    pub max_bytes: usize,
    /// Fragments accepted per datagram; more drops the datagram (tiny-fragment floods).
    /// Default: 64.
    pub max_fragments: usize,
    /// Capture-time seconds after a datagram's first fragment at which it is abandoned.
    /// Default: 30 (Linux `ipfrag_time`).
    pub timeout_secs: u64,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            enabled: true,
            max_datagrams: 1024,
            max_bytes: 16 * 1024 * 1024,
            max_fragments: 64,
            timeout_secs: 30,
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `max_tunnel_depth` is 0 or above 32.
    #[error("decode.max_tunnel_depth must be between 1 and 32, got {0}")]
    TunnelDepth(u8),
    /// A UDP port is listed both as VXLAN and as GENEVE.
    #[error("UDP port {0} is listed in both decode.vxlan_ports and decode.geneve_ports")]
    PortInBoth(u16),
    /// A defragmentation limit is zero while defragmentation is enabled.
    #[error("decode.defrag.{0} must be greater than 0 when defrag is enabled")]
    DefragLimit(&'static str),
}

impl DecodeConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_tunnel_depth == 0 || self.max_tunnel_depth > 32 {
            return Err(ConfigError::TunnelDepth(self.max_tunnel_depth));
        }
        if let Some(p) = self
            .vxlan_ports
            .iter()
            .find(|p| self.geneve_ports.contains(p))
        {
            return Err(ConfigError::PortInBoth(*p));
        }
        let d = &self.defrag;
        if d.enabled {
            for (name, v) in [
                ("max_datagrams", d.max_datagrams),
                ("max_bytes", d.max_bytes),
                ("max_fragments", d.max_fragments),
                ("timeout_secs", d.timeout_secs as usize),
            ] {
                if v == 0 {
                    return Err(ConfigError::DefragLimit(name));
                }
            }
        }
        Ok(())
    }
}
