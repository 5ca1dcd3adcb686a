//! Small text helpers shared by the checks: evidence excerpts with secrets masked, the
//! endpoint templater, request parameters, hosts, and what kind of body a response has.

use percent_encoding::percent_decode_str;
use periscope_model::{Exchange, Request, Response};
use std::borrow::Cow;

/// Longest evidence excerpt, in characters.
pub const EVIDENCE_MAX: usize = 200;

/// Characters of a secret kept in evidence before the mask.
pub const SECRET_PREFIX: usize = 4;

/// `secret` cut to a short prefix: `AKIA…[20 chars]`. Short secrets keep less, so that at
/// least half is always hidden.
pub fn mask(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = SECRET_PREFIX.min(n / 2);
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}…[{n} chars]")
}

/// One line of at most [`EVIDENCE_MAX`] characters: control characters and line breaks become
/// spaces (a line break shows as ` ⏎ `), runs of spaces collapse.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(EVIDENCE_MAX * 2));
    let mut chars = 0usize;
    let mut last_space = false;
    for c in text.chars() {
        if chars >= EVIDENCE_MAX {
            out.push('…');
            break;
        }
        let piece: &str = match c {
            '\n' => " ⏎ ",
            c if c.is_control() || c.is_whitespace() => " ",
            _ => "",
        };
        if piece.is_empty() {
            out.push(c);
            chars += 1;
            last_space = false;
        } else if piece == " ⏎ " {
            out.push_str(if last_space { "⏎ " } else { " ⏎ " });
            chars += 2;
            last_space = true;
        } else if !last_space {
            out.push(' ');
            chars += 1;
            last_space = true;
        }
    }
    out.trim().to_string()
}

/// The text around `bytes[start..end]`, `before` bytes before it, as one evidence line.
pub fn excerpt(bytes: &[u8], start: usize, end: usize, before: usize) -> String {
    let from = floor_char(bytes, start.saturating_sub(before));
    let to = end.max(start).saturating_add(EVIDENCE_MAX).min(bytes.len());
    one_line(&String::from_utf8_lossy(&bytes[from.min(to)..to]))
}

/// Moves `i` back to the start of a UTF-8 character.
fn floor_char(bytes: &[u8], mut i: usize) -> usize {
    while i > 0 && i < bytes.len() && (bytes[i] & 0xC0) == 0x80 {
        i -= 1;
    }
    i
}

/// The text just before a secret at `start..end`, then the secret masked.
pub fn masked_excerpt(bytes: &[u8], start: usize, end: usize) -> String {
    // Context before the secret only, and short: what follows may be another secret.
    let from = floor_char(bytes, start.saturating_sub(24));
    let to = end.min(bytes.len());
    let (start, end) = (start.min(bytes.len()), end.min(bytes.len()).max(start));
    let before = String::from_utf8_lossy(&bytes[from..start]);
    let secret = String::from_utf8_lossy(&bytes[start..end]);
    let after = String::from_utf8_lossy(&bytes[end..to]);
    one_line(&format!("{before}{}{after}", mask(&secret)))
}

/// Masks the values of secret-looking assignments in evidence (`DB_PASSWORD=hunter2`,
/// `"api_key": "…"`, `token: …`) that an excerpt of a file, a trace or a page carried along.
pub struct Scrubber {
    re: regex::Regex,
}

impl Scrubber {
    /// Compiles the pattern.
    pub fn new() -> Result<Scrubber, regex::Error> {
        Ok(Scrubber {
            re: regex::Regex::new(
                r#"(?i)([\w.-]*(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|pwd|credentials?|auth)[\w.-]*["']?\s*(?:=|:|=>)\s*["']?)([^\s"',;&<>]{3,})"#,
            )?,
        })
    }

    /// `evidence` with secret values masked; values already masked are left alone.
    pub fn scrub(&self, evidence: &str) -> String {
        self.re
            .replace_all(evidence, |c: &regex::Captures<'_>| {
                let (name, value) = (&c[1], &c[2]);
                if value.contains('…') {
                    format!("{name}{value}")
                } else {
                    format!("{name}{}", mask(value))
                }
            })
            .into_owned()
    }
}

