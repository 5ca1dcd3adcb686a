//! Reflected XSS (`reflected_xss`): a request parameter value with HTML-special characters
//! (a tag `<x`, a quote breaking out into an `on…=` handler, or `javascript:`) that appears
//! byte for byte, unescaped, in an HTML response. An escaped reflection (`&lt;script&gt;`)
//! does not match. One finding per endpoint and parameter.

use super::{Ctx, Hit, Kind};
use crate::text::{excerpt, one_line, BodyKind};
use periscope_model::Severity;

/// Shortest value considered (`<b>` alone is too common to mean anything).
const MIN_LEN: usize = 5;

fn is_active(v: &str) -> bool {
    let b = v.as_bytes();
    let tag = b
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'));
    let lower = v.to_ascii_lowercase();
    let handler =
        (v.contains('"') || v.contains('\'')) && lower.contains("on") && lower.contains('=') && {
            let mut found = false;
            for (i, _) in lower.match_indices("on") {
                let rest = &lower[i + 2..];
                let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
                if name_len >= 3 && rest[name_len..].trim_start().starts_with('=') {
                    found = true;
                    break;
                }
            }
            found
        };
    tag || handler || lower.contains("javascript:")
}

/// Runs the check.
pub fn check(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
    if ctx.body_kind != BodyKind::Html || ctx.resp.is_none() {
        return;
    }
    let finder_body = ctx.body;
    for (name, value) in ctx.params {
        if value.len() < MIN_LEN || !is_active(value) {
            continue;
        }
        if let Some(pos) = memchr::memmem::find(finder_body, value.as_bytes()) {
            hits.push(Hit::endpoint(
                Kind::ReflectedXss,
                Severity::High,
                format!("Parameter {} reflected unescaped into HTML", one_line(name)),
                excerpt(finder_body, pos, pos + value.len(), 30),
                name.clone(),
            ));
        }
    }
}
