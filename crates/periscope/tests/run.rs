//! `periscope run` and `periscope check-config` as real processes: a temporary configuration,
//! the built binary, real curl against its REST API, a real SQLite file, SIGTERM.
//!
//! - the one-code-path check: a `pcap` source gives the same events as `periscope analyze`;
//! - configuration errors name the key, `check-config` exits non-zero;
//! - API: 401 without token, pagination returns each event once, a restart keeps the events,
//!   `/metrics` parses (`promtool check metrics` when installed);
//! - an agent pushing stream events over TLS with a token; a wrong token is refused;
//! - back-pressure: a tiny queue and a flood of VXLAN datagrams count drops, the daemon lives
//!   and its memory stays bounded.

#[path = "run_daemon.rs"]
mod daemon;

use daemon::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// What the one-code-path check compares: counts per event type, attacks per class, the
/// exchanges as (method, target, status) multisets, and the keys of the events that are
/// updated as traffic goes on (incidents, vulnerabilities, endpoints): `analyze` prints every
/// update, the store keeps the newest per key.
fn fingerprint(events: &[Value]) -> BTreeMap<String, u64> {
    let keyed = |e: &Value| match e["type"].as_str() {
        Some("incident" | "vulnerability") => e["key"].as_str().map(str::to_string),
        Some("endpoint") => Some(format!("{}|{}|{}", e["host"], e["method"], e["path"])),
        _ => None,
    };
    let mut latest: BTreeMap<(String, String), &Value> = BTreeMap::new();
    let mut plain = Vec::new();
    for e in events {
        match keyed(e) {
            Some(k) => {
                latest.insert((e["type"].as_str().unwrap_or("?").to_string(), k), e);
            }
            None => plain.push(e.clone()),
        }
    }
    let mut m = summary(&plain);
    for (kind, key) in latest.keys() {
        *m.entry(kind.clone()).or_default() += 1;
        m.insert(format!("{kind}:{key}"), 1);
    }
    for e in events.iter().filter(|e| e["type"] == "exchange") {
        let key = format!(
            "ex:{} {} {}",
            e["request"]["method"].as_str().unwrap_or("-"),
            e["request"]["target"].as_str().unwrap_or("-"),
            e["response"]["status"].as_u64().unwrap_or(0)
        );
        *m.entry(key).or_default() += 1;
    }
    m
}

fn pcap_config(files: &[PathBuf], extra: &str) -> String {
    let list: Vec<String> = files.iter().map(|f| format!("{:?}", f)).collect();
    format!(
        "[[sources]]\ntype = \"pcap\"\nfiles = [{}]\n\n[store]\nsqlite = \"events.db\"\nexchanges = \"all\"\n\n[pipeline]\nworkers = 3\n{extra}\n",
        list.join(", ")
    )
}

#[test]
fn pcap_source_gives_the_same_events_as_analyze() -> Res {
    let cases: &[&[&str]] = &[
        &["sample.pcap"],
        &["sample-ipv6.pcap"],
        &["mirror-base.pcap"],
        &["damaged-loss.pcap"],
        &["rotated-1.pcap", "rotated-2.pcap"],
    ];
    for names in cases {
        let files: Vec<PathBuf> = names.iter().map(|n| data(n)).collect();
        let want = fingerprint(&analyze(&files)?);
        assert!(
            want.get("exchange").copied().unwrap_or(0) > 0,
            "{names:?}: analyze found no exchange"
        );
        let dir = TempDir::new("same")?;
        let d = Daemon::start(&dir, &pcap_config(&files, ""))?;
        d.wait_log("serving the API until a signal", Duration::from_secs(120))?;
        let got = fingerprint(&d.all_events(None, 50)?);
        assert_eq!(got, want, "{names:?}: daemon vs analyze");
        assert_eq!(d.terminate()?, 0);
    }
    Ok(())
}

