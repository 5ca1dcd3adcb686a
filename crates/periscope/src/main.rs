//! `periscope`: the out-of-band web and API security sensor's command line.
//!
//! Subcommands share one pipeline (see [`pipeline`]): `analyze` runs it over capture files.

mod agent;
mod analysers;
mod analyze;
mod bench;
mod coverage;
mod discover;
mod eval;
mod output;
mod pipeline;
mod run;
mod summary;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "periscope",
    version,
    about = "Out-of-band web and API security sensor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse capture files (pcap, pcapng, optionally gzip-compressed): HTTP exchanges and findings.
    Analyze(analyze::AnalyzeArgs),
    /// Capture this host's HTTP traffic with eBPF (TLS plaintext through OpenSSL uprobes).
    Agent(agent::AgentArgs),
    /// Build the API inventory of captures: OpenAPI 3.1 export, drift against a spec, changes.
    Discover(discover::DiscoverArgs),
    /// Run attack detection over labelled requests and print TPR, FPR and requests/s.
    Eval(eval::EvalArgs),
    /// Measure each stage's throughput on a capture, and the memory of idle flows.
    Bench(bench::BenchArgs),
    /// Run the sensor as a service: live sources, store, REST API and metrics (see examples/periscope.toml).
    Run(run::RunArgs),
    /// Validate a configuration file for `periscope run` and print a line per source.
    CheckConfig(run::CheckConfigArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Discover(args) => discover::run(args),
        Command::Agent(args) => agent::run(args).map(|()| ExitCode::SUCCESS),
        Command::Eval(args) => eval::run(args).map(|()| ExitCode::SUCCESS),
        Command::Bench(args) => bench::run(args).map(|()| ExitCode::SUCCESS),
        Command::Run(args) => run::run(args),
        Command::CheckConfig(args) => run::check_config(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("periscope: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
