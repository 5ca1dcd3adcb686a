//! Request points: every place in a request an attacker can put a payload, with a stable
//! dotted name (`path.2`, `query.id`, `header.user-agent`, `cookie.session`,
//! `body.json.user.name`, `body.form.q`, `body.multipart.file.filename`, `body.xml`,
//! `body.graphql.variables.id`).

use crate::config::DetectConfig;
use crate::decode;
use model::Request;

/// What kind of place a point is; some rules only make sense in some places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointKind {
    /// One path segment, decoded.
    PathSegment,
    /// The whole path, decoded (for traversal across segments).
    Path,
    /// The file extension of the last path segment.
    PathExt,
    /// A value (query argument, form field, JSON value, cookie, multipart field, ...).
    Value,
    /// The name of a parameter or a JSON key.
    Key,
    /// A header value (other than Cookie, which is split into cookies).
    Header,
    /// A whole body (XML, plain text, GraphQL query text).
    Body,
}

/// One place in the request and its value.
#[derive(Debug, Clone)]
pub struct Point {
    /// Stable dotted name.
    pub name: String,
    /// The value, after the decoding its syntax implies (e.g. URL decoding of a query argument).
    pub value: String,
    /// Kind of place.
    pub kind: PointKind,
}

/// Hands each point to a sink as it is found, with a cap on their number and size. The
/// value is lent, not copied: the detector scans it in place, and only a hit keeps a copy.
pub(crate) struct Points<'c, 's> {
    cfg: &'c DetectConfig,
    taken: usize,
    /// Points dropped at the cap (reported as a counter by the caller).
    pub dropped: usize,
    sink: &'s mut dyn FnMut(&str, &str, PointKind),
}

impl<'c, 's> Points<'c, 's> {
    pub fn new(cfg: &'c DetectConfig, sink: &'s mut dyn FnMut(&str, &str, PointKind)) -> Self {
        Points {
            cfg,
            taken: 0,
            dropped: 0,
            sink,
        }
    }

    pub fn push(&mut self, name: &str, value: &str, kind: PointKind) {
        if value.is_empty() {
            return;
        }
        if self.taken >= self.cfg.max_points {
            self.dropped += 1;
            return;
        }
        self.taken += 1;
        (self.sink)(name, cap_str(value, self.cfg.max_value_len), kind);
    }
}

/// `a.b` without the formatting machinery (point names are built for every value).
fn dotted(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + 1 + b.len());
    s.push_str(a);
    s.push('.');
    s.push_str(b);
    s
}

/// Cuts `s` at `max` bytes on a character boundary.
pub fn cap_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// Extracts every point of `req`, and how many were dropped at [`DetectConfig::max_points`].
pub fn extract(req: &Request, cfg: &DetectConfig) -> (Vec<Point>, usize) {
    let mut list = Vec::new();
    let dropped = visit(req, cfg, &mut |name, value, kind| {
        list.push(Point {
            name: name.to_owned(),
            value: value.to_owned(),
            kind,
        })
    });
    (list, dropped)
}

/// Calls `sink(name, value, kind)` for every point of `req`, in the order of [`extract`],
/// and returns how many points were dropped at [`DetectConfig::max_points`].
pub(crate) fn visit(
    req: &Request,
    cfg: &DetectConfig,
    sink: &mut dyn FnMut(&str, &str, PointKind),
) -> usize {
    let mut p = Points::new(cfg, sink);
    let target = req.target.as_str();
    // Absolute form: drop scheme and authority.
    let target = match target.find("://") {
        Some(i) if !target.starts_with('/') => {
            let rest = target.get(i + 3..).unwrap_or("");
            rest.find(['/', '?'])
                .and_then(|j| rest.get(j..))
                .unwrap_or("/")
        }
        _ => target,
    };
    let (path, query) = match target.split_once('?') {
        Some((a, b)) => (a, Some(b)),
        None => (target, None),
    };
    let path = path.split_once('#').map_or(path, |(a, _)| a);
    path_points(path, &mut p, cfg);
    if let Some(q) = query {
        let q = q.split_once('#').map_or(q, |(a, _)| a);
        form_points(q, "query", &mut p, cfg, 0);
    }
    for (name, value) in &req.headers.0 {
        let lname = name.to_ascii_lowercase();
        if lname == "cookie" {
            for c in value.split(';') {
                let (k, v) = c.split_once('=').unwrap_or(("", c));
                let k = k.trim();
                let v = v.trim();
                let v = decode::url_decode(v, false);
                value_points(&dotted("cookie", k), &v, PointKind::Value, &mut p, cfg, 0);
            }
            continue;
        }
        if lname == "authorization" {
            if let Some((h, pl)) = decode::jwt_parts(value) {
                json_points("header.authorization.jwt.header", &h, &mut p, cfg, 1);
                json_points("header.authorization.jwt.payload", &pl, &mut p, cfg, 1);
                continue;
            }
            // Basic credentials are `user:password` in base64: both are attacker-chosen text
            // that reaches login code and logs.
            let basic = value
                .trim()
                .get(..6)
                .filter(|s| s.eq_ignore_ascii_case("basic "))
                .and_then(|_| value.trim().get(6..));
            if let Some(cred) = basic.and_then(|b| decode::base64_credentials(b.trim())) {
                value_points(
                    "header.authorization.basic",
                    &cred,
                    PointKind::Value,
                    &mut p,
                    cfg,
                    1,
                );
            }
        }
        value_points(
            &dotted("header", &lname),
            value,
            PointKind::Header,
            &mut p,
            cfg,
            0,
        );
    }
    body_points(req, &mut p, cfg);
    p.dropped
}