#[test]
fn check_config_names_the_bad_key_and_fails() -> Res {
    let dir = TempDir::new("check")?;
    std::fs::write(dir.path("token.txt"), "t\n")?;
    std::fs::write(dir.path("empty-token.txt"), "  \n")?;
    let cases = [
        (
            "[[sources]]\ntype = \"vxlan\"\nlisten = 4789\n",
            "sources[0].listen: invalid type",
        ),
        (
            "[[sources]]\ntype = \"pcap\"\nfiles = [\"x.pcap\"]\ncolour = \"blue\"\n",
            "sources[0].colour: unknown field",
        ),
        (
            "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:4789\"\n[[sources]]\ntype = \"interface\"\n",
            "sources[1]: missing field `interface`",
        ),
        (
            "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:4789\"\n[api]\nlisten = \"127.0.0.1:1\"\ntoken_file = \"missing.txt\"\n",
            "api.token_file:",
        ),
        (
            "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:4789\"\n[api]\nlisten = \"127.0.0.1:1\"\ntoken_file = \"empty-token.txt\"\n",
            "is empty",
        ),
        (
            "[[sources]]\ntype = \"agent\"\nlisten = \"127.0.0.1:1\"\ntoken_file = \"missing.txt\"\n",
            "sources[0].token_file:",
        ),
        (
            "[[sources]]\ntype = \"interface\"\ninterface = \"lo\"\nfilter = \"tcp port eighty\"\n",
            "filter",
        ),
        (
            "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:4789\"\n[store]\nsqlite = \"no/such/dir/x.db\"\n",
            "store.sqlite: directory",
        ),
        (
            "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:4789\"\n[pipeline]\nworker_queue = \"big\"\n",
            "pipeline.worker_queue: invalid type",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path(&format!("bad-{i}.toml"));
        std::fs::write(&path, text)?;
        let out = periscope().arg("check-config").arg(&path).output()?;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text:?} was accepted");
        assert!(err.contains(want), "{text:?}: {err:?} lacks {want:?}");
        // `run` refuses the same file with the same message.
        let out = periscope().args(["run", "--config"]).arg(&path).output()?;
        assert!(!out.status.success(), "run accepted {text:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(want),
            "run: {text:?}"
        );
    }
    // The issue's example is valid once its files exist (the interface is lo here).
    let good = dir.path("good.toml");
    std::fs::write(
        &good,
        "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:4789\"\n\n[[sources]]\ntype = \"interface\"\ninterface = \"lo\"\nfilter = \"tcp port 80 or tcp port 8080\"\n\n[store]\nsqlite = \"periscope.db\"\n\n[api]\nlisten = \"127.0.0.1:8686\"\ntoken_file = \"token.txt\"\n",
    )?;
    let out = periscope().arg("check-config").arg(&good).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("sources[0] vxlan: UDP listener on 127.0.0.1:4789"),
        "{text}"
    );
    assert!(text.contains("sources[1] interface: lo"), "{text}");
    Ok(())
}

#[test]
fn api_needs_the_token_pages_once_and_keeps_events_across_a_restart() -> Res {
    let dir = TempDir::new("api")?;
    let files = [data("sample.pcap")];
    let d = Daemon::start(&dir, &pcap_config(&files, ""))?;
    d.wait_log("serving the API until a signal", Duration::from_secs(120))?;
    for path in [
        "/api/v1/events",
        "/api/v1/stats",
        "/api/v1/endpoints",
        "/api/v1/openapi.json",
    ] {
        assert_eq!(d.status(path)?, 401, "{path} without token");
    }
    assert_eq!(d.status("/live")?, 200);
    assert_eq!(d.status("/metrics")?, 200);

    // Pagination: small pages concatenated equal one big page; exchange ids are unique.
    let paged = d.all_events(None, 7)?;
    let whole = d.get("/api/v1/events?limit=1000")?;
    assert!(whole["next"].is_null());
    assert_eq!(Some(&paged), whole["items"].as_array());
    let mut ids: Vec<u64> = paged
        .iter()
        .filter(|e| e["type"] == "exchange")
        .filter_map(|e| e["id"].as_u64())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "exchange ids repeat");
    assert!(n > 0);
    // The discovered API is there.
    let openapi = d.get("/api/v1/openapi.json")?;
    assert!(
        openapi["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{openapi}"
    );

    // /metrics parses.
    let metrics = Command::new("curl")
        .args(["-sf", &format!("http://{}/metrics", d.api)])
        .output()?;
    let text = String::from_utf8(metrics.stdout)?;
    for name in [
        "periscope_packets_total",
        "periscope_bytes_total",
        "periscope_http_exchanges_total",
        "periscope_events_total",
        "periscope_queue_depth",
        "periscope_stage_seconds",
    ] {
        assert!(text.contains(name), "/metrics lacks {name}");
    }
    if have("promtool") {
        let path = dir.path("metrics.txt");
        std::fs::write(&path, &text)?;
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("promtool check metrics < {}", path.display()))
            .output()?;
        // promtool exits 3 for lint warnings (naming advice), 1 for parse errors.
        assert_ne!(
            out.status.code(),
            Some(1),
            "promtool: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        println!("SKIP promtool part: promtool not installed (Debian package prometheus)");
    }

    let before = d.counts()?;
    assert_eq!(d.terminate()?, 0);

    // Restart on the same database with a source that brings nothing: same counts.
    let port = free_udp_port()?;
    let config = format!(
        "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:{port}\"\n\n[store]\nsqlite = \"events.db\"\nexchanges = \"all\"\n"
    );
    let d = Daemon::start(&dir, &config)?;
    let after = d.counts()?;
    assert_eq!(before, after);
    assert_eq!(d.all_events(None, 7)?, paged);
    assert_eq!(d.terminate()?, 0);
    Ok(())
}

