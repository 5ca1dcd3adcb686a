//! A sliding window of distinct items (paths, accounts, ids), kept as hashes with the time each
//! was first seen. It holds at most `cap` entries — the detector's threshold — because a
//! detector only needs to know that the threshold was reached; what happens next is counted in
//! the incident. Memory per window: 8 bytes per entry — whole seconds of capture time and the
//! low 32 bits of the item's hash (a collision merges two items once in four billion pairs,
//! which only delays a threshold by one).

use periscope_model::Timestamp;
use std::collections::VecDeque;
use std::time::Duration;

/// Distinct items seen within a window of capture time.
#[derive(Debug, Default, Clone)]
pub struct DistinctWindow {
    entries: VecDeque<(u32, u32)>,
}

/// Whole seconds since the epoch (fits in u32 until 2106; saturates after).
fn secs(ts: Timestamp) -> u32 {
    u32::try_from(ts.as_nanos() / 1_000_000_000).unwrap_or(u32::MAX)
}

impl DistinctWindow {
    /// Records `item` at `ts` and returns how many distinct items fall within `window` before
    /// `ts`. Entries older than the window are dropped; when `cap` entries are held the oldest
    /// goes. Small reordering of `ts` is tolerated (an older `ts` is simply kept in order of
    /// arrival).
    pub fn insert(&mut self, ts: Timestamp, item: u64, window: Duration, cap: usize) -> usize {
        self.expire(ts, window);
        let item = item as u32;
        if !self.entries.iter().any(|(_, h)| *h == item) {
            if self.entries.len() >= cap {
                self.entries.pop_front();
            }
            self.entries.push_back((secs(ts), item));
        }
        self.entries.len()
    }

    /// Drops entries older than `window` before `now`.
    pub fn expire(&mut self, now: Timestamp, window: Duration) {
        let now = secs(now);
        let window = u32::try_from(window.as_secs()).unwrap_or(u32::MAX);
        while let Some((t, _)) = self.entries.front() {
            if now.saturating_sub(*t) > window {
                self.entries.pop_front();
            } else {
                break;
            }
        }
    }

    /// When the oldest item held was seen (whole seconds).
    pub fn oldest(&self) -> Option<Timestamp> {
        self.entries
            .front()
            .map(|(t, _)| Timestamp::from_secs_nanos(u64::from(*t), 0))
    }

    /// Distinct items held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets everything (after an incident opened, so that it does not re-open at once).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.entries.shrink_to_fit();
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(u32, u32)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_within_window() {
        let mut w = DistinctWindow::default();
        let win = Duration::from_secs(10);
        assert_eq!(w.insert(Timestamp(0), 1, win, 100), 1);
        assert_eq!(w.insert(Timestamp(1), 1, win, 100), 1);
        assert_eq!(w.insert(Timestamp(2), 2, win, 100), 2);
        // 11 s later the first two are out of the window
        assert_eq!(w.insert(Timestamp(11_000_000_001), 3, win, 100), 1);
        assert_eq!(
            w.insert(Timestamp(11_000_000_002), 1 << 40 | 3, win, 100),
            1,
            "low 32 bits"
        );
    }

    #[test]
    fn cap_drops_oldest() {
        let mut w = DistinctWindow::default();
        let win = Duration::from_secs(10);
        for i in 0..10 {
            w.insert(Timestamp(i), i, win, 4);
        }
        assert_eq!(w.len(), 4);
    }
}
