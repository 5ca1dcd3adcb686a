//! `periscope agent`: the host's HTTP traffic captured with eBPF (plaintext TCP and OpenSSL
//! plaintext through uprobes), through the same HTTP stage and analysers as `analyze`, NDJSON
//! to stdout until SIGINT or SIGTERM; or, with `--sensor`, the connections streamed to a
//! sensor (TLS and a shared token), buffered while it is away.

use crate::analysers::{Aggregated, Aggregator, AggregatorConfig, Detection};
use crate::output::{EventWriter, Format, JsonWriter, TextWriter};
use crate::pipeline::{Pipeline, PipelineConfig};
use anyhow::Context;
use periscope_agent::wire::{self, Forwarder, SensorTls};
use periscope_agent::{Agent, AgentConfig, CaptureDirection, TlsProbeScope};
use periscope_model::{Event, Timestamp};
use periscope_vulns::{ScannerConfig, TrafficSource};
use rustls::pki_types::ServerName;
use std::io::{self, BufWriter};
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

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
    /// Which processes the OpenSSL uprobes fire in: `servers` (processes holding a listening
    /// socket, instrumented at each rescan), `all-processes`, or `auto` (servers unless
    /// `--both-directions`).
    #[arg(long, value_enum, default_value = "auto")]
    tls_probe_scope: ProbeScopeArg,
    /// Do not attach the OpenSSL uprobes (plaintext TCP only).
    #[arg(long)]
    no_openssl: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Stop after this many seconds (default: run until SIGINT/SIGTERM).
    #[arg(long)]
    duration: Option<f64>,
    /// Stream the connections to a sensor at HOST:PORT instead of analysing them here.
    #[arg(long)]
    sensor: Option<String>,
    /// File holding the token the sensor expects (required with `--sensor`).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// CA certificate (PEM) that signed the sensor's certificate: connect over TLS.
    #[arg(long)]
    sensor_ca: Option<PathBuf>,
    /// Name the sensor's certificate carries (default: the host part of `--sensor`).
    #[arg(long)]
    sensor_name: Option<String>,
    /// Client certificate (PEM) for sensors that require one (with `--client-key`).
    #[arg(long, requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// Client key (PEM).
    #[arg(long, requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// Bytes kept while the sensor is away; beyond it, data is replaced by gaps (counted).
    #[arg(long, default_value_t = 64 << 20)]
    buffer_bytes: usize,
}

/// Builds the forwarder to the sensor named by `--sensor`.
fn forwarder(args: &AgentArgs, sensor: &str) -> anyhow::Result<Forwarder> {
    let token_file = args
        .token_file
        .as_ref()
        .context("--sensor needs --token-file")?;
    let token = std::fs::read(token_file)
        .with_context(|| format!("cannot read token file {}", token_file.display()))?;
    let token = token.trim_ascii();
    anyhow::ensure!(
        !token.is_empty(),
        "token file {} is empty",
        token_file.display()
    );
    let addr = sensor
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve sensor address {sensor}"))?
        .next()
        .with_context(|| format!("sensor address {sensor} resolves to nothing"))?;
    let Some(ca) = &args.sensor_ca else {
        return Ok(Forwarder::new(addr, token, args.buffer_bytes));
    };
    let client = args.client_cert.as_deref().zip(args.client_key.as_deref());
    let config = wire::client_tls_config(ca, client)?;
    let host = sensor.rsplit_once(':').map_or(sensor, |(host, _)| host);
    let name = args
        .sensor_name
        .clone()
        .unwrap_or_else(|| host.trim_matches(['[', ']']).to_string());
    let server_name = ServerName::try_from(name.clone())
        .with_context(|| format!("{name} is not a valid server name"))?;
    Ok(Forwarder::with_tls(
        addr,
        SensorTls {
            config,
            server_name,
        },
        token,
        args.buffer_bytes,
    ))
}

