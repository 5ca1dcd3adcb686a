//! Nested decoding: the layers an attacker wraps a payload in. Every function here is total
//! (no panic on any input) and bounded by the caps passed in.

use base64::Engine;
use std::borrow::Cow;
use std::io::Read;

/// Percent-decodes `s` (`%XX`, `%uXXXX`, and `+` as space when `plus` is true). Returns the
/// input unchanged (borrowed) when there is nothing to decode. Invalid escapes stay as they are.
pub fn url_decode(s: &str, plus: bool) -> Cow<'_, str> {
    let b = s.as_bytes();
    if !(b.contains(&b'%') || plus && b.contains(&b'+')) {
        return Cow::Borrowed(s);
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if let (Some(h), Some(l)) = (b.get(i + 1).and_then(hex), b.get(i + 2).and_then(hex)) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            // %uXXXX: IIS-style Unicode escape.
            if matches!(b.get(i + 1), Some(b'u' | b'U')) {
                if let Some(cp) = hex4(b.get(i + 2..i + 6)) {
                    push_char(&mut out, cp);
                    i += 6;
                    continue;
                }
            }
            out.push(c);
        } else if c == b'+' && plus {
            out.push(b' ');
        } else {
            out.push(c);
        }
        i += 1;
    }
    Cow::Owned(lossy(out))
}

/// Decodes `\uXXXX`, `\xXX`, `\NNN` (octal) and the usual backslash escapes, as in JS, JSON,
/// Python and PHP string literals.
pub fn backslash_decode(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if !b.contains(&b'\\') {
        return Cow::Borrowed(s);
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        if b[i] == b'\\' {
            match b.get(i + 1) {
                Some(b'u') => {
                    if let Some(cp) = hex4(b.get(i + 2..i + 6)) {
                        push_char(&mut out, cp);
                        i += 6;
                        changed = true;
                        continue;
                    }
                }
                Some(b'x') => {
                    if let (Some(h), Some(l)) =
                        (b.get(i + 2).and_then(hex), b.get(i + 3).and_then(hex))
                    {
                        out.push(h << 4 | l);
                        i += 4;
                        changed = true;
                        continue;
                    }
                }
                Some(b'n') => {
                    out.push(b'\n');
                    i += 2;
                    changed = true;
                    continue;
                }
                Some(b'r') => {
                    out.push(b'\r');
                    i += 2;
                    changed = true;
                    continue;
                }
                Some(b't') => {
                    out.push(b'\t');
                    i += 2;
                    changed = true;
                    continue;
                }
                _ => {}
            }
        }
        out.push(b[i]);
        i += 1;
    }
    if changed {
        Cow::Owned(lossy(out))
    } else {
        Cow::Borrowed(s)
    }
}

