//! One direction of a connection: sequence tracking, the out-of-order buffer, gaps and FIN.
//!
//! Positions are kept as 64-bit *stream offsets* (0 = the first byte this direction was seen
//! to send). A 32-bit sequence number is turned into an offset relative to `next_seq` with
//! serial-number arithmetic (RFC 1982), so wrap-around at 2^32 needs no special case and the
//! buffer can be a plain ordered map.

use crate::stats::ReassemblyStats;
use crate::StreamSink;
use periscope_model::{Direction, FlowId, StreamEvent, Timestamp};
use std::collections::BTreeMap;

/// Segments or ACKs further ahead than this (bytes) are not believed: TCP's largest window
/// with scaling is 2^30.
pub(crate) const MAX_WINDOW: i64 = 1 << 30;

const STARTED: u8 = 1;
const HAS_ISN: u8 = 2;
const FIN: u8 = 4;
const DONE: u8 = 8;

/// Packets of a connection after which a gap proven by an ACK is declared even before the
/// delay has passed (see [`Half::ack`]).
pub(crate) const ACK_GAP_PACKETS: u16 = 8;

/// The peer acknowledged bytes up to `target` that the capture has not shown yet.
#[derive(Debug, Clone, Copy)]
struct AckWait {
    target: u64,
    since: Timestamp,
    packets: u16,
}

/// Bytes charged per buffered segment on top of its payload (map entry, `Vec` header,
/// allocator overhead), so that the byte limits bound real memory even when a peer sends
/// one-byte segments. Measured with `examples/flow_memory.rs tiny`: about 98 bytes of
/// resident memory per buffered one-byte segment.
pub(crate) const SEGMENT_OVERHEAD: usize = 96;

/// Buffer limits, copied from the config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub per_flow_bytes: usize,
    pub per_flow_segments: usize,
    pub total_bytes: usize,
}

/// Why a gap was declared (for the global counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GapCause {
    Ack,
    BufferCap,
    Snaplen,
    Close,
}

/// Where a half's events go, and the shared counters it updates.
pub(crate) struct Out<'a, S: StreamSink> {
    pub sink: &'a mut S,
    pub id: FlowId,
    pub dir: Direction,
    pub ts: Timestamp,
    pub stats: &'a mut ReassemblyStats,
    pub total: &'a mut usize,
    pub lim: Limits,
}

impl<S: StreamSink> Out<'_, S> {
    fn data(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.stats.delivered_bytes += bytes.len() as u64;
        self.sink.on_event(
            self.id,
            StreamEvent::Data {
                ts: self.ts,
                dir: self.dir,
                bytes,
            },
        );
    }
}

/// State of one direction. Small on purpose: everything needed only after an anomaly
/// (buffer, anomaly counters) lives behind `extra`, allocated on first need.
#[derive(Debug, Default)]
pub(crate) struct Half {
    /// Sequence number of the next byte to deliver.
    next_seq: u32,
    /// Initial sequence number (valid with `HAS_ISN`).
    isn: u32,
    /// Stream offset of `next_seq`.
    offset: u64,
    /// Stream offset where the FIN sits (valid with `FIN`).
    fin_off: u64,
    /// Packets seen.
    pub packets: u64,
    /// Payload bytes captured (duplicates included).
    pub bytes: u64,
    flags: u8,
    extra: Option<Box<HalfExtra>>,
}

/// Out-of-order buffer and anomaly counters of one direction.
#[derive(Debug, Default)]
pub(crate) struct HalfExtra {
    /// Buffered segments by stream offset; never overlapping, all beyond `offset`.
    buf: BTreeMap<u64, Vec<u8>>,
    /// Bytes charged for `buf`: payload plus [`SEGMENT_OVERHEAD`] per entry.
    buffered: usize,
    /// Highest end offset announced by a segment that was buffered (or whose captured part
    /// was short): at close, bytes up to here that never came are a gap.
    max_end: u64,
    /// A gap proven by the peer's ACK, waiting to see whether the data was only reordered.
    ack_wait: Option<AckWait>,
    pub gap_bytes: u64,
    pub gaps: u64,
    pub retransmitted: u64,
    pub out_of_order: u64,
    pub inconsistent: u64,
}

