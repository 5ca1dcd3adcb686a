//! The daemon's configuration file (TOML): what `periscope run` reads and `periscope
//! check-config` validates.
//!
//! Parsing is strict: unknown keys are errors, and every error names the key it is about,
//! e.g. `sources[1].interface: missing field` or `api.listen: invalid socket address syntax`.
//! Relative paths are taken relative to the directory of the configuration file.
//! `examples/periscope.toml` documents every key.

use anyhow::Context;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The whole file.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where traffic comes from (`[[sources]]`), at least one.
    pub sources: Vec<SourceConfig>,
    /// Where events are kept.
    pub store: StoreConfig,
    /// The REST API and metrics listener; `None` when the section is absent (no API).
    pub api: Option<ApiConfig>,
    /// Threads and queues.
    pub pipeline: PipelineSection,
    /// Mirror encapsulation ports the decoder recognises inside captured traffic.
    pub tunnels: TunnelsConfig,
    /// Settings of the behavioural analysers (`[behaviour]`, keys of
    /// `periscope_behaviour::BehaviourConfig`), used when `pipeline.behaviour` is on.
    pub behaviour: periscope_behaviour::BehaviourConfig,
    /// Settings of passive vulnerability detection (`[vulnerabilities]`, keys of
    /// `periscope_vulns::ScannerConfig`), used when `pipeline.vulnerabilities` is on.
    pub vulnerabilities: periscope_vulns::ScannerConfig,
}

/// One `[[sources]]` entry.
#[derive(Debug, Clone)]
pub enum SourceConfig {
    /// A live interface (SPAN/mirror port) through AF_PACKET.
    Interface(InterfaceSource),
    /// A UDP listener receiving VXLAN-encapsulated mirror traffic.
    Vxlan(UdpTunnelSource),
    /// A UDP listener receiving GENEVE-encapsulated mirror traffic.
    Geneve(UdpTunnelSource),
    /// An HTTP listener receiving the request copies of nginx's `mirror` directive.
    HttpMirror(HttpMirrorSource),
    /// Capture files, or a directory watched for new rotated captures.
    Pcap(PcapSource),
    /// eBPF agents streaming reassembled connections (`periscope agent --sensor`).
    Agent(AgentSource),
}

impl SourceConfig {
    /// The `type` name as written in the file.
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceConfig::Interface(_) => "interface",
            SourceConfig::Vxlan(_) => "vxlan",
            SourceConfig::Geneve(_) => "geneve",
            SourceConfig::HttpMirror(_) => "http_mirror",
            SourceConfig::Pcap(_) => "pcap",
            SourceConfig::Agent(_) => "agent",
        }
    }

    /// Live sources move the pipelines' clocks with wall time; capture files carry their own.
    pub fn is_live(&self) -> bool {
        !matches!(self, SourceConfig::Pcap(_))
    }
}

/// `type = "interface"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceSource {
    /// Interface name, e.g. `eth1`.
    pub interface: String,
    /// Capture filter in tcpdump syntax, compiled by libpcap. Default: none (everything).
    #[serde(default)]
    pub filter: Option<String>,
    /// Put the interface in promiscuous mode (needed on a SPAN port). Default true.
    #[serde(default = "default_true")]
    pub promiscuous: bool,
    /// Memory of the kernel ring, in MiB (4 MiB blocks), per capture thread. Default 128.
    #[serde(default = "default_ring_mib")]
    pub ring_mib: u32,
    /// Capture threads, each with its own ring, joined in one fanout group (the kernel spreads
    /// flows over them, both directions of a flow to the same one). Default 1.
    #[serde(default = "default_capture_threads")]
    pub capture_threads: usize,
}

/// `type = "vxlan"` and `type = "geneve"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpTunnelSource {
    /// UDP address to listen on, e.g. `0.0.0.0:4789`.
    pub listen: SocketAddr,
}

