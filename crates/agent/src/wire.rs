//! The agent → sensor stream: stream events in length-prefixed frames over one TCP
//! connection, resumable after a reconnect without loss or duplication.
//!
//! ```text
//! agent  → sensor  HELLO  "PSCPAGT1" session:u64 resume:u64 token_len:u16 token
//! agent  → sensor  frame* len:u32 kind:u8 body          (len counts kind + body)
//! sensor → agent   ACK    offset:u64                     (bytes of frames received)
//! ```
//!
//! Offsets count frame bytes since the session began. The agent keeps every frame until
//! the sensor acknowledged it, and after a reconnect resends from `resume` (the first
//! unacknowledged byte); the sensor drops what it already had. Frames bodies: see
//! [`encode`]. All integers little endian. The decoder never panics on hostile input.

use periscope_model::{
    CloseReason, Direction, Endpoint, FlowId, FlowStats, StreamEvent, Timestamp,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, StreamOwned};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// First bytes of a connection.
pub const MAGIC: &[u8; 8] = b"PSCPAGT1";
/// Largest frame accepted (a Data frame holds at most one ring buffer chunk, 16 KiB).
pub const MAX_FRAME: usize = 1 << 20;
const K_OPEN: u8 = 1;
const K_DATA: u8 = 2;
const K_GAP: u8 = 3;
const K_CLOSE: u8 = 4;

fn put_ep(out: &mut Vec<u8>, e: &Endpoint) {
    match e.ip {
        IpAddr::V4(v) => {
            out.push(4);
            out.extend_from_slice(&v.octets());
            out.extend_from_slice(&[0; 12]);
        }
        IpAddr::V6(v) => {
            out.push(6);
            out.extend_from_slice(&v.octets());
        }
    }
    out.extend_from_slice(&e.port.to_le_bytes());
}

fn reason_code(r: CloseReason) -> u8 {
    match r {
        CloseReason::Fin => 0,
        CloseReason::Rst => 1,
        CloseReason::Timeout => 2,
        CloseReason::Evicted => 3,
        CloseReason::EndOfCapture => 4,
        CloseReason::Reused => 5,
    }
}

