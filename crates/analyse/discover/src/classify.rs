//! Classification of single values seen on the wire: path segments that are ids, and the
//! JSON-Schema type and format of a parameter value. Pure functions, no allocation on the hot
//! path, no panics on any input.

use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a path segment was taken for a parameter rather than a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// Decimal digits.
    Integer,
    /// A UUID (with or without dashes).
    Uuid,
    /// A long hexadecimal string (hashes, object ids).
    Hex,
    /// A base64-like or prefixed token (`cus_J3k2…`, `aGVsbG8…`).
    Token,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// An e-mail address.
    Email,
    /// An IPv4 or IPv6 address.
    Ip,
    /// Learned: too many distinct values at this position to be a literal.
    HighCardinality,
}

/// Classifies a (percent-decoded) path segment: `Some` when it is a value, not a name.
pub fn segment_kind(s: &str) -> Option<SegmentKind> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    // One pass over the bytes; the shape tests below only run when the counts allow them
    // (this runs for every segment of every request).
    let mut c = Counts::default();
    for &x in b {
        c.add(x);
    }
    let len = b.len();
    if c.digits == len {
        // Longer digit runs overflow integers: ids all the same (hashes, card-like numbers).
        return Some(if len <= 20 {
            SegmentKind::Integer
        } else {
            SegmentKind::Hex
        });
    }
    if (len == 36 || len == 32) && is_uuid(s) {
        return Some(SegmentKind::Uuid);
    }
    if len == 10 && c.digits == 8 && is_date(s) {
        return Some(SegmentKind::Date);
    }
    if c.at {
        return is_email(s).then_some(SegmentKind::Email);
    }
    if (c.dot && c.digits >= 4 && len <= 15 && s.parse::<Ipv4Addr>().is_ok())
        || (c.colon && s.parse::<Ipv6Addr>().is_ok())
    {
        return Some(SegmentKind::Ip);
    }
    if len < 8 {
        return None;
    }
    let alpha = c.upper + c.lower;
    if c.hex == len && c.digits > 0 && (alpha > 0 || len >= 16) {
        return Some(SegmentKind::Hex);
    }
    if c.token == len && is_token(b, &c) {
        return Some(SegmentKind::Token);
    }
    None
}

/// Character classes of a segment, counted in one pass.
#[derive(Default)]
struct Counts {
    digits: usize,
    upper: usize,
    lower: usize,
    hex: usize,
    /// Bytes allowed in tokens: alphanumerics and `-_=+.~`.
    token: usize,
    at: bool,
    dot: bool,
    colon: bool,
}

impl Counts {
    fn add(&mut self, x: u8) {
        match x {
            b'0'..=b'9' => {
                self.digits += 1;
                self.hex += 1;
                self.token += 1;
            }
            b'a'..=b'z' => {
                self.lower += 1;
                self.token += 1;
                if x <= b'f' {
                    self.hex += 1;
                }
            }
            b'A'..=b'Z' => {
                self.upper += 1;
                self.token += 1;
                if x <= b'F' {
                    self.hex += 1;
                }
            }
            b'-' | b'_' | b'=' | b'+' | b'~' => self.token += 1,
            b'.' => {
                self.dot = true;
                self.token += 1;
            }
            b'@' => self.at = true,
            b':' => self.colon = true,
            _ => {}
        }
    }
}

/// Base64/base64url-like runs and `prefix_xxx` ids. Ordinary words, even long camelCase
/// ones, rarely carry two digits and mixed case together, which is what this asks for.
fn is_token(b: &[u8], c: &Counts) -> bool {
    let (digits, upper, lower) = (c.digits, c.upper, c.lower);
    let alpha = upper + lower;
    if alpha == 0 {
        return false;
    }
    // Random base64 has about as many capitals as small letters; camelCase words have a
    // capital per word (`getUserPreferences`: 2 of 18) and constants have no small letters.
    if b.len() >= 16 && upper * 10 > alpha * 3 && lower * 10 > alpha * 3 {
        return true;
    }
    if digits == 0 {
        return false;
    }
    // `cus_J3k2Lm9q`: a lower-case prefix, an underscore, then an id with digits.
    if let Some(pos) = b.iter().position(|&c| c == b'_') {
        let (prefix, rest) = b.split_at(pos);
        let rest = rest.get(1..).unwrap_or_default();
        if (2..=8).contains(&prefix.len())
            && prefix.iter().all(u8::is_ascii_lowercase)
            && rest.len() >= 8
            && rest.iter().filter(|c| c.is_ascii_digit()).count() >= 2
        {
            return true;
        }
    }
    (b.len() >= 16 && digits >= 2 && upper > 0 && lower > 0) || (b.len() >= 24 && digits >= 3)
}

