//! Credentials and session tokens over plain HTTP (`cleartext_credentials`).
//!
//! Runs only on exchanges that crossed the observed network in plaintext ([`Ctx::plaintext`],
//! decided by the scanner: see [`crate::TrafficSource`]). Reports, each once per host: an
//! `Authorization` header (Basic shows the password itself), a session cookie sent or set, a
//! JWT in a request; and once per endpoint: a password field in a form or JSON body or query.

use super::cookies::{is_session_cookie, SetCookie};
use super::{Ctx, Hit, Kind};
use crate::text::{mask, one_line};
use periscope_model::Severity;

/// Parameter names that hold a password.
const PASSWORD_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "passphrase",
    "new_password",
    "old_password",
    "current_password",
    "password1",
    "password2",
    "confirm_password",
    "user_password",
    "login_password",
];

/// Runs the check.
pub fn check(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
    if !ctx.plaintext {
        return;
    }
    if let Some(req) = ctx.req {
        if let Some(auth) = req.headers.get("authorization") {
            let auth = auth.trim();
            let (scheme, cred) = auth.split_once(' ').unwrap_or((auth, ""));
            let scheme_l = scheme.to_ascii_lowercase();
            let severity = if scheme_l == "basic" {
                Severity::High
            } else {
                Severity::Medium
            };
            hits.push(Hit::host(
                Kind::CleartextCredentials,
                severity,
                format!("{} credentials sent over plain HTTP", one_line(scheme)),
                one_line(&format!("Authorization: {scheme} {}", mask(cred.trim()))),
                format!("authorization|{scheme_l}"),
            ));
        }
        for cookie_line in req.headers.get_all("cookie") {
            for pair in cookie_line.split(';').take(64) {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let (name, value) = (name.trim(), value.trim());
                if !value.is_empty() && is_session_cookie(name, value) {
                    hits.push(Hit::host(
                        Kind::CleartextCredentials,
                        Severity::Medium,
                        format!("Session cookie {} sent over plain HTTP", one_line(name)),
                        one_line(&format!("Cookie: {name}={}", mask(value))),
                        format!("cookie|{name}"),
                    ));
                }
            }
        }
        for (name, value) in ctx.params {
            if !value.is_empty() && PASSWORD_NAMES.contains(&name.to_ascii_lowercase().as_str()) {
                hits.push(Hit::endpoint(
                    Kind::CleartextCredentials,
                    Severity::High,
                    format!("Password parameter {} sent over plain HTTP", one_line(name)),
                    one_line(&format!("{name}={}", mask(value))),
                    format!("param|{name}"),
                ));
                break;
            }
        }
        if let Some(name) = json_password(req) {
            hits.push(Hit::endpoint(
                Kind::CleartextCredentials,
                Severity::High,
                format!(
                    "Password field {} sent over plain HTTP in JSON",
                    one_line(&name)
                ),
                one_line(&format!("\"{name}\": \"…\"")),
                format!("json|{name}"),
            ));
        }
    }
    if let Some(resp) = ctx.resp {
        for line in resp.headers.get_all("set-cookie").take(32) {
            let Some(c) = SetCookie::parse(line) else {
                continue;
            };
            if !c.is_deletion() && is_session_cookie(c.name, c.value) {
                hits.push(Hit::host(
                    Kind::CleartextCredentials,
                    Severity::Medium,
                    format!("Session cookie {} set over plain HTTP", one_line(c.name)),
                    one_line(&format!("Set-Cookie: {}={}", c.name, mask(c.value))),
                    format!("cookie|{}", c.name),
                ));
            }
        }
    }
}

/// Name of a non-empty password field at the top level (or one level down) of a JSON body.
fn json_password(req: &periscope_model::Request) -> Option<String> {
    let data = &req.body.data;
    let is_json = req
        .headers
        .get("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    if !is_json
        || data.is_empty()
        || data.len() > 64 * 1024
        || !crate::text::memchr_ci(data, b"pass")
    {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(data).ok()?;
    let top = v.as_object()?;
    let mut objects = vec![top];
    objects.extend(top.values().filter_map(|c| c.as_object()));
    for obj in objects {
        for (k, val) in obj {
            if PASSWORD_NAMES.contains(&k.to_ascii_lowercase().as_str())
                && val.as_str().is_some_and(|s| !s.is_empty())
            {
                return Some(k.clone());
            }
        }
    }
    None
}
