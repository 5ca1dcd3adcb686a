//! Who sent a request.
//!
//! Two identities, used for different things:
//!
//! - the **source IP**: the TCP peer, or — only when the peer is a configured trusted proxy —
//!   the rightmost address in `X-Forwarded-For` (then `Forwarded`, then `X-Real-IP`) that is not
//!   itself a trusted proxy. Per-source incidents use it: `attack`, `campaign`,
//!   `forced_browsing`, `credential_stuffing` (per IP), `scanner`. Attackers rarely log in, and
//!   one attacker may use many accounts. IPv6 sources are counted per /64 ([`Source`]).
//! - the **user**: a JWT `sub` (signature not verified: good enough to tell users apart, not to
//!   trust), an API key, an opaque bearer token, a Basic-auth user or a session cookie, else
//!   the source IP. Per-user incidents use it: `bola` (which also needs a user, see there).
//!   Secrets (keys, tokens, cookies) are never shown: the identity holds a short hash.

use base64::Engine;
use periscope_model::{Exchange, Headers};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// An address block, `10.0.0.0/8` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ADDR` or `ADDR/PREFIX`.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IP address"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix {p:?} is not in 0..={max}"))?,
            None => max,
        };
        Ok(Cidr { net, prefix })
    }

    /// True when `ip` is inside the block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// A source as the per-source detectors count it: an IPv4 address, or an IPv6 network of the
/// configured prefix (default /64: one subscriber's or host's block, inside which an attacker
/// picks new addresses at will). Shown as `203.0.113.9` or `2001:db8:1:2::/64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Source {
    /// The address, with the bits beyond the prefix cleared.
    pub addr: IpAddr,
    /// Prefix length (32 for IPv4).
    pub prefix: u8,
}

impl Source {
    /// The source of `ip` with IPv6 addresses grouped by `v6_prefix` bits.
    pub fn of(ip: IpAddr, v6_prefix: u8) -> Source {
        match canonical(ip) {
            IpAddr::V6(a) => {
                let prefix = v6_prefix.clamp(1, 128);
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                Source {
                    addr: IpAddr::V6((u128::from(a) & mask).into()),
                    prefix,
                }
            }
            v4 => Source {
                addr: v4,
                prefix: 32,
            },
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.addr {
            IpAddr::V6(a) if self.prefix < 128 => write!(f, "{a}/{}", self.prefix),
            a => write!(f, "{a}"),
        }
    }
}

/// Forwarding hops looked at, from the right.
const MAX_HOPS: usize = 32;

/// Decides the source IP of requests.
#[derive(Debug, Clone, Default)]
pub struct ClientResolver {
    trusted: Vec<Cidr>,
}

impl ClientResolver {
    /// A resolver that believes forwarding headers from these proxies only.
    pub fn new(trusted: Vec<Cidr>) -> Self {
        ClientResolver { trusted }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|c| c.contains(ip))
    }

    /// The source IP of the exchange's request (see the module docs).
    pub fn source_ip(&self, ex: &Exchange) -> IpAddr {
        let peer = canonical(ex.flow.client.ip);
        if !self.is_trusted(peer) {
            return peer;
        }
        let Some(req) = &ex.request else {
            return peer;
        };
        let h = &req.headers;
        let mut xff: Vec<&str> = h
            .get_all("x-forwarded-for")
            .flat_map(|v| v.split(','))
            .collect();
        // Only the hops nearest to us can matter; a forged list may be long.
        xff.drain(..xff.len().saturating_sub(MAX_HOPS));
        if let Some(ip) = self.rightmost_untrusted(xff.iter().filter_map(|s| parse_hop(s))) {
            return ip;
        }
        let mut fwd: Vec<&str> = h
            .get_all("forwarded")
            .flat_map(|v| v.split(','))
            .filter_map(|elem| {
                elem.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then_some(v)
                })
            })
            .collect();
        fwd.drain(..fwd.len().saturating_sub(MAX_HOPS));
        if let Some(ip) = self.rightmost_untrusted(fwd.iter().filter_map(|s| parse_hop(s))) {
            return ip;
        }
        h.get("x-real-ip").and_then(parse_hop).unwrap_or(peer)
    }

    /// Walks the hops from the right (nearest) and returns the first one that is not a trusted
    /// proxy; when every hop is trusted, the leftmost.
    fn rightmost_untrusted(&self, hops: impl DoubleEndedIterator<Item = IpAddr>) -> Option<IpAddr> {
        let mut last = None;
        for ip in hops.rev() {
            if !self.is_trusted(ip) {
                return Some(ip);
            }
            last = Some(ip);
        }
        last
    }
}

