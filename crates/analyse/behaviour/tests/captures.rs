//! Real traffic: captures of real clients (curl, wget, nginx as a forwarding proxy) against the
//! behaviour test app (`tests/apps/behaviourapp`), recorded by `scripts/record/behaviour.sh`
//! (see `tests/data/README.md`). Each capture goes through the real pipeline — capture, decode,
//! reassembly, HTTP pairing, attack detection — and then [`Behaviour`]; the test asserts which
//! incidents come out. Attack captures must raise their incident; benign ones must raise none.
//!
//! `fresh_recordings` records every scenario again (root, network namespaces, tcpdump, curl,
//! wget, nginx, python3) and checks the same expectations, so the committed files are not the
//! only evidence; it prints a skip reason when something is missing.

use periscope_behaviour::{Behaviour, BehaviourConfig};
use periscope_detect::{DetectConfig, Detector};
use periscope_model::{Event, Exchange, Incident};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Every exchange of a capture file, in the order the HTTP layer emitted them.
fn exchanges(path: &Path) -> Result<Vec<Exchange>> {
    periscope_testkit::exchanges(path)
}

/// The incidents Periscope raises on a capture, and how many exchanges it had.
fn incidents(path: &Path, cfg: BehaviourConfig) -> Result<(Vec<Incident>, usize)> {
    let detector = Detector::new(DetectConfig::default()).map_err(|e| e.to_string())?;
    let mut behaviour = Behaviour::new(cfg)?;
    let exchanges = exchanges(path)?;
    let mut events = Vec::new();
    for ex in &exchanges {
        let attacks = detector.analyse(ex);
        behaviour.on_exchange(ex, &attacks, &mut events);
    }
    behaviour.finish(&mut events);
    let inc = events
        .into_iter()
        .filter_map(|e| match e {
            Event::Incident(i) => Some(*i),
            _ => None,
        })
        .collect();
    Ok((inc, exchanges.len()))
}

/// Distinct (kind, key) of the incidents, sorted.
fn kinds(inc: &[Incident]) -> Vec<(String, String)> {
    let mut k: Vec<_> = inc
        .iter()
        .map(|i| (i.kind.clone(), i.key.clone()))
        .collect();
    k.sort();
    k.dedup();
    k
}

fn has(inc: &[Incident], kind: &str) -> bool {
    inc.iter().any(|i| i.kind == kind)
}

fn show(name: &str, inc: &[Incident], n: usize) {
    println!("{name}: {n} exchanges, {} incident events", inc.len());
    for (kind, key) in kinds(inc) {
        let last = inc.iter().rfind(|i| i.key == key);
        if let Some(i) = last {
            println!(
                "  {kind:20} {:?} count={} {}",
                i.severity, i.count, i.summary
            );
        }
    }
}