/// Appends one frame for `ev` to `out`.
pub fn encode(out: &mut Vec<u8>, flow: FlowId, ev: &StreamEvent<'_>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    match ev {
        StreamEvent::Open {
            ts,
            client,
            server,
            handshake,
            ..
        } => {
            out.push(K_OPEN);
            out.extend_from_slice(&flow.0.to_le_bytes());
            out.extend_from_slice(&ts.0.to_le_bytes());
            put_ep(out, client);
            put_ep(out, server);
            out.push(u8::from(*handshake));
        }
        StreamEvent::Data { ts, dir, bytes } => {
            out.push(K_DATA);
            out.extend_from_slice(&flow.0.to_le_bytes());
            out.extend_from_slice(&ts.0.to_le_bytes());
            out.push(dir.index() as u8);
            out.extend_from_slice(bytes);
        }
        StreamEvent::Gap { ts, dir, len } => {
            out.push(K_GAP);
            out.extend_from_slice(&flow.0.to_le_bytes());
            out.extend_from_slice(&ts.0.to_le_bytes());
            out.push(dir.index() as u8);
            out.extend_from_slice(&len.to_le_bytes());
        }
        StreamEvent::Close { ts, reason, stats } => {
            out.push(K_CLOSE);
            out.extend_from_slice(&flow.0.to_le_bytes());
            out.extend_from_slice(&ts.0.to_le_bytes());
            out.push(reason_code(*reason));
            for v in stats_words(stats) {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    let len = (out.len() - start - 4) as u32;
    if let Some(h) = out.get_mut(start..start + 4) {
        h.copy_from_slice(&len.to_le_bytes());
    }
}

fn stats_words(s: &FlowStats) -> [u64; 18] {
    [
        s.packets[0],
        s.packets[1],
        s.bytes[0],
        s.bytes[1],
        u64::from(s.syn),
        u64::from(s.syn_ack),
        u64::from(s.fin[0]),
        u64::from(s.fin[1]),
        u64::from(s.rst),
        s.gap_bytes[0],
        s.gap_bytes[1],
        s.gaps[0],
        s.gaps[1],
        s.retransmitted_bytes[0],
        s.retransmitted_bytes[1],
        s.out_of_order[0],
        s.out_of_order[1],
        s.inconsistent_overlaps[0] + (s.inconsistent_overlaps[1] << 32),
    ]
}

/// A decoded frame, owning its bytes; [`WireEvent::as_stream_event`] lends it to the HTTP
/// tracker like the reassembler would.
#[derive(Debug, Clone, PartialEq)]
pub enum WireEvent {
    /// `StreamEvent::Open`.
    Open {
        /// Flow.
        flow: FlowId,
        /// Time.
        ts: Timestamp,
        /// Client.
        client: Endpoint,
        /// Server.
        server: Endpoint,
        /// Roles known from accept/connect.
        handshake: bool,
    },
    /// `StreamEvent::Data`.
    Data {
        /// Flow.
        flow: FlowId,
        /// Time.
        ts: Timestamp,
        /// Direction.
        dir: Direction,
        /// Bytes.
        bytes: Vec<u8>,
    },
    /// `StreamEvent::Gap`.
    Gap {
        /// Flow.
        flow: FlowId,
        /// Time.
        ts: Timestamp,
        /// Direction.
        dir: Direction,
        /// Missing bytes.
        len: u64,
    },
    /// `StreamEvent::Close`.
    Close {
        /// Flow.
        flow: FlowId,
        /// Time.
        ts: Timestamp,
        /// Why.
        reason: CloseReason,
        /// Counters.
        stats: Box<FlowStats>,
    },
}

impl WireEvent {
    /// The flow and the event as the pipeline takes it.
    pub fn as_stream_event(&self) -> (FlowId, StreamEvent<'_>) {
        match self {
            WireEvent::Open {
                flow,
                ts,
                client,
                server,
                handshake,
            } => (
                *flow,
                StreamEvent::Open {
                    ts: *ts,
                    client: *client,
                    server: *server,
                    tunnel: Default::default(),
                    vlan: None,
                    handshake: *handshake,
                },
            ),
            WireEvent::Data {
                flow,
                ts,
                dir,
                bytes,
            } => (
                *flow,
                StreamEvent::Data {
                    ts: *ts,
                    dir: *dir,
                    bytes,
                },
            ),
            WireEvent::Gap { flow, ts, dir, len } => (
                *flow,
                StreamEvent::Gap {
                    ts: *ts,
                    dir: *dir,
                    len: *len,
                },
            ),
            WireEvent::Close {
                flow,
                ts,
                reason,
                stats,
            } => (
                *flow,
                StreamEvent::Close {
                    ts: *ts,
                    reason: *reason,
                    stats,
                },
            ),
        }
    }
}

/// Why a frame was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Length field above [`MAX_FRAME`] or below the minimum.
    #[error("frame length {0} out of range")]
    BadLength(usize),
    /// Unknown frame kind.
    #[error("unknown frame kind {0}")]
    BadKind(u8),
    /// Body shorter than its kind requires, or a bad field value.
    #[error("malformed frame body (kind {0})")]
    Malformed(u8),
    /// Not a Periscope agent, wrong token or bad hello.
    #[error("bad hello: {0}")]
    Hello(&'static str),
}

struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn dir(&mut self) -> Option<Direction> {
        match self.u8()? {
            0 => Some(Direction::ToServer),
            1 => Some(Direction::ToClient),
            _ => None,
        }
    }
    fn ep(&mut self) -> Option<Endpoint> {
        let fam = self.u8()?;
        let raw: [u8; 16] = self.take(16)?.try_into().ok()?;
        let ip = match fam {
            4 => IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
            6 => IpAddr::V6(Ipv6Addr::from(raw)),
            _ => return None,
        };
        Some(Endpoint::new(ip, self.u16()?))
    }
}

/// Decodes one frame body (`kind` + body, without the length).
pub fn decode(frame: &[u8]) -> Result<WireEvent, WireError> {
    let mut c = Cur(frame);
    let kind = c.u8().ok_or(WireError::BadLength(0))?;
    let bad = WireError::Malformed(kind);
    let flow = FlowId(c.u64().ok_or(bad)?);
    let ts = Timestamp(c.u64().ok_or(bad)?);
    let ev = match kind {
        K_OPEN => {
            let client = c.ep().ok_or(bad)?;
            let server = c.ep().ok_or(bad)?;
            let handshake = c.u8().ok_or(bad)? != 0;
            WireEvent::Open {
                flow,
                ts,
                client,
                server,
                handshake,
            }
        }
        K_DATA => {
            let dir = c.dir().ok_or(bad)?;
            WireEvent::Data {
                flow,
                ts,
                dir,
                bytes: c.0.to_vec(),
            }
        }
        K_GAP => {
            let dir = c.dir().ok_or(bad)?;
            WireEvent::Gap {
                flow,
                ts,
                dir,
                len: c.u64().ok_or(bad)?,
            }
        }
        K_CLOSE => {
            let reason = match c.u8().ok_or(bad)? {
                0 => CloseReason::Fin,
                1 => CloseReason::Rst,
                2 => CloseReason::Timeout,
                3 => CloseReason::Evicted,
                4 => CloseReason::EndOfCapture,
                5 => CloseReason::Reused,
                _ => return Err(bad),
            };
            let mut w = [0u64; 18];
            for v in &mut w {
                *v = c.u64().ok_or(bad)?;
            }
            let stats = FlowStats {
                packets: [w[0], w[1]],
                bytes: [w[2], w[3]],
                syn: w[4] != 0,
                syn_ack: w[5] != 0,
                fin: [w[6] != 0, w[7] != 0],
                rst: w[8] != 0,
                gap_bytes: [w[9], w[10]],
                gaps: [w[11], w[12]],
                retransmitted_bytes: [w[13], w[14]],
                out_of_order: [w[15], w[16]],
                inconsistent_overlaps: [w[17] & 0xffff_ffff, w[17] >> 32],
            };
            WireEvent::Close {
                flow,
                ts,
                reason,
                stats: Box::new(stats),
            }
        }
        k => return Err(WireError::BadKind(k)),
    };
    Ok(ev)
}

/// Splits a byte stream into frames. Feed it what the socket returned; take frames until
/// `next_frame` gives `None`.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
    pos: usize,
    /// Frame bytes consumed since the session began (the offset acknowledged to the agent).
    pub offset: u64,
}