/// A self-signed CA and a server certificate for `localhost` / 127.0.0.1, made by openssl.
fn make_certs(dir: &TempDir) -> Res<bool> {
    if !have("openssl") {
        return Ok(false);
    }
    let script = r#"set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null
"#;
    let st = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(&dir.0)
        .status()?;
    Ok(st.success())
}

/// Pushes `n` HTTP exchanges (one connection each, the second one an SQL injection) through a
/// forwarder and flushes until the sensor acknowledged everything or `timeout` passes.
fn push_exchanges(fwd: &mut periscope_agent::wire::Forwarder, n: u64, timeout: Duration) -> bool {
    use periscope_model::{
        CloseReason, Direction, Endpoint, FlowId, FlowStats, StreamEvent, Timestamp,
    };
    let now = Timestamp::from(std::time::SystemTime::now());
    let server = Endpoint::new([10, 9, 0, 1].into(), 8080);
    let stats = FlowStats::default();
    for i in 0..n {
        let flow = FlowId(i + 1);
        let client = Endpoint::new([10, 9, 0, 2].into(), 40000 + i as u16);
        let target = if i == 1 {
            "/items?id=1%27%20OR%20%271%27=%271".to_string()
        } else {
            format!("/items/{i}")
        };
        let req = format!("GET {target} HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: curl/8\r\n\r\n");
        let resp =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        fwd.push(
            flow,
            &StreamEvent::Open {
                ts: now,
                client,
                server,
                tunnel: Default::default(),
                vlan: None,
                handshake: true,
            },
        );
        fwd.push(
            flow,
            &StreamEvent::Data {
                ts: now,
                dir: Direction::ToServer,
                bytes: req.as_bytes(),
            },
        );
        fwd.push(
            flow,
            &StreamEvent::Data {
                ts: now,
                dir: Direction::ToClient,
                bytes: resp.as_bytes(),
            },
        );
        fwd.push(
            flow,
            &StreamEvent::Close {
                ts: now,
                reason: CloseReason::Fin,
                stats: &stats,
            },
        );
    }
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        fwd.flush();
        if fwd.pending() == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn agent_stream_over_tls_becomes_exchanges_and_a_wrong_token_is_refused() -> Res {
    let dir = TempDir::new("agent")?;
    if !make_certs(&dir)? {
        println!("SKIP agent test: openssl is not installed");
        return Ok(());
    }
    std::fs::write(dir.path("agent-token.txt"), "agent-secret\n")?;
    let port = free_port()?;
    let config = format!(
        "[[sources]]\ntype = \"agent\"\nlisten = \"127.0.0.1:{port}\"\ntoken_file = \"agent-token.txt\"\ntls_cert = \"server.pem\"\ntls_key = \"server.key\"\n\n[store]\nsqlite = \"events.db\"\nexchanges = \"all\"\nflush_interval = \"50ms\"\n"
    );
    let d = Daemon::start(&dir, &config)?;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let tls = || -> Res<periscope_agent::wire::SensorTls> {
        Ok(periscope_agent::wire::SensorTls {
            config: periscope_agent::wire::client_tls_config(&dir.path("ca.pem"), None)?,
            server_name: rustls::pki_types::ServerName::try_from("localhost")?.to_owned(),
        })
    };

    // A wrong token: the sensor refuses, nothing arrives.
    let mut wrong =
        periscope_agent::wire::Forwarder::with_tls(addr, tls()?, b"not-the-token", 1 << 20);
    assert!(!push_exchanges(&mut wrong, 2, Duration::from_secs(3)));
    drop(wrong);
    d.wait_log("agent refused", Duration::from_secs(10))?;

    // The right token: four exchanges, one of them an attack.
    let mut fwd =
        periscope_agent::wire::Forwarder::with_tls(addr, tls()?, b"agent-secret", 1 << 20);
    assert!(
        push_exchanges(&mut fwd, 4, Duration::from_secs(20)),
        "sensor did not acknowledge"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let exchanges = d.all_events(Some("exchange"), 100)?;
        if exchanges.len() >= 4 {
            assert_eq!(exchanges.len(), 4, "{exchanges:?}");
            let mut targets: Vec<&str> = exchanges
                .iter()
                .filter_map(|e| e["request"]["target"].as_str())
                .collect();
            targets.sort_unstable();
            assert_eq!(targets[0], "/items/0");
            assert!(exchanges.iter().all(|e| e["response"]["status"] == 200));
            assert!(exchanges
                .iter()
                .all(|e| e["flow"]["server"]["port"] == 8080));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "exchanges never arrived: {}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let attacks = d.all_events(Some("attack"), 100)?;
    assert!(
        attacks.iter().any(|a| a["class"] == "sqli"),
        "no sqli attack: {attacks:?}"
    );
    drop(fwd);
    assert_eq!(d.terminate()?, 0);
    Ok(())
}

/// A VXLAN datagram carrying Ethernet / IPv4 / TCP with `payload`, from client port `sport`.
fn vxlan_datagram(sport: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x08, 0, 0, 0, 0, 0, 42, 0]; // VXLAN, VNI 42
    p.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]); // Ethernet
    let total = (20 + 20 + payload.len()) as u16;
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0, 10, 1, 0, 2, 10, 1, 0, 1]);
    let sum = {
        let mut s: u32 = ip
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum();
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    };
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&ip);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&80u16.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&1u32.to_be_bytes());
    p.extend_from_slice(&[0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]); // ACK PSH
    p.extend_from_slice(payload);
    p
}

