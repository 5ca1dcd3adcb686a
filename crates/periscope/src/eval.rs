//! `periscope eval FILE.jsonl`: the detector over labelled requests (format of
//! `shared/datasets/README.md`): one line per request, then a summary with TPR, FPR and
//! requests/s.

use anyhow::Context;
use periscope_detect::EvalFormat;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;

/// Options of `periscope eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// Labelled requests, one JSON object per line (`-` for standard input).
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// One JSON line per request, then `{"type":"summary", ...}`.
    Json,
    /// For people.
    Text,
}

/// Runs the command.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let format = match args.format {
        Format::Json => EvalFormat::Json,
        Format::Text => EvalFormat::Text,
    };
    let mut out = BufWriter::new(io::stdout().lock());
    if args.file.as_os_str() == "-" {
        periscope_detect::run_eval(io::stdin().lock(), &mut out, format)?;
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        periscope_detect::run_eval(BufReader::new(file), &mut out, format)?;
    }
    out.flush()?;
    Ok(())
}