impl FrameReader {
    /// Appends received bytes.
    pub fn feed(&mut self, b: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 1 << 20 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(b);
    }

    /// The next complete frame (kind + body), or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<&[u8], WireError>> {
        let rest = self.buf.get(self.pos..)?;
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        if len == 0 || len > MAX_FRAME {
            return Some(Err(WireError::BadLength(len)));
        }
        let frame = rest.get(4..4 + len)?;
        // The offset starts where the peer said it resumes: a hostile resume near u64::MAX
        // must end the session, not wrap (acknowledgements and de-duplication read it).
        let Some(offset) = self.offset.checked_add(4 + len as u64) else {
            return Some(Err(WireError::Hello("resume offset out of range")));
        };
        self.pos += 4 + len;
        self.offset = offset;
        Some(Ok(frame))
    }
}

/// Encodes the hello.
pub fn hello(session: u64, resume: u64, token: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(26 + token.len());
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&session.to_le_bytes());
    h.extend_from_slice(&resume.to_le_bytes());
    h.extend_from_slice(&(token.len().min(u16::MAX as usize) as u16).to_le_bytes());
    h.extend_from_slice(
        token
            .get(..token.len().min(u16::MAX as usize))
            .unwrap_or(&[]),
    );
    h
}

/// Reads and checks the hello on the sensor side: (session, resume offset).
pub fn read_hello(r: &mut impl Read, token: &[u8]) -> Result<(u64, u64), io::Error> {
    let mut fixed = [0u8; 26];
    r.read_exact(&mut fixed)?;
    let bad = |why| io::Error::new(io::ErrorKind::InvalidData, WireError::Hello(why));
    let mut c = Cur(&fixed);
    if c.take(8) != Some(&MAGIC[..]) {
        return Err(bad("not a Periscope agent"));
    }
    let (session, resume, tlen) = (
        c.u64().unwrap_or(0),
        c.u64().unwrap_or(0),
        c.u16().unwrap_or(0),
    );
    let mut t = vec![0u8; usize::from(tlen)];
    r.read_exact(&mut t)?;
    // Compare without an early exit so timing says nothing about the token.
    let same =
        t.len() == token.len() && t.iter().zip(token).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return Err(bad("wrong token"));
    }
    Ok((session, resume))
}

