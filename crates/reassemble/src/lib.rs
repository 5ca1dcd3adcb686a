//! TCP reassembly: turns decoded [`Segment`](periscope_model::Segment)s into ordered byte
//! streams per connection.
//!
//! **Owns** the flow table (capped, least-recently-active eviction, idle timeouts in capture
//! time), TCP sequence ordering per direction, and the detection of missing bytes.
//! **Input:** [`periscope_model::Segment`] (one TCP segment, tunnels unwrapped).
//! **Output:** [`periscope_model::StreamEvent`]s tagged with a [`FlowId`], pushed into a
//! [`StreamSink`]: per connection exactly one `Open` first, then `Data`/`Gap` per direction in
//! stream order, exactly one `Close` last carrying the connection's
//! [`FlowStats`](periscope_model::FlowStats).
//!
//! ```
//! use periscope_model::{Endpoint, FlowId, Segment, StreamEvent, TcpFlags, Timestamp, TunnelPath};
//! use periscope_reassemble::{Reassembler, ReassemblyConfig};
//!
//! let mut r = Reassembler::new(ReassemblyConfig::default());
//! let (c, s) = (Endpoint::new([10, 0, 0, 1].into(), 40000), Endpoint::new([10, 0, 0, 2].into(), 80));
//! let seg = |src, dst, seq, flags, payload: &'static [u8]| Segment {
//!     ts: Timestamp(1), src, dst, tunnel: TunnelPath::default(), vlan: None, seq, ack: 0,
//!     flags: TcpFlags(flags), window: 0, payload, payload_len: payload.len() as u32,
//! };
//! let mut got = Vec::new();
//! let mut sink = |_: FlowId, ev: StreamEvent<'_>| {
//!     if let StreamEvent::Data { bytes, .. } = ev { got.extend_from_slice(bytes) }
//! };
//! r.process(&seg(c, s, 100, TcpFlags::SYN, b""), &mut sink);
//! r.process(&seg(c, s, 105, TcpFlags::PSH, b"world"), &mut sink); // ahead of a hole: buffered
//! r.process(&seg(c, s, 101, TcpFlags::PSH, b"hell"), &mut sink);  // fills it
//! r.finish(&mut sink);
//! assert_eq!(got, b"hellworld");
//! ```
//!
//! # Policies
//!
//! - **Roles.** The sender of a SYN is the client, the sender of a SYN-ACK the server
//!   (`handshake: true`). A connection picked up mid-stream starts each direction at the
//!   sequence number of its first segment, and guesses the server (`handshake: false`): a port
//!   in `server_ports`, else the lower port if below 1024, else the non-ephemeral port (below
//!   32768), else the lower port. The `http` stage corrects a wrong guess.
//! - **Overlaps: first copy wins** (the BSD/Suricata default). Bytes already delivered or
//!   buffered are kept; a later copy of them is counted as retransmitted, and, when it differs
//!   from a *buffered* copy, as an inconsistent overlap (`FlowStats::inconsistent_overlaps`, an
//!   evasion sign). Bytes already delivered are not kept, so a differing retransmission of them
//!   is only counted as retransmitted.
//! - **Sequence numbers** are compared with serial-number arithmetic and turned into 64-bit
//!   stream offsets, so wrap-around at 2^32 is transparent. Segments (and ACKs, FINs) more than
//!   2^30 bytes ahead are not believed and are counted as dropped.
//! - **Gaps.** A hole that will not fill becomes `Gap { len }` and delivery goes on with the
//!   data after it. A hole is given up when the peer acknowledged bytes beyond it (the receiver
//!   got them, the capture did not) and they still have not shown up `ack_gap_delay` (50 ms of
//!   capture time) or 8 packets of the connection later — the wait keeps a capture that shows
//!   an ACK before the data it acknowledges (reordered mirror) from losing that data; when an
//!   out-of-order limit would be exceeded (per direction bytes and segments, total bytes); and
//!   when the connection closes (FIN both ways, RST, timeout, eviction, end of capture) — then
//!   bytes announced (up to the FIN, the furthest segment or the highest ACK) but never
//!   captured are a gap too. A segment cut by the snap length delivers its captured bytes and
//!   a gap for the rest (at once when in order, else when the hole before it resolves).
//! - **Close.** FIN seen in both directions closes with `Fin` (holes before a FIN become gaps);
//!   RST closes at once with `Rst` after flushing, unless its sequence number is far from the
//!   sender's stream (counted, ignored). Data beyond a FIN is dropped and counted.
//!   A closed connection lingers for `closed_timeout` so that late retransmissions are dropped
//!   instead of opening a "mid-stream" connection; a SYN with a new ISN on it opens a new
//!   connection. A SYN with a new ISN on a connection not yet closed (or a SYN from the wrong
//!   side) closes it with `Reused` and opens a new one. SYN/SYN-ACK retransmissions (same ISN)
//!   are counted and ignored. RSTs of unknown connections are counted and ignored.
//! - **Memory.** At most `max_flows` connections (lingering closed ones are dropped first, then
//!   the least recently active connection is closed with `Evicted`); all table operations are
//!   O(1). Only out-of-order data is copied; in-order data goes to the sink straight from the
//!   segment. A connection without anomalies costs one table entry (216 bytes; 100 000 idle
//!   connections measured at about 225 bytes each of resident memory, see
//!   `examples/flow_memory.rs`); buffers and anomaly counters are allocated on first need and
//!   charged at payload + 96 bytes per buffered segment against the buffer limits, which
//!   matches measured memory even for one-byte segments.
//! - **Time.** Timeouts run on capture time; `process` checks them every 100 ms of capture
//!   time and `advance` on demand. They assume roughly sorted timestamps: the recency lists
//!   are walked from the oldest entry and stop at the first one not expired, and one bogus
//!   far-future timestamp expires every idle connection at once.
//!
//! Every limit reached and every segment not used is counted in [`ReassemblyStats`].

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod half;
mod reassembler;
mod stats;
mod table;

#[cfg(test)]
mod tests;

pub use config::{ConfigError, ReassemblyConfig, MAX_FLOWS_LIMIT};
pub use reassembler::Reassembler;
pub use stats::{ClosedCounts, DropCounts, ReassemblyStats};

use periscope_model::{FlowId, StreamEvent};

/// Receives the reassembler's events (push model). Implemented for every
/// `FnMut(FlowId, StreamEvent<'_>)`.
pub trait StreamSink {
    /// One event of connection `flow`. Borrowed data is valid only during the call.
    fn on_event(&mut self, flow: FlowId, event: StreamEvent<'_>);
}

impl<F: FnMut(FlowId, StreamEvent<'_>)> StreamSink for F {
    fn on_event(&mut self, flow: FlowId, event: StreamEvent<'_>) {
        self(flow, event)
    }
}
