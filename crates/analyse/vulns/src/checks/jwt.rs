//! Weak JSON Web Tokens (`weak_jwt`), in requests (`Authorization: Bearer`, cookies, parameters)
//! and responses (`Set-Cookie`, bodies). Reasons, each its own finding per host:
//!
//! - `alg_none`: the header says `"alg": "none"` — anyone can forge tokens the server accepts.
//! - `weak_secret`: an HS256/384/512 signature **verifies** with a secret from the built-in list
//!   of common secrets (`jwt_secrets.txt`, plus any in the config) — anyone can forge tokens.
//! - `no_exp`: no `exp` claim — a stolen token works forever.
//! - `long_lifetime`: `exp - iat` (or `exp` - capture time when `iat` is missing) longer than
//!   the configured lifetime.
//!
//! Verdicts are cached per token (an LRU), so a token sent with every request costs one
//! hash lookup after its first sighting.

use super::{family, Ctx, Hit, Kind};
use crate::text::{mask, one_line};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use lru::LruCache;
use periscope_model::Severity;
use regex::bytes::Regex;
use sha2::{Sha256, Sha384, Sha512};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::num::NonZeroUsize;

/// The built-in list of common JWT secrets (one per line; `#` comments).
pub const COMMON_SECRETS: &str = include_str!("../jwt_secrets.txt");

/// Longest token looked at.
const MAX_TOKEN_LEN: usize = 8192;
/// Most tokens looked at per exchange.
const MAX_TOKENS: usize = 6;

/// True when `s` has the shape of a JWT (`eyJ….eyJ….sig`).
pub fn looks_like_jwt(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("eyJ")
        && s.len() <= MAX_TOKEN_LEN
        && s.matches('.').count() == 2
        && s.split('.').nth(1).is_some_and(|p| p.starts_with("eyJ"))
}

/// Why a token is weak.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Weakness {
    AlgNone,
    WeakSecret { alg: String, secret: String },
    NoExp,
    LongLifetime { secs: u64 },
}

/// The JWT check with its secrets and verdict cache.
pub struct JwtCheck {
    secrets: Vec<Vec<u8>>,
    max_lifetime_secs: u64,
    cache: LruCache<u64, Vec<Weakness>>,
    /// Keyed per process, so that nobody can craft a token whose hash collides with another's
    /// cached verdict.
    hasher: RandomState,
    token_re: Regex,
}

