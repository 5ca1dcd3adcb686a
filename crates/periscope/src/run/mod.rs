//! `periscope run --config FILE`: the sensor as a long-running service, and `periscope
//! check-config FILE`.
//!
//! ```text
//! source threads ──(decode, shard by flow)──▶ worker queues ──▶ N workers: Pipeline + Detection
//!      (interface, vxlan, geneve, pcap, agent)     bounded          │ per-exchange event batches
//!                                                                   ▼
//!                                 aggregator thread: Aggregator (discovery, …), keep filter
//!                                                                   │ events, inventory snapshots
//!                                                                   ▼
//!                                 store writer: batched appends, retry buffer, retention
//! API thread (tokio): periscope_serve::router on [api].listen, reading the same store
//! ```
//!
//! Every queue is bounded. Live sources drop (and count) when their worker's queue is full;
//! capture files and agents wait. Past the workers nothing accepted is dropped: workers wait
//! for the aggregator, the aggregator for the writer, and the writer always takes what comes
//! (holding at most `store.retry_buffer` records while the store fails).
//!
//! Shutdown (SIGTERM or SIGINT): sources stop, queues drain, pipelines finish, the aggregator
//! finishes (a last inventory snapshot), the writer flushes; exit 0. A second signal exits at
//! once (code 1). When every source is finite (capture files) and done, the pipelines finish
//! the same way and the API keeps serving until a signal.

mod agent_source;
mod aggregate;
pub mod config;
mod files;
mod ingest;
mod live;
mod shard;
mod worker;
mod writer;