fn path_points(path: &str, p: &mut Points<'_, '_>, cfg: &DetectConfig) {
    let decoded = decode::url_decode(path, false);
    p.push("path", &decoded, PointKind::Path);
    // Standard base64 contains `/`: a payload encoded into the path spans segments.
    let whole = path.trim_start_matches('/');
    if whole.contains('/') {
        if let Some(text) = decode::base64_text(whole, cfg.max_value_len) {
            value_points("path.base64", &text, PointKind::Value, p, cfg, 1);
        }
    }
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for (i, seg) in segs.iter().enumerate() {
        let d = decode::url_decode(seg, false);
        // Matrix parameters (`;jsessionid=`) belong to the segment; keep them in the value.
        value_points(&format!("path.{i}"), &d, PointKind::PathSegment, p, cfg, 0);
    }
    if let Some(last) = segs.last() {
        if let Some((_, ext)) = last.rsplit_once('.') {
            if !ext.is_empty() && ext.len() <= 16 {
                p.push("path.ext", ext, PointKind::PathExt);
            }
        }
    }
}

/// `a=1&b[]=2&c[d]=3` → `prefix.a`, `prefix.b`, `prefix.c.d`.
pub(crate) fn form_points(
    s: &str,
    prefix: &str,
    p: &mut Points<'_, '_>,
    cfg: &DetectConfig,
    depth: usize,
) {
    for pair in s.split('&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.split_once('=') {
            Some((k, v)) => (k, v),
            // A bare value (`?<payload>`) is a value with no name.
            None => ("", pair),
        };
        let k = decode::url_decode(k, true);
        let v = decode::url_decode(v, true);
        let name = dotted(prefix, &bracket_name(&k));
        if k.len() > 2 || k.contains('$') {
            p.push(&dotted(&name, "name"), &k, PointKind::Key);
        }
        // A name no form builder would produce, or a name with no value, is probably a
        // payload cut at its own `=`: look at the whole pair as one value too.
        let odd_name = k.chars().any(|c| {
            !(c.is_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '[' | ']' | '$' | ':' | '@' | ' '))
        });
        // A name ending in `:` was cut from `:=` (an LDAP extensible match, Pascal-style
        // assignment): the `=` belonged to the payload.
        if odd_name || k.ends_with(':') || (v.is_empty() && k.len() >= 8) {
            let whole = decode::url_decode(pair, true);
            value_points(&name, &whole, PointKind::Value, p, cfg, depth);
        }
        value_points(&name, &v, PointKind::Value, p, cfg, depth);
    }
}

/// `a[b][]` → `a.b`; `a[]` → `a`.
fn bracket_name(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    for part in k.split('[') {
        let part = part.trim_end_matches(']');
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
    }
    out
}

