//! `periscope agent`: the host's HTTP traffic captured with eBPF (plaintext TCP and OpenSSL
//! plaintext through uprobes), through the same HTTP stage and analysers as `analyze`, NDJSON
//! to stdout until SIGINT or SIGTERM.

use crate::analysers::Analysers;
use crate::output::{EventWriter, Format, JsonWriter, TextWriter};
use crate::pipeline::{Pipeline, PipelineConfig};
use periscope_agent::{Agent, AgentConfig, CaptureDirection};
use periscope_model::Timestamp;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Options of `periscope agent`.
#[derive(clap::Args)]
pub struct AgentArgs {
    /// Only connections whose server port is one of these (default: every listening port).
    #[arg(long = "port")]
    ports: Vec<u16>,
    /// Only processes with this name (comm), e.g. nginx.
    #[arg(long = "process")]
    process_names: Vec<String>,
    /// Also capture outbound connections of local processes (default: the server side only).
    #[arg(long)]
    both_directions: bool,
    /// Do not attach the OpenSSL uprobes (plaintext TCP only).
    #[arg(long)]
    no_openssl: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Stop after this many seconds (default: run until SIGINT/SIGTERM).
    #[arg(long)]
    duration: Option<f64>,
}

/// Runs the agent until a signal (or `--duration`), then flushes every connection.
pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let config = AgentConfig {
        ports: args.ports.clone(),
        process_names: args.process_names.clone(),
        direction: if args.both_directions {
            CaptureDirection::Both
        } else {
            CaptureDirection::default()
        },
        openssl: !args.no_openssl,
        ..AgentConfig::default()
    };
    let mut agent = Agent::start(config)?;
    let stats = agent.stats();
    for process in &stats.uninstrumentable {
        eprintln!("periscope agent: cannot decrypt TLS of {process:?}");
    }

    let stdout = BufWriter::new(io::stdout().lock());
    let mut writer: Box<dyn EventWriter> = match args.format {
        Format::Json => Box::new(JsonWriter::new(stdout)),
        Format::Text => Box::new(TextWriter::new(stdout)),
    };
    let mut pipeline = Pipeline::new(PipelineConfig::default(), |event| {
        // A closed stdout ends the agent through the stop flag below.
        if writer.write(&event).and_then(|()| writer.finish()).is_err() {
            stop_on_write_error();
        }
    })?;
    pipeline.add_consumer(Box::new(Analysers::new(true, false)?));
    let deadline = args
        .duration
        .map(|s| std::time::Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    while !stop.load(Ordering::Relaxed) && !WRITE_FAILED.load(Ordering::Relaxed) {
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            break;
        }
        agent.poll(Duration::from_millis(200), &mut |flow, ev| {
            pipeline.feed_stream_event(flow, ev)
        })?;
        pipeline.advance_clock(Timestamp::from(SystemTime::now()));
    }
    let stats = agent.stop(&mut |flow, ev| pipeline.feed_stream_event(flow, ev));
    pipeline.finish();
    drop(pipeline);
    let _ = writer.finish();
    let lost: u64 = stats.lost_events_per_cpu.iter().sum();
    let _ = writeln!(
        io::stderr(),
        "periscope agent: {} kernel events, {} lost, {} truncated calls",
        stats.events,
        lost,
        stats.truncated_calls
    );
    Ok(())
}

static WRITE_FAILED: AtomicBool = AtomicBool::new(false);

fn stop_on_write_error() {
    WRITE_FAILED.store(true, Ordering::Relaxed);
}
