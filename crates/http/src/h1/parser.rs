//! Pure functions from bytes to HTTP/1.x values: head boundaries, heads, chunk-size lines,
//! framing rules and the message-start scan used to resynchronise after a gap. Nothing here
//! keeps state or panics on any input.

use crate::config::MAX_HEADERS_LIMIT;
use periscope_model::{Flag, Headers, HttpVersion};
use std::mem::MaybeUninit;

/// Methods the resync scan recognises inside arbitrary bytes (body remains before a request).
const KNOWN_METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"PUT",
    b"DELETE",
    b"HEAD",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"REPORT",
    b"SEARCH",
    b"PURGE",
];

/// How far back from ` HTTP/1.x` the scan looks for the method (longest request line kept).
pub(crate) const RESYNC_LOOKBACK: usize = 16 << 10;

/// A parsed request line and header block.
#[derive(Debug, Clone)]
pub(crate) struct RequestHead {
    pub method: String,
    pub target: String,
    pub version: HttpVersion,
    pub headers: Headers,
}

/// A parsed status line and header block.
#[derive(Debug, Clone)]
pub(crate) struct ResponseHead {
    pub version: HttpVersion,
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
}

/// Either kind of head.
#[derive(Debug, Clone)]
pub(crate) enum Head {
    Request(RequestHead),
    Response(ResponseHead),
}

impl Head {
    pub fn headers(&self) -> &Headers {
        match self {
            Head::Request(r) => &r.headers,
            Head::Response(r) => &r.headers,
        }
    }
}

/// Why a complete head could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// More fields than `max_headers`.
    TooManyHeaders,
    /// The grammar was violated beyond what lenient parsing accepts; the kind is httparse's.
    Malformed(httparse::Error),
}

/// Index just past the empty line that ends a head (`\r\n\r\n`, `\n\n` or `\n\r\n`), searching
/// from `from` (a previous search's end, so feeding byte by byte stays linear).
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(2).min(buf.len());
    let tail = buf.get(start..)?;
    for i in memchr::memchr_iter(b'\n', tail) {
        let at = start + i;
        match (buf.get(at + 1), buf.get(at + 2)) {
            (Some(b'\n'), _) => return Some(at + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(at + 3),
            _ => {}
        }
    }
    None
}

/// True when `line` (bytes up to and including the first LF) can start a message of this kind.
/// Used to give up on garbage before waiting for a whole header block.
pub(crate) fn plausible_first_line(line: &[u8], request: bool) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 0];
    let r = if request {
        let mut cfg = httparse::ParserConfig::default();
        cfg.allow_multiple_spaces_in_request_line_delimiters(true);
        let mut req = httparse::Request::new(&mut headers);
        cfg.parse_request(&mut req, line)
    } else {
        let mut cfg = httparse::ParserConfig::default();
        cfg.allow_multiple_spaces_in_response_status_delimiters(true);
        let mut resp = httparse::Response::new(&mut headers);
        cfg.parse_response(&mut resp, line)
    };
    let ok = |r: &httparse::Result<usize>| {
        matches!(
            r,
            Ok(httparse::Status::Partial)
                | Ok(httparse::Status::Complete(_))
                | Err(httparse::Error::TooManyHeaders)
        )
    };
    if ok(&r) || !request {
        return ok(&r);
    }
    // As lenient as `parse_request_head`: a target with bytes httparse refuses still starts
    // a request.
    let (clean, changed, _) = sanitize_request(line);
    if !changed {
        return false;
    }
    let mut cfg = httparse::ParserConfig::default();
    cfg.allow_multiple_spaces_in_request_line_delimiters(true);
    let mut req = httparse::Request::new(&mut headers);
    ok(&cfg.parse_request(&mut req, &clean))
}

/// Flags about line endings and folding that httparse accepts or we repair.
fn line_flags(head: &[u8], flags: &mut Vec<Flag>) {
    let mut prev = 0u8;
    for &b in head {
        if b == b'\n' && prev != b'\r' {
            push_flag(flags, Flag::BareLineFeed);
            break;
        }
        prev = b;
    }
}

