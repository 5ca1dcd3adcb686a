//! Small, bounded, panic-free readers for the parts of a request that carry parameters:
//! request targets, query strings and forms, cookies, multipart and simple XML bodies.

use percent_encoding::percent_decode_str;
use std::borrow::Cow;

/// Most fields read from one query string, form, cookie header or multipart body.
pub const MAX_FIELDS: usize = 128;

/// Splits a request-target into host (absolute form only), path and query.
pub fn split_target(target: &str) -> (Option<&str>, &str, Option<&str>) {
    let (mut host, mut rest) = (None, target);
    let starts = |p: &str| {
        target
            .get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    if starts("http://") || starts("https://") {
        let after = target.split_once("://").map(|x| x.1).unwrap_or_default();
        let end = after.find(['/', '?']).unwrap_or(after.len());
        host = after.get(..end);
        rest = after.get(end..).unwrap_or_default();
    }
    let rest = rest.split('#').next().unwrap_or_default();
    match rest.split_once('?') {
        Some((p, q)) => (host, p, Some(q)),
        None => (host, rest, None),
    }
}

/// Percent-decodes (and `+` → space when `plus`), replacing invalid UTF-8.
pub fn decode(s: &str, plus: bool) -> Cow<'_, str> {
    // Most segments and values carry no escapes: skip the decoder and its UTF-8 check.
    if !s.bytes().any(|c| c == b'%' || (plus && c == b'+')) {
        return Cow::Borrowed(s);
    }
    if plus && s.contains('+') {
        let replaced = s.replace('+', " ");
        return Cow::Owned(
            percent_decode_str(&replaced)
                .decode_utf8_lossy()
                .into_owned(),
        );
    }
    percent_decode_str(s).decode_utf8_lossy()
}

/// `a=1&b=x+y` → decoded pairs, at most [`MAX_FIELDS`].
pub fn form_pairs(s: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .take(MAX_FIELDS)
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// `a=1; b=2` → pairs, at most [`MAX_FIELDS`].
pub fn cookie_pairs(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split(';').take(MAX_FIELDS).filter_map(|p| {
        let (k, v) = p.split_once('=')?;
        let k = k.trim();
        (!k.is_empty()).then_some((k, v.trim().trim_matches('"')))
    })
}

/// The media type of a `Content-Type`, lower-cased, without parameters.
pub fn media_type(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A parameter of a `Content-Type` value (`boundary`, `charset`).
pub fn content_type_param<'a>(ct: &'a str, name: &str) -> Option<&'a str> {
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"'))
    })
}

/// One part of a multipart body.
#[derive(Debug, PartialEq, Eq)]
pub struct Part<'a> {
    /// Field name.
    pub name: String,
    /// File name, for uploads.
    pub filename: Option<String>,
    /// The part's content (possibly cut when the body was truncated).
    pub data: &'a [u8],
}

/// Splits a `multipart/form-data` body; stops quietly at the first thing that does not fit.
pub fn multipart<'a>(body: &'a [u8], boundary: &str) -> Vec<Part<'a>> {
    let mut parts = Vec::new();
    if boundary.is_empty() || boundary.len() > 200 {
        return parts;
    }
    let delim = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delim.as_bytes());
    let mut pos = match finder.find(body) {
        Some(p) => p + delim.len(),
        None => return parts,
    };
    while parts.len() < MAX_FIELDS {
        let rest = body.get(pos..).unwrap_or_default();
        if rest.starts_with(b"--") {
            break;
        }
        let Some(hdr_end) = memchr::memmem::find(rest, b"\r\n\r\n") else {
            break;
        };
        let headers = String::from_utf8_lossy(rest.get(..hdr_end).unwrap_or_default());
        let content_start = hdr_end + 4;
        let content = rest.get(content_start..).unwrap_or_default();
        let (data, next) = match finder.find(content) {
            Some(end) => (
                content.get(..end.saturating_sub(2)).unwrap_or_default(),
                Some(pos + content_start + end + delim.len()),
            ),
            None => (content, None),
        };
        let mut name = None;
        let mut filename = None;
        for line in headers.lines() {
            let Some((h, v)) = line.split_once(':') else {
                continue;
            };
            if !h.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for attr in v.split(';').skip(1) {
                if let Some((k, val)) = attr.split_once('=') {
                    let val = val.trim().trim_matches('"').to_string();
                    match k.trim().to_ascii_lowercase().as_str() {
                        "name" => name = Some(val),
                        "filename" => filename = Some(val),
                        _ => {}
                    }
                }
            }
        }
        if let Some(name) = name {
            parts.push(Part {
                name,
                filename,
                data,
            });
        }
        match next {
            Some(n) => pos = n,
            None => break,
        }
    }
    parts
}

