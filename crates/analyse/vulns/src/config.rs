//! The scanner's settings, with documented defaults.

use crate::error::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// Where the exchanges come from, which decides what "plain HTTP" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrafficSource {
    /// A mirror or a capture file: an exchange Periscope could parse was plaintext on the
    /// observed network, whatever the port and whether it came through a VXLAN/GENEVE/GRE
    /// mirror tunnel (the tunnel is the mirror's, not the application's). Exception: a request
    /// that says a proxy in front terminated TLS (`X-Forwarded-Proto: https`, `Forwarded:
    /// proto=https`) is treated as HTTPS for the client (the plaintext leg is behind the proxy).
    #[default]
    Capture,
    /// The eBPF agent, which also delivers the plaintext of TLS connections (OpenSSL uprobes):
    /// an exchange whose server port is in [`ScannerConfig::tls_ports`] is taken as HTTPS,
    /// any other as plain HTTP.
    Agent,
}

/// Settings of [`crate::Scanner`].
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScannerConfig {
    /// Most findings kept for deduplication; the least recently seen is evicted (and emitted
    /// first if it changed since its last emission). Default 10 000.
    pub max_findings: usize,
    /// Changed findings (count, last seen) are emitted again at most this often, in capture
    /// time, and at the end. Default 60 s.
    #[serde(with = "humantime_secs")]
    pub reemit_interval: Duration,
    /// Response body bytes scanned for text patterns (stack traces, secrets, banners). Default
    /// 128 KiB.
    pub max_scan_bytes: usize,
    /// Where the exchanges come from. Default [`TrafficSource::Capture`].
    pub source: TrafficSource,
    /// Server ports whose traffic is TLS (used with [`TrafficSource::Agent`]). Default 443, 8443, 9443.
    pub tls_ports: Vec<u16>,
    /// A JWT living longer than this (`exp - iat`) is reported as `long_lifetime`. Default 7 days.
    #[serde(with = "humantime_secs")]
    pub jwt_max_lifetime: Duration,
    /// Secrets tried on HMAC-signed JWTs besides the built-in list (`jwt_secrets.txt`).
    pub jwt_extra_secrets: Vec<String>,
    /// JWT verdicts remembered (one HMAC pass over the secrets per new token). Default 4096.
    pub jwt_cache_size: usize,
    /// Kinds not to report (by stable name, e.g. `missing_security_headers`).
    pub disabled_kinds: Vec<String>,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            max_findings: 10_000,
            reemit_interval: Duration::from_secs(60),
            max_scan_bytes: 128 * 1024,
            source: TrafficSource::Capture,
            tls_ports: vec![443, 8443, 9443],
            jwt_max_lifetime: Duration::from_secs(7 * 86_400),
            jwt_extra_secrets: Vec::new(),
            jwt_cache_size: 4096,
            disabled_kinds: Vec::new(),
        }
    }
}

/// The kinds the scanner knows, by stable name.
pub const KINDS: &[&str] = &[
    "stack_trace",
    "sql_error",
    "version_disclosure",
    "secret_in_response",
    "cleartext_credentials",
    "weak_jwt",
    "insecure_cookie",
    "cors_misconfiguration",
    "missing_security_headers",
    "directory_listing",
    "exposed_file",
    "exposed_admin",
    "open_redirect",
    "reflected_xss",
    "confirmed_attack",
];

impl ScannerConfig {
    /// Checks the settings: caps must be positive, kinds must exist.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_findings == 0 {
            return Err(ConfigError::Zero("max_findings"));
        }
        if self.max_scan_bytes == 0 {
            return Err(ConfigError::Zero("max_scan_bytes"));
        }
        if self.jwt_cache_size == 0 {
            return Err(ConfigError::Zero("jwt_cache_size"));
        }
        if let Some(k) = self
            .disabled_kinds
            .iter()
            .find(|k| !KINDS.contains(&k.as_str()))
        {
            return Err(ConfigError::UnknownKind(k.clone()));
        }
        Ok(())
    }
}

/// Durations as whole seconds in config files.
mod humantime_secs {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}