/// True when a header line is continued on the next line (obs-fold).
fn has_obs_fold(head: &[u8]) -> bool {
    let body = head
        .strip_suffix(b"\r\n\r\n")
        .or_else(|| head.strip_suffix(b"\n\n"))
        .or_else(|| head.strip_suffix(b"\n\r\n"))
        .unwrap_or(head);
    body.windows(2)
        .any(|w| matches!(w, [b'\n', b' '] | [b'\n', b'\t']))
}

/// Replaces each obs-fold (line break followed by SP/HTAB) with one space, as RFC 9112 §5.2
/// tells recipients to do.
fn unfold(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len());
    let mut i = 0;
    while let Some(&b) = head.get(i) {
        let fold_len = match (b, head.get(i + 1), head.get(i + 2)) {
            (b'\r', Some(b'\n'), Some(b' ' | b'\t')) => 2,
            (b'\n', Some(b' ' | b'\t'), _) => 1,
            _ => 0,
        };
        if fold_len > 0 {
            // The fold and the whitespace that follows become one space.
            while out.last().is_some_and(|c| *c == b' ' || *c == b'\t') {
                out.pop();
            }
            out.push(b' ');
            i += fold_len;
            while matches!(head.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

pub(crate) fn push_flag(flags: &mut Vec<Flag>, f: Flag) {
    if !flags.contains(&f) {
        flags.push(f);
    }
}

fn version_of(v: Option<u8>) -> HttpVersion {
    match v {
        Some(0) => HttpVersion::Http10,
        _ => HttpVersion::Http11,
    }
}

fn to_headers(hs: &[httparse::Header<'_>]) -> Headers {
    Headers(
        hs.iter()
            .filter(|h| !h.name.is_empty())
            .map(|h| {
                let v = String::from_utf8_lossy(h.value);
                // Folded response values keep their line breaks in httparse; unfold them.
                let v = if v.contains(['\r', '\n']) {
                    v.split(['\r', '\n'])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    v.into_owned()
                };
                (h.name.to_string(), v)
            })
            .collect(),
    )
}

/// Parses a complete request head (`head` ends with its empty line). Strict first; on failure
/// it unfolds obs-folds and then skips invalid header lines, flagging what it had to forgive.
pub(crate) fn parse_request_head(
    head: &[u8],
    max_headers: usize,
    flags: &mut Vec<Flag>,
) -> Result<RequestHead, HeadError> {
    line_flags(head, flags);
    // Uninitialised slots: zeroing 512 headers (16 KiB) per message cost more than parsing.
    let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS_LIMIT];
    let slots = max_headers.clamp(1, MAX_HEADERS_LIMIT);
    let unfolded;
    let mut bytes = head;
    if has_obs_fold(head) {
        push_flag(flags, Flag::ObsoleteLineFolding);
        unfolded = unfold(head);
        bytes = &unfolded;
    }
    let mut first_err = None;
    for lenient in [false, true] {
        let mut cfg = httparse::ParserConfig::default();
        if lenient {
            cfg.ignore_invalid_headers_in_requests(true);
            cfg.allow_multiple_spaces_in_request_line_delimiters(true);
        }
        let hs = storage.get_mut(..slots).unwrap_or_default();
        let mut req = httparse::Request::new(&mut []);
        match cfg.parse_request_with_uninit_headers(&mut req, bytes, hs) {
            Ok(httparse::Status::Complete(_)) => {
                if lenient {
                    push_flag(flags, Flag::InvalidHeader);
                }
                return Ok(RequestHead {
                    method: req.method.unwrap_or_default().to_string(),
                    target: req.path.unwrap_or_default().to_string(),
                    version: version_of(req.version),
                    headers: to_headers(req.headers),
                });
            }
            Ok(httparse::Status::Partial) => {
                first_err.get_or_insert(httparse::Error::NewLine);
            }
            Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    // Last resort: blank out the bytes httparse refuses, parse that copy, and take the
    // method, target and fields back from the original bytes at the same offsets, so that
    // what an attacker sent is what detection sees.
    let (clean, target_changed, fields_changed) = sanitize_request(bytes);
    if target_changed || fields_changed {
        let mut cfg = httparse::ParserConfig::default();
        cfg.ignore_invalid_headers_in_requests(true);
        cfg.allow_multiple_spaces_in_request_line_delimiters(true);
        let mut storage =
            [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS_LIMIT];
        let hs = storage.get_mut(..slots).unwrap_or_default();
        let mut req = httparse::Request::new(&mut []);
        match cfg.parse_request_with_uninit_headers(&mut req, &clean, hs) {
            Ok(httparse::Status::Complete(_)) => {
                if target_changed {
                    push_flag(flags, Flag::InvalidRequestTarget);
                }
                if fields_changed {
                    push_flag(flags, Flag::InvalidHeader);
                }
                let back = |s: &str| original_at(s.as_bytes(), &clean, bytes);
                return Ok(RequestHead {
                    method: req.method.map(back).unwrap_or_default(),
                    target: req.path.map(back).unwrap_or_default(),
                    version: version_of(req.version),
                    headers: Headers(
                        req.headers
                            .iter()
                            .filter(|h| !h.name.is_empty())
                            .map(|h| {
                                (
                                    back(h.name),
                                    original_at(h.value, &clean, bytes).trim().to_string(),
                                )
                            })
                            .collect(),
                    ),
                });
            }
            Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
            _ => {}
        }
    }
    Err(HeadError::Malformed(
        first_err.unwrap_or(httparse::Error::Token),
    ))
}

/// A copy of a request head with the bytes httparse refuses replaced by `x`: in the target,
/// non-ASCII (when not UTF-8), controls and inner spaces; in the fields, controls other than
/// HTAB. Same length, so offsets carry over. Returns (copy, target changed, fields changed).
fn sanitize_request(head: &[u8]) -> (Vec<u8>, bool, bool) {
    let mut out = head.to_vec();
    let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let line = head.get(..line_end).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut target_changed = false;
    if let (Some(first), Some(last)) = (memchr::memchr(b' ', line), memchr::memrchr(b' ', line)) {
        let target = line.get(first + 1..last).unwrap_or_default();
        let utf8 = std::str::from_utf8(target).is_ok();
        let start = first + 1;
        for (i, &b) in target.iter().enumerate() {
            let bad = b < 0x21 || b == 0x7f || (b >= 0x80 && !utf8);
            // Leading spaces are delimiters (allowed leniently), not part of the target.
            let leading = target
                .get(..i)
                .is_some_and(|p| p.iter().all(|c| *c == b' '));
            if bad && !(b == b' ' && leading) {
                if let Some(o) = out.get_mut(start + i) {
                    *o = b'x';
                    target_changed = true;
                }
            }
        }
    }
    let mut fields_changed = false;
    for (i, &b) in head.iter().enumerate().skip(line_end) {
        if (b < 0x20 && b != b'\t' && b != b'\r' && b != b'\n') || b == 0x7f {
            if let Some(o) = out.get_mut(i) {
                *o = b'x';
                fields_changed = true;
            }
        }
    }
    (out, target_changed, fields_changed)
}

/// The bytes of `original` at the position `part` has inside `parsed` (a same-length copy).
fn original_at(part: &[u8], parsed: &[u8], original: &[u8]) -> String {
    let offset = (part.as_ptr() as usize).wrapping_sub(parsed.as_ptr() as usize);
    match original.get(offset..offset.saturating_add(part.len())) {
        Some(b) if offset <= parsed.len() => String::from_utf8_lossy(b).into_owned(),
        _ => String::from_utf8_lossy(part).into_owned(),
    }
}

/// Parses a complete response head, with the same leniency as [`parse_request_head`].
pub(crate) fn parse_response_head(
    head: &[u8],
    max_headers: usize,
    flags: &mut Vec<Flag>,
) -> Result<ResponseHead, HeadError> {
    line_flags(head, flags);
    if has_obs_fold(head) {
        push_flag(flags, Flag::ObsoleteLineFolding);
    }
    let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS_LIMIT];
    let slots = max_headers.clamp(1, MAX_HEADERS_LIMIT);
    let mut first_err = None;
    for lenient in [false, true] {
        let mut cfg = httparse::ParserConfig::default();
        cfg.allow_obsolete_multiline_headers_in_responses(true);
        if lenient {
            cfg.ignore_invalid_headers_in_responses(true);
            cfg.allow_spaces_after_header_name_in_responses(true);
            cfg.allow_multiple_spaces_in_response_status_delimiters(true);
        }
        let hs = storage.get_mut(..slots).unwrap_or_default();
        let mut resp = httparse::Response::new(&mut []);
        match cfg.parse_response_with_uninit_headers(&mut resp, head, hs) {
            Ok(httparse::Status::Complete(_)) => {
                if lenient {
                    push_flag(flags, Flag::InvalidHeader);
                }
                return Ok(ResponseHead {
                    version: version_of(resp.version),
                    status: resp.code.unwrap_or_default(),
                    reason: resp.reason.unwrap_or_default().to_string(),
                    headers: to_headers(resp.headers),
                });
            }
            Ok(httparse::Status::Partial) => {
                first_err.get_or_insert(httparse::Error::NewLine);
            }
            Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(HeadError::Malformed(
        first_err.unwrap_or(httparse::Error::Status),
    ))
}

/// Parses trailer fields of a chunked body (`block` ends with its empty line).
pub(crate) fn parse_trailers(block: &[u8], max_headers: usize, flags: &mut Vec<Flag>) -> Headers {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS_LIMIT];
    let slots = max_headers.clamp(1, MAX_HEADERS_LIMIT);
    let hs = storage.get_mut(..slots).unwrap_or_default();
    match httparse::parse_headers(block, hs) {
        Ok(httparse::Status::Complete((_, parsed))) => to_headers(parsed),
        _ => {
            push_flag(flags, Flag::InvalidHeader);
            Headers::default()
        }
    }
}

/// Reads a chunk-size line without its line ending: hex digits, optional whitespace, optional
/// `;extensions`. Hand-written rather than `httparse::parse_chunk_size` so that a bare LF is
/// accepted (it is flagged by the caller) and oddities can be told apart from garbage.
pub(crate) fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut size: u64 = 0;
    let mut digits = 0usize;
    let mut rest = line;
    while let Some((&b, tail)) = rest.split_first() {
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => break,
        };
        digits += 1;
        if digits > 16 {
            return None;
        }
        size = size.checked_mul(16)?.checked_add(u64::from(v))?;
        rest = tail;
    }
    if digits == 0 {
        return None;
    }
    let rest = trim_start_ws(rest);
    match rest.first() {
        None | Some(b';') => Some(size),
        _ => None,
    }
}

fn trim_start_ws(mut b: &[u8]) -> &[u8] {
    while let Some((&c, t)) = b.split_first() {
        if c == b' ' || c == b'\t' {
            b = t;
        } else {
            break;
        }
    }
    b
}

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the connection closes (responses only).
    Close,
    /// The connection switches protocol after this message.
    Tunnel,
}

/// Transfer-Encoding and Content-Length, with smuggling signs flagged.
fn length_fields(headers: &Headers, flags: &mut Vec<Flag>) -> (Option<bool>, Option<Option<u64>>) {
    let mut te: Vec<String> = Vec::new();
    for v in headers.get_all("transfer-encoding") {
        te.extend(
            v.split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty()),
        );
    }
    let chunked_last = if te.is_empty() {
        None
    } else {
        let chunked_count = te.iter().filter(|t| *t == "chunked").count();
        let last_chunked = te.last().is_some_and(|t| t == "chunked");
        if te.len() > 1 || !last_chunked || chunked_count > 1 {
            push_flag(flags, Flag::UnusualTransferEncoding);
        }
        Some(last_chunked)
    };
    let mut values: Vec<Option<u64>> = Vec::new();
    for v in headers.get_all("content-length") {
        for t in v.split(',') {
            let t = t.trim();
            let ok = !t.is_empty() && t.len() <= 19 && t.bytes().all(|b| b.is_ascii_digit());
            values.push(if ok { t.parse().ok() } else { None });
        }
    }
    let cl = if values.is_empty() {
        None
    } else if values.iter().any(Option::is_none) {
        push_flag(flags, Flag::InvalidContentLength);
        Some(None)
    } else if values.windows(2).any(|w| w.first() != w.get(1)) {
        push_flag(flags, Flag::ConflictingContentLength);
        Some(None)
    } else {
        if values.len() > 1 {
            push_flag(flags, Flag::DuplicateContentLength);
        }
        Some(values.first().copied().flatten())
    };
    if chunked_last.is_some() && cl.is_some() {
        push_flag(flags, Flag::ContentLengthWithChunked);
    }
    (chunked_last, cl)
}

/// Body framing of a request (RFC 9112 §6.3): chunked if it is the last transfer coding,
/// else Content-Length, else no body. An unusable length means no body, so the bytes that
/// follow are read as the next request (flagged; that disagreement is what smuggling exploits).
pub(crate) fn request_framing(headers: &Headers, flags: &mut Vec<Flag>) -> Framing {
    match length_fields(headers, flags) {
        (Some(true), _) => Framing::Chunked,
        (Some(false), _) => Framing::None,
        (None, Some(Some(n))) if n > 0 => Framing::Length(n),
        _ => Framing::None,
    }
}

/// Body framing of a response to a request with `method` (None when the request is unknown).
pub(crate) fn response_framing(
    status: u16,
    method: Option<&str>,
    headers: &Headers,
    flags: &mut Vec<Flag>,
) -> Framing {
    let is = |m: &str| method.is_some_and(|x| x.eq_ignore_ascii_case(m));
    if status == 101 || (is("CONNECT") && (200..300).contains(&status)) {
        return Framing::Tunnel;
    }
    if (100..200).contains(&status) || status == 204 || status == 304 || is("HEAD") {
        return Framing::None;
    }
    match length_fields(headers, flags) {
        (Some(true), _) => Framing::Chunked,
        (Some(false), _) => Framing::Close,
        (None, Some(Some(0))) => Framing::None,
        (None, Some(Some(n))) => Framing::Length(n),
        (None, Some(None)) | (None, None) => Framing::Close,
    }
}

/// Which kind of message start a scan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartKind {
    Request,
    Response,
}

