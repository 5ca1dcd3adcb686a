//! Counters the binary prints and exports. Plain integers, updated on the decoding thread.

use crate::error::{MalformedKind, SkipReason};
use periscope_model::TunnelKind;

const TUNNEL_KINDS: [TunnelKind; 6] = [
    TunnelKind::Vxlan,
    TunnelKind::Geneve,
    TunnelKind::Gre,
    TunnelKind::ErspanII,
    TunnelKind::ErspanIII,
    TunnelKind::IpInIp,
];

fn tunnel_index(k: TunnelKind) -> usize {
    match k {
        TunnelKind::Vxlan => 0,
        TunnelKind::Geneve => 1,
        TunnelKind::Gre => 2,
        TunnelKind::ErspanII => 3,
        TunnelKind::ErspanIII => 4,
        TunnelKind::IpInIp => 5,
    }
}

/// Fragment reassembly counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragmentStats {
    /// Fragments accepted and held until their datagram completes.
    pub held: u64,
    /// Datagrams completed and decoded.
    pub reassembled: u64,
    /// Datagrams abandoned because their timeout passed (capture time).
    pub expired: u64,
    /// Fragments discarded by a cap (datagrams in flight, bytes, fragments per datagram).
    pub dropped_at_cap: u64,
    /// Fragments overlapping data already received (IPv4: first copy wins; IPv6: datagram
    /// dropped).
    pub overlaps: u64,
    /// Overlaps whose bytes differ from the first copy: a classic IDS-evasion signal.
    pub overlap_conflicts: u64,
}

/// Everything the decoder counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Frames given to `decode`.
    pub frames: u64,
    /// TCP segments produced.
    pub tcp_segments: u64,
    /// Segments whose captured payload is shorter than announced (snap length cut).
    pub tcp_segments_cut: u64,
    /// Frames with at least one VLAN tag.
    pub vlan_tagged: u64,
    /// Frames with an MPLS label stack.
    pub mpls: u64,
    /// Frames in a PPPoE session.
    pub pppoe: u64,
    /// IPv4 packets with total length 0 (TCP segmentation offload on the capturing host); the
    /// captured length was used.
    pub ipv4_zero_total_len: u64,
    /// Tunnels nested deeper than `TunnelPath::MAX`: only the outermost layers are recorded.
    pub tunnel_path_overflow: u64,
    /// Fragment reassembly.
    pub fragments: FragmentStats,
    skipped: [u64; 13],
    malformed: [u64; 9],
    tunnels: [u64; 6],
}

impl DecodeStats {
    /// Frames skipped for `reason`.
    pub fn skipped(&self, reason: SkipReason) -> u64 {
        self.skipped.get(reason.index()).copied().unwrap_or(0)
    }

    /// Frames malformed with `kind`.
    pub fn malformed(&self, kind: MalformedKind) -> u64 {
        self.malformed.get(kind.index()).copied().unwrap_or(0)
    }

    /// Tunnel layers of `kind` unwrapped.
    pub fn tunnels(&self, kind: TunnelKind) -> u64 {
        self.tunnels.get(tunnel_index(kind)).copied().unwrap_or(0)
    }

    /// All skip counters, labelled.
    pub fn skipped_by_reason(&self) -> impl Iterator<Item = (SkipReason, u64)> + '_ {
        SkipReason::ALL.iter().map(move |&r| (r, self.skipped(r)))
    }

    /// All malformed counters, labelled.
    pub fn malformed_by_kind(&self) -> impl Iterator<Item = (MalformedKind, u64)> + '_ {
        MalformedKind::ALL
            .iter()
            .map(move |&k| (k, self.malformed(k)))
    }

    /// All tunnel counters, labelled.
    pub fn tunnels_by_kind(&self) -> impl Iterator<Item = (TunnelKind, u64)> + '_ {
        TUNNEL_KINDS.iter().map(move |&k| (k, self.tunnels(k)))
    }

    /// Frames skipped, all reasons.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().sum()
    }

    /// Frames malformed, all kinds.
    pub fn malformed_total(&self) -> u64 {
        self.malformed.iter().sum()
    }

    /// Adds another decoder's counters (one decoder per worker thread; the binary reports the
    /// sum).
    pub fn merge(&mut self, other: &DecodeStats) {
        self.frames += other.frames;
        self.tcp_segments += other.tcp_segments;
        self.tcp_segments_cut += other.tcp_segments_cut;
        self.vlan_tagged += other.vlan_tagged;
        self.mpls += other.mpls;
        self.pppoe += other.pppoe;
        self.ipv4_zero_total_len += other.ipv4_zero_total_len;
        self.tunnel_path_overflow += other.tunnel_path_overflow;
        let (f, o) = (&mut self.fragments, &other.fragments);
        f.held += o.held;
        f.reassembled += o.reassembled;
        f.expired += o.expired;
        f.dropped_at_cap += o.dropped_at_cap;
        f.overlaps += o.overlaps;
        f.overlap_conflicts += o.overlap_conflicts;
        for (a, b) in self.skipped.iter_mut().zip(other.skipped.iter()) {
            *a += b;
        }
        for (a, b) in self.malformed.iter_mut().zip(other.malformed.iter()) {
            *a += b;
        }
        for (a, b) in self.tunnels.iter_mut().zip(other.tunnels.iter()) {
            *a += b;
        }
    }

    pub(crate) fn count_skip(&mut self, r: SkipReason) {
        if let Some(c) = self.skipped.get_mut(r.index()) {
            *c += 1;
        }
    }

    pub(crate) fn count_malformed(&mut self, k: MalformedKind) {
        if let Some(c) = self.malformed.get_mut(k.index()) {
            *c += 1;
        }
    }

    pub(crate) fn count_tunnel(&mut self, k: TunnelKind) {
        if let Some(c) = self.tunnels.get_mut(tunnel_index(k)) {
            *c += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_every_counter() {
        let mut a = DecodeStats {
            frames: 2,
            pppoe: 1,
            ..DecodeStats::default()
        };
        a.count_skip(SkipReason::Udp);
        a.count_tunnel(TunnelKind::Geneve);
        a.fragments.expired = 3;
        let mut b = a.clone();
        b.count_malformed(MalformedKind::TooDeep);
        b.merge(&a);
        assert_eq!((b.frames, b.pppoe, b.fragments.expired), (4, 2, 6));
        assert_eq!(b.skipped(SkipReason::Udp), 2);
        assert_eq!(b.tunnels(TunnelKind::Geneve), 2);
        assert_eq!(b.malformed(MalformedKind::TooDeep), 1);
    }

    #[test]
    fn arrays_fit_every_label() {
        let s = DecodeStats::default();
        assert_eq!(s.skipped.len(), SkipReason::ALL.len());
        assert_eq!(s.malformed.len(), MalformedKind::ALL.len());
        assert_eq!(s.tunnels.len(), TUNNEL_KINDS.len());
        for (i, r) in SkipReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        for (i, k) in TUNNEL_KINDS.iter().enumerate() {
            assert_eq!(tunnel_index(*k), i);
        }
    }
}
