//! Counters of the HTTP stage. Each anomaly an exchange carries as a flag is also counted here,
//! so that loss and parse trouble show in metrics even when no exchange is produced.

use serde::Serialize;

/// Parse errors by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParseErrors {
    /// A message start was expected but the bytes were not a request/status line.
    pub bad_start_line: u64,
    /// A header block violated the grammar beyond lenient parsing.
    pub malformed_head: u64,
    /// More header fields than `max_headers`.
    pub too_many_headers: u64,
    /// A header block larger than `max_header_bytes`.
    pub header_too_large: u64,
    /// Bad chunked framing.
    pub invalid_chunk: u64,
}

/// Counters of one [`HttpTracker`](crate::HttpTracker) since it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpStats {
    /// Connections opened.
    pub connections: u64,
    /// Closed connections by protocol.
    pub connections_http1: u64,
    /// Closed TLS connections (not decrypted).
    pub connections_tls: u64,
    /// Closed HTTP/2 prior-knowledge connections.
    pub connections_http2: u64,
    /// Closed connections carrying something else.
    pub connections_other: u64,
    /// Closed connections with no payload.
    pub connections_empty: u64,
    /// Requests read (heads parsed).
    pub requests: u64,
    /// Final responses read (heads parsed; 1xx interim not counted).
    pub responses: u64,
    /// Interim 1xx responses.
    pub interim_responses: u64,
    /// Exchanges emitted.
    pub exchanges: u64,
    /// Exchanges emitted with a request and no response.
    pub no_response: u64,
    /// Exchanges emitted with a response and no request.
    pub no_request: u64,
    /// Responses that came after their request had been emitted without one.
    pub late_responses: u64,
    /// Responses left unpaired because a gap made the pairing ambiguous.
    pub ambiguous_after_gap: u64,
    /// Parse errors by kind.
    pub parse_errors: ParseErrors,
    /// Gaps delivered.
    pub gaps: u64,
    /// Gaps skipped inside a body of known length (no resync needed).
    pub gaps_skipped: u64,
    /// Bodies whose content encoding could not be decoded.
    pub decompression_failures: u64,
    /// Bodies whose decoding stopped at the size or ratio limit.
    pub decompression_limits: u64,
    /// Bodies cut at `body_cap` or by a gap.
    pub truncated_bodies: u64,
    /// Connections that switched protocol (101, CONNECT).
    pub upgrades: u64,
    /// Bytes seen after a switch of protocol.
    pub upgraded_bytes: u64,
    /// Requests emitted early because `max_pending_requests` was reached.
    pub pending_overflow: u64,
    /// Connections evicted from a full table.
    pub evictions: u64,
    /// Events for a flow that was not open (evicted, or Open never seen).
    pub unknown_flow_events: u64,
    /// Connections whose client/server roles were swapped.
    pub roles_swapped: u64,
}