/// Decodes HTML character references: `&#NN;`, `&#xHH;` (semicolon optional, leading zeros
/// allowed, as browsers accept them) and the named entities that matter for injection.
pub fn html_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    const NAMED: &[(&str, char)] = &[
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("amp", '&'),
        ("colon", ':'),
        ("lpar", '('),
        ("rpar", ')'),
        ("equals", '='),
        ("sol", '/'),
        ("bsol", '\\'),
        ("semi", ';'),
        ("tab", '\t'),
        ("newline", '\n'),
        ("nbsp", ' '),
        ("grave", '`'),
        ("lsqb", '['),
        ("rsqb", ']'),
        ("lcub", '{'),
        ("rcub", '}'),
        ("period", '.'),
        ("comma", ','),
        ("excl", '!'),
        ("num", '#'),
        ("dollar", '$'),
        ("percnt", '%'),
        ("plus", '+'),
        ("ast", '*'),
        ("vert", '|'),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let mut consumed = 0usize;
        if let Some(num) = after.strip_prefix('#') {
            let (radix, digits) = match num.strip_prefix(['x', 'X']) {
                Some(h) => (16, h),
                None => (10, num),
            };
            let n = digits
                .bytes()
                .take_while(|c| (c.is_ascii_hexdigit() && radix == 16) || c.is_ascii_digit())
                .count();
            if n > 0 && n <= 12 {
                if let Some(ch) = u32::from_str_radix(&digits[..n], radix)
                    .ok()
                    .and_then(char::from_u32)
                {
                    out.push(ch);
                    consumed = 1 + (num.len() - digits.len()) + n;
                    if after[consumed..].starts_with(';') {
                        consumed += 1;
                    }
                }
            }
        } else {
            for (name, ch) in NAMED {
                if after.len() >= name.len()
                    && after.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                {
                    out.push(*ch);
                    consumed = name.len();
                    if after[consumed..].starts_with(';') {
                        consumed += 1;
                    }
                    break;
                }
            }
        }
        if consumed == 0 {
            out.push('&');
            rest = after;
        } else {
            changed = true;
            rest = &after[consumed..];
        }
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// Tries base64 (standard or URL-safe, padded or not) on strings that look like it and decode
/// to mostly printable text. Random tokens and images decode to binary and are left alone;
/// short strings and plain words are not guessed at.
pub fn base64_text(s: &str, max: usize) -> Option<String> {
    let t = s.trim();
    let core = t.trim_end_matches('=');
    if core.len() < 8 || t.len() > max || t.len() - core.len() > 2 {
        return None;
    }
    let (mut lower, mut upper, mut digit, mut url, mut std) = (false, false, false, false, false);
    for c in core.bytes() {
        match c {
            b'a'..=b'z' => lower = true,
            b'A'..=b'Z' => upper = true,
            b'0'..=b'9' => digit = true,
            b'-' | b'_' => url = true,
            b'+' | b'/' => std = true,
            _ => return None,
        }
    }
    // A word in one case, or digits only, is not base64 worth trying.
    if (url && std) || !(lower && upper || (lower || upper) && digit) {
        return None;
    }
    let cfg = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let alphabet = if url {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    let eng = base64::engine::GeneralPurpose::new(alphabet, cfg);
    // Long strings (images and files in JSON) are judged by their head first: when the first
    // 768 decoded bytes are mostly binary, decoding up to 64 KiB more to find that out is waste.
    if let Some(head) = core.get(..1024).filter(|_| core.len() > 4096) {
        let head = eng.decode(head).ok()?;
        let text = String::from_utf8_lossy(&head);
        let (good, total) = text.chars().fold((0usize, 0usize), |(g, t), c| {
            (g + usize::from(printable_char(c)), t + 1)
        });
        if good * 2 < total {
            return None;
        }
    }
    let bytes = eng.decode(core).ok()?;
    printable_text(&bytes)
}

fn printable_char(c: char) -> bool {
    (!c.is_control() || matches!(c, '\t' | '\r' | '\n')) && c != char::REPLACEMENT_CHARACTER
}

/// Accepts `bytes` as text when at least 90 % of it is printable ASCII or valid UTF-8 text
/// (tabs and line breaks count as printable).
pub fn printable_text(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let s = String::from_utf8_lossy(bytes);
    let total = s.chars().count();
    let good = s.chars().filter(|&c| printable_char(c)).count();
    if good * 10 >= total * 9 {
        Some(s.into_owned())
    } else {
        None
    }
}

/// Decodes HTTP Basic credentials (`base64(user:password)`) when they are text with a colon.
pub fn base64_credentials(s: &str) -> Option<String> {
    if s.is_empty() || s.len() > 4096 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.contains(':').then_some(text)
}

/// Splits a JWT (`header.payload.signature`, base64url) into its decoded header and payload.
pub fn jwt_parts(s: &str) -> Option<(String, String)> {
    let t = s.trim();
    let t = t.strip_prefix("Bearer ").unwrap_or(t);
    if !t.starts_with("eyJ") {
        return None;
    }
    let mut it = t.split('.');
    let h = it.next()?;
    let p = it.next()?;
    let eng = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let h = String::from_utf8(eng.decode(h).ok()?).ok()?;
    let p = String::from_utf8(eng.decode(p).ok()?).ok()?;
    (h.starts_with('{') && h.ends_with('}') && !p.is_empty()).then_some((h, p))
}

/// Gunzips (or inflates) at most `max` output bytes. Returns `None` when `data` is not
/// compressed; the output is cut at `max`, so a zip bomb costs at most `max` bytes.
pub fn gunzip_capped(data: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let res = if data.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(data)
            .take(max as u64)
            .read_to_end(&mut out)
    } else if data.first() == Some(&0x78) {
        flate2::read::ZlibDecoder::new(data)
            .take(max as u64)
            .read_to_end(&mut out)
    } else {
        return None;
    };
    // A truncated stream still yields what was decoded before the error.
    match res {
        Ok(_) => Some(out),
        Err(_) if !out.is_empty() => Some(out),
        Err(_) => None,
    }
}

fn hex(c: &u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn hex4(b: Option<&[u8]>) -> Option<u32> {
    let b = b?;
    let mut v = 0u32;
    for c in b {
        v = v << 4 | u32::from(hex(c)?);
    }
    Some(v)
}

fn push_char(out: &mut Vec<u8>, cp: u32) {
    // Full-width forms (U+FF01..U+FF5E) are folded to ASCII: some back ends do the same.
    let cp = if (0xFF01..=0xFF5E).contains(&cp) {
        cp - 0xFEE0
    } else {
        cp
    };
    let ch = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
}

/// UTF-8 with invalid bytes kept visible as Latin-1, so `%c0%ae` style overlong forms and
/// binary garbage never panic and still show.
fn lossy(v: Vec<u8>) -> String {
    match String::from_utf8(v) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_layers() {
        assert_eq!(url_decode("a%20b+c", true), "a b c");
        assert_eq!(url_decode("%u003cscript", false), "<script");
        assert_eq!(url_decode("%", false), "%");
        assert_eq!(url_decode("%zz%4", false), "%zz%4");
        assert_eq!(url_decode("%252e%252e", false), "%2e%2e");
        assert_eq!(url_decode("%ff%fe", false), "\u{ff}\u{fe}");
    }

    #[test]
    fn escapes_and_entities() {
        assert_eq!(backslash_decode("\\u003cx\\x3e\\"), "<x>\\");
        assert_eq!(
            html_decode("&lt;svg/onload&equals;alert(1)&gt;"),
            "<svg/onload=alert(1)>"
        );
        assert_eq!(html_decode("j&#X41vascript"), "jAvascript");
        assert_eq!(html_decode("&#0000000040x"), "(x");
        assert_eq!(html_decode("Tom & Jerry &"), "Tom & Jerry &");
    }

    #[test]
    fn base64_only_when_text() {
        assert_eq!(
            base64_text("PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg", 1000).as_deref(),
            Some("<script>alert(1)</script>")
        );
        assert_eq!(base64_text("helloworld", 1000), None);
        assert_eq!(base64_text("Zm9v", 1000), None); // too short to tell
                                                     // A random token decodes to binary.
        assert_eq!(base64_text("q8Zt0Lx3Vn9RkYpWm2HsJfA7bC4dE1gU", 1000), None);
    }

    #[test]
    fn jwt() {
        let t = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig";
        assert_eq!(
            jwt_parts(t),
            Some(("{\"alg\":\"HS256\"}".into(), "{\"sub\":\"1\"}".into()))
        );
        assert_eq!(jwt_parts("eyJ.."), None);
    }

    #[test]
    fn gzip_bomb_is_capped() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 4 << 20];
        assert!(e.write_all(&zeros).is_ok());
        let gz = e.finish().unwrap_or_default();
        let out = gunzip_capped(&gz, 1 << 16).unwrap_or_default();
        assert_eq!(out.len(), 1 << 16);
        assert_eq!(gunzip_capped(b"\x1f\x8b garbage", 100), None);
        assert_eq!(gunzip_capped(b"plain", 100), None);
    }
}
