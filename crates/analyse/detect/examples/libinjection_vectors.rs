//! Checks `libinjectionrs` against libinjection's own test vectors, and runs the whole
//! detector over libinjection's sample inputs. Point it at a checkout of
//! github.com/client9/libinjection (its `tests/` and `data/` folders):
//! `cargo run -p periscope-detect --release --example libinjection_vectors -- DIR`.

use periscope_detect::{decode, request_from_parts, DetectConfig, Detector};
use std::path::Path;

fn lines(p: &Path) -> Vec<String> {
    std::fs::read(p)
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text.find(name).map_or(text.len(), |i| i + name.len());
    let rest = text.get(start..).unwrap_or("");
    let end = rest.find("\n--").map_or(rest.len(), |i| i + 1);
    rest.get(..end).unwrap_or("").trim_matches('\n')
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: libinjection_vectors DIR"))?;
    let dir = Path::new(&dir);
    // 1. tests/test-sqli-*.txt: input and expected fingerprint (empty = not SQLi).
    let (mut ok, mut n) = (0, 0);
    let mut files: Vec<_> = std::fs::read_dir(dir.join("tests"))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    for p in files.iter().filter(|p| {
        p.file_name()
            .and_then(|f| f.to_str())
            .is_some_and(|f| f.starts_with("test-sqli-"))
    }) {
        let text = String::from_utf8_lossy(&std::fs::read(p)?).into_owned();
        let input = section(&text, "--INPUT--");
        let expected = section(&text, "--EXPECTED--").trim();
        let r = libinjectionrs::detect_sqli(input.as_bytes());
        let got = if r.is_injection() {
            r.fingerprint.map(|f| f.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        n += 1;
        if got == expected {
            ok += 1;
        } else {
            println!(
                "sqli vector {}: expected {expected:?}, got {got:?}",
                p.display()
            );
        }
    }
    println!("libinjection test-sqli vectors: {ok}/{n} agree");
    // 2. data/: sample SQLi/XSS inputs (URL-encoded query values) and known false positives.
    let det = Detector::new(DetectConfig::default())?;
    let mut data: Vec<_> = std::fs::read_dir(dir.join("data"))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    data.sort();
    let mut tot = [(0usize, 0usize, 0usize); 3]; // (lines, libinjection hits, detector hits) for sqli, xss, fp
    for p in &data {
        let name = p
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("")
            .to_owned();
        let kind = if name.starts_with("sqli-") {
            0
        } else if name.starts_with("xss-") {
            1
        } else if name == "false_positives.txt" {
            2
        } else {
            continue;
        };
        for l in lines(p) {
            let v = decode::url_decode(&l, true);
            let lib = if kind == 1 {
                libinjectionrs::detect_xss(v.as_bytes()).is_injection()
            } else {
                libinjectionrs::detect_sqli(v.as_bytes()).is_injection()
            };
            // The value as a query argument, encoded the way the file stores it.
            let target = format!(
                "/search?q={}",
                l.replace(' ', "+").replace('#', "%23").replace('&', "%26")
            );
            let ours = !det
                .inspect(&request_from_parts("GET", &target, &[("Host", "x")], b""))
                .is_empty();
            // LIBINJECTION_VERBOSE=1 lists the samples the detector judges differently from
            // the file's label (attack samples missed, false-positive samples flagged).
            if std::env::var_os("LIBINJECTION_VERBOSE").is_some() && (ours == (kind == 2)) {
                println!(
                    "{} {name}: {v}",
                    if kind == 2 { "flagged" } else { "missed" }
                );
            }
            if let Some(t) = tot.get_mut(kind) {
                t.0 += 1;
                t.1 += usize::from(lib);
                t.2 += usize::from(ours);
            }
        }
    }
    for (label, (n, lib, ours)) in ["sqli samples", "xss samples", "false positives"]
        .iter()
        .zip(tot)
    {
        println!("{label}: {n} inputs, libinjectionrs flags {lib} ({:.4}), Periscope detector flags {ours} ({:.4})", lib as f64 / n.max(1) as f64, ours as f64 / n.max(1) as f64);
    }
    Ok(())
}