/// A value that may hide more structure: JSON, a JWT, base64 of text.
pub(crate) fn value_points(
    name: &str,
    v: &str,
    kind: PointKind,
    p: &mut Points<'_, '_>,
    cfg: &DetectConfig,
    depth: usize,
) {
    p.push(name, v, kind);
    if depth >= cfg.max_decode_depth {
        return;
    }
    let t = v.trim_start();
    if (t.starts_with('{') || t.starts_with('[')) && t.len() > 1 {
        json_points(&dotted(name, "json"), t, p, cfg, depth + 1);
    } else if let Some((h, pl)) = decode::jwt_parts(v) {
        json_points(&dotted(name, "jwt.header"), &h, p, cfg, depth + 1);
        json_points(&dotted(name, "jwt.payload"), &pl, p, cfg, depth + 1);
    } else if let Some(text) = decode::base64_text(v, cfg.max_value_len).or_else(|| {
        // `+` of base64 read as a space by form decoding (prose has other characters too:
        // don't copy it to find that out).
        (v.contains(' ')
            && v.bytes().all(|c| {
                !c.is_ascii()
                    || c.is_ascii_alphanumeric()
                    || c.is_ascii_whitespace()
                    || matches!(c, b'/' | b'-' | b'_' | b'=' | b'+' | 0x0b)
            }))
        .then(|| decode::base64_text(&v.replace(' ', "+"), cfg.max_value_len))
        .flatten()
    }) {
        value_points(
            &dotted(name, "base64"),
            &text,
            PointKind::Value,
            p,
            cfg,
            depth + 1,
        );
    }
}

/// Walks JSON; on a parse error (including serde_json's nesting limit of 128) the text is
/// checked as a plain value instead.
pub(crate) fn json_points(
    prefix: &str,
    s: &str,
    p: &mut Points<'_, '_>,
    cfg: &DetectConfig,
    depth: usize,
) {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v) => walk_json(prefix, &v, p, cfg, depth, 0),
        Err(_) => p.push(prefix, s, PointKind::Value),
    }
}

fn walk_json(
    name: &str,
    v: &serde_json::Value,
    p: &mut Points<'_, '_>,
    cfg: &DetectConfig,
    depth: usize,
    level: usize,
) {
    use serde_json::Value;
    if level > cfg.max_json_depth {
        return;
    }
    match v {
        Value::String(s) => value_points(name, s, PointKind::Value, p, cfg, depth),
        Value::Number(n) => p.push(name, &n.to_string(), PointKind::Value),
        Value::Bool(_) | Value::Null => {}
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk_json(&format!("{name}.{i}"), x, p, cfg, depth, level + 1);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                let child = dotted(name, k);
                if k.len() > 2 || k.starts_with('$') {
                    p.push(&dotted(&child, "name"), k, PointKind::Key);
                }
                walk_json(&child, x, p, cfg, depth, level + 1);
            }
        }
    }
}

fn body_points(req: &Request, p: &mut Points<'_, '_>, cfg: &DetectConfig) {
    let data = &req.body.data;
    if data.is_empty() {
        return;
    }
    let ct = req
        .headers
        .get("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let gz;
    let data: &[u8] = match decode::gunzip_capped(data, cfg.max_body_len) {
        // The HTTP layer decodes Content-Encoding; a body still compressed (eval input, a
        // failed decode, or a gzip upload in disguise) is decoded here with the same cap.
        Some(d)
            if req.headers.get("content-encoding").is_some() || data.starts_with(&[0x1f, 0x8b]) =>
        {
            gz = d;
            &gz
        }
        _ => data,
    };
    let data = data.get(..cfg.max_body_len.min(data.len())).unwrap_or(data);
    let text = String::from_utf8_lossy(data);
    let trimmed = text.trim_start();
    if ct.contains("multipart/") {
        multipart_points(
            &ct,
            req.headers.get("content-type").unwrap_or(""),
            data,
            p,
            cfg,
        );
    } else if ct.contains("graphql") {
        graphql_query_points("body.graphql.query", &text, p);
    } else if ct.contains("json")
        || ((trimmed.starts_with('{') || trimmed.starts_with('[')) && !ct.contains("x-www-form"))
    {
        // GraphQL over JSON: {"query": "...", "variables": {...}}.
        if let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(trimmed)
        {
            if let Some(serde_json::Value::String(q)) = o.get("query") {
                graphql_query_points("body.graphql.query", q, p);
                if let Some(vars) = o.get("variables") {
                    walk_json("body.graphql.variables", vars, p, cfg, 0, 0);
                }
                for (k, v) in &o {
                    if k != "query" && k != "variables" {
                        walk_json(&format!("body.graphql.{k}"), v, p, cfg, 0, 0);
                    }
                }
                return;
            }
        }
        json_points("body.json", trimmed, p, cfg, 0);
    } else if ct.contains("xml") || (!ct.starts_with("text/") && trimmed.starts_with('<')) {
        p.push("body.xml", &text, PointKind::Body);
        xml_text_points(&text, p);
    } else if ct.contains("x-www-form-urlencoded")
        || (ct.is_empty() && text.contains('=') && !text.contains(' '))
    {
        form_points(&text, "body.form", p, cfg, 0);
    } else if looks_binary(data) && !data.starts_with(&[0xac, 0xed]) {
        // Files, images, archives: scanning them as text finds "attacks" in random bytes
        // (an upload of random bytes matched xss). A raw Java serialized object (AC ED) is
        // binary too, and stays scanned for deserialization.
    } else {
        p.push("body.text", &text, PointKind::Body);
        if let Some(t) = decode::base64_text(&text, cfg.max_value_len) {
            p.push("body.text.base64", &t, PointKind::Body);
        }
    }
}

/// GraphQL: the query text itself (for structure), and each string literal argument as a value.
fn graphql_query_points(name: &str, q: &str, p: &mut Points<'_, '_>) {
    p.push(name, q, PointKind::Body);
    let mut rest = q;
    let mut n = 0;
    while let Some(start) = rest.find('"') {
        let after = rest.get(start + 1..).unwrap_or("");
        let mut end = None;
        let mut esc = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if !esc => esc = true,
                '"' if !esc => {
                    end = Some(i);
                    break;
                }
                _ => esc = false,
            }
        }
        let Some(e) = end else { break };
        let lit = after.get(..e).unwrap_or("");
        p.push(
            &format!("{name}.arg{n}"),
            &decode::backslash_decode(lit),
            PointKind::Value,
        );
        n += 1;
        rest = after.get(e + 1..).unwrap_or("");
    }
}

