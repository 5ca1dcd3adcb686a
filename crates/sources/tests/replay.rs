//! Captures replayed by `tcpreplay` onto one end of a veth pair come out of the `interface`
//! source on the other end byte for byte, including 802.1Q and QinQ tags, which the kernel's
//! receive path moves into the packet metadata and the source writes back. Needs root, `ip`,
//! `nsenter` and `tcpreplay`; skips with a printed reason otherwise.

mod common;

use common::*;
use periscope_sources::{FrameBatch, InterfaceConfig, InterfaceSource, OwnedFrame};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// True when `want` appears in `got` in order (other frames, e.g. the kernel's own, may be
/// interleaved).
fn in_order_subsequence(want: &[OwnedFrame], got: &[OwnedFrame]) -> Result<(), String> {
    let mut it = got.iter();
    for (i, w) in want.iter().enumerate() {
        if !it.any(|g| g.data == w.data) {
            return Err(format!(
                "file frame {i} ({} bytes) not captured (in order)",
                w.data.len()
            ));
        }
    }
    Ok(())
}

#[test]
fn replayed_captures_come_back_byte_for_byte() -> TestResult {
    if let Some(why) = skip_reason(&["ip", "nsenter", "tcpreplay"]) {
        eprintln!("SKIP replayed_captures_come_back_byte_for_byte: {why}");
        return Ok(());
    }
    let ns = match Namespaces::create(&["r"]) {
        Ok(ns) => ns,
        Err(e) => {
            eprintln!("SKIP replayed_captures_come_back_byte_for_byte: cannot create netns: {e}");
            return Ok(());
        }
    };
    let r = ns.name(0);
    // MTU 9000: a full-size frame with two tags is 1522 bytes, more than a 1500 veth accepts.
    in_ns(
        r,
        "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
         && ip link add ra type veth peer name rb && ip link set ra mtu 9000 up && ip link set rb mtu 9000 up",
    )?;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data");
    for file in ["sample.pcap", "link-vlan.pcap", "link-qinq.pcap"] {
        let path = data.join(file);
        let want = read_capture(&path)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let (ready_tx, ready_rx) = mpsc::channel();
        let capture = thread_in_ns(r, move || -> Result<Vec<OwnedFrame>, String> {
            let mut source =
                InterfaceSource::open(InterfaceConfig::new("rb")).map_err(|e| e.to_string())?;
            let _ = ready_tx.send(());
            let mut batch = FrameBatch::default();
            let mut frames = Vec::new();
            while !stop2.load(Relaxed) {
                source
                    .next_batch(Duration::from_millis(50), &mut batch)
                    .map_err(|e| e.to_string())?;
                frames.extend(batch.iter().map(|f| OwnedFrame::from_frame(&f)));
            }
            Ok(frames)
        })?;
        ready_rx.recv_timeout(Duration::from_secs(10))?;
        in_ns(
            r,
            &format!("tcpreplay -q --topspeed -i ra {}", path.display()),
        )?;
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Relaxed);
        let got = capture
            .join()
            .map_err(|_| "capture thread panicked")?
            .and_then(|r| r)?;
        in_order_subsequence(&want, &got).map_err(|e| format!("{file}: {e}"))?;
        let (want_segs, _) = decode_owned(&want);
        let (got_segs, _) = decode_owned(&got);
        assert_eq!(want_segs.len(), got_segs.len(), "{file}");
        eprintln!(
            "{file}: {} frames replayed, {} captured",
            want.len(),
            got.len()
        );
    }
    Ok(())
}
