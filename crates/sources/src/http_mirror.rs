//! The receiving end of nginx's `mirror` directive: an HTTP/1.1 listener (axum on tokio) that
//! turns each mirrored request into an [`Exchange`] with `request: Some(..)`, `response: None`
//! and [`Flag::NoResponse`], and answers `204 No Content` at once (nginx ignores mirror
//! responses; answering fast frees its subrequest).
//!
//! **Endpoints.** nginx connects from its own address, so the real client is passed in a header
//! (default `X-Periscope-Client: $remote_addr:$remote_port`) and the server in another
//! (`X-Periscope-Server: $server_addr:$server_port`), and the client's protocol version in a
//! third (`X-Periscope-Protocol: $server_protocol`). They are believed **only when the TCP
//! peer is in [`HttpMirrorConfig::trusted_proxies`]**; otherwise the client is the TCP peer
//! and the server the listener's own address. The control headers are always removed from the
//! exchange.
//!
//! **Delivery.** Exchanges go to an [`ExchangeSink`] that must not block (e.g. `try_send` on a
//! bounded channel, see [`channel_sink`]); when it refuses, the exchange is counted in
//! [`SourceStats::drops_queue_full`] and nginx still gets its 204. Ids come from a counter the
//! caller shares with the rest of the daemon (`fetch_add(1)`), so they are unique across sources.
//!
//! **Limits.** The body is kept up to [`HttpMirrorConfig::body_cap`] bytes (the rest is read
//! and counted, and the exchange flagged [`Flag::RequestTruncated`]); a request whose body does
//! not arrive within [`HttpMirrorConfig::body_timeout`] is dropped (counted in
//! [`SourceStats::errors`]). hyper limits the header block. Header names arrive lower-cased
//! (hyper normalises them) and in their order of first appearance.

use crate::{SourceError, SourceStats};
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Request as HttpRequest, StatusCode, Version};
use axum::Router;
use http_body_util::BodyExt;
use periscope_model::exchange::FlowInfo;
use periscope_model::{
    Body as ModelBody, Endpoint, Exchange, Flag, FlowId, Headers, HttpVersion, Request, Timestamp,
    TunnelPath,
};
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where mirrored exchanges go. `offer` must return at once: true when the exchange was taken,
/// false when it had to be dropped (queue full or closed).
pub trait ExchangeSink: Send + Sync + 'static {
    /// Hands over one exchange without blocking.
    fn offer(&self, exchange: Exchange) -> bool;
}

impl<F: Fn(Exchange) -> bool + Send + Sync + 'static> ExchangeSink for F {
    fn offer(&self, exchange: Exchange) -> bool {
        self(exchange)
    }
}

/// A bounded channel as a sink: `try_send`, so a full queue drops instead of blocking nginx.
pub fn channel_sink(capacity: usize) -> (impl ExchangeSink, std::sync::mpsc::Receiver<Exchange>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
    (move |e| tx.try_send(e).is_ok(), rx)
}

/// An address or a CIDR block of trusted proxies, e.g. `127.0.0.1`, `10.0.0.0/8`, `::1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    addr: IpAddr,
    prefix: u8,
}

impl IpBlock {
    /// True when `ip` is in the block (IPv4-mapped IPv6 peers match IPv4 blocks).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpBlock {
    type Err = SourceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SourceError::Config(format!("trusted proxy {s:?}: not an address or CIDR"));
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(IpBlock { addr, prefix })
    }
}

/// Configuration of an [`HttpMirror`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMirrorConfig {
    /// Address to listen on, e.g. `127.0.0.1:9090`.
    pub listen: SocketAddr,
    /// Request body bytes kept per exchange. Default 1 MiB.
    pub body_cap: usize,
    /// Header carrying the real client as `ip:port` (`$remote_addr:$remote_port`). Default
    /// `X-Periscope-Client`.
    pub client_header: String,
    /// Header carrying the server as `ip:port` (`$server_addr:$server_port`). Default
    /// `X-Periscope-Server`.
    pub server_header: String,
    /// Header carrying the client's protocol (`$server_protocol`): nginx sends the copy with its
    /// own HTTP version, so without it every request looks like HTTP/1.1. `HTTP/1.0` is
    /// recorded as such, anything else (1.1, 2, 3) as HTTP/1.1. Default `X-Periscope-Protocol`.
    pub protocol_header: String,
    /// Peers whose control headers are believed (the nginx hosts). Default: none, so the TCP
    /// peer is the client.
    pub trusted_proxies: Vec<IpBlock>,
    /// Time allowed to receive a request body. Default 30 s.
    pub body_timeout: Duration,
}

