//! Periscope's capture stage: capture files in, borrowed [`Frame`]s out.
//!
//! **Owns:** reading pcap (microsecond and nanosecond magic, both byte orders, and the
//! "modified" Kuznetzov variant) and pcapng (any number of sections and interfaces, each with
//! its own link type, snap length, `if_tsresol` and `if_tsoffset`; Enhanced and Simple Packet
//! Blocks; every other block is skipped and counted), optionally gzip-compressed (detected by
//! magic, multi-member gzip allowed). Parsing is done by the `pcap-parser` streaming readers.
//!
//! **Input:** a path ([`open`]) or any [`std::io::Read`] ([`CaptureReader::from_reader`]).
//! **Output:** [`Frame`]s lent by [`CaptureReader::next_frame`] from one reusable buffer; a
//! frame is valid until the next call (borrow, don't copy: see `STYLE.md` habit 2).
//!
//! **Limits and failure behaviour:**
//! - A record or block larger than [`MAX_RECORD_LEN`] is an error, never an allocation.
//! - A truncated or corrupt file yields every frame before the damage, then one
//!   [`CaptureError`] naming the (decompressed) file offset and what was wrong; after an error
//!   the reader is finished and returns `Ok(None)`, so a caller loop cannot spin.
//! - Input that is not a capture at all is [`CaptureError::NotACapture`].
//! - At most [`MAX_INTERFACES`] interfaces per pcapng section are remembered; packets of
//!   interfaces beyond that (or of undeclared interfaces) are skipped and counted.
//! - Simple Packet Blocks carry no timestamp: they get the last timestamp seen (or 0).
//!
//! ```no_run
//! # fn main() -> Result<(), periscope_capture::CaptureError> {
//! let mut reader = periscope_capture::open(std::path::Path::new("traffic.pcapng.gz"))?;
//! while let Some(frame) = reader.next_frame()? {
//!     println!("{:?} {} bytes", frame.link, frame.data.len());
//! }
//! println!("{:?}", reader.stats());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod io;
#[cfg(test)]
mod tests;

pub use error::CaptureError;

use crate::io::{ReadCounter, ReadErrorSlot};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Block, LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};
use periscope_model::{Frame, LinkType, Timestamp};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Largest packet record (pcap record, pcapng packet block) accepted: 256 KiB. Real frames are
/// at most 64 KiB (even with TSO/GRO captures rarely exceed that); a larger length is corruption.
pub const MAX_RECORD_LEN: u32 = 256 * 1024;

/// Largest non-packet pcapng block accepted (name resolution, statistics, custom blocks).
pub const MAX_BLOCK_LEN: u32 = 256 * 1024;

/// Interfaces remembered per pcapng section; more are counted in
/// [`CaptureStats::interfaces_over_cap`] and their packets skipped.
pub const MAX_INTERFACES: usize = 1024;

/// Reader buffer size: the largest accepted block must always fit after a shift, with room to
/// spare so that refills are not too frequent.
const BUFFER_CAPACITY: usize = 2 * MAX_BLOCK_LEN as usize + 128 * 1024;

/// Length of the pcap file header and of a pcap record header.
const PCAP_FILE_HEADER_LEN: usize = 24;
const PCAP_RECORD_HEADER_LEN: usize = 16;
const PCAP_MODIFIED_RECORD_HEADER_LEN: usize = 24;

/// Offsets inside pcapng packet blocks.
const EPB_DATA_OFFSET: usize = 28;
const SPB_DATA_OFFSET: usize = 12;

const SHB_TYPE: u32 = 0x0A0D_0D0A;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Which file format the reader found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap file.
    Pcap {
        /// Timestamps are nanoseconds (magic `a1b23c4d`) rather than microseconds.
        nanos: bool,
        /// The file was written big-endian.
        big_endian: bool,
    },
    /// pcapng.
    PcapNg,
}

