//! An HTTP request paired with its response: the first owned value on the path.

use crate::flow::{Endpoint, FlowId, TunnelPath};
use crate::time::Timestamp;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// How many body bytes the JSON `excerpt` shows.
pub const BODY_EXCERPT_LEN: usize = 256;

/// One HTTP exchange. A request with no response (requests-only mirror, lost response) has
/// `response: None`; a response whose request was not captured has `request: None`.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// Number of the exchange within the run, from 1.
    pub id: u64,
    /// The connection it was seen on.
    pub flow_id: FlowId,
    /// Time of the request's first byte (of the response's when there is no request).
    pub ts: Timestamp,
    /// Addresses and tunnels.
    pub flow: FlowInfo,
    /// The request, when captured.
    pub request: Option<Request>,
    /// The response, when captured.
    pub response: Option<Response>,
    /// What was odd or missing; empty for a clean exchange.
    pub flags: Vec<Flag>,
}

impl Exchange {
    /// True when `flag` is set.
    pub fn has(&self, flag: Flag) -> bool {
        self.flags.contains(&flag)
    }
}

/// Where an exchange was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct FlowInfo {
    /// The side that sent the request.
    pub client: Endpoint,
    /// The side that answered.
    pub server: Endpoint,
    /// Tunnels, outermost first (empty when not encapsulated).
    pub tunnel: TunnelPath,
    /// Innermost 802.1Q VLAN id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}

/// HTTP version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpVersion {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

impl HttpVersion {
    /// As written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
        }
    }
}

impl Serialize for HttpVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Header fields in wire order, `[name, value]`, names as sent (not lower-cased). Values are
/// decoded as UTF-8 with invalid bytes replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no field.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A message body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// Length of the body on the wire after removing chunked framing, before content decoding
    /// (counts bytes lost to gaps and bytes beyond the cap too).
    pub len: u64,
    /// The content, decoded from its `Content-Encoding` when that worked, capped at the
    /// configured body size.
    pub data: Vec<u8>,
    /// The `Content-Encoding` that was removed from `data`, if any.
    pub decoded_from: Option<String>,
    /// True when `data` holds less than the whole content (cap, gap, decompression limit).
    pub truncated: bool,
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Body", 5)?;
        st.serialize_field("len", &self.len)?;
        st.serialize_field("decoded_len", &self.data.len())?;
        let cut = self.data.len().min(BODY_EXCERPT_LEN);
        st.serialize_field("excerpt", &String::from_utf8_lossy(&self.data[..cut]))?;
        st.serialize_field("decoded_from", &self.decoded_from)?;
        st.serialize_field("truncated", &self.truncated)?;
        st.end()
    }
}

/// An HTTP request.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    /// Time of the first byte.
    pub ts: Timestamp,
    /// Method as sent.
    pub method: String,
    /// Request-target exactly as on the wire (path and query, or absolute form).
    pub target: String,
    /// Protocol version.
    pub version: HttpVersion,
    /// Header fields.
    pub headers: Headers,
    /// Body (empty when none).
    pub body: Body,
    /// Trailer fields of a chunked body.
    #[serde(skip_serializing_if = "Headers::is_empty")]
    pub trailers: Headers,
}

/// An HTTP response.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    /// Time of the first byte of the final (non-1xx) response.
    pub ts: Timestamp,
    /// Protocol version.
    pub version: HttpVersion,
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Header fields.
    pub headers: Headers,
    /// Body (empty when none).
    pub body: Body,
    /// Trailer fields of a chunked body.
    #[serde(skip_serializing_if = "Headers::is_empty")]
    pub trailers: Headers,
    /// Interim 1xx status codes that came before this response (e.g. 100 Continue).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interim: Vec<u16>,
}

/// Something odd or missing about an exchange. Anomalies are data: parsing goes on, and
/// detection reads them (request smuggling, evasion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Bytes of the request or response were lost (packet loss, snap length, buffer cap).
    Gap,
    /// No response was captured before the response timeout or the end of the connection.
    NoResponse,
    /// The response's request was not captured.
    NoRequest,
    /// The request body was cut at the body cap (or by a gap).
    RequestTruncated,
    /// The response body was cut at the body cap (or by a gap).
    ResponseTruncated,
    /// `101 Switching Protocols`: HTTP parsing stopped on this connection afterwards.
    Upgraded,
    /// A `Content-Encoding` could not be decoded; `data` holds the raw bytes.
    ContentDecodingFailed,
    /// Decoding stopped at the size or ratio cap (a decompression bomb, or a very large body).
    DecompressionLimit,
    /// Both `Content-Length` and `Transfer-Encoding: chunked` (a request smuggling sign).
    ContentLengthWithChunked,
    /// Several `Content-Length` fields with different values.
    ConflictingContentLength,
    /// Several `Content-Length` fields with the same value.
    DuplicateContentLength,
    /// A `Content-Length` that is not a number.
    InvalidContentLength,
    /// Malformed chunked framing.
    InvalidChunk,
    /// A `Transfer-Encoding` other than chunked, or chunked not last.
    UnusualTransferEncoding,
    /// A header line that violates the grammar but could be read leniently.
    InvalidHeader,
    /// The message ended with the connection before its announced length.
    IncompleteMessage,
    /// The roles (client/server) were swapped after the traffic showed the reassembler's guess wrong.
    RolesSwapped,
    /// A header used obsolete line folding (a continuation line starting with SP or HTTP-tab);
    /// it was unfolded. Parsers disagree on folding, so it is an evasion sign.
    ObsoleteLineFolding,
    /// A line ended with a bare LF instead of CRLF; it was accepted.
    BareLineFeed,
    /// The header block was larger than the configured byte limit: the start line and the
    /// fields that fit were kept, the rest of the message skipped to the next message start.
    HeaderTooLarge,
    /// A response that arrived after its request had already been emitted with `NoResponse`
    /// (response timeout or pipelining cap); it is emitted on its own rather than paired with a
    /// later request.
    LateResponse,
    /// The request line held bytes the grammar forbids there (raw non-ASCII that is not UTF-8,
    /// control characters, spaces inside the target); it was read anyway, with invalid UTF-8
    /// replaced by U+FFFD. Servers disagree on such lines, so it is an evasion sign.
    InvalidRequestTarget,
}