/// What a body holds, from its `Content-Type` and, when that is missing, its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `text/html`, `application/xhtml+xml`.
    Html,
    /// `application/json`, `*+json`.
    Json,
    /// Other text: `text/*`, XML, JavaScript, or no type with text-looking bytes.
    Text,
    /// Images, archives, octet streams: not scanned for text patterns.
    Binary,
}

impl BodyKind {
    /// Kind of a response body.
    pub fn of(content_type: Option<&str>, body: &[u8]) -> BodyKind {
        let ct = content_type
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if ct.contains("html") {
            return BodyKind::Html;
        }
        if ct.contains("json") {
            return BodyKind::Json;
        }
        if ct.starts_with("text/") || ct.contains("xml") || ct.contains("javascript") {
            return BodyKind::Text;
        }
        if ct.is_empty() || ct == "application/octet-stream" {
            // Untyped bodies: look at them. Many error pages come without a type.
            let head = &body[..body.len().min(512)];
            let printable = head
                .iter()
                .filter(|&&b| b >= 0x20 || b == b'\n' || b == b'\r' || b == b'\t')
                .count();
            if !head.is_empty() && printable * 100 >= head.len() * 95 {
                let trimmed = trim_start(head);
                if starts_with_ci(trimmed, b"<!doctype html") || starts_with_ci(trimmed, b"<html") {
                    return BodyKind::Html;
                }
                if matches!(trimmed.first(), Some(b'{' | b'[')) {
                    return BodyKind::Json;
                }
                return BodyKind::Text;
            }
        }
        BodyKind::Binary
    }

    /// True for bodies worth a text scan.
    pub fn is_text(self) -> bool {
        self != BodyKind::Binary
    }
}

/// `b` without leading ASCII whitespace.
pub fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// Case-insensitive ASCII prefix test.
pub fn starts_with_ci(b: &[u8], prefix: &[u8]) -> bool {
    b.len() >= prefix.len() && b[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// True when a body looks like a web page (a soft-404 or an SPA fallback), not a raw file.
pub fn looks_like_html_page(body: &[u8]) -> bool {
    let t = trim_start(&body[..body.len().min(1024)]);
    starts_with_ci(t, b"<!doctype")
        || starts_with_ci(t, b"<html")
        || starts_with_ci(t, b"<head")
        || starts_with_ci(t, b"<body")
        || starts_with_ci(t, b"<?xml version") && memchr_ci(&body[..body.len().min(2048)], b"<html")
}

/// Case-insensitive substring test (ASCII).
pub fn memchr_ci(hay: &[u8], needle: &[u8]) -> bool {
    find_ci(hay, needle).is_some()
}

/// Position of `needle` in `hay`, ignoring ASCII case.
pub fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// The host the client named: `Host` header, else the authority of an absolute-form target,
/// else the server address. Lower-cased, at most 255 bytes.
pub fn host_of(ex: &Exchange) -> String {
    let named = ex.request.as_ref().and_then(|r| {
        r.headers
            .get("host")
            .map(str::to_string)
            .or_else(|| authority_of(&r.target).map(str::to_string))
    });
    let mut h = match named {
        Some(h) if !h.trim().is_empty() => h.trim().to_ascii_lowercase(),
        _ => ex.flow.server.to_string(),
    };
    if h.len() > 255 {
        let cut = floor_char(h.as_bytes(), 255);
        h.truncate(cut);
    }
    h
}

/// Authority (`host[:port]`) of an absolute URL or a scheme-relative one (`//host/x`).
pub fn authority_of(url: &str) -> Option<&str> {
    let url = url.trim();
    let rest = if let Some(i) = url.find("://") {
        let scheme = &url[..i];
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return None;
        }
        &url[i + 3..]
    } else {
        url.strip_prefix("//")
            .or_else(|| url.strip_prefix("\\\\"))
            .or_else(|| url.strip_prefix("/\\"))?
    };
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let auth = &rest[..end];
    // userinfo@host: the host is after the last '@'.
    Some(auth.rsplit('@').next().unwrap_or(auth))
}

/// Host name of an authority without port, lower-cased (`[::1]:80` → `[::1]`).
pub fn host_name(authority: &str) -> String {
    let a = authority.trim().trim_end_matches('.');
    let h = if a.starts_with('[') {
        a.split_inclusive(']').next().unwrap_or(a)
    } else {
        a.split(':').next().unwrap_or(a)
    };
    h.trim_end_matches('.').to_ascii_lowercase()
}

/// The registrable domain of a host, by the Public Suffix List (`api.shop.example.co.uk` →
/// `example.co.uk`): what tells "another site" from "a sibling subdomain". An IP address or a
/// name without a known suffix is its own site.
pub fn site_of(host: &str) -> &str {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return host;
    }
    psl::domain_str(host).unwrap_or(host)
}

