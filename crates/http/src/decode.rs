//! `Content-Encoding` removal with limits against decompression bombs.
//!
//! Decoding runs once per body, when the message ends, over the raw bytes kept (at most
//! `body_cap`). Since a compressed prefix decodes to a prefix of the content, keeping
//! `body_cap` raw bytes is enough to fill `body_cap` of decoded content whenever the content
//! compresses at all. Every layer's output is capped, and decoding stops when the output grows
//! faster than `max_ratio` times the input consumed.

use std::cell::Cell;
use std::io::{self, BufRead, Read};

/// Output size from which the ratio limit is checked: small bodies of repetitive text easily
/// exceed 100:1 and are not bombs.
const RATIO_CHECK_FROM: usize = 64 << 10;

/// zstd window limit (2^23 = 8 MiB, the limit RFC 8878 sets for HTTP): a frame can otherwise
/// ask the decoder for up to 128 MiB of window memory.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// One content coding, in the order it was applied by the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
    Unknown(String),
}

/// Reads the codings of every `Content-Encoding` field (in order), skipping `identity`.
pub(crate) fn parse_codings<'a>(values: impl Iterator<Item = &'a str>) -> Vec<Coding> {
    let mut out = Vec::new();
    for v in values {
        for token in v.split(',') {
            let t = token.trim();
            if t.is_empty() || t.eq_ignore_ascii_case("identity") {
                continue;
            }
            let c = if t.eq_ignore_ascii_case("gzip") || t.eq_ignore_ascii_case("x-gzip") {
                Coding::Gzip
            } else if t.eq_ignore_ascii_case("deflate") {
                Coding::Deflate
            } else if t.eq_ignore_ascii_case("br") {
                Coding::Brotli
            } else if t.eq_ignore_ascii_case("zstd") {
                Coding::Zstd
            } else {
                Coding::Unknown(t.to_string())
            };
            out.push(c);
        }
    }
    out
}

/// Limits for one body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecodeLimits {
    /// Decoded bytes kept (`body_cap`).
    pub keep: usize,
    /// Most bytes any layer may produce.
    pub max_bytes: usize,
    /// Most output bytes per input byte.
    pub max_ratio: u32,
}

/// What decoding produced.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    /// The content (at most `keep` bytes).
    pub data: Vec<u8>,
    /// More content existed than was kept (cap reached).
    pub truncated: bool,
    /// Decoding stopped at `max_bytes` or `max_ratio`.
    pub limit_hit: bool,
}

/// Why decoding failed; the caller keeps the raw bytes.
#[derive(Debug)]
pub(crate) enum DecodeFailure {
    /// A coding Periscope does not know.
    Unsupported,
    /// The data is not valid for its coding.
    Corrupt,
}

/// Removes `codings` (applied in order by the sender) from `raw`. `raw_complete` is false when
/// `raw` is only a prefix of the body (cap or gap): an early end of stream is then expected
/// and what was decoded is kept, flagged truncated.
pub(crate) fn decode(
    codings: &[Coding],
    raw: &[u8],
    raw_complete: bool,
    limits: DecodeLimits,
) -> Result<Decoded, DecodeFailure> {
    if codings.iter().any(|c| matches!(c, Coding::Unknown(_))) {
        return Err(DecodeFailure::Unsupported);
    }
    let mut current: Option<Decoded> = None;
    let layers = codings.len();
    for (i, coding) in codings.iter().rev().enumerate() {
        let last = i + 1 == layers;
        let input: &[u8] = current.as_ref().map_or(raw, |d| d.data.as_slice());
        let input_complete = current
            .as_ref()
            .map_or(raw_complete, |d| !d.truncated && !d.limit_hit);
        let cap = if last {
            limits.keep.min(limits.max_bytes)
        } else {
            limits.max_bytes
        };
        let mut out = decode_one(coding, input, input_complete, cap, limits)?;
        if let Some(prev) = &current {
            out.truncated |= prev.truncated;
            out.limit_hit |= prev.limit_hit;
        }
        // The last layer is capped at `keep`: reaching it is truncation, not a bomb, unless
        // `max_bytes` is the smaller of the two.
        if last && out.truncated && limits.max_bytes < limits.keep {
            out.limit_hit = true;
        }
        current = Some(out);
    }
    Ok(current.unwrap_or_else(|| Decoded {
        data: raw
            .get(..raw.len().min(limits.keep))
            .unwrap_or_default()
            .to_vec(),
        truncated: raw.len() > limits.keep,
        limit_hit: false,
    }))
}

/// A byte slice read through `BufRead`, counting what the decoder consumed (for the ratio).
struct Counting<'a> {
    data: &'a [u8],
    consumed: &'a Cell<usize>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.data.read(buf)?;
        self.consumed.set(self.consumed.get() + n);
        Ok(n)
    }
}

impl BufRead for Counting<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.data)
    }
    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.data.len());
        self.data = self.data.get(amt..).unwrap_or_default();
        self.consumed.set(self.consumed.get() + amt);
    }
}