/// One hop of a forwarding header: `1.2.3.4`, `1.2.3.4:567`, `"[2001:db8::1]:80"`, `2001:db8::1`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok().map(canonical);
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok().map(canonical)
}

/// Cookie names that hold a session id.
const SESSION_COOKIES: [&str; 9] = [
    "session",
    "sessionid",
    "sid",
    "phpsessid",
    "jsessionid",
    "connect.sid",
    "asp.net_sessionid",
    "_session",
    "laravel_session",
];

/// Headers that carry an API key.
const API_KEY_HEADERS: [&str; 5] = [
    "x-api-key",
    "api-key",
    "apikey",
    "x-auth-token",
    "x-api-token",
];

/// The user behind a request, when the request says (see the module docs): `jwt:alice`,
/// `basic:alice`, `apikey:1a2b3c4d`, `token:1a2b3c4d`, `session:1a2b3c4d`.
pub fn user_identity(headers: &Headers) -> Option<String> {
    if let Some(auth) = headers.get("authorization") {
        let auth = auth.trim();
        if let Some(token) = strip_prefix_ci(auth, "bearer ") {
            let token = token.trim();
            return Some(match jwt_subject(token) {
                Some(sub) => format!("jwt:{}", cap(&sub, 64)),
                None => format!("token:{}", short_hash(token)),
            });
        }
        if let Some((user, _)) = basic_credentials(auth) {
            return Some(format!("basic:{}", cap(&user, 64)));
        }
    }
    for name in API_KEY_HEADERS {
        if let Some(v) = headers.get(name).filter(|v| !v.trim().is_empty()) {
            return Some(format!("apikey:{}", short_hash(v.trim())));
        }
    }
    for (name, value) in cookies(headers) {
        if SESSION_COOKIES.iter().any(|c| name.eq_ignore_ascii_case(c)) && !value.is_empty() {
            if let Some(sub) = jwt_subject(value) {
                return Some(format!("jwt:{}", cap(&sub, 64)));
            }
            return Some(format!("session:{}", short_hash(value)));
        }
    }
    None
}

/// `name=value` pairs of every `Cookie` header.
pub fn cookies(headers: &Headers) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all("cookie")
        .flat_map(|v| v.split(';'))
        .filter_map(|c| {
            let (n, v) = c.split_once('=')?;
            Some((n.trim(), v.trim()))
        })
}

/// The user and password of `Basic` credentials.
pub fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let b64 = strip_prefix_ci(authorization.trim(), "basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// The `sub` claim of a JWT (not verified).
pub fn jwt_subject(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 8192 {
        return None;
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    match claims.get("sub")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A client fingerprint: User-Agent, `Accept-Language` and the order of the header names.
/// Tools and scripts keep theirs across source addresses.
pub fn fingerprint(headers: &Headers) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    headers.get("user-agent").unwrap_or("").hash(&mut h);
    headers.get("accept-language").unwrap_or("").hash(&mut h);
    for (name, _) in &headers.0 {
        name.to_ascii_lowercase().hash(&mut h);
    }
    h.finish()
}

/// A stable 64-bit hash (same in every run: `DefaultHasher::new` has fixed keys).
pub fn hash_of(v: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Eight hex digits standing for a secret.
pub fn short_hash(secret: &str) -> String {
    format!("{:08x}", hash_of(secret) >> 32)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// At most `max` characters of `s`.
pub fn cap(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
