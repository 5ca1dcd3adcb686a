//! HTTP/1.x for Periscope: turns reassembled TCP streams into owned [`Exchange`]s.
//!
//! **Owns:** HTTP/1.0 and 1.1 message parsing (with `httparse`), body framing (length,
//! chunked with trailers, close-delimited), content decoding (gzip, deflate, br, zstd,
//! stacked) with limits against decompression bombs, pairing of requests with responses
//! (keep-alive, pipelining, 1xx interim, 101/CONNECT switches), resynchronisation after gaps
//! and mid-stream pick-ups, and telling TLS / HTTP/2 / other protocols apart for coverage.
//!
//! **Input:** [`StreamEvent`]s per [`FlowId`] from the reassembler (`Open`, then `Data`/`Gap`
//! per direction, then `Close`). **Output:** [`HttpOutput::Exchange`] for each request and/or
//! response, and [`HttpOutput::Connection`] with a [`ConnectionSummary`] when a connection ends.
//!
//! **Limits** (all in [`HttpConfig`]): kept body bytes, decoder output and ratio, header block
//! size and field count, requests pending per connection, connections tracked (the oldest is
//! evicted). Reaching one sets a [`Flag`](periscope_model::Flag) on the exchange and bumps a
//! counter in [`HttpStats`]; nothing from the wire can make it fail or panic.
//!
//! **Pairing after loss:** responses answer requests in order, but loss hides how many
//! messages went missing. Whenever the count is uncertain the tracker emits requests and
//! responses alone (flagged `Gap`) instead of guessing; it pairs again once the traffic proves
//! order (see `h1/conn.rs`). A property test feeds thousands of damaged keep-alive and
//! pipelined conversations and checks that no pair is ever wrong. What a gap leaves of a head
//! (the start line and complete fields) is kept. A response delivered before its request
//! (cross-direction reordering) waits for it, up to the response timeout, when the connection
//! was seen whole without request loss.
//!
//! Layout: `h1/parser.rs` (pure functions over bytes), `h1/half.rs` (one direction's message
//! reader), `h1/conn.rs` (pairing and gap bookkeeping), `tracker.rs` (the driver), `decode.rs`,
//! `classify.rs`.
//!
//! ```
//! use periscope_http::{HttpConfig, HttpOutput, HttpTracker};
//! use periscope_model::{Direction, Endpoint, FlowId, StreamEvent, Timestamp, TunnelPath};
//!
//! let mut t = HttpTracker::new(HttpConfig::default());
//! let ep = |p| Endpoint::new([10, 0, 0, 1].into(), p);
//! let (flow, ts) = (FlowId(1), Timestamp(1));
//! let mut out = Vec::new();
//! let mut push = |o: HttpOutput| out.push(o);
//! t.on_event(flow, StreamEvent::Open { ts, client: ep(40000), server: ep(80),
//!     tunnel: TunnelPath::default(), vlan: None, handshake: true }, &mut push);
//! t.on_event(flow, StreamEvent::Data { ts, dir: Direction::ToServer,
//!     bytes: b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n" }, &mut push);
//! t.on_event(flow, StreamEvent::Data { ts, dir: Direction::ToClient,
//!     bytes: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" }, &mut push);
//! t.finish(&mut push);
//! let HttpOutput::Exchange(x) = &out[0] else { panic!() };
//! assert_eq!(x.response.as_ref().map(|r| r.status), Some(200));
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod classify;
mod config;
mod decode;
mod error;
mod h1;
mod stats;
mod tracker;

pub use classify::Protocol;
pub use config::{HttpConfig, MAX_HEADERS_LIMIT};
pub use error::ConfigError;
pub use stats::{HttpStats, ParseErrors};
pub use tracker::{ConnectionSummary, HttpOutput, HttpTracker};

#[doc(no_inline)]
pub use periscope_model::{Exchange, FlowId, StreamEvent};