impl HttpMirrorConfig {
    /// Defaults for listening on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        HttpMirrorConfig {
            listen,
            body_cap: 1 << 20,
            client_header: "X-Periscope-Client".into(),
            server_header: "X-Periscope-Server".into(),
            protocol_header: "X-Periscope-Protocol".into(),
            trusted_proxies: Vec::new(),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// What the request handler shares.
struct Shared {
    cfg: HttpMirrorConfig,
    local: SocketAddr,
    ids: Arc<AtomicU64>,
    sink: Box<dyn ExchangeSink>,
    stats: Arc<SourceStats>,
}

/// A bound mirror listener; run it with [`serve`](HttpMirror::serve) inside a tokio runtime or
/// [`run_blocking`](HttpMirror::run_blocking) on a thread of its own.
pub struct HttpMirror {
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HttpMirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpMirror")
            .field("listen", &self.shared.local)
            .finish_non_exhaustive()
    }
}

impl HttpMirror {
    /// Binds the listener (no runtime needed yet). Exchange ids are taken from `ids` with
    /// `fetch_add(1)`.
    pub fn bind(
        cfg: HttpMirrorConfig,
        ids: Arc<AtomicU64>,
        sink: impl ExchangeSink,
    ) -> Result<Self, SourceError> {
        if cfg.client_header.is_empty()
            || cfg.server_header.is_empty()
            || cfg.protocol_header.is_empty()
        {
            return Err(SourceError::Config(
                "client_header, server_header and protocol_header must be set".into(),
            ));
        }
        let what = format!("listen on TCP {}", cfg.listen);
        let listener =
            std::net::TcpListener::bind(cfg.listen).map_err(|e| SourceError::io(&what, e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| SourceError::io(&what, e))?;
        let local = listener
            .local_addr()
            .map_err(|e| SourceError::io(&what, e))?;
        Ok(HttpMirror {
            listener,
            shared: Arc::new(Shared {
                cfg,
                local,
                ids,
                sink: Box::new(sink),
                stats: Arc::default(),
            }),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// Counters, shared with the caller: `packets` counts delivered exchanges, `bytes` their
    /// body bytes.
    pub fn stats(&self) -> Arc<SourceStats> {
        Arc::clone(&self.shared.stats)
    }

    /// The request handler as a router, for tests without a socket (add
    /// `axum::extract::connect_info::MockConnectInfo` for the peer address).
    pub fn router(&self) -> Router {
        router(Arc::clone(&self.shared))
    }

    /// Serves until `shutdown` completes, then stops accepting and lets requests in progress
    /// finish. Must run inside a tokio runtime.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), SourceError> {
        let what = format!("serve HTTP on {}", self.shared.local);
        let listener = tokio::net::TcpListener::from_std(self.listener)
            .map_err(|e| SourceError::io(&what, e))?;
        let app = router(self.shared).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| SourceError::io(&what, e))
    }

    /// Serves on a single-threaded runtime of its own until `stop` becomes true (checked every
    /// 100 ms). For a daemon that gives each source a thread.
    pub fn run_blocking(self, stop: Arc<AtomicBool>) -> Result<(), SourceError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SourceError::io("start the HTTP mirror runtime", e))?;
        rt.block_on(self.serve(async move {
            while !stop.load(Relaxed) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }))
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(mirror).with_state(shared)
}

/// Every method and path: record the request, answer 204.
async fn mirror(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: HttpRequest<Body>,
) -> StatusCode {
    let ts = now();
    let (parts, body) = req.into_parts();
    let cap = shared.cfg.body_cap;
    let body = match tokio::time::timeout(shared.cfg.body_timeout, read_capped(body, cap)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) | Err(_) => {
            shared.stats.errors.fetch_add(1, Relaxed);
            return StatusCode::BAD_REQUEST;
        }
    };
    let trusted = shared
        .cfg
        .trusted_proxies
        .iter()
        .any(|b| b.contains(peer.ip()));
    let mut client = Endpoint::new(peer.ip(), peer.port());
    let mut server = Endpoint::new(shared.local.ip(), shared.local.port());
    let mut version = if parts.version == Version::HTTP_10 {
        HttpVersion::Http10
    } else {
        HttpVersion::Http11
    };
    let mut headers = Vec::with_capacity(parts.headers.len());
    let cfg = &shared.cfg;
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        let name = name.as_str();
        if name.eq_ignore_ascii_case(&cfg.client_header) {
            if let (true, Some(e)) = (trusted, parse_endpoint(&value)) {
                client = e;
            }
        } else if name.eq_ignore_ascii_case(&cfg.server_header) {
            if let (true, Some(e)) = (trusted, parse_endpoint(&value)) {
                server = e;
            }
        } else if name.eq_ignore_ascii_case(&cfg.protocol_header) {
            if trusted {
                version = if value.trim().eq_ignore_ascii_case("HTTP/1.0") {
                    HttpVersion::Http10
                } else {
                    HttpVersion::Http11
                };
            }
        } else {
            headers.push((name.to_string(), value.into_owned()));
        }
    }
    let mut flags = vec![Flag::NoResponse];
    if body.truncated {
        flags.push(Flag::RequestTruncated);
    }
    let body_len = body.data.len();
    let exchange = Exchange {
        id: shared.ids.fetch_add(1, Relaxed),
        flow_id: flow_id(client, server),
        ts,
        flow: FlowInfo {
            client,
            server,
            tunnel: TunnelPath::default(),
            vlan: None,
        },
        request: Some(Request {
            ts,
            method: parts.method.as_str().to_string(),
            target: parts.uri.to_string(),
            version,
            headers: Headers(headers),
            body: body.into_model(),
            trailers: Headers::default(),
        }),
        response: None,
        flags,
    };
    if shared.sink.offer(exchange) {
        shared.stats.delivered(body_len);
    } else {
        shared.stats.drops_queue_full.fetch_add(1, Relaxed);
    }
    StatusCode::NO_CONTENT
}

