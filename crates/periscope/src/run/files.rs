//! `type = "pcap"` with `files`: capture files read in order as one capture. Files wait for room
//! in the workers' queues (nothing is dropped), and their timestamps drive the pipelines'
//! clocks. (`directory` is watched by `periscope_sources::PcapDirSource`, see `live.rs`.)

use super::ingest::FrameIngest;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Reads `files` in order; stops early when `stop` is set.
pub fn read_files(files: &[PathBuf], ingest: &mut FrameIngest, stop: &AtomicBool) {
    for path in files {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        read_one(path, ingest, stop);
    }
    ingest.report_malformed();
}

/// Reads one file; a damaged file is reported and what was read before the damage is kept.
fn read_one(path: &Path, ingest: &mut FrameIngest, stop: &AtomicBool) {
    let mut reader = match periscope_capture::open(path) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(file = %path.display(), error = %e, "capture file unreadable; skipped");
            return;
        }
    };
    let mut frames = 0u64;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                frames += 1;
                ingest.frame(&frame);
                if frames.is_multiple_of(4096) && stop.load(Ordering::Relaxed) {
                    tracing::info!(file = %path.display(), frames, "stopped reading at shutdown");
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(file = %path.display(), frames, error = %e,
                    "capture file damaged; kept the frames read before it");
                break;
            }
        }
    }
    ingest.flush();
    tracing::info!(file = %path.display(), frames, "capture file read");
}

/// Sleeps `d` in short steps so that shutdown is not delayed.
pub fn sleep_unless_stopped(d: std::time::Duration, stop: &AtomicBool) {
    let step = std::time::Duration::from_millis(100);
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}