/// Counters for one capture file, for progress output and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames returned.
    pub frames: u64,
    /// Captured bytes in the frames returned.
    pub frame_bytes: u64,
    /// Frames whose captured length is below the original length (snap length cut).
    pub frames_cut: u64,
    /// pcapng blocks that carry no packet (section headers, interface descriptions,
    /// statistics, name resolution, custom, unknown) and were skipped.
    pub skipped_blocks: u64,
    /// pcapng sections seen.
    pub sections: u64,
    /// pcapng interfaces declared.
    pub interfaces: u64,
    /// Interfaces beyond [`MAX_INTERFACES`] in one section (ignored).
    pub interfaces_over_cap: u64,
    /// Packets referring to an interface that was not declared (or was over the cap): skipped.
    pub unknown_interface: u64,
    /// Records whose captured length exceeded their original length (the original length is
    /// then reported as the captured length).
    pub caplen_over_origlen: u64,
}

/// What the reader knows about one pcapng interface.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    /// Timestamp units per second (from `if_tsresol`).
    units_per_sec: u64,
    /// `if_tsoffset`, seconds.
    offset_secs: i64,
    /// 0 = unlimited.
    snaplen: u32,
}

enum Inner {
    Legacy {
        reader: LegacyPcapReader<Box<dyn Read + Send>>,
        link: LinkType,
        nanos: bool,
        big_endian: bool,
        modified: bool,
    },
    Ng {
        reader: PcapNGReader<Box<dyn Read + Send>>,
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Where the packet bytes of the block at the front of the buffer are.
struct Pending {
    ts: Timestamp,
    link: LinkType,
    data_offset: usize,
    caplen: usize,
    orig_len: u32,
}

/// Streaming reader over one capture. See the crate docs for limits.
pub struct CaptureReader {
    inner: Inner,
    /// Bytes of the previously returned block, consumed at the next call (the frame borrowed
    /// the buffer until then).
    to_consume: usize,
    counter: ReadCounter,
    read_error: ReadErrorSlot,
    compressed: bool,
    finished: bool,
    last_ts: Timestamp,
    stats: CaptureStats,
}

/// Opens a capture file (pcap or pcapng, plain or gzip).
pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
    let file = File::open(path).map_err(|source| CaptureError::Open {
        path: path.display().to_string(),
        source,
    })?;
    CaptureReader::from_reader(file)
}

impl CaptureReader {
    /// Builds a reader over any byte source. Detects gzip, then pcap vs pcapng, and reads the
    /// file header; fails with [`CaptureError::NotACapture`] for anything else.
    pub fn from_reader(source: impl Read + Send + 'static) -> Result<CaptureReader, CaptureError> {
        let read_error = ReadErrorSlot::default();
        let counter = ReadCounter::default();
        let mut raw = io::Counting::new(source, counter.clone(), read_error.clone());
        let mut magic = [0u8; 4];
        let n = io::read_full(&mut raw, &mut magic).map_err(|e| CaptureError::Read {
            offset: 0,
            message: e.to_string(),
        })?;
        let raw = std::io::Cursor::new(magic[..n].to_vec()).chain(raw);
        let compressed = n >= 2 && magic[..2] == GZIP_MAGIC;
        let stream: Box<dyn Read + Send> = if compressed {
            let gz = flate2::read::MultiGzDecoder::new(raw);
            Box::new(io::FullRead::new(io::Recording::new(
                gz,
                read_error.clone(),
            )))
        } else {
            Box::new(io::FullRead::new(raw))
        };
        // Peek at the (decompressed) magic to pick the format and word the error.
        let mut stream = stream;
        let mut head = [0u8; PCAP_FILE_HEADER_LEN];
        let n = io::read_full(&mut stream, &mut head).map_err(|e| CaptureError::Read {
            offset: 0,
            message: e.to_string(),
        })?;
        let head = head.get(..n).unwrap_or(&[]);
        let stream: Box<dyn Read + Send> = Box::new(io::FullRead::new(
            std::io::Cursor::new(head.to_vec()).chain(stream),
        ));
        let first = head
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let inner = match first {
            Some(SHB_TYPE) => {
                let reader = PcapNGReader::from_buffer(empty_buffer(), stream)
                    .map_err(|e| header_error(&e, "pcapng section header", n, &read_error))?;
                let big_endian = head.get(8..12) == Some(&[0x1A, 0x2B, 0x3C, 0x4D][..]);
                Inner::Ng {
                    reader,
                    big_endian,
                    interfaces: Vec::new(),
                }
            }
            Some(0xa1b2_c3d4 | 0xa1b2_3c4d | 0xa1b2_cd34 | 0xd4c3_b2a1 | 0x4d3c_b2a1) => {
                let reader = LegacyPcapReader::from_buffer(empty_buffer(), stream)
                    .map_err(|e| header_error(&e, "pcap file header", n, &read_error))?;
                // The reader validated the header, so all 24 bytes are here; the first next()
                // returns the same header again and sets the same values.
                let h = legacy_header(head);
                Inner::Legacy {
                    reader,
                    link: h.link,
                    nanos: h.nanos,
                    big_endian: h.big_endian,
                    modified: h.modified,
                }
            }
            _ => {
                return Err(CaptureError::NotACapture {
                    compressed,
                    first_bytes: head.iter().take(4).copied().collect(),
                })
            }
        };
        Ok(CaptureReader {
            inner,
            to_consume: 0,
            counter,
            read_error,
            compressed,
            finished: false,
            last_ts: Timestamp::default(),
            stats: CaptureStats::default(),
        })
    }

