//! What the agent captures and how much it keeps.

use crate::error::AgentError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Which side of a connection the agent reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureDirection {
    /// Inbound connections to the host's listening sockets, as a mirror in front of the
    /// services would show them. A client on the same host is not reported again.
    #[default]
    Server,
    /// Inbound connections and the outbound calls of local processes. An exchange between
    /// two local processes then appears twice (once per side).
    Both,
}

/// Which processes the OpenSSL uprobes fire in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsProbeScope {
    /// Servers only when only the server side is captured, every process otherwise (default).
    #[default]
    Auto,
    /// Only processes that hold a listening socket, attached per process at each rescan. The
    /// kernel then installs no breakpoint in clients (load generators, curl, outbound callers) on
    /// the same host, which is most of the cost of the uprobes. A server process started after the
    /// agent is instrumented at the next rescan (`rescan_interval`).
    Servers,
    /// Every process that maps an instrumented libssl, from the moment it maps it.
    AllProcesses,
}

/// Agent configuration. Every field has a default; `AgentConfig::default()` captures all
/// inbound TCP connections of the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// Only connections whose server port is in this list (empty: every port).
    pub ports: Vec<u16>,
    /// Only processes with these names (the kernel's `comm`, at most 15 bytes; empty: all).
    pub process_names: Vec<String>,
    /// Only processes in these cgroup v2 directories or below them, e.g.
    /// `/sys/fs/cgroup/system.slice/nginx.service` (empty: all).
    pub cgroups: Vec<PathBuf>,
    /// Kubernetes: only pods of these namespaces (read from the kubelet's pod directories
    /// on this node; new pods are picked up at each rescan). Empty: no namespace filter.
    pub k8s_namespaces: Vec<String>,
    /// Kubernetes: only these pods, as `name` or `namespace/name`. Empty: no pod filter.
    pub k8s_pods: Vec<String>,
    /// Where the kubelet keeps its pod directories. Default `/var/lib/kubelet/pods`.
    pub kubelet_pods_dir: PathBuf,
    /// Root of the cgroup v2 hierarchy. Default `/sys/fs/cgroup`.
    pub cgroup_root: PathBuf,
    /// Server side only (default) or outbound calls too.
    pub direction: CaptureDirection,
    /// Ring buffer size in bytes; rounded up to a power of two of at least one page. Default 8 MiB.
    pub ring_buffer_bytes: u32,
    /// Bytes of payload per ring buffer event, at most 16384. Default 16384.
    pub max_payload_per_event: u32,
    /// Events (chunks) per syscall or SSL call, at most 16; bytes beyond
    /// `max_payload_per_event * max_chunks_per_call` are counted as truncated and reported
    /// as a gap. Default 4.
    pub max_chunks_per_call: u32,
    /// Connections tracked in userspace; when full the least recently active is closed
    /// (`CloseReason::Evicted`). Default 65536.
    pub max_connections: usize,
    /// A connection with no event for this long is closed (`CloseReason::Timeout`); covers
    /// processes that exit without `close()`. Default 5 minutes.
    #[serde(with = "secs")]
    pub idle_timeout: Duration,
    /// Attach the OpenSSL uprobes (default true).
    pub openssl: bool,
    /// Which processes the OpenSSL uprobes fire in (default `auto`: servers when capturing the
    /// server side only).
    pub tls_probe_scope: TlsProbeScope,
    /// How often /proc is scanned again for new libssl copies and uninstrumentable processes.
    /// Default 10 s.
    #[serde(with = "secs")]
    pub rescan_interval: Duration,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            ports: Vec::new(),
            process_names: Vec::new(),
            cgroups: Vec::new(),
            k8s_namespaces: Vec::new(),
            k8s_pods: Vec::new(),
            kubelet_pods_dir: PathBuf::from("/var/lib/kubelet/pods"),
            cgroup_root: PathBuf::from("/sys/fs/cgroup"),
            direction: CaptureDirection::Server,
            ring_buffer_bytes: 8 << 20,
            max_payload_per_event: 16384,
            max_chunks_per_call: 4,
            max_connections: 65536,
            idle_timeout: Duration::from_secs(300),
            openssl: true,
            tls_probe_scope: TlsProbeScope::Auto,
            rescan_interval: Duration::from_secs(10),
        }
    }
}