impl JwtCheck {
    /// Builds the check with the built-in secrets plus `extra`.
    pub fn new(
        extra: &[String],
        max_lifetime_secs: u64,
        cache_size: NonZeroUsize,
    ) -> Result<JwtCheck, regex::Error> {
        let mut secrets: Vec<Vec<u8>> = COMMON_SECRETS
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.as_bytes().to_vec())
            .collect();
        secrets.extend(extra.iter().map(|s| s.as_bytes().to_vec()));
        secrets.dedup();
        Ok(JwtCheck {
            secrets,
            max_lifetime_secs,
            cache: LruCache::new(cache_size),
            hasher: RandomState::new(),
            token_re: super::bre(
                r"eyJ[A-Za-z0-9_-]{4,4096}\.eyJ[A-Za-z0-9_-]{2,4096}\.[A-Za-z0-9_-]{0,1024}",
            )?,
        })
    }

    /// Finds the tokens of an exchange and reports their weaknesses.
    pub fn check(&mut self, ctx: &Ctx<'_>, now_secs: u64, hits: &mut Vec<Hit>) {
        let mut tokens: Vec<(String, &'static str)> = Vec::new();
        let push = |t: &str, where_: &'static str, tokens: &mut Vec<(String, &'static str)>| {
            let t = t.trim().trim_matches('"');
            if tokens.len() < MAX_TOKENS && looks_like_jwt(t) && !tokens.iter().any(|(x, _)| x == t)
            {
                tokens.push((t.to_string(), where_));
            }
        };
        if let Some(req) = ctx.req {
            for (name, value) in &req.headers.0 {
                if name.eq_ignore_ascii_case("authorization") {
                    let v = value.trim();
                    let t = v.split_once(' ').map_or(v, |(_, t)| t);
                    push(t, "request", &mut tokens);
                } else if name.eq_ignore_ascii_case("cookie") {
                    for pair in value.split(';') {
                        if let Some((_, v)) = pair.split_once('=') {
                            push(v, "request", &mut tokens);
                        }
                    }
                }
            }
            for (_, v) in ctx.params {
                push(v, "request", &mut tokens);
            }
        }
        if let Some(resp) = ctx.resp {
            for line in resp.headers.get_all("set-cookie") {
                if let Some(c) = super::cookies::SetCookie::parse(line) {
                    push(c.value, "response", &mut tokens);
                }
            }
            if ctx.saw(family::JWT) {
                for m in self.token_re.find_iter(ctx.body).take(MAX_TOKENS) {
                    push(
                        &String::from_utf8_lossy(m.as_bytes()),
                        "response",
                        &mut tokens,
                    );
                }
            }
        }
        for (token, where_) in tokens {
            for w in self.verdict(&token, now_secs) {
                hits.push(hit_for(&w, &token, where_, self.max_lifetime_secs));
            }
        }
    }

    fn verdict(&mut self, token: &str, now_secs: u64) -> Vec<Weakness> {
        let key = self.hasher.hash_one(token);
        if let Some(v) = self.cache.get(&key) {
            return v.clone();
        }
        let v = self.analyse(token, now_secs);
        self.cache.put(key, v.clone());
        v
    }

    fn analyse(&self, token: &str, now_secs: u64) -> Vec<Weakness> {
        let mut parts = token.split('.');
        let (Some(h64), Some(p64), Some(s64)) = (parts.next(), parts.next(), parts.next()) else {
            return Vec::new();
        };
        let (Ok(hbytes), Ok(pbytes)) = (decode_b64(h64), decode_b64(p64)) else {
            return Vec::new();
        };
        let (Ok(header), Ok(claims)) = (
            serde_json::from_slice::<serde_json::Value>(&hbytes),
            serde_json::from_slice::<serde_json::Value>(&pbytes),
        ) else {
            return Vec::new();
        };
        let (Some(header), Some(claims)) = (header.as_object(), claims.as_object()) else {
            return Vec::new();
        };
        let alg = header.get("alg").and_then(|a| a.as_str()).unwrap_or("");
        let mut out = Vec::new();
        if alg.eq_ignore_ascii_case("none") {
            out.push(Weakness::AlgNone);
        } else if let Ok(sig) = decode_b64(s64) {
            let signed = &token.as_bytes()[..h64.len() + 1 + p64.len()];
            if let Some(secret) = self.crack(alg, signed, &sig) {
                out.push(Weakness::WeakSecret {
                    alg: alg.to_string(),
                    secret: String::from_utf8_lossy(secret).into_owned(),
                });
            }
        }
        let num = |k: &str| {
            claims
                .get(k)
                .and_then(|v| v.as_f64())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| v as u64)
        };
        match (num("exp"), num("iat")) {
            (None, _) => out.push(Weakness::NoExp),
            (Some(exp), iat) => {
                let from = iat.unwrap_or(now_secs);
                let life = exp.saturating_sub(from);
                if life > self.max_lifetime_secs {
                    out.push(Weakness::LongLifetime { secs: life });
                }
            }
        }
        out
    }

    /// The common secret that makes the HMAC signature verify, if any.
    fn crack(&self, alg: &str, signed: &[u8], sig: &[u8]) -> Option<&[u8]> {
        fn verifies<M: Mac + hmac::digest::KeyInit>(
            secret: &[u8],
            signed: &[u8],
            sig: &[u8],
        ) -> bool {
            let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(secret) else {
                return false;
            };
            mac.update(signed);
            mac.verify_slice(sig).is_ok()
        }
        let check: fn(&[u8], &[u8], &[u8]) -> bool = match alg {
            "HS256" if sig.len() == 32 => verifies::<Hmac<Sha256>>,
            "HS384" if sig.len() == 48 => verifies::<Hmac<Sha384>>,
            "HS512" if sig.len() == 64 => verifies::<Hmac<Sha512>>,
            _ => return None,
        };
        self.secrets
            .iter()
            .find(|s| check(s, signed, sig))
            .map(Vec::as_slice)
    }
}

fn decode_b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('='))
}

fn hit_for(w: &Weakness, token: &str, where_: &str, max_lifetime: u64) -> Hit {
    let shown = mask(token);
    let (reason, severity, title) = match w {
        Weakness::AlgNone => (
            "alg_none",
            Severity::High,
            "JWT with alg none (unsigned, forgeable)".to_string(),
        ),
        Weakness::WeakSecret { alg, secret } => (
            "weak_secret",
            Severity::Critical,
            format!(
                "JWT ({alg}) signed with a common secret {:?}",
                one_line(secret)
            ),
        ),
        Weakness::NoExp => (
            "no_exp",
            Severity::Low,
            "JWT without expiry (exp)".to_string(),
        ),
        Weakness::LongLifetime { secs } => (
            "long_lifetime",
            Severity::Low,
            format!(
                "JWT lifetime {} days, over the {}-day limit",
                secs / 86_400,
                max_lifetime / 86_400
            ),
        ),
    };
    Hit::host(
        Kind::WeakJwt,
        severity,
        title,
        format!("{where_}: {shown}"),
        reason,
    )
}