/// Text nodes and attribute values of an XML document, named after their element.
fn xml_text_points(x: &str, p: &mut Points<'_, '_>) {
    let mut rest = x;
    let mut tag = String::new();
    while let Some(lt) = rest.find('<') {
        let text = rest.get(..lt).unwrap_or("").trim();
        if !text.is_empty() && !tag.is_empty() {
            let v = crate::decode::html_decode(text);
            p.push(&dotted("body.xml", &tag), &v, PointKind::Value);
        }
        let after = rest.get(lt + 1..).unwrap_or("");
        let gt = after.find('>').unwrap_or(after.len());
        let inner = after.get(..gt).unwrap_or("");
        if !inner.starts_with(['/', '!', '?']) {
            tag = inner
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("")
                .to_owned();
        }
        rest = after.get(gt + 1..).unwrap_or("");
    }
}

fn multipart_points(
    _ct_lower: &str,
    ct: &str,
    data: &[u8],
    p: &mut Points<'_, '_>,
    cfg: &DetectConfig,
) {
    let boundary = ct
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned());
    let Some(boundary) = boundary.filter(|b| !b.is_empty()) else {
        p.push(
            "body.multipart",
            &String::from_utf8_lossy(data),
            PointKind::Body,
        );
        return;
    };
    let delim = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delim.as_bytes());
    let starts: Vec<usize> = finder.find_iter(data).take(cfg.max_points).collect();
    for w in 0..starts.len() {
        let Some(&s) = starts.get(w) else { break };
        let e = starts.get(w + 1).copied().unwrap_or(data.len());
        let part = data.get(s + delim.len()..e).unwrap_or(&[]);
        if part.starts_with(b"--") {
            break;
        }
        let (head, body) = match memchr::memmem::find(part, b"\r\n\r\n") {
            Some(i) => (
                part.get(..i).unwrap_or(&[]),
                part.get(i + 4..).unwrap_or(&[]),
            ),
            None => match memchr::memmem::find(part, b"\n\n") {
                Some(i) => (
                    part.get(..i).unwrap_or(&[]),
                    part.get(i + 2..).unwrap_or(&[]),
                ),
                None => (part, &[][..]),
            },
        };
        let body = body
            .strip_suffix(b"\r\n")
            .or_else(|| body.strip_suffix(b"\n"))
            .unwrap_or(body);
        let head = String::from_utf8_lossy(head);
        let mut name = String::new();
        let mut filename = None;
        let mut pct = String::new();
        for line in head.lines() {
            let (hn, hv) = line.split_once(':').unwrap_or(("", ""));
            let hn = hn.trim().to_ascii_lowercase();
            if hn == "content-disposition" {
                for (k, v) in header_params(hv) {
                    match k.to_ascii_lowercase().as_str() {
                        "name" => name = v,
                        "filename" | "filename*" => filename = Some(v),
                        _ => {}
                    }
                }
            } else if hn == "content-type" {
                pct = hv.trim().to_ascii_lowercase();
            } else if !hn.is_empty() {
                p.push(
                    &format!("body.multipart.{name}.header.{hn}"),
                    hv.trim(),
                    PointKind::Header,
                );
            }
        }
        let pname = format!("body.multipart.{name}");
        if let Some(f) = &filename {
            p.push(&dotted(&pname, "filename"), f, PointKind::Value);
        }
        // File contents: text files are checked (web shells, XML with entities); binary is not.
        if let Some(text) = decode::printable_text(
            body.get(..cfg.max_value_len.min(body.len()))
                .unwrap_or(body),
        ) {
            if pct.contains("json") {
                json_points(&pname, &text, p, cfg, 0);
            } else if filename.is_some() {
                p.push(&dotted(&pname, "content"), &text, PointKind::Body);
            } else {
                value_points(&pname, &text, PointKind::Value, p, cfg, 0);
            }
        }
    }
}

