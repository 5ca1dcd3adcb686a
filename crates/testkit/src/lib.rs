//! Capture files → exchanges through the bare stages (capture → decode → reassemble → http),
//! for the tests, examples and fuzz entry points that need the exchanges of a recording. The
//! binary's `Pipeline` adds coverage and the analysers on top of the same stages.

use periscope_capture::CaptureReader;
use periscope_decode::{Decoded, Decoder};
use periscope_http::{HttpOutput, HttpTracker};
use periscope_model::{Exchange, FlowId, StreamEvent};
use periscope_reassemble::Reassembler;
use std::error::Error;
use std::path::Path;

/// Reads at most `max_frames` frames of `reader` through the stages with their default
/// settings, showing every stream event to `on_event` and handing every HTTP output to `sink`;
/// then finishes every flow. A read error stops the reading, not the finishing, and is returned.
pub fn run(
    reader: &mut CaptureReader,
    max_frames: usize,
    on_event: &mut impl FnMut(FlowId, &StreamEvent<'_>),
    sink: &mut impl FnMut(HttpOutput),
) -> Result<(), Box<dyn Error>> {
    let mut decoder = Decoder::new(Default::default())?;
    let mut reassembler = Reassembler::new(Default::default());
    let mut http = HttpTracker::new(Default::default());
    let mut result = Ok(());
    for _ in 0..max_frames {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                result = Err(e.into());
                break;
            }
        };
        let ts = frame.ts;
        let mut each = |flow: FlowId, ev: StreamEvent<'_>| {
            on_event(flow, &ev);
            http.on_event(flow, ev, sink)
        };
        if let Decoded::Tcp(segment) = decoder.decode(&frame) {
            reassembler.process(&segment, &mut each);
        }
        reassembler.advance(ts, &mut each);
        http.advance(ts, sink);
    }
    reassembler.finish(&mut |flow: FlowId, ev: StreamEvent<'_>| {
        on_event(flow, &ev);
        http.on_event(flow, ev, sink)
    });
    http.finish(sink);
    result
}

/// Every exchange of a capture file, in the order the HTTP tracker emits them.
pub fn exchanges(path: &Path) -> Result<Vec<Exchange>, Box<dyn Error>> {
    let mut reader = periscope_capture::open(path)?;
    let mut out = Vec::new();
    run(&mut reader, usize::MAX, &mut |_, _| {}, &mut |o| {
        if let HttpOutput::Exchange(ex) = o {
            out.push(*ex);
        }
    })?;
    Ok(out)
}
