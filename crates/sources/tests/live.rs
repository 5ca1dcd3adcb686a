//! Live capture with real parts: three network namespaces, a veth pair between a curl client
//! and a Python HTTP server, the `interface` source capturing on the server's end with
//! libpcap filters, tcpdump (and tshark, when installed) capturing the same traffic for
//! comparison, and the kernel mirroring the same veth through `tc mirred` into a real VXLAN
//! device towards the `vxlan` listener in a third namespace.
//!
//! ```text
//!  client ns            server ns                                   monitor ns
//!  10.201.0.1 ─ veth ─ 10.201.0.2 (python http.server :80)
//!                       └ tc mirred (ingress+egress) → vx0 (VNI 42) 10.202.0.1 ─ veth ─ 10.202.0.2:4789
//! ```
//!
//! Needs root, `ip`, `tc`, `nsenter`, `curl`, `python3`, `tcpdump`; skips with a printed reason
//! otherwise.

mod common;

use common::*;
use periscope_model::{Tunnel, TunnelKind};
use periscope_sources::{
    FrameBatch, InterfaceConfig, InterfaceSource, OwnedFrame, SourceError, SourceStats,
    StatsSnapshot, TunnelConfig, TunnelListener, TunnelProtocol,
};
use std::collections::BTreeSet;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const REQUESTS: usize = 12;

/// Reads a frame source until `stop`, returning what it delivered.
fn collect(
    mut next: impl FnMut(&mut FrameBatch) -> Result<usize, SourceError>,
    stats: Arc<SourceStats>,
    stop: &AtomicBool,
) -> Result<(Vec<OwnedFrame>, StatsSnapshot), String> {
    let mut batch = FrameBatch::default();
    let mut frames = Vec::new();
    while !stop.load(Relaxed) {
        next(&mut batch).map_err(|e| e.to_string())?;
        frames.extend(batch.iter().map(|f| OwnedFrame::from_frame(&f)));
    }
    Ok((frames, stats.snapshot()))
}

type Collected = Result<(Vec<OwnedFrame>, StatsSnapshot), String>;

/// Opens an interface source inside namespace `ns` and collects until `stop`.
fn capture_in(
    ns: &str,
    cfg: InterfaceConfig,
    stop: Arc<AtomicBool>,
    ready: mpsc::Sender<Result<(), String>>,
) -> Result<std::thread::JoinHandle<Result<Collected, String>>, String> {
    thread_in_ns(ns, move || {
        let mut source = match InterfaceSource::open(cfg) {
            Ok(s) => s,
            Err(e) => {
                let _ = ready.send(Err(e.to_string()));
                return Err(e.to_string());
            }
        };
        let _ = ready.send(Ok(()));
        let stats = source.stats();
        collect(
            |b| source.next_batch(Duration::from_millis(50), b),
            stats,
            &stop,
        )
    })
}

fn ok<T>(r: Result<Result<T, String>, String>) -> Result<T, String> {
    r.and_then(|inner| inner)
}

