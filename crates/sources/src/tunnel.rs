//! VXLAN and GENEVE listeners: the receiving end of a cloud traffic mirror (AWS VPC Traffic
//! Mirroring sends VXLAN to UDP 4789; GENEVE uses 6081, e.g. behind a Gateway Load Balancer).
//!
//! Each datagram's payload starts with the tunnel header and becomes one frame of link type
//! [`LinkType::Vxlan`] or [`LinkType::Geneve`]; the decoder unwraps the header (recording the VNI
//! on the tunnel path) and counts malformed ones, so nothing is parsed here. The socket gets a
//! big receive buffer, because mirrors send in bursts and a full buffer drops silently; those
//! drops are read from `/proc/net/udp{,6}` (the `drops` column of this socket) about once a
//! second. By default a plain non-blocking `recv_from` loop with one reused 64 KiB buffer;
//! `recvmmsg` is available ([`TunnelConfig::datagrams_per_call`]) but did not lower the CPU
//! cost per datagram in our measurement (crate README).

use crate::{FrameBatch, SourceError, SourceStats};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{recvmmsg, MsgFlags, MultiHeaders};
use periscope_model::{LinkType, Timestamp};
use std::io::ErrorKind;
use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Largest UDP payload (IPv4: 65 535 − 20 − 8).
const MAX_DATAGRAM: usize = 65_535;
/// How often the socket's drop counter is read.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(1);

/// Which encapsulation a listener receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelProtocol {
    /// VXLAN (RFC 7348), usually UDP 4789.
    Vxlan,
    /// GENEVE (RFC 8926), usually UDP 6081.
    Geneve,
}

impl TunnelProtocol {
    /// The IANA port.
    pub fn default_port(self) -> u16 {
        match self {
            TunnelProtocol::Vxlan => 4789,
            TunnelProtocol::Geneve => 6081,
        }
    }

    /// The link type of the frames produced.
    pub fn link_type(self) -> LinkType {
        match self {
            TunnelProtocol::Vxlan => LinkType::Vxlan,
            TunnelProtocol::Geneve => LinkType::Geneve,
        }
    }
}

/// Configuration of a [`TunnelListener`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelConfig {
    /// Encapsulation expected.
    pub protocol: TunnelProtocol,
    /// Address to bind, e.g. `0.0.0.0:4789`.
    pub listen: SocketAddr,
    /// Socket receive buffer asked for (SO_RCVBUF, forced past `net.core.rmem_max` when the
    /// process has CAP_NET_ADMIN). Default 32 MiB.
    pub recv_buffer: usize,
    /// Most frames returned by one `next_batch` call. Default 1024.
    pub max_batch: usize,
    /// Datagrams received per system call: above 1, `recvmmsg` with this many 64 KiB slots
    /// (memory: 64 KiB each); 1, a `recv_from` loop. Default 1 (see the crate README for the
    /// measured difference).
    pub datagrams_per_call: usize,
}

impl TunnelConfig {
    /// Defaults for `protocol` on all addresses at its IANA port.
    pub fn new(protocol: TunnelProtocol) -> Self {
        TunnelConfig {
            protocol,
            listen: SocketAddr::from(([0, 0, 0, 0], protocol.default_port())),
            recv_buffer: 32 << 20,
            max_batch: 1024,
            datagrams_per_call: 1,
        }
    }
}

/// A bound VXLAN or GENEVE listener. Move it to the thread that reads it.
#[derive(Debug)]
pub struct TunnelListener {
    cfg: TunnelConfig,
    socket: UdpSocket,
    buf: Vec<u8>,
    stats: Arc<SourceStats>,
    /// Inode of the socket, to find its line in /proc/net/udp.
    inode: Option<u64>,
    /// The kernel's drop count at the last reading.
    kernel_drops_seen: u64,
    last_housekeeping: Instant,
}

