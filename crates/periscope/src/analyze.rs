//! `periscope analyze FILE...`: capture files through the pipeline, events to stdout, a summary
//! to stderr.

use crate::analysers::{Aggregated, Aggregator, AggregatorConfig, Detection};
use crate::output::{EventWriter, Format, JsonWriter, TextWriter};
use crate::pipeline::{Pipeline, PipelineConfig};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use periscope_behaviour::BehaviourConfig;
use periscope_model::Event;
use periscope_vulns::ScannerConfig;
use std::io::{self, BufWriter, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Options of `periscope analyze`.
#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Capture files: pcap or pcapng, gzip-compressed or not. Read in order as one capture.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Decoded body bytes kept per message (more is counted, not kept; flag `truncated`).
    #[arg(long, default_value_t = 1 << 20)]
    body_cap: usize,
    /// Seconds of capture time to wait for a response before emitting the request alone.
    #[arg(long, default_value_t = 5.0)]
    response_timeout: f64,
    /// UDP ports carrying VXLAN (default 4789).
    #[arg(long = "vxlan-port")]
    vxlan_ports: Vec<u16>,
    /// UDP ports carrying GENEVE (default 6081).
    #[arg(long = "geneve-port")]
    geneve_ports: Vec<u16>,
    /// Skip attack detection.
    #[arg(long)]
    no_detect: bool,
    /// Skip API discovery (no `endpoint` events).
    #[arg(long)]
    no_discover: bool,
    /// Skip passive vulnerability detection (no `vulnerability` events).
    #[arg(long)]
    no_vulns: bool,
    /// Skip behavioural detection and attack grouping (no `incident` events).
    #[arg(long)]
    no_behaviour: bool,
    /// A proxy (address or CIDR block) whose `X-Forwarded-For` / `Forwarded` / `X-Real-IP` headers
    /// name the real client. Repeat for several. Default: none (the TCP peer is the client).
    #[arg(long = "trusted-proxy")]
    trusted_proxies: Vec<String>,
    /// No summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

impl AnalyzeArgs {
    fn aggregator_config(&self) -> AggregatorConfig {
        AggregatorConfig {
            discover: !self.no_discover,
            vulnerabilities: (!self.no_vulns).then(ScannerConfig::default),
            behaviour: (!self.no_behaviour).then(|| BehaviourConfig {
                trusted_proxies: self.trusted_proxies.clone(),
                ..BehaviourConfig::default()
            }),
        }
    }

    fn pipeline_config(&self) -> anyhow::Result<PipelineConfig> {
        let mut config = PipelineConfig::default();
        config.http.body_cap = self.body_cap;
        anyhow::ensure!(
            self.response_timeout.is_finite() && self.response_timeout >= 0.0,
            "--response-timeout must be a non-negative number of seconds"
        );
        config.http.response_timeout = Duration::from_secs_f64(self.response_timeout);
        if !self.vxlan_ports.is_empty() {
            config.decode.vxlan_ports = self.vxlan_ports.clone();
        }
        if !self.geneve_ports.is_empty() {
            config.decode.geneve_ports = self.geneve_ports.clone();
        }
        Ok(config)
    }
}

/// Runs the command. Exit code 0 when something could be read (damaged files are reported on
/// stderr and what was decoded before the damage is kept), 1 when nothing could be read.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let config = args.pipeline_config()?;
    let stdout = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut writer: Box<dyn EventWriter> = match args.format {
        Format::Json => Box::new(JsonWriter::new(stdout)),
        Format::Text => Box::new(TextWriter::new(stdout)),
    };
    let mut write_error: Option<io::Error> = None;
    let sink = Aggregated {
        aggregator: Aggregator::with_config(args.aggregator_config())?,
        sink: |event: Event| {
            if write_error.is_none() {
                if let Err(e) = writer.write(&event) {
                    write_error = Some(e);
                }
            }
        },
    };
    let mut pipeline = Pipeline::new(config, sink)?;
    if !args.no_detect {
        pipeline.add_consumer(Box::new(Detection::new()?));
    }

    let totals = feed_files(&args.files, &mut pipeline, !args.quiet);
    drop(pipeline);
    if let Some(e) = write_error {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(e).context("writing events");
        }
    }
    match writer.finish() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e).context("writing events"),
        _ => {}
    }
    Ok(if totals.frames == 0 && totals.files_failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads `files` in order through `pipeline` and finishes it. Damaged and unreadable files
/// are always reported on stderr; the run summary and progress bar only when `report`.
pub fn feed_files<E: crate::pipeline::EventSink>(
    files: &[PathBuf],
    pipeline: &mut Pipeline<E>,
    report: bool,
) -> Totals {
    let started = Instant::now();
    let mut totals = Totals::default();
    for path in files {
        match read_file(path, pipeline, &mut totals, report) {
            Ok(()) => totals.files_read += 1,
            Err(err) => {
                eprintln!("periscope: {}: {err:#}", path.display());
                totals.files_failed += 1;
            }
        }
    }
    pipeline.finish();
    if report {
        crate::summary::print(
            &mut io::stderr(),
            &totals,
            &pipeline.stats(),
            started.elapsed(),
        );
    }
    totals
}

/// What the readers saw, over all files.
#[derive(Debug, Default)]
pub struct Totals {
    /// Files read to the end (possibly with a damaged tail reported).
    pub files_read: u64,
    /// Files that could not be opened or read at all.
    pub files_failed: u64,
    /// Frames read.
    pub frames: u64,
    /// Captured bytes of those frames.
    pub bytes: u64,
}

/// Feeds one file into the pipeline. A damaged file reports its error after the frames read
/// before the damage were processed.
fn read_file<E: crate::pipeline::EventSink>(
    path: &std::path::Path,
    pipeline: &mut Pipeline<E>,
    totals: &mut Totals,
    progress: bool,
) -> anyhow::Result<()> {
    let mut reader = periscope_capture::open(path)?;
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = (progress && io::stderr().is_terminal() && file_len > 64 << 20).then(|| {
        let bar = ProgressBar::new(file_len);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let frames_before = totals.frames;
    let result = loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                totals.frames += 1;
                totals.bytes += frame.data.len() as u64;
                pipeline.feed_frame(&frame);
                if let Some(bar) = &bar {
                    if totals.frames.is_multiple_of(4096) {
                        bar.set_position(reader.bytes_read());
                    }
                }
            }
            Ok(None) => break Ok(()),
            Err(err) => break Err(err),
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(()) => Ok(()),
        Err(err) if totals.frames > frames_before => {
            eprintln!(
                "periscope: {}: {err}; kept the {} frames read before it",
                path.display(),
                totals.frames - frames_before
            );
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}
