//! `periscope discover FILE...`: the API inventory of a capture, its OpenAPI 3.1 export, drift
//! against a declared spec and changes since the last run.

use crate::analyze::feed_files;
use crate::pipeline::{Pipeline, PipelineConfig};
use periscope_detect::{DetectConfig, Detector};
use periscope_discover::{DiscoverOptions, Inventory, OutputFormat, State};
use periscope_model::Event;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `periscope discover`.
#[derive(clap::Args)]
pub struct DiscoverArgs {
    /// Capture files (pcap, pcapng, gzip-compressed or not), read in order as one capture.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the discovered API as OpenAPI 3.1 (`.json` → JSON, anything else → YAML).
    #[arg(long)]
    openapi: Option<PathBuf>,
    /// The spec the team believes in (OpenAPI 3.0 or 3.1, JSON or YAML): report shadow, orphan
    /// and zombie endpoints and mismatches.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// State file for change tracking across runs (read, then rewritten).
    #[arg(long)]
    state: Option<PathBuf>,
    /// With `--state`: report endpoints not seen since this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
    #[arg(long, value_parser = parse_time)]
    silent_since: Option<periscope_model::Timestamp>,
    /// Output format of the report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// No summary on stderr.
    #[arg(short, long)]
    quiet: bool,
}

/// Report format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    /// For people.
    Text,
    /// One JSON document.
    Json,
}

fn parse_time(s: &str) -> Result<periscope_model::Timestamp, String> {
    humantime::parse_rfc3339_weak(s)
        .map(periscope_model::Timestamp::from)
        .map_err(|e| format!("not an RFC 3339 time ({e})"))
}

/// Runs the command.
pub fn run(args: DiscoverArgs) -> anyhow::Result<ExitCode> {
    let opts = DiscoverOptions {
        openapi: args.openapi.clone(),
        spec: args.spec.clone(),
        state: args.state.clone(),
        silent_since: args.silent_since,
        ..Default::default()
    };
    // Read the spec and state first so that a bad path fails before the capture is processed.
    let spec = opts
        .spec
        .as_deref()
        .map(periscope_discover::load_spec)
        .transpose()?;
    let previous = opts.state.as_deref().map(State::load).transpose()?;
    let detector = Detector::new(DetectConfig::default())?;
    let mut inventory = Inventory::new(opts.config.clone());
    let mut pipeline = Pipeline::new(PipelineConfig::default(), |event: Event| {
        if let Event::Exchange(ex) = event {
            let attacks = detector.analyse(&ex).len();
            inventory.observe_flagged(&ex, u32::try_from(attacks).unwrap_or(u32::MAX));
        }
    })?;
    let totals = feed_files(&args.files, &mut pipeline, !args.quiet);
    drop(pipeline);
    if totals.frames == 0 && totals.files_failed > 0 {
        return Ok(ExitCode::from(1));
    }
    let (_, report) =
        periscope_discover::finish(inventory, spec.as_ref(), previous.as_ref(), &opts)?;
    let format = match args.format {
        ReportFormat::Text => OutputFormat::Text,
        ReportFormat::Json => OutputFormat::Json,
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", report.render(format))?;
    Ok(ExitCode::SUCCESS)
}
