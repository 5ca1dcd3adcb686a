//! Periscope's live traffic sources, for the sensor daemon (`periscope run`).
//!
//! **Owns:** getting traffic into the sensor while it happens. Each source runs on a thread of
//! its own (the daemon's), is read by pulling, and keeps [`SourceStats`] counters that any
//! thread can read:
//!
//! | source | input | output |
//! |---|---|---|
//! | [`InterfaceSource`] | a network interface: AF_PACKET, TPACKET_V3 ring, fanout, tcpdump filter | frames (Ethernet or raw IP) |
//! | [`TunnelListener`] | UDP datagrams of a cloud mirror: VXLAN (4789) or GENEVE (6081) | frames of link type [`LinkType::Vxlan`] / [`LinkType::Geneve`] |
//! | [`PcapDirSource`] | a directory of rotated capture files | frames, file after file |
//! | [`HttpMirror`] | requests copied by nginx's `mirror` directive | [`Exchange`](periscope_model::Exchange)s without response |
//!
//! **Frames:** the frame sources fill a caller-owned [`FrameBatch`] with
//! `next_batch(timeout, &mut batch)`: one copy per packet into memory the batch keeps from call
//! to call, no allocation per packet. Decoding is the caller's job
//! (`periscope_decode::Decoder`), as is sharding. [`OwnedFrame`] is the one-frame form.
//!
//! **Stopping:** frame sources return from `next_batch` within its timeout, so the caller checks
//! its stop flag between calls; [`HttpMirror`] takes a shutdown future or an `AtomicBool`.
//!
//! **Errors:** traffic never causes an error (bad packets are counted, by the decoder or in
//! the stats); [`SourceError`] is configuration or I/O, and
//! [`SourceError::is_retryable`] says whether opening the source again later makes sense (an
//! interface that disappeared does; a filter that does not compile does not).
//!
//! ```no_run
//! use periscope_sources::{FrameBatch, InterfaceConfig, InterfaceSource};
//! use std::time::Duration;
//!
//! let mut cfg = InterfaceConfig::new("eth0");
//! cfg.filter = Some("tcp port 80".into());
//! let mut source = InterfaceSource::open(cfg)?;
//! let mut batch = FrameBatch::default();
//! loop {
//!     source.next_batch(Duration::from_millis(100), &mut batch)?;
//!     for frame in batch.iter() {
//!         let _ = frame; // decoder.decode(&frame) …
//!     }
//! #   break;
//! }
//! # Ok::<(), periscope_sources::SourceError>(())
//! ```
//!
//! [`LinkType::Vxlan`]: periscope_model::LinkType::Vxlan
//! [`LinkType::Geneve`]: periscope_model::LinkType::Geneve
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod filter;
mod frame;
pub mod http_mirror;
pub mod interface;
pub mod pcap_dir;
mod stats;
pub mod tunnel;

pub use error::SourceError;
pub use filter::compile_filter;
pub use frame::{FrameBatch, OwnedFrame};
pub use http_mirror::{channel_sink, ExchangeSink, HttpMirror, HttpMirrorConfig, IpBlock};
pub use interface::{InterfaceConfig, InterfaceSource};
pub use pcap_dir::{AfterRead, PcapDirConfig, PcapDirSource};
pub use stats::{SourceStats, StatsSnapshot};
pub use tunnel::{TunnelConfig, TunnelListener, TunnelProtocol};

use std::sync::Arc;
use std::time::Duration;

/// What the frame sources have in common, for a daemon that runs any of them the same way.
pub trait FrameSource: Send {
    /// Clears `out` and fills it with the next frames, waiting up to about `timeout` when none
    /// is ready. Returns the number of frames (0 on timeout).
    fn next_batch(&mut self, timeout: Duration, out: &mut FrameBatch)
        -> Result<usize, SourceError>;

    /// The source's counters.
    fn stats(&self) -> Arc<SourceStats>;
}

impl FrameSource for InterfaceSource {
    fn next_batch(
        &mut self,
        timeout: Duration,
        out: &mut FrameBatch,
    ) -> Result<usize, SourceError> {
        InterfaceSource::next_batch(self, timeout, out)
    }
    fn stats(&self) -> Arc<SourceStats> {
        InterfaceSource::stats(self)
    }
}

impl FrameSource for TunnelListener {
    fn next_batch(
        &mut self,
        timeout: Duration,
        out: &mut FrameBatch,
    ) -> Result<usize, SourceError> {
        TunnelListener::next_batch(self, timeout, out)
    }
    fn stats(&self) -> Arc<SourceStats> {
        TunnelListener::stats(self)
    }
}

impl FrameSource for PcapDirSource {
    fn next_batch(
        &mut self,
        timeout: Duration,
        out: &mut FrameBatch,
    ) -> Result<usize, SourceError> {
        PcapDirSource::next_batch(self, timeout, out)
    }
    fn stats(&self) -> Arc<SourceStats> {
        PcapDirSource::stats(self)
    }
}
