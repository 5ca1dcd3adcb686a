//! `confirmed_attack` end to end: the real detector (`periscope-detect`) reads the vulnapp
//! recording, marks the attacks whose responses show success, and the scanner turns exactly
//! those into findings with the detector's evidence.

mod common;

use periscope_detect::{DetectConfig, Detector};
use periscope_model::{Event, Outcome};
use periscope_vulns::{endpoint_template, Scanner, ScannerConfig};

#[test]
fn succeeded_attacks_become_confirmed_findings() -> Result<(), Box<dyn std::error::Error>> {
    let all = common::exchanges(&common::crate_data().join("vulnapp.pcap"))?;
    let detector = Detector::new(DetectConfig::default()).map_err(|e| e.to_string())?;
    let mut scanner = Scanner::new(ScannerConfig::default())?;
    let mut out = Vec::new();
    let mut succeeded = Vec::new();
    for ex in &all {
        let attacks = detector.analyse(ex);
        for a in attacks.iter().filter(|a| a.outcome == Outcome::Succeeded) {
            println!(
                "succeeded: {} {} {} — {:?}",
                a.class, a.point, a.target, a.evidence
            );
            let path = a.target.split('?').next().unwrap_or("");
            succeeded.push(format!(
                "|{}|{}|{}",
                endpoint_template(path),
                a.class,
                a.point
            ));
        }
        scanner.on_exchange(ex, &attacks, &mut out);
    }
    scanner.finish(&mut out);
    let confirmed: Vec<_> = scanner
        .findings()
        .filter(|v| v.kind == "confirmed_attack")
        .collect();
    for v in &confirmed {
        println!(
            "confirmed: {} {} {} — {}",
            v.severity as u8, v.endpoint, v.title, v.evidence
        );
    }
    // The quote that broke the SQLite query is an injection the response proves.
    assert!(
        confirmed
            .iter()
            .any(|v| v.endpoint == "/search" && v.title.contains("sqli")),
        "no confirmed sqli on /search: {confirmed:?}"
    );
    // One finding per (endpoint, class, point) the detector marked succeeded, and no other.
    let mut expected = succeeded;
    expected.sort();
    expected.dedup();
    assert_eq!(
        confirmed.len(),
        expected.len(),
        "{confirmed:?} vs {expected:?}"
    );
    for v in &confirmed {
        assert!(
            expected.iter().any(|e| v.key.ends_with(e.as_str())),
            "{v:?}"
        );
    }
    assert!(out.iter().all(|e| matches!(e, Event::Vulnerability(_))));
    Ok(())
}
