//! What a connection carries, told from its first bytes: HTTP/1.x, TLS (with the ClientHello's
//! SNI and version when the record is whole), HTTP/2 with prior knowledge, or something else.

use serde::Serialize;

/// The protocol a connection carried, for coverage reporting ("why don't I see my traffic?").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Protocol {
    /// HTTP/1.0 or 1.1 (at least one message start was read).
    Http1,
    /// TLS: not decrypted, so no exchanges.
    Tls {
        /// Server name from the ClientHello, when it was seen whole.
        sni: Option<String>,
        /// Highest version offered (e.g. "TLS 1.3"), or the record version when mid-stream.
        version: Option<String>,
    },
    /// HTTP/2 with prior knowledge (the client preface); not parsed by this crate yet.
    Http2PriorKnowledge,
    /// Bytes that are none of the above.
    Other {
        /// The first bytes seen (up to 16), in hex.
        first_bytes: String,
    },
    /// No payload at all.
    Empty,
}

/// Bytes kept while deciding (a ClientHello fits in one 16 KiB record).
pub(crate) const SNIFF_CAP: usize = (16 << 10) + 5;

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Decision on the client's first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sniff {
    NeedMore,
    Http,
    Known(Protocol),
}

/// Classifies the first bytes a client sent. `eof` is true when no more will come.
pub(crate) fn sniff_client(buf: &[u8], eof: bool) -> Sniff {
    let Some(&first) = buf.first() else {
        return if eof {
            Sniff::Known(Protocol::Empty)
        } else {
            Sniff::NeedMore
        };
    };
    let other = || {
        Sniff::Known(Protocol::Other {
            first_bytes: hex_prefix(buf),
        })
    };
    if first == 0x16 {
        return match buf.get(1..3) {
            None if !eof => Sniff::NeedMore,
            Some([3, minor]) if *minor <= 4 => {
                let rec_len = buf
                    .get(3..5)
                    .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])));
                match rec_len {
                    Some(n) if buf.len() >= n + 5 || buf.len() >= SNIFF_CAP || eof => {
                        let (sni, version) = client_hello(buf.get(5..).unwrap_or_default());
                        Sniff::Known(Protocol::Tls { sni, version })
                    }
                    None if eof => Sniff::Known(Protocol::Tls {
                        sni: None,
                        version: None,
                    }),
                    _ => Sniff::NeedMore,
                }
            }
            _ => other(),
        };
    }
    let n = buf.len().min(H2_PREFACE.len());
    if buf.get(..n) == H2_PREFACE.get(..n) {
        if n == H2_PREFACE.len() {
            return Sniff::Known(Protocol::Http2PriorKnowledge);
        }
        // "PRI" could still be an HTTP/1 method: wait for the preface or a mismatch.
        return if eof { other() } else { Sniff::NeedMore };
    }
    let rest: &[u8] = {
        let skip = buf
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        buf.get(skip..).unwrap_or_default()
    };
    let token = rest.iter().take_while(|b| is_tchar(**b)).count();
    match rest.get(token) {
        Some(b' ') if (1..=32).contains(&token) => Sniff::Http,
        None if token <= 32 && !eof => Sniff::NeedMore,
        _ => other(),
    }
}

/// TLS record header of any content type (mid-stream pick-up sees application data first).
pub(crate) fn tls_record_version(buf: &[u8]) -> Option<String> {
    match buf {
        [0x14..=0x17, 3, minor @ 0..=4, _, _, ..] => Some(record_version_name(*minor)),
        _ => None,
    }
}

