//! Prints the agent's stream events, one line each, until Ctrl-C (or `--secs N`).
//!
//! `cargo run -p periscope-agent --example agent_dump -- [--port P]... [--both] [--secs N]`

use periscope_agent::{Agent, AgentConfig, CaptureDirection};
use periscope_model::StreamEvent;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let mut cfg = AgentConfig::default();
    let mut secs = u64::MAX;
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
    let mut print = |flow: periscope_model::FlowId, ev: StreamEvent<'_>| match ev {
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
    };
    while Instant::now() < end {
        agent.poll(Duration::from_millis(200), &mut print)?;
    }
    let stats = agent.stop(&mut print);
    eprintln!("{stats:#?}");
    Ok(())
}
