//! End-to-end, as root, against real servers on loopback: nginx (plain HTTP and HTTPS with a
//! self-signed certificate) and Python's http.server, driven by real curl clients. Every
//! request curl sent must appear exactly once, on the server side, with its method, target,
//! body, and the response's status and body.
//!
//! Skips (printing why) when not root, without kernel BTF, or when a tool is missing.

use periscope_agent::{Agent, AgentConfig, AgentError, CaptureDirection};
use periscope_model::{Direction, Endpoint, StreamEvent};
use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The live tests attach agents to the same host and load it with floods: one at a time, so
/// that one test's traffic or load does not show in another's (cargo runs tests in parallel).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn skip(why: &str) {
    eprintln!("SKIPPED: {why}");
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn wait_port(port: u16) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Kills the servers (by the pids we started) and removes the temp dir on drop.
struct Servers {
    children: Vec<Child>,
    dir: PathBuf,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const PY_SERVER: &str = r#"
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, body):
        b = ("py %s %s %s" % (self.command, self.path, body)).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        self.reply("")
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.reply(self.rfile.read(n).decode())
    def log_message(self, *a):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;

fn start_servers(plain: u16, tls: u16, py: u16) -> Result<Servers, String> {
    let dir = std::env::temp_dir().join(format!("periscope-agent-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut s = Servers {
        children: Vec::new(),
        dir: dir.clone(),
    };
    let d = dir.display();
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !ok.success() {
        return Err("openssl req failed".into());
    }
    let conf = format!(
        "daemon off; master_process off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off; sendfile off;
  client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};
  server {{
    listen 127.0.0.1:{plain}; listen 127.0.0.1:{tls} ssl; listen [::1]:{plain}; listen [::1]:{tls} ssl;
    ssl_certificate {d}/cert.pem; ssl_certificate_key {d}/key.pem;
    location / {{ return 200 \"nginx $request_method $request_uri\\n\"; }}
  }}
}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).map_err(|e| e.to_string())?;
    let nginx = Command::new("nginx")
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    s.children.push(nginx);
    let py_child = Command::new("python3")
        .arg("-c")
        .arg(PY_SERVER)
        .arg(py.to_string())
        .spawn()
        .map_err(|e| e.to_string())?;
    s.children.push(py_child);
    for p in [plain, tls, py] {
        if !wait_port(p) {
            return Err(format!("server on port {p} did not start"));
        }
    }
    Ok(s)
}

/// One connection as the agent delivered it.
#[derive(Default, Debug)]
struct Flow {
    server: Option<Endpoint>,
    handshake: Option<bool>,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
    gaps: u64,
    opened: bool,
    closed: bool,
    events_after_close: usize,
}

fn collect(
    flows: &mut BTreeMap<u64, Flow>,
) -> impl FnMut(periscope_model::FlowId, StreamEvent<'_>) + '_ {
    move |id, ev| {
        let f = flows.entry(id.0).or_default();
        if f.closed {
            f.events_after_close += 1;
        }
        match ev {
            StreamEvent::Open {
                server, handshake, ..
            } => {
                f.opened = true;
                f.server = Some(server);
                f.handshake = Some(handshake);
            }
            StreamEvent::Data {
                dir: Direction::ToServer,
                bytes,
                ..
            } => f.to_server.extend_from_slice(bytes),
            StreamEvent::Data {
                dir: Direction::ToClient,
                bytes,
                ..
            } => f.to_client.extend_from_slice(bytes),
            StreamEvent::Gap { len, .. } => f.gaps += len,
            StreamEvent::Close { .. } => f.closed = true,
        }
    }
}

/// (method, target, body) of each request in a to-server byte stream (Content-Length bodies).
fn requests(mut b: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let mut h = [httparse::EMPTY_HEADER; 32];
        let mut r = httparse::Request::new(&mut h);
        let Ok(httparse::Status::Complete(n)) = r.parse(b) else {
            break;
        };
        let len = content_length(r.headers);
        let body = b.get(n..n + len).unwrap_or(&[]).to_vec();
        out.push((
            r.method.unwrap_or("").to_string(),
            r.path.unwrap_or("").to_string(),
            body,
        ));
        b = b.get(n + len..).unwrap_or(&[]);
    }
    out
}

/// (status, body) of each response in a to-client byte stream.
fn responses(mut b: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let mut h = [httparse::EMPTY_HEADER; 32];
        let mut r = httparse::Response::new(&mut h);
        let Ok(httparse::Status::Complete(n)) = r.parse(b) else {
            break;
        };
        let len = content_length(r.headers);
        out.push((
            r.code.unwrap_or(0),
            b.get(n..n + len).unwrap_or(&[]).to_vec(),
        ));
        b = b.get(n + len..).unwrap_or(&[]);
    }
    out
}

