//! The one error type of the capture crate.

use thiserror::Error;

/// Why a capture cannot be read (further). Offsets are byte offsets in the decompressed
/// stream, i.e. in the file itself unless it was gzip-compressed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The path as given.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The input is neither pcap nor pcapng (after gzip decompression, when compressed).
    #[error("not a pcap or pcapng file{}: starts with {}", if *compressed { " (after gzip decompression)" } else { "" }, hex(first_bytes))]
    NotACapture {
        /// Whether the input was gzip-compressed.
        compressed: bool,
        /// Its first bytes (at most 4).
        first_bytes: Vec<u8>,
    },
    /// The file ends in the middle of a header, record or block.
    #[error("truncated {what} at offset {offset}: {have} of {need} bytes")]
    Truncated {
        /// Where the incomplete item starts.
        offset: u64,
        /// Which item ("packet record", "pcapng block", ...).
        what: &'static str,
        /// Bytes present.
        have: u64,
        /// Bytes the item needs.
        need: u64,
    },
    /// A record or block announces a length beyond the accepted maximum.
    #[error("{what} at offset {offset} claims {len} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Where the record starts.
        offset: u64,
        /// Which item.
        what: &'static str,
        /// The announced length.
        len: u64,
        /// The limit.
        limit: u32,
    },
    /// A structure is inconsistent.
    #[error("corrupt capture at offset {offset}: {what}")]
    Corrupt {
        /// Where the broken item starts.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// Reading (or decompressing) the input failed.
    #[error("read error at offset {offset}: {message}")]
    Read {
        /// Offset of the item being read.
        offset: u64,
        /// The I/O or decompression error.
        message: String,
    },
}

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing (empty input)".to_string();
    }
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
