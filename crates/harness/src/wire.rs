//! The `wire` target: what an agent (or anyone who reaches the sensor's agent port) sends.

use periscope_agent::wire::{self, FrameReader, SensorSession};
use periscope_http::{HttpOutput, HttpTracker};
use periscope_model::{FlowId, StreamEvent};
use std::collections::HashMap;
use std::io::{self, Read, Write};

/// The token the sensor expects when the input does not bring its own.
const TOKEN: &[u8] = b"periscope-fuzz-token";
/// How many bytes one `read` returns, so frames and the hello arrive split in every way.
const CHUNKS: [usize; 8] = [1, 2, 3, 7, 26, 100, 1500, 65_536];

/// A connection that returns the input in chunks of a fixed size and swallows the acks.
struct Peer<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Peer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len());
        let (now, later) = self.data.split_at(n);
        buf[..n].copy_from_slice(now);
        self.data = later;
        Ok(n)
    }
}

impl Write for Peer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The first byte is a mode: bit 0 set makes the sensor expect the token the hello carries
/// (so frames are reached whatever it is), clear expects [`TOKEN`]; bits 1–3 pick the read
/// size. The rest is the connection as the agent writes it: hello, then frames.
///
/// The stream goes through [`SensorSession::serve`] into the HTTP tracker as the sensor wires
/// it (events in any order, for any flow), twice: as one session and as a resumed one, which
/// must deliver nothing again. Every
/// frame is also cut out with [`FrameReader`] and decoded on its own; a frame that decodes must
/// encode back to the same event.
pub fn wire(data: &[u8]) {
    let Some((&mode, stream)) = data.split_first() else {
        return;
    };
    let token = if mode & 1 == 1 {
        hello_token(stream).unwrap_or(TOKEN)
    } else {
        TOKEN
    };
    let chunk = CHUNKS[usize::from((mode >> 1) & 7)];

    let mut http = HttpTracker::new(Default::default());
    let mut sink = |_: HttpOutput| {};
    let mut prior = HashMap::new();
    let mut delivered = [0u64; 2];
    for count in &mut delivered {
        let mut peer = Peer {
            data: stream,
            chunk,
        };
        let _ = SensorSession::serve(
            &mut peer,
            token,
            &mut prior,
            &mut |flow: FlowId, ev: StreamEvent<'_>| {
                *count += 1;
                http.on_event(flow, ev, &mut sink)
            },
        );
    }
    http.finish(&mut sink);
    // The same connection again is a resume of a session whose frames were all delivered.
    assert_eq!(
        delivered[1], 0,
        "a resumed session delivered {} events twice",
        delivered[1]
    );

    let frames = stream.get(hello_len(stream).unwrap_or(0)..).unwrap_or(&[]);
    let mut reader = FrameReader::default();
    for piece in frames.chunks(chunk) {
        reader.feed(piece);
        while let Some(Ok(frame)) = reader.next_frame() {
            round_trip(frame);
        }
    }
}

/// A frame that decodes encodes back to an event that decodes the same.
fn round_trip(frame: &[u8]) {
    let Ok(event) = wire::decode(frame) else {
        return;
    };
    let (flow, ev) = event.as_stream_event();
    let mut encoded = Vec::new();
    wire::encode(&mut encoded, flow, &ev);
    let again = encoded.get(4..).map(wire::decode);
    assert_eq!(
        again,
        Some(Ok(event.clone())),
        "frame {frame:02x?} decoded to {event:?} but does not survive encode/decode"
    );
}

/// Length of the hello at the start of `stream`: magic, session, resume, token length, token.
fn hello_len(stream: &[u8]) -> Option<usize> {
    let len = stream.get(24..26)?;
    Some(26 + usize::from(u16::from_le_bytes([len[0], len[1]])))
}

/// The token the hello at the start of `stream` carries.
fn hello_token(stream: &[u8]) -> Option<&[u8]> {
    stream.get(26..hello_len(stream)?)
}