impl Half {
    pub fn started(&self) -> bool {
        self.flags & STARTED != 0
    }
    pub fn fin(&self) -> bool {
        self.flags & FIN != 0
    }
    pub fn done(&self) -> bool {
        self.flags & DONE != 0
    }
    /// The ISN, when a SYN of this direction was seen.
    pub fn isn(&self) -> Option<u32> {
        (self.flags & HAS_ISN != 0).then_some(self.isn)
    }
    pub fn extra(&self) -> Option<&HalfExtra> {
        self.extra.as_deref()
    }
    /// Bytes held in the buffer, counted entry by entry (tests check the running totals).
    #[cfg(test)]
    pub fn recount_buffered(&self) -> (usize, usize) {
        self.extra.as_ref().map_or((0, 0), |x| {
            (
                x.buffered,
                x.buf.values().map(|v| v.len() + SEGMENT_OVERHEAD).sum(),
            )
        })
    }
    /// Frees the buffer and counters (after `Close` was emitted).
    pub fn release(&mut self) {
        self.extra = None;
    }

    /// Starts the direction with a SYN: data begins at `isn + 1`.
    pub fn start_syn(&mut self, isn: u32) {
        self.isn = isn;
        self.next_seq = isn.wrapping_add(1);
        self.offset = 0;
        self.flags |= HAS_ISN | STARTED;
    }

    /// Starts a direction picked up mid-stream at its first segment's sequence number.
    pub fn start_at(&mut self, seq: u32) {
        if !self.started() {
            self.next_seq = seq;
            self.offset = 0;
            self.flags |= STARTED;
        }
    }

    /// Whether a RST with sequence number `seq` is believable from this direction: anything
    /// before it has started, else near the next expected byte (up to 1 MiB before it, or
    /// 16 MiB after it, allowing for bytes the capture lost). A blind guess passes with a
    /// chance of about 1 in 250, an on-path attacker always: this only filters the
    /// crudest RST injection.
    pub fn rst_plausible(&self, seq: u32) -> bool {
        if !self.started() {
            return true;
        }
        let rel = i64::from(seq.wrapping_sub(self.next_seq) as i32);
        (-(1 << 20)..=(1 << 24)).contains(&rel)
    }

    /// Stream offset of `seq` (may be negative: before the start).
    fn off_of(&self, seq: u32) -> i64 {
        self.offset as i64 + i64::from(seq.wrapping_sub(self.next_seq) as i32)
    }

    fn set_offset(&mut self, off: i64) {
        let off = off.max(0) as u64;
        self.next_seq = self
            .next_seq
            .wrapping_add(off.wrapping_sub(self.offset) as u32);
        self.offset = off;
    }

    fn first_buffered(&self) -> Option<i64> {
        self.extra.as_ref()?.buf.keys().next().map(|&k| k as i64)
    }

    fn extra_mut(&mut self) -> &mut HalfExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    fn gap<S: StreamSink>(&mut self, len: i64, cause: GapCause, o: &mut Out<'_, S>) {
        if len <= 0 {
            return;
        }
        let len = len as u64;
        let x = self.extra_mut();
        x.gaps += 1;
        x.gap_bytes += len;
        let st = &mut *o.stats;
        st.gaps += 1;
        st.gap_bytes += len;
        match cause {
            GapCause::Ack => st.gaps_by_ack += 1,
            GapCause::BufferCap => st.gaps_by_buffer_cap += 1,
            GapCause::Snaplen => st.gaps_by_snaplen += 1,
            GapCause::Close => st.gaps_at_close += 1,
        }
        o.sink.on_event(
            o.id,
            StreamEvent::Gap {
                ts: o.ts,
                dir: o.dir,
                len,
            },
        );
    }

    fn retransmitted<S: StreamSink>(&mut self, n: i64, o: &mut Out<'_, S>) {
        if n > 0 {
            self.extra_mut().retransmitted += n as u64;
            o.stats.retransmitted_bytes += n as u64;
        }
    }

