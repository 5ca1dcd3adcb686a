//! The `http_mirror` source behind a real nginx (`mirror` + `mirror_request_body on`, the
//! snippet of the crate README) driven by curl on loopback: every request curl sent arrives
//! once, with its method, target, headers, body and the real client address; the control
//! headers are stripped; untrusted peers cannot choose their address; a full queue drops and
//! counts without blocking. Needs nginx and curl (skips with a printed reason otherwise).

mod common;

use common::*;
use periscope_model::{Endpoint, Exchange, Flag, HttpVersion};
use periscope_sources::{channel_sink, HttpMirror, HttpMirrorConfig, SourceError, SourceStats};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A port free at the time of asking.
fn free_port() -> Result<u16, std::io::Error> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// nginx with a front server that mirrors every request to `mirror` and proxies to a backend
/// server block answering 200. The mirror location is the README's snippet.
fn nginx_conf(dir: &std::path::Path, front: u16, backend: u16, mirror: SocketAddr) -> String {
    let d = dir.display();
    format!(
        r#"
user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 10m;
    client_body_buffer_size 1m;

    upstream periscope_mirror {{
        server {mirror};
        keepalive 8;
    }}

    server {{
        listen 127.0.0.1:{backend};
        location / {{ return 200 "backend\n"; }}
    }}

    server {{
        listen 127.0.0.1:{front};
        location / {{
            mirror /__periscope_mirror;
            mirror_request_body on;
            proxy_pass http://127.0.0.1:{backend};
        }}
        location = /__periscope_mirror {{
            internal;
            proxy_pass http://periscope_mirror$request_uri;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Periscope-Client $remote_addr:$remote_port;
            proxy_set_header X-Periscope-Server $server_addr:$server_port;
            proxy_set_header X-Periscope-Protocol $server_protocol;
            proxy_connect_timeout 200ms;
            proxy_send_timeout 2s;
            proxy_read_timeout 2s;
        }}
    }}
}}
"#
    )
}

