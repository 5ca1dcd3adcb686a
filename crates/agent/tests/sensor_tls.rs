//! Agent → sensor over TLS with a CA-signed sensor certificate and a client certificate,
//! through real sockets; the sensor's TLS is rustls with the same helpers the binary uses.
//! Skips when the `openssl` tool (used to make the certificates) is missing.

use periscope_agent::wire::{
    client_tls_config, server_tls_config, Forwarder, SensorSession, SensorTls,
};
use periscope_model::{Direction, FlowId, StreamEvent, Timestamp};
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn sh(dir: &Path, script: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A CA, a sensor certificate for 127.0.0.1 and an agent client certificate, in `dir`.
fn make_pki(dir: &Path) -> bool {
    sh(
        dir,
        "set -e
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj /CN=sensor -keyout sensor.key -out sensor.csr 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > s.ext
        openssl x509 -req -in sensor.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile s.ext -out sensor.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj /CN=agent -keyout agent.key -out agent.csr 2>/dev/null
        printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > a.ext
        openssl x509 -req -in agent.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile a.ext -out agent.pem 2>/dev/null",
    )
}

#[test]
fn events_cross_tls_with_client_certificates() {
    let dir = std::env::temp_dir().join(format!("periscope-agent-pki-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    if !make_pki(&dir) {
        eprintln!("SKIPPED: openssl could not make test certificates");
        return;
    }
    let server_cfg = server_tls_config(
        &dir.join("sensor.pem"),
        &dir.join("sensor.key"),
        Some(&dir.join("ca.pem")),
    );
    let client_cfg = client_tls_config(
        &dir.join("ca.pem"),
        Some((&dir.join("agent.pem"), &dir.join("agent.key"))),
    );
    let (Ok(server_cfg), Ok(client_cfg)) = (server_cfg, client_cfg) else {
        panic!(
            "TLS configs: server ok={} client ok={}",
            server_tls_config(&dir.join("sensor.pem"), &dir.join("sensor.key"), None).is_ok(),
            client_tls_config(&dir.join("ca.pem"), None).is_ok()
        );
    };
    // Without a client certificate the sensor refuses the agent.
    let no_cert = client_tls_config(&dir.join("ca.pem"), None).unwrap_or_else(|e| panic!("{e}"));

    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let server = std::thread::spawn(move || {
        let mut prior = HashMap::new();
        let mut got = Vec::new();
        let mut refused = 0;
        // Serve until one session completes (the refused agent may retry a few times first).
        for _ in 0..50 {
            let Ok((tcp, _)) = listener.accept() else {
                break;
            };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(conn) = rustls::ServerConnection::new(server_cfg.clone()) else {
                break;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut sink = |_: FlowId, ev: StreamEvent<'_>| {
                if let StreamEvent::Data { bytes, .. } = ev {
                    got.push(bytes.to_vec());
                }
            };
            match SensorSession::serve(&mut tls, b"tok", &mut prior, &mut sink) {
                Ok(_) => break,
                Err(_) => refused += 1,
            }
        }
        (got, refused)
    });

    // First an agent without a client certificate: refused, nothing delivered.
    let name =
        rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap_or_else(|e| panic!("{e}"));
    let mut bad = Forwarder::with_tls(
        addr,
        SensorTls {
            config: no_cert,
            server_name: name.clone(),
        },
        b"tok",
        1 << 20,
    );
    bad.push(
        FlowId(9),
        &StreamEvent::Data {
            ts: Timestamp(1),
            dir: Direction::ToServer,
            bytes: b"must not arrive",
        },
    );
    let end = Instant::now() + Duration::from_secs(1);
    while Instant::now() < end {
        bad.flush();
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(bad);

    let mut f = Forwarder::with_tls(
        addr,
        SensorTls {
            config: client_cfg,
            server_name: name,
        },
        b"tok",
        1 << 20,
    );
    let msgs: Vec<Vec<u8>> = (0..20)
        .map(|i| format!("message {i} {}", "y".repeat(i * 500)).into_bytes())
        .collect();
    for m in &msgs {
        f.push(
            FlowId(1),
            &StreamEvent::Data {
                ts: Timestamp(1),
                dir: Direction::ToServer,
                bytes: m,
            },
        );
    }
    let end = Instant::now() + Duration::from_secs(10);
    while f.pending() > 0 && Instant::now() < end {
        f.flush();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(f.pending(), 0, "everything acknowledged");
    drop(f);
    let (got, refused) = server.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        refused >= 1,
        "the agent without a client certificate must be refused"
    );
    assert_eq!(got, msgs);
}
