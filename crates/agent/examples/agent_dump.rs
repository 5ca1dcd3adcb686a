//! Prints the agent's stream events, one line each, until Ctrl-C (or `--secs N`).
//!
//! `cargo run -p periscope-agent --example agent_dump -- [--port P]... [--both] [--tls-all-processes] [--secs N]`

use periscope_agent::{Agent, AgentConfig, CaptureDirection, TlsProbeScope};
use periscope_model::StreamEvent;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let mut cfg = AgentConfig::default();
    let mut secs = u64::MAX;
    let mut quiet = false;
    let mut sensor: Option<std::net::SocketAddr> = None;
    let mut token = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => cfg
                .ports
                .push(args.next().ok_or("--port needs a value")?.parse()?),
            "--comm" => cfg
                .process_names
                .push(args.next().ok_or("--comm needs a value")?),
            "--both" => cfg.direction = CaptureDirection::Both,
            "--tls-all-processes" => cfg.tls_probe_scope = TlsProbeScope::AllProcesses,
            "--quiet" => quiet = true,
            "--sensor" => sensor = Some(args.next().ok_or("--sensor needs HOST:PORT")?.parse()?),
            "--token" => token = args.next().ok_or("--token needs a value")?,
            "--ring" => {
                cfg.ring_buffer_bytes = args.next().ok_or("--ring needs a value")?.parse()?
            }
            "--secs" => secs = args.next().ok_or("--secs needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let mut agent = Agent::start(cfg)?;
    eprintln!(
        "agent running; uninstrumentable: {:?}",
        agent.stats().uninstrumentable
    );
    let end = Instant::now() + Duration::from_secs(secs.min(86400 * 365));
    let (mut data_bytes, mut gap_bytes, mut events) = (0u64, 0u64, 0u64);
    // Shared between the event closure (push) and the loop (flush).
    let forwarder = std::cell::RefCell::new(
        sensor.map(|a| periscope_agent::wire::Forwarder::new(a, token.as_bytes(), 64 << 20)),
    );
    let mut print = |flow: periscope_model::FlowId, ev: StreamEvent<'_>| {
        events += 1;
        match ev {
            StreamEvent::Data { bytes, .. } => data_bytes += bytes.len() as u64,
            StreamEvent::Gap { len, .. } => gap_bytes += len,
            _ => {}
        }
        if let Some(f) = forwarder.borrow_mut().as_mut() {
            f.push(flow, &ev);
            return;
        }
        if quiet {
            return;
        }
        match ev {
            StreamEvent::Open {
                client,
                server,
                handshake,
                ..
            } => {
                println!("{} open {client} -> {server} handshake={handshake}", flow.0)
            }
            StreamEvent::Data { dir, bytes, .. } => {
                println!(
                    "{} data {dir:?} {} {:?}",
                    flow.0,
                    bytes.len(),
                    String::from_utf8_lossy(bytes)
                )
            }
            StreamEvent::Gap { dir, len, .. } => println!("{} gap {dir:?} {len}", flow.0),
            StreamEvent::Close { reason, .. } => println!("{} close {reason:?}", flow.0),
        }
    };
    while Instant::now() < end {
        agent.poll(Duration::from_millis(200), &mut print)?;
        if let Some(f) = forwarder.borrow_mut().as_mut() {
            f.flush();
        }
    }
    let stats = agent.stop(&mut print);
    if let Some(f) = forwarder.borrow_mut().as_mut() {
        let end = Instant::now() + Duration::from_secs(5);
        while f.pending() > 0 && Instant::now() < end {
            f.flush();
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!(
            "sensor: {} bytes unacknowledged, {} connects, {} data->gap, {} dropped",
            f.pending(),
            f.connects,
            f.degraded_to_gap,
            f.dropped
        );
    }
    if !quiet {
        eprintln!("{stats:#?}");
    }
    eprintln!(
        "summary: stream_events={events} data_bytes={data_bytes} gap_bytes={gap_bytes} ring_events={} lost_events={} lost_bytes={} truncated_bytes={} flows={} open_at_stop={}",
        stats.events,
        stats.lost_events(),
        stats.lost_bytes_per_cpu.iter().sum::<u64>(),
        stats.truncated_bytes,
        stats.tracker.flows,
        stats.open_connections,
    );
    Ok(())
}
