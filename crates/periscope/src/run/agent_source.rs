//! `type = "agent"`: eBPF agents (`periscope agent --sensor`) stream reassembled connections
//! over TCP or TLS with a shared token (and optionally client certificates). Their stream
//! events skip decode and reassembly and go to the worker owning the connection.
//!
//! Back-pressure: a connection thread waits for room in the worker's queue; the socket then
//! stops being read and the agent buffers on its side (turning data into counted gaps when its
//! buffer is full), so the sensor itself never drops an agent's events.

use super::config::AgentSource;
use super::shard::{key_shard, WhenFull, WorkItem, Workers};
use periscope_agent::wire::{self, SensorSession, WireEvent};
use periscope_model::{FlowId, StreamEvent};
use periscope_serve::Metrics;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A silent agent is dropped after this long (it reconnects and resumes).
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Agent sessions remembered for resumption.
const MAX_SESSIONS: usize = 4096;

/// A bound agent listener, ready to run.
pub struct AgentListener {
    listener: TcpListener,
    token: Vec<u8>,
    tls: Option<Arc<rustls::ServerConfig>>,
    max_connections: usize,
    label: String,
}

impl AgentListener {
    /// Reads the token and TLS files and binds the address: every configuration fault shows
    /// before the daemon starts.
    pub fn bind(cfg: &AgentSource, label: String) -> anyhow::Result<Self> {
        let token = super::config::read_token_file(&cfg.token_file)?;
        let tls = match (&cfg.tls_cert, &cfg.tls_key) {
            (Some(cert), Some(key)) => Some(wire::server_tls_config(
                cert,
                key,
                cfg.client_ca.as_deref(),
            )?),
            _ => None,
        };
        let listener = TcpListener::bind(cfg.listen)
            .map_err(|e| anyhow::anyhow!("agent listener on {}: {e}", cfg.listen))?;
        listener.set_nonblocking(true)?;
        Ok(AgentListener {
            listener,
            token: token.into_bytes(),
            tls,
            max_connections: cfg.max_connections,
            label,
        })
    }

    /// Accepts agents until `stop` is set, then closes their connections and waits for their
    /// threads.
    pub fn run(self, workers: Workers, stop: Arc<AtomicBool>, metrics: Arc<Metrics>) {
        let shared = Arc::new(Shared {
            token: self.token,
            tls: self.tls,
            prior: Mutex::new(HashMap::new()),
            open: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
            workers,
            metrics,
            label: self.label,
        });
        let mut threads = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            match self.listener.accept() {
                Ok((tcp, peer)) => {
                    let open = shared.open.lock().map(|o| o.len()).unwrap_or(usize::MAX);
                    if open >= self.max_connections {
                        tracing::warn!(%peer, open, "agent refused: too many agent connections");
                        continue;
                    }
                    let shared = shared.clone();
                    let spawned = std::thread::Builder::new()
                        .name("agent-conn".into())
                        .spawn(move || shared.serve(tcp, peer));
                    match spawned {
                        Ok(t) => threads.push(t),
                        Err(e) => tracing::error!(error = %e, "cannot start an agent thread"),
                    }
                    threads.retain(|t| !t.is_finished());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accepting an agent failed");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        if let Ok(open) = shared.open.lock() {
            for s in open.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        for t in threads {
            let _ = t.join();
        }
    }
}

struct Shared {
    token: Vec<u8>,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Session → frame bytes delivered, so a resumed session is not delivered twice.
    prior: Mutex<HashMap<u64, u64>>,
    /// Open connections (a clone of each socket, to close them at shutdown).
    open: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
    workers: Workers,
    metrics: Arc<Metrics>,
    label: String,
}

impl Shared {
    fn serve(&self, tcp: TcpStream, peer: std::net::SocketAddr) {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let setup = tcp
            .set_nonblocking(false)
            .and_then(|()| tcp.set_read_timeout(Some(READ_TIMEOUT)))
            .and_then(|()| tcp.set_nodelay(true))
            .and_then(|()| tcp.try_clone());
        match setup {
            Ok(clone) => {
                if let Ok(mut open) = self.open.lock() {
                    open.insert(id, clone);
                }
            }
            Err(e) => {
                tracing::warn!(%peer, error = %e, "agent connection setup failed");
                return;
            }
        }
        let result = match &self.tls {
            None => self.session(PeekSession::new(tcp)),
            Some(cfg) => match rustls::ServerConnection::new(cfg.clone()) {
                Ok(conn) => self.session(PeekSession::new(rustls::StreamOwned::new(conn, tcp))),
                Err(e) => Err(io::Error::other(e)),
            },
        };
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
        match result {
            Ok(s) => tracing::info!(%peer, session = s.session, delivered = s.delivered,
                malformed = s.malformed, "agent disconnected"),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                tracing::warn!(%peer, error = %e, "agent refused")
            }
            Err(e) => tracing::info!(%peer, error = %e, "agent connection ended"),
        }
    }

    fn session<S: Read + Write>(&self, mut stream: PeekSession<S>) -> io::Result<SensorSession> {
        let mut prior = self.prior.lock().map(|p| p.clone()).unwrap_or_default();
        let counters = self.metrics.source_counters(&self.label);
        let session_of = stream.session.clone();
        let workers = self.workers.clone();
        let mut sink = |flow: FlowId, ev: StreamEvent<'_>| {
            let session = session_of.load(Ordering::Relaxed);
            let flow = sensor_flow_id(session, flow);
            let bytes = match ev {
                StreamEvent::Data { bytes, .. } => bytes.len() as u64,
                _ => 0,
            };
            counters.add(1, bytes);
            let shard = key_shard(flow, workers.len());
            workers.send(shard, WorkItem::Stream(owned(flow, ev)), WhenFull::Wait);
        };
        let result = SensorSession::serve(&mut stream, &self.token, &mut prior, &mut sink);
        if let Ok(mut shared) = self.prior.lock() {
            for (session, delivered) in prior {
                let e = shared.entry(session).or_default();
                *e = (*e).max(delivered);
            }
            if shared.len() > MAX_SESSIONS {
                // Forget arbitrary old sessions; one that resumes later is taken as new.
                let excess: Vec<u64> = shared
                    .keys()
                    .take(shared.len() - MAX_SESSIONS)
                    .copied()
                    .collect();
                for k in excess {
                    shared.remove(&k);
                }
            }
        }
        result
    }
}

