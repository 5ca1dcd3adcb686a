//! The layer walk: link → (VLAN/MPLS/PPPoE) → IP → (tunnel → ...)* → TCP.
//!
//! Each handler takes the bytes of its layer and returns an [`Out`]: a final result, or a
//! fragment for the caller to hand to the defragmenter (the walker holds no `&mut` to it, so
//! that a reassembled datagram can be lent out while the counters are still updated).

use crate::bytes::u8_at;
use crate::config::DecodeConfig;
use crate::defrag::{Completed, FragKey, Fragment};
use crate::error::{DecodeError, Layer, MalformedKind, SkipReason};
use crate::erspan::{ErspanFrameType, ErspanII, ErspanIII};
use crate::geneve::Geneve;
use crate::gre::Gre;
use crate::link::{self, Family};
use crate::stats::DecodeStats;
use crate::vxlan::Vxlan;
use etherparse::{
    Ethernet2HeaderSlice, IpAuthHeaderSlice, Ipv4HeaderSlice, Ipv6FragmentHeaderSlice,
    Ipv6HeaderSlice, Ipv6RawExtHeaderSlice, SingleVlanHeaderSlice, TcpHeaderSlice, UdpHeaderSlice,
};
use periscope_model::{
    Endpoint, LinkType, Segment, TcpFlags, Timestamp, Tunnel, TunnelKind, TunnelPath,
};
use std::net::IpAddr;

const ETH_IPV4: u16 = 0x0800;
const ETH_ARP: u16 = 0x0806;
const ETH_RARP: u16 = 0x8035;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
const ETH_IPV6: u16 = 0x86dd;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;
const ETH_PPPOE_DISCOVERY: u16 = 0x8863;
const ETH_PPPOE_SESSION: u16 = 0x8864;
const ETH_TEB: u16 = 0x6558;
const ETH_ERSPAN_II: u16 = 0x88be;
const ETH_ERSPAN_III: u16 = 0x22eb;

const MAX_VLAN_TAGS: usize = 8;
const MAX_IPV6_EXT: usize = 16;

/// What the walk knows about the packet so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    pub ts: Timestamp,
    /// The frame was cut by the snap length: lengths beyond the buffer are expected, not lies.
    pub cut: bool,
    pub tunnel: TunnelPath,
    pub vlan: Option<u16>,
    /// Tunnels unwrapped so far.
    pub depth: u8,
    /// Decoding a reassembled datagram: no second level of reassembly.
    pub reassembled: bool,
}

/// What a layer handler found. Kept register-sized so that the layers do not copy a 120-byte
/// value on every return: the segment or fragment itself is stored in the walker.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Out {
    /// A TCP segment is in [`Walker::segment`].
    Tcp,
    /// A fragment is in [`Walker::fragment`].
    Frag,
    Skip(SkipReason),
    Bad(DecodeError),
}

fn malformed(kind: MalformedKind, layer: Layer, offset: usize) -> Out {
    Out::Bad(DecodeError {
        kind,
        layer,
        offset,
    })
}

fn skip(r: SkipReason) -> Out {
    Out::Skip(r)
}

pub(crate) struct Walker<'c, 'a> {
    pub cfg: &'c DecodeConfig,
    pub stats: &'c mut DecodeStats,
    /// The buffer being decoded, for error offsets.
    pub root: &'a [u8],
    /// Set when the walk returns [`Out::Tcp`].
    pub segment: Option<Segment<'a>>,
    /// Set when the walk returns [`Out::Frag`].
    pub fragment: Option<Fragment<'a>>,
}