    /// Bytes read from the underlying source so far (compressed bytes for gzip input), for a
    /// progress bar against the file size.
    pub fn bytes_read(&self) -> u64 {
        self.counter.get()
    }

    /// Counters so far.
    pub fn stats(&self) -> &CaptureStats {
        &self.stats
    }

    /// Whether the input was gzip-compressed.
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// The file format (for pcap, the flavour is known after the first `next_frame`).
    pub fn format(&self) -> CaptureFormat {
        match &self.inner {
            Inner::Legacy {
                nanos, big_endian, ..
            } => CaptureFormat::Pcap {
                nanos: *nanos,
                big_endian: *big_endian,
            },
            Inner::Ng { .. } => CaptureFormat::PcapNg,
        }
    }

    /// The link type of every frame of a pcap file; `None` for pcapng, where each interface
    /// has its own (see [`Frame::link`]).
    pub fn link_type(&self) -> Option<LinkType> {
        match &self.inner {
            Inner::Legacy { link, .. } => Some(*link),
            Inner::Ng { .. } => None,
        }
    }

    /// Returns the next frame, `Ok(None)` at the end of the file, or an error describing where
    /// and how the file is damaged. After an error every later call returns `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        match self.advance() {
            Ok(Some(p)) => {
                let end = p.data_offset + p.caplen;
                if end > self.block_bytes().len() {
                    // advance() took the lengths from the parsed block; reaching this means the
                    // two disagree, which is a reader bug, reported rather than a panic.
                    self.finished = true;
                    return Err(CaptureError::Corrupt {
                        offset: self.offset(),
                        what: "packet data outside its block".into(),
                    });
                }
                self.stats.frames += 1;
                self.stats.frame_bytes += p.caplen as u64;
                if (p.caplen as u64) < u64::from(p.orig_len) {
                    self.stats.frames_cut += 1;
                }
                let data = self.block_bytes().get(p.data_offset..end).unwrap_or(&[]);
                Ok(Some(Frame {
                    ts: p.ts,
                    link: p.link,
                    data,
                    orig_len: p.orig_len,
                }))
            }
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(e) => {
                self.finished = true;
                Err(e)
            }
        }
    }

    /// Offset in the (decompressed) stream of the block at the front of the buffer.
    fn offset(&self) -> u64 {
        match &self.inner {
            Inner::Legacy { reader, .. } => reader.consumed() as u64,
            Inner::Ng { reader, .. } => reader.consumed() as u64,
        }
    }

    fn block_bytes(&self) -> &[u8] {
        match &self.inner {
            Inner::Legacy { reader, .. } => reader.data(),
            Inner::Ng { reader, .. } => reader.data(),
        }
    }

    /// Moves to the next packet block, leaving it at the front of the reader's buffer.
    fn advance(&mut self) -> Result<Option<Pending>, CaptureError> {
        let pending = std::mem::take(&mut self.to_consume);
        match &mut self.inner {
            Inner::Legacy { reader, .. } => reader.consume(pending),
            Inner::Ng { reader, .. } => reader.consume(pending),
        }
        // Each refill either adds bytes or marks the source exhausted, after which the reader
        // answers UnexpectedEof/Eof; the guard below catches a refill that does neither.
        let mut stalled_refills = 0u32;
        loop {
            self.check_front()?;
            let offset = self.offset();
            let step = match &mut self.inner {
                Inner::Legacy {
                    reader,
                    link,
                    nanos,
                    big_endian,
                    modified,
                } => legacy_step(
                    reader.next(),
                    link,
                    nanos,
                    big_endian,
                    modified,
                    &mut self.last_ts,
                ),
                Inner::Ng {
                    reader,
                    big_endian,
                    interfaces,
                } => ng_step(
                    reader.next(),
                    big_endian,
                    interfaces,
                    &mut self.stats,
                    &mut self.last_ts,
                ),
            };
            match step {
                Step::Packet(consumed, p) => {
                    self.to_consume = consumed;
                    if p.caplen as u64 > u64::from(p.orig_len) {
                        self.stats.caplen_over_origlen += 1;
                    }
                    let orig_len = p.orig_len.max(p.caplen as u32);
                    return Ok(Some(Pending { orig_len, ..p }));
                }
                Step::Skip(consumed) => {
                    match &mut self.inner {
                        Inner::Legacy { reader, .. } => reader.consume(consumed),
                        Inner::Ng { reader, .. } => reader.consume(consumed),
                    }
                    stalled_refills = 0;
                }
                Step::UnknownInterface(consumed) => {
                    self.stats.unknown_interface += 1;
                    match &mut self.inner {
                        Inner::Legacy { reader, .. } => reader.consume(consumed),
                        Inner::Ng { reader, .. } => reader.consume(consumed),
                    }
                    stalled_refills = 0;
                }
                Step::Eof => return Ok(None),
                Step::NeedMore => {
                    let before = self.block_bytes().len();
                    let r = match &mut self.inner {
                        Inner::Legacy { reader, .. } => {
                            reader.refill().map_err(|e| e.to_owned_vec())
                        }
                        Inner::Ng { reader, .. } => reader.refill().map_err(|e| e.to_owned_vec()),
                    };
                    if r.is_err() {
                        return Err(self.read_failure(offset));
                    }
                    if self.block_bytes().len() == before {
                        stalled_refills += 1;
                        if stalled_refills > 2 {
                            return Err(self.truncation(offset));
                        }
                    }
                }
                Step::Truncated => return Err(self.truncation(offset)),
                Step::ReadError => return Err(self.read_failure(offset)),
                Step::Corrupt(what) => return Err(CaptureError::Corrupt { offset, what }),
            }
        }
    }

    /// Checks the length field of the record at the front of the buffer before the parser
    /// sees it, so an absurd length is reported as such instead of as "buffer too small".
    fn check_front(&self) -> Result<(), CaptureError> {
        let data = self.block_bytes();
        let offset = self.offset();
        match &self.inner {
            Inner::Legacy {
                big_endian,
                modified,
                ..
            } => {
                if offset == 0 {
                    return Ok(()); // file header, already validated
                }
                let Some(caplen) = read_u32(data, 8, *big_endian && !*modified) else {
                    return Ok(());
                };
                if caplen > MAX_RECORD_LEN {
                    return Err(CaptureError::TooLarge {
                        offset,
                        what: "packet record",
                        len: u64::from(caplen),
                        limit: MAX_RECORD_LEN,
                    });
                }
            }
            Inner::Ng { big_endian, .. } => {
                let Some(block_type) = read_u32(data, 0, *big_endian) else {
                    return Ok(());
                };
                let be = if block_type == SHB_TYPE {
                    // A new section may switch byte order: its byte-order magic decides.
                    match data.get(8..12) {
                        Some(bom) => bom == [0x1A, 0x2B, 0x3C, 0x4D],
                        None => return Ok(()),
                    }
                } else {
                    *big_endian
                };
                let Some(len) = read_u32(data, 4, be) else {
                    return Ok(());
                };
                let is_packet = matches!(block_type, 3 | 6);
                let limit = if is_packet {
                    MAX_RECORD_LEN + 64
                } else {
                    MAX_BLOCK_LEN
                };
                if len > limit {
                    return Err(CaptureError::TooLarge {
                        offset,
                        what: if is_packet {
                            "packet block"
                        } else {
                            "pcapng block"
                        },
                        len: u64::from(len),
                        limit,
                    });
                }
                if len < 12 || len % 4 != 0 {
                    return Err(CaptureError::Corrupt {
                        offset,
                        what: format!(
                            "pcapng block of type {block_type:#x} has invalid length {len}"
                        ),
                    });
                }
                // An Enhanced Packet Block whose captured length overruns the block would make
                // the parser wait for more data forever: name it here.
                if block_type == 6 {
                    if let Some(caplen) = read_u32(data, 20, be) {
                        if u64::from(caplen) + 32 > u64::from(len) {
                            return Err(CaptureError::Corrupt {
                                offset,
                                what: format!(
                                    "enhanced packet block captured length {caplen} exceeds its block length {len}"
                                ),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Describes what is missing at the end of the file.
    fn truncation(&self, offset: u64) -> CaptureError {
        let data = self.block_bytes();
        let have = data.len() as u64;
        let (what, need) = match &self.inner {
            Inner::Legacy {
                big_endian,
                modified,
                ..
            } => {
                let hdr = if *modified {
                    PCAP_MODIFIED_RECORD_HEADER_LEN
                } else {
                    PCAP_RECORD_HEADER_LEN
                };
                match read_u32(data, 8, *big_endian && !*modified) {
                    Some(caplen) if data.len() >= hdr => {
                        ("packet record", hdr as u64 + u64::from(caplen))
                    }
                    _ => ("packet record header", hdr as u64),
                }
            }
            Inner::Ng { big_endian, .. } => match read_u32(data, 4, *big_endian) {
                Some(len) => ("pcapng block", u64::from(len)),
                None => ("pcapng block header", 8),
            },
        };
        CaptureError::Truncated {
            offset,
            what,
            have,
            need,
        }
    }

    fn read_failure(&self, offset: u64) -> CaptureError {
        let message = self
            .read_error
            .take()
            .unwrap_or_else(|| "read failed".to_string());
        CaptureError::Read { offset, message }
    }
}

/// An empty reader buffer. `circular::Buffer::with_capacity` zero-fills by pushing one byte at
/// a time, which took ~30 ms per reader in debug builds (test suites open hundreds);
/// `from_slice` is a memcpy, and consuming everything leaves it empty.
fn empty_buffer() -> circular::Buffer {
    let mut b = circular::Buffer::from_slice(&vec![0u8; BUFFER_CAPACITY]);
    b.consume(BUFFER_CAPACITY);
    b
}

/// The flavour of a classic pcap file, from its 24-byte header.
struct LegacyHeader {
    link: LinkType,
    nanos: bool,
    big_endian: bool,
    modified: bool,
}

fn legacy_header(h: &[u8]) -> LegacyHeader {
    let magic = read_u32(h, 0, false).unwrap_or(0);
    let big_endian = matches!(magic, 0xd4c3_b2a1 | 0x4d3c_b2a1);
    let link = read_u32(h, 20, big_endian).unwrap_or(1) & 0xffff;
    LegacyHeader {
        link: LinkType::from_linktype(link),
        nanos: matches!(magic, 0xa1b2_3c4d | 0x4d3c_b2a1),
        big_endian,
        modified: magic == 0xa1b2_cd34,
    }
}

fn header_error(
    e: &PcapError<&'static [u8]>,
    what: &'static str,
    have: usize,
    slot: &ReadErrorSlot,
) -> CaptureError {
    match e {
        PcapError::ReadError => CaptureError::Read {
            offset: 0,
            message: slot.take().unwrap_or_else(|| "read failed".to_string()),
        },
        PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof => {
            CaptureError::Truncated {
                offset: 0,
                what,
                have: have as u64,
                need: if what.starts_with("pcapng") {
                    28
                } else {
                    PCAP_FILE_HEADER_LEN as u64
                },
            }
        }
        other => CaptureError::Corrupt {
            offset: 0,
            what: format!("invalid {what}: {other}"),
        },
    }
}

/// What one call to the parser produced, with no borrow of the buffer left.
enum Step {
    Packet(usize, Pending),
    Skip(usize),
    UnknownInterface(usize),
    Eof,
    NeedMore,
    Truncated,
    ReadError,
    Corrupt(String),
}

fn error_step(e: PcapError<&[u8]>) -> Step {
    match e {
        PcapError::Eof => Step::Eof,
        PcapError::Incomplete(_) => Step::NeedMore,
        PcapError::UnexpectedEof => Step::Truncated,
        PcapError::ReadError => Step::ReadError,
        // check_front() bounds every length below the buffer capacity, so this means the
        // record header itself is inconsistent.
        PcapError::BufferTooSmall => Step::Corrupt("record larger than the reader buffer".into()),
        PcapError::HeaderNotRecognized => Step::Corrupt("header not recognized".into()),
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            Step::Corrupt(format!("malformed block ({kind:?})"))
        }
    }
}

fn legacy_step(
    r: Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>>,
    link: &mut LinkType,
    nanos: &mut bool,
    big_endian: &mut bool,
    modified: &mut bool,
    last_ts: &mut Timestamp,
) -> Step {
    match r {
        Ok((n, PcapBlockOwned::LegacyHeader(h))) => {
            // The upper 16 bits of the field carry FCS information, not the link type.
            *link = LinkType::from_linktype(h.network.0 as u32 & 0xffff);
            *nanos = h.is_nanosecond_precision();
            *big_endian = h.is_bigendian();
            *modified = h.is_modified_format();
            Step::Skip(n)
        }
        Ok((n, PcapBlockOwned::Legacy(b))) => {
            let frac = if *nanos {
                b.ts_usec
            } else {
                b.ts_usec.saturating_mul(1000)
            };
            let ts = Timestamp::from_secs_nanos(u64::from(b.ts_sec), frac);
            *last_ts = ts;
            let data_offset = if *modified {
                PCAP_MODIFIED_RECORD_HEADER_LEN
            } else {
                PCAP_RECORD_HEADER_LEN
            };
            Step::Packet(
                n,
                Pending {
                    ts,
                    link: *link,
                    data_offset,
                    caplen: b.data.len(),
                    orig_len: b.origlen,
                },
            )
        }
        Ok((n, PcapBlockOwned::NG(_))) => Step::Skip(n),
        Err(e) => error_step(e),
    }
}

fn ng_step(
    r: Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>>,
    big_endian: &mut bool,
    interfaces: &mut Vec<Interface>,
    stats: &mut CaptureStats,
    last_ts: &mut Timestamp,
) -> Step {
    let (n, block) = match r {
        Ok((n, PcapBlockOwned::NG(b))) => (n, b),
        Ok((n, _)) => return Step::Skip(n),
        Err(e) => return error_step(e),
    };
    match block {
        Block::SectionHeader(shb) => {
            *big_endian = shb.big_endian();
            interfaces.clear();
            stats.sections += 1;
            stats.skipped_blocks += 1;
            Step::Skip(n)
        }
        Block::InterfaceDescription(idb) => {
            stats.interfaces += 1;
            stats.skipped_blocks += 1;
            if interfaces.len() >= MAX_INTERFACES {
                stats.interfaces_over_cap += 1;
            } else {
                interfaces.push(Interface {
                    link: LinkType::from_linktype(idb.linktype.0 as u32),
                    units_per_sec: units_per_sec(idb.if_tsresol),
                    offset_secs: ts_offset(&idb, *big_endian),
                    snaplen: idb.snaplen,
                });
            }
            Step::Skip(n)
        }
        Block::EnhancedPacket(epb) => {
            let Some(iface) = interfaces.get(epb.if_id as usize) else {
                return Step::UnknownInterface(n);
            };
            let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let ts = ng_timestamp(units, iface);
            *last_ts = ts;
            // `caplen` was checked against the block length by the parser (epb.data).
            let caplen = (epb.caplen as usize).min(epb.data.len());
            Step::Packet(
                n,
                Pending {
                    ts,
                    link: iface.link,
                    data_offset: EPB_DATA_OFFSET,
                    caplen,
                    orig_len: epb.origlen,
                },
            )
        }
        Block::SimplePacket(spb) => {
            let Some(iface) = interfaces.first() else {
                return Step::UnknownInterface(n);
            };
            // The captured length is the original length capped by the snap length and by
            // the block (whose data may carry up to 3 padding bytes).
            let mut caplen = (spb.origlen as usize).min(spb.data.len());
            if iface.snaplen != 0 {
                caplen = caplen.min(iface.snaplen as usize);
            }
            Step::Packet(
                n,
                Pending {
                    ts: *last_ts,
                    link: iface.link,
                    data_offset: SPB_DATA_OFFSET,
                    caplen,
                    orig_len: spb.origlen,
                },
            )
        }
        _ => {
            stats.skipped_blocks += 1;
            Step::Skip(n)
        }
    }
}

/// `if_tsoffset` in the section's byte order (pcap-parser 0.17 always reads it little-endian).
fn ts_offset(idb: &pcap_parser::InterfaceDescriptionBlock<'_>, big_endian: bool) -> i64 {
    idb.options
        .iter()
        .find(|o| o.code == pcap_parser::OptionCode::IfTsoffset)
        .and_then(|o| o.value().get(..8))
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(|b| {
            if big_endian {
                i64::from_be_bytes(b)
            } else {
                i64::from_le_bytes(b)
            }
        })
        .unwrap_or(0)
}

/// Timestamp units per second for an `if_tsresol` value (default 6 = microseconds).
fn units_per_sec(tsresol: u8) -> u64 {
    let exp = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exp).unwrap_or(1_000_000)
    } else {
        1u64.checked_shl(exp)
            .filter(|&u| u != 0)
            .unwrap_or(1_000_000)
    }
}

fn ng_timestamp(units: u64, iface: &Interface) -> Timestamp {
    let per_sec = u128::from(iface.units_per_sec.max(1));
    let nanos = u128::from(units) * 1_000_000_000 / per_sec;
    let offset = i128::from(iface.offset_secs) * 1_000_000_000;
    let total = (nanos as i128 + offset).clamp(0, i128::from(u64::MAX));
    Timestamp(total as u64)
}

fn read_u32(data: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}