/// Kills nginx and removes its directory when dropped.
struct Nginx(Child, std::path::PathBuf);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn wait_for_port(port: u16) -> Result<(), String> {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("nothing listens on {port}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// A mirror receiver running on its own thread until `stop`.
struct Running {
    addr: SocketAddr,
    rx: std::sync::mpsc::Receiver<Exchange>,
    stats: Arc<SourceStats>,
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Result<(), SourceError>>,
}

impl Running {
    fn start(
        cfg: HttpMirrorConfig,
        ids: Arc<AtomicU64>,
        queue: usize,
    ) -> Result<Self, SourceError> {
        let (sink, rx) = channel_sink(queue);
        let mirror = HttpMirror::bind(cfg, ids, sink)?;
        let addr = mirror.local_addr();
        let stats = mirror.stats();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let handle = std::thread::spawn(move || mirror.run_blocking(stop2));
        Ok(Running {
            addr,
            rx,
            stats,
            stop,
            handle,
        })
    }

    fn stop(self) -> Result<(), String> {
        self.stop.store(true, Relaxed);
        self.handle
            .join()
            .map_err(|_| "mirror thread panicked".to_string())?
            .map_err(|e| e.to_string())
    }
}

/// One curl request; `--local-port` fixes the client port so the test knows it.
struct Sent {
    tag: &'static str,
    method: &'static str,
    target: &'static str,
    body: Vec<u8>,
    local_port: u16,
    /// Sent as HTTP/1.0 (`curl --http1.0`); the others are HTTP/1.1.
    http10: bool,
}

fn curl(front: u16, s: &Sent, dir: &std::path::Path) -> Result<(), String> {
    let body_file = dir.join(format!("body-{}", s.tag));
    std::fs::write(&body_file, &s.body).map_err(|e| e.to_string())?;
    let url = format!("http://127.0.0.1:{front}{}", s.target);
    let port = s.local_port.to_string();
    let mut args = vec![
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "5",
        "--local-port",
        &port,
        "-X",
        s.method,
        "-H",
        "Expect:",
        "-H",
    ];
    let tag_header = format!("X-Test: {}", s.tag);
    args.push(&tag_header);
    if s.http10 {
        args.push("--http1.0");
    }
    let data_arg = format!("@{}", body_file.display());
    if !s.body.is_empty() {
        args.extend([
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &data_arg,
        ]);
    }
    args.push(&url);
    let code = run("curl", &args)?;
    if code != "200" {
        return Err(format!("curl {} got {code}", s.tag));
    }
    Ok(())
}

#[test]
fn nginx_mirror_delivers_every_request_once() -> TestResult {
    if let Some(why) = skip_reason(&["nginx", "curl"]) {
        eprintln!("SKIP nginx_mirror_delivers_every_request_once: {why}");
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("periscope-sources-nginx-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut cfg = HttpMirrorConfig::new("127.0.0.1:0".parse()?);
    cfg.trusted_proxies = vec!["127.0.0.1".parse()?];
    cfg.body_cap = 64 * 1024;
    let ids = Arc::new(AtomicU64::new(1000));
    let mirror = Running::start(cfg, Arc::clone(&ids), 64)?;
    let (mirror_addr, rx, stats) = (mirror.addr, &mirror.rx, Arc::clone(&mirror.stats));

    let (front, backend) = (free_port()?, free_port()?);
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, nginx_conf(&dir, front, backend, mirror_addr))?;
    let child = Command::new("nginx")
        .args([
            "-p",
            &dir.display().to_string(),
            "-c",
            &conf.display().to_string(),
        ])
        .args(["-e", &dir.join("error.log").display().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let _nginx = Nginx(child, dir.clone());
    wait_for_port(front)?;

    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let sent = vec![
        Sent {
            tag: "get",
            method: "GET",
            target: "/api/items?id=1&q=a%20b",
            body: Vec::new(),
            local_port: free_port()?,
            http10: false,
        },
        Sent {
            tag: "post",
            method: "POST",
            target: "/login",
            body: br#"{"user":"alice","password":"x' OR 1=1 --"}"#.to_vec(),
            local_port: free_port()?,
            http10: false,
        },
        Sent {
            tag: "put-big",
            method: "PUT",
            target: "/upload/file.bin",
            body: big.clone(),
            local_port: free_port()?,
            http10: false,
        },
        Sent {
            tag: "delete",
            method: "DELETE",
            target: "/items/7",
            body: Vec::new(),
            local_port: free_port()?,
            http10: false,
        },
        Sent {
            tag: "get-1.0",
            method: "GET",
            target: "/old/client?x=%27",
            body: Vec::new(),
            local_port: free_port()?,
            http10: true,
        },
    ];
    for s in &sent {
        curl(front, s, &dir)?;
    }

    let mut got: Vec<Exchange> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < sent.len() && Instant::now() < deadline {
        if let Ok(e) = rx.recv_timeout(Duration::from_millis(100)) {
            got.push(e);
        }
    }
    // Nothing more comes (each request once).
    std::thread::sleep(Duration::from_millis(500));
    got.extend(rx.try_iter());
    assert_eq!(got.len(), sent.len(), "{got:#?}");

    let by_tag: BTreeMap<String, &Exchange> = got
        .iter()
        .filter_map(|e| {
            let tag = e.request.as_ref()?.headers.get("x-test")?;
            Some((tag.to_string(), e))
        })
        .collect();
    assert_eq!(by_tag.len(), sent.len());
    for s in &sent {
        let e = by_tag[s.tag];
        let Some(req) = &e.request else {
            return Err(format!("{}: no request", s.tag).into());
        };
        assert_eq!(req.method, s.method, "{}", s.tag);
        assert_eq!(req.target, s.target, "{}", s.tag);
        let version = if s.http10 {
            HttpVersion::Http10
        } else {
            HttpVersion::Http11
        };
        assert_eq!(req.version, version, "{}", s.tag);
        assert!(
            req.headers
                .get("user-agent")
                .is_some_and(|ua| ua.starts_with("curl/")),
            "{}: {:?}",
            s.tag,
            req.headers
        );
        assert_eq!(req.headers.get("host"), Some("127.0.0.1"));
        assert!(
            req.headers
                .0
                .iter()
                .all(|(n, _)| !n.to_ascii_lowercase().starts_with("x-periscope")),
            "control headers kept: {:?}",
            req.headers
        );
        assert_eq!(
            e.flow.client,
            Endpoint::new([127, 0, 0, 1].into(), s.local_port),
            "{}",
            s.tag
        );
        assert_eq!(e.flow.server, Endpoint::new([127, 0, 0, 1].into(), front));
        assert!(e.response.is_none());
        assert!(e.has(Flag::NoResponse));
        assert_eq!(req.body.len, s.body.len() as u64, "{}", s.tag);
        if s.body.len() > 64 * 1024 {
            assert_eq!(req.body.data[..], s.body[..64 * 1024]);
            assert!(req.body.truncated && e.has(Flag::RequestTruncated));
        } else {
            assert_eq!(req.body.data, s.body, "{}", s.tag);
            assert!(!req.body.truncated && !e.has(Flag::RequestTruncated));
        }
    }
    let mut seen_ids: Vec<u64> = got.iter().map(|e| e.id).collect();
    seen_ids.sort_unstable();
    seen_ids.dedup();
    assert_eq!(seen_ids.len(), sent.len());
    assert!(seen_ids
        .iter()
        .all(|id| (1000..1000 + sent.len() as u64).contains(id)));
    assert_eq!(ids.load(Relaxed), 1000 + sent.len() as u64);
    let snap = stats.snapshot();
    assert_eq!(snap.packets, sent.len() as u64);
    assert_eq!(snap.drops_total(), 0);

    mirror.stop()?;
    Ok(())
}

/// Sends one request straight to the receiver (no nginx) with a forged client header.
fn direct(addr: SocketAddr, local_port: u16) -> Result<String, String> {
    run(
        "curl",
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "5",
            "--local-port",
            &local_port.to_string(),
            "-H",
            "X-Periscope-Client: 6.6.6.6:666",
            "-H",
            "X-Periscope-Server: 7.7.7.7:777",
            "-H",
            "X-Periscope-Protocol: HTTP/1.0",
            &format!("http://{addr}/direct"),
        ],
    )
}

#[test]
fn untrusted_peers_and_a_full_queue() -> TestResult {
    if let Some(why) = missing_tool(&["curl"]) {
        eprintln!("SKIP untrusted_peers_and_a_full_queue: {why}");
        return Ok(());
    }
    // No trusted proxy: the TCP peer is the client, the listener the server, headers stripped.
    let cfg = HttpMirrorConfig::new("127.0.0.1:0".parse()?);
    let mirror = Running::start(cfg, Arc::new(AtomicU64::new(1)), 8)?;
    let addr = mirror.addr;
    let port = free_port()?;
    assert_eq!(direct(addr, port)?, "204");
    let e = mirror.rx.recv_timeout(Duration::from_secs(5))?;
    assert_eq!(e.flow.client, Endpoint::new([127, 0, 0, 1].into(), port));
    assert_eq!(e.flow.server, Endpoint::new(addr.ip(), addr.port()));
    let Some(req) = e.request else {
        return Err("no request".into());
    };
    assert_eq!(
        req.version,
        HttpVersion::Http11,
        "forged protocol header believed"
    );
    assert!(
        req.headers
            .0
            .iter()
            .all(|(n, _)| !n.starts_with("x-periscope")),
        "{:?}",
        req.headers
    );
    mirror.stop()?;

    // A queue of one that nobody reads: the first is queued, the others dropped and counted,
    // every request still answered 204 at once.
    let cfg = HttpMirrorConfig::new("127.0.0.1:0".parse()?);
    let mirror = Running::start(cfg, Arc::new(AtomicU64::new(1)), 1)?;
    for _ in 0..3 {
        assert_eq!(direct(mirror.addr, free_port()?)?, "204");
    }
    let snap = mirror.stats.snapshot();
    assert_eq!((snap.packets, snap.drops_queue_full), (1, 2), "{snap:?}");
    mirror.stop()?;
    Ok(())
}
