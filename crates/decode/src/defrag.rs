//! Bounded IPv4/IPv6 fragment reassembly.
//!
//! The table is a small vector searched linearly: only fragmented packets ever touch it, so
//! unfragmented traffic pays nothing (no hashing), and with the default cap of 1024 datagrams
//! a scan is cheaper than the copy of the fragment itself. Every dimension is capped
//! ([`DefragConfig`]) and what a cap throws away is counted ([`FragmentStats`]).
//!
//! Overlaps: for IPv4 the first copy of each byte wins (what most stacks do) and overlaps whose
//! bytes differ are counted as conflicts, an evasion signal; for IPv6 any overlap drops the
//! datagram, as RFC 5722 requires.

use crate::config::DefragConfig;
use crate::error::{DecodeError, Layer, MalformedKind, SkipReason};
use crate::stats::FragmentStats;
use periscope_model::{Timestamp, TunnelPath};
use std::net::IpAddr;
use std::time::Duration;

/// Largest reassembled datagram: the IP length fields are 16 bits.
const MAX_DATAGRAM: usize = 65_535;

/// Identifies a datagram: addresses, id and protocol (RFC 791/8200), plus the tunnel path and
/// VLAN it arrived in so that mirrored copies from different sources do not mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FragKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub proto: u8,
    pub tunnel: TunnelPath,
    pub vlan: Option<u16>,
}

/// One fragment, as found by the walker.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fragment<'a> {
    pub key: FragKey,
    /// Byte offset of `data` in the datagram's payload.
    pub offset: usize,
    pub more: bool,
    /// The fragment's payload as captured.
    pub data: &'a [u8],
    /// Its length according to the IP header (more than `data.len()` when cut).
    pub announced: usize,
    pub v6: bool,
    /// Tunnels unwrapped before this fragment, to keep the nesting cap across reassembly.
    pub depth: u8,
    pub ts: Timestamp,
}

/// What to do with a completed datagram (its payload is [`Defrag::completed`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Completed {
    pub key: FragKey,
    pub v6: bool,
    pub depth: u8,
}

pub(crate) enum Insert {
    Held,
    Complete(Completed),
    Skipped(SkipReason),
    Malformed(DecodeError),
}

struct Slot {
    key: FragKey,
    v6: bool,
    depth: u8,
    first_ts: Timestamp,
    data: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    ranges: Vec<(usize, usize)>,
    /// Payload length, known once the last fragment arrived.
    total: Option<usize>,
    fragments: usize,
}

/// The reassembly table.
#[derive(Default)]
pub(crate) struct Defrag {
    slots: Vec<Slot>,
    /// Bytes buffered across slots.
    bytes: usize,
    /// The last completed datagram's payload, lent to the segment.
    completed: Vec<u8>,
    /// Cleared buffers kept for reuse.
    spare: Vec<Vec<u8>>,
}

fn bad(kind: MalformedKind) -> DecodeError {
    DecodeError {
        kind,
        layer: Layer::Fragment,
        offset: 0,
    }
}

impl Defrag {
    /// The payload of the datagram completed by the last [`Defrag::insert`].
    pub(crate) fn completed(&self) -> &[u8] {
        &self.completed
    }