/// `type = "http_mirror"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpMirrorSource {
    /// TCP address to listen on.
    pub listen: SocketAddr,
    /// Header carrying the real client as `ip:port` (nginx: `$remote_addr:$remote_port`),
    /// believed only from `trusted_proxies`. Default `X-Periscope-Client`.
    #[serde(default = "default_client_header")]
    pub client_header: String,
    /// Header carrying the server as `ip:port` (nginx: `$server_addr:$server_port`). Default
    /// `X-Periscope-Server`.
    #[serde(default = "default_server_header")]
    pub server_header: String,
    /// Addresses or CIDR blocks of the proxies whose headers are believed. Default: none (the
    /// TCP peer is taken as the client).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

/// `type = "pcap"`: exactly one of `files` and `directory`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcapSource {
    /// Capture files, read in order as one capture.
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// A directory watched for new rotated capture files, read in name order once complete.
    /// Files read are recorded in `DIR/.periscope-done`, so a restart does not read them again.
    #[serde(default)]
    pub directory: Option<PathBuf>,
    /// Only files whose name starts with this. Default: every file not starting with a dot.
    #[serde(default)]
    pub prefix: Option<String>,
    /// A file unchanged for this long is complete even when no newer file exists. Default 10 s.
    #[serde(default = "default_settle", with = "humantime_serde_compat")]
    pub settle: Duration,
}

/// `type = "agent"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSource {
    /// TCP address agents connect to.
    pub listen: SocketAddr,
    /// File holding the shared token agents must present (whitespace trimmed, not empty).
    pub token_file: PathBuf,
    /// The sensor's TLS certificate (PEM). Without it the stream is plaintext (loopback only).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The key of `tls_cert` (PEM).
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// When set, agents must present a client certificate signed by this CA (PEM).
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// Agents connected at once; more are refused. Default 64.
    #[serde(default = "default_max_agents")]
    pub max_connections: usize,
}

/// Which exchanges the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepExchanges {
    /// None: only attacks, endpoints and the other findings.
    None,
    /// The exchanges in which an attack was found (default).
    Attacks,
    /// Every exchange.
    All,
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite database file. Absent: events are kept in memory only (lost at exit).
    #[serde(default)]
    pub sqlite: Option<PathBuf>,
    /// Records older than this are deleted (e.g. `"30d"`). Default: kept.
    #[serde(default, with = "humantime_serde_compat::option")]
    pub max_age: Option<Duration>,
    /// The oldest records are deleted when the file grows past this (bytes, or `"10GiB"`).
    #[serde(default, deserialize_with = "deserialize_size")]
    pub max_size: Option<u64>,
    /// Which exchanges are kept: `none`, `attacks` (default) or `all`.
    #[serde(default = "default_keep")]
    pub exchanges: KeepExchanges,
    /// Longest wait before a batch of events is written. Default 200 ms.
    #[serde(default = "default_flush_interval", with = "humantime_serde_compat")]
    pub flush_interval: Duration,
    /// A batch is written as soon as it holds this many events. Default 1000.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Events held while the store fails (locked, disk full); beyond, the oldest are dropped
    /// and counted. Default 100 000.
    #[serde(default = "default_retry_buffer")]
    pub retry_buffer: usize,
    /// How often the API inventory (endpoint events and the OpenAPI document) is written.
    /// Default 30 s.
    #[serde(default = "default_snapshot_interval", with = "humantime_serde_compat")]
    pub snapshot_interval: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            sqlite: None,
            max_age: None,
            max_size: None,
            exchanges: default_keep(),
            flush_interval: default_flush_interval(),
            batch_size: default_batch(),
            retry_buffer: default_retry_buffer(),
            snapshot_interval: default_snapshot_interval(),
        }
    }
}

/// `[api]`: exactly one of `token_file` and `token_env`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// TCP address of the REST API, `/live`, `/ready` and `/metrics`.
    pub listen: SocketAddr,
    /// File holding the bearer token (whitespace trimmed, not empty).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Environment variable holding the bearer token.
    #[serde(default)]
    pub token_env: Option<String>,
}