    /// Takes one segment's payload: `payload` is what was captured, `announced` (≥ its length)
    /// what the headers say was sent. `seq` is the sequence number of the first payload byte.
    pub fn data<S: StreamSink>(
        &mut self,
        seq: u32,
        payload: &[u8],
        announced: u64,
        o: &mut Out<'_, S>,
    ) {
        let start = self.off_of(seq);
        if start - self.offset as i64 > MAX_WINDOW {
            o.stats.drops.out_of_window += 1;
            return;
        }
        // Both lengths are bounded by the caller (announced ≤ 16 MiB), so no overflow.
        let mut cap_end = start + payload.len() as i64;
        let mut ann_end = start + announced as i64;
        if self.fin() {
            let f = self.fin_off as i64;
            if ann_end > f {
                o.stats.drops.data_after_fin += 1;
                cap_end = cap_end.min(f);
                ann_end = f;
            }
        }
        let mut from = start;
        loop {
            let cur = self.offset as i64;
            let progress = (from, cur);
            if from < cur {
                self.retransmitted(cap_end.min(cur) - from, o);
                from = cur;
            }
            if from >= ann_end || self.done() {
                break;
            }
            let first = self.first_buffered();
            if from == cur {
                // In order: hand the captured bytes straight to the sink, up to where buffered
                // data begins (which, first copy winning, takes precedence).
                let upto = cap_end.min(first.unwrap_or(i64::MAX));
                if upto > from {
                    let (a, b) = ((from - start) as usize, (upto - start) as usize);
                    o.data(payload.get(a..b).unwrap_or_default());
                    self.set_offset(upto);
                    from = upto;
                } else if from >= cap_end {
                    // Only the part the snap length cut off is left: it is lost.
                    let gap_end = ann_end.min(first.unwrap_or(i64::MAX));
                    self.gap(gap_end - from, GapCause::Snaplen, o);
                    self.set_offset(gap_end);
                    from = gap_end;
                }
                if from < cap_end && first == Some(from) {
                    let (a, b) = ((from - start) as usize, (cap_end - start) as usize);
                    self.check_overlap(from, payload.get(a..b).unwrap_or_default(), o);
                }
                self.drain(o);
                if (from, self.offset as i64) == progress {
                    break; // cannot happen while the buffer invariant holds; never spin
                }
                continue;
            }
            // Ahead of a hole: copy into the buffer.
            if from >= cap_end {
                // Nothing captured is left, only the cut-off tail: remember how far it went.
                let x = self.extra_mut();
                x.max_end = x.max_end.max(ann_end as u64);
                break;
            }
            let (a, b) = ((from - start) as usize, (cap_end - start) as usize);
            if self.insert(from, payload.get(a..b).unwrap_or_default(), o) {
                let x = self.extra_mut();
                x.max_end = x.max_end.max(ann_end as u64);
                break;
            }
            // No room: give up the oldest hole, deliver what follows it, and try again.
            self.skip_hole(from, GapCause::BufferCap, o);
            if self.offset as i64 == cur {
                break; // no progress possible (cannot happen: from > cur); never spin
            }
        }
        self.check_done();
    }

    /// Counts an inconsistent overlap if `bytes` (at offset `from`) differ from buffered data.
    fn check_overlap<S: StreamSink>(&mut self, from: i64, bytes: &[u8], o: &mut Out<'_, S>) {
        let Some(x) = self.extra.as_mut() else { return };
        let end = from + bytes.len() as i64;
        let mut differ = false;
        for (&k, v) in x.buf.range(from as u64..end as u64) {
            let k = k as i64;
            let ov_end = end.min(k + v.len() as i64);
            let ours = bytes.get((k - from) as usize..(ov_end - from) as usize);
            let theirs = v.get(..(ov_end - k) as usize);
            differ |= ours != theirs;
        }
        if differ {
            x.inconsistent += 1;
            o.stats.inconsistent_overlaps += 1;
        }
    }