/// The agent's connection to the sensor: TCP, or TLS over TCP.
#[derive(Debug)]
enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(b),
            Conn::Tls(s) => s.read(b),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(b),
            Conn::Tls(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

fn load_certs(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| invalid(format!("{}: {e}", path.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!("{}: no certificate", path.display())));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| invalid(format!("{}: {e}", path.display())))
}

fn roots(ca: &Path) -> io::Result<RootCertStore> {
    let mut r = RootCertStore::empty();
    for c in load_certs(ca)? {
        r.add(c)
            .map_err(|e| invalid(format!("{}: {e}", ca.display())))?;
    }
    Ok(r)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// TLS settings of the agent: the CA that signed the sensor's certificate, and optionally
/// the agent's own certificate and key (client-certificate authentication).
pub fn client_tls_config(
    ca_pem: &Path,
    client_cert_and_key: Option<(&Path, &Path)>,
) -> io::Result<Arc<ClientConfig>> {
    let b = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .with_root_certificates(roots(ca_pem)?);
    let cfg = match client_cert_and_key {
        Some((cert, key)) => b
            .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
            .map_err(|e| invalid(e.to_string()))?,
        None => b.with_no_client_auth(),
    };
    Ok(Arc::new(cfg))
}

/// TLS settings of the sensor: its certificate and key, and optionally the CA whose client
/// certificates it requires from agents.
pub fn server_tls_config(
    cert_pem: &Path,
    key_pem: &Path,
    client_ca: Option<&Path>,
) -> io::Result<Arc<ServerConfig>> {
    let b = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?;
    let b = match client_ca {
        Some(ca) => {
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots(ca)?),
                provider(),
            )
            .build()
            .map_err(|e| invalid(e.to_string()))?;
            b.with_client_cert_verifier(v)
        }
        None => b.with_no_client_auth(),
    };
    Ok(Arc::new(
        b.with_single_cert(load_certs(cert_pem)?, load_key(key_pem)?)
            .map_err(|e| invalid(e.to_string()))?,
    ))
}

/// TLS to the sensor.
#[derive(Debug, Clone)]
pub struct SensorTls {
    /// Client settings (see [`client_tls_config`]).
    pub config: Arc<ClientConfig>,
    /// Name (or IP) the sensor's certificate must carry.
    pub server_name: ServerName<'static>,
}