/// `form-data; name="a"; filename="x;y.txt"` → `[("name", "a"), ("filename", "x;y.txt")]`.
/// Quoted values may hold `;` and `\"` (a filename is attacker-chosen text: splitting it at
/// its own `;` would hide the rest of it).
fn header_params(v: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = v;
    // Skip the disposition type (`form-data`).
    match rest.find(';') {
        Some(i) => rest = rest.get(i + 1..).unwrap_or(""),
        None => return out,
    }
    while out.len() < 32 {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        let Some(eq) = rest.find('=') else { break };
        let key = rest.get(..eq).unwrap_or("").trim().to_owned();
        let after = rest.get(eq + 1..).unwrap_or("").trim_start();
        let mut value = String::new();
        if let Some(q) = after.strip_prefix('"') {
            let mut end = q.len();
            let mut esc = false;
            for (i, c) in q.char_indices() {
                match c {
                    '\\' if !esc => esc = true,
                    '"' if !esc => {
                        end = i;
                        break;
                    }
                    _ => {
                        esc = false;
                        value.push(c);
                    }
                }
            }
            rest = q.get(end + 1..).unwrap_or("");
        } else {
            let end = after.find(';').unwrap_or(after.len());
            value.push_str(after.get(..end).unwrap_or("").trim());
            rest = after.get(end..).unwrap_or("");
        }
        out.push((key, value));
    }
    out
}

