//! Live capture from a network interface: an AF_PACKET socket with a memory-mapped TPACKET_V3
//! ring ([`netring`]), an optional fanout group and an optional tcpdump-syntax filter.
//!
//! The kernel writes packets into blocks of the ring; [`InterfaceSource::next_batch`] copies
//! each retired block's packets into the caller's [`FrameBatch`] and hands the block back at
//! once, so the ring is never held while the caller decodes. Frames whose 802.1Q tag the
//! kernel moved into the packet metadata get it written back into the bytes (as libpcap does),
//! so VLAN ids reach the decoder.
//!
//! **Retry:** when the interface is deleted while capturing, `next_batch` returns
//! [`SourceError::InterfaceGone`] (checked on socket errors and once a second); the source is
//! then finished. [`InterfaceSource::open`] fails with [`SourceError::Open`] while the interface
//! does not exist. Both are [`SourceError::is_retryable`]: the caller logs once and opens a new
//! source every few seconds. An interface that goes down and up again needs nothing: the kernel
//! resumes delivery to the same socket.

use crate::filter::compile_filter;
use crate::{FrameBatch, SourceError, SourceStats};
use netring::{Capture, FanoutFlags, FanoutMode};
use periscope_model::{LinkType, Timestamp};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the kernel drop counters and the interface's existence are checked.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(1);

/// Configuration of an [`InterfaceSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// Interface name, e.g. `eth0`.
    pub interface: String,
    /// Capture filter in tcpdump syntax (e.g. `tcp port 80 or tcp port 8080`); `None` keeps
    /// every packet. Compiled by libpcap for Ethernet framing.
    pub filter: Option<String>,
    /// Join this fanout group (same id in several sockets, in this or other processes, on the
    /// same interface): the kernel spreads packets over the members by flow hash, both
    /// directions of a flow to the same member. `None`: no fanout.
    pub fanout_group: Option<u16>,
    /// Put the interface in promiscuous mode (needed on a SPAN port). Default true.
    pub promiscuous: bool,
    /// Size of one ring block in bytes: a power of two, a multiple of the page size, larger than
    /// the biggest packet. Default 4 MiB.
    pub block_size: usize,
    /// Number of ring blocks. The ring is `block_size × block_count` bytes of locked memory;
    /// default 32 (128 MiB), which absorbs about 100 ms of 10 Gbit/s.
    pub block_count: usize,
    /// A block is handed to user space after this long even when not full, so quiet traffic is
    /// not delayed. Default 20 ms.
    pub block_timeout: Duration,
    /// Most frames returned by one `next_batch` call. Default 4096.
    pub max_batch: usize,
}

impl InterfaceConfig {
    /// Defaults for capturing on `interface`.
    pub fn new(interface: impl Into<String>) -> Self {
        InterfaceConfig {
            interface: interface.into(),
            filter: None,
            fanout_group: None,
            promiscuous: true,
            block_size: 4 << 20,
            block_count: 32,
            block_timeout: Duration::from_millis(20),
            max_batch: 4096,
        }
    }

    /// Checks what can be checked without opening a socket, including that the filter compiles.
    pub fn validate(&self) -> Result<(), SourceError> {
        if self.interface.is_empty() {
            return Err(SourceError::Config("interface: empty name".into()));
        }
        if !self.block_size.is_power_of_two() || self.block_size < 4096 {
            return Err(SourceError::Config(format!(
                "block_size: {} is not a power of two of at least 4096",
                self.block_size
            )));
        }
        if self.block_count == 0 || self.max_batch == 0 {
            return Err(SourceError::Config(
                "block_count and max_batch must be positive".into(),
            ));
        }
        if let Some(f) = &self.filter {
            compile_filter(f)?;
        }
        Ok(())
    }
}

/// A live capture on one interface. Create it on the thread that reads it or move it there
/// (it is `Send`); read with [`next_batch`](InterfaceSource::next_batch).
pub struct InterfaceSource {
    cfg: InterfaceConfig,
    capture: Capture,
    ifindex: u32,
    link: LinkType,
    stats: Arc<SourceStats>,
    last_housekeeping: Instant,
}