/// Path part of a request target (absolute form reduced to its path), without the query.
pub fn path_of(target: &str) -> &str {
    let t = match authority_of(target) {
        Some(_) if target.contains("://") => {
            let after = &target[target.find("://").map_or(0, |i| i + 3)..];
            after.find('/').map_or("/", |i| &after[i..])
        }
        _ => target,
    };
    let end = t.find(['?', '#']).unwrap_or(t.len());
    &t[..end]
}

/// Query string of a request target, if any.
pub fn query_of(target: &str) -> Option<&str> {
    let q = &target[target.find('?')? + 1..];
    Some(q.split('#').next().unwrap_or(q))
}

/// Longest endpoint template kept.
const TEMPLATE_MAX: usize = 200;
/// Most path segments kept in a template.
const TEMPLATE_SEGMENTS: usize = 16;

/// Endpoint template of a path: numeric ids, UUIDs, hashes, long tokens and e-mail addresses
/// become `{id}` (`/users/42/orders/9f1c…` → `/users/{id}/orders/{id}`). Our own small
/// templater: analysers do not import each other (discovery has a finer one).
pub fn endpoint_template(path: &str) -> String {
    if path.is_empty() || path == "*" {
        return "/".to_string();
    }
    let mut out = String::with_capacity(path.len().min(TEMPLATE_MAX));
    for (i, seg) in path.split('/').enumerate() {
        if i > TEMPLATE_SEGMENTS {
            out.push_str("/…");
            break;
        }
        if i > 0 {
            out.push('/');
        }
        if is_id_segment(seg) {
            out.push_str("{id}");
        } else {
            out.push_str(seg);
        }
        if out.len() > TEMPLATE_MAX {
            let cut = floor_char(out.as_bytes(), TEMPLATE_MAX);
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}

fn is_id_segment(seg: &str) -> bool {
    let b = seg.as_bytes();
    if b.is_empty() {
        return false;
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if digits == b.len() {
        return true;
    }
    let hex = b.iter().filter(|c| c.is_ascii_hexdigit()).count();
    let dashes = b.iter().filter(|&&c| c == b'-').count();
    if b.len() == 36 && dashes == 4 && hex == 32 {
        return true; // UUID
    }
    if b.len() >= 16 && hex == b.len() && digits > 0 {
        return true; // hash
    }
    if seg.contains('@') && seg.contains('.') {
        return true; // e-mail
    }
    let token = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_');
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    token && b.len() >= 20 && digits >= 2 && letters > 0 && !seg.contains('.')
}

/// Most request parameters looked at per exchange.
const MAX_PARAMS: usize = 64;
/// Longest parameter name kept.
const MAX_NAME_LEN: usize = 128;
/// Longest parameter value kept.
const MAX_PARAM_LEN: usize = 4096;

/// Decoded request parameters: the query, then an `application/x-www-form-urlencoded` body.
/// Capped in number and length.
pub fn request_params(req: &Request) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(q) = query_of(&req.target) {
        parse_urlencoded(q, &mut out);
    }
    let form = req
        .headers
        .get("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().contains("x-www-form-urlencoded"));
    if form && !req.body.data.is_empty() {
        let body = &req.body.data[..req.body.data.len().min(64 * 1024)];
        parse_urlencoded(&String::from_utf8_lossy(body), &mut out);
    }
    out
}

fn parse_urlencoded(s: &str, out: &mut Vec<(String, String)>) {
    for pair in s.split('&') {
        if out.len() >= MAX_PARAMS {
            return;
        }
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = if k.len() > MAX_NAME_LEN {
            &k[..floor_char(k.as_bytes(), MAX_NAME_LEN)]
        } else {
            k
        };
        let v = if v.len() > MAX_PARAM_LEN {
            &v[..floor_char(v.as_bytes(), MAX_PARAM_LEN)]
        } else {
            v
        };
        out.push((form_decode(k).into_owned(), form_decode(v).into_owned()));
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, then percent-decoding.
pub fn form_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['+', '%']) {
        return Cow::Borrowed(s);
    }
    let spaced = s.replace('+', " ");
    Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

/// True when the exchange is known to have been HTTPS for the client: it came decrypted from
/// the agent on a TLS port, or a proxy in front said so (`X-Forwarded-Proto: https`,
/// `Forwarded: proto=https`, `Front-End-Https: on`), or the target was absolute `https://`.
pub fn forwarded_https(req: &Request) -> bool {
    let h = &req.headers;
    h.get("x-forwarded-proto")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
        || h.get("forwarded")
            .is_some_and(|v| v.to_ascii_lowercase().contains("proto=https"))
        || h.get("front-end-https")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("on"))
        || starts_with_ci(req.target.as_bytes(), b"https://")
}

/// The response's `Content-Type`.
pub fn content_type(resp: &Response) -> Option<&str> {
    resp.headers.get("content-type")
}

/// Replaces the HTML entities that hide quotes and brackets in escaped error pages
/// (`&quot;`, `&#39;`, `&lt;` …) so that patterns written for plain text match.
pub fn unescape_basic(b: &[u8]) -> Cow<'_, [u8]> {
    if !b.contains(&b'&') {
        return Cow::Borrowed(b);
    }
    const ENTITIES: [(&[u8], u8); 9] = [
        (b"&quot;", b'"'),
        (b"&#34;", b'"'),
        (b"&#x22;", b'"'),
        (b"&#39;", b'\''),
        (b"&#x27;", b'\''),
        (b"&apos;", b'\''),
        (b"&lt;", b'<'),
        (b"&gt;", b'>'),
        (b"&amp;", b'&'),
    ];
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    'outer: while i < b.len() {
        if b[i] == b'&' {
            for (ent, c) in ENTITIES {
                if b[i..].starts_with(ent) {
                    out.push(c);
                    i += ent.len();
                    continue 'outer;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_a_short_prefix() {
        assert_eq!(mask("AKIAIOSFODNN7EXAMPLE"), "AKIA…[20 chars]");
        assert_eq!(mask("abc"), "a…[3 chars]");
        assert_eq!(mask(""), "…[0 chars]");
    }

    #[test]
    fn scrubs_assignments() -> Result<(), regex::Error> {
        let s = Scrubber::new()?;
        assert_eq!(
            s.scrub("DB_PASSWORD=hunter2 ⏎ DB_HOST=db"),
            "DB_PASSWORD=hun…[7 chars] ⏎ DB_HOST=db"
        );
        assert_eq!(
            s.scrub(r#""api_key": "abcdef123""#),
            r#""api_key": "abcd…[9 chars]""#
        );
        assert_eq!(
            s.scrub("token: eyJh…[120 chars]"),
            "token: eyJh…[120 chars]"
        );
        assert_eq!(s.scrub("Hello world"), "Hello world");
        Ok(())
    }

    #[test]
    fn templates_ids() {
        assert_eq!(endpoint_template("/users/42/orders"), "/users/{id}/orders");
        assert_eq!(
            endpoint_template("/o/123e4567-e89b-12d3-a456-426614174000"),
            "/o/{id}"
        );
        assert_eq!(endpoint_template("/static/app.js"), "/static/app.js");
        assert_eq!(endpoint_template(""), "/");
    }

    #[test]
    fn authorities() {
        assert_eq!(authority_of("https://evil.example/x"), Some("evil.example"));
        assert_eq!(authority_of("//evil.example"), Some("evil.example"));
        assert_eq!(
            authority_of("http://u:p@evil.example:8080/"),
            Some("evil.example:8080")
        );
        assert_eq!(authority_of("/local"), None);
        assert_eq!(host_name("Evil.Example:8080"), "evil.example");
        assert_eq!(site_of("a.b.shop.example.com"), "example.com");
        assert_eq!(site_of("api.shop.co.uk"), "shop.co.uk");
        assert_ne!(site_of("evil.co.uk"), site_of("shop.co.uk"));
        assert_eq!(site_of("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn excerpts_are_capped_and_one_line() {
        let long = "x\n".repeat(1000);
        let e = excerpt(long.as_bytes(), 10, 12, 5);
        assert!(e.chars().count() <= EVIDENCE_MAX * 2 + 2);
        assert!(!e.contains('\n'));
    }
}