/// Runs the agent until a signal (or `--duration`), then flushes every connection.
pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    crate::run::init_logging();
    if let Some(sensor) = args.sensor.clone() {
        return run_forwarding(&args, &sensor);
    }
    let stop = stop_flag()?;
    let mut agent = start_agent(&args)?;

    let stdout = BufWriter::new(io::stdout().lock());
    let mut writer: Box<dyn EventWriter> = match args.format {
        Format::Json => Box::new(JsonWriter::new(stdout)),
        Format::Text => Box::new(TextWriter::new(stdout)),
    };
    let sink = Aggregated {
        // Discovery keeps its inventory until the end, which a long-running agent never reaches.
        aggregator: Aggregator::with_config(AggregatorConfig {
            discover: false,
            vulnerabilities: Some(ScannerConfig {
                source: TrafficSource::Agent,
                ..ScannerConfig::default()
            }),
            ..AggregatorConfig::default()
        })?,
        sink: |event: Event| {
            // A closed stdout ends the agent through the stop flag below.
            if writer.write(&event).and_then(|()| writer.finish()).is_err() {
                stop_on_write_error();
            }
        },
    };
    let mut pipeline = Pipeline::new(PipelineConfig::default(), sink)?;
    pipeline.add_consumer(Box::new(Detection::new()?));
    let deadline = deadline(&args);
    while !stop.load(Ordering::Relaxed) && !WRITE_FAILED.load(Ordering::Relaxed) {
        if deadline.is_some_and(|d| Instant::now() >= d) {
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
    report(&stats);
    Ok(())
}

/// Streams the agent's connections to a sensor until a signal (or `--duration`).
fn run_forwarding(args: &AgentArgs, sensor: &str) -> anyhow::Result<()> {
    let mut forwarder = forwarder(args, sensor)?;
    let stop = stop_flag()?;
    let mut agent = start_agent(args)?;
    eprintln!("periscope agent: capturing, streaming to {sensor}");
    let deadline = deadline(args);
    while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) {
        agent.poll(Duration::from_millis(200), &mut |flow, ev| {
            forwarder.push(flow, &ev)
        })?;
        forwarder.flush();
    }
    let stats = agent.stop(&mut |flow, ev| forwarder.push(flow, &ev));
    // Give the sensor a few seconds to take what is buffered.
    let give_up = Instant::now() + Duration::from_secs(5);
    while forwarder.pending() > 0 && Instant::now() < give_up {
        forwarder.flush();
        std::thread::sleep(Duration::from_millis(50));
    }
    report(&stats);
    if forwarder.pending() > 0 {
        eprintln!(
            "periscope agent: {} bytes not acknowledged by the sensor",
            forwarder.pending()
        );
    }
    Ok(())
}

/// A flag set by SIGINT or SIGTERM.
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}

fn deadline(args: &AgentArgs) -> Option<Instant> {
    args.duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.clamp(0.0, 1e9)))
}

/// Loads and attaches the BPF programs as the options say, and names the processes whose
/// TLS cannot be decrypted.
fn start_agent(args: &AgentArgs) -> anyhow::Result<Agent> {
    let config = AgentConfig {
        ports: args.ports.clone(),
        process_names: args.process_names.clone(),
        direction: if args.both_directions {
            CaptureDirection::Both
        } else {
            CaptureDirection::default()
        },
        openssl: !args.no_openssl,
        tls_probe_scope: match args.tls_probe_scope {
            ProbeScopeArg::Auto => TlsProbeScope::Auto,
            ProbeScopeArg::Servers => TlsProbeScope::Servers,
            ProbeScopeArg::AllProcesses => TlsProbeScope::AllProcesses,
        },
        ..AgentConfig::default()
    };
    let agent = Agent::start(config)?;
    for process in &agent.stats().uninstrumentable {
        eprintln!("periscope agent: cannot decrypt TLS of {process:?}");
    }
    Ok(agent)
}

fn report(stats: &periscope_agent::AgentStats) {
    let lost: u64 = stats.lost_events_per_cpu.iter().sum();
    eprintln!(
        "periscope agent: {} kernel events, {} lost, {} truncated calls",
        stats.events, lost, stats.truncated_calls
    );
}

static WRITE_FAILED: AtomicBool = AtomicBool::new(false);

fn stop_on_write_error() {
    WRITE_FAILED.store(true, Ordering::Relaxed);
}

/// `--tls-probe-scope` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ProbeScopeArg {
    Auto,
    Servers,
    AllProcesses,
}
