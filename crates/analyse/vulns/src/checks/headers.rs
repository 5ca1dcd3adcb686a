//! Missing security headers on HTML pages (`missing_security_headers`), one finding per host:
//! `Content-Security-Policy`, frame protection (`X-Frame-Options` or CSP `frame-ancestors`),
//! `X-Content-Type-Options: nosniff`, and `Strict-Transport-Security` when the client's
//! connection is known to be HTTPS. Only successful (2xx) HTML responses count; what a host
//! misses accumulates across its pages.

use super::{Ctx, Hit, Kind};
use crate::text::BodyKind;
use periscope_model::Severity;

const NO_CSP: u32 = 1;
const NO_FRAME: u32 = 2;
const NO_NOSNIFF: u32 = 4;
const NO_HSTS: u32 = 8;

fn title_for(bits: u32, _detail: &str) -> (String, Severity) {
    let mut missing = Vec::new();
    for (bit, name) in [
        (NO_CSP, "Content-Security-Policy"),
        (NO_FRAME, "X-Frame-Options/frame-ancestors"),
        (NO_NOSNIFF, "X-Content-Type-Options"),
        (NO_HSTS, "Strict-Transport-Security"),
    ] {
        if bits & bit != 0 {
            missing.push(name);
        }
    }
    let severity = if bits & (NO_CSP | NO_FRAME | NO_HSTS) != 0 {
        Severity::Low
    } else {
        Severity::Info
    };
    (
        format!("HTML pages without {}", missing.join(", ")),
        severity,
    )
}

/// Runs the check.
pub fn check(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
    let Some(resp) = ctx.resp else { return };
    if ctx.body_kind != BodyKind::Html || !(200..300).contains(&resp.status) {
        return;
    }
    let h = &resp.headers;
    let csp = h.get("content-security-policy");
    let mut bits = 0;
    if csp.is_none() {
        bits |= NO_CSP;
    }
    let frame_ancestors = csp.is_some_and(|c| c.to_ascii_lowercase().contains("frame-ancestors"));
    if h.get("x-frame-options").is_none() && !frame_ancestors {
        bits |= NO_FRAME;
    }
    if !h
        .get("x-content-type-options")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff"))
    {
        bits |= NO_NOSNIFF;
    }
    if ctx.https && h.get("strict-transport-security").is_none() {
        bits |= NO_HSTS;
    }
    if bits == 0 {
        return;
    }
    let (title, severity) = title_for(bits, "");
    let mut hit = Hit::host(
        Kind::MissingSecurityHeaders,
        severity,
        title,
        format!("{} {} (text/html)", resp.status, ctx.path),
        "",
    );
    hit.evidence = crate::text::one_line(&hit.evidence);
    hit.merge = Some((bits, title_for));
    hits.push(hit);
}
