//! Thresholds, windows and table caps. Every field has a default that is documented here; the
//! doc comments are the user documentation. [`BehaviourConfig::validate`] names the bad key.

use crate::error::ConfigError;
use serde::Deserialize;

/// Configuration of [`crate::Behaviour`]. Durations are in seconds of **capture time**.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BehaviourConfig {
    /// Proxies whose `X-Forwarded-For` / `Forwarded` / `X-Real-IP` headers are believed, as CIDR
    /// blocks (`10.0.0.0/8`, `2001:db8::/32`) or single addresses. Default: none, so the TCP
    /// peer is the client. A header from any other peer is ignored (it is trivially forged).
    pub trusted_proxies: Vec<String>,

    /// IPv6 clients are counted per network of this prefix length by the per-source detectors
    /// (an attacker rotates addresses inside its /64 at will); 128 counts each address.
    /// Default 64.
    pub ipv6_source_prefix: u8,

    /// An incident (of any kind) closes when nothing was added to it for this long. Default 600.
    pub idle_gap_secs: u64,
    /// An open incident that keeps growing is re-emitted (same key) at most this often, unless its
    /// outcome or severity changed. Default 60.
    pub reemit_secs: u64,

    /// Attack hits of one class from one client against one host before an `attack` incident is
    /// emitted. Default 1 (every attack is worth one line; the grouping keeps it to one line).
    pub attack_min_hits: u64,
    /// Distinct attack classes (or distinct hosts) of one client that make a `campaign`. Default 2.
    pub campaign_min_classes: usize,
    /// Distinct hosts attacked by one client that make a `campaign`. Default 2.
    pub campaign_min_hosts: usize,

    /// Distinct missing paths (404/403/401/410) of one client within
    /// [`Self::forced_browsing_window_secs`] that make `forced_browsing`. Default 20.
    pub forced_browsing_min_paths: usize,
    /// Window of `forced_browsing`. Default 300.
    pub forced_browsing_window_secs: u64,

    /// Failed logins against one account (any source) within [`Self::login_window_secs`] that make
    /// `brute_force`. Default 8.
    pub brute_force_min_failures: usize,
    /// Distinct accounts with failed logins from one source IP within
    /// [`Self::login_window_secs`] that make `credential_stuffing`. Default 6.
    pub stuffing_min_accounts: usize,
    /// Distinct accounts with failed logins sharing one client fingerprint (User-Agent and header
    /// order) within [`Self::login_window_secs`], across source IPs, that make
    /// `credential_stuffing`. Higher than the per-IP threshold because many real users share a
    /// browser's fingerprint. Default 20.
    pub stuffing_min_accounts_fingerprint: usize,
    /// Window of the login counters. Default 600.
    pub login_window_secs: u64,

    /// Distinct object ids read with a 2xx on one templated endpoint by one authenticated user
    /// within [`Self::bola_window_secs`] that make `bola`. Default 25.
    pub bola_min_ids: usize,
    /// Share of 2xx among that user's requests to the endpoint needed for `bola` (walking ids
    /// and getting 403/404 is enumeration that the application refused). Default 0.5.
    pub bola_min_success_ratio: f64,
    /// Window of `bola`. Default 600.
    pub bola_window_secs: u64,

    /// Distinct paths answered 4xx for one client within [`Self::scanner_window_secs`] that,
    /// together with [`Self::scanner_min_classes`] attack classes, make `scanner` by behaviour.
    /// Default 30.
    pub scanner_min_error_paths: usize,
    /// Distinct attack classes of one client needed for `scanner` by behaviour. Default 3.
    pub scanner_min_classes: usize,
    /// Window of the scanner behaviour counters. Default 300.
    pub scanner_window_secs: u64,

    /// Source addresses followed (forced browsing, stuffing, scanner, campaign state); least
    /// recently seen evicted. Default 65 536.
    pub max_sources: usize,
    /// Accounts followed for brute force. Default 65 536.
    pub max_accounts: usize,
    /// Client fingerprints followed for credential stuffing. Default 16 384.
    pub max_fingerprints: usize,
    /// (user, endpoint) pairs followed for BOLA. Default 65 536.
    pub max_object_walkers: usize,
    /// Object owners remembered (first user that read an object) for BOLA. Default 262 144.
    pub max_object_owners: usize,
    /// Login endpoints whose failure page is being learned. Default 4 096.
    pub max_login_endpoints: usize,
    /// Open incidents; the least recently updated is closed (emitted) when full. Default 8 192.
    pub max_open_incidents: usize,
    /// Targets (paths, accounts, ids) listed in one incident. Default 10.
    pub max_targets: usize,
    /// Exchange ids listed in one incident. Default 10.
    pub max_exchange_ids: usize,
}