/// Agent side: keeps frames until the sensor acknowledges them, reconnects with backoff
/// and resends from the first unacknowledged byte. Bounded: when `cap` bytes wait, new Data
/// becomes a Gap of the same length (so the sensor knows what is missing) and, past that,
/// events are dropped and counted.
#[derive(Debug)]
pub struct Forwarder {
    addr: SocketAddr,
    tls: Option<SensorTls>,
    token: Vec<u8>,
    session: u64,
    /// Frames not yet acknowledged; `buf[0]` is at stream offset `acked`.
    buf: VecDeque<u8>,
    cap: usize,
    acked: u64,
    sent: u64,
    conn: Option<Conn>,
    ack_buf: Vec<u8>,
    next_try: Instant,
    backoff: Duration,
    scratch: Vec<u8>,
    /// Data events turned into gaps because the buffer was full.
    pub degraded_to_gap: u64,
    /// Events dropped because not even a gap fitted.
    pub dropped: u64,
    /// Successful (re)connections.
    pub connects: u64,
}

impl Forwarder {
    /// A forwarder to `addr` with a buffer of `cap` bytes.
    pub fn new(addr: SocketAddr, token: &[u8], cap: usize) -> Self {
        let session = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (u64::from(std::process::id()) << 48);
        Forwarder {
            addr,
            tls: None,
            token: token.to_vec(),
            session,
            buf: VecDeque::new(),
            cap: cap.max(4096),
            acked: 0,
            sent: 0,
            conn: None,
            ack_buf: Vec::new(),
            next_try: Instant::now(),
            backoff: Duration::from_millis(100),
            scratch: Vec::new(),
            degraded_to_gap: 0,
            dropped: 0,
            connects: 0,
        }
    }

    /// The same over TLS.
    pub fn with_tls(addr: SocketAddr, tls: SensorTls, token: &[u8], cap: usize) -> Self {
        let mut f = Forwarder::new(addr, token, cap);
        f.tls = Some(tls);
        f
    }

    /// Bytes waiting for an acknowledgment.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Queues one event.
    pub fn push(&mut self, flow: FlowId, ev: &StreamEvent<'_>) {
        self.scratch.clear();
        encode(&mut self.scratch, flow, ev);
        if self.buf.len() + self.scratch.len() > self.cap {
            if let StreamEvent::Data { ts, dir, bytes } = ev {
                self.scratch.clear();
                encode(
                    &mut self.scratch,
                    flow,
                    &StreamEvent::Gap {
                        ts: *ts,
                        dir: *dir,
                        len: bytes.len() as u64,
                    },
                );
                if self.buf.len() + self.scratch.len() <= self.cap {
                    self.degraded_to_gap += 1;
                    self.buf.extend(&self.scratch);
                    return;
                }
            }
            self.dropped += 1;
            return;
        }
        self.buf.extend(&self.scratch);
    }

    /// Sends what it can without blocking for long, reads acknowledgments, reconnects when
    /// the sensor is away. Call after every `Agent::poll`.
    pub fn flush(&mut self) {
        if self.conn.is_none() {
            if Instant::now() < self.next_try {
                return;
            }
            match self.connect() {
                Ok(c) => {
                    self.conn = Some(c);
                    self.sent = self.acked;
                    self.backoff = Duration::from_millis(100);
                    self.connects += 1;
                }
                Err(e) => {
                    tracing::debug!(sensor = %self.addr, error = %e, "sensor unreachable");
                    self.next_try = Instant::now() + self.backoff;
                    self.backoff = (self.backoff * 2).min(Duration::from_secs(10));
                    return;
                }
            }
        }
        if let Err(e) = self.pump() {
            tracing::warn!(sensor = %self.addr, error = %e, "sensor connection lost; buffering");
            self.conn = None;
            self.ack_buf.clear();
            self.next_try = Instant::now() + self.backoff;
        }
    }

    fn connect(&self) -> io::Result<Conn> {
        let mut tcp = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
        tcp.set_write_timeout(Some(Duration::from_secs(5)))?;
        let hello = hello(self.session, self.acked, &self.token);
        let conn = match &self.tls {
            None => {
                tcp.write_all(&hello)?;
                Conn::Plain(tcp)
            }
            Some(t) => {
                let mut c = ClientConnection::new(t.config.clone(), t.server_name.clone())
                    .map_err(|e| invalid(e.to_string()))?;
                while c.is_handshaking() {
                    c.complete_io(&mut tcp)?;
                }
                let mut s = StreamOwned::new(c, tcp);
                s.write_all(&hello)?;
                s.flush()?;
                Conn::Tls(Box::new(s))
            }
        };
        match &conn {
            Conn::Plain(s) => s.set_nonblocking(true)?,
            Conn::Tls(s) => s.sock.set_nonblocking(true)?,
        }
        Ok(conn)
    }

