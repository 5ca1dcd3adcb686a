//! Session cookies set without `Secure`, `HttpOnly` or `SameSite` (`insecure_cookie`), one
//! finding per host and cookie name.
//!
//! A cookie is a session cookie when its name says so (`session`, `sid`, `PHPSESSID`,
//! `JSESSIONID`, `connect.sid`, `*_session`, `auth`, `token`, `jwt`, `remember_*`; not CSRF
//! cookies, which scripts must read) or its value is a JWT. Deletions (empty value, `Max-Age=0`)
//! are ignored. `HttpOnly` and `SameSite` are checked always; `Secure` only when the client's
//! connection is known to be HTTPS ([`Ctx::https`]): on plain HTTP browsers refuse to store a
//! `Secure` cookie, and the real problem there is `cleartext_credentials`.

use super::{Ctx, Hit, Kind};
use crate::text::{mask, one_line};
use periscope_model::Severity;

const MISSING_SECURE: u32 = 1;
const MISSING_HTTPONLY: u32 = 2;
const MISSING_SAMESITE: u32 = 4;
const SAMESITE_NONE_INSECURE: u32 = 8;

/// True when a cookie of this name (and value) carries a session or credential.
pub fn is_session_cookie(name: &str, value: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if n.contains("csrf") || n.contains("xsrf") {
        return false;
    }
    const EXACT: &[&str] = &[
        "sid",
        "ssid",
        "session",
        "sessionid",
        "session_id",
        "phpsessid",
        "jsessionid",
        "asp.net_sessionid",
        "connect.sid",
        "jwt",
        "token",
        "auth",
        "access_token",
        "refresh_token",
        "id_token",
        "remember_token",
        "rememberme",
        "laravel_session",
        "ci_session",
        ".aspxauth",
        "_oauth2_proxy",
        "cfid",
        "cftoken",
    ];
    EXACT.contains(&n.as_str())
        || n.contains("sess")
        || n.starts_with("auth")
        || n.ends_with("_auth")
        || n.ends_with("token")
        || n.starts_with("remember")
        || n.starts_with("aspsessionid")
        || n.starts_with("wordpress_logged_in")
        || super::jwt::looks_like_jwt(value)
}

/// A parsed `Set-Cookie` line: name, value, lower-cased attribute names and values.
pub struct SetCookie<'a> {
    /// Cookie name.
    pub name: &'a str,
    /// Cookie value.
    pub value: &'a str,
    attrs: Vec<(String, &'a str)>,
}

impl<'a> SetCookie<'a> {
    /// Parses one `Set-Cookie` value; `None` without a `name=`.
    pub fn parse(line: &'a str) -> Option<SetCookie<'a>> {
        let mut parts = line.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let attrs = parts
            .take(32)
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.trim().to_ascii_lowercase(), v.trim())
            })
            .collect();
        Some(SetCookie {
            name,
            value: value.trim().trim_matches('"'),
            attrs,
        })
    }

    /// The attribute's value, `Some("")` for a flag, `None` when absent.
    pub fn attr(&self, name: &str) -> Option<&'a str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }

    /// True when the cookie deletes itself (empty value, `Max-Age` ≤ 0, expiry in the 1970s).
    pub fn is_deletion(&self) -> bool {
        self.value.is_empty()
            || self.value.eq_ignore_ascii_case("deleted")
            || self
                .attr("max-age")
                .is_some_and(|v| v.trim().starts_with('-') || v.trim() == "0")
            || self.attr("expires").is_some_and(|v| v.contains("1970"))
    }
}

fn title_for(bits: u32, name: &str) -> (String, Severity) {
    let mut missing = Vec::new();
    if bits & MISSING_SECURE != 0 {
        missing.push("Secure");
    }
    if bits & MISSING_HTTPONLY != 0 {
        missing.push("HttpOnly");
    }
    if bits & MISSING_SAMESITE != 0 {
        missing.push("SameSite");
    }
    let mut title = format!("Session cookie set without {}", missing.join(", "));
    if bits & SAMESITE_NONE_INSECURE != 0 {
        if missing.is_empty() {
            title = "Session cookie with SameSite=None but without Secure".to_string();
        } else {
            title.push_str(" (SameSite=None without Secure)");
        }
    }
    let severity = if bits & (MISSING_SECURE | MISSING_HTTPONLY | SAMESITE_NONE_INSECURE) != 0 {
        Severity::Medium
    } else {
        Severity::Low
    };
    (format!("{title}: {}", one_line(name)), severity)
}

/// Checks every session cookie the response sets.
pub fn check(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
    let Some(resp) = ctx.resp else { return };
    for line in resp.headers.get_all("set-cookie").take(32) {
        let Some(c) = SetCookie::parse(line) else {
            continue;
        };
        if c.is_deletion() || !is_session_cookie(c.name, c.value) {
            continue;
        }
        let mut bits = 0;
        let secure = c.attr("secure").is_some();
        if ctx.https && !secure {
            bits |= MISSING_SECURE;
        }
        if c.attr("httponly").is_none() {
            bits |= MISSING_HTTPONLY;
        }
        match c.attr("samesite") {
            None => bits |= MISSING_SAMESITE,
            Some(v) if v.eq_ignore_ascii_case("none") && !secure => bits |= SAMESITE_NONE_INSECURE,
            Some(_) => {}
        }
        if bits == 0 {
            continue;
        }
        let (title, severity) = title_for(bits, c.name);
        let shown = line.replacen(c.value, &mask(c.value), 1);
        let mut hit = Hit::host(
            Kind::InsecureCookie,
            severity,
            title,
            one_line(&format!("Set-Cookie: {shown}")),
            c.name.to_string(),
        );
        hit.merge = Some((bits, title_for));
        hits.push(hit);
    }
}