/// Result of scanning for a message start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// A start at this offset.
    Found(usize, StartKind),
    /// Nothing yet; bytes before this offset can be dropped except for the look-back window,
    /// and the next search may begin here.
    NotYet(usize),
}

const STATUS_NEEDLE: &[u8] = b"HTTP/1.";
const REQUEST_NEEDLE: &[u8] = b" HTTP/1.";

/// Looks for the earliest message start at or after `from`: a status line `HTTP/1.x NNN` or a
/// request line `METHOD SP target SP HTTP/1.x` (whose method may follow body bytes with no line
/// break in between). `want` selects kinds (request, response).
pub(crate) fn find_message_start(buf: &[u8], from: usize, want: (bool, bool)) -> Scan {
    let mut best: Option<(usize, StartKind)> = None;
    let mut resume = buf.len();
    let finder = memchr::memmem::Finder::new(STATUS_NEEDLE);
    let start = from.min(buf.len());
    let hay = buf.get(start..).unwrap_or_default();
    for i in finder.find_iter(hay) {
        let p = start + i;
        if want.1 && p + 13 > buf.len() {
            resume = resume.min(p.saturating_sub(1));
            break;
        }
        if want.1 && is_status_line_at(buf, p) {
            best = Some((p, StartKind::Response));
            break;
        }
        if want.0 && p > 0 && buf.get(p - 1) == Some(&b' ') {
            match request_start_before(buf, p - 1) {
                RequestProbe::Found(s) => {
                    best = Some((s, StartKind::Request));
                    break;
                }
                RequestProbe::NeedMore => {
                    resume = resume.min(p.saturating_sub(1));
                    break;
                }
                RequestProbe::No => {}
            }
        }
    }
    match best {
        Some((p, k)) => Scan::Found(p, k),
        None => Scan::NotYet(resume.min(buf.len().saturating_sub(REQUEST_NEEDLE.len()))),
    }
}