/// `[pipeline]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSection {
    /// Worker threads, each with its own pipeline; flows are sharded over them. Default: the
    /// number of cores.
    #[serde(default)]
    pub workers: Option<usize>,
    /// Queue items waiting per worker: batches of up to 64 packets from frame sources, single
    /// agent events or mirrored exchanges. Beyond, live sources drop and count. Default 512.
    #[serde(default = "default_worker_queue")]
    pub worker_queue: usize,
    /// Event batches waiting for the aggregator. Default 4096.
    #[serde(default = "default_event_queue")]
    pub event_queue: usize,
    /// Events waiting for the store writer. Default 16384.
    #[serde(default = "default_store_queue")]
    pub store_queue: usize,
    /// Body bytes kept per message. Default 1 MiB.
    #[serde(default = "default_body_cap")]
    pub body_cap: usize,
    /// Wait for a response before emitting a request alone. Default 5 s.
    #[serde(default = "default_response_timeout", with = "humantime_serde_compat")]
    pub response_timeout: Duration,
    /// TCP connections tracked per worker (least recently active evicted). Default 65536.
    #[serde(default = "default_max_flows")]
    pub max_flows: usize,
    /// Out-of-order bytes buffered per worker. Default 64 MiB.
    #[serde(default = "default_max_buffered")]
    pub max_buffered_bytes: usize,
    /// Attack detection. Default on.
    #[serde(default = "default_true")]
    pub detect: bool,
    /// API discovery (endpoint events, OpenAPI). Default on.
    #[serde(default = "default_true")]
    pub discover: bool,
    /// Passive vulnerability detection (settings in `[vulnerabilities]`). Default on.
    #[serde(default = "default_true")]
    pub vulnerabilities: bool,
    /// Behavioural incidents (settings in `[behaviour]`). Default on.
    #[serde(default = "default_true")]
    pub behaviour: bool,
}

impl Default for PipelineSection {
    fn default() -> Self {
        PipelineSection {
            workers: None,
            worker_queue: default_worker_queue(),
            event_queue: default_event_queue(),
            store_queue: default_store_queue(),
            body_cap: default_body_cap(),
            response_timeout: default_response_timeout(),
            max_flows: default_max_flows(),
            max_buffered_bytes: default_max_buffered(),
            detect: true,
            discover: true,
            vulnerabilities: true,
            behaviour: true,
        }
    }
}

impl PipelineSection {
    /// Worker threads to start.
    pub fn worker_count(&self) -> usize {
        self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
        })
    }
}

/// `[tunnels]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelsConfig {
    /// UDP ports carrying VXLAN inside captured traffic. Default `[4789]`.
    #[serde(default = "default_vxlan_ports")]
    pub vxlan_ports: Vec<u16>,
    /// UDP ports carrying GENEVE. Default `[6081]`.
    #[serde(default = "default_geneve_ports")]
    pub geneve_ports: Vec<u16>,
}

impl Default for TunnelsConfig {
    fn default() -> Self {
        TunnelsConfig {
            vxlan_ports: default_vxlan_ports(),
            geneve_ports: default_geneve_ports(),
        }
    }
}

fn default_ring_mib() -> u32 {
    128
}
fn default_capture_threads() -> usize {
    1
}
fn default_client_header() -> String {
    "X-Periscope-Client".into()
}
fn default_server_header() -> String {
    "X-Periscope-Server".into()
}
fn default_settle() -> Duration {
    Duration::from_secs(10)
}
fn default_max_agents() -> usize {
    64
}
fn default_keep() -> KeepExchanges {
    KeepExchanges::Attacks
}
fn default_flush_interval() -> Duration {
    Duration::from_millis(200)
}
fn default_batch() -> usize {
    1000
}
fn default_retry_buffer() -> usize {
    100_000
}
fn default_snapshot_interval() -> Duration {
    Duration::from_secs(30)
}
fn default_worker_queue() -> usize {
    512
}
fn default_event_queue() -> usize {
    4096
}
fn default_store_queue() -> usize {
    16384
}
fn default_body_cap() -> usize {
    1 << 20
}
fn default_response_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_max_flows() -> usize {
    65536
}
fn default_max_buffered() -> usize {
    64 << 20
}
fn default_true() -> bool {
    true
}
fn default_vxlan_ports() -> Vec<u16> {
    vec![4789]
}
fn default_geneve_ports() -> Vec<u16> {
    vec![6081]
}

