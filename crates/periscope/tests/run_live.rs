//! `periscope run` on live traffic with real parts (root only; skips with a printed reason):
//! three network namespaces, real curl → real nginx over a veth pair, and three daemons fed the
//! same traffic three ways. Each daemon's exchange count must equal the HTTP requests tshark
//! sees in tcpdump's capture of the same veth.
//!
//! ```text
//!  client ns            server ns                                         monitor ns
//!  10.211.0.1 ─ veth ─ 10.211.0.2 nginx :80 ── mirror ──▶ 127.0.0.1:9090 (daemon: http_mirror)
//!                       │ daemon: interface (filter "tcp port 80"), tcpdump
//!                       └ tc mirred (ingress+egress) → vx0 (VNI 42) ─ veth ─ 10.212.0.2:4789 (daemon: vxlan)
//! ```

#[path = "run_daemon.rs"]
mod daemon;

use daemon::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `sh -c script` inside namespace `ns`; an error carries stderr.
fn in_ns(ns: &str, script: &str) -> Res<String> {
    let out = Command::new("nsenter")
        .arg(format!("--net=/run/netns/{ns}"))
        .args(["sh", "-c", script])
        .output()?;
    if !out.status.success() {
        return Err(format!("{script}: {}", String::from_utf8_lossy(&out.stderr).trim()).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn spawn_in_ns(ns: &str, args: &[&str]) -> Res<Child> {
    Ok(Command::new("nsenter")
        .arg(format!("--net=/run/netns/{ns}"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?)
}

/// Namespaces (and their interfaces) deleted when dropped.
struct Namespaces(Vec<String>);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

/// Kills a child when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn skip_reason() -> Option<String> {
    if !is_root() {
        return Some("not root".into());
    }
    for tool in ["ip", "tc", "nsenter", "curl", "nginx", "tcpdump", "tshark"] {
        if !have(tool) {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

fn nginx_conf(dir: &std::path::Path, www: &std::path::Path) -> String {
    let d = dir.display();
    let w = www.display();
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
    server {{
        listen 10.211.0.2:80;
        root {w};
        location / {{
            mirror /__periscope_mirror;
            mirror_request_body on;
        }}
        location = /__periscope_mirror {{
            internal;
            proxy_pass http://127.0.0.1:9090$request_uri;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Periscope-Client $remote_addr:$remote_port;
            proxy_set_header X-Periscope-Server $server_addr:$server_port;
            proxy_connect_timeout 500ms;
            proxy_read_timeout 2s;
        }}
    }}
}}
"#
    )
}

/// Waits until the daemon has stored `want` exchanges (or the time is up), returns its count.
fn exchanges_when_settled(d: &Daemon, want: usize) -> Res<usize> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = d.all_events(Some("exchange"), 500)?.len();
        if n >= want || Instant::now() > deadline {
            // A little longer, to see any excess arrive.
            std::thread::sleep(Duration::from_millis(500));
            return Ok(d.all_events(Some("exchange"), 500)?.len());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn live_interface_vxlan_and_nginx_mirror_match_tshark() -> Res {
    if let Some(why) = skip_reason() {
        println!("SKIP live_interface_vxlan_and_nginx_mirror_match_tshark: {why}");
        return Ok(());
    }
    let pid = std::process::id();
    let mut ns = Namespaces(Vec::new());
    for n in ["c", "s", "m"] {
        let name = format!("prun{pid}{n}");
        if let Err(e) = Command::new("ip").args(["netns", "add", &name]).output() {
            println!("SKIP live test: cannot create netns: {e}");
            return Ok(());
        }
        ns.0.push(name);
    }
    let (c, s, m) = (ns.0[0].clone(), ns.0[1].clone(), ns.0[2].clone());
    let (veth_c, veth_s, veth_t, veth_m) = (
        format!("rc{pid}"),
        format!("rs{pid}"),
        format!("rt{pid}"),
        format!("rm{pid}"),
    );
    in_ns(&c, "true")?;
    let sh = |script: String| -> Res {
        let st = Command::new("sh").arg("-c").arg(&script).status()?;
        if !st.success() {
            return Err(format!("{script} failed").into());
        }
        Ok(())
    };
    sh(format!(
        "ip link add {veth_c} type veth peer name {veth_s} && ip link add {veth_t} type veth peer name {veth_m} \
         && ip link set {veth_c} netns {c} && ip link set {veth_s} netns {s} \
         && ip link set {veth_t} netns {s} && ip link set {veth_m} netns {m}"
    ))?;
    in_ns(&c, &format!("ip addr add 10.211.0.1/24 dev {veth_c} && ip link set {veth_c} up && ip link set lo up"))?;
    in_ns(&m, &format!("ip addr add 10.212.0.2/24 dev {veth_m} && ip link set {veth_m} up && ip link set lo up"))?;
    in_ns(
        &s,
        &format!(
            "ip addr add 10.211.0.2/24 dev {veth_s} && ip link set {veth_s} up && ip link set lo up \
             && ip addr add 10.212.0.1/24 dev {veth_t} && ip link set {veth_t} up \
             && ip link add vx0 type vxlan id 42 remote 10.212.0.2 local 10.212.0.1 dstport 4789 \
             && ip link set vx0 up && tc qdisc add dev {veth_s} clsact \
             && tc filter add dev {veth_s} ingress u32 match u32 0 0 action mirred egress mirror dev vx0 \
             && tc filter add dev {veth_s} egress u32 match u32 0 0 action mirred egress mirror dev vx0"
        ),
    )?;

    let dir = TempDir::new("live")?;
    let www = dir.path("www");
    std::fs::create_dir_all(&www)?;
    std::fs::write(www.join("index.html"), "hello\n")?;
    std::fs::write(www.join("api.json"), "{\"ok\":true}\n")?;
    std::fs::write(dir.path("nginx.conf"), nginx_conf(&dir.0, &www))?;

    // The three daemons.
    let keep_all = "[store]\nexchanges = \"all\"\n\n[pipeline]\nworkers = 2\n";
    let iface = Daemon::start_in(
        &TempDir::new("live-if")?,
        &format!("[[sources]]\ntype = \"interface\"\ninterface = \"{veth_s}\"\nfilter = \"tcp port 80\"\n\n{keep_all}"),
        Some(&s),
    )?;
    let vxlan = Daemon::start_in(
        &TempDir::new("live-vx")?,
        &format!("[[sources]]\ntype = \"vxlan\"\nlisten = \"10.212.0.2:4789\"\n\n{keep_all}"),
        Some(&m),
    )?;
    let mirror = Daemon::start_in(
        &TempDir::new("live-mirror")?,
        &format!("[[sources]]\ntype = \"http_mirror\"\nlisten = \"127.0.0.1:9090\"\ntrusted_proxies = [\"127.0.0.1\"]\n\n{keep_all}"),
        Some(&s),
    )?;

    let _nginx = Killed(spawn_in_ns(
        &s,
        &[
            "nginx",
            "-p",
            &dir.0.display().to_string(),
            "-c",
            &dir.path("nginx.conf").display().to_string(),
            "-e",
            &dir.path("error.log").display().to_string(),
        ],
    )?);
    let started = Instant::now();
    while in_ns(&c, "curl -s -o /dev/null --max-time 1 http://10.211.0.2/").is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("nginx did not start".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The probe requests above were seen by every daemon too; start counting from a capture
    // taken after them.
    std::thread::sleep(Duration::from_millis(500));
    let base = (
        exchanges_when_settled(&iface, 0)?,
        exchanges_when_settled(&vxlan, 0)?,
        exchanges_when_settled(&mirror, 0)?,
    );
    let pcap = dir.path("veth.pcap");
    let tcpdump = Killed(
        Command::new("nsenter")
            .arg(format!("--net=/run/netns/{s}"))
            .args([
                "tcpdump",
                "-i",
                &veth_s,
                "-U",
                "--immediate-mode",
                "-B",
                "16384",
                "-w",
            ])
            .arg(&pcap)
            .arg("tcp port 80")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    std::thread::sleep(Duration::from_secs(1));

    let mut script = String::from("set -e\n");
    for i in 0..10 {
        script.push_str(&format!(
            "curl -s -o /dev/null http://10.211.0.2/index.html?page={i}\n"
        ));
    }
    script.push_str(
        "curl -s -o /dev/null 'http://10.211.0.2/api.json?id=1%27%20OR%20%271%27=%271'\n",
    );
    script.push_str("curl -s -o /dev/null -d 'name=alice' http://10.211.0.2/api.json\n");
    // Keep-alive: three requests on one connection.
    script.push_str("curl -s -o /dev/null -o /dev/null -o /dev/null http://10.211.0.2/index.html http://10.211.0.2/api.json http://10.211.0.2/missing\n");
    in_ns(&c, &script)?;
    std::thread::sleep(Duration::from_secs(1));
    drop(tcpdump);
    std::thread::sleep(Duration::from_millis(300));

    let tshark = Command::new("tshark")
        .args(["-r"])
        .arg(&pcap)
        .args([
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "http.request.uri",
        ])
        .output()?;
    let requests = String::from_utf8_lossy(&tshark.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .count();
    // What curl sent: 10 pages, the injection, the POST, three on one keep-alive connection.
    let sent = 10 + 1 + 1 + 3;
    assert_eq!(requests, sent, "tshark saw {requests} of {sent} requests");

    let got_if = exchanges_when_settled(&iface, base.0 + requests)? - base.0;
    let got_vx = exchanges_when_settled(&vxlan, base.1 + requests)? - base.1;
    let got_mirror = exchanges_when_settled(&mirror, base.2 + requests)? - base.2;
    println!("tshark {requests} requests; interface {got_if}, vxlan {got_vx}, http_mirror {got_mirror} exchanges");
    assert_eq!(got_if, requests, "interface: {}", iface.log_text());
    assert_eq!(got_vx, requests, "vxlan: {}", vxlan.log_text());
    assert_eq!(got_mirror, requests, "http_mirror: {}", mirror.log_text());

    // The SQL injection was found in each.
    for (name, d) in [
        ("interface", &iface),
        ("vxlan", &vxlan),
        ("http_mirror", &mirror),
    ] {
        let attacks = d.all_events(Some("attack"), 500)?;
        assert!(
            attacks.iter().any(|a| a["class"] == "sqli"),
            "{name}: {attacks:?}"
        );
    }
    // The mirror's exchanges carry the real client address.
    let mirrored = mirror.all_events(Some("exchange"), 500)?;
    assert!(mirrored
        .iter()
        .all(|e| e["flow"]["client"]["ip"] == "10.211.0.1"));
    for d in [iface, vxlan, mirror] {
        assert_eq!(d.terminate()?, 0);
    }
    Ok(())
}

#[test]
fn an_interface_that_disappears_is_retried_and_captured_again() -> Res {
    if let Some(why) = skip_reason() {
        println!("SKIP an_interface_that_disappears_is_retried_and_captured_again: {why}");
        return Ok(());
    }
    let pid = std::process::id();
    let mut ns = Namespaces(Vec::new());
    for n in ["c", "s"] {
        let name = format!("pgone{pid}{n}");
        if let Err(e) = Command::new("ip").args(["netns", "add", &name]).output() {
            println!("SKIP interface test: cannot create netns: {e}");
            return Ok(());
        }
        ns.0.push(name);
    }
    let (c, s) = (ns.0[0].clone(), ns.0[1].clone());
    let (veth_c, veth_s) = (format!("gc{pid}"), format!("gs{pid}"));
    let make_link = || -> Res {
        let script = format!(
            "ip link add {veth_c} type veth peer name {veth_s} && ip link set {veth_c} netns {c} && ip link set {veth_s} netns {s} \
             && ip -n {c} addr add 10.213.0.1/24 dev {veth_c} && ip -n {c} link set {veth_c} up \
             && ip -n {s} addr add 10.213.0.2/24 dev {veth_s} && ip -n {s} link set {veth_s} up \
             && ip -n {c} link set lo up && ip -n {s} link set lo up"
        );
        if !Command::new("sh")
            .arg("-c")
            .arg(&script)
            .status()?
            .success()
        {
            return Err("veth setup failed".into());
        }
        Ok(())
    };
    make_link()?;
    let dir = TempDir::new("gone")?;
    std::fs::write(dir.path("index.html"), "hi\n")?;
    let d = Daemon::start_in(
        &dir,
        &format!("[[sources]]\ntype = \"interface\"\ninterface = \"{veth_s}\"\nfilter = \"tcp port 8000\"\n\n[store]\nexchanges = \"all\"\n"),
        Some(&s),
    )?;
    let serve = |n: usize| -> Res {
        let www = dir.0.display().to_string();
        let _server = Killed(spawn_in_ns(
            &s,
            &[
                "python3",
                "-m",
                "http.server",
                "8000",
                "--bind",
                "10.213.0.2",
                "--directory",
                &www,
            ],
        )?);
        let started = Instant::now();
        while in_ns(
            &c,
            "curl -s -o /dev/null --max-time 1 http://10.213.0.2:8000/",
        )
        .is_err()
        {
            if started.elapsed() > Duration::from_secs(10) {
                return Err("server did not start".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        for i in 0..n {
            in_ns(
                &c,
                &format!("curl -s -o /dev/null http://10.213.0.2:8000/index.html?n={i}"),
            )?;
        }
        Ok(())
    };
    serve(3)?;
    let before = exchanges_when_settled(&d, 4)?;
    assert!(before >= 4, "{}", d.log_text());

    // The interface goes away (deleting one end deletes the pair), then comes back.
    in_ns(&s, &format!("ip link del {veth_s}"))?;
    d.wait_log("retrying every 3s", Duration::from_secs(10))?;
    assert_eq!(d.status("/live")?, 200);
    make_link()?;
    d.wait_log("capturing again", Duration::from_secs(15))?;
    std::thread::sleep(Duration::from_millis(500));
    serve(3)?;
    let after = exchanges_when_settled(&d, before + 4)?;
    assert_eq!(after, before + 4, "{}", d.log_text());
    let log = d.log_text();
    assert_eq!(
        log.matches("interface capture stopped").count()
            + log.matches("interface unavailable").count(),
        1,
        "one log line for the fault, not one per retry: {log}"
    );
    assert_eq!(d.terminate()?, 0);
    Ok(())
}