/// `8-4-4-4-12` hex digits, or 32 hex digits.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    match b.len() {
        36 => b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        }),
        32 => b.iter().all(u8::is_ascii_hexdigit),
        _ => false,
    }
}

/// `YYYY-MM-DD` with a plausible month and day.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && date_prefix(b)
}

fn date_prefix(b: &[u8]) -> bool {
    let d = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter()
            .try_fold(0u32, |acc, c| Some(acc * 10 + u32::from(c - b'0')))
    };
    matches!(b.get(4), Some(b'-'))
        && matches!(b.get(7), Some(b'-'))
        && d(0..4).is_some()
        && matches!(d(5..7), Some(1..=12))
        && matches!(d(8..10), Some(1..=31))
}

/// RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` (space accepted for `T`).
pub fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || !date_prefix(b) || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return false;
    }
    let hms = b.get(11..19).unwrap_or_default();
    let ok_hms = hms.len() == 8
        && hms.iter().enumerate().all(|(i, c)| {
            if i == 2 || i == 5 {
                *c == b':'
            } else {
                c.is_ascii_digit()
            }
        });
    if !ok_hms {
        return false;
    }
    let mut rest = b.get(19..).unwrap_or_default();
    if let Some((b'.', tail)) = rest.split_first() {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = tail.get(n..).unwrap_or_default();
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// A conservative e-mail shape: `local@domain.tld`, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() >= 3
        && domain.len() <= 253
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.contains('.')
        && local
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"._%+-'".contains(&c))
        && domain
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
        && domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic()))
}

/// A compact JWS: three base64url parts, the first decoding to a JSON header (`eyJ`).
pub fn is_jwt(s: &str) -> bool {
    let mut parts = s.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let b64url = |x: &str| {
        x.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    };
    h.starts_with("eyJ") && h.len() >= 10 && p.len() >= 4 && b64url(h) && b64url(p) && b64url(sig)
}

/// An absolute URL with a scheme and authority (the kind a server may fetch: SSRF).
pub fn is_uri(s: &str) -> bool {
    let lower = s.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    (lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("ftp://")
        || lower.starts_with("file://")
        || lower.starts_with("gopher:"))
        && s.len() > 8
        && !s.bytes().any(|c| c.is_ascii_whitespace())
}

/// Standard base64 of some length, with padding or a length multiple of 4, and not a word.
pub fn is_byte(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 16
        && b.len().is_multiple_of(4)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
        && b.iter()
            .any(|c| c.is_ascii_digit() || matches!(c, b'+' | b'/' | b'='))
        && b.iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
}

/// The JSON-Schema type of a scalar value as written in a query string, header or form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ScalarType {
    /// Fits an i64.
    Integer,
    /// A decimal number that is not an integer.
    Number,
    /// `true` or `false`.
    Boolean,
    /// Anything else.
    String,
}

/// String formats Periscope recognises (OpenAPI / JSON-Schema names, plus `jwt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// RFC 4122 UUID.
    Uuid,
    /// E-mail address.
    Email,
    /// RFC 3339 date-time.
    DateTime,
    /// RFC 3339 full-date.
    Date,
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
    /// Absolute URI.
    Uri,
    /// Base64-encoded bytes.
    Byte,
    /// JSON Web Token.
    Jwt,
}