    fn pump(&mut self) -> io::Result<()> {
        let Some(c) = self.conn.as_mut() else {
            return Ok(());
        };
        // Acknowledgments.
        let mut tmp = [0u8; 512];
        loop {
            match c.read(&mut tmp) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "sensor closed the connection",
                    ))
                }
                Ok(n) => self.ack_buf.extend_from_slice(tmp.get(..n).unwrap_or(&[])),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let mut newest = None;
        while self.ack_buf.len() >= 8 {
            let a: [u8; 8] = self
                .ack_buf
                .get(..8)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0; 8]);
            newest = Some(u64::from_le_bytes(a));
            self.ack_buf.drain(..8);
        }
        if let Some(off) = newest {
            if off > self.acked && off <= self.acked + self.buf.len() as u64 {
                self.buf.drain(..(off - self.acked) as usize);
                self.acked = off;
            }
        }
        // Unsent bytes.
        let end = self.acked + self.buf.len() as u64;
        while self.sent < end {
            let from = (self.sent - self.acked) as usize;
            let (a, b) = self.buf.as_slices();
            let slice = if from < a.len() {
                a.get(from..).unwrap_or(&[])
            } else {
                b.get(from - a.len()..).unwrap_or(&[])
            };
            match c.write(slice) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "sensor write returned 0",
                    ))
                }
                Ok(n) => self.sent += n as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        if let Some(Conn::Tls(s)) = self.conn.as_mut() {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
    }
}

/// Sensor side of one agent connection: checks the hello, decodes frames, acknowledges
/// them, and drops frames of a resumed session that were already delivered.
#[derive(Debug, Default)]
pub struct SensorSession {
    /// Agent session id (from the hello).
    pub session: u64,
    /// Frame bytes delivered so far in this session.
    pub delivered: u64,
    /// Frames rejected as malformed.
    pub malformed: u64,
}

impl SensorSession {
    /// Serves one agent connection until it closes: every new event goes to `sink`.
    /// `prior` is what an earlier connection of the same session delivered (0 for a new
    /// session), so a resumed stream is not delivered twice.
    ///
    /// Works over TCP or TLS (`rustls::StreamOwned<ServerConnection, TcpStream>` with
    /// [`server_tls_config`]); set a read timeout on the socket so a silent agent is dropped.
    pub fn serve<S: Read + Write>(
        stream: &mut S,
        token: &[u8],
        prior: &mut std::collections::HashMap<u64, u64>,
        sink: &mut impl FnMut(FlowId, StreamEvent<'_>),
    ) -> io::Result<SensorSession> {
        let (session, resume) = read_hello(stream, token)?;
        let delivered = prior.get(&session).copied().unwrap_or(0);
        let mut s = SensorSession {
            session,
            delivered,
            malformed: 0,
        };
        let mut fr = FrameReader {
            offset: resume,
            ..Default::default()
        };
        let mut buf = vec![0u8; 64 * 1024];
        let mut last_ack = Instant::now();
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A TLS peer that closed without close_notify: the stream is still complete
                // up to the last whole frame, and the agent resends anything unacknowledged.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => {
                    prior.insert(session, s.delivered);
                    return Err(e);
                }
            };
            fr.feed(buf.get(..n).unwrap_or(&[]));
            loop {
                let before = fr.offset;
                match fr.next_frame() {
                    None => break,
                    Some(Err(e)) => {
                        prior.insert(session, s.delivered);
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                    Some(Ok(frame)) => {
                        if before < s.delivered {
                            continue; // resent after a reconnect; already delivered
                        }
                        match decode(frame) {
                            Ok(ev) => {
                                let (flow, e) = ev.as_stream_event();
                                sink(flow, e);
                            }
                            Err(_) => s.malformed += 1,
                        }
                        s.delivered = fr.offset;
                    }
                }
            }
            prior.insert(session, s.delivered.max(fr.offset));
            if last_ack.elapsed() >= Duration::from_millis(20) || n < buf.len() {
                stream.write_all(&fr.offset.to_le_bytes())?;
                stream.flush()?;
                last_ack = Instant::now();
            }
        }
        prior.insert(session, s.delivered.max(fr.offset));
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::net::TcpListener;

