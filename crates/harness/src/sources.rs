//! The `sources` target: what the live sources read from peers and from disk that is not a
//! capture — the HTTP mirror's control headers and the pcap directory's state file.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use periscope_model::Exchange;
use periscope_sources::{ExchangeSink, HttpMirror, HttpMirrorConfig, IpBlock, PcapDirConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};
use tower::ServiceExt;

/// The control headers, as configured by default.
const CONTROL: [&str; 3] = [
    "x-periscope-client",
    "x-periscope-server",
    "x-periscope-protocol",
];
/// Peers of the mirror: the first two are trusted proxies, the others are not.
const PEERS: [&str; 4] = [
    "127.0.0.1:50000",
    "[::ffff:10.1.2.3]:40000",
    "192.0.2.9:1234",
    "[2001:db8::7]:443",
];
const TRUSTED: [&str; 2] = ["127.0.0.1", "10.0.0.0/8"];

/// Keeps what the mirror delivers.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<Exchange>>>);

impl ExchangeSink for Collect {
    fn offer(&self, exchange: Exchange) -> bool {
        if let Ok(mut v) = self.0.lock() {
            v.push(exchange);
        }
        true
    }
}

struct Mirror {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    delivered: Collect,
}

/// One mirror (bound once per process on a loopback port, only its router is used).
fn mirror() -> Option<&'static Mirror> {
    static MIRROR: OnceLock<Option<Mirror>> = OnceLock::new();
    MIRROR
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .ok()?;
            let mut cfg = HttpMirrorConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
            cfg.body_cap = 256;
            cfg.trusted_proxies = TRUSTED.iter().filter_map(|s| s.parse().ok()).collect();
            let delivered = Collect::default();
            let mirror = HttpMirror::bind(cfg, Arc::new(AtomicU64::new(1)), delivered.clone());
            let router = mirror.ok()?.router();
            Some(Mirror {
                runtime,
                router,
                delivered,
            })
        })
        .as_ref()
}

/// The input is cut at `0xfe` bytes into up to three parts, after a first byte that picks the
/// mirror's peer (bits 0–1: two trusted proxies, two other addresses):
///
/// 1. a request copy as nginx's `mirror` sends it: `METHOD target`, `name: value` lines, an
///    empty line, the body. It goes through the mirror's router as from the peer; an untrusted
///    peer's control headers must be ignored, and no control header may be recorded as a header.
/// 2. the pcap directory's state file, opened as `PcapDirSource` does at start.
/// 3. a trusted-proxy block as written in the configuration (`IpBlock`), checked against the
///    peers.
pub fn sources(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |&b| b == 0xfe);
    let peer_index = usize::from(pick & 3);
    mirror_request(parts.next().unwrap_or_default(), peer_index);
    state_file(parts.next().unwrap_or_default());
    if let Ok(block) = String::from_utf8_lossy(parts.next().unwrap_or_default()).parse::<IpBlock>()
    {
        for peer in PEERS.iter().filter_map(|p| p.parse::<SocketAddr>().ok()) {
            let _ = block.contains(peer.ip());
        }
    }
}

/// A request copy (part 1 of a `sources` input) through the mirror's router as from
/// peer `peer_index` (0 and 1 trusted, 2 and 3 not): the exchanges it delivered.
pub fn mirror_exchanges(bytes: &[u8], peer_index: usize) -> Vec<Exchange> {
    let Some(m) = mirror() else {
        return Vec::new();
    };
    let Some(Ok(peer)) = PEERS.get(peer_index).map(|p| p.parse::<SocketAddr>()) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    // `METHOD target [version]`, as on the wire.
    let mut start = lines.next().unwrap_or_default().split_whitespace();
    let method = start.next().unwrap_or("GET");
    let target = start.next().unwrap_or("/");
    let mut builder = Request::builder().method(method).uri(target);
    for (name, value) in lines.filter_map(|l| l.split_once(':')) {
        // What hyper would refuse never reaches the handler.
        let name = axum::http::HeaderName::from_bytes(name.trim().as_bytes());
        let value = axum::http::HeaderValue::from_bytes(value.trim().as_bytes());
        if let (Ok(name), Ok(value)) = (name, value) {
            builder = builder.header(name, value);
        }
    }
    let Ok(mut request) = builder.body(Body::from(body.as_bytes().to_vec())) else {
        return Vec::new();
    };
    request.extensions_mut().insert(ConnectInfo(peer));
    let _ = m.runtime.block_on(m.router.clone().oneshot(request));
    m.delivered
        .0
        .lock()
        .map(|mut v| v.drain(..).collect())
        .unwrap_or_default()
}

fn mirror_request(bytes: &[u8], peer_index: usize) {
    let Ok(peer) = PEERS[peer_index].parse::<SocketAddr>() else {
        return;
    };
    for ex in mirror_exchanges(bytes, peer_index) {
        let trusted = peer_index < 2;
        if !trusted {
            assert_eq!(
                (ex.flow.client.ip, ex.flow.client.port),
                (peer.ip(), peer.port()),
                "an untrusted peer set the client"
            );
        }
        let headers = ex.request.as_ref().map(|r| &r.headers.0);
        assert!(
            headers
                .into_iter()
                .flatten()
                .all(|(n, _)| !CONTROL.iter().any(|c| n.eq_ignore_ascii_case(c))),
            "a control header was recorded as a request header"
        );
    }
}

/// The state file of a watched directory in a folder of this process.
fn state_file(bytes: &[u8]) {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let Some(dir) = DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("periscope-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        Some(dir)
    }) else {
        return;
    };
    let state = dir.join("state");
    if std::fs::write(&state, bytes).is_err() {
        return;
    }
    let mut cfg = PcapDirConfig::new(dir);
    cfg.state_file = Some(state);
    if let Ok(source) = periscope_sources::PcapDirSource::open(cfg) {
        let _ = source.done_files().count();
    }
    let _ = std::fs::remove_file(dir.join("state"));
}