fn content_length(h: &[httparse::Header<'_>]) -> usize {
    h.iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
        .unwrap_or(0)
}

/// Starts the agent or explains why this host cannot run it.
fn start_agent(cfg: AgentConfig) -> Option<Agent> {
    match Agent::start(cfg) {
        Ok(a) => Some(a),
        Err(
            e @ (AgentError::NotRoot { .. } | AgentError::NoBtf { .. } | AgentError::Mount { .. }),
        ) => {
            skip(&format!("BPF unavailable: {e}"));
            None
        }
        Err(e) if e.to_string().contains("Operation not permitted") => {
            skip(&format!("BPF unavailable: {e}"));
            None
        }
        Err(e) => panic!("agent failed to start: {e}"),
    }
}

fn preconditions() -> bool {
    if !nix_is_root() {
        skip("not root: the eBPF agent needs root (or CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)");
        return false;
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        skip("kernel BTF (/sys/kernel/btf/vmlinux) missing");
        return false;
    }
    for t in ["nginx", "curl", "openssl", "python3"] {
        if !have(t) {
            skip(&format!("{t} not installed"));
            return false;
        }
    }
    true
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Runs clients while polling the agent, then drains for a moment.
fn drive(
    agent: &mut Agent,
    clients: Vec<Child>,
    sink: &mut impl FnMut(periscope_model::FlowId, StreamEvent<'_>),
) {
    let mut clients = clients;
    let end = Instant::now() + Duration::from_secs(60);
    while !clients.is_empty() && Instant::now() < end {
        let _ = agent.poll(Duration::from_millis(50), sink);
        clients.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
    }
    for c in &mut clients {
        let _ = c.kill();
    }
    let settle = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < settle {
        let _ = agent.poll(Duration::from_millis(50), sink);
    }
}

fn curl(args: &[String]) -> Child {
    Command::new("curl")
        .args(["-s", "-k", "-o", "/dev/null", "--max-time", "20"])
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("curl: {e}"))
}

/// A curl command line sending GET and POST requests over one connection (keep-alive).
fn curl_args(base: &str, tag: &str, n: usize) -> Vec<String> {
    let mut a = Vec::new();
    for i in 0..n {
        if i > 0 {
            a.push("--next".into());
            a.extend(["-s", "-k", "-o", "/dev/null"].map(String::from));
        }
        if i % 2 == 0 {
            a.push(format!("{base}/get/{tag}/{i}?q={i}"));
        } else {
            a.extend([
                "-d".into(),
                format!("body-{tag}-{i}-{}", "x".repeat(i * 100)),
                format!("{base}/post/{tag}/{i}"),
            ]);
        }
    }
    a
}

#[test]
fn nginx_https_plain_and_python_each_exchange_once() {
    let _serial = serial();
    if !preconditions() {
        return;
    }
    let (plain, tls, py) = (free_port(), free_port(), free_port());
    let servers = match start_servers(plain, tls, py) {
        Ok(s) => s,
        Err(e) => return skip(&format!("cannot start test servers: {e}")),
    };
    let cfg = AgentConfig {
        ports: vec![plain, tls, py],
        ..Default::default()
    };
    let Some(mut agent) = start_agent(cfg) else {
        return;
    };
    let targets = [
        (format!("http://127.0.0.1:{plain}"), "plain", plain),
        (format!("https://127.0.0.1:{tls}"), "tls", tls),
        (format!("http://127.0.0.1:{py}"), "py", py),
    ];
    const N: usize = 6;
    let mut flows = BTreeMap::new();
    {
        let mut sink = collect(&mut flows);
        let clients = targets
            .iter()
            .flat_map(|(base, tag, _)| {
                [
                    curl(&curl_args(base, tag, N)),
                    curl(&curl_args(base, &format!("{tag}2"), N)),
                ]
            })
            .collect();
        drive(&mut agent, clients, &mut sink);
        let stats = agent.stop(&mut sink);
        eprintln!("agent stats: events {} lost {} truncated {} flows {} ignored {} ssl_without_fd {} libssl {:?}",
            stats.events, stats.lost_events(), stats.truncated_calls, stats.tracker.flows, stats.tracker.ignored, stats.ssl_without_fd, stats.libssl_attached);
        assert_eq!(stats.lost_events(), 0);
    }
    drop(servers);

    for (_, tag, port) in &targets {
        let ours: Vec<&Flow> = flows
            .values()
            .filter(|f| f.server.map(|s| s.port) == Some(*port))
            .collect();
        // Two curl processes per server, each one keep-alive connection.
        assert_eq!(ours.len(), 2, "{tag}: flows {ours:#?}");
        let mut seen = Vec::new();
        for f in &ours {
            assert!(f.opened && f.closed, "{tag}: open/close {f:?}");
            assert_eq!(f.events_after_close, 0);
            assert_eq!(f.gaps, 0, "{tag}: gaps");
            let reqs = requests(&f.to_server);
            let resps = responses(&f.to_client);
            assert_eq!(
                reqs.len(),
                resps.len(),
                "{tag}: requests vs responses\n{}\n{}",
                String::from_utf8_lossy(&f.to_server),
                String::from_utf8_lossy(&f.to_client)
            );
            for ((m, target, body), (status, rbody)) in reqs.into_iter().zip(resps) {
                let rbody = String::from_utf8_lossy(&rbody).into_owned();
                if m == "POST" {
                    assert!(
                        String::from_utf8_lossy(&body).starts_with("body-"),
                        "{tag}: POST body {body:?}"
                    );
                }
                if *tag == "py" {
                    assert_eq!(status, if m == "POST" { 201 } else { 200 });
                    assert_eq!(
                        rbody,
                        format!("py {m} {target} {}", String::from_utf8_lossy(&body))
                    );
                } else {
                    assert_eq!(status, 200);
                    assert_eq!(rbody, format!("nginx {m} {target}\n"));
                }
                seen.push((m, target));
            }
        }
        seen.sort();
        let mut want: Vec<(String, String)> = Vec::new();
        for t in [tag.to_string(), format!("{tag}2")] {
            for i in 0..N {
                if i % 2 == 0 {
                    want.push(("GET".into(), format!("/get/{t}/{i}?q={i}")));
                } else {
                    want.push(("POST".into(), format!("/post/{t}/{i}")));
                }
            }
        }
        want.sort();
        assert_eq!(seen, want, "{tag}: every request exactly once");
    }
}

#[test]
fn outbound_opt_in_shows_the_client_side_too() {
    let _serial = serial();
    if !preconditions() {
        return;
    }
    let (plain, tls, py) = (free_port(), free_port(), free_port());
    let servers = match start_servers(plain, tls, py) {
        Ok(s) => s,
        Err(e) => return skip(&format!("cannot start test servers: {e}")),
    };
    let cfg = AgentConfig {
        ports: vec![tls],
        direction: CaptureDirection::Both,
        ..Default::default()
    };
    let Some(mut agent) = start_agent(cfg) else {
        return;
    };
    let mut flows = BTreeMap::new();
    {
        let mut sink = collect(&mut flows);
        drive(
            &mut agent,
            vec![curl(&[format!("https://127.0.0.1:{tls}/both")])],
            &mut sink,
        );
        agent.stop(&mut sink);
    }
    drop(servers);
    // The same exchange, once from nginx (server side) and once from curl (client side),
    // both decrypted and both with the server at the TLS port.
    let flows: Vec<&Flow> = flows
        .values()
        .filter(|f| f.server.map(|s| s.port) == Some(tls))
        .collect();
    assert_eq!(flows.len(), 2, "{flows:#?}");
    for f in flows {
        assert_eq!(
            requests(&f.to_server)
                .iter()
                .map(|r| r.1.as_str())
                .collect::<Vec<_>>(),
            vec!["/both"]
        );
        assert_eq!(responses(&f.to_client).first().map(|r| r.0), Some(200));
    }
}

/// Under a wrk flood with a deliberately small ring buffer, records are lost; every lost
/// payload byte must come out as a `Gap` (unless the lost record was a connection's close,
/// which carries the final offsets; those are counted separately).
#[test]
fn losses_under_flood_match_the_gaps() {
    let _serial = serial();
    if !preconditions() {
        return;
    }
    if !have("wrk") {
        return skip("wrk not installed");
    }
    let (plain, tls, py) = (free_port(), free_port(), free_port());
    let servers = match start_servers(plain, tls, py) {
        Ok(s) => s,
        Err(e) => return skip(&format!("cannot start test servers: {e}")),
    };
    // 16 KiB ring and a slow reader (it polls every 200 ms): losses are certain.
    let cfg = AgentConfig {
        ports: vec![plain],
        ring_buffer_bytes: 16384,
        ..Default::default()
    };
    let Some(mut agent) = start_agent(cfg) else {
        return;
    };
    let (mut gap_bytes, mut data_bytes) = (0u64, 0u64);
    let stats = {
        let mut sink = |_: periscope_model::FlowId, ev: StreamEvent<'_>| match ev {
            StreamEvent::Gap { len, .. } => gap_bytes += len,
            StreamEvent::Data { bytes, .. } => data_bytes += bytes.len() as u64,
            _ => {}
        };
        let wrk = Command::new("wrk")
            .args(["-t1", "-c8", "-d3s"])
            .arg(format!("http://127.0.0.1:{plain}/flood"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("wrk: {e}"));
        let mut clients = vec![wrk];
        let end = Instant::now() + Duration::from_secs(30);
        while !clients.is_empty() && Instant::now() < end {
            let _ = agent.poll(Duration::from_millis(200), &mut sink);
            std::thread::sleep(Duration::from_millis(200));
            clients.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
        }
        // wrk's connections close when it exits; let their close records arrive.
        let settle = Instant::now() + Duration::from_millis(1000);
        while Instant::now() < settle {
            let _ = agent.poll(Duration::from_millis(50), &mut sink);
        }
        agent.stop(&mut sink)
    };
    drop(servers);
    let lost_bytes: u64 = stats.lost_bytes_per_cpu.iter().sum();
    eprintln!(
        "flood: data {data_bytes} B, gaps {gap_bytes} B, lost {} records / {lost_bytes} B (per CPU {:?}), lost closes {}, truncated {} B",
        stats.lost_events(),
        stats.lost_events_per_cpu,
        stats.lost_close_events,
        stats.truncated_bytes
    );
    assert!(
        stats.lost_events() > 0,
        "the flood should overrun a 16 KiB ring"
    );
    assert!(data_bytes > 0);
    if stats.lost_close_events == 0 {
        assert_eq!(
            gap_bytes,
            lost_bytes + stats.truncated_bytes,
            "every lost byte is a gap"
        );
    } else {
        assert!(
            gap_bytes <= lost_bytes + stats.truncated_bytes,
            "no gap without a loss"
        );
    }
}

/// Selection: by process name (nginx, not python) and by cgroup (a python server moved into
/// its own cgroup v2 group, not the one outside it).
#[test]
fn selection_by_process_name_and_cgroup() {
    let _serial = serial();
    if !preconditions() {
        return;
    }
    let (plain, tls, py) = (free_port(), free_port(), free_port());
    let servers = match start_servers(plain, tls, py) {
        Ok(s) => s,
        Err(e) => return skip(&format!("cannot start test servers: {e}")),
    };
    // Process name.
    let cfg = AgentConfig {
        process_names: vec!["nginx".into()],
        ..Default::default()
    };
    let Some(mut agent) = start_agent(cfg) else {
        return;
    };
    let mut flows = BTreeMap::new();
    {
        let mut sink = collect(&mut flows);
        let clients = vec![
            curl(&[format!("http://127.0.0.1:{plain}/by-name")]),
            curl(&[format!("http://127.0.0.1:{py}/by-name")]),
        ];
        drive(&mut agent, clients, &mut sink);
        agent.stop(&mut sink);
    }
    let ports: Vec<u16> = flows
        .values()
        .filter_map(|f| f.server.map(|s| s.port))
        .filter(|p| [plain, py].contains(p))
        .collect();
    assert_eq!(ports, vec![plain], "only nginx's connection");

    // Cgroup: find the cgroup v2 hierarchy, move the python server into a new group.
    let root = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.join("cgroup.procs").exists() && p.join("cgroup.controllers").exists());
    let Some(root) = root else {
        return skip("no writable cgroup v2 hierarchy");
    };
    let group = root.join(format!("periscope-agent-test-{}", std::process::id()));
    if std::fs::create_dir(&group).is_err() {
        return skip("cannot create a cgroup");
    }
    let py_pid = servers.children.get(1).map(|c| c.id()).unwrap_or(0);
    let moved = std::fs::write(group.join("cgroup.procs"), py_pid.to_string()).is_ok();
    let cfg = AgentConfig {
        cgroups: vec![group.clone()],
        ports: vec![plain, py],
        ..Default::default()
    };
    let result = moved.then(|| start_agent(cfg)).flatten().map(|mut agent| {
        let mut flows = BTreeMap::new();
        {
            let mut sink = collect(&mut flows);
            let clients = vec![
                curl(&[format!("http://127.0.0.1:{plain}/by-cgroup")]),
                curl(&[format!("http://127.0.0.1:{py}/by-cgroup")]),
            ];
            drive(&mut agent, clients, &mut sink);
            agent.stop(&mut sink);
        }
        flows
            .values()
            .filter_map(|f| f.server.map(|s| s.port))
            .collect::<Vec<u16>>()
    });
    drop(servers); // the python process leaves the group by exiting
    std::thread::sleep(Duration::from_millis(200));
    let _ = std::fs::remove_dir(&group);
    match result {
        Some(ports) => assert_eq!(ports, vec![py], "only the server inside the cgroup"),
        None => skip("could not move the server into the test cgroup"),
    }
}

/// A keep-alive connection opened before the agent started is picked up at its next
/// request (roles from the listening ports, `handshake: false`); IPv6 loopback works.
#[test]
fn connection_older_than_the_agent_and_ipv6() {
    let _serial = serial();
    if !preconditions() {
        return;
    }
    let (plain, tls, py) = (free_port(), free_port(), free_port());
    let servers = match start_servers(plain, tls, py) {
        Ok(s) => s,
        Err(e) => return skip(&format!("cannot start test servers: {e}")),
    };
    let go = servers.dir.join("go");
    let script = format!(
        "import socket, os, time
s = socket.create_connection(('127.0.0.1', {plain}))
def ask(path):
    s.sendall(('GET %s HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' % path).encode())
    data = b''
    while b'\\n' not in data.split(b'\\r\\n\\r\\n', 1)[-1] or b'\\r\\n\\r\\n' not in data:
        data += s.recv(4096)
ask('/first')
while not os.path.exists('{go}'):
    time.sleep(0.05)
ask('/second')
s.close()
",
        go = go.display()
    );
    let mut old_client = Command::new("python3")
        .arg("-c")
        .arg(script)
        .spawn()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    std::thread::sleep(Duration::from_millis(500));
    let cfg = AgentConfig {
        ports: vec![plain],
        ..Default::default()
    };
    let Some(mut agent) = start_agent(cfg) else {
        let _ = old_client.kill();
        let _ = old_client.wait();
        return;
    };
    let mut flows = BTreeMap::new();
    {
        let mut sink = collect(&mut flows);
        let _ = std::fs::write(&go, b"");
        let v6 = curl(&["-g".to_string(), format!("http://[::1]:{plain}/over-v6")]);
        drive(&mut agent, vec![old_client, v6], &mut sink);
        agent.stop(&mut sink);
    }
    drop(servers);
    let old: Vec<&Flow> = flows
        .values()
        .filter(|f| f.handshake == Some(false))
        .collect();
    assert_eq!(old.len(), 1, "{flows:#?}");
    let reqs: Vec<String> = requests(&old[0].to_server)
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(reqs, vec!["/second"]);
    assert_eq!(old[0].server.map(|s| s.port), Some(plain));
    let v6: Vec<&Flow> = flows
        .values()
        .filter(|f| f.server.is_some_and(|s| s.ip.is_ipv6()))
        .collect();
    assert_eq!(v6.len(), 1, "{flows:#?}");
    assert_eq!(
        requests(&v6[0].to_server).first().map(|r| r.1.clone()),
        Some("/over-v6".to_string())
    );
    assert_eq!(responses(&v6[0].to_client).first().map(|r| r.0), Some(200));
}
