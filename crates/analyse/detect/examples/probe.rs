//! Prints the points and hits of requests in a labelled JSONL file (debugging aid):
//! `cargo run -p periscope-detect --example probe -- FILE [ID...]`.

use base64::Engine;
use periscope_detect::{points, request_from_parts, DetectConfig, Detector};
use std::io::BufRead;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args
        .first()
        .ok_or_else(|| anyhow::anyhow!("usage: probe FILE [ID...]"))?;
    let ids = args.get(1..).unwrap_or(&[]);
    let det = Detector::new(DetectConfig::default())?;
    for line in std::io::BufReader::new(std::fs::File::open(file)?).lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        let id = v["id"].as_str().unwrap_or("").to_owned();
        if !ids.is_empty() && !ids.contains(&id) {
            continue;
        }
        let headers: Vec<(String, String)> =
            serde_json::from_value(v["headers"].clone()).unwrap_or_default();
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let body = base64::engine::general_purpose::STANDARD
            .decode(v["body_b64"].as_str().unwrap_or(""))
            .unwrap_or_default();
        let req = request_from_parts(
            v["method"].as_str().unwrap_or("GET"),
            v["target"].as_str().unwrap_or("/"),
            &h,
            &body,
        );
        println!("== {id} {}", v["target"]);
        for p in points::extract(&req, det.config()).0 {
            println!(
                "   point {} = {:?}",
                p.name,
                p.value.chars().take(200).collect::<String>()
            );
        }
        for hit in det.inspect(&req) {
            println!(
                "   HIT {} @{} [{}] {:.2} {:?}",
                hit.class, hit.point, hit.rule, hit.score, hit.excerpt
            );
        }
    }
    Ok(())
}