fn record_version_name(minor: u8) -> String {
    match minor {
        0 => "SSL 3.0".into(),
        m => format!("TLS 1.{}", m - 1),
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Hex of the first 16 bytes.
pub(crate) fn hex_prefix(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for x in b.iter().take(16) {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// A bounds-checked reader over a byte slice.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|b| b.first().copied())
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// SNI and offered version from a ClientHello handshake message (record payload). Fields cut
/// off by the end of `hs` are simply absent.
pub(crate) fn client_hello(hs: &[u8]) -> (Option<String>, Option<String>) {
    let mut sni = None;
    let mut version = None;
    let _ = (|| -> Option<()> {
        let mut c = Cursor(hs);
        if c.u8()? != 1 {
            return None;
        }
        let _len = c.u24()?;
        let legacy = c.u16()?;
        version = Some(legacy_name(legacy));
        c.take(32)?;
        c.vec8()?;
        c.vec16()?;
        c.vec8()?;
        // A truncated record still yields the extensions that fit.
        let ext_bytes = match c.vec16() {
            Some(e) => e,
            None => c.0,
        };
        let mut exts = Cursor(ext_bytes);
        while let (Some(ty), Some(data)) = (exts.u16(), exts.vec16()) {
            match ty {
                0 => {
                    let mut l = Cursor(data);
                    let mut list = Cursor(l.vec16()?);
                    while let (Some(kind), Some(name)) = (list.u8(), list.vec16()) {
                        if kind == 0 {
                            sni = Some(String::from_utf8_lossy(name).into_owned());
                            break;
                        }
                    }
                }
                43 => {
                    let mut l = Cursor(data);
                    let mut vs = Cursor(l.vec8()?);
                    let mut best = 0u16;
                    while let Some(v) = vs.u16() {
                        // GREASE values are 0x?a?a.
                        if v & 0x0f0f != 0x0a0a && v > best {
                            best = v;
                        }
                    }
                    if best != 0 {
                        version = Some(legacy_name(best));
                    }
                }
                _ => {}
            }
        }
        Some(())
    })();
    (sni, version)
}

fn legacy_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301..=0x0304 => format!("TLS 1.{}", (v & 0xff) - 1),
        other => format!("0x{other:04x}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal TLS 1.3 ClientHello record for `host`.
    pub(crate) fn client_hello_record(host: &str) -> Vec<u8> {
        let mut sni = Vec::new();
        let name = host.as_bytes();
        let entry_len = 3 + name.len();
        sni.extend_from_slice(&(entry_len as u16).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name);
        let mut exts = Vec::new();
        exts.extend_from_slice(&0u16.to_be_bytes());
        exts.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        exts.extend_from_slice(&sni);
        exts.extend_from_slice(&43u16.to_be_bytes());
        exts.extend_from_slice(&5u16.to_be_bytes());
        exts.extend_from_slice(&[4, 0x0a, 0x0a, 0x03, 0x04]);
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[7u8; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 2, 0x13, 0x01]);
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut hs = vec![1];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn tls_sni_and_version() {
        let rec = client_hello_record("api.example.com");
        let want = Sniff::Known(Protocol::Tls {
            sni: Some("api.example.com".into()),
            version: Some("TLS 1.3".into()),
        });
        assert_eq!(sniff_client(&rec, false), want);
        // Every truncation either waits or gives a TLS answer without panicking.
        for cut in 0..rec.len() {
            let part = rec.get(..cut).unwrap_or_default();
            let s = sniff_client(part, false);
            assert!(matches!(s, Sniff::NeedMore), "cut {cut}: {s:?}");
            let s = sniff_client(part, true);
            assert!(matches!(s, Sniff::Known(_)), "cut {cut}: {s:?}");
        }
    }

    #[test]
    fn other_kinds() {
        assert_eq!(sniff_client(b"GET / HTTP/1.1\r\n", false), Sniff::Http);
        assert_eq!(sniff_client(b"GE", false), Sniff::NeedMore);
        assert_eq!(
            sniff_client(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false),
            Sniff::Known(Protocol::Http2PriorKnowledge)
        );
        assert_eq!(sniff_client(b"PRI * HTTP/2", false), Sniff::NeedMore);
        assert!(matches!(
            sniff_client(b"SSH-2.0-OpenSSH\r\n", false),
            Sniff::Known(Protocol::Other { .. })
        ));
        assert!(matches!(
            sniff_client(&[0, 1, 2, 255], false),
            Sniff::Known(Protocol::Other { .. })
        ));
        assert_eq!(
            tls_record_version(&[0x17, 3, 3, 0, 10]).as_deref(),
            Some("TLS 1.2")
        );
        assert_eq!(client_hello(&[1, 0, 0]), (None, None));
    }
}
