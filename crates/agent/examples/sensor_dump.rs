//! A minimal sensor end of the agent stream: accepts agents on `ADDR`, checks the token,
//! prints their stream events. (The real receiver is `periscope run` with a source of
//! `type = "agent"`; this shows the protocol in `periscope_agent::wire`.)
//!
//! `cargo run -p periscope-agent --example sensor_dump -- 127.0.0.1:7443 TOKEN`

use periscope_agent::wire::SensorSession;
use periscope_model::StreamEvent;
use std::collections::HashMap;
use std::net::TcpListener;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7443".into());
    let token = args.next().unwrap_or_default();
    let listener = TcpListener::bind(&addr)?;
    eprintln!("listening on {addr}");
    let mut prior = HashMap::new();
    for conn in listener.incoming() {
        let mut s = conn?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
        let mut print = |flow: periscope_model::FlowId, ev: StreamEvent<'_>| match ev {
            StreamEvent::Open { client, server, .. } => {
                println!("{} open {client} -> {server}", flow.0)
            }
            StreamEvent::Data { dir, bytes, .. } => println!(
                "{} data {dir:?} {} {:?}",
                flow.0,
                bytes.len(),
                String::from_utf8_lossy(bytes)
            ),
            StreamEvent::Gap { dir, len, .. } => println!("{} gap {dir:?} {len}", flow.0),
            StreamEvent::Close { reason, .. } => println!("{} close {reason:?}", flow.0),
        };
        match SensorSession::serve(&mut s, token.as_bytes(), &mut prior, &mut print) {
            Ok(sess) => eprintln!(
                "agent session {:x} ended after {} bytes",
                sess.session, sess.delivered
            ),
            Err(e) => eprintln!("agent connection: {e}"),
        }
    }
    Ok(())
}