/// Largest payload one event can carry (the BPF program's buffer).
pub const MAX_PAYLOAD_PER_EVENT: u32 = 16384;
/// Largest number of chunks per call the BPF program loops over.
pub const MAX_CHUNKS_PER_CALL: u32 = 16;

impl AgentConfig {
    /// Whether the OpenSSL uprobes are attached per server process (`Servers`, or `Auto` with
    /// the server side only) rather than to every process.
    pub fn tls_probes_per_server(&self) -> bool {
        match self.tls_probe_scope {
            TlsProbeScope::Servers => true,
            TlsProbeScope::AllProcesses => false,
            TlsProbeScope::Auto => self.direction == CaptureDirection::Server,
        }
    }

    /// Checks the limits; called by `Agent::start`, so a bad configuration fails before
    /// anything is loaded.
    pub fn validate(&self) -> Result<(), AgentError> {
        let bad = |field: &'static str, why: String| Err(AgentError::Config { field, why });
        if self.max_payload_per_event == 0 || self.max_payload_per_event > MAX_PAYLOAD_PER_EVENT {
            return bad(
                "max_payload_per_event",
                format!(
                    "{} is not in 1..={MAX_PAYLOAD_PER_EVENT}",
                    self.max_payload_per_event
                ),
            );
        }
        if self.max_chunks_per_call == 0 || self.max_chunks_per_call > MAX_CHUNKS_PER_CALL {
            return bad(
                "max_chunks_per_call",
                format!(
                    "{} is not in 1..={MAX_CHUNKS_PER_CALL}",
                    self.max_chunks_per_call
                ),
            );
        }
        if self.ring_buffer_bytes < 4096 || self.ring_buffer_bytes > 1 << 30 {
            return bad(
                "ring_buffer_bytes",
                format!("{} is not in 4096..=1 GiB", self.ring_buffer_bytes),
            );
        }
        if self.max_connections == 0 {
            return bad("max_connections", "must be at least 1".into());
        }
        if let Some(n) = self
            .process_names
            .iter()
            .find(|n| n.is_empty() || n.len() > 15)
        {
            return bad(
                "process_names",
                format!("{n:?}: the kernel keeps 1 to 15 bytes of a process name"),
            );
        }
        if self.ports.contains(&0) {
            return bad("ports", "port 0 selects nothing".into());
        }
        Ok(())
    }

    /// True when a cgroup-based filter (cgroups or Kubernetes) is configured.
    pub(crate) fn cgroup_filter(&self) -> bool {
        !self.cgroups.is_empty() || !self.k8s_namespaces.is_empty() || !self.k8s_pods.is_empty()
    }

    /// The ring buffer size the kernel accepts: a power of two, at least a page.
    pub(crate) fn ring_size(&self) -> u32 {
        self.ring_buffer_bytes.max(4096).next_power_of_two()
    }
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_round_trips() {
        let c = AgentConfig::default();
        assert!(c.validate().is_ok());
        let json = serde_json::to_string(&c).unwrap_or_default();
        let back: AgentConfig = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, c);
        assert_eq!(c.ring_size(), 8 << 20);
    }

    #[test]
    fn limits_are_enforced() {
        let c = AgentConfig {
            max_payload_per_event: 20000,
            ..Default::default()
        };
        assert!(matches!(
            c.validate(),
            Err(AgentError::Config {
                field: "max_payload_per_event",
                ..
            })
        ));
        let c = AgentConfig {
            max_chunks_per_call: 0,
            ..Default::default()
        };
        assert!(c.validate().is_err());
        let c = AgentConfig {
            process_names: vec!["a-very-long-process-name".into()],
            ..Default::default()
        };
        assert!(c.validate().is_err());
        let c = AgentConfig {
            ring_buffer_bytes: 5000,
            ..Default::default()
        };
        assert_eq!(c.ring_size(), 8192);
    }

    #[test]
    fn partial_json_uses_defaults() {
        let c: AgentConfig =
            serde_json::from_str(r#"{"ports":[8080],"direction":"both","idle_timeout":1.5}"#)
                .unwrap_or_default();
        assert_eq!(c.ports, vec![8080]);
        assert_eq!(c.direction, CaptureDirection::Both);
        assert_eq!(c.idle_timeout, Duration::from_millis(1500));
        assert!(serde_json::from_str::<AgentConfig>(r#"{"bogus":1}"#).is_err());
    }
}