use crate::analysers::Aggregator;
use anyhow::Context;
use config::{Config, SourceConfig};
use crossbeam_channel::bounded;
use periscope_serve::{ApiState, ApiToken, Metrics, Readiness};
use periscope_store::{MemoryStore, SqliteConfig, SqliteStore, Store};
use shard::{WhenFull, Workers};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Options of `periscope run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The configuration file (TOML; see examples/periscope.toml).
    #[arg(long, short)]
    config: PathBuf,
}

/// Options of `periscope check-config`.
#[derive(clap::Args)]
pub struct CheckConfigArgs {
    /// The configuration file to validate.
    file: PathBuf,
}

/// Validates a configuration file and prints a line per source and section. Exit code 0 when
/// valid; an error naming the bad key otherwise.
pub fn check_config(args: CheckConfigArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.file)?;
    for (i, source) in config.sources.iter().enumerate() {
        check_source(source).with_context(|| format!("sources[{i}]"))?;
        println!("sources[{i}] {}", describe(source));
    }
    drop(
        Aggregator::with_config(config.aggregator_config())
            .context("[behaviour] / [vulnerabilities]")?,
    );
    match &config.store.sqlite {
        Some(p) => println!(
            "store: sqlite {} (exchanges kept: {:?}, max_age: {}, max_size: {})",
            p.display(),
            config.store.exchanges,
            config
                .store
                .max_age
                .map_or("none".into(), |d| humantime::format_duration(d).to_string()),
            config
                .store
                .max_size
                .map_or("none".into(), |b| format!("{b} bytes"))
        ),
        None => println!("store: memory only (events are lost at exit)"),
    }
    match &config.api {
        Some(api) => println!(
            "api: http://{} (token from {})",
            api.listen,
            match (&api.token_file, &api.token_env) {
                (Some(f), _) => format!("file {}", f.display()),
                (_, Some(v)) => format!("environment variable {v}"),
                _ => "nowhere".into(),
            }
        ),
        None => println!("api: off (no [api] section)"),
    }
    println!(
        "pipeline: {} workers, queues {}/{}/{} (worker/event/store), detect {}, discover {}, vulnerabilities {}, behaviour {}",
        config.pipeline.worker_count(),
        config.pipeline.worker_queue,
        config.pipeline.event_queue,
        config.pipeline.store_queue,
        config.pipeline.detect,
        config.pipeline.discover,
        config.pipeline.vulnerabilities,
        config.pipeline.behaviour
    );
    Ok(ExitCode::SUCCESS)
}

/// Checks what parsing cannot: the capture filter compiles, TLS files load.
fn check_source(source: &SourceConfig) -> anyhow::Result<()> {
    match source {
        SourceConfig::Interface(s) => interface_config(s).validate().map_err(|e| {
            anyhow::anyhow!("{}{e}", if s.filter.is_some() { "filter: " } else { "" })
        }),
        SourceConfig::Agent(a) => {
            if let (Some(cert), Some(key)) = (&a.tls_cert, &a.tls_key) {
                periscope_agent::wire::server_tls_config(cert, key, a.client_ca.as_deref())
                    .context("tls_cert/tls_key/client_ca")?;
            }
            Ok(())
        }
        SourceConfig::HttpMirror(_)
        | SourceConfig::Vxlan(_)
        | SourceConfig::Geneve(_)
        | SourceConfig::Pcap(_) => Ok(()),
    }
}

fn interface_config(s: &config::InterfaceSource) -> periscope_sources::InterfaceConfig {
    let mut c = periscope_sources::InterfaceConfig::new(s.interface.clone());
    c.filter = s.filter.clone();
    c.promiscuous = s.promiscuous;
    c.block_count = (s.ring_mib as usize / 4).max(1);
    c
}

fn http_mirror_config(
    s: &config::HttpMirrorSource,
    body_cap: usize,
) -> anyhow::Result<periscope_sources::HttpMirrorConfig> {
    let mut c = periscope_sources::HttpMirrorConfig::new(s.listen);
    c.body_cap = body_cap;
    c.client_header = s.client_header.clone();
    c.server_header = s.server_header.clone();
    c.trusted_proxies = s
        .trusted_proxies
        .iter()
        .map(|b| {
            b.parse().map_err(|_| {
                anyhow::anyhow!("trusted_proxies: {b:?} is not an address or CIDR block")
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(c)
}

fn describe(source: &SourceConfig) -> String {
    match source {
        SourceConfig::Interface(s) => format!(
            "interface: {} filter {:?} (compiles), {} capture thread(s) with a {} MiB ring each, promiscuous {}",
            s.interface,
            s.filter.as_deref().unwrap_or(""),
            s.capture_threads,
            s.ring_mib,
            s.promiscuous
        ),
        SourceConfig::Vxlan(s) => format!("vxlan: UDP listener on {}", s.listen),
        SourceConfig::Geneve(s) => format!("geneve: UDP listener on {}", s.listen),
        SourceConfig::HttpMirror(s) => format!(
            "http_mirror: HTTP listener on {} (client address from {} when sent by {:?})",
            s.listen, s.client_header, s.trusted_proxies
        ),
        SourceConfig::Pcap(s) => match &s.directory {
            Some(d) => format!(
                "pcap: directory {} (files complete after {:?} unchanged)",
                d.display(),
                s.settle
            ),
            None => format!(
                "pcap: {} file(s), first {}",
                s.files.len(),
                s.files
                    .first()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default()
            ),
        },
        SourceConfig::Agent(s) => format!(
            "agent: listener on {} ({}, token file {})",
            s.listen,
            match (&s.tls_cert, &s.client_ca) {
                (Some(_), Some(_)) => "TLS with client certificates",
                (Some(_), None) => "TLS",
                _ => "plaintext",
            },
            s.token_file.display()
        ),
    }
}

/// Runs the daemon until a signal.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let config = Config::load(&args.config)?;
    for (i, source) in config.sources.iter().enumerate() {
        check_source(source).with_context(|| format!("sources[{i}]"))?;
    }

    // Signals first: a second SIGTERM/SIGINT exits at once.
    let term = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register_conditional_shutdown(sig, 1, term.clone())?;
        signal_hook::flag::register(sig, term.clone())?;
    }

    let metrics = Arc::new(Metrics::new());
    let (store, sqlite) = open_store(&config)?;
    let readiness = match &config.api {
        Some(api) => Some(start_api(api, store.clone(), metrics.clone())?),
        None => None,
    };
    let api = readiness.as_ref().map(|(_, r)| r.clone());

    let live = config.sources.iter().any(SourceConfig::is_live);
    let n_workers = config.pipeline.worker_count();

    // Store writer.
    let (writer_tx, writer_rx) = bounded(config.store.store_queue_capacity(&config));
    let writer = spawn("store-writer", {
        let setup = writer::WriterSetup {
            store: store.clone(),
            sqlite,
            flush_interval: config.store.flush_interval,
            batch_size: config.store.batch_size,
            retry_buffer: config.store.retry_buffer,
            input: writer_rx,
            metrics: metrics.clone(),
        };
        move || writer::run(setup)
    })?;

    // Aggregator (built first: a bad analyser setting fails the start).
    let aggregator = Aggregator::with_config(config.aggregator_config())
        .context("[behaviour] / [vulnerabilities]")?;
    let (events_tx, events_rx) = bounded(config.pipeline.event_queue);
    let aggregator = spawn("aggregator", {
        let setup = aggregate::AggregateSetup {
            aggregator,
            keep: config.store.exchanges,
            snapshot_interval: config.store.snapshot_interval,
            live_clock: live,
            input: events_rx,
            output: writer_tx,
            metrics: metrics.clone(),
        };
        move || aggregate::run(setup)
    })?;

    // Workers.
    let mut senders = Vec::with_capacity(n_workers);
    let mut worker_threads = Vec::with_capacity(n_workers);
    for index in 0..n_workers {
        let (tx, rx) = bounded(config.pipeline.worker_queue);
        senders.push(tx);
        let setup = worker::WorkerSetup {
            index,
            count: n_workers,
            config: config.pipeline_config(),
            detect: config.pipeline.detect,
            live_clock: live,
            input: rx,
            output: events_tx.clone(),
            metrics: metrics.clone(),
        };
        if index == 0 {
            // Built once here so that a bad setting fails the start; each thread builds its
            // own (the analysers are not `Send`).
            drop(worker::build(&setup)?);
        }
        worker_threads.push(spawn(
            &format!("worker-{index}"),
            move || match worker::build(&setup) {
                Ok(pipeline) => worker::run(setup, pipeline),
                Err(e) => tracing::error!(worker = index, error = %e, "worker failed to start"),
            },
        )?);
    }
    drop(events_tx);
    let workers = Workers::new(senders, metrics.clone());

    // Sources: bind everything first, so a bad address fails the start.
    let stop = Arc::new(AtomicBool::new(false));
    let mut source_threads = Vec::new();
    for (i, source) in config.sources.iter().enumerate() {
        let threads = start_source(i, source, &config, &workers, &stop, &metrics)
            .with_context(|| format!("sources[{i}]"))?;
        source_threads.extend(threads);
    }
    if let Some(ready) = &api {
        ready.set(true);
    }
    tracing::info!(
        sources = config.sources.len(),
        workers = n_workers,
        "periscope running"
    );

    // Wait for a signal, or for every (finite) source to end.
    let mut sources_done = false;
    let mut workers = Some(workers);
    while !term.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(w) = &workers {
            for (i, depth) in w.depths().enumerate() {
                metrics.queue_depth(&format!("worker-{i}"), depth);
            }
        }
        if !sources_done && source_threads.iter().all(JoinHandle::is_finished) {
            sources_done = true;
            workers = None; // the last senders: workers drain and finish
            tracing::info!("every source has ended; finishing the pipelines");
        }
        if sources_done
            && !worker_threads.is_empty()
            && worker_threads.iter().all(JoinHandle::is_finished)
        {
            join_all(std::mem::take(&mut worker_threads), "worker");
            if !aggregator.is_finished() {
                continue;
            }
        }
        if sources_done
            && worker_threads.is_empty()
            && aggregator.is_finished()
            && writer.is_finished()
        {
            tracing::info!("pipelines finished and events stored; serving the API until a signal");
            break;
        }
    }
    while !term.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }

    tracing::info!("shutting down: stopping sources, draining queues");
    stop.store(true, Ordering::Relaxed);
    join_all(source_threads, "source");
    drop(workers);
    join_all(worker_threads, "worker");
    join_all(vec![aggregator], "aggregator");
    join_all(vec![writer], "store writer");
    if let Some((api_thread, ready)) = readiness {
        ready.set(false);
        api_thread.stop();
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

impl config::StoreConfig {
    fn store_queue_capacity(&self, config: &Config) -> usize {
        config.pipeline.store_queue.max(self.batch_size)
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> anyhow::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .with_context(|| format!("starting thread {name}"))
}

fn join_all(threads: Vec<JoinHandle<()>>, what: &str) {
    for t in threads {
        if t.join().is_err() {
            tracing::error!("a {what} thread panicked");
        }
    }
}

/// Log lines to stderr, `info` and above unless `RUST_LOG` says otherwise.
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// The store, and the same store as SQLite when it is one (for retention).
type OpenedStore = (Arc<dyn Store>, Option<Arc<SqliteStore>>);

fn open_store(config: &Config) -> anyhow::Result<OpenedStore> {
    match &config.store.sqlite {
        Some(path) => {
            let sqlite = Arc::new(
                SqliteStore::open(
                    path,
                    SqliteConfig {
                        retention_max_age: config.store.max_age,
                        retention_max_bytes: config.store.max_size,
                        ..SqliteConfig::default()
                    },
                )
                .with_context(|| format!("store.sqlite: {}", path.display()))?,
            );
            Ok((sqlite.clone(), Some(sqlite)))
        }
        None => Ok((Arc::new(MemoryStore::new()), None)),
    }
}

/// The API server's thread and how to stop it.
struct ApiThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ApiThread {
    fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start_api(
    api: &config::ApiConfig,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<(ApiThread, Readiness)> {
    let token = match (&api.token_file, &api.token_env) {
        (Some(f), _) => ApiToken::from_file(f).context("api.token_file")?,
        (_, Some(v)) => ApiToken::from_env(v).context("api.token_env")?,
        _ => anyhow::bail!("api.token_file: missing"),
    };
    let state = ApiState::new(store, metrics, token);
    let readiness = state.readiness();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("api")
        .enable_all()
        .build()
        .context("starting the API runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(api.listen))
        .with_context(|| format!("api.listen: {}", api.listen))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = periscope_serve::router(state);
    let thread = spawn("api", move || {
        let served = runtime.block_on(periscope_serve::serve(listener, router, async {
            let _ = rx.await;
        }));
        if let Err(e) = served {
            tracing::error!(error = %e, "API server failed");
        }
    })?;
    tracing::info!(listen = %api.listen, "API listening");
    Ok((
        ApiThread {
            stop: Some(tx),
            thread: Some(thread),
        },
        readiness,
    ))
}

fn start_source(
    index: usize,
    source: &SourceConfig,
    config: &Config,
    workers: &Workers,
    stop: &Arc<AtomicBool>,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let decode = config.pipeline_config().decode;
    let label = format!("{}{index}", source.type_name());
    let ingest = |when_full| {
        ingest::FrameIngest::new(
            decode.clone(),
            workers.clone(),
            when_full,
            metrics.clone(),
            &label,
        )
    };
    let stop = stop.clone();
    let metrics = metrics.clone();
    let thread = match source {
        SourceConfig::Pcap(p) => match &p.directory {
            None => {
                let mut ingest = ingest(WhenFull::Wait)?;
                let files = p.files.clone();
                spawn(&label, move || {
                    files::read_files(&files, &mut ingest, &stop)
                })
            }
            Some(dir) => {
                let mut c = periscope_sources::PcapDirConfig::new(dir.clone());
                c.prefix = p.prefix.clone();
                c.settle = p.settle;
                let source = periscope_sources::PcapDirSource::open(c)?;
                let mut ingest = ingest(WhenFull::Wait)?;
                spawn(&label, move || {
                    live::run_source(
                        Box::new(source),
                        "pcap directory",
                        &mut ingest,
                        &stop,
                        &metrics,
                    )
                })
            }
        },
        SourceConfig::Vxlan(u) | SourceConfig::Geneve(u) => {
            let protocol = if matches!(source, SourceConfig::Vxlan(_)) {
                periscope_sources::TunnelProtocol::Vxlan
            } else {
                periscope_sources::TunnelProtocol::Geneve
            };
            let mut c = periscope_sources::TunnelConfig::new(protocol);
            c.listen = u.listen;
            let listener = periscope_sources::TunnelListener::bind(c)?;
            let mut ingest = ingest(WhenFull::Drop)?;
            let what = source.type_name();
            spawn(&label, move || {
                live::run_source(Box::new(listener), what, &mut ingest, &stop, &metrics)
            })
        }
        SourceConfig::Interface(i) => {
            let mut threads = Vec::with_capacity(i.capture_threads);
            let mut c = interface_config(i);
            if i.capture_threads > 1 {
                // One fanout group per source: the process id keeps two sensors apart.
                c.fanout_group = Some(((std::process::id() as usize * 64 + index) % 65_000) as u16);
            }
            for t in 0..i.capture_threads {
                // Opened here so that a permanent fault fails the start; an interface that is
                // not there yet is retried by the thread.
                let first = match periscope_sources::InterfaceSource::open(c.clone()) {
                    Ok(s) => Some(s),
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(interface = %i.interface, error = %e,
                            "interface not available yet; retrying");
                        None
                    }
                    Err(e) => return Err(e.into()),
                };
                let mut ingest = ingest(WhenFull::Drop)?;
                let (c, stop, metrics) = (c.clone(), stop.clone(), metrics.clone());
                threads.push(spawn(&format!("{label}-{t}"), move || {
                    live::run_interface(c, first, &mut ingest, &stop, &metrics)
                })?);
            }
            return Ok(threads);
        }
        SourceConfig::HttpMirror(h) => {
            let c = http_mirror_config(h, config.pipeline.body_cap)?;
            let workers = workers.clone();
            let counters = metrics.source_counters(&label);
            let sink = move |ex: periscope_model::Exchange| {
                counters.add(1, ex.request.as_ref().map_or(0, |r| r.body.len));
                let shard = shard::key_shard(ex.flow.client.ip, workers.len());
                workers.send(
                    shard,
                    shard::WorkItem::Exchange(Box::new(ex)),
                    WhenFull::Drop,
                )
            };
            // Ids apart from the workers' (which count up from 1 by the number of workers).
            let ids = Arc::new(std::sync::atomic::AtomicU64::new(1 << 48));
            let mirror = periscope_sources::HttpMirror::bind(c, ids, sink)?;
            spawn(&label, move || {
                if let Err(e) = mirror.run_blocking(stop) {
                    tracing::error!(error = %e, "HTTP mirror listener failed");
                }
            })
        }
        SourceConfig::Agent(a) => {
            let listener = agent_source::AgentListener::bind(a, label.clone())?;
            let workers = workers.clone();
            spawn(&label, move || listener.run(workers, stop, metrics))
        }
    };
    Ok(vec![thread?])
}
