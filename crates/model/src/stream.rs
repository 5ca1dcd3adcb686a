//! What reassemble hands to http: ordered bytes per direction, gaps, open and close.

use crate::flow::{Direction, Endpoint, TunnelPath};
use crate::time::Timestamp;
use serde::Serialize;

/// One happening on a reassembled TCP connection. Each is delivered with the connection's
/// [`FlowId`](crate::FlowId).
#[derive(Debug, Clone, Copy)]
pub enum StreamEvent<'a> {
    /// First event of every connection.
    Open {
        /// Time of the first packet seen.
        ts: Timestamp,
        /// The side that opened the connection (or the reassembler's best guess, see `handshake`).
        client: Endpoint,
        /// The side that accepted it.
        server: Endpoint,
        /// Tunnels the connection's packets came through.
        tunnel: TunnelPath,
        /// Innermost VLAN id.
        vlan: Option<u16>,
        /// True when a SYN or SYN-ACK fixed the roles; false when the connection was picked up
        /// mid-stream and the roles are guessed from ports.
        handshake: bool,
    },
    /// In-order bytes. `bytes` is valid only for the duration of the call.
    Data {
        /// Capture time of the segment that completed these bytes.
        ts: Timestamp,
        /// Which way they travel.
        dir: Direction,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// `len` bytes are missing in `dir` (packet loss, snap length, a capped buffer); later
    /// `Data` continues after them.
    Gap {
        /// When the gap was declared.
        ts: Timestamp,
        /// Which direction lost bytes.
        dir: Direction,
        /// Number of missing bytes.
        len: u64,
    },
    /// Last event of every connection.
    Close {
        /// When the connection ended (or was evicted).
        ts: Timestamp,
        /// Why.
        reason: CloseReason,
        /// What was seen on the connection over its life.
        stats: &'a FlowStats,
    },
}

/// Why a connection's events ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// FIN seen in both directions.
    Fin,
    /// RST seen.
    Rst,
    /// No packet for the idle timeout (in capture time).
    Timeout,
    /// Evicted to make room in the flow table.
    Evicted,
    /// End of input.
    EndOfCapture,
    /// A new SYN reused the 4-tuple.
    Reused,
}

/// Counters for one connection, delivered with `Close`; coverage reporting is built from them.
/// Arrays are indexed by [`Direction::index`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlowStats {
    /// Packets seen per direction.
    pub packets: [u64; 2],
    /// Payload bytes seen per direction (before removing duplicates).
    pub bytes: [u64; 2],
    /// SYN (client) seen.
    pub syn: bool,
    /// SYN-ACK (server) seen.
    pub syn_ack: bool,
    /// FIN seen per direction.
    pub fin: [bool; 2],
    /// RST seen.
    pub rst: bool,
    /// Bytes declared missing per direction.
    pub gap_bytes: [u64; 2],
    /// Number of gaps per direction.
    pub gaps: [u64; 2],
    /// Bytes received again after they had been delivered (retransmissions, overlaps).
    pub retransmitted_bytes: [u64; 2],
    /// Segments that arrived ahead of a hole and had to be buffered.
    pub out_of_order: [u64; 2],
    /// Overlapping segments whose bytes differed from what had been kept (an evasion sign).
    pub inconsistent_overlaps: [u64; 2],
}