impl Format {
    /// The OpenAPI `format` keyword value.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Uuid => "uuid",
            Format::Email => "email",
            Format::DateTime => "date-time",
            Format::Date => "date",
            Format::Ipv4 => "ipv4",
            Format::Ipv6 => "ipv6",
            Format::Uri => "uri",
            Format::Byte => "byte",
            Format::Jwt => "jwt",
        }
    }

    /// Parses an OpenAPI format name.
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "uuid" => Format::Uuid,
            "email" => Format::Email,
            "date-time" => Format::DateTime,
            "date" => Format::Date,
            "ipv4" => Format::Ipv4,
            "ipv6" => Format::Ipv6,
            "uri" | "url" => Format::Uri,
            "byte" => Format::Byte,
            "jwt" => Format::Jwt,
            _ => return None,
        })
    }
}

/// Type of a scalar written as text.
pub fn scalar_type(s: &str) -> ScalarType {
    let b = s.as_bytes();
    if b.is_empty() {
        return ScalarType::String;
    }
    // Leading zeros ("007", zip codes) are strings: a number would lose them.
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if !digits.is_empty()
        && digits.len() <= 18
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() == 1 || digits.first() != Some(&b'0'))
    {
        return ScalarType::Integer;
    }
    if s == "true" || s == "false" {
        return ScalarType::Boolean;
    }
    if is_decimal(digits) {
        return ScalarType::Number;
    }
    ScalarType::String
}

/// `123.45`, `0.5`, `1e3`: digits with one dot or an exponent, nothing else.
fn is_decimal(b: &[u8]) -> bool {
    if b.len() > 32 || b.first().is_none_or(|c| !c.is_ascii_digit()) {
        return false;
    }
    let dots = b.iter().filter(|&&c| c == b'.').count();
    let exps = b.iter().filter(|&&c| c == b'e' || c == b'E').count();
    (dots == 1 || exps == 1)
        && dots <= 1
        && b.last().is_some_and(u8::is_ascii_digit)
        && b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'))
        && (b.first() != Some(&b'0') || b.get(1) == Some(&b'.'))
}

/// Format of a string value, most specific first.
pub fn string_format(s: &str) -> Option<Format> {
    if s.len() < 7 || s.len() > 4096 {
        return None;
    }
    if is_uuid(s) && s.len() == 36 {
        Some(Format::Uuid)
    } else if is_date_time(s) {
        Some(Format::DateTime)
    } else if is_date(s) {
        Some(Format::Date)
    } else if is_email(s) {
        Some(Format::Email)
    } else if is_jwt(s) {
        Some(Format::Jwt)
    } else if is_uri(s) {
        Some(Format::Uri)
    } else if s.parse::<Ipv4Addr>().is_ok() {
        Some(Format::Ipv4)
    } else if s.contains(':') && s.parse::<Ipv6Addr>().is_ok() {
        Some(Format::Ipv6)
    } else if is_byte(s) {
        Some(Format::Byte)
    } else {
        None
    }
}