fn is_status_line_at(buf: &[u8], p: usize) -> bool {
    let Some(w) = buf.get(p..p + 13) else {
        return false;
    };
    matches!(w.get(7), Some(b'0' | b'1'))
        && w.get(8) == Some(&b' ')
        && w.get(9..12)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && matches!(w.get(12), Some(b' ' | b'\r' | b'\n'))
}

enum RequestProbe {
    Found(usize),
    NeedMore,
    No,
}

/// `sp` is the space before `HTTP/1.` in a candidate request line.
fn request_start_before(buf: &[u8], sp: usize) -> RequestProbe {
    // After "HTTP/1.x" the line must end.
    match (buf.get(sp + 8), buf.get(sp + 9)) {
        (Some(b'0' | b'1'), Some(b'\r' | b'\n')) => {}
        (Some(b'0' | b'1'), None) | (None, _) => return RequestProbe::NeedMore,
        _ => return RequestProbe::No,
    }
    let floor = sp.saturating_sub(RESYNC_LOOKBACK);
    let line = buf.get(floor..sp).unwrap_or_default();
    let line_start = memchr::memrchr(b'\n', line).map_or(floor, |i| floor + i + 1);
    let line = buf.get(line_start..sp).unwrap_or_default();
    let Some(tsp) = memchr::memrchr(b' ', line) else {
        return RequestProbe::No;
    };
    let target = line.get(tsp + 1..).unwrap_or_default();
    if target.is_empty() || target.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return RequestProbe::No;
    }
    let before = line.get(..tsp).unwrap_or_default();
    // The longest known method that ends right before the space.
    let mut found = None;
    for m in KNOWN_METHODS {
        if before.ends_with(m) && found.is_none_or(|f: &[u8]| m.len() > f.len()) {
            found = Some(*m);
        }
    }
    if let Some(m) = found {
        return RequestProbe::Found(line_start + tsp - m.len());
    }
    // An unknown method is accepted only at a line start.
    if (3..=20).contains(&before.len())
        && before.iter().all(|b| b.is_ascii_uppercase() || *b == b'-')
    {
        return RequestProbe::Found(line_start);
    }
    RequestProbe::No
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_end_variants() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nX", 0), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\nX", 0), Some(16));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n", 0), None);
        assert_eq!(find_head_end(b"", 10), None);
        assert_eq!(find_head_end(b"\n", 0), None);
        // Incremental: the terminator straddles `from`.
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\n", 16), Some(18));
    }

    #[test]
    fn request_head_lenient_paths() {
        let mut f = Vec::new();
        let h = parse_request_head(
            b"GET /a?b=%20 HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n",
            16,
            &mut f,
        );
        let h = h.ok();
        assert_eq!(h.as_ref().map(|h| h.target.as_str()), Some("/a?b=%20"));
        assert_eq!(
            h.and_then(|h| h.headers.get("host").map(str::to_string))
                .as_deref(),
            Some("x folded")
        );
        assert!(f.contains(&Flag::ObsoleteLineFolding));
        let mut f = Vec::new();
        assert!(parse_request_head(b"GET / HTTP/1.1\nHost: x\n\n", 16, &mut f).is_ok());
        assert!(f.contains(&Flag::BareLineFeed));
        let mut f = Vec::new();
        assert!(parse_request_head(
            b"GET / HTTP/1.1\r\nBad Name: x\r\nOk: y\r\n\r\n",
            16,
            &mut f
        )
        .is_ok());
        assert!(f.contains(&Flag::InvalidHeader));
        let mut f = Vec::new();
        assert_eq!(
            parse_request_head(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", 1, &mut f).err(),
            Some(HeadError::TooManyHeaders)
        );
        assert!(parse_request_head(b"\x00\x01\x02 garbage\r\n\r\n", 16, &mut f).is_err());
        // Bytes httparse refuses are read anyway, from the original, and flagged.
        let mut f = Vec::new();
        let h = parse_request_head(
            b"GET /a\xffb c?x=\x01 HTTP/1.1\r\nX-A: v\x01w\r\n\r\n",
            16,
            &mut f,
        );
        let h = h.ok();
        assert_eq!(
            h.as_ref().map(|h| h.target.as_str()),
            Some("/a\u{fffd}b c?x=\u{1}")
        );
        assert_eq!(
            h.as_ref().and_then(|h| h.headers.get("x-a")),
            Some("v\u{1}w")
        );
        assert!(f.contains(&Flag::InvalidRequestTarget) && f.contains(&Flag::InvalidHeader));
        assert!(parse_request_head(b"", 16, &mut f).is_err());
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"1a"), Some(26));
        assert_eq!(parse_chunk_size(b"1A;name=value\r"), Some(26));
        assert_eq!(parse_chunk_size(b"0 ; x"), Some(0));
        assert_eq!(parse_chunk_size(b""), None);
        assert_eq!(parse_chunk_size(b"zz"), None);
        assert_eq!(parse_chunk_size(b"0x10"), None);
        assert_eq!(parse_chunk_size(b"fffffffffffffffff"), None);
        assert_eq!(parse_chunk_size(b"ffffffffffffffff"), Some(u64::MAX));
    }

    #[test]
    fn framing_and_smuggling_flags() {
        let h = |v: &[(&str, &str)]| {
            Headers(
                v.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            )
        };
        let mut f = Vec::new();
        let fr = request_framing(
            &h(&[("Content-Length", "5"), ("Transfer-Encoding", "chunked")]),
            &mut f,
        );
        assert_eq!(fr, Framing::Chunked);
        assert!(f.contains(&Flag::ContentLengthWithChunked));
        let mut f = Vec::new();
        assert_eq!(
            request_framing(
                &h(&[("Content-Length", "5"), ("content-length", "6")]),
                &mut f
            ),
            Framing::None
        );
        assert!(f.contains(&Flag::ConflictingContentLength));
        let mut f = Vec::new();
        assert_eq!(
            request_framing(&h(&[("Content-Length", "5, 5")]), &mut f),
            Framing::Length(5)
        );
        assert!(f.contains(&Flag::DuplicateContentLength));
        let mut f = Vec::new();
        assert_eq!(
            request_framing(&h(&[("Content-Length", "+5")]), &mut f),
            Framing::None
        );
        assert!(f.contains(&Flag::InvalidContentLength));
        let mut f = Vec::new();
        assert_eq!(
            request_framing(&h(&[("Transfer-Encoding", "chunked, gzip")]), &mut f),
            Framing::None
        );
        assert!(f.contains(&Flag::UnusualTransferEncoding));
        let mut f = Vec::new();
        assert_eq!(
            response_framing(200, Some("HEAD"), &h(&[("Content-Length", "9")]), &mut f),
            Framing::None
        );
        assert_eq!(
            response_framing(304, None, &h(&[("Content-Length", "9")]), &mut f),
            Framing::None
        );
        assert_eq!(response_framing(200, None, &h(&[]), &mut f), Framing::Close);
        assert_eq!(
            response_framing(200, Some("CONNECT"), &h(&[]), &mut f),
            Framing::Tunnel
        );
        assert_eq!(
            response_framing(101, Some("GET"), &h(&[]), &mut f),
            Framing::Tunnel
        );
    }

    #[test]
    fn message_start_scan() {
        let b = b"xx}GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(
            find_message_start(b, 0, (true, false)),
            Scan::Found(3, StartKind::Request)
        );
        let b = b"body bytes HTTP/1.1 200 OK\r\n";
        assert_eq!(
            find_message_start(b, 0, (false, true)),
            Scan::Found(11, StartKind::Response)
        );
        assert_eq!(
            find_message_start(b, 0, (true, false)).clone(),
            Scan::NotYet(b.len() - 8)
        );
        // Split needle: must not skip past a possible start.
        let b = b"abc GET /x HTTP/1.";
        assert!(matches!(find_message_start(b, 0, (true, true)), Scan::NotYet(p) if p <= 10));
        let b = b"FOO /x HTTP/1.1\r\n";
        assert_eq!(
            find_message_start(b, 0, (true, false)),
            Scan::Found(0, StartKind::Request)
        );
        assert!(matches!(
            find_message_start(b"", 5, (true, true)),
            Scan::NotYet(0)
        ));
    }
}