    /// Buffers `bytes` at offset `from` (> current offset). Bytes already buffered win (first
    /// copy wins); differing overlaps are counted. Returns false, changing nothing, when a
    /// limit leaves no room.
    fn insert<S: StreamSink>(&mut self, from: i64, bytes: &[u8], o: &mut Out<'_, S>) -> bool {
        let lim = o.lim;
        let total = *o.total;
        let x = self.extra_mut();
        let end = from + bytes.len() as i64;
        let mut pieces: Vec<(i64, i64)> = Vec::new();
        let mut cur = from;
        let mut differ = false;
        let mut dup = 0i64;
        let pred = x.buf.range(..from as u64).next_back().map(|(&k, v)| (k, v));
        let overlapping = pred
            .into_iter()
            .filter(|(k, v)| *k as i64 + v.len() as i64 > from)
            .chain(x.buf.range(from as u64..end as u64).map(|(&k, v)| (k, v)));
        for (k, v) in overlapping {
            let k = k as i64;
            let v_end = k + v.len() as i64;
            if k > cur {
                pieces.push((cur, k));
            }
            let (s, e) = (k.max(cur), v_end.min(end));
            if e > s {
                dup += e - s;
                let ours = bytes.get((s - from) as usize..(e - from) as usize);
                let theirs = v.get((s - k) as usize..(e - k) as usize);
                differ |= ours != theirs;
            }
            cur = cur.max(v_end);
        }
        if cur < end {
            pieces.push((cur, end));
        }
        let new_bytes: usize = pieces.iter().map(|(s, e)| (e - s) as usize).sum();
        let cost = new_bytes + pieces.len() * SEGMENT_OVERHEAD;
        if new_bytes > 0
            && (x.buffered + cost > lim.per_flow_bytes
                || total + cost > lim.total_bytes
                || x.buf.len() + pieces.len() > lim.per_flow_segments)
        {
            return false;
        }
        for (s, e) in &pieces {
            let chunk = bytes
                .get((s - from) as usize..(e - from) as usize)
                .unwrap_or_default();
            x.buf.insert(*s as u64, chunk.to_vec());
        }
        x.buffered += cost;
        *o.total += cost;
        if !pieces.is_empty() {
            x.out_of_order += 1;
            o.stats.out_of_order_segments += 1;
        }
        if differ {
            x.inconsistent += 1;
            o.stats.inconsistent_overlaps += 1;
        }
        self.retransmitted(dup, o);
        true
    }

    /// Delivers buffered segments that the current offset has reached.
    fn drain<S: StreamSink>(&mut self, o: &mut Out<'_, S>) {
        loop {
            let cur = self.offset as i64;
            let Some(x) = self.extra.as_mut() else { return };
            let Some(entry) = x.buf.first_entry() else {
                break;
            };
            let k = *entry.key() as i64;
            if k > cur {
                break;
            }
            let v = entry.remove();
            x.buffered = x.buffered.saturating_sub(v.len() + SEGMENT_OVERHEAD);
            *o.total = o.total.saturating_sub(v.len() + SEGMENT_OVERHEAD);
            let end = k + v.len() as i64;
            if end <= cur {
                self.retransmitted(v.len() as i64, o);
                continue;
            }
            self.retransmitted(cur - k, o);
            o.data(v.get((cur - k) as usize..).unwrap_or_default());
            self.set_offset(end);
        }
        self.check_done();
    }

    /// Declares the hole at the current offset a gap, up to the first buffered byte or
    /// `limit`, whichever comes first, then delivers what became contiguous.
    fn skip_hole<S: StreamSink>(&mut self, limit: i64, cause: GapCause, o: &mut Out<'_, S>) {
        let cur = self.offset as i64;
        let target = self.first_buffered().map_or(limit, |k| k.min(limit));
        if target > cur {
            self.gap(target - cur, cause, o);
            self.set_offset(target);
        }
        self.drain(o);
    }

    /// The peer acknowledged up to `ack`: it received every byte before it, so bytes the
    /// capture is missing there are lost to the capture, not in flight. The gap is not
    /// declared at once, because a reordered capture can show an ACK before the data it
    /// acknowledges: it is remembered and declared by [`Half::poll_ack`] once the delay or the
    /// packet count has passed without the data showing up. Returns true when this starts a
    /// new wait (the caller queues a check for when the delay ends).
    pub fn ack<S: StreamSink>(&mut self, ack: u32, o: &mut Out<'_, S>) -> bool {
        if !self.started() || self.done() {
            return false;
        }
        let mut target = self.off_of(ack);
        let cur = self.offset as i64;
        if target - cur > MAX_WINDOW {
            o.stats.drops.ack_out_of_window += 1;
            return false;
        }
        if self.fin() {
            target = target.min(self.fin_off as i64);
        }
        if target <= cur {
            return false;
        }
        let x = self.extra_mut();
        match &mut x.ack_wait {
            Some(w) => {
                w.target = w.target.max(target as u64);
                false
            }
            None => {
                x.ack_wait = Some(AckWait {
                    target: target as u64,
                    since: o.ts,
                    packets: 0,
                });
                true
            }
        }
    }