#[test]
fn interface_capture_filters_and_vxlan_mirror() -> TestResult {
    if let Some(why) = skip_reason(&["ip", "tc", "nsenter", "curl", "python3", "tcpdump"]) {
        eprintln!("SKIP interface_capture_filters_and_vxlan_mirror: {why}");
        return Ok(());
    }
    let ns = match Namespaces::create(&["c", "s", "m"]) {
        Ok(ns) => ns,
        Err(e) => {
            eprintln!("SKIP interface_capture_filters_and_vxlan_mirror: cannot create netns: {e}");
            return Ok(());
        }
    };
    let (c, s, m) = (ns.name(0), ns.name(1), ns.name(2));
    let pid = std::process::id();
    let (veth_c, veth_s) = (format!("pc{pid}"), format!("ps{pid}"));
    let (veth_t, veth_m) = (format!("pt{pid}"), format!("pm{pid}"));
    run(
        "ip",
        &[
            "link", "add", &veth_c, "type", "veth", "peer", "name", &veth_s,
        ],
    )?;
    run(
        "ip",
        &[
            "link", "add", &veth_t, "type", "veth", "peer", "name", &veth_m,
        ],
    )?;
    for (dev, n) in [(&veth_c, c), (&veth_s, s), (&veth_t, s), (&veth_m, m)] {
        run("ip", &["link", "set", dev, "netns", n])?;
    }
    in_ns(c, &format!("ip addr add 10.201.0.1/24 dev {veth_c} && ip link set {veth_c} up && ip link set lo up"))?;
    in_ns(m, &format!("ip addr add 10.202.0.2/24 dev {veth_m} && ip link set {veth_m} up && ip link set lo up"))?;
    in_ns(
        s,
        &format!(
            "ip addr add 10.201.0.2/24 dev {veth_s} && ip link set {veth_s} up && ip link set lo up \
             && ip addr add 10.202.0.1/24 dev {veth_t} && ip link set {veth_t} up \
             && ip link add vx0 type vxlan id 42 remote 10.202.0.2 local 10.202.0.1 dstport 4789 \
             && ip link set vx0 up \
             && tc qdisc add dev {veth_s} clsact \
             && tc filter add dev {veth_s} ingress u32 match u32 0 0 action mirred egress mirror dev vx0 \
             && tc filter add dev {veth_s} egress u32 match u32 0 0 action mirred egress mirror dev vx0"
        ),
    )?;

    let www = std::env::temp_dir().join(format!("periscope-sources-www-{pid}"));
    std::fs::create_dir_all(&www)?;
    std::fs::write(www.join("index.html"), "hello from the server namespace\n")?;
    let www_dir = www.display().to_string();
    let mut server = spawn_in_ns(
        s,
        &[
            "python3",
            "-m",
            "http.server",
            "80",
            "--bind",
            "10.201.0.2",
            "--directory",
            &www_dir,
        ],
    )?;
    let started = Instant::now();
    while in_ns(c, "curl -s -o /dev/null --max-time 1 http://10.201.0.2/").is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = server.kill();
            return Err("the Python server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    // Sources: port 80 filter, a filter that excludes the traffic, the VXLAN listener.
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel();
    let mut http_cfg = InterfaceConfig::new(&veth_s);
    http_cfg.filter = Some("tcp port 80".into());
    http_cfg.fanout_group = Some(u16::try_from(pid % 60000)?);
    // Two sockets in one fanout group share the port-80 traffic.
    let http_capture = capture_in(s, http_cfg.clone(), Arc::clone(&stop), ready_tx.clone())?;
    let http_capture2 = capture_in(s, http_cfg, Arc::clone(&stop), ready_tx.clone())?;
    let mut none_cfg = InterfaceConfig::new(&veth_s);
    none_cfg.filter = Some("udp port 9".into());
    let none_capture = capture_in(s, none_cfg, Arc::clone(&stop), ready_tx.clone())?;
    let stop_vx = Arc::clone(&stop);
    let vx_ready = ready_tx.clone();
    let vxlan = thread_in_ns(m, move || {
        let mut cfg = TunnelConfig::new(TunnelProtocol::Vxlan);
        cfg.listen = "0.0.0.0:4789".parse().map_err(|e| format!("{e}"))?;
        let mut listener = match TunnelListener::bind(cfg) {
            Ok(l) => l,
            Err(e) => {
                let _ = vx_ready.send(Err(e.to_string()));
                return Err(e.to_string());
            }
        };
        let _ = vx_ready.send(Ok(()));
        let stats = listener.stats();
        collect(
            |b| listener.next_batch(Duration::from_millis(50), b),
            stats,
            &stop_vx,
        )
    })?;
    for _ in 0..4 {
        ready_rx.recv_timeout(Duration::from_secs(10))??;
    }

    // tcpdump on the same interface, for comparison.
    let pcap = std::env::temp_dir().join(format!("periscope-sources-live-{pid}.pcap"));
    let pcap_path = pcap.display().to_string();
    let mut tcpdump = spawn_in_ns(
        s,
        &[
            "tcpdump",
            "--immediate-mode",
            "-i",
            &veth_s,
            "-U",
            "-w",
            &pcap_path,
            "tcp port 80",
        ],
    )?;
    // Keep reading tcpdump's stderr (a closed pipe would kill it at exit, before it flushes).
    let (line_tx, line_rx) = mpsc::channel();
    if let Some(err) = tcpdump.stderr.take() {
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines() {
                let _ = line_tx.send(line.unwrap_or_default());
            }
        });
    }
    let first = line_rx.recv_timeout(Duration::from_secs(10))?;
    assert!(first.contains("listening"), "tcpdump: {first}");

    in_ns(
        c,
        &format!(
            "for i in $(seq 1 {REQUESTS}); do curl -s -o /dev/null --max-time 5 \"http://10.201.0.2/?i=$i\" || exit 1; done"
        ),
    )?;
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Relaxed);
    run("kill", &["-INT", &tcpdump.id().to_string()])?;
    tcpdump.wait()?;
    let tcpdump_said: Vec<String> = line_rx.try_iter().collect();
    eprintln!("tcpdump: {tcpdump_said:?}");
    let (first_frames, first_stats) =
        ok(http_capture.join().map_err(|_| "capture thread panicked")?)?;
    let (second_frames, second_stats) = ok(http_capture2
        .join()
        .map_err(|_| "capture thread panicked")?)?;
    let (none_frames, _) = ok(none_capture.join().map_err(|_| "capture thread panicked")?)?;
    let (vx_frames, vx_stats) = ok(vxlan.join().map_err(|_| "listener thread panicked")?)?;

    // The port-80 capture: every request once, the same segments as tcpdump saw.
    // The fanout group: each connection, both directions, went to one member only (the kernel's
    // flow hash is symmetric), and both members got some. With 12+ connections hashed at
    // random, all on one member has a probability of 2^-11.
    let client_ports = |frames: &[OwnedFrame]| -> BTreeSet<u16> {
        decode_owned(frames)
            .0
            .iter()
            .map(|s| if s.dport == 80 { s.sport } else { s.dport })
            .collect()
    };
    let (first_flows, second_flows) = (client_ports(&first_frames), client_ports(&second_frames));
    assert!(
        first_flows.is_disjoint(&second_flows),
        "{first_flows:?} / {second_flows:?}"
    );
    assert!(
        !first_flows.is_empty() && !second_flows.is_empty(),
        "fanout: {} and {} connections",
        first_flows.len(),
        second_flows.len()
    );
    eprintln!(
        "fanout: {} and {} connections",
        first_flows.len(),
        second_flows.len()
    );
    for stats in [first_stats, second_stats] {
        assert_eq!(stats.drops_kernel, 0, "{stats:?}");
    }
    assert_eq!(
        first_stats.packets + second_stats.packets,
        (first_frames.len() + second_frames.len()) as u64
    );
    let http_frames: Vec<OwnedFrame> = first_frames.into_iter().chain(second_frames).collect();
    let (segs, decoder) = decode_owned(&http_frames);
    let requests: BTreeSet<String> = starting_with(&segs, b"GET /?i=")
        .iter()
        .map(|s| String::from_utf8_lossy(&s.payload[..s.payload.len().min(12)]).into_owned())
        .collect();
    assert_eq!(
        starting_with(&segs, b"GET /?i=").len(),
        REQUESTS,
        "requests seen: {requests:?}"
    );
    assert_eq!(requests.len(), REQUESTS);
    assert!(segs.iter().all(|s| s.sport == 80 || s.dport == 80));
    assert_eq!(decoder.stats().malformed_total(), 0);

    let dumped = read_capture(&pcap)?;
    let (dumped_segs, _) = decode_owned(&dumped);
    eprintln!(
        "tcpdump wrote {} frames ({} TCP segments)",
        dumped.len(),
        dumped_segs.len()
    );
    assert_eq!(starting_with(&dumped_segs, b"GET /?i=").len(), REQUESTS);
    assert_eq!(
        segs.len(),
        dumped_segs.len(),
        "segments: ours {} tcpdump {}",
        segs.len(),
        dumped_segs.len()
    );
    if which("tshark").is_some() {
        let uris = run(
            "tshark",
            &[
                "-r",
                &pcap_path,
                "-Y",
                "http.request",
                "-T",
                "fields",
                "-e",
                "http.request.uri",
            ],
        )?;
        assert_eq!(
            uris.lines().filter(|l| l.starts_with("/?i=")).count(),
            REQUESTS
        );
    } else {
        eprintln!("tshark not installed: compared with tcpdump only");
    }
    eprintln!(
        "interface: {} frames, {} TCP segments ({} from tcpdump), {REQUESTS} requests",
        http_frames.len(),
        segs.len(),
        dumped_segs.len()
    );

    // The filter that excludes the traffic let nothing through.
    assert!(none_frames.is_empty(), "{} frames", none_frames.len());

    // The VXLAN mirror: both directions, every segment on tunnel VNI 42.
    let (vx_segs, vx_decoder) = decode_owned(&vx_frames);
    let vni42 = vec![Tunnel {
        kind: TunnelKind::Vxlan,
        id: 42,
    }];
    let vx_requests = starting_with(&vx_segs, b"GET /?i=");
    assert_eq!(vx_requests.len(), REQUESTS);
    assert!(vx_requests.iter().all(|s| s.tunnel == vni42));
    let vx_responses = starting_with(&vx_segs, b"HTTP/1.0 200");
    assert_eq!(vx_responses.len(), REQUESTS);
    assert!(vx_segs.iter().all(|s| s.tunnel == vni42));
    assert_eq!(vx_decoder.stats().malformed_total(), 0);
    assert_eq!(
        vx_decoder.stats().tunnels(TunnelKind::Vxlan),
        vx_frames.len() as u64
    );
    assert_eq!(vx_stats.packets, vx_frames.len() as u64);
    eprintln!(
        "vxlan: {} datagrams, {} TCP segments, receive-buffer drops {}",
        vx_frames.len(),
        vx_segs.len(),
        vx_stats.drops_socket_buffer
    );

    // The interface disappears under a running capture: a retryable error, and opening it
    // again fails (retryably) until it is back.
    let (gone_tx, gone_rx) = mpsc::channel();
    let gone_name = veth_s.clone();
    let gone = thread_in_ns(s, move || -> Result<SourceError, String> {
        let mut source =
            InterfaceSource::open(InterfaceConfig::new(&gone_name)).map_err(|e| e.to_string())?;
        let _ = gone_tx.send(());
        let mut batch = FrameBatch::default();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Err(e) = source.next_batch(Duration::from_millis(100), &mut batch) {
                let reopen = InterfaceSource::open(InterfaceConfig::new(&gone_name));
                return match reopen {
                    Err(again) if again.is_retryable() => Ok(e),
                    Err(again) => Err(format!("reopen error not retryable: {again}")),
                    Ok(_) => Err("reopened a deleted interface".into()),
                };
            }
        }
        Err("no error within 15 s of deleting the interface".into())
    })?;
    gone_rx.recv_timeout(Duration::from_secs(10))?;
    in_ns(s, &format!("ip link del {veth_s}"))?;
    let err = ok(gone.join().map_err(|_| "thread panicked")?)?;
    assert!(matches!(err, SourceError::InterfaceGone { .. }), "{err}");
    assert!(err.is_retryable());

    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_file(&pcap);
    let _ = std::fs::remove_dir_all(&www);
    Ok(())
}