/// Durations written as humantime strings (`"200ms"`, `"30d"`).
mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| {
            serde::de::Error::custom(format!("{e} (a duration like \"200ms\", \"5s\", \"30d\")"))
        })
    }

    pub mod option {
        use super::*;

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

/// A size: an integer number of bytes, or a string like `"512MiB"`, `"10GB"`.
fn deserialize_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Bytes(n) => Ok(Some(n)),
        Size::Text(s) => parse_size(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

/// Parses `"10GiB"`, `"512 MB"`, `"4096"`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 1048576, \"512MiB\", \"10GB\")"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        other => return Err(format!("unknown size unit {other:?} in {s:?}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// The top level as written, before the sources are told apart by their `type`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    sources: Vec<toml::Table>,
    #[serde(default)]
    store: Option<toml::Value>,
    #[serde(default)]
    api: Option<toml::Value>,
    #[serde(default)]
    pipeline: Option<toml::Value>,
    #[serde(default)]
    tunnels: Option<toml::Value>,
    #[serde(default)]
    behaviour: Option<toml::Value>,
    #[serde(default)]
    vulnerabilities: Option<toml::Value>,
}

/// Deserializes `value` as `T`, naming the failing key below `prefix`.
fn section<T: serde::de::DeserializeOwned>(prefix: &str, value: toml::Value) -> anyhow::Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." || path.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{path}")
        };
        anyhow::anyhow!("{key}: {}", e.into_inner().to_string().trim_end())
    })
}

