//! `periscope eval`: runs the detector over labelled requests (the JSONL format of
//! `shared/datasets/README.md`) and prints one line per request and a summary.

use crate::Detector;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

/// Output format of [`run_eval`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalFormat {
    /// One JSON object per request, then `{"type":"summary", ...}`.
    Json,
    /// Human-readable lines, misses and false positives first-class.
    Text,
}

/// Totals of an evaluation run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalSummary {
    /// Always `"summary"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Requests read.
    pub requests: u64,
    /// Requests labelled `attack`.
    pub attacks: u64,
    /// Requests labelled `benign`.
    pub benign: u64,
    /// Attacks detected.
    pub tp: u64,
    /// Attacks missed.
    pub fn_: u64,
    /// Benign requests flagged.
    pub fp: u64,
    /// Benign requests not flagged.
    pub tn: u64,
    /// tp / attacks.
    pub tpr: f64,
    /// fp / benign.
    pub fpr: f64,
    /// Requests per second of detection wall-clock time on one thread (reading the file
    /// excluded). On a busy machine this undercounts; see `cpu_requests_per_sec`.
    pub requests_per_sec: f64,
    /// Requests per second of CPU time spent in detection by this thread (Linux
    /// `/proc/thread-self/schedstat`; 0 where unavailable).
    pub cpu_requests_per_sec: f64,
    /// Lines that could not be read as a request.
    pub bad_lines: u64,
}

#[derive(Deserialize)]
struct Case {
    id: serde_json::Value,
    #[serde(default)]
    label: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body_b64: String,
}

#[derive(Serialize)]
struct Line<'a> {
    id: &'a serde_json::Value,
    detected: bool,
    classes: Vec<&'static str>,
    points: Vec<String>,
}

/// Reads labelled requests from `input`, writes one line per request and a summary line to
/// `out`, and returns the summary. Lines that are not valid cases are counted, not fatal.
pub fn run_eval(
    input: impl BufRead,
    out: &mut impl Write,
    format: EvalFormat,
) -> anyhow::Result<EvalSummary> {
    let det = Detector::new(crate::DetectConfig::default())?;
    let mut s = EvalSummary {
        kind: "summary",
        ..Default::default()
    };
    let mut busy = Duration::ZERO;
    let mut cpu_ns = 0u64;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = match serde_json::from_str(&line) {
            Ok(c) => c,
            Err(_) => {
                s.bad_lines += 1;
                continue;
            }
        };
        let body = base64::engine::general_purpose::STANDARD
            .decode(case.body_b64.trim())
            .unwrap_or_default();
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let req = crate::request_from_parts(&case.method, &case.target, &headers, &body);
        let c0 = thread_cpu_ns();
        let t0 = Instant::now();
        let hits = det.inspect(&req);
        busy += t0.elapsed();
        cpu_ns += thread_cpu_ns().saturating_sub(c0);
        let detected = !hits.is_empty();
        let classes: BTreeSet<&'static str> = hits.iter().map(|h| h.class.as_str()).collect();
        let mut points: Vec<String> = Vec::new();
        for h in &hits {
            if !points.contains(&h.point) {
                points.push(h.point.clone());
            }
        }
        s.requests += 1;
        match case.label.as_str() {
            "attack" => {
                s.attacks += 1;
                if detected {
                    s.tp += 1
                } else {
                    s.fn_ += 1
                }
            }
            "benign" => {
                s.benign += 1;
                if detected {
                    s.fp += 1
                } else {
                    s.tn += 1
                }
            }
            _ => {}
        }
        match format {
            EvalFormat::Json => {
                serde_json::to_writer(
                    &mut *out,
                    &Line {
                        id: &case.id,
                        detected,
                        classes: classes.into_iter().collect(),
                        points,
                    },
                )?;
                writeln!(out)?;
            }
            EvalFormat::Text => {
                let mark = match (case.label.as_str(), detected) {
                    ("attack", false) => "MISS",
                    ("benign", true) => "FP  ",
                    (_, true) => "hit ",
                    _ => "ok  ",
                };
                let what: Vec<String> = hits
                    .iter()
                    .map(|h| format!("{}@{} [{}] {:?}", h.class, h.point, h.rule, h.excerpt))
                    .collect();
                writeln!(
                    out,
                    "{mark} {} {} {}",
                    case.id,
                    crate::points::cap_str(&case.target, 100),
                    what.join("; ")
                )?;
            }
        }
    }
    s.tpr = if s.attacks > 0 {
        s.tp as f64 / s.attacks as f64
    } else {
        0.0
    };
    s.fpr = if s.benign > 0 {
        s.fp as f64 / s.benign as f64
    } else {
        0.0
    };
    s.requests_per_sec = if busy > Duration::ZERO {
        s.requests as f64 / busy.as_secs_f64()
    } else {
        0.0
    };
    s.cpu_requests_per_sec = if cpu_ns > 0 {
        s.requests as f64 / (cpu_ns as f64 / 1e9)
    } else {
        0.0
    };
    match format {
        EvalFormat::Json => {
            // `fn_` is spelled `fn` on the wire.
            let mut v = serde_json::to_value(&s)?;
            if let Some(o) = v.as_object_mut() {
                if let Some(x) = o.remove("fn_") {
                    o.insert("fn".into(), x);
                }
            }
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)?;
        }
        EvalFormat::Text => writeln!(
            out,
            "requests {}  attacks {}  benign {}  TPR {:.4}  FPR {:.4}  ({} tp, {} fn, {} fp, {} tn)  {:.0} requests/s ({:.0}/s of CPU)",
            s.requests, s.attacks, s.benign, s.tpr, s.fpr, s.tp, s.fn_, s.fp, s.tn, s.requests_per_sec, s.cpu_requests_per_sec
        )?,
    }
    Ok(s)
}

/// CPU time of the calling thread in nanoseconds, 0 if unknown. `clock_gettime` rather than
/// reading `/proc/thread-self/schedstat`: the proc read (open, read, close) fell inside the
/// measured window and made the CPU rate come out below the wall-clock rate.
fn thread_cpu_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(|t| (t.tv_sec() as u64).saturating_mul(1_000_000_000) + t.tv_nsec() as u64)
        .unwrap_or(0)
}