    fn sample() -> Vec<(FlowId, WireEvent)> {
        let c = Endpoint::new([10, 0, 0, 1].into(), 40000);
        let s = Endpoint::new(
            "2001:db8::1".parse().unwrap_or(IpAddr::from([0u8; 16])),
            443,
        );
        let stats = FlowStats {
            packets: [3, 4],
            bytes: [100, 200],
            gaps: [1, 0],
            gap_bytes: [7, 0],
            inconsistent_overlaps: [2, 5],
            ..Default::default()
        };
        vec![
            (
                FlowId(1),
                WireEvent::Open {
                    flow: FlowId(1),
                    ts: Timestamp(5),
                    client: c,
                    server: s,
                    handshake: true,
                },
            ),
            (
                FlowId(1),
                WireEvent::Data {
                    flow: FlowId(1),
                    ts: Timestamp(6),
                    dir: Direction::ToServer,
                    bytes: b"GET / HTTP/1.1\r\n\r\n".to_vec(),
                },
            ),
            (
                FlowId(1),
                WireEvent::Gap {
                    flow: FlowId(1),
                    ts: Timestamp(7),
                    dir: Direction::ToClient,
                    len: 99,
                },
            ),
            (
                FlowId(1),
                WireEvent::Close {
                    flow: FlowId(1),
                    ts: Timestamp(8),
                    reason: CloseReason::Timeout,
                    stats: Box::new(stats),
                },
            ),
        ]
    }

    #[test]
    fn round_trip() {
        let mut out = Vec::new();
        for (f, e) in sample() {
            let (_, se) = e.as_stream_event();
            encode(&mut out, f, &se);
        }
        let mut fr = FrameReader::default();
        // Byte by byte: frames appear only when complete.
        let mut got = Vec::new();
        for b in &out {
            fr.feed(std::slice::from_ref(b));
            while let Some(f) = fr.next_frame() {
                got.push(f.and_then(decode));
            }
        }
        let want: Vec<_> = sample().into_iter().map(|(_, e)| Ok(e)).collect();
        assert_eq!(got, want);
        assert_eq!(fr.offset, out.len() as u64);
    }

    #[test]
    fn hostile_frames() {
        assert!(decode(&[]).is_err());
        assert_eq!(decode(&[9; 40]).err(), Some(WireError::BadKind(9)));
        let mut out = Vec::new();
        for (f, e) in sample() {
            let (_, se) = e.as_stream_event();
            encode(&mut out, f, &se);
        }
        // Every truncation of every frame body is an error, not a panic.
        let mut fr = FrameReader::default();
        fr.feed(&out);
        while let Some(Ok(frame)) = fr.next_frame() {
            for cut in 0..frame.len() {
                if frame.first() == Some(&K_DATA) && cut >= 18 {
                    continue; // a shorter Data frame is still a valid Data frame
                }
                assert!(decode(&frame[..cut]).is_err(), "cut {cut} of {frame:?}");
            }
        }
        let mut fr = FrameReader::default();
        fr.feed(&u32::MAX.to_le_bytes());
        assert!(matches!(
            fr.next_frame(),
            Some(Err(WireError::BadLength(_)))
        ));
        let mut fr = FrameReader::default();
        fr.feed(&0u32.to_le_bytes());
        assert!(matches!(
            fr.next_frame(),
            Some(Err(WireError::BadLength(0)))
        ));
    }