impl Config {
    /// Reads and validates a configuration file. Relative paths in it are resolved against
    /// the file's directory.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, base).with_context(|| format!("{}", path.display()))
    }

    /// Parses configuration text; relative paths are resolved against `base`.
    pub fn parse(text: &str, base: &Path) -> anyhow::Result<Config> {
        let raw: RawConfig = {
            let value: toml::Value = toml::from_str(text)
                .map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))?;
            section("(top level)", value).map_err(|e| {
                anyhow::anyhow!("{}", e.to_string().trim_start_matches("(top level)."))
            })?
        };
        anyhow::ensure!(
            !raw.sources.is_empty(),
            "sources: at least one [[sources]] entry is needed"
        );
        let mut sources = Vec::with_capacity(raw.sources.len());
        for (i, mut table) in raw.sources.into_iter().enumerate() {
            let prefix = format!("sources[{i}]");
            let Some(kind) = table.remove("type") else {
                anyhow::bail!(
                    "{prefix}.type: missing (one of interface, vxlan, geneve, http_mirror, pcap, agent)"
                );
            };
            let value = toml::Value::Table(table);
            let source = match kind.as_str() {
                Some("interface") => SourceConfig::Interface(section(&prefix, value)?),
                Some("vxlan") => SourceConfig::Vxlan(section(&prefix, value)?),
                Some("geneve") => SourceConfig::Geneve(section(&prefix, value)?),
                Some("http_mirror") => SourceConfig::HttpMirror(section(&prefix, value)?),
                Some("pcap") => SourceConfig::Pcap(section(&prefix, value)?),
                Some("agent") => SourceConfig::Agent(section(&prefix, value)?),
                _ => anyhow::bail!(
                    "{prefix}.type: {kind} is not a source type (one of interface, vxlan, geneve, http_mirror, pcap, agent)"
                ),
            };
            sources.push(source);
        }
        let mut config = Config {
            sources,
            store: match raw.store {
                Some(v) => section("store", v)?,
                None => StoreConfig::default(),
            },
            api: raw.api.map(|v| section("api", v)).transpose()?,
            pipeline: match raw.pipeline {
                Some(v) => section("pipeline", v)?,
                None => PipelineSection::default(),
            },
            tunnels: match raw.tunnels {
                Some(v) => section("tunnels", v)?,
                None => TunnelsConfig::default(),
            },
            behaviour: match raw.behaviour {
                Some(v) => section("behaviour", v)?,
                None => Default::default(),
            },
            vulnerabilities: match raw.vulnerabilities {
                Some(v) => section("vulnerabilities", v)?,
                None => Default::default(),
            },
        };
        config.resolve_paths(base);
        config.validate()?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for source in &mut self.sources {
            match source {
                SourceConfig::Pcap(p) => {
                    p.files.iter_mut().for_each(fix);
                    p.directory.as_mut().map(fix);
                }
                SourceConfig::Agent(a) => {
                    fix(&mut a.token_file);
                    for p in [&mut a.tls_cert, &mut a.tls_key, &mut a.client_ca] {
                        p.as_mut().map(fix);
                    }
                }
                _ => {}
            }
        }
        self.store.sqlite.as_mut().map(fix);
        if let Some(api) = &mut self.api {
            api.token_file.as_mut().map(fix);
        }
    }

    /// Checks what the types cannot say: one-of choices, non-zero capacities, and that the
    /// files named exist.
    fn validate(&self) -> anyhow::Result<()> {
        for (i, source) in self.sources.iter().enumerate() {
            let p = format!("sources[{i}]");
            match source {
                SourceConfig::Interface(s) => {
                    anyhow::ensure!(!s.interface.is_empty(), "{p}.interface: empty");
                    anyhow::ensure!(s.ring_mib >= 4, "{p}.ring_mib: at least 4");
                    anyhow::ensure!(
                        (1..=64).contains(&s.capture_threads),
                        "{p}.capture_threads: between 1 and 64"
                    );
                }
                SourceConfig::Pcap(s) => match (&s.directory, s.files.is_empty()) {
                    (Some(_), false) => {
                        anyhow::bail!("{p}: give either files or directory, not both")
                    }
                    (None, true) => anyhow::bail!("{p}.files: missing (or set directory)"),
                    (Some(d), true) => anyhow::ensure!(
                        d.is_dir(),
                        "{p}.directory: {} is not a directory",
                        d.display()
                    ),
                    (None, false) => {
                        for (j, f) in s.files.iter().enumerate() {
                            anyhow::ensure!(
                                f.is_file(),
                                "{p}.files[{j}]: {} does not exist",
                                f.display()
                            );
                        }
                    }
                },
                SourceConfig::Agent(a) => {
                    check_token_file(&a.token_file)
                        .map_err(|e| anyhow::anyhow!("{p}.token_file: {e}"))?;
                    match (&a.tls_cert, &a.tls_key) {
                        (Some(_), None) => anyhow::bail!("{p}.tls_key: missing (tls_cert is set)"),
                        (None, Some(_)) => anyhow::bail!("{p}.tls_cert: missing (tls_key is set)"),
                        (None, None) if a.client_ca.is_some() => {
                            anyhow::bail!("{p}.client_ca: needs tls_cert and tls_key")
                        }
                        _ => {}
                    }
                    for (name, file) in [
                        ("tls_cert", &a.tls_cert),
                        ("tls_key", &a.tls_key),
                        ("client_ca", &a.client_ca),
                    ] {
                        if let Some(f) = file {
                            anyhow::ensure!(
                                f.is_file(),
                                "{p}.{name}: {} does not exist",
                                f.display()
                            );
                        }
                    }
                    anyhow::ensure!(a.max_connections >= 1, "{p}.max_connections: at least 1");
                }
                SourceConfig::HttpMirror(h) => {
                    for (name, header) in [
                        ("client_header", &h.client_header),
                        ("server_header", &h.server_header),
                    ] {
                        anyhow::ensure!(
                            http_header_name_ok(header),
                            "{p}.{name}: {header:?} is not a header name"
                        );
                    }
                    for (j, block) in h.trusted_proxies.iter().enumerate() {
                        block.parse::<periscope_sources::IpBlock>().map_err(|_| {
                            anyhow::anyhow!(
                                "{p}.trusted_proxies[{j}]: {block:?} is not an address or CIDR block"
                            )
                        })?;
                    }
                }
                SourceConfig::Vxlan(_) | SourceConfig::Geneve(_) => {}
            }
        }
        if let Some(api) = &self.api {
            match (&api.token_file, &api.token_env) {
                (Some(_), Some(_)) => {
                    anyhow::bail!("api: give either token_file or token_env, not both")
                }
                (None, None) => anyhow::bail!(
                    "api.token_file: missing (or token_env); the API has no default token"
                ),
                (Some(f), None) => {
                    check_token_file(f).map_err(|e| anyhow::anyhow!("api.token_file: {e}"))?
                }
                (None, Some(var)) => match std::env::var(var) {
                    Ok(v) if !v.trim().is_empty() => {}
                    _ => {
                        anyhow::bail!("api.token_env: environment variable {var} is unset or empty")
                    }
                },
            }
        }
        let s = &self.store;
        anyhow::ensure!(s.batch_size >= 1, "store.batch_size: at least 1");
        anyhow::ensure!(
            s.retry_buffer >= s.batch_size,
            "store.retry_buffer: at least store.batch_size"
        );
        anyhow::ensure!(
            !s.flush_interval.is_zero(),
            "store.flush_interval: must be above 0"
        );
        anyhow::ensure!(
            !s.snapshot_interval.is_zero(),
            "store.snapshot_interval: must be above 0"
        );
        if let Some(db) = &s.sqlite {
            check_writable_dir(db).map_err(|e| anyhow::anyhow!("store.sqlite: {e}"))?;
        }
        let p = &self.pipeline;
        if let Some(w) = p.workers {
            anyhow::ensure!(
                (1..=256).contains(&w),
                "pipeline.workers: between 1 and 256"
            );
        }
        for (name, v) in [
            ("worker_queue", p.worker_queue),
            ("event_queue", p.event_queue),
            ("store_queue", p.store_queue),
            ("max_flows", p.max_flows),
            ("max_buffered_bytes", p.max_buffered_bytes),
        ] {
            anyhow::ensure!(v >= 1, "pipeline.{name}: at least 1");
        }
        Ok(())
    }

    /// The settings of the cross-request analysers (the aggregator thread).
    pub fn aggregator_config(&self) -> crate::analysers::AggregatorConfig {
        crate::analysers::AggregatorConfig {
            discover: self.pipeline.discover,
            vulnerabilities: self
                .pipeline
                .vulnerabilities
                .then(|| self.vulnerabilities.clone()),
            behaviour: self.pipeline.behaviour.then(|| self.behaviour.clone()),
        }
    }

    /// The settings of each worker's pipeline.
    pub fn pipeline_config(&self) -> crate::pipeline::PipelineConfig {
        let mut config = crate::pipeline::PipelineConfig::default();
        config.decode.vxlan_ports = self.tunnels.vxlan_ports.clone();
        config.decode.geneve_ports = self.tunnels.geneve_ports.clone();
        config.http.body_cap = self.pipeline.body_cap;
        config.http.response_timeout = self.pipeline.response_timeout;
        config.http.max_connections = self.pipeline.max_flows;
        config.reassembly.max_flows = self.pipeline.max_flows;
        config.reassembly.max_buffered_bytes_total = self.pipeline.max_buffered_bytes;
        config
    }
}