/// Flow ids of agent connections, apart from the ids the workers' reassemblers give (those
/// count up from 1; these have the top bit set), and apart between agent sessions.
fn sensor_flow_id(session: u64, flow: FlowId) -> FlowId {
    let tag = (session ^ (session >> 17) ^ (session >> 41)) & 0x7fff;
    FlowId((1 << 63) | (tag << 48) | (flow.0 & 0xffff_ffff_ffff))
}

fn owned(flow: FlowId, ev: StreamEvent<'_>) -> WireEvent {
    match ev {
        StreamEvent::Open {
            ts,
            client,
            server,
            handshake,
            ..
        } => WireEvent::Open {
            flow,
            ts,
            client,
            server,
            handshake,
        },
        StreamEvent::Data { ts, dir, bytes } => WireEvent::Data {
            flow,
            ts,
            dir,
            bytes: bytes.to_vec(),
        },
        StreamEvent::Gap { ts, dir, len } => WireEvent::Gap { flow, ts, dir, len },
        StreamEvent::Close { ts, reason, stats } => WireEvent::Close {
            flow,
            ts,
            reason,
            stats: Box::new(stats.clone()),
        },
    }
}

/// Passes bytes through and keeps the session id from the hello (bytes 8..16, little endian)
/// so that flow ids can be told apart per agent session.
struct PeekSession<S> {
    inner: S,
    head: Vec<u8>,
    session: Arc<AtomicU64>,
}

impl<S> PeekSession<S> {
    fn new(inner: S) -> Self {
        PeekSession {
            inner,
            head: Vec::with_capacity(16),
            session: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl<S: Read> Read for PeekSession<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.head.len() < 16 {
            let want = 16 - self.head.len();
            self.head
                .extend_from_slice(buf.get(..n.min(want)).unwrap_or(&[]));
            if let Some(id) = self.head.get(8..16).and_then(|b| b.try_into().ok()) {
                self.session
                    .store(u64::from_le_bytes(id), Ordering::Relaxed);
            }
        }
        Ok(n)
    }
}

impl<S: Write> Write for PeekSession<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_flow_ids_stay_apart_from_reassembler_ids_and_between_sessions() {
        let a = sensor_flow_id(1, FlowId(7));
        let b = sensor_flow_id(2, FlowId(7));
        assert_ne!(a, b);
        assert!(a.0 >= 1 << 63 && b.0 >= 1 << 63);
        assert_eq!(sensor_flow_id(1, FlowId(7)), a);
    }

    #[test]
    fn the_session_is_read_from_the_hello() -> io::Result<()> {
        let hello = wire::hello(0xfeed, 0, b"t");
        let mut s = PeekSession::new(io::Cursor::new(hello));
        let mut b = [0u8; 5];
        while s.read(&mut b)? > 0 {}
        assert_eq!(s.session.load(Ordering::Relaxed), 0xfeed);
        Ok(())
    }
}