#[test]
fn open_errors_say_whether_to_retry() {
    let missing = InterfaceSource::open(InterfaceConfig::new("nosuchif0"));
    match missing {
        Err(e) => assert!(e.is_retryable(), "{e}"),
        Ok(_) => panic!("opened an interface that does not exist"),
    }
    let mut cfg = InterfaceConfig::new("lo");
    cfg.filter = Some("tcp port".into());
    match InterfaceSource::open(cfg) {
        Err(e @ SourceError::Filter { .. }) => assert!(!e.is_retryable()),
        other => panic!("expected a filter error, got {other:?}"),
    }
}

/// The filter attached to the socket is the program tcpdump itself compiles (`tcpdump -ddd`,
/// same snap length), instruction for instruction.
#[test]
fn filters_compile_like_tcpdump() -> TestResult {
    if let Some(why) = skip_reason(&["tcpdump"]) {
        eprintln!("SKIP filters_compile_like_tcpdump: {why}");
        return Ok(());
    }
    for filter in [
        "tcp port 80",
        "tcp port 80 or (udp and host 10.0.0.1)",
        "tcp and (port 8080 or portrange 9000-9100) and not net 192.168.0.0/16",
        "ip6 and tcp dst port 443",
    ] {
        let out = run("tcpdump", &["-s", "65535", "-ddd", "-i", "lo", filter])?;
        let mut lines = out.lines();
        let count: usize = lines.next().unwrap_or("").trim().parse()?;
        let theirs: Vec<[u64; 4]> = lines
            .map(|l| {
                let v: Vec<u64> = l
                    .split_whitespace()
                    .filter_map(|f| f.parse().ok())
                    .collect();
                [0, 1, 2, 3].map(|i| v.get(i).copied().unwrap_or(u64::MAX))
            })
            .collect();
        let ours: Vec<[u64; 4]> = periscope_sources::compile_filter(filter)?
            .instructions()
            .iter()
            .map(|i| {
                [
                    u64::from(i.code),
                    u64::from(i.jt),
                    u64::from(i.jf),
                    u64::from(i.k),
                ]
            })
            .collect();
        assert_eq!(theirs.len(), count, "{filter}");
        assert_eq!(ours, theirs, "{filter}");
    }
    Ok(())
}