impl<'a> Walker<'_, 'a> {
    /// Offset of `s` in the root buffer (all slices handled are views into it).
    fn at(&self, s: &[u8]) -> usize {
        (s.as_ptr() as usize).saturating_sub(self.root.as_ptr() as usize)
    }

    fn fail(&self, e: DecodeError, s: &[u8]) -> Out {
        Out::Bad(DecodeError {
            offset: e.offset + self.at(s),
            ..e
        })
    }

    pub(crate) fn link(&mut self, ctx: Ctx, link: LinkType, b: &'a [u8]) -> Out {
        match link {
            LinkType::Ethernet => self.ethernet(ctx, b),
            LinkType::Raw => self.ip_by_version(ctx, b),
            LinkType::Ipv4 => self.ipv4(ctx, b),
            LinkType::Ipv6 => self.ipv6(ctx, b),
            LinkType::Null | LinkType::Loop => {
                let r = if link == LinkType::Null {
                    link::null(b)
                } else {
                    link::loop_(b)
                };
                match r {
                    Ok((Family::V4, rest)) => self.ipv4(ctx, rest),
                    Ok((Family::V6, rest)) => self.ipv6(ctx, rest),
                    Ok((Family::Other, _)) => skip(SkipReason::NotIp),
                    Err(e) => self.fail(e, b),
                }
            }
            LinkType::LinuxSll => match link::sll(b) {
                Ok((proto, rest)) => self.ethertype(ctx, proto, rest),
                Err(e) => self.fail(e, b),
            },
            LinkType::LinuxSll2 => match link::sll2(b) {
                Ok((proto, rest)) => self.ethertype(ctx, proto, rest),
                Err(e) => self.fail(e, b),
            },
            // LINKTYPE_PPP_HDLC (50) and LINKTYPE_C_HDLC (104) share this variant: PPP in HDLC
            // framing starts with 0xFF 0x03, Cisco HDLC with 0x0F or 0x8F.
            LinkType::CiscoHdlc if b.starts_with(&[0xff, 0x03]) => self.ppp(ctx, b),
            LinkType::CiscoHdlc => match link::cisco_hdlc(b) {
                Ok((proto, rest)) => self.ethertype(ctx, proto, rest),
                Err(e) => self.fail(e, b),
            },
            LinkType::Ppp => self.ppp(ctx, b),
            LinkType::Vxlan => self.vxlan(ctx, b),
            LinkType::Geneve => self.geneve(ctx, b),
            LinkType::Other(_) => skip(SkipReason::UnsupportedLinkType),
        }
    }

    fn ppp(&mut self, ctx: Ctx, b: &'a [u8]) -> Out {
        match link::ppp(b) {
            Ok((proto, rest)) => self.ppp_protocol(ctx, proto, rest),
            Err(e) => self.fail(e, b),
        }
    }

    fn ppp_protocol(&mut self, ctx: Ctx, proto: u16, rest: &'a [u8]) -> Out {
        match proto {
            link::PPP_IPV4 => self.ipv4(ctx, rest),
            link::PPP_IPV6 => self.ipv6(ctx, rest),
            link::PPP_MPLS => self.mpls(ctx, rest),
            _ => skip(SkipReason::NotIp),
        }
    }

    fn ip_by_version(&mut self, ctx: Ctx, b: &'a [u8]) -> Out {
        match b.first().map(|v| v >> 4) {
            Some(4) => self.ipv4(ctx, b),
            Some(6) => self.ipv6(ctx, b),
            Some(_) => malformed(MalformedKind::BadVersion, Layer::Ipv4, self.at(b)),
            None => malformed(MalformedKind::Truncated, Layer::Ipv4, self.at(b)),
        }
    }

    fn ethernet(&mut self, ctx: Ctx, b: &'a [u8]) -> Out {
        match Ethernet2HeaderSlice::from_slice(b) {
            Ok(h) => self.ethertype(
                ctx,
                h.ether_type().0,
                crate::bytes::tail(b, h.slice().len()),
            ),
            Err(_) => malformed(MalformedKind::Truncated, Layer::Ethernet, self.at(b)),
        }
    }

    fn ethertype(&mut self, mut ctx: Ctx, mut et: u16, mut b: &'a [u8]) -> Out {
        let mut tags = 0;
        loop {
            match et {
                ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD => {
                    tags += 1;
                    if tags > MAX_VLAN_TAGS {
                        return malformed(MalformedKind::TooManyHeaders, Layer::Vlan, self.at(b));
                    }
                    let Ok(v) = SingleVlanHeaderSlice::from_slice(b) else {
                        return malformed(MalformedKind::Truncated, Layer::Vlan, self.at(b));
                    };
                    if tags == 1 {
                        self.stats.vlan_tagged += 1;
                    }
                    ctx.vlan = Some(v.vlan_identifier().value());
                    et = v.ether_type().0;
                    b = crate::bytes::tail(b, v.slice().len());
                }
                ETH_IPV4 => return self.ipv4(ctx, b),
                ETH_IPV6 => return self.ipv6(ctx, b),
                ETH_ARP | ETH_RARP => return skip(SkipReason::Arp),
                ETH_MPLS | ETH_MPLS_MC => return self.mpls(ctx, b),
                ETH_PPPOE_SESSION => {
                    self.stats.pppoe += 1;
                    return match link::pppoe_session(b) {
                        Ok((proto, rest)) => self.ppp_protocol(ctx, proto, rest),
                        Err(e) => self.fail(e, b),
                    };
                }
                ETH_PPPOE_DISCOVERY => return skip(SkipReason::NotIp),
                // Below 0x0600 the field is an 802.3 length (LLC/SNAP follows); other
                // EtherTypes are not IP.
                _ => return skip(SkipReason::NotIp),
            }
        }
    }

    fn mpls(&mut self, ctx: Ctx, b: &'a [u8]) -> Out {
        self.stats.mpls += 1;
        let rest = match link::mpls(b) {
            Ok(rest) => rest,
            Err(e) => return self.fail(e, b),
        };
        // MPLS does not say what it carries: IP announces itself by its version nibble; an
        // Ethernet pseudowire starts with a zero control word (RFC 4385).
        match rest.first().map(|v| v >> 4) {
            Some(4) => self.ipv4(ctx, rest),
            Some(6) => self.ipv6(ctx, rest),
            Some(0) if rest.len() >= 4 => self.ethernet(ctx, crate::bytes::tail(rest, 4)),
            Some(_) => skip(SkipReason::UnknownTunnelPayload),
            None => malformed(MalformedKind::Truncated, Layer::Mpls, self.at(rest)),
        }
    }

    /// Checks that an IP length field fits the captured bytes. Returns where the captured part
    /// of the layer ends within `b`; `None` when the length lies about an uncut frame.
    fn ip_extent(&self, ctx: &Ctx, b: &[u8], announced_end: usize) -> Option<usize> {
        if announced_end > b.len() && !ctx.cut {
            return None;
        }
        Some(announced_end.min(b.len()))
    }

    fn ipv4(&mut self, ctx: Ctx, b: &'a [u8]) -> Out {
        let h = match Ipv4HeaderSlice::from_slice(b) {
            Ok(h) => h,
            Err(etherparse::err::ipv4::HeaderSliceError::Len(_)) => {
                return malformed(MalformedKind::Truncated, Layer::Ipv4, self.at(b))
            }
            Err(etherparse::err::ipv4::HeaderSliceError::Content(c)) => {
                let kind = match c {
                    etherparse::err::ipv4::HeaderError::UnexpectedVersion { .. } => {
                        MalformedKind::BadVersion
                    }
                    etherparse::err::ipv4::HeaderError::HeaderLengthSmallerThanHeader {
                        ..
                    } => MalformedKind::BadHeaderLength,
                };
                return malformed(kind, Layer::Ipv4, self.at(b));
            }
        };
        let hl = h.slice().len();
        let fragmented = h.more_fragments() || h.fragments_offset().value() != 0;
        let mut total = usize::from(h.total_len());
        if total == 0 && !fragmented {
            // Captured on the sending host before TCP segmentation offload split the packet.
            self.stats.ipv4_zero_total_len += 1;
            total = b.len();
        }
        if total < hl {
            return malformed(MalformedKind::BadLength, Layer::Ipv4, self.at(b));
        }
        let Some(end) = self.ip_extent(&ctx, b, total) else {
            return malformed(MalformedKind::BadLength, Layer::Ipv4, self.at(b));
        };
        let payload = b.get(hl..end).unwrap_or(&[]);
        let announced = total - hl;
        let src = IpAddr::V4(h.source_addr());
        let dst = IpAddr::V4(h.destination_addr());
        let proto = h.protocol().0;
        if fragmented {
            return self.fragment(
                ctx,
                FragKey {
                    src,
                    dst,
                    id: u32::from(h.identification()),
                    proto,
                    tunnel: ctx.tunnel,
                    vlan: ctx.vlan,
                },
                usize::from(h.fragments_offset().value()) * 8,
                h.more_fragments(),
                payload,
                announced,
                false,
            );
        }
        self.ip_payload(ctx, src, dst, proto, payload, announced)
    }

    #[allow(clippy::too_many_arguments)]
    fn fragment(
        &mut self,
        ctx: Ctx,
        key: FragKey,
        offset: usize,
        more: bool,
        data: &'a [u8],
        announced: usize,
        v6: bool,
    ) -> Out {
        if !self.cfg.defrag.enabled {
            return skip(SkipReason::DefragDisabled);
        }
        if ctx.reassembled {
            return skip(SkipReason::NestedFragment);
        }
        self.fragment = Some(Fragment {
            key,
            offset,
            more,
            data,
            announced,
            v6,
            depth: ctx.depth,
            ts: ctx.ts,
        });
        Out::Frag
    }

    fn ipv6(&mut self, ctx: Ctx, b: &'a [u8]) -> Out {
        let h = match Ipv6HeaderSlice::from_slice(b) {
            Ok(h) => h,
            Err(etherparse::err::ipv6::HeaderSliceError::Len(_)) => {
                return malformed(MalformedKind::Truncated, Layer::Ipv6, self.at(b))
            }
            Err(etherparse::err::ipv6::HeaderSliceError::Content(_)) => {
                return malformed(MalformedKind::BadVersion, Layer::Ipv6, self.at(b))
            }
        };
        let hl = h.slice().len();
        let plen = usize::from(h.payload_length());
        // 0 means a jumbogram (or TSO on the capturing host): take what was captured.
        let total = if plen == 0 { b.len() } else { hl + plen };
        let Some(end) = self.ip_extent(&ctx, b, total) else {
            return malformed(MalformedKind::BadLength, Layer::Ipv6, self.at(b));
        };
        let payload = b.get(hl..end).unwrap_or(&[]);
        let src = IpAddr::V6(h.source_addr());
        let dst = IpAddr::V6(h.destination_addr());
        self.ipv6_ext(ctx, src, dst, h.next_header().0, payload, total - hl)
    }

    /// Walks IPv6 extension headers up to the upper-layer protocol or a fragment header.
    fn ipv6_ext(
        &mut self,
        ctx: Ctx,
        src: IpAddr,
        dst: IpAddr,
        mut nh: u8,
        mut b: &'a [u8],
        mut announced: usize,
    ) -> Out {
        for _ in 0..MAX_IPV6_EXT {
            let len = match nh {
                // Hop-by-hop, routing, destination options: (len + 1) * 8 bytes.
                0 | 43 | 60 => match Ipv6RawExtHeaderSlice::from_slice(b) {
                    Ok(x) => {
                        nh = x.next_header().0;
                        x.slice().len()
                    }
                    Err(_) => return self.ext_error(b, announced),
                },
                // Authentication header: (len + 2) * 4 bytes.
                51 => match IpAuthHeaderSlice::from_slice(b) {
                    Ok(x) => {
                        nh = x.next_header().0;
                        x.slice().len()
                    }
                    Err(_) => return self.ext_error(b, announced),
                },
                44 => {
                    let Ok(f) = Ipv6FragmentHeaderSlice::from_slice(b) else {
                        return self.ext_error(b, announced);
                    };
                    let len = f.slice().len();
                    let rest = crate::bytes::tail(b, len);
                    let Some(rest_announced) = announced.checked_sub(len) else {
                        return malformed(MalformedKind::BadLength, Layer::Ipv6Ext, self.at(b));
                    };
                    let offset = usize::from(f.fragment_offset().value()) * 8;
                    if offset == 0 && !f.more_fragments() {
                        // Atomic fragment (RFC 6946): not really fragmented.
                        nh = f.next_header().0;
                        b = rest;
                        announced = rest_announced;
                        continue;
                    }
                    let key = FragKey {
                        src,
                        dst,
                        id: f.identification(),
                        proto: f.next_header().0,
                        tunnel: ctx.tunnel,
                        vlan: ctx.vlan,
                    };
                    return self.fragment(
                        ctx,
                        key,
                        offset,
                        f.more_fragments(),
                        rest,
                        rest_announced,
                        true,
                    );
                }
                50 => return skip(SkipReason::Encrypted),
                59 => return skip(SkipReason::NoNextHeader),
                _ => return self.ip_payload(ctx, src, dst, nh, b, announced),
            };
            let Some(a) = announced.checked_sub(len) else {
                return malformed(MalformedKind::BadLength, Layer::Ipv6Ext, self.at(b));
            };
            announced = a;
            b = crate::bytes::tail(b, len);
        }
        malformed(MalformedKind::TooManyHeaders, Layer::Ipv6Ext, self.at(b))
    }

    fn ext_error(&self, b: &[u8], announced: usize) -> Out {
        // Running out of captured bytes inside an extension header is truncation when the
        // header was cut; otherwise its length field points past the packet.
        let kind = if b.len() < announced {
            MalformedKind::Truncated
        } else {
            MalformedKind::BadHeaderLength
        };
        malformed(kind, Layer::Ipv6Ext, self.at(b))
    }

    /// Continues with a datagram completed by the defragmenter.
    pub(crate) fn reassembled(&mut self, ctx: Ctx, done: Completed, payload: &'a [u8]) -> Out {
        // Every fragment was complete (cut fragments are refused), so the datagram is too.
        let ctx = Ctx {
            tunnel: done.key.tunnel,
            vlan: done.key.vlan,
            depth: done.depth,
            reassembled: true,
            cut: false,
            ..ctx
        };
        let (src, dst, proto, len) = (done.key.src, done.key.dst, done.key.proto, payload.len());
        if done.v6 {
            self.ipv6_ext(ctx, src, dst, proto, payload, len)
        } else {
            self.ip_payload(ctx, src, dst, proto, payload, len)
        }
    }

    /// The upper-layer protocol of an IP packet. `b` is what was captured of the payload,
    /// `announced` its length according to the IP header.
    fn ip_payload(
        &mut self,
        ctx: Ctx,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        b: &'a [u8],
        announced: usize,
    ) -> Out {
        match proto {
            6 => self.tcp(ctx, src, dst, b, announced),
            17 => self.udp(ctx, b, announced),
            1 | 58 => skip(SkipReason::Icmp),
            4 | 41 => {
                let ctx = match self.enter(ctx, TunnelKind::IpInIp, 0, b) {
                    Ok(c) => c,
                    Err(out) => return out,
                };
                if proto == 4 {
                    self.ipv4(ctx, b)
                } else {
                    self.ipv6(ctx, b)
                }
            }
            47 => self.gre(ctx, b),
            50 => skip(SkipReason::Encrypted),
            59 => skip(SkipReason::NoNextHeader),
            _ => skip(SkipReason::OtherIpProtocol),
        }
    }

    /// Records one tunnel layer and enforces the nesting cap.
    fn enter(&mut self, mut ctx: Ctx, kind: TunnelKind, id: u32, b: &[u8]) -> Result<Ctx, Out> {
        if !self.cfg.decode_tunnels {
            return Err(skip(SkipReason::TunnelsDisabled));
        }
        if ctx.depth >= self.cfg.max_tunnel_depth {
            return Err(malformed(MalformedKind::TooDeep, Layer::Tunnel, self.at(b)));
        }
        ctx.depth += 1;
        self.stats.count_tunnel(kind);
        if !ctx.tunnel.push(Tunnel { kind, id }) {
            self.stats.tunnel_path_overflow += 1;
        }
        Ok(ctx)
    }

    fn tcp(&mut self, ctx: Ctx, src: IpAddr, dst: IpAddr, b: &'a [u8], announced: usize) -> Out {
        let h = match TcpHeaderSlice::from_slice(b) {
            Ok(h) => h,
            Err(etherparse::err::tcp::HeaderSliceError::Len(_)) => {
                return malformed(MalformedKind::Truncated, Layer::Tcp, self.at(b))
            }
            Err(etherparse::err::tcp::HeaderSliceError::Content(_)) => {
                return malformed(MalformedKind::BadHeaderLength, Layer::Tcp, self.at(b))
            }
        };
        let hl = h.slice().len();
        let Some(payload_len) = announced.checked_sub(hl) else {
            return malformed(MalformedKind::BadLength, Layer::Tcp, self.at(b));
        };
        let rest = crate::bytes::tail(b, hl);
        let payload = rest.get(..payload_len).unwrap_or(rest);
        if payload.len() < payload_len {
            self.stats.tcp_segments_cut += 1;
        }
        let flags = u8_at(h.slice(), 13);
        self.segment = Some(Segment {
            ts: ctx.ts,
            src: Endpoint::new(src, h.source_port()),
            dst: Endpoint::new(dst, h.destination_port()),
            tunnel: ctx.tunnel,
            vlan: ctx.vlan,
            seq: h.sequence_number(),
            ack: h.acknowledgment_number(),
            flags: TcpFlags(flags),
            window: h.window_size(),
            payload,
            payload_len: u32::try_from(payload_len).unwrap_or(u32::MAX),
        });
        Out::Tcp
    }

    fn udp(&mut self, ctx: Ctx, b: &'a [u8], announced: usize) -> Out {
        let Ok(h) = UdpHeaderSlice::from_slice(b) else {
            return malformed(MalformedKind::Truncated, Layer::Udp, self.at(b));
        };
        let port = h.destination_port();
        let vxlan = self.cfg.vxlan_ports.contains(&port);
        let geneve = !vxlan && self.cfg.geneve_ports.contains(&port);
        if !vxlan && !geneve {
            return skip(SkipReason::Udp);
        }
        if !self.cfg.decode_tunnels {
            return skip(SkipReason::TunnelsDisabled);
        }
        // The UDP length bounds the tunnel payload (0 is allowed for IPv6 jumbograms).
        let ulen = usize::from(h.length());
        let end = match ulen {
            0 => announced,
            n if n < 8 || n > announced => {
                return malformed(MalformedKind::BadLength, Layer::Udp, self.at(b));
            }
            n => n,
        };
        let body = b.get(8..end.min(b.len())).unwrap_or(&[]);
        let ctx = Ctx {
            cut: ctx.cut || body.len() < end.saturating_sub(8),
            ..ctx
        };
        if vxlan {
            self.vxlan(ctx, body)
        } else {
            self.geneve(ctx, body)
        }
    }

    /// A VXLAN header and the Ethernet frame it carries (a UDP payload, or a frame of
    /// [`LinkType::Vxlan`] from a UDP listener).
    fn vxlan(&mut self, ctx: Ctx, body: &'a [u8]) -> Out {
        if !self.cfg.decode_tunnels {
            return skip(SkipReason::TunnelsDisabled);
        }
        let v = match Vxlan::new_checked(body) {
            Ok(v) => v,
            Err(e) => return self.fail(e, body),
        };
        match self.enter(ctx, TunnelKind::Vxlan, v.vni(), body) {
            Ok(ctx) => self.ethernet(ctx, v.payload()),
            Err(out) => out,
        }
    }

    /// A GENEVE header and what it carries (a UDP payload, or a frame of [`LinkType::Geneve`]).
    fn geneve(&mut self, ctx: Ctx, body: &'a [u8]) -> Out {
        if !self.cfg.decode_tunnels {
            return skip(SkipReason::TunnelsDisabled);
        }
        let g = match Geneve::new_checked(body) {
            Ok(g) => g,
            Err(e) => return self.fail(e, body),
        };
        let ctx = match self.enter(ctx, TunnelKind::Geneve, g.vni(), body) {
            Ok(c) => c,
            Err(out) => return out,
        };
        match g.protocol() {
            ETH_TEB => self.ethernet(ctx, g.payload()),
            ETH_IPV4 => self.ipv4(ctx, g.payload()),
            ETH_IPV6 => self.ipv6(ctx, g.payload()),
            _ => skip(SkipReason::UnknownTunnelPayload),
        }
    }

    fn gre(&mut self, ctx: Ctx, b: &'a [u8]) -> Out {
        if !self.cfg.decode_tunnels {
            return skip(SkipReason::TunnelsDisabled);
        }
        let g = match Gre::new_checked(b) {
            Ok(g) => g,
            Err(e) => return self.fail(e, b),
        };
        let inner = g.payload();
        match g.protocol() {
            // ERSPAN rides on GRE; the ERSPAN layer (with its session id) is the one recorded.
            ETH_ERSPAN_II if g.has_sequence() => {
                let e = match ErspanII::new_checked(inner) {
                    Ok(e) => e,
                    Err(err) => return self.fail(err, inner),
                };
                match self.enter(ctx, TunnelKind::ErspanII, u32::from(e.session_id()), inner) {
                    Ok(ctx) => self.ethernet(ctx, e.payload()),
                    Err(out) => out,
                }
            }
            ETH_ERSPAN_III => {
                let e = match ErspanIII::new_checked(inner) {
                    Ok(e) => e,
                    Err(err) => return self.fail(err, inner),
                };
                let ctx = match self.enter(
                    ctx,
                    TunnelKind::ErspanIII,
                    u32::from(e.session_id()),
                    inner,
                ) {
                    Ok(c) => c,
                    Err(out) => return out,
                };
                match e.frame_type() {
                    ErspanFrameType::Ethernet => self.ethernet(ctx, e.payload()),
                    ErspanFrameType::Ip => self.ip_by_version(ctx, e.payload()),
                    ErspanFrameType::Other(_) => skip(SkipReason::UnknownTunnelPayload),
                }
            }
            proto => {
                // Plain GRE; ERSPAN type I (0x88BE without sequence number) has no header of
                // its own and is recorded as GRE.
                let ctx = match self.enter(ctx, TunnelKind::Gre, g.key().unwrap_or(0), b) {
                    Ok(c) => c,
                    Err(out) => return out,
                };
                match proto {
                    ETH_TEB | ETH_ERSPAN_II => self.ethernet(ctx, inner),
                    ETH_IPV4 => self.ipv4(ctx, inner),
                    ETH_IPV6 => self.ipv6(ctx, inner),
                    ETH_MPLS | ETH_MPLS_MC => self.mpls(ctx, inner),
                    _ => skip(SkipReason::UnknownTunnelPayload),
                }
            }
        }
    }
}
