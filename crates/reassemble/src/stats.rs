//! Counters of the whole reassembler (per-connection counters travel in `FlowStats`).

use serde::Serialize;

/// What the reassembler did since it was built. Monotonic counters, except the two gauges
/// available from [`Reassembler::flow_count`](crate::Reassembler::flow_count) and
/// [`Reassembler::buffered_bytes`](crate::Reassembler::buffered_bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReassemblyStats {
    /// Segments given to `process`.
    pub segments: u64,
    /// Payload bytes captured in those segments (duplicates included).
    pub payload_bytes: u64,
    /// Bytes delivered in `Data` events.
    pub delivered_bytes: u64,
    /// `Gap` events emitted.
    pub gaps: u64,
    /// Bytes declared missing in `Gap` events.
    pub gap_bytes: u64,
    /// Gaps declared because the peer acknowledged bytes the capture never showed.
    pub gaps_by_ack: u64,
    /// Gaps declared because an out-of-order buffer limit was reached.
    pub gaps_by_buffer_cap: u64,
    /// Gaps declared because the captured payload was shorter than announced (snap length).
    pub gaps_by_snaplen: u64,
    /// Gaps declared when a connection closed (FIN, RST, timeout, eviction, end) with holes left.
    pub gaps_at_close: u64,
    /// Bytes received again after they had been delivered or buffered.
    pub retransmitted_bytes: u64,
    /// Segments buffered because they arrived ahead of a hole.
    pub out_of_order_segments: u64,
    /// Overlapping segments whose bytes differed from the copy kept ("first copy wins").
    pub inconsistent_overlaps: u64,
    /// SYN or SYN-ACK retransmissions (same ISN) that were ignored.
    pub syn_retransmissions: u64,
    /// Connections opened (`Open` events).
    pub flows_created: u64,
    /// Of those, connections opened with a SYN or SYN-ACK seen.
    pub flows_with_handshake: u64,
    /// Connections closed, by reason.
    pub closed: ClosedCounts,
    /// Segments dropped, by reason.
    pub drops: DropCounts,
}

/// Connections closed, by [`CloseReason`](periscope_model::CloseReason).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClosedCounts {
    /// FIN seen both ways.
    pub fin: u64,
    /// RST seen.
    pub rst: u64,
    /// Idle timeout.
    pub timeout: u64,
    /// Evicted at `max_flows` (least recently active first).
    pub evicted: u64,
    /// Closed by `finish` (end of capture).
    pub end_of_capture: u64,
    /// Closed because a new SYN reused the 4-tuple.
    pub reused: u64,
}

/// Segments (or parts of segments) that were not used, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DropCounts {
    /// Segments of a connection already closed by FIN/RST (late retransmissions, final ACKs).
    pub after_close: u64,
    /// Segments carrying data beyond the sender's FIN.
    pub data_after_fin: u64,
    /// Segments starting more than 2^30 bytes ahead of the expected sequence number.
    pub out_of_window: u64,
    /// RST segments of unknown connections (not worth opening one to close it at once).
    pub rst_without_flow: u64,
    /// RST segments whose sequence number is far from the sender's stream (a sign of RST
    /// injection to blind a sensor); ignored.
    pub rst_out_of_window: u64,
    /// Segments whose announced payload length was absurd (more than 16 MiB); only the
    /// captured bytes were used.
    pub bad_payload_len: u64,
    /// Acknowledgment numbers more than 2^30 bytes ahead of the stream; ignored for gap
    /// detection.
    pub ack_out_of_window: u64,
}
