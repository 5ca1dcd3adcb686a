//! Limits and timeouts of the HTTP stage.

use crate::error::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// Configuration of an [`HttpTracker`](crate::HttpTracker). Every limit bounds memory or CPU
/// spent on traffic Periscope does not control; reaching one is counted and flagged, never fatal.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Bytes of (decoded) content kept per body. Framing continues past the cap so the next
    /// message is still found; the body is flagged truncated. Default 1 MiB.
    pub body_cap: usize,
    /// Most bytes a content decoder may produce for one body, per encoding layer. Default 8 MiB.
    pub decompress_max_bytes: usize,
    /// Most decoded bytes per encoded byte before decoding stops as a decompression bomb
    /// (checked once 64 KiB have been produced). Default 100.
    pub decompress_max_ratio: u32,
    /// A request whose response has not started this long (capture time) after the request
    /// ended is emitted with `NoResponse`. Default 5 s.
    #[serde(with = "humantime_secs")]
    pub response_timeout: Duration,
    /// Requests waiting for their response per connection (pipelining). When a new request
    /// would exceed it, the oldest is emitted with `NoResponse`. Default 32.
    pub max_pending_requests: usize,
    /// Largest header block (request/status line plus fields, and chunked trailers). Default 64 KiB.
    pub max_header_bytes: usize,
    /// Most header fields per message (at most 512). Default 128.
    pub max_headers: usize,
    /// Connections tracked at once; opening one more evicts the oldest. Default 262 144, the
    /// reassembler's flow-table default, so that this table is never the tighter cap.
    pub max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_cap: 1 << 20,
            decompress_max_bytes: 8 << 20,
            decompress_max_ratio: 100,
            response_timeout: Duration::from_secs(5),
            max_pending_requests: 32,
            max_header_bytes: 64 << 10,
            max_headers: 128,
            max_connections: 262_144,
        }
    }
}

/// Upper bound of [`HttpConfig::max_headers`]: the parser's header array lives on the stack.
pub const MAX_HEADERS_LIMIT: usize = 512;

impl HttpConfig {
    /// Checks the values so that a bad configuration fails at start, not mid-traffic.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let zero = |name: &'static str, v: usize| {
            if v == 0 {
                Err(ConfigError::Zero { field: name })
            } else {
                Ok(())
            }
        };
        zero("max_pending_requests", self.max_pending_requests)?;
        zero("max_header_bytes", self.max_header_bytes)?;
        zero("max_headers", self.max_headers)?;
        zero("max_connections", self.max_connections)?;
        zero("decompress_max_bytes", self.decompress_max_bytes)?;
        if self.decompress_max_ratio == 0 {
            return Err(ConfigError::Zero {
                field: "decompress_max_ratio",
            });
        }
        if self.max_headers > MAX_HEADERS_LIMIT {
            return Err(ConfigError::TooLarge {
                field: "max_headers",
                value: self.max_headers as u64,
                max: MAX_HEADERS_LIMIT as u64,
            });
        }
        Ok(())
    }
}

/// `response_timeout` is written as seconds (a float) in config files.
mod humantime_secs {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializes_partial_config_with_defaults() {
        let c: HttpConfig = serde_json::from_str(r#"{"body_cap": 4096, "response_timeout": 2.5}"#)
            .unwrap_or_default();
        assert_eq!(c.body_cap, 4096);
        assert_eq!(c.response_timeout, Duration::from_millis(2500));
        assert_eq!(c.max_headers, HttpConfig::default().max_headers);
        let bad: Result<HttpConfig, _> = serde_json::from_str(r#"{"body_cup": 1}"#);
        assert!(bad.is_err(), "unknown fields are rejected");
        let neg: Result<HttpConfig, _> = serde_json::from_str(r#"{"response_timeout": -1}"#);
        assert!(neg.is_err());
    }
}