impl std::fmt::Debug for InterfaceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterfaceSource")
            .field("interface", &self.cfg.interface)
            .field("ifindex", &self.ifindex)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl InterfaceSource {
    /// Opens the capture (needs `CAP_NET_RAW`). The filter is attached before the first packet
    /// is read, so no unfiltered packet reaches the ring.
    pub fn open(cfg: InterfaceConfig) -> Result<Self, SourceError> {
        Self::open_with_stats(cfg, Arc::default())
    }

    /// Like [`open`](Self::open), counting into existing statistics: a caller that reopens the
    /// source after [`SourceError::InterfaceGone`] keeps one set of counters.
    pub fn open_with_stats(
        cfg: InterfaceConfig,
        stats: Arc<SourceStats>,
    ) -> Result<Self, SourceError> {
        cfg.validate()?;
        let open_err = |source| SourceError::Open {
            interface: cfg.interface.clone(),
            source,
        };
        let info = netring::interface_info(&cfg.interface).map_err(open_err)?;
        let block_timeout_ms =
            u32::try_from(cfg.block_timeout.as_millis().clamp(1, 60_000)).unwrap_or(60_000);
        let mut builder = Capture::builder()
            .interface(&cfg.interface)
            .promiscuous(cfg.promiscuous)
            .block_size(cfg.block_size)
            .block_count(cfg.block_count)
            .block_timeout_ms(block_timeout_ms);
        if let Some(group) = cfg.fanout_group {
            // Hash mode is symmetric in the kernel; DEFRAG keeps IP fragments together.
            builder = builder
                .fanout(FanoutMode::Hash, group)
                .fanout_flags(FanoutFlags::DEFRAG);
        }
        if let Some(f) = &cfg.filter {
            builder = builder.bpf_filter(compile_filter(f)?);
        }
        let capture = builder.build().map_err(open_err)?;
        Ok(InterfaceSource {
            link: link_type_of(&cfg.interface),
            cfg,
            capture,
            ifindex: info.index,
            stats,
            last_housekeeping: Instant::now(),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &InterfaceConfig {
        &self.cfg
    }

    /// Link type of the frames (Ethernet for Ethernet-like devices, raw IP for tunnels and
    /// `tun` devices).
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// Counters, shared with the caller.
    pub fn stats(&self) -> Arc<SourceStats> {
        Arc::clone(&self.stats)
    }

    /// Clears `out` and fills it with the packets that arrive within `timeout` (returns as soon
    /// as one ring block has been read, or when `timeout` passes with nothing). Returns the
    /// number of frames. Kernel drop counters are refreshed about once a second.
    pub fn next_batch(
        &mut self,
        timeout: Duration,
        out: &mut FrameBatch,
    ) -> Result<usize, SourceError> {
        out.clear();
        if self.last_housekeeping.elapsed() >= HOUSEKEEPING_EVERY {
            self.housekeeping()?;
        }
        let got_block = self.read_block(timeout, out)?;
        if !got_block {
            // Nothing within the timeout: normal when idle, but also what a dead socket looks
            // like (poll reports POLLERR at once), so look at the socket's error.
            self.check_socket_error()?;
        }
        // More blocks may already be waiting: take them without blocking, up to the batch cap.
        while out.len() < self.cfg.max_batch && self.read_block(Duration::ZERO, out)? {}
        Ok(out.len())
    }

    /// Reads one block into `out`. False when none was ready within `timeout`.
    fn read_block(&mut self, timeout: Duration, out: &mut FrameBatch) -> Result<bool, SourceError> {
        let batch = if timeout.is_zero() {
            self.capture.next_batch()
        } else {
            self.capture
                .next_batch_blocking(timeout)
                .map_err(|e| SourceError::io(format!("poll {}", self.cfg.interface), io_of(e)))?
        };
        let Some(batch) = batch else {
            return Ok(false);
        };
        for packet in &batch {
            let data = packet.data();
            let ts = packet.timestamp();
            let ts = Timestamp::from_secs_nanos(u64::from(ts.sec), ts.nsec);
            let orig_len = u32::try_from(packet.original_len()).unwrap_or(u32::MAX);
            let status = packet.status();
            if status.vlan_valid && self.link == LinkType::Ethernet && data.len() >= 12 {
                // The kernel took the outer 802.1Q tag off into the metadata: put it back.
                let tpid = if status.vlan_tpid_valid {
                    packet.vlan_tpid()
                } else {
                    0x8100
                };
                let mut tagged = [0u8; 16];
                tagged[..12].copy_from_slice(&data[..12]);
                tagged[12..14].copy_from_slice(&tpid.to_be_bytes());
                tagged[14..16].copy_from_slice(&packet.vlan_tci().to_be_bytes());
                out.push_parts(
                    ts,
                    self.link,
                    &tagged,
                    &data[12..],
                    orig_len.saturating_add(4),
                );
            } else {
                out.push(ts, self.link, data, orig_len);
            }
            self.stats.delivered(data.len());
        }
        Ok(true)
    }

    /// Refreshes the kernel counters and checks that the interface still exists.
    fn housekeeping(&mut self) -> Result<(), SourceError> {
        self.last_housekeeping = Instant::now();
        // `stats()` returns the counts since the previous call and resets them.
        if let Ok(s) = self.capture.stats() {
            SourceStats::add(&self.stats.drops_kernel, u64::from(s.drops));
        }
        self.check_present()
    }

    fn check_present(&self) -> Result<(), SourceError> {
        match netring::interface_info(&self.cfg.interface) {
            Ok(info) if info.index == self.ifindex => Ok(()),
            _ => Err(SourceError::InterfaceGone {
                interface: self.cfg.interface.clone(),
            }),
        }
    }

    fn check_socket_error(&self) -> Result<(), SourceError> {
        let socket = socket2::SockRef::from(&self.capture);
        match socket.take_error() {
            Ok(None) => Ok(()),
            // ENETDOWN when the interface goes down or is deleted: fatal only in the second
            // case (after a down/up, delivery resumes on this socket).
            Ok(Some(e)) if e.kind() == std::io::ErrorKind::NetworkDown => self.check_present(),
            Ok(Some(e)) | Err(e) => Err(SourceError::io(
                format!("capture socket on {}", self.cfg.interface),
                e,
            )),
        }
    }
}

fn io_of(e: netring::Error) -> std::io::Error {
    match e {
        netring::Error::Io(io) => io,
        other => std::io::Error::other(other.to_string()),
    }
}

/// The link type AF_PACKET frames have on `interface`, from its ARPHRD type in sysfs: devices
/// without a link-layer header (tun, ipip, gre, wireguard) deliver bare IP packets. Ethernet when
/// unknown, which is right for Ethernet, veth, bridges, bonds and loopback.
fn link_type_of(interface: &str) -> LinkType {
    let path = format!("/sys/class/net/{interface}/type");
    let arphrd = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    match arphrd {
        // ARPHRD_NONE, ARPHRD_TUNNEL, ARPHRD_TUNNEL6, ARPHRD_SIT, ARPHRD_IPGRE, ARPHRD_RAWIP.
        Some(65534 | 768 | 769 | 776 | 778 | 519) => LinkType::Raw,
        _ => LinkType::Ethernet,
    }
}