/// A token file must exist and hold a non-empty token.
pub fn check_token_file(path: &Path) -> Result<(), String> {
    match std::fs::read_to_string(path) {
        Ok(t) if t.trim().is_empty() => Err(format!("{} is empty", path.display())),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Reads a token file (checked by [`check_token_file`]).
pub fn read_token_file(path: &Path) -> anyhow::Result<String> {
    let t = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let t = t.trim().to_string();
    anyhow::ensure!(!t.is_empty(), "{} is empty", path.display());
    Ok(t)
}

/// The database's directory must exist and let us create files in it (SQLite adds `-wal` and
/// `-shm` files beside the database).
fn check_writable_dir(db: &Path) -> Result<(), String> {
    let dir = match db.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!("directory {} does not exist", dir.display()));
    }
    let probe = dir.join(format!(".periscope-write-check-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!("directory {} is not writable: {e}", dir.display())),
    }
}

fn http_header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("/nonexistent")).map_err(|e| format!("{e:#}"))
    }

    #[test]
    fn issue_example_parses_up_to_the_files_it_names() {
        let dir = std::env::temp_dir().join(format!("periscope-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .ok();
        std::fs::write(dir.join("token.txt"), "secret\n").ok();
        let text = r#"
[[sources]]
type = "vxlan"
listen = "127.0.0.1:4789"

[[sources]]
type = "interface"
interface = "eth1"
filter = "tcp port 80 or tcp port 8080"

[store]
sqlite = "periscope.db"

[api]
listen = "127.0.0.1:8686"
token_file = "token.txt"
"#;
        let config = Config::parse(text, &dir).map_err(|e| format!("{e:#}"));
        let _ = std::fs::remove_dir_all(&dir);
        let config = config.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.sources.len(), 2);
        assert_eq!(config.sources[1].type_name(), "interface");
        assert_eq!(config.store.sqlite, Some(dir.join("periscope.db")));
        assert_eq!(config.store.exchanges, KeepExchanges::Attacks);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("[[sources]]\ntype = \"interface\"\n", "sources[0]: missing field `interface`"),
            (
                "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:4789\"\n[[sources]]\ntype = \"interface\"\n",
                "sources[1]: missing field `interface`",
            ),
            ("[[sources]]\ntype = \"vxlan\"\nlisten = 4789\n", "sources[0].listen: invalid type"),
            ("[[sources]]\ntype = \"vxlan\"\nlisten = \"nope\"\n", "sources[0].listen: invalid socket address"),
            (
                "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:1\"\nport = 3\n",
                "sources[0].port: unknown field `port`",
            ),
            ("[[sources]]\ntype = \"nfs\"\n", "sources[0].type: \"nfs\" is not a source type"),
            ("[[sources]]\nlisten = \"127.0.0.1:1\"\n", "sources[0].type: missing"),
            (
                "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:1\"\n[store]\nexchanges = \"some\"\n",
                "store.exchanges: unknown variant `some`",
            ),
            (
                "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:1\"\n[pipeline]\nworkers = \"many\"\n",
                "pipeline.workers: invalid type",
            ),
            (
                "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:1\"\n[api]\nlisten = \"127.0.0.1:2\"\ntoken_file = \"/nonexistent/token\"\n",
                "api.token_file: /nonexistent/token",
            ),
            (
                "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:1\"\n[api]\nlisten = \"127.0.0.1:2\"\n",
                "api.token_file: missing",
            ),
            ("[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:1\"\n[storage]\n", "unknown field `storage`"),
            (
                "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:1\"\n[behaviour]\ntrusted_proxies = 3\n",
                "behaviour.trusted_proxies: invalid type",
            ),
            ("", "sources: at least one"),
            (
                "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:1\"\n[store]\nmax_age = \"soon\"\n",
                "store.max_age:",
            ),
            (
                "[[sources]]\ntype = \"vxlan\"\nlisten = \"127.0.0.1:1\"\n[store]\nmax_size = \"3 parsecs\"\n",
                "store.max_size: unknown size unit",
            ),
        ];
        for (text, want) in cases {
            match parse(text) {
                Ok(_) => panic!("accepted {text:?}"),
                Err(e) => assert!(e.contains(want), "{text:?}: got {e:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn the_documented_example_is_valid() -> anyhow::Result<()> {
        let text = include_str!("../../../../examples/periscope.toml");
        let dir = std::env::temp_dir().join(format!("periscope-example-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("token.txt"), "secret\n")?;
        let config = Config::parse(text, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        let config = config?;
        assert_eq!(config.sources.len(), 2);
        assert_eq!(config.store.max_size, Some(10 << 30));
        assert_eq!(config.store.max_age, Some(Duration::from_secs(30 * 86400)));
        Ok(())
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10GiB"), Ok(10 << 30));
        assert_eq!(parse_size("512 MB"), Ok(512_000_000));
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }
}