impl TunnelListener {
    /// Binds the socket and sizes its receive buffer.
    pub fn bind(cfg: TunnelConfig) -> Result<Self, SourceError> {
        if cfg.max_batch == 0 || cfg.datagrams_per_call == 0 || cfg.datagrams_per_call > 1024 {
            return Err(SourceError::Config(
                "max_batch must be positive, datagrams_per_call between 1 and 1024".into(),
            ));
        }
        let what = format!("bind UDP {}", cfg.listen);
        let socket = UdpSocket::bind(cfg.listen).map_err(|e| SourceError::io(&what, e))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| SourceError::io(&what, e))?;
        // SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it SO_RCVBUF is capped at rmem_max.
        let forced = nix::sys::socket::setsockopt(
            &socket,
            nix::sys::socket::sockopt::RcvBufForce,
            &cfg.recv_buffer,
        );
        if forced.is_err() {
            let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(cfg.recv_buffer);
        }
        let inode = std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
            .ok()
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m));
        let datagrams_per_call = cfg.datagrams_per_call;
        Ok(TunnelListener {
            cfg,
            socket,
            buf: vec![0; MAX_DATAGRAM * datagrams_per_call],
            stats: Arc::default(),
            inode,
            kernel_drops_seen: 0,
            last_housekeeping: Instant::now(),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, SourceError> {
        self.socket
            .local_addr()
            .map_err(|e| SourceError::io("UDP local address", e))
    }

    /// The receive buffer the kernel granted (Linux reports twice the usable size).
    pub fn recv_buffer(&self) -> usize {
        socket2::SockRef::from(&self.socket)
            .recv_buffer_size()
            .unwrap_or(0)
    }

    /// Counters, shared with the caller.
    pub fn stats(&self) -> Arc<SourceStats> {
        Arc::clone(&self.stats)
    }

    /// Clears `out` and fills it with the datagrams that are waiting, waiting up to `timeout`
    /// for the first. Returns the number of frames.
    pub fn next_batch(
        &mut self,
        timeout: Duration,
        out: &mut FrameBatch,
    ) -> Result<usize, SourceError> {
        out.clear();
        if self.last_housekeeping.elapsed() >= HOUSEKEEPING_EVERY {
            self.read_kernel_drops();
        }
        let mut waited = false;
        while out.len() < self.cfg.max_batch {
            let received = if self.cfg.datagrams_per_call > 1 {
                self.receive_many(out)
            } else {
                self.receive_one(out)
            };
            match received {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if waited || !out.is_empty() || timeout.is_zero() {
                        break;
                    }
                    waited = true;
                    self.wait_readable(timeout)?;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // An ICMP error from an earlier send, or a transient condition: not fatal for a
                // receive-only socket.
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
                Err(e) => {
                    return Err(SourceError::io(
                        format!("receive on {}", self.cfg.listen),
                        e,
                    ))
                }
            }
        }
        Ok(out.len())
    }

    /// One `recv_from`.
    fn receive_one(&mut self, out: &mut FrameBatch) -> std::io::Result<()> {
        let (n, _peer) = self.socket.recv_from(&mut self.buf)?;
        let data = self.buf.get(..n).unwrap_or(&[]);
        let orig_len = u32::try_from(n).unwrap_or(u32::MAX);
        out.push(now(), self.cfg.protocol.link_type(), data, orig_len);
        self.stats.delivered(n);
        Ok(())
    }

    /// One `recvmmsg` of up to `datagrams_per_call` datagrams (and no more than the batch has
    /// room for).
    fn receive_many(&mut self, out: &mut FrameBatch) -> std::io::Result<()> {
        let slots = self
            .cfg
            .datagrams_per_call
            .min(self.cfg.max_batch.saturating_sub(out.len()))
            .max(1);
        let mut headers = MultiHeaders::<()>::preallocate(slots, None);
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> = self
            .buf
            .chunks_mut(MAX_DATAGRAM)
            .take(slots)
            .map(|slot| [IoSliceMut::new(slot)])
            .collect();
        let results = recvmmsg(
            self.socket.as_raw_fd(),
            &mut headers,
            iovs.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )
        .map_err(std::io::Error::from)?;
        let ts = now();
        let link = self.cfg.protocol.link_type();
        let mut got = 0;
        for msg in results {
            got += 1;
            let orig_len = u32::try_from(msg.bytes).unwrap_or(u32::MAX);
            // One slot per datagram, each as big as the largest datagram: never truncated.
            let data = msg.iovs().next().unwrap_or(&[]);
            out.push(ts, link, data, orig_len);
            self.stats.delivered(data.len());
        }
        if got == 0 {
            return Err(ErrorKind::WouldBlock.into());
        }
        Ok(())
    }

    fn wait_readable(&self, timeout: Duration) -> Result<(), SourceError> {
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, PollTimeout::from(ms)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
            Err(e) => Err(SourceError::io(
                format!("poll on {}", self.cfg.listen),
                std::io::Error::from(e),
            )),
        }
    }

    /// Adds the receive-buffer drops since the last reading to the statistics.
    fn read_kernel_drops(&mut self) {
        self.last_housekeeping = Instant::now();
        let Some(inode) = self.inode else {
            return;
        };
        let table = if self.cfg.listen.is_ipv4() {
            "/proc/net/udp"
        } else {
            "/proc/net/udp6"
        };
        let Ok(text) = std::fs::read_to_string(table) else {
            return;
        };
        if let Some(total) = socket_drops(&text, inode) {
            let new = total.saturating_sub(self.kernel_drops_seen);
            self.kernel_drops_seen = total;
            SourceStats::add(&self.stats.drops_socket_buffer, new);
        }
    }
}

fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_secs_nanos(d.as_secs(), d.subsec_nanos())
}

/// The `drops` column of the socket with this inode in a `/proc/net/udp` table: the columns are
/// `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops`.
fn socket_drops(table: &str, inode: u64) -> Option<u64> {
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_ascii_whitespace().collect();
        let this = cols.get(9)?.parse::<u64>().ok()?;
        if this != inode {
            return None;
        }
        cols.last()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_column_of_the_right_socket() {
        let table = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
          417: 00000000:12B5 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5551 2 0000000000000000 0\n\
          418: 0100007F:17C1 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 7777 2 0000000000000000 31\n";
        assert_eq!(socket_drops(table, 7777), Some(31));
        assert_eq!(socket_drops(table, 5551), Some(0));
        assert_eq!(socket_drops(table, 1), None);
        assert_eq!(socket_drops("", 1), None);
        assert_eq!(socket_drops("header\n1: short line\n", 1), None);
    }

    /// Datagrams sent on loopback come back as frames, in order, with their bytes; the source
    /// waits no longer than asked when nothing comes.
    #[test]
    fn loopback_datagrams_become_frames() -> Result<(), Box<dyn std::error::Error>> {
        // recv_from, and recvmmsg with more slots than datagrams and with fewer (7 < 10 < 2×7).
        for per_call in [1, 7, 16] {
            let mut cfg = TunnelConfig::new(TunnelProtocol::Geneve);
            cfg.listen = "127.0.0.1:0".parse()?;
            cfg.datagrams_per_call = per_call;
            cfg.max_batch = 8;
            let mut listener = TunnelListener::bind(cfg)?;
            let to = listener.local_addr()?;
            let mut batch = FrameBatch::default();
            let started = Instant::now();
            assert_eq!(
                listener.next_batch(Duration::from_millis(50), &mut batch)?,
                0
            );
            assert!(started.elapsed() < Duration::from_secs(2));

            let sender = UdpSocket::bind("127.0.0.1:0")?;
            for i in 0..10u8 {
                sender.send_to(&vec![i; 100 + usize::from(i)], to)?;
            }
            let mut got = Vec::new();
            while got.len() < 10 && started.elapsed() < Duration::from_secs(5) {
                let n = listener.next_batch(Duration::from_millis(100), &mut batch)?;
                assert!(n <= 8, "batch cap exceeded: {n}");
                got.extend(batch.iter().map(|f| (f.link, f.data.to_vec(), f.orig_len)));
            }
            let want: Vec<_> = (0..10u8)
                .map(|i| {
                    (
                        LinkType::Geneve,
                        vec![i; 100 + usize::from(i)],
                        100 + u32::from(i),
                    )
                })
                .collect();
            assert_eq!(got, want, "{per_call} per call");
            let s = listener.stats().snapshot();
            assert_eq!((s.packets, s.bytes), (10, 1045), "{per_call} per call");
        }
        Ok(())
    }

    /// A receive buffer too small for a burst: the kernel drops, and the drops are read back
    /// from /proc/net/udp into the statistics, exactly.
    #[test]
    fn receive_buffer_drops_are_counted() -> Result<(), Box<dyn std::error::Error>> {
        let mut cfg = TunnelConfig::new(TunnelProtocol::Vxlan);
        cfg.listen = "127.0.0.1:0".parse()?;
        cfg.recv_buffer = 4096;
        let mut listener = TunnelListener::bind(cfg)?;
        let to = listener.local_addr()?;
        let sender = UdpSocket::bind("127.0.0.1:0")?;
        let sent = 2000u64;
        for _ in 0..sent {
            sender.send_to(&[0x08; 200], to)?;
        }
        let mut batch = FrameBatch::default();
        let mut received = 0u64;
        let deadline = Instant::now() + Duration::from_secs(5);
        // Read what the buffer held, then until the once-a-second drop reading has happened.
        while Instant::now() < deadline {
            received += listener.next_batch(Duration::from_millis(100), &mut batch)? as u64;
            if listener.stats().snapshot().drops_socket_buffer > 0 {
                break;
            }
        }
        let s = listener.stats().snapshot();
        assert!(s.drops_socket_buffer > 0, "{s:?}");
        assert_eq!(received, s.packets);
        assert_eq!(s.packets + s.drops_socket_buffer, sent, "{s:?}");
        Ok(())
    }
}
