//! Limits and hints of the reassembler. Every field's doc comment is user documentation.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Configuration of the TCP reassembler (`[reassembly]` in the config file).
///
/// Durations are written as humantime strings (`"120s"`, `"2m"`, `"500ms"`) or as a number of
/// seconds. All timeouts run on capture time, so replaying a file gives the same result as
/// watching the traffic live.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReassemblyConfig {
    /// Most connections tracked at once. When a new connection arrives at the cap, the least
    /// recently active connection is closed with reason `evicted` (recently closed connections
    /// that only linger for late retransmissions are dropped first). Default 262144.
    pub max_flows: usize,
    /// Most out-of-order bytes held per connection and direction while waiting for a hole to
    /// fill, counting each buffered segment as its payload plus 96 bytes of bookkeeping (so
    /// that tiny segments cannot hide their real cost). When a segment would exceed it, the
    /// oldest hole is declared a gap and the data after it is delivered. Default 1 MiB.
    pub max_buffered_bytes_per_flow: usize,
    /// Most out-of-order segments held per connection and direction (bounds the bookkeeping
    /// of many tiny segments). Exceeding it is handled like `max_buffered_bytes_per_flow`.
    /// Default 4096.
    pub max_buffered_segments_per_flow: usize,
    /// Most out-of-order bytes held over all connections (counted as above). Exceeding it is handled like
    /// `max_buffered_bytes_per_flow`, on the connection that needs the room. Default 256 MiB.
    pub max_buffered_bytes_total: usize,
    /// A connection with no packet for this long (capture time) is closed with reason
    /// `timeout`. Default 120 s.
    #[serde(deserialize_with = "de_duration")]
    pub idle_timeout: Duration,
    /// How long a connection closed by FIN or RST is remembered, so that late retransmissions
    /// are dropped instead of opening a new, "mid-stream" connection. Default 5 s.
    #[serde(deserialize_with = "de_duration")]
    pub closed_timeout: Duration,
    /// When the peer acknowledges bytes the capture has not shown, they are declared a gap
    /// only after this much capture time or 8 more packets of the connection, whichever
    /// comes first, so that a capture showing an ACK before the data it acknowledges
    /// (reordered mirror) loses nothing. Default 50 ms.
    #[serde(deserialize_with = "de_duration")]
    pub ack_gap_delay: Duration,
    /// Ports that mark the server side of a connection picked up mid-stream (when the SYN
    /// was not captured). Without a match, the lower port below 1024, else the port outside
    /// the ephemeral range, else the lower port is taken as the server.
    /// Default: 80, 443, 8000, 8008, 8080, 8443, 8888, 3000, 5000, 9000.
    pub server_ports: Vec<u16>,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_flows: 262_144,
            max_buffered_bytes_per_flow: 1 << 20,
            max_buffered_segments_per_flow: 4096,
            max_buffered_bytes_total: 256 << 20,
            idle_timeout: Duration::from_secs(120),
            closed_timeout: Duration::from_secs(5),
            ack_gap_delay: Duration::from_millis(50),
            server_ports: vec![80, 443, 8000, 8008, 8080, 8443, 8888, 3000, 5000, 9000],
        }
    }
}

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A limit or timeout that must be positive is zero.
    #[error("reassembly.{field} must be more than zero")]
    Zero {
        /// The offending field.
        field: &'static str,
    },
    /// `max_flows` does not fit the table's 32-bit slot index.
    #[error("reassembly.max_flows must be below {max}, got {got}")]
    TooManyFlows {
        /// The highest accepted value.
        max: usize,
        /// The configured value.
        got: usize,
    },
}

/// The highest accepted `max_flows` (slots are addressed with `u32`, one value is reserved).
pub const MAX_FLOWS_LIMIT: usize = (u32::MAX - 1) as usize;

impl ReassemblyConfig {
    /// Checks the configuration, so that a bad value fails at start rather than mid-traffic.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, v) in [
            ("max_flows", self.max_flows),
            (
                "max_buffered_bytes_per_flow",
                self.max_buffered_bytes_per_flow,
            ),
            (
                "max_buffered_segments_per_flow",
                self.max_buffered_segments_per_flow,
            ),
            ("max_buffered_bytes_total", self.max_buffered_bytes_total),
        ] {
            if v == 0 {
                return Err(ConfigError::Zero { field });
            }
        }
        if self.idle_timeout.is_zero() {
            return Err(ConfigError::Zero {
                field: "idle_timeout",
            });
        }
        if self.max_flows > MAX_FLOWS_LIMIT {
            return Err(ConfigError::TooManyFlows {
                max: MAX_FLOWS_LIMIT,
                got: self.max_flows,
            });
        }
        Ok(())
    }
}

/// Reads `"120s"`-style strings (humantime) or a number of seconds.
fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as \"120s\" or a number of seconds")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            u64::try_from(v)
                .map(Duration::from_secs)
                .map_err(|_| E::custom("a duration cannot be negative"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
            Duration::try_from_secs_f64(v).map_err(E::custom)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse_duration(v).ok_or_else(|| E::custom(format!("invalid duration {v:?}")))
        }
    }
    d.deserialize_any(V)
}

/// Parses `"500ms"`, `"5s"`, `"2m"`, `"1h"`, or a bare number of seconds. A tiny parser so
/// that this crate needs no extra dependency for four units.
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" | "sec" | "secs" => n,
        "ms" => n / 1000.0,
        "us" => n / 1_000_000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        assert_eq!(ReassemblyConfig::default().validate(), Ok(()));
    }

    #[test]
    fn zero_cap_is_rejected() {
        let c = ReassemblyConfig {
            max_flows: 0,
            ..Default::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::Zero { field: "max_flows" }));
    }

    #[test]
    fn reads_durations_and_partial_config() {
        let c: ReassemblyConfig =
            serde_json::from_str(r#"{"idle_timeout":"2m","closed_timeout":3,"max_flows":10}"#)
                .unwrap_or_default();
        assert_eq!(c.idle_timeout, Duration::from_secs(120));
        assert_eq!(c.closed_timeout, Duration::from_secs(3));
        assert_eq!(c.max_flows, 10);
        assert_eq!(c.max_buffered_bytes_per_flow, 1 << 20);
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
        assert!(serde_json::from_str::<ReassemblyConfig>(r#"{"idle_timeout":-1}"#).is_err());
        assert!(serde_json::from_str::<ReassemblyConfig>(r#"{"bogus":1}"#).is_err());
    }
}
