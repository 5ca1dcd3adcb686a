//! The `vulns` and `behaviour` targets: many exchanges per input through one analyser, so that
//! its tables fill, evict and expire within a run.

use crate::exchanges::{self, Case};
use periscope_behaviour::{Behaviour, BehaviourConfig};
use periscope_model::Event;
use periscope_vulns::{Scanner, ScannerConfig, TrafficSource};
use std::time::Duration;

/// Events are written out as JSON lines; serializing them is part of the path.
fn serialize(out: &mut Vec<Event>) {
    for event in out.drain(..) {
        let _ = serde_json::to_string(&event);
    }
}

/// The scanner's settings for a traffic source: small caps (8 findings, 4 JWT verdicts,
/// 4 KiB scanned per body) so that eviction and cut bodies happen.
fn scanner_config(source: TrafficSource) -> ScannerConfig {
    ScannerConfig {
        max_findings: VULNS_MAX_FINDINGS,
        reemit_interval: Duration::from_secs(5),
        max_scan_bytes: 4096,
        source,
        jwt_max_lifetime: Duration::from_secs(3600),
        jwt_extra_secrets: vec!["fuzz".to_string()],
        jwt_cache_size: 4,
        ..ScannerConfig::default()
    }
}

const VULNS_MAX_FINDINGS: usize = 8;

/// The first byte picks the traffic source (capture or agent).
fn vulns_source(pick: u8) -> TrafficSource {
    if pick & 1 == 0 {
        TrafficSource::Capture
    } else {
        TrafficSource::Agent
    }
}

/// Exchanges ([`exchanges::from_bytes`]) through a new passive vulnerability scanner (see
/// [`vulns_reusing`] for the fuzz target). The first byte picks the traffic source. Checks
/// that the findings table stays within its cap.
pub fn vulns(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(mut scanner) = Scanner::new(scanner_config(vulns_source(pick))) else {
        return;
    };
    scan(&mut scanner, rest);
    let mut out = Vec::new();
    scanner.tick(periscope_model::Timestamp(u64::MAX), &mut out);
    scanner.finish(&mut out);
    serialize(&mut out);
}

/// [`vulns`] with one scanner per traffic source kept across inputs and rebuilt every 2000
/// inputs: building one compiles its patterns (about 0.2 s of CPU in an instrumented build),
/// which would leave the fuzzer a few inputs a second. State carries over between inputs
/// (as it does between exchanges in a run), so a crash may need the inputs before it: if
/// `vulns` alone does not reproduce it, run the fuzz binary on the crash with its corpus.
pub fn vulns_reusing(data: &[u8]) {
    thread_local! {
        static SCANNERS: std::cell::RefCell<[Option<(Scanner, u32)>; 2]> =
            const { std::cell::RefCell::new([None, None]) };
    }
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    SCANNERS.with_borrow_mut(|scanners| {
        let slot = &mut scanners[usize::from(pick & 1)];
        if slot.as_ref().is_none_or(|(_, uses)| *uses >= 2000) {
            *slot = Scanner::new(scanner_config(vulns_source(pick)))
                .ok()
                .map(|s| (s, 0));
        }
        let Some((scanner, uses)) = slot else {
            return;
        };
        *uses += 1;
        scan(scanner, rest);
        let mut out = Vec::new();
        scanner.finish(&mut out);
        serialize(&mut out);
    });
}

fn scan(scanner: &mut Scanner, data: &[u8]) {
    let mut out = Vec::new();
    for Case { exchange, attacks } in exchanges::from_bytes(data) {
        scanner.on_exchange(&exchange, &attacks, &mut out);
        serialize(&mut out);
        let findings = scanner.findings().count();
        assert!(
            findings <= VULNS_MAX_FINDINGS,
            "findings table over its cap: {findings}"
        );
    }
}

/// Exchanges ([`exchanges::from_bytes`]) through the behavioural analyser, configured with
/// thresholds of 2, windows of a minute and tables of a few entries, and with `10.0.0.0/8` and
/// `2001:db8:ffff::/48` as trusted proxies (so their forwarding headers are read). The first
/// byte picks the IPv6 grouping prefix. Checks after every exchange that no table grew past its
/// cap.
pub fn behaviour(data: &[u8]) {
    const PREFIXES: [u8; 4] = [64, 128, 1, 48];
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let cfg = BehaviourConfig {
        trusted_proxies: vec!["10.0.0.0/8".into(), "2001:db8:ffff::/48".into()],
        ipv6_source_prefix: PREFIXES[usize::from(pick & 3)],
        idle_gap_secs: 120,
        reemit_secs: 10,
        attack_min_hits: 1,
        campaign_min_classes: 2,
        campaign_min_hosts: 2,
        forced_browsing_min_paths: 2,
        forced_browsing_window_secs: 60,
        brute_force_min_failures: 2,
        stuffing_min_accounts: 2,
        stuffing_min_accounts_fingerprint: 2,
        login_window_secs: 60,
        bola_min_ids: 2,
        bola_min_success_ratio: 0.5,
        bola_window_secs: 60,
        scanner_min_error_paths: 2,
        scanner_min_classes: 1,
        scanner_window_secs: 60,
        max_sources: 4,
        max_accounts: 4,
        max_fingerprints: 3,
        max_object_walkers: 3,
        max_object_owners: 6,
        max_login_endpoints: 2,
        max_open_incidents: 5,
        max_targets: 3,
        max_exchange_ids: 3,
    };
    let caps = cfg.clone();
    let Ok(mut behaviour) = Behaviour::new(cfg) else {
        return;
    };
    let mut out = Vec::new();
    for Case { exchange, attacks } in exchanges::from_bytes(rest) {
        behaviour.on_exchange(&exchange, &attacks, &mut out);
        serialize(&mut out);
        let t = behaviour.table_sizes();
        let within = [
            (t.sources, caps.max_sources),
            (t.accounts, caps.max_accounts),
            (t.fingerprints, caps.max_fingerprints),
            (t.walkers, caps.max_object_walkers),
            (t.owners, caps.max_object_owners),
            (t.login_endpoints, caps.max_login_endpoints),
            (t.open_incidents, caps.max_open_incidents),
        ];
        assert!(
            within.iter().all(|(len, cap)| len <= cap),
            "a table grew past its cap: {t:?}"
        );
    }
    behaviour.tick(periscope_model::Timestamp(u64::MAX), &mut out);
    behaviour.finish(&mut out);
    serialize(&mut out);
}
