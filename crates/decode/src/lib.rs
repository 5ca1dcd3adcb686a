//! Periscope's decode stage: a captured [`Frame`] in, one TCP [`Segment`] (or the reason there
//! is none) out.
//!
//! **Owns:** link layers (Ethernet, Linux cooked SLL/SLL2, raw IPv4/IPv6, BSD loopback
//! NULL/LOOP, Cisco HDLC, PPP, PPPoE sessions), 802.1Q/802.1ad/QinQ tags (the innermost VLAN id
//! goes to [`Segment::vlan`]), MPLS label stacks, IPv4 and IPv6 (extension headers, bounded
//! fragment reassembly), tunnels nested in any order — VXLAN, GENEVE (including AWS Gateway
//! Load Balancer packets whose inner packet is itself VXLAN), GRE, ERSPAN II/III, IP-in-IP —
//! each recorded on [`Segment::tunnel`] outermost first, and the TCP header. Frames of the
//! pseudo link types [`LinkType::Vxlan`](periscope_model::LinkType::Vxlan) and
//! [`LinkType::Geneve`](periscope_model::LinkType::Geneve) (UDP payloads from a mirror
//! listener) start at the tunnel header and go through the same tunnel code.
//!
//! **Input/output:** [`Decoder::decode`] takes a [`Frame`] and returns a [`Decoded`]: a
//! [`Segment`] borrowing the frame's bytes (or the defragmenter's buffer, for a reassembled
//! datagram), [`Decoded::Held`] for a fragment kept for later, or why it was skipped or
//! malformed. Everything is counted in [`DecodeStats`].
//!
//! **Cost and limits:** no allocation and no hashing per packet: headers are views over the
//! frame (etherparse slices, and small views for VXLAN, GENEVE, GRE and ERSPAN); only
//! fragments touch the reassembly table, which is capped in datagrams, bytes, fragments per
//! datagram and time ([`DefragConfig`]). Tunnel nesting is capped by
//! [`DecodeConfig::max_tunnel_depth`]. A frame cut by the snap length yields a segment whose
//! `payload` is shorter than `payload_len`; lengths beyond an *uncut* frame are malformed.
//! Decoding never panics on any input.
//!
//! ```
//! use periscope_decode::{Decoded, Decoder};
//! use periscope_model::{Frame, LinkType, Timestamp};
//!
//! let mut decoder = Decoder::default();
//! // An ARP request is not TCP: skipped and counted.
//! let mut arp = vec![0xff; 6];
//! arp.extend_from_slice(&[0, 1, 2, 3, 4, 5, 0x08, 0x06]);
//! arp.extend_from_slice(&[0; 28]);
//! let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &arp, orig_len: 42 };
//! assert!(matches!(decoder.decode(&frame), Decoded::Skipped(_)));
//! assert_eq!(decoder.stats().frames, 1);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod bytes;
mod config;
mod defrag;
mod error;
mod erspan;
mod geneve;
mod gre;
mod link;
mod stats;
mod vxlan;
mod walk;

#[cfg(test)]
mod tests;

pub use config::{ConfigError, DecodeConfig, DefragConfig};
pub use error::{DecodeError, Layer, MalformedKind, SkipReason};
pub use erspan::{ErspanFrameType, ErspanII, ErspanIII};
pub use geneve::Geneve;
pub use gre::Gre;
pub use stats::{DecodeStats, FragmentStats};
pub use vxlan::Vxlan;

use defrag::{Defrag, Insert};
use periscope_model::{Frame, Segment, Timestamp, TunnelPath};
use walk::{Ctx, Out, Walker};

/// The result of decoding one frame.
#[derive(Debug, Clone, Copy)]
pub enum Decoded<'a> {
    /// A TCP segment.
    Tcp(Segment<'a>),
    /// An IP fragment, kept until its datagram completes.
    Held,
    /// Well-formed but not a TCP segment (or not decodable by choice).
    Skipped(SkipReason),
    /// Malformed: what and where.
    Malformed(DecodeError),
}

/// Decodes frames into TCP segments. One per worker thread; it keeps the counters and the
/// fragment reassembly table. `Default` uses [`DecodeConfig::default`].
#[derive(Default)]
pub struct Decoder {
    cfg: DecodeConfig,
    stats: DecodeStats,
    defrag: Defrag,
}

impl Decoder {
    /// Builds a decoder, rejecting a configuration that cannot work.
    pub fn new(cfg: DecodeConfig) -> Result<Decoder, ConfigError> {
        cfg.validate()?;
        Ok(Decoder {
            cfg,
            stats: DecodeStats::default(),
            defrag: Defrag::default(),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &DecodeConfig {
        &self.cfg
    }

    /// Counters so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Decodes one frame. The segment borrows the frame's bytes, or the decoder's reassembly
    /// buffer (hence `&'a mut self`): drop it before the next call.
    pub fn decode<'a>(&'a mut self, frame: &Frame<'a>) -> Decoded<'a> {
        let Decoder { cfg, stats, defrag } = self;
        stats.frames += 1;
        let ctx = Ctx {
            ts: frame.ts,
            cut: (frame.data.len() as u64) < u64::from(frame.orig_len),
            tunnel: TunnelPath::default(),
            vlan: None,
            depth: 0,
            reassembled: false,
        };
        let mut walker = Walker {
            cfg,
            stats,
            root: frame.data,
            segment: None,
            fragment: None,
        };
        let decoded = match walker.link(ctx, frame.link, frame.data) {
            Out::Tcp => walker
                .segment
                .map_or(Decoded::Skipped(SkipReason::NotIp), Decoded::Tcp),
            Out::Skip(r) => Decoded::Skipped(r),
            Out::Bad(e) => Decoded::Malformed(e),
            Out::Frag => {
                let Some(f) = walker.fragment else {
                    return Decoded::Skipped(SkipReason::FragmentDropped);
                };
                match defrag.insert(f, &cfg.defrag, &mut walker.stats.fragments) {
                    Insert::Held => Decoded::Held,
                    Insert::Skipped(r) => Decoded::Skipped(r),
                    Insert::Malformed(e) => Decoded::Malformed(e),
                    Insert::Complete(done) => {
                        let defrag: &'a Defrag = defrag;
                        let payload = defrag.completed();
                        let mut walker = Walker {
                            cfg,
                            stats: walker.stats,
                            root: payload,
                            segment: None,
                            fragment: None,
                        };
                        let out = match walker.reassembled(ctx, done, payload) {
                            Out::Tcp => walker
                                .segment
                                .map_or(Decoded::Skipped(SkipReason::NotIp), Decoded::Tcp),
                            Out::Skip(r) => Decoded::Skipped(r),
                            Out::Bad(e) => Decoded::Malformed(e),
                            Out::Frag => Decoded::Skipped(SkipReason::NestedFragment),
                        };
                        count(walker.stats, &out);
                        return out;
                    }
                }
            }
        };
        count(walker.stats, &decoded);
        decoded
    }

    /// Abandons fragment reassemblies older than the configured timeout at capture time `now`
    /// (also done whenever a fragment arrives). Call it when traffic is idle.
    pub fn expire_fragments(&mut self, now: Timestamp) {
        self.defrag
            .expire(now, &self.cfg.defrag, &mut self.stats.fragments);
    }
}

fn count(stats: &mut DecodeStats, d: &Decoded<'_>) {
    match d {
        Decoded::Tcp(_) => stats.tcp_segments += 1,
        Decoded::Held => {}
        Decoded::Skipped(r) => stats.count_skip(*r),
        Decoded::Malformed(e) => stats.count_malformed(e.kind),
    }
}
