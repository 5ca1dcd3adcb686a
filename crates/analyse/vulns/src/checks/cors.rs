//! CORS misconfiguration (`cors_misconfiguration`): the response allows credentials
//! (`Access-Control-Allow-Credentials: true`) to an origin it took from the request when that
//! origin is another site (its registrable domain, by the Public Suffix List, differs from the host's), or to `null`
//! (sandboxed iframes and `data:` pages send `Origin: null`). A sibling subdomain allowed with
//! credentials (`app.shop.example` for `api.shop.example`) is a normal set-up, not reported.

use super::{Ctx, Hit, Kind};
use crate::text::{authority_of, host_name, one_line, site_of};
use periscope_model::Severity;

/// Runs the check.
pub fn check(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
    let (Some(req), Some(resp)) = (ctx.req, ctx.resp) else {
        return;
    };
    let Some(allow) = resp.headers.get("access-control-allow-origin") else {
        return;
    };
    let creds = resp
        .headers
        .get("access-control-allow-credentials")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if !creds {
        return;
    }
    let allow = allow.trim();
    let evidence = || {
        one_line(&format!("Origin: {} → Access-Control-Allow-Origin: {allow}, Access-Control-Allow-Credentials: true", req.headers.get("origin").unwrap_or("-")))
    };
    if allow.eq_ignore_ascii_case("null") {
        hits.push(Hit::endpoint(
            Kind::CorsMisconfiguration,
            Severity::High,
            "CORS allows the null origin with credentials".into(),
            evidence(),
            "null",
        ));
        return;
    }
    let Some(origin) = req.headers.get("origin").map(str::trim) else {
        return;
    };
    if origin != allow || origin.eq_ignore_ascii_case("null") {
        return;
    }
    let Some(origin_host) = authority_of(origin).map(host_name) else {
        return;
    };
    let host = host_name(ctx.host);
    if site_of(&origin_host) != site_of(&host) {
        hits.push(Hit::endpoint(
            Kind::CorsMisconfiguration,
            Severity::High,
            "CORS reflects an arbitrary Origin with credentials".into(),
            evidence(),
            "reflected",
        ));
    }
}