impl Default for BehaviourConfig {
    fn default() -> Self {
        BehaviourConfig {
            trusted_proxies: Vec::new(),
            ipv6_source_prefix: 64,
            idle_gap_secs: 600,
            reemit_secs: 60,
            attack_min_hits: 1,
            campaign_min_classes: 2,
            campaign_min_hosts: 2,
            forced_browsing_min_paths: 20,
            forced_browsing_window_secs: 300,
            brute_force_min_failures: 8,
            stuffing_min_accounts: 6,
            stuffing_min_accounts_fingerprint: 20,
            login_window_secs: 600,
            bola_min_ids: 25,
            bola_min_success_ratio: 0.5,
            bola_window_secs: 600,
            scanner_min_error_paths: 30,
            scanner_min_classes: 3,
            scanner_window_secs: 300,
            max_sources: 65_536,
            max_accounts: 65_536,
            max_fingerprints: 16_384,
            max_object_walkers: 65_536,
            max_object_owners: 262_144,
            max_login_endpoints: 4_096,
            max_open_incidents: 8_192,
            max_targets: 10,
            max_exchange_ids: 10,
        }
    }
}

/// The largest count threshold: windows keep at most this many entries each, so a threshold
/// above it could never be reached.
pub const MAX_THRESHOLD: usize = 4096;

impl BehaviourConfig {
    /// Checks every value; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for p in &self.trusted_proxies {
            crate::identity::Cidr::parse(p).map_err(|reason| ConfigError::Invalid {
                key: "trusted_proxies",
                reason: format!("{p:?}: {reason}"),
            })?;
        }
        if !(1..=128).contains(&self.ipv6_source_prefix) {
            return Err(ConfigError::Invalid {
                key: "ipv6_source_prefix",
                reason: format!("{} is outside 1..=128", self.ipv6_source_prefix),
            });
        }
        let positive_secs = [
            ("idle_gap_secs", self.idle_gap_secs),
            (
                "forced_browsing_window_secs",
                self.forced_browsing_window_secs,
            ),
            ("login_window_secs", self.login_window_secs),
            ("bola_window_secs", self.bola_window_secs),
            ("scanner_window_secs", self.scanner_window_secs),
        ];
        for (key, v) in positive_secs {
            if v == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    reason: "must be at least 1 second".into(),
                });
            }
        }
        if self.attack_min_hits == 0 {
            return Err(ConfigError::Invalid {
                key: "attack_min_hits",
                reason: "must be at least 1".into(),
            });
        }
        let thresholds = [
            ("campaign_min_classes", self.campaign_min_classes, 2),
            ("campaign_min_hosts", self.campaign_min_hosts, 2),
            (
                "forced_browsing_min_paths",
                self.forced_browsing_min_paths,
                2,
            ),
            ("brute_force_min_failures", self.brute_force_min_failures, 2),
            ("stuffing_min_accounts", self.stuffing_min_accounts, 2),
            (
                "stuffing_min_accounts_fingerprint",
                self.stuffing_min_accounts_fingerprint,
                2,
            ),
            ("bola_min_ids", self.bola_min_ids, 2),
            ("scanner_min_error_paths", self.scanner_min_error_paths, 2),
            ("scanner_min_classes", self.scanner_min_classes, 1),
        ];
        for (key, v, min) in thresholds {
            if v < min || v > MAX_THRESHOLD {
                return Err(ConfigError::Invalid {
                    key,
                    reason: format!("{v} is outside {min}..={MAX_THRESHOLD}"),
                });
            }
        }
        if !(0.0..=1.0).contains(&self.bola_min_success_ratio) {
            return Err(ConfigError::Invalid {
                key: "bola_min_success_ratio",
                reason: format!("{} is outside 0..=1", self.bola_min_success_ratio),
            });
        }
        let caps = [
            ("max_sources", self.max_sources),
            ("max_accounts", self.max_accounts),
            ("max_fingerprints", self.max_fingerprints),
            ("max_object_walkers", self.max_object_walkers),
            ("max_object_owners", self.max_object_owners),
            ("max_login_endpoints", self.max_login_endpoints),
            ("max_open_incidents", self.max_open_incidents),
            ("max_targets", self.max_targets),
            ("max_exchange_ids", self.max_exchange_ids),
        ];
        for (key, v) in caps {
            if v == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    reason: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }
}