#[test]
fn a_flood_into_a_tiny_queue_counts_drops_and_stays_bounded() -> Res {
    let dir = TempDir::new("flood")?;
    let port = free_udp_port()?;
    let config = format!(
        "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:{port}\"\n\n[pipeline]\nworkers = 1\nworker_queue = 4\n"
    );
    let d = Daemon::start(&dir, &config)?;
    let rss_before = rss_kib(d.pid())?;
    let sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let req = b"GET /flood HTTP/1.1\r\nHost: x\r\n\r\n";
    let started = Instant::now();
    let mut sent = 0u64;
    while started.elapsed() < Duration::from_secs(4) {
        for i in 0..1000u32 {
            let dg = vxlan_datagram(20000 + (i % 2000) as u16, sent as u32, req);
            let _ = sock.send_to(&dg, ("127.0.0.1", port));
            sent += 1;
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(d.status("/live")?, 200, "daemon died");
    let metrics = Command::new("curl")
        .args(["-sf", &format!("http://{}/metrics", d.api)])
        .output()?;
    let text = String::from_utf8(metrics.stdout)?;
    let dropped: f64 = text
        .lines()
        .filter(|l| l.starts_with("periscope_dropped_total{reason=\"worker_queue_full\"}"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum();
    let packets: f64 = text
        .lines()
        .filter(|l| l.starts_with("periscope_packets_total{"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum();
    let rss_after = rss_kib(d.pid())?;
    println!(
        "sent {sent} datagrams, received {packets}, dropped at the worker queue {dropped}, RSS {rss_before} → {rss_after} KiB"
    );
    assert!(dropped > 0.0, "no drop counted: {text}");
    assert!(packets > 0.0);
    assert!(
        rss_after < rss_before + 64 * 1024,
        "memory grew from {rss_before} to {rss_after} KiB"
    );
    assert_eq!(d.terminate()?, 0);
    Ok(())
}

/// Holds an exclusive SQLite lock on `db` (a real second process) until dropped.
struct DbLock(std::process::Child);

impl DbLock {
    fn take(db: &std::path::Path) -> Res<DbLock> {
        use std::io::BufRead;
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],isolation_level=None,timeout=10)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked',flush=True)\nsys.stdin.read()",
            ])
            .arg(db)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let out = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(out).read_line(&mut line)?;
        if line.trim() != "locked" {
            let _ = child.kill();
            return Err(format!("locker said {line:?}").into());
        }
        Ok(DbLock(child))
    }
}

impl Drop for DbLock {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

#[test]
fn a_locked_database_holds_events_and_writes_them_later_and_at_exit() -> Res {
    if !have("python3") {
        println!("SKIP locked-database test: python3 is not installed");
        return Ok(());
    }
    let dir = TempDir::new("locked")?;
    std::fs::write(dir.path("agent-token.txt"), "agent-secret\n")?;
    let port = free_port()?;
    let config = format!(
        "[[sources]]\ntype = \"agent\"\nlisten = \"127.0.0.1:{port}\"\ntoken_file = \"agent-token.txt\"\n\n[store]\nsqlite = \"events.db\"\nexchanges = \"all\"\nflush_interval = \"50ms\"\n"
    );
    let d = Daemon::start(&dir, &config)?;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let db = dir.path("events.db");

    // Locked by another process while four exchanges come in: held, not lost.
    let lock = DbLock::take(&db)?;
    let mut fwd = periscope_agent::wire::Forwarder::new(addr, b"agent-secret", 1 << 20);
    assert!(push_exchanges(&mut fwd, 4, Duration::from_secs(20)));
    d.wait_log("store write failed", Duration::from_secs(30))?;
    assert_eq!(d.all_events(Some("exchange"), 100)?.len(), 0);
    drop(lock);
    let deadline = Instant::now() + Duration::from_secs(30);
    while d.all_events(Some("exchange"), 100)?.len() < 4 {
        assert!(
            Instant::now() < deadline,
            "held events never written: {}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    d.wait_log("store writes work again", Duration::from_secs(5))?;
    let metrics = d.get_text("/metrics").or_else(|_| -> Res<String> {
        let out = Command::new("curl")
            .args(["-sf", &format!("http://{}/metrics", d.api)])
            .output()?;
        Ok(String::from_utf8(out.stdout)?)
    })?;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("periscope_store_errors_total{kind=\"busy\"}")),
        "no busy store error counted"
    );

    // Locked again, two more exchanges, SIGTERM; the lock goes away 3 s later: the daemon
    // writes them before it exits.
    let lock = DbLock::take(&db)?;
    let mut fwd2 = periscope_agent::wire::Forwarder::new(addr, b"agent-secret", 1 << 20);
    assert!(push_exchanges(&mut fwd2, 2, Duration::from_secs(20)));
    drop(fwd);
    drop(fwd2);
    std::thread::sleep(Duration::from_millis(500));
    let pid = d.pid();
    signal(pid, "TERM")?;
    std::thread::sleep(Duration::from_secs(3));
    drop(lock);
    assert_eq!(d.terminate_after_signal()?, 0);
    let d = Daemon::start(&dir, &config)?;
    assert_eq!(d.all_events(Some("exchange"), 100)?.len(), 6);
    assert_eq!(d.terminate()?, 0);
    Ok(())
}

#[test]
fn a_second_signal_exits_at_once() -> Res {
    if !have("python3") {
        println!("SKIP second-signal test: python3 is not installed");
        return Ok(());
    }
    let dir = TempDir::new("second")?;
    std::fs::write(dir.path("agent-token.txt"), "agent-secret\n")?;
    let port = free_port()?;
    let config = format!(
        "[[sources]]\ntype = \"agent\"\nlisten = \"127.0.0.1:{port}\"\ntoken_file = \"agent-token.txt\"\n\n[store]\nsqlite = \"events.db\"\nexchanges = \"all\"\n"
    );
    let d = Daemon::start(&dir, &config)?;
    // A locked database keeps the first shutdown waiting (the writer retries for 15 s).
    let _lock = DbLock::take(&dir.path("events.db"))?;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let mut fwd = periscope_agent::wire::Forwarder::new(addr, b"agent-secret", 1 << 20);
    assert!(push_exchanges(&mut fwd, 2, Duration::from_secs(20)));
    drop(fwd);
    d.wait_log("store write failed", Duration::from_secs(30))?;
    signal(d.pid(), "TERM")?;
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    signal(d.pid(), "TERM")?;
    let code = d.terminate_after_signal()?;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "second signal took {:?}",
        started.elapsed()
    );
    assert_ne!(code, 0, "an interrupted shutdown must not report success");
    Ok(())
}

#[test]
fn agents_without_the_required_client_certificate_are_refused() -> Res {
    let dir = TempDir::new("mtls")?;
    if !make_certs(&dir)? {
        println!("SKIP client-certificate test: openssl is not installed");
        return Ok(());
    }
    let script = r#"set -e
openssl req -newkey rsa:2048 -nodes -keyout agent.key -out agent.csr -subj /CN=agent 2>/dev/null
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.cnf
openssl x509 -req -in agent.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out agent.pem -days 2 -extfile client.cnf 2>/dev/null
"#;
    assert!(Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(&dir.0)
        .status()?
        .success());
    std::fs::write(dir.path("agent-token.txt"), "agent-secret\n")?;
    let port = free_port()?;
    let config = format!(
        "[[sources]]\ntype = \"agent\"\nlisten = \"127.0.0.1:{port}\"\ntoken_file = \"agent-token.txt\"\ntls_cert = \"server.pem\"\ntls_key = \"server.key\"\nclient_ca = \"ca.pem\"\n\n[store]\nexchanges = \"all\"\nflush_interval = \"50ms\"\n"
    );
    let d = Daemon::start(&dir, &config)?;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let name = rustls::pki_types::ServerName::try_from("localhost")?.to_owned();
    // Right token, no client certificate: refused.
    let tls = periscope_agent::wire::SensorTls {
        config: periscope_agent::wire::client_tls_config(&dir.path("ca.pem"), None)?,
        server_name: name.clone(),
    };
    let mut fwd = periscope_agent::wire::Forwarder::with_tls(addr, tls, b"agent-secret", 1 << 20);
    assert!(!push_exchanges(&mut fwd, 1, Duration::from_secs(3)));
    drop(fwd);
    // With the certificate: accepted.
    let tls = periscope_agent::wire::SensorTls {
        config: periscope_agent::wire::client_tls_config(
            &dir.path("ca.pem"),
            Some((&dir.path("agent.pem"), &dir.path("agent.key"))),
        )?,
        server_name: name,
    };
    let mut fwd = periscope_agent::wire::Forwarder::with_tls(addr, tls, b"agent-secret", 1 << 20);
    assert!(
        push_exchanges(&mut fwd, 3, Duration::from_secs(20)),
        "{}",
        d.log_text()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while d.all_events(Some("exchange"), 100)?.len() < 3 {
        assert!(
            Instant::now() < deadline,
            "exchanges never arrived: {}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(d.all_events(Some("exchange"), 100)?.len(), 3);
    drop(fwd);
    assert_eq!(d.terminate()?, 0);
    Ok(())
}

#[test]
fn malformed_datagrams_are_counted_not_logged_one_by_one() -> Res {
    let dir = TempDir::new("malformed")?;
    let port = free_udp_port()?;
    let config = format!(
        "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:{port}\"\n\n[store]\nexchanges = \"all\"\n"
    );
    let d = Daemon::start(&dir, &config)?;
    let sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let good = vxlan_datagram(30000, 1, b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut sent = 0;
    for i in 0..300usize {
        // Cut short at every length: inside the VXLAN header, the Ethernet header, IPv4, TCP.
        let cut = good.get(..i % good.len()).unwrap_or(&[]);
        sock.send_to(cut, ("127.0.0.1", port))?;
        // An IPv4 header whose length field lies.
        let mut liar = good.clone();
        liar[8 + 14 + 2] = 0xff;
        sock.send_to(&liar, ("127.0.0.1", port))?;
        sent += 2;
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(d.status("/live")?, 200);
    let text = String::from_utf8(
        Command::new("curl")
            .args(["-sf", &format!("http://{}/metrics", d.api)])
            .output()?
            .stdout,
    )?;
    let malformed: f64 = text
        .lines()
        .filter(|l| l.starts_with("periscope_dropped_total{reason=\"malformed\"}"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum();
    println!("{sent} bad datagrams, {malformed} counted malformed");
    assert!(malformed >= 300.0, "malformed counted: {malformed}");
    let log_lines = d.log_text().lines().count();
    assert!(
        log_lines < 20,
        "the log grew by datagram: {log_lines} lines"
    );
    assert_eq!(d.terminate()?, 0);
    Ok(())
}

#[test]
fn by_default_only_exchanges_with_an_attack_are_kept() -> Res {
    let dir = TempDir::new("keep")?;
    let files = [data("sample.pcap")];
    let list = format!("{:?}", files[0]);
    let d = Daemon::start(
        &dir,
        &format!(
            "[[sources]]\ntype = \"pcap\"\nfiles = [{list}]\n\n[store]\nsqlite = \"events.db\"\n"
        ),
    )?;
    d.wait_log("serving the API until a signal", Duration::from_secs(120))?;
    let exchanges = d.all_events(Some("exchange"), 100)?;
    let attacks = d.all_events(Some("attack"), 100)?;
    let mut attacked: Vec<u64> = attacks
        .iter()
        .filter_map(|a| a["exchange_id"].as_u64())
        .collect();
    attacked.sort_unstable();
    attacked.dedup();
    let mut kept: Vec<u64> = exchanges.iter().filter_map(|e| e["id"].as_u64()).collect();
    kept.sort_unstable();
    assert!(!kept.is_empty());
    assert_eq!(kept, attacked);
    let all = analyze(&files)?;
    assert!(all.iter().filter(|e| e["type"] == "exchange").count() > kept.len());
    assert_eq!(d.terminate()?, 0);
    Ok(())
}

#[test]
fn a_watched_directory_is_read_once_across_restarts() -> Res {
    let dir = TempDir::new("dir")?;
    let spool = dir.path("spool");
    std::fs::create_dir_all(&spool)?;
    std::fs::copy(data("rotated-1.pcap"), spool.join("cap-1.pcap"))?;
    let config = "[[sources]]\ntype = \"pcap\"\ndirectory = \"spool\"\nsettle = \"1s\"\n\n[store]\nsqlite = \"events.db\"\nexchanges = \"all\"\n";
    let want_1 = summary(&analyze(&[data("rotated-1.pcap")])?)["exchange"];
    let want_12 = summary(&analyze(&[data("rotated-1.pcap"), data("rotated-2.pcap")])?)["exchange"];
    // The watcher records each file it finished in DIR/.periscope-done.
    let done = |name: &str| {
        std::fs::read_to_string(spool.join(".periscope-done"))
            .unwrap_or_default()
            .contains(name)
    };
    let d = Daemon::start(&dir, config)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done("cap-1.pcap") {
        assert!(
            Instant::now() < deadline,
            "cap-1 never read: {}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Connections still open at the end of the first file are emitted at shutdown.
    assert_eq!(d.terminate()?, 0);
    let d = Daemon::start(&dir, config)?;
    let first = d.all_events(Some("exchange"), 100)?.len() as u64;
    assert_eq!(first, want_1, "{}", d.log_text());
    // A new rotated file arrives while the daemon runs; the first is not read again.
    std::fs::copy(data("rotated-2.pcap"), spool.join("cap-2.pcap"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done("cap-2.pcap") {
        assert!(
            Instant::now() < deadline,
            "cap-2 never read: {}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(d.terminate()?, 0);
    let d = Daemon::start(&dir, config)?;
    let total = d.all_events(Some("exchange"), 100)?.len() as u64;
    println!("directory: {first} exchanges after the first file, {total} after both (analyze of both: {want_12})");
    assert!(
        total > first && total <= want_12 + 1,
        "{total} vs {want_12}"
    );
    assert_eq!(d.terminate()?, 0);
    Ok(())
}