/// A body read up to a cap.
struct CappedBody {
    data: Vec<u8>,
    len: u64,
    truncated: bool,
}

impl CappedBody {
    fn into_model(self) -> ModelBody {
        ModelBody {
            len: self.len,
            data: self.data,
            decoded_from: None,
            truncated: self.truncated,
        }
    }
}

/// Reads the whole body (so the connection stays usable), keeping the first `cap` bytes.
async fn read_capped(mut body: Body, cap: usize) -> Result<CappedBody, axum::Error> {
    let mut out = CappedBody {
        data: Vec::new(),
        len: 0,
        truncated: false,
    };
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue; // trailers
        };
        out.len += data.len() as u64;
        let room = cap.saturating_sub(out.data.len());
        if data.len() > room {
            out.truncated = true;
        }
        out.data
            .extend_from_slice(data.get(..room.min(data.len())).unwrap_or(&[]));
    }
    Ok(out)
}

/// `ip:port` as nginx writes `$remote_addr:$remote_port`: IPv6 addresses come without brackets
/// (`::1:8080`); bracketed forms are accepted too.
fn parse_endpoint(s: &str) -> Option<Endpoint> {
    let s = s.trim();
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(Endpoint::new(sa.ip(), sa.port()));
    }
    let (ip, port) = s.rsplit_once(':')?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    Some(Endpoint::new(ip.parse().ok()?, port.parse().ok()?))
}

/// The same client and server give the same flow id (requests of one client connection are
/// grouped), stable across runs.
fn flow_id(client: Endpoint, server: Endpoint) -> FlowId {
    let mut h = std::hash::DefaultHasher::new();
    (client, server).hash(&mut h);
    FlowId(h.finish())
}

fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_secs_nanos(d.as_secs(), d.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_as_nginx_writes_them() {
        let v4 = parse_endpoint("192.0.2.7:51234");
        assert_eq!(v4, Some(Endpoint::new([192, 0, 2, 7].into(), 51234)));
        let v6 = parse_endpoint("2001:db8::1:443");
        assert_eq!(
            v6.map(|e| (e.ip.to_string(), e.port)),
            Some(("2001:db8::1".into(), 443))
        );
        let bracketed = parse_endpoint("[::1]:80");
        assert_eq!(bracketed.map(|e| e.port), Some(80));
        for bad in [
            "",
            "1.2.3.4",
            "1.2.3.4:port",
            "host:80",
            "1.2.3.4:70000",
            ":80",
        ] {
            assert_eq!(parse_endpoint(bad), None, "{bad}");
        }
    }

    #[test]
    fn trusted_proxy_blocks() -> Result<(), Box<dyn std::error::Error>> {
        let lo: IpBlock = "127.0.0.0/8".parse()?;
        assert!(lo.contains("127.1.2.3".parse()?));
        assert!(lo.contains("::ffff:127.0.0.1".parse()?));
        assert!(!lo.contains([10, 0, 0, 1].into()));
        let one: IpBlock = "10.1.2.3".parse()?;
        assert!(one.contains([10, 1, 2, 3].into()));
        assert!(!one.contains([10, 1, 2, 4].into()));
        let all: IpBlock = "0.0.0.0/0".parse()?;
        assert!(all.contains([8, 8, 8, 8].into()));
        let v6: IpBlock = "2001:db8::/32".parse()?;
        assert!(v6.contains("2001:db8:1::5".parse()?));
        assert!(!v6.contains([1, 2, 3, 4].into()));
        for bad in ["", "10.0.0.0/33", "::/129", "x/8", "10.0.0.0/"] {
            assert!(bad.parse::<IpBlock>().is_err(), "{bad}");
        }
        Ok(())
    }
}
