//! The output schema: one JSON object per line, each with a `"type"`.

use crate::exchange::Exchange;
use crate::flow::{Endpoint, TunnelPath};
use serde::Serialize;

/// Every kind of event Periscope emits. Serialized with a `"type"` field naming the variant.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A request/response pair.
    Exchange(Box<Exchange>),
    /// What the capture let Periscope see of one server.
    Coverage(Box<Coverage>),
    /// An attack found in a request, with its outcome.
    Attack(Box<crate::attack::Attack>),
    /// An endpoint of the API inventory (discovery).
    Endpoint(Box<crate::endpoint::EndpointEvent>),
    /// A weakness the application shows in its answers (passive vulnerability detection).
    Vulnerability(Box<crate::finding::Vulnerability>),
    /// Something seen across many requests: behavioural abuse, or hits grouped into attacks.
    Incident(Box<crate::finding::Incident>),
}

impl Event {
    /// The `"type"` name of the event, as serialized.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::Exchange(_) => "exchange",
            Event::Coverage(_) => "coverage",
            Event::Attack(_) => "attack",
            Event::Endpoint(_) => "endpoint",
            Event::Vulnerability(_) => "vulnerability",
            Event::Incident(_) => "incident",
        }
    }
}

/// Capture coverage of one server (address and port): answers "why don't I see my traffic?".
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// The server.
    pub server: Option<Endpoint>,
    /// Tunnels its traffic came through (of the first connection seen).
    pub tunnel: TunnelPath,
    /// Connections seen.
    pub connections: u64,
    /// Connections with traffic in one direction only.
    pub one_way_connections: u64,
    /// Connections whose handshake was not seen (picked up mid-stream).
    pub missing_handshakes: u64,
    /// Packets and payload bytes per direction (to server, to client).
    pub packets: [u64; 2],
    /// Payload bytes per direction.
    pub bytes: [u64; 2],
    /// Bytes missing from the reassembled streams, per direction.
    pub gap_bytes: [u64; 2],
    /// Estimated loss: gap bytes / (payload bytes + gap bytes), both directions.
    pub loss_rate: f64,
    /// HTTP exchanges produced.
    pub exchanges: u64,
    /// Exchanges without a response.
    pub no_response: u64,
    /// Responses without a request.
    pub no_request: u64,
    /// Exchanges with a truncated body.
    pub truncated_bodies: u64,
    /// Connections that carried TLS (not decrypted).
    pub tls_connections: u64,
    /// Connections that carried something other than HTTP/1.x or TLS.
    pub other_protocol_connections: u64,
    /// Human-readable findings, e.g. "one-way mirror: only server→client seen".
    pub notes: Vec<String>,
}