/// What each capture must (and must not) raise. The proxy capture is checked twice: with its
/// proxy trusted (eight ordinary users) and without (one address failing logins for eight
/// accounts: credential stuffing, which is why trusting the proxy matters).
fn check_all(dir: &Path) -> Result<()> {
    let trusted = BehaviourConfig {
        trusted_proxies: vec!["10.78.0.1/32".into()],
        ..Default::default()
    };
    let run = |name: &str, cfg: BehaviourConfig| -> Result<Vec<Incident>> {
        let (inc, n) = incidents(&dir.join(format!("{name}.pcap")), cfg)?;
        show(name, &inc, n);
        assert!(n > 0, "{name}: no exchanges");
        Ok(inc)
    };

    let inc = run("dirbuster", BehaviourConfig::default())?;
    assert!(has(&inc, "forced_browsing"), "dirbuster: {inc:#?}");
    assert_eq!(
        kinds(&inc)
            .iter()
            .filter(|(k, _)| k == "forced_browsing")
            .count(),
        1
    );
    assert!(!has(&inc, "brute_force") && !has(&inc, "bola") && !has(&inc, "credential_stuffing"));

    let inc = run("bruteforce", BehaviourConfig::default())?;
    let bf: Vec<_> = inc.iter().filter(|i| i.kind == "brute_force").collect();
    assert!(!bf.is_empty(), "bruteforce: {inc:#?}");
    assert!(bf.iter().all(|i| i.targets == ["admin"]));
    // The last password worked: the incident says so.
    assert!(
        bf.last().is_some_and(|i| i.summary.contains("succeeded")),
        "{bf:#?}"
    );
    assert!(!has(&inc, "credential_stuffing") && !has(&inc, "forced_browsing"));

    let inc = run("stuffing", BehaviourConfig::default())?;
    assert!(has(&inc, "credential_stuffing"), "stuffing: {inc:#?}");
    assert!(!has(&inc, "brute_force") && !has(&inc, "forced_browsing"));

    let inc = run("botstuffing", BehaviourConfig::default())?;
    let stuffing: Vec<_> = inc
        .iter()
        .filter(|i| i.kind == "credential_stuffing")
        .collect();
    assert!(
        !stuffing.is_empty()
            && stuffing
                .iter()
                .all(|i| i.client.starts_with("fingerprint:")),
        "botstuffing: one fingerprint over six addresses: {inc:#?}"
    );
    assert_eq!(kinds(&inc).len(), 1, "botstuffing: {inc:#?}");

    let inc = run("idwalk", BehaviourConfig::default())?;
    let bola: Vec<_> = inc.iter().filter(|i| i.kind == "bola").collect();
    assert!(!bola.is_empty(), "idwalk: {inc:#?}");
    assert!(bola.iter().all(|i| i.client == "jwt:mallory"));
    // alice, bob and carol read their own orders first: mallory's walk covers some of them.
    assert!(
        bola.last()
            .is_some_and(|i| i.summary.contains("read earlier by other users")),
        "{bola:#?}"
    );
    assert_eq!(kinds(&inc).len(), 1, "idwalk: only bola: {inc:#?}");

    let inc = run("scanner", BehaviourConfig::default())?;
    let scanners = kinds(&inc).iter().filter(|(k, _)| k == "scanner").count();
    assert_eq!(scanners, 1, "scanner: one incident per client: {inc:#?}");
    assert!(
        has(&inc, "attack") && has(&inc, "campaign"),
        "scanner: {inc:#?}"
    );
    assert!(inc.len() < 40, "scanner: {} lines", inc.len());

    let inc = run("stealthscan", BehaviourConfig::default())?;
    let scanner: Vec<_> = inc.iter().filter(|i| i.kind == "scanner").collect();
    assert!(
        scanner.iter().any(|i| i.summary.contains("behaviour")),
        "stealthscan: a scanner by behaviour: {inc:#?}"
    );
    assert_eq!(
        kinds(&inc).iter().filter(|(k, _)| k == "scanner").count(),
        1
    );
    assert!(
        has(&inc, "forced_browsing") && has(&inc, "campaign"),
        "{inc:#?}"
    );

    // Benign traffic raises no behavioural incident. Attack incidents here would only group
    // detection's hits: detection currently flags the crawler's same-host `Referer:
    // http://10.78.0.2/` as SSRF (rule ssrf_url:private), which is detection's to fix; it is
    // tolerated for that class only, as one incident.
    for name in ["benign", "proxy"] {
        let cfg = if name == "proxy" {
            trusted.clone()
        } else {
            BehaviourConfig::default()
        };
        let inc = run(name, cfg)?;
        let unexpected: Vec<_> = inc
            .iter()
            .filter(|i| !(i.kind == "attack" && i.classes == ["ssrf"]))
            .collect();
        assert!(unexpected.is_empty(), "{name}: {unexpected:#?}");
        assert!(kinds(&inc).len() <= 1, "{name}: {inc:#?}");
    }
    let inc = run("proxy", BehaviourConfig::default())?;
    assert!(
        has(&inc, "credential_stuffing"),
        "proxy (not trusted) should look like one address failing many accounts: {inc:#?}"
    );
    Ok(())
}

#[test]
fn committed_captures() -> Result<()> {
    check_all(&data_dir())
}

#[test]
fn fresh_recordings() -> Result<()> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root {
        println!("SKIPPED fresh_recordings: needs root for network namespaces");
        return Ok(());
    }
    for tool in [
        "ip", "nsenter", "tcpdump", "curl", "wget", "nginx", "python3",
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            println!("SKIPPED fresh_recordings: {tool} not found");
            return Ok(());
        }
    }
    let dir = std::env::temp_dir().join(format!("periscope-behaviour-{}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../scripts/record/behaviour.sh");
    let st = Command::new("bash")
        .arg(script)
        .arg("-d")
        .arg(&dir)
        .status()?;
    assert!(st.success(), "behaviour.sh failed");
    let result = check_all(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}