/// The children of the root element of a simple XML document, as (name, text) pairs: enough
/// to type `<order><id>7</id><note>x</note></order>`. Nested children are reported with an
/// empty text; anything unusual ends the walk.
pub fn xml_fields(doc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut rest = doc;
    let mut current: Option<(String, usize)> = None; // child name and where its text starts
    while let Some(lt) = rest.find('<') {
        let after = rest.get(lt + 1..).unwrap_or_default();
        let Some(gt) = after.find('>') else { break };
        let tag = after.get(..gt).unwrap_or_default();
        let consumed_to = doc.len() - after.len() + gt + 1;
        if tag.starts_with('?') || tag.starts_with('!') {
            rest = after.get(gt + 1..).unwrap_or_default();
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_string();
        if let Some(close) = tag.strip_prefix('/') {
            let _ = close;
            depth = depth.saturating_sub(1);
            if depth == 1 {
                if let Some((n, start)) = current.take() {
                    if n == name {
                        let text_end = doc.len() - rest.len() + lt;
                        let text = doc.get(start..text_end).unwrap_or_default();
                        let text = if text.contains('<') { "" } else { text.trim() };
                        out.push((n, text.to_string()));
                    }
                }
            }
        } else if tag.ends_with('/') {
            if depth == 1 {
                out.push((name, String::new()));
            }
        } else {
            depth += 1;
            if depth == 2 {
                current = Some((name, consumed_to));
            }
        }
        if out.len() >= MAX_FIELDS || depth > 64 {
            break;
        }
        rest = after.get(gt + 1..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(split_target("/a/b?x=1#f"), (None, "/a/b", Some("x=1")));
        assert_eq!(
            split_target("http://h:8080/p?q"),
            (Some("h:8080"), "/p", Some("q"))
        );
        assert_eq!(split_target("HTTPS://h"), (Some("h"), "", None));
        assert_eq!(split_target("*"), (None, "*", None));
        assert_eq!(split_target(""), (None, "", None));
    }

    #[test]
    fn forms_and_cookies() {
        let f = form_pairs("a=1&b=x+y%21&&=z&c&%ff=1");
        let f: Vec<(String, String)> = f
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(f[0], ("a".into(), "1".into()));
        assert_eq!(f[1], ("b".into(), "x y!".into()));
        assert_eq!(f[2], ("c".into(), "".into()));
        assert_eq!(f.len(), 4);
        let c: Vec<_> = cookie_pairs("sid=abc; theme=\"dark\"; bad; =x").collect();
        assert_eq!(c, vec![("sid", "abc"), ("theme", "dark")]);
        assert_eq!(
            media_type("Application/JSON; charset=utf-8"),
            "application/json"
        );
        assert_eq!(
            content_type_param("multipart/form-data; boundary=\"xx\"", "boundary"),
            Some("xx")
        );
    }

    #[test]
    fn multipart_parts_and_truncation() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XX--\r\n";
        let p = multipart(body, "XX");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].data, b"hello");
        assert_eq!(p[1].filename.as_deref(), Some("a.png"));
        for cut in 0..body.len() {
            let _ = multipart(&body[..cut], "XX");
        }
        assert!(multipart(b"garbage", "XX").is_empty());
        assert!(multipart(body, "").is_empty());
    }

    #[test]
    fn xml() {
        let f = xml_fields("<?xml version=\"1.0\"?><order><id>7</id><note>hi there</note><items><i>1</i></items><empty/></order>");
        assert_eq!(
            f,
            vec![
                ("id".into(), "7".into()),
                ("note".into(), "hi there".into()),
                ("items".into(), "".into()),
                ("empty".into(), "".into())
            ]
        );
        for doc in ["<", "<a", "<a><b>", "</a></b>", "<<>>", "<a><b>x</c></a>"] {
            let _ = xml_fields(doc);
        }
    }
}
