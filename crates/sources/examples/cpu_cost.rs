//! CPU time per packet of the frame sources, measured on the reading thread only
//! (`getrusage(RUSAGE_THREAD)`: user + system, so the kernel's share of `recvfrom` and of ring
//! reads is included; the sender's CPU is not).
//!
//! ```sh
//! # VXLAN listener: this program sends the frames of a capture, wrapped in VXLAN, over loopback.
//! # The last argument: datagrams per system call (1: recv_from; more: recvmmsg).
//! cargo run --release -p periscope-sources --example cpu_cost -- udp tests/data/sample.pcap 200 1
//! # AF_PACKET: capture on IFACE until PACKETS packets arrived or SECONDS passed (replay with
//! # tcpreplay on the peer of a veth pair; see crates/sources/bench-cpu.sh).
//! cargo run --release -p periscope-sources --example cpu_cost -- interface IFACE PACKETS SECONDS [decode]
//! ```
//!
//! Each line reports the source alone and the source plus `periscope_decode::Decoder`.

use periscope_decode::Decoder;
use periscope_sources::{
    FrameBatch, FrameSource, InterfaceConfig, InterfaceSource, TunnelConfig, TunnelListener,
    TunnelProtocol,
};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

/// CPU time of the calling thread.
fn thread_cpu() -> Result<Duration, Error> {
    let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_THREAD)?;
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::new(t.tv_sec().max(0) as u64, (t.tv_usec().max(0) as u32) * 1000)
    };
    Ok(tv(u.user_time()) + tv(u.system_time()))
}

/// Reads `source` until `want` frames or `limit`; returns (frames, bytes, thread CPU).
fn measure(
    source: &mut dyn FrameSource,
    want: u64,
    limit: Duration,
    decode: bool,
) -> Result<(u64, u64, Duration), Error> {
    let mut batch = FrameBatch::with_capacity(4096, 4 << 20);
    let mut decoder = Decoder::default();
    let (mut frames, mut bytes) = (0u64, 0u64);
    let deadline = Instant::now() + limit;
    let mut started: Option<Duration> = None;
    while frames < want && Instant::now() < deadline {
        let n = source.next_batch(Duration::from_millis(200), &mut batch)?;
        if n == 0 {
            continue;
        }
        // The clock starts at the first packet, so waiting for the sender is not counted.
        if started.is_none() {
            started = Some(thread_cpu()?);
        }
        for f in batch.iter() {
            if decode {
                let _ = decoder.decode(&f);
            }
            bytes += f.data.len() as u64;
        }
        frames += n as u64;
    }
    let cpu = thread_cpu()? - started.unwrap_or_default();
    Ok((frames, bytes, cpu))
}

fn report(what: &str, frames: u64, bytes: u64, cpu: Duration, drops: u64) {
    let per = if frames > 0 {
        cpu.as_nanos() as f64 / frames as f64
    } else {
        0.0
    };
    println!(
        "{what}: {frames} packets, {bytes} bytes, {:.3} s CPU, {per:.0} ns CPU/packet, {drops} dropped",
        cpu.as_secs_f64()
    );
}

fn udp(capture: &str, rounds: usize, per_call: usize) -> Result<(), Error> {
    let mut reader = periscope_capture::open(std::path::Path::new(capture))?;
    let mut datagrams = Vec::new();
    while let Some(f) = reader.next_frame()? {
        // VXLAN header: flags (VNI valid), reserved, VNI 42, reserved; then the Ethernet frame.
        let mut d = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
        d.extend_from_slice(f.data);
        datagrams.push(d);
    }
    for decode in [false, true] {
        let mut cfg = TunnelConfig::new(TunnelProtocol::Vxlan);
        cfg.listen = "127.0.0.1:0".parse()?;
        cfg.datagrams_per_call = per_call;
        let mut listener = TunnelListener::bind(cfg)?;
        let to = listener.local_addr()?;
        let total = (datagrams.len() * rounds) as u64;
        let sent = datagrams.clone();
        let sender = std::thread::spawn(move || -> std::io::Result<()> {
            let s = UdpSocket::bind("127.0.0.1:0")?;
            for round in 0..rounds {
                for d in &sent {
                    s.send_to(d, to)?;
                }
                // Pace a little so the measurement is of reading, not of dropping.
                if round % 4 == 3 {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            Ok(())
        });
        let (frames, bytes, cpu) = measure(&mut listener, total, Duration::from_secs(30), decode)?;
        sender.join().map_err(|_| "sender panicked")??;
        std::thread::sleep(Duration::from_millis(1100));
        let mut batch = FrameBatch::default();
        let _ = listener.next_batch(Duration::ZERO, &mut batch);
        let drops = listener.stats().snapshot().drops_socket_buffer;
        let what = format!(
            "udp vxlan, {per_call} per call{}",
            if decode { " + decode" } else { "" }
        );
        report(&what, frames, bytes, cpu, drops);
    }
    Ok(())
}

fn interface(name: &str, packets: u64, seconds: u64, decode: bool) -> Result<(), Error> {
    {
        let mut source = InterfaceSource::open(InterfaceConfig::new(name))?;
        println!("ready: capturing on {name}");
        let (frames, bytes, cpu) =
            measure(&mut source, packets, Duration::from_secs(seconds), decode)?;
        std::thread::sleep(Duration::from_millis(1100));
        let mut batch = FrameBatch::default();
        let _ = source.next_batch(Duration::from_millis(1), &mut batch);
        let drops = source.stats().snapshot().drops_kernel;
        let what = if decode {
            "af_packet + decode"
        } else {
            "af_packet"
        };
        report(what, frames, bytes, cpu, drops);
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(0) {
        "udp" => udp(
            arg(1),
            arg(2).parse().unwrap_or(100),
            arg(3).parse().unwrap_or(1),
        ),
        "interface" => interface(
            arg(1),
            arg(2).parse().unwrap_or(100_000),
            arg(3).parse().unwrap_or(30),
            arg(4) == "decode",
        ),
        _ => Err("usage: cpu_cost udp CAPTURE ROUNDS [PER_CALL] | cpu_cost interface IFACE PACKETS SECONDS [decode]".into()),
    }
}