/// Singular camelCase of a collection name, for naming the parameter after it:
/// `users` → `user`, `categories` → `category`, `order-items` → `orderItem`.
pub fn singular_camel(seg: &str) -> String {
    let lower = seg.to_ascii_lowercase();
    let base = if let Some(s) = lower.strip_suffix("ies") {
        format!("{s}y")
    } else if lower.ends_with("sses")
        || lower.ends_with("xes")
        || lower.ends_with("uses")
        || lower.ends_with("ches")
        || lower.ends_with("shes")
    {
        lower.get(..lower.len() - 2).unwrap_or_default().to_string()
    } else if lower.ends_with('s')
        && !lower.ends_with("ss")
        && !lower.ends_with("us")
        && !lower.ends_with("is")
        && lower.len() > 2
    {
        lower.get(..lower.len() - 1).unwrap_or_default().to_string()
    } else {
        lower
    };
    let mut out = String::with_capacity(base.len());
    let mut upper = false;
    for c in base.chars() {
        if c == '-' || c == '_' || c == '.' || c == ' ' {
            upper = !out.is_empty();
        } else if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert_eq!(segment_kind("17"), Some(SegmentKind::Integer));
        assert_eq!(
            segment_kind("9f3e2a1c-1b2c-4d5e-8f90-123456789abc"),
            Some(SegmentKind::Uuid)
        );
        assert_eq!(segment_kind("5f2b9c0e8a1d4e7f"), Some(SegmentKind::Hex));
        assert_eq!(segment_kind("2024-02-29"), Some(SegmentKind::Date));
        assert_eq!(segment_kind("bob@example.com"), Some(SegmentKind::Email));
        assert_eq!(segment_kind("10.0.0.1"), Some(SegmentKind::Ip));
        assert_eq!(segment_kind("cus_J3k2Lm9q7Zx"), Some(SegmentKind::Token));
        assert_eq!(
            segment_kind("aGVsbG8gd29ybGQ1MjM0NTY"),
            Some(SegmentKind::Token)
        );
        assert_eq!(
            segment_kind("pEVbBMhrsYpptptxOiEiXOLj"),
            Some(SegmentKind::Token)
        );
        for lit in [
            "getUserPreferencesList",
            "HelloWorldFooBarBaz",
            "SOME_CONSTANT_NAME",
            "well-known",
        ] {
            assert_eq!(segment_kind(lit), None, "{lit}");
        }
        for lit in [
            "users",
            "v1",
            "api",
            "orders",
            "getUserProfile",
            "deadbeef",
            "cafe",
            "healthz",
            "oauth2",
            "index.html",
            "2fa",
            "x509",
        ] {
            assert_eq!(segment_kind(lit), None, "{lit}");
        }
        assert_eq!(segment_kind(""), None);
        assert_eq!(segment_kind("ab_"), None);
        assert_eq!(segment_kind("_"), None);
    }

    #[test]
    fn scalars_and_formats() {
        assert_eq!(scalar_type("42"), ScalarType::Integer);
        assert_eq!(scalar_type("-3"), ScalarType::Integer);
        assert_eq!(scalar_type("007"), ScalarType::String);
        assert_eq!(scalar_type("3.14"), ScalarType::Number);
        assert_eq!(scalar_type("0.5"), ScalarType::Number);
        assert_eq!(scalar_type("1.2.3"), ScalarType::String);
        assert_eq!(scalar_type("true"), ScalarType::Boolean);
        assert_eq!(scalar_type(""), ScalarType::String);
        assert_eq!(scalar_type("-"), ScalarType::String);
        assert_eq!(scalar_type("99999999999999999999999"), ScalarType::String);
        assert_eq!(
            string_format("2026-11-25T16:45:46.123Z"),
            Some(Format::DateTime)
        );
        assert_eq!(
            string_format("2026-11-25T16:45:46+01:00"),
            Some(Format::DateTime)
        );
        assert_eq!(string_format("2026-13-25"), None);
        assert_eq!(string_format("https://example.com/x"), Some(Format::Uri));
        assert_eq!(string_format("::1"), None); // too short to bother
        assert_eq!(string_format("fe80::1:2:3"), Some(Format::Ipv6));
        assert_eq!(string_format("192.168.1.20"), Some(Format::Ipv4));
        assert_eq!(
            string_format("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
            Some(Format::Jwt)
        );
        assert_eq!(string_format("SGVsbG8gV29ybGQhIQ=="), Some(Format::Byte));
        assert_eq!(string_format("hello world"), None);
        assert_eq!(string_format("a@b"), None);
        assert!(!is_date_time("2026-11-25T16:45:4"));
        assert!(!is_date_time("2026-11-25T16:45:46."));
    }

    #[test]
    fn names() {
        assert_eq!(singular_camel("users"), "user");
        assert_eq!(singular_camel("categories"), "category");
        assert_eq!(singular_camel("addresses"), "address");
        assert_eq!(singular_camel("order-items"), "orderItem");
        assert_eq!(singular_camel("status"), "status");
        assert_eq!(singular_camel("é"), "");
    }
}