    /// Declares the gap an earlier ACK proved, if the data has still not come after `delay`
    /// (capture time) or [`ACK_GAP_PACKETS`] packets of the connection. `packet` says whether
    /// a packet of the connection is being processed (it counts toward the packets).
    pub fn poll_ack<S: StreamSink>(
        &mut self,
        packet: bool,
        delay: std::time::Duration,
        o: &mut Out<'_, S>,
    ) {
        let (offset, fin, fin_off) = (self.offset, self.fin(), self.fin_off);
        let Some(x) = self.extra.as_mut() else { return };
        let Some(w) = x.ack_wait.as_mut() else { return };
        if fin {
            w.target = w.target.min(fin_off);
        }
        if offset >= w.target {
            x.ack_wait = None;
            return;
        }
        w.packets = w.packets.saturating_add(u16::from(packet));
        if o.ts.since(w.since) < delay && w.packets < ACK_GAP_PACKETS {
            return;
        }
        let target = w.target as i64;
        x.ack_wait = None;
        while (self.offset as i64) < target {
            let before = self.offset;
            self.skip_hole(target, GapCause::Ack, o);
            if self.offset == before {
                break;
            }
        }
    }

    /// Records the FIN at sequence number `seq` (after the segment's payload). The first FIN
    /// wins; buffered bytes beyond it are dropped.
    pub fn fin_at<S: StreamSink>(&mut self, seq: u32, o: &mut Out<'_, S>) {
        if self.fin() {
            return;
        }
        let off = self.off_of(seq).max(self.offset as i64);
        if off - self.offset as i64 > MAX_WINDOW {
            o.stats.drops.out_of_window += 1;
            return;
        }
        self.fin_off = off as u64;
        self.flags |= FIN;
        if let Some(x) = self.extra.as_mut() {
            let beyond = x.buf.split_off(&self.fin_off);
            if !beyond.is_empty() {
                o.stats.drops.data_after_fin += 1;
            }
            for v in beyond.values() {
                x.buffered = x.buffered.saturating_sub(v.len() + SEGMENT_OVERHEAD);
                *o.total = o.total.saturating_sub(v.len() + SEGMENT_OVERHEAD);
            }
            // A buffered segment straddling the FIN is cut at it.
            if let Some((&k, v)) = x.buf.iter_mut().next_back() {
                let keep = off.saturating_sub(k as i64).max(0) as usize;
                if v.len() > keep {
                    x.buffered = x.buffered.saturating_sub(v.len() - keep);
                    *o.total = o.total.saturating_sub(v.len() - keep);
                    v.truncate(keep);
                }
            }
            x.max_end = x.max_end.min(self.fin_off);
        }
        self.check_done();
    }

    fn check_done(&mut self) {
        if self.fin() && self.offset >= self.fin_off {
            self.flags |= DONE;
        }
    }

    /// At close: every hole left becomes a gap, every buffered byte is delivered, and bytes
    /// announced (up to the FIN or the furthest segment seen) but never captured are a gap.
    pub fn flush<S: StreamSink>(&mut self, o: &mut Out<'_, S>) {
        while self.first_buffered().is_some() {
            self.skip_hole(i64::MAX, GapCause::Close, o);
        }
        // Up to the FIN when known, else the furthest byte announced or acknowledged.
        let fin = self.fin().then_some(self.fin_off);
        let end = match self.extra.as_mut() {
            Some(x) => {
                let acked = x.ack_wait.take().map_or(0, |w| w.target);
                fin.unwrap_or(x.max_end.max(acked))
            }
            None => fin.unwrap_or(0),
        };
        if end > self.offset {
            self.gap((end - self.offset) as i64, GapCause::Close, o);
            self.set_offset(end as i64);
        }
        self.check_done();
    }
}
