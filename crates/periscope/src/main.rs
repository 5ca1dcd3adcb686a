//! `periscope`: the out-of-band web and API security sensor's command line.
//!
//! Subcommands share one pipeline (see [`pipeline`]): `analyze` runs it over capture files.

mod analysers;
mod analyze;
mod bench;
mod coverage;
mod output;
mod pipeline;
mod summary;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "periscope", version, about = "Out-of-band web and API security sensor")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse capture files (pcap, pcapng, optionally gzip-compressed): HTTP exchanges and findings.
    Analyze(analyze::AnalyzeArgs),
    /// Measure each stage's throughput on a capture, and the memory of idle flows.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Bench(args) => bench::run(args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("periscope: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