fn decode_one(
    coding: &Coding,
    input: &[u8],
    input_complete: bool,
    cap: usize,
    limits: DecodeLimits,
) -> Result<Decoded, DecodeFailure> {
    let consumed = Cell::new(0usize);
    let src = Counting {
        data: input,
        consumed: &consumed,
    };
    let mut reader: Box<dyn Read + '_> = match coding {
        Coding::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(src)),
        Coding::Deflate => {
            // "deflate" is zlib-wrapped per the RFC, but some servers send raw deflate.
            if looks_like_zlib(input) {
                Box::new(flate2::bufread::ZlibDecoder::new(src))
            } else {
                Box::new(flate2::bufread::DeflateDecoder::new(src))
            }
        }
        Coding::Brotli => Box::new(brotli::Decompressor::new(src, 4096)),
        Coding::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(src)
                .map_err(|_| DecodeFailure::Corrupt)?;
            d.window_log_max(ZSTD_WINDOW_LOG_MAX)
                .map_err(|_| DecodeFailure::Corrupt)?;
            Box::new(d)
        }
        Coding::Unknown(_) => return Err(DecodeFailure::Unsupported),
    };
    let mut out = Decoded::default();
    let mut chunk = [0u8; 16 << 10];
    loop {
        let want = chunk.len().min(cap.saturating_sub(out.data.len()).max(1));
        let buf = chunk.get_mut(..want).unwrap_or_default();
        match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = cap.saturating_sub(out.data.len());
                let got = buf.get(..n).unwrap_or_default();
                if n > room {
                    out.data
                        .extend_from_slice(got.get(..room).unwrap_or_default());
                    out.truncated = true;
                    if cap >= limits.max_bytes {
                        out.limit_hit = true;
                    }
                    break;
                }
                out.data.extend_from_slice(got);
                let ratio_limit =
                    (consumed.get().max(1) as u64).saturating_mul(u64::from(limits.max_ratio));
                if out.data.len() >= RATIO_CHECK_FROM && out.data.len() as u64 > ratio_limit {
                    out.truncated = true;
                    out.limit_hit = true;
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                if !input_complete {
                    // A prefix of a stream ends early by construction.
                    out.truncated = true;
                    break;
                }
                return Err(DecodeFailure::Corrupt);
            }
        }
    }
    if !input_complete {
        out.truncated = true;
    }
    Ok(out)
}

/// RFC 1950 header: CM = 8 and the 16-bit header is a multiple of 31.
fn looks_like_zlib(b: &[u8]) -> bool {
    match b {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const LIM: DecodeLimits = DecodeLimits {
        keep: 1 << 20,
        max_bytes: 8 << 20,
        max_ratio: 100,
    };

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = e.write_all(data);
        e.finish().unwrap_or_default()
    }

    #[test]
    fn gzip_roundtrip_and_stacked() {
        let g = gzip(b"hello world");
        let d = decode(&[Coding::Gzip], &g, true, LIM).unwrap_or_default_test();
        assert_eq!(d.data, b"hello world");
        assert!(!d.truncated && !d.limit_hit);
        let gg = gzip(&g);
        let d = decode(&[Coding::Gzip, Coding::Gzip], &gg, true, LIM).unwrap_or_default_test();
        assert_eq!(d.data, b"hello world");
    }

    #[test]
    fn raw_and_zlib_deflate() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = z.write_all(b"zlib body");
        let z = z.finish().unwrap_or_default();
        let d = decode(&[Coding::Deflate], &z, true, LIM).unwrap_or_default_test();
        assert_eq!(d.data, b"zlib body");
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = r.write_all(b"raw body");
        let r = r.finish().unwrap_or_default();
        let d = decode(&[Coding::Deflate], &r, true, LIM).unwrap_or_default_test();
        assert_eq!(d.data, b"raw body");
    }

    #[test]
    fn corrupt_and_unknown_fail() {
        assert!(matches!(
            decode(&[Coding::Gzip], b"not gzip at all", true, LIM),
            Err(DecodeFailure::Corrupt)
        ));
        assert!(matches!(
            decode(&[Coding::Unknown("foo".into())], b"x", true, LIM),
            Err(DecodeFailure::Unsupported)
        ));
        assert!(matches!(
            decode(&[Coding::Zstd], b"\x28\xb5\x2f\xfd garbage", true, LIM),
            Err(DecodeFailure::Corrupt)
        ));
    }

    #[test]
    fn bomb_stops_at_ratio() {
        let zeros = vec![0u8; 50 << 20];
        let g = gzip(&zeros);
        let d = decode(&[Coding::Gzip], &g, true, LIM).unwrap_or_default_test();
        assert!(d.limit_hit, "ratio must trip");
        assert!(d.truncated);
        assert!(d.data.len() <= LIM.keep);
    }

    #[test]
    fn truncated_input_keeps_prefix() {
        let text: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let g = gzip(&text);
        let half = g.get(..g.len() / 2).unwrap_or_default();
        let d = decode(&[Coding::Gzip], half, false, LIM).unwrap_or_default_test();
        assert!(d.truncated);
        assert!(!d.data.is_empty());
        assert_eq!(
            d.data.as_slice(),
            text.get(..d.data.len()).unwrap_or_default()
        );
    }

    #[test]
    fn codings_parse_in_order() {
        let c = parse_codings(["gzip, identity", "BR"].into_iter());
        assert_eq!(c, vec![Coding::Gzip, Coding::Brotli]);
    }

    trait OrDefault {
        fn unwrap_or_default_test(self) -> Decoded;
    }
    impl OrDefault for Result<Decoded, DecodeFailure> {
        fn unwrap_or_default_test(self) -> Decoded {
            match self {
                Ok(d) => d,
                Err(e) => panic!("decode failed: {e:?}"),
            }
        }
    }
}