/// True when the first KiB is not text: more than 1 in 20 bytes are control bytes or parts of
/// invalid UTF-8.
fn looks_binary(data: &[u8]) -> bool {
    let head = &data[..data.len().min(1024)];
    if head.is_empty() {
        return false;
    }
    let text = String::from_utf8_lossy(head);
    let odd = text
        .chars()
        .filter(|&c| {
            c == char::REPLACEMENT_CHARACTER || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        })
        .count();
    odd * 20 > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Body, Headers, HttpVersion, Timestamp};

    pub(crate) fn req(
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Request {
        Request {
            ts: Timestamp(0),
            method: method.into(),
            target: target.into(),
            version: HttpVersion::Http11,
            headers: Headers(
                headers
                    .iter()
                    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                    .collect(),
            ),
            body: Body {
                len: body.len() as u64,
                data: body.to_vec(),
                decoded_from: None,
                truncated: false,
            },
            trailers: Headers::default(),
        }
    }

    fn names(r: &Request) -> Vec<(String, String)> {
        let cfg = DetectConfig::default();
        extract(r, &cfg)
            .0
            .into_iter()
            .map(|p| (p.name, p.value))
            .collect()
    }

    fn has(v: &[(String, String)], n: &str, val: &str) -> bool {
        v.iter().any(|(a, b)| a == n && b == val)
    }

    #[test]
    fn binary_bodies_are_not_scanned_as_text() {
        let ct = [("Content-Type", "application/octet-stream")];
        let mut random = vec![0u8; 4096];
        let mut x = 0x9e37_79b9_u32;
        for b in random.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        let v = names(&req("POST", "/upload", &ct, &random));
        assert!(!v.iter().any(|(n, _)| n.starts_with("body")), "{v:?}");
        // Text sent as octet-stream is still scanned, and so is a raw Java serialized object.
        let v = names(&req("POST", "/upload", &ct, b"id=1' or '1'='1"));
        assert!(v.iter().any(|(n, _)| n == "body.text"), "{v:?}");
        let java = [&[0xac, 0xed, 0x00, 0x05, 0x73, 0x72][..], &random[..64]].concat();
        let v = names(&req("POST", "/upload", &ct, &java));
        assert!(v.iter().any(|(n, _)| n == "body.text"), "{v:?}");
    }

    #[test]
    fn path_query_headers_cookies() {
        let r = req(
            "GET",
            "/api/v1/users/42/avatar.png?id=7&tags[]=a&tags[]=b&f[name]=x%20y&q=a+b",
            &[
                ("Host", "x"),
                ("User-Agent", "UA"),
                ("Cookie", "session=abc; theme=dark"),
            ],
            b"",
        );
        let v = names(&r);
        assert!(has(&v, "path.2", "users"));
        assert!(has(&v, "path.ext", "png"));
        assert!(has(&v, "query.id", "7"));
        assert!(has(&v, "query.tags", "a") && has(&v, "query.tags", "b"));
        assert!(has(&v, "query.f.name", "x y"));
        assert!(has(&v, "query.q", "a b"));
        assert!(has(&v, "header.user-agent", "UA"));
        assert!(has(&v, "cookie.session", "abc"));
        assert!(has(&v, "cookie.theme", "dark"));
    }

    #[test]
    fn bodies() {
        let r = req(
            "POST",
            "/",
            &[("Content-Type", "application/json")],
            br#"{"user":{"name":"bob","tags":["x"]},"data":"{\"a\":\"b\"}"}"#,
        );
        let v = names(&r);
        assert!(has(&v, "body.json.user.name", "bob"));
        assert!(has(&v, "body.json.user.tags.0", "x"));
        assert!(has(&v, "body.json.data.json.a", "b"));

        let r = req(
            "POST",
            "/",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"q=hello%20world&j=%7B%22k%22%3A1%7D",
        );
        let v = names(&r);
        assert!(has(&v, "body.form.q", "hello world"));
        assert!(has(&v, "body.form.j.json.k", "1"));

        let body = b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.php\"\r\nContent-Type: text/plain\r\n\r\n<?php echo 1; ?>\r\n--XX\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nhi\r\n--XX--\r\n";
        let r = req(
            "POST",
            "/",
            &[("Content-Type", "multipart/form-data; boundary=XX")],
            body,
        );
        let v = names(&r);
        assert!(has(&v, "body.multipart.file.filename", "a.php"));
        assert!(has(&v, "body.multipart.file.content", "<?php echo 1; ?>"));
        assert!(has(&v, "body.multipart.t", "hi"));

        let r = req("POST", "/graphql", &[("Content-Type", "application/json")], br#"{"query":"query Q($id: ID!) { user(id: $id, name: \"bo\") { name } }","variables":{"id":"5"}}"#);
        let v = names(&r);
        assert!(has(&v, "body.graphql.variables.id", "5"));
        assert!(has(&v, "body.graphql.query.arg0", "bo"));

        let r = req(
            "POST",
            "/",
            &[("Content-Type", "application/xml")],
            b"<a><b>text</b></a>",
        );
        let v = names(&r);
        assert!(has(&v, "body.xml.b", "text"));
    }

    #[test]
    fn nested_encodings() {
        // base64 of `<script>alert(1)</script>` in a query argument; a JWT in a cookie.
        let r = req(
            "GET",
            "/?x=PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg",
            &[("Cookie", "t=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.")],
            b"",
        );
        let v = names(&r);
        assert!(has(&v, "query.x.base64", "<script>alert(1)</script>"));
        assert!(has(&v, "cookie.t.jwt.payload.sub", "admin"));
    }

    #[test]
    fn hostile_inputs_are_bounded() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let r = req(
            "POST",
            "/",
            &[("Content-Type", "application/json")],
            deep.as_bytes(),
        );
        let (pts, _) = extract(&r, &DetectConfig::default());
        assert!(pts.iter().filter(|p| p.name.starts_with("body")).count() <= 1);
        let r = req(
            "POST",
            "/",
            &[("Content-Type", "multipart/form-data; boundary=")],
            b"\xff\xfe--\r\n\r\n",
        );
        let _ = extract(&r, &DetectConfig::default());
        let r = req(
            "POST",
            "/",
            &[("Content-Type", "multipart/form-data; boundary=a")],
            b"--a\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--a",
        );
        let v = names(&r);
        assert!(has(&v, "body.multipart.x", "v"));
        let many = "a=1&".repeat(100_000);
        let r = req("GET", &format!("/?{many}"), &[], b"");
        let (pts, dropped) = extract(&r, &DetectConfig::default());
        assert!(pts.len() <= DetectConfig::default().max_points && dropped > 0);
    }
}
