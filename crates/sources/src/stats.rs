//! Counters every source keeps, readable from any thread while the source runs.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one source. The source thread writes them with relaxed atomics; a metrics thread
/// reads them with [`SourceStats::snapshot`] at any time. Counters only grow. Shared as
/// `Arc<SourceStats>` (see each source's `stats()`).
#[derive(Debug, Default)]
pub struct SourceStats {
    /// Frames (or, for `http_mirror`, requests) delivered to the caller.
    pub packets: AtomicU64,
    /// Bytes delivered: captured frame bytes, datagram payloads, or request bodies.
    pub bytes: AtomicU64,
    /// Dropped by the kernel because the capture ring was full (tpacket statistics).
    pub drops_kernel: AtomicU64,
    /// Dropped by the kernel because the socket receive buffer was full (UDP listeners; read
    /// from `/proc/net/udp{,6}` when available).
    pub drops_socket_buffer: AtomicU64,
    /// Dropped because the consumer's queue was full (`http_mirror`).
    pub drops_queue_full: AtomicU64,
    /// Input that could not be read: a request that was not valid HTTP, a damaged capture file.
    pub errors: AtomicU64,
    /// Capture files read to the end (`pcap_dir`).
    pub files_done: AtomicU64,
}

/// A copy of [`SourceStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// See [`SourceStats::packets`].
    pub packets: u64,
    /// See [`SourceStats::bytes`].
    pub bytes: u64,
    /// See [`SourceStats::drops_kernel`].
    pub drops_kernel: u64,
    /// See [`SourceStats::drops_socket_buffer`].
    pub drops_socket_buffer: u64,
    /// See [`SourceStats::drops_queue_full`].
    pub drops_queue_full: u64,
    /// See [`SourceStats::errors`].
    pub errors: u64,
    /// See [`SourceStats::files_done`].
    pub files_done: u64,
}

impl StatsSnapshot {
    /// Every drop, whatever the reason.
    pub fn drops_total(&self) -> u64 {
        self.drops_kernel + self.drops_socket_buffer + self.drops_queue_full
    }

    /// `(reason, count)` pairs of the drop counters, for a labelled metric.
    pub fn drops_by_reason(&self) -> [(&'static str, u64); 3] {
        [
            ("kernel", self.drops_kernel),
            ("socket_buffer", self.drops_socket_buffer),
            ("queue_full", self.drops_queue_full),
        ]
    }
}

impl SourceStats {
    /// Reads every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            packets: self.packets.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            drops_kernel: self.drops_kernel.load(Relaxed),
            drops_socket_buffer: self.drops_socket_buffer.load(Relaxed),
            drops_queue_full: self.drops_queue_full.load(Relaxed),
            errors: self.errors.load(Relaxed),
            files_done: self.files_done.load(Relaxed),
        }
    }

    /// Counts one delivered unit of `bytes` bytes.
    pub(crate) fn delivered(&self, bytes: usize) {
        self.packets.fetch_add(1, Relaxed);
        self.bytes.fetch_add(bytes as u64, Relaxed);
    }

    /// Adds `n` to a counter.
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Relaxed);
        }
    }
}