    /// Datagrams in flight.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.slots.len()
    }

    /// Abandons datagrams whose first fragment is older than the timeout.
    pub(crate) fn expire(&mut self, now: Timestamp, cfg: &DefragConfig, stats: &mut FragmentStats) {
        let timeout = Duration::from_secs(cfg.timeout_secs);
        let mut i = 0;
        while i < self.slots.len() {
            if self
                .slots
                .get(i)
                .is_some_and(|s| now.since(s.first_ts) > timeout)
            {
                self.remove(i);
                stats.expired += 1;
            } else {
                i += 1;
            }
        }
    }

    fn remove(&mut self, i: usize) -> Option<Slot> {
        if i >= self.slots.len() {
            return None;
        }
        let mut s = self.slots.swap_remove(i);
        self.bytes = self.bytes.saturating_sub(s.data.len());
        // Keep a few ordinary-sized buffers so a steady trickle of fragments does not allocate.
        if self.spare.len() < 8 && s.data.capacity() <= 16 * 1024 {
            let mut d = std::mem::take(&mut s.data);
            d.clear();
            self.spare.push(d);
        }
        Some(s)
    }

    fn drop_at_cap(&mut self, i: usize, stats: &mut FragmentStats) {
        if let Some(s) = self.remove(i) {
            stats.dropped_at_cap += s.fragments as u64;
        }
    }

    fn oldest_except(&self, keep: Option<usize>) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != keep)
            .min_by_key(|(_, s)| s.first_ts)
            .map(|(i, _)| i)
    }

    /// Adds a fragment.
    pub(crate) fn insert(
        &mut self,
        f: Fragment<'_>,
        cfg: &DefragConfig,
        stats: &mut FragmentStats,
    ) -> Insert {
        self.expire(f.ts, cfg, stats);
        let end = f.offset + f.data.len();
        // An empty or cut fragment cannot help complete a datagram; a non-final fragment must be
        // a multiple of 8 bytes; nothing may end past the 16-bit length.
        if f.data.is_empty()
            || f.data.len() < f.announced
            || (f.more && !f.data.len().is_multiple_of(8))
            || end > MAX_DATAGRAM
        {
            return Insert::Malformed(bad(MalformedKind::BadFragment));
        }

        let mut idx = self
            .slots
            .iter()
            .position(|s| s.key == f.key && s.v6 == f.v6);
        if idx.is_none() {
            if self.slots.len() >= cfg.max_datagrams {
                if let Some(old) = self.oldest_except(None) {
                    self.drop_at_cap(old, stats);
                }
            }
            let data = self.spare.pop().unwrap_or_default();
            self.slots.push(Slot {
                key: f.key,
                v6: f.v6,
                depth: f.depth,
                first_ts: f.ts,
                data,
                ranges: Vec::new(),
                total: None,
                fragments: 0,
            });
            idx = Some(self.slots.len() - 1);
        }
        let Some(mut i) = idx else {
            return Insert::Skipped(SkipReason::FragmentDropped);
        };

        // Per-datagram fragment cap.
        if self
            .slots
            .get(i)
            .is_some_and(|s| s.fragments >= cfg.max_fragments)
        {
            self.drop_at_cap(i, stats);
            stats.dropped_at_cap += 1;
            return Insert::Skipped(SkipReason::FragmentDropped);
        }
        // Byte cap: make room by evicting the oldest other datagrams.
        let grow = end.saturating_sub(self.slots.get(i).map_or(0, |s| s.data.len()));
        while self.bytes + grow > cfg.max_bytes {
            match self.oldest_except(Some(i)) {
                Some(old) => {
                    self.drop_at_cap(old, stats);
                    // swap_remove moved the last slot into `old`; follow ours.
                    if i == self.slots.len() {
                        i = old;
                    }
                }
                None => {
                    self.drop_at_cap(i, stats);
                    stats.dropped_at_cap += 1;
                    return Insert::Skipped(SkipReason::FragmentDropped);
                }
            }
        }

        let Some(slot) = self.slots.get_mut(i) else {
            return Insert::Skipped(SkipReason::FragmentDropped);
        };
        // The last fragment fixes the length; everything must agree with it.
        let conflicting_end = match slot.total {
            Some(t) => (!f.more && end != t) || end > t,
            None => !f.more && slot.ranges.last().is_some_and(|r| r.1 > end),
        };
        if conflicting_end {
            self.remove(i);
            return Insert::Malformed(bad(MalformedKind::BadFragment));
        }
        let overlaps = slot.ranges.iter().any(|&(s, e)| s < end && f.offset < e);
        if overlaps {
            stats.overlaps += 1;
            if f.v6 {
                self.remove(i);
                return Insert::Malformed(bad(MalformedKind::FragmentOverlap));
            }
        }
        if slot.data.len() < end {
            slot.data.resize(end, 0);
        }
        // Copy the bytes not received yet; compare the ones that were (first copy wins).
        let mut conflict = false;
        let mut cursor = f.offset;
        for &(s, e) in &slot.ranges {
            if e <= cursor || s >= end {
                continue;
            }
            if s > cursor {
                copy(&mut slot.data, cursor, s, f.data, f.offset);
            }
            let (a, b) = (s.max(cursor), e.min(end));
            let old = slot.data.get(a..b);
            let new = f.data.get(a - f.offset..b - f.offset);
            conflict |= old != new;
            cursor = cursor.max(e);
        }
        if cursor < end {
            copy(&mut slot.data, cursor, end, f.data, f.offset);
        }
        if conflict {
            stats.overlap_conflicts += 1;
        }
        add_range(&mut slot.ranges, f.offset, end);
        slot.fragments += 1;
        if !f.more {
            slot.total = Some(end);
        }
        self.bytes += grow;

        let complete = slot
            .total
            .is_some_and(|t| slot.ranges.as_slice() == [(0, t)]);
        if !complete {
            stats.held += 1;
            return Insert::Held;
        }
        let done = Completed {
            key: slot.key,
            v6: slot.v6,
            depth: slot.depth,
        };
        let total = slot.total.unwrap_or(0);
        // Hand the buffer over without copying; the old one is recycled for the next slot.
        std::mem::swap(&mut self.completed, &mut slot.data);
        self.completed.truncate(total);
        self.remove(i);
        stats.reassembled += 1;
        Insert::Complete(done)
    }
}

/// Copies datagram bytes `[from, to)` out of a fragment that starts at `frag_offset`.
fn copy(dst: &mut [u8], from: usize, to: usize, frag: &[u8], frag_offset: usize) {
    if let (Some(d), Some(s)) = (
        dst.get_mut(from..to),
        frag.get(from - frag_offset..to - frag_offset),
    ) {
        d.copy_from_slice(s);
    }
}

/// Inserts `[s, e)` into sorted, merged ranges.
fn add_range(ranges: &mut Vec<(usize, usize)>, s: usize, e: usize) {
    let (mut s, mut e) = (s, e);
    ranges.retain(|&(rs, re)| {
        if rs <= e && s <= re {
            s = s.min(rs);
            e = e.max(re);
            false
        } else {
            true
        }
    });
    let at = ranges
        .iter()
        .position(|&(rs, _)| rs > s)
        .unwrap_or(ranges.len());
    ranges.insert(at, (s, e));
}
