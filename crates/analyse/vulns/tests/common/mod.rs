//! Capture files → exchanges, through the real pipeline stages (capture, decode, reassemble,
//! http), for the integration tests and the throughput example.

#![allow(dead_code)]

use periscope_decode::{Decoded, Decoder};
use periscope_http::{HttpOutput, HttpTracker};
use periscope_model::{Exchange, FlowId, StreamEvent};
use periscope_reassemble::Reassembler;
use std::path::Path;

/// Every exchange of a capture file, in the order the HTTP tracker emits them.
pub fn exchanges(path: &Path) -> Result<Vec<Exchange>, Box<dyn std::error::Error>> {
    let mut reader = periscope_capture::open(path)?;
    let mut decoder = Decoder::new(Default::default())?;
    let mut reassembler = Reassembler::new(Default::default());
    let mut http = HttpTracker::new(Default::default());
    let mut out = Vec::new();
    let mut sink = |o: HttpOutput| {
        if let HttpOutput::Exchange(x) = o {
            out.push(*x);
        }
    };
    while let Some(frame) = reader.next_frame()? {
        let ts = frame.ts;
        if let Decoded::Tcp(segment) = decoder.decode(&frame) {
            reassembler.process(&segment, &mut |flow: FlowId, ev: StreamEvent<'_>| {
                http.on_event(flow, ev, &mut sink)
            });
        }
        reassembler.advance(ts, &mut |flow: FlowId, ev: StreamEvent<'_>| {
            http.on_event(flow, ev, &mut sink)
        });
        http.advance(ts, &mut sink);
    }
    reassembler.finish(&mut |flow: FlowId, ev: StreamEvent<'_>| http.on_event(flow, ev, &mut sink));
    http.finish(&mut sink);
    Ok(out)
}

/// The workspace's `tests/data` folder.
pub fn workspace_data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/data")
}

/// This crate's `tests/data` folder (the vulnapp recordings).
pub fn crate_data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}