    #[test]
    fn hello_checks_magic_and_token() {
        let h = hello(7, 42, b"secret");
        assert_eq!(read_hello(&mut &h[..], b"secret").ok(), Some((7, 42)));
        assert!(read_hello(&mut &h[..], b"secreT").is_err());
        assert!(read_hello(&mut &h[..], b"secret2").is_err());
        let mut bad = h.clone();
        bad[0] = b'X';
        assert!(read_hello(&mut &bad[..], b"secret").is_err());
        assert!(read_hello(&mut &h[..10], b"secret").is_err());
    }

    #[test]
    fn buffer_full_turns_data_into_gaps_then_drops() {
        let addr: SocketAddr = "127.0.0.1:9"
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 9)));
        let mut f = Forwarder::new(addr, b"t", 4096);
        let big = vec![b'x'; 3000];
        f.push(
            FlowId(1),
            &StreamEvent::Data {
                ts: Timestamp(1),
                dir: Direction::ToServer,
                bytes: &big,
            },
        );
        f.push(
            FlowId(1),
            &StreamEvent::Data {
                ts: Timestamp(2),
                dir: Direction::ToServer,
                bytes: &big,
            },
        );
        assert_eq!(f.degraded_to_gap, 1);
        while f.pending() + 40 < 4096 {
            f.push(
                FlowId(1),
                &StreamEvent::Gap {
                    ts: Timestamp(3),
                    dir: Direction::ToServer,
                    len: 1,
                },
            );
        }
        f.push(
            FlowId(1),
            &StreamEvent::Data {
                ts: Timestamp(2),
                dir: Direction::ToServer,
                bytes: &big,
            },
        );
        assert_eq!(f.dropped, 1);
        assert!(f.pending() <= 4096);
    }

    /// Real TCP: the sensor goes away mid-stream and comes back; every event arrives
    /// exactly once and in order.
    #[test]
    fn reconnect_resends_unacked_without_duplicates() {
        let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
            return;
        };
        let Ok(addr) = listener.local_addr() else {
            return;
        };
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u64>>();
        let server = std::thread::spawn(move || {
            let mut prior = HashMap::new();
            let mut got = Vec::new();
            for round in 0..2 {
                let Ok((mut s, _)) = listener.accept() else {
                    return;
                };
                let mut sink = |_: FlowId, ev: StreamEvent<'_>| {
                    if let StreamEvent::Gap { len, .. } = ev {
                        got.push(len);
                    }
                };
                if round == 0 {
                    // Deliver and acknowledge only the first frame, then drop the connection
                    // with the rest unread: the agent must resend it, and only it.
                    let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
                    let Ok((session, _)) = read_hello(&mut s, b"tok") else {
                        return;
                    };
                    let mut fr = FrameReader::default();
                    let mut b = [0u8; 100];
                    if let Ok(n) = s.read(&mut b) {
                        fr.feed(&b[..n]);
                        if let Some(Ok(frame)) = fr.next_frame() {
                            if let Ok(ev) = decode(frame) {
                                let (f, e) = ev.as_stream_event();
                                sink(f, e);
                            }
                        }
                    }
                    prior.insert(session, fr.offset);
                    drop(s);
                } else {
                    let _ = SensorSession::serve(&mut s, b"tok", &mut prior, &mut sink);
                }
            }
            let _ = tx.send(got);
        });
        let mut f = Forwarder::new(addr, b"tok", 1 << 20);
        for i in 0..50u64 {
            f.push(
                FlowId(1),
                &StreamEvent::Gap {
                    ts: Timestamp(i),
                    dir: Direction::ToServer,
                    len: i,
                },
            );
        }
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end && (f.pending() > 0 || f.connects < 2) {
            f.flush();
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(f);
        let got = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
        let _ = server.join();
        assert_eq!(got, (0..50).collect::<Vec<_>>());
    }
}
