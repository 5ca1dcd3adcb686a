//! Runs the detector over a labelled JSONL file until the CLI wires `periscope eval`:
//! `cargo run -p periscope-detect --release --example eval -- FILE [--format json|text]`.

use periscope_detect::{run_eval, EvalFormat};
use std::io::BufReader;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args
        .iter()
        .find(|a| !a.starts_with("--") && *a != "json" && *a != "text")
        .ok_or_else(|| anyhow::anyhow!("usage: eval FILE [--format json|text]"))?;
    let format = if args.iter().any(|a| a == "text") {
        EvalFormat::Text
    } else {
        EvalFormat::Json
    };
    let input = BufReader::new(std::fs::File::open(file)?);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let s = run_eval(input, &mut out, format)?;
    eprintln!(
        "TPR {:.4} FPR {:.4} ({} attacks, {} benign) {:.0} req/s wall, {:.0} req/s of CPU",
        s.tpr, s.fpr, s.attacks, s.benign, s.requests_per_sec, s.cpu_requests_per_sec
    );
    Ok(())
}
