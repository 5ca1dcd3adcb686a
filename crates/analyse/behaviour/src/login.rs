//! Login attempts and their results, learned from the traffic.
//!
//! A **login attempt** is a request with a password-like field (`password`, `passwd`, `pass`,
//! `pwd`, or a name containing `password`) in a form or JSON body (top level or one object
//! down), or with `Authorization: Basic`. The account is the user-like field (`username`,
//! `user`, `login`, `email`, …) or the Basic user.
//!
//! Its **result**: `401`/`403` fail; a `3xx` fails when it sends the client back to the login page
//! (the `Location` holds the request path, or `login`/`signin`/`error`/`failed`) and succeeds
//! otherwise; a `2xx` fails when the start of its body has an error phrase ("invalid",
//! "incorrect", "failed", …) and succeeds otherwise. Anything else (400, 429, 5xx, no response)
//! is unknown and counts neither way.
//!
//! For applications whose failure page has no such phrase, [`LoginLearner`] learns the failure
//! page: a response *shape* (status, body length in 32-byte steps, whether it sets a cookie,
//! where it redirects) that answered two different passwords for the same account cannot be a
//! success — an account has one password — so that shape is a failure on that endpoint from
//! then on. A success differs from those failures (a session cookie, a redirect, another
//! length) and stays a success. Limits: the first phrase-less failure of an endpoint is
//! judged a success (nothing is known yet), and stuffing (one password per account) does not
//! teach the learner anything by itself.

use crate::identity::{basic_credentials, cap, hash_of};
use lru::LruCache;
use periscope_model::{Request, Response};
use std::num::NonZeroUsize;

/// A request that tries credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    /// The account tried (lower-cased, capped), empty when the request named none.
    pub account: String,
    /// A hash of the password tried (the password itself is not kept).
    pub password_hash: u64,
}

/// What the response said about a login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginResult {
    /// The credentials were refused.
    Failed,
    /// The credentials were accepted.
    Succeeded,
    /// No response, or nothing conclusive in it.
    Unknown,
}

const USER_FIELDS: [&str; 11] = [
    "username",
    "user",
    "login",
    "email",
    "user_name",
    "userid",
    "user_id",
    "uname",
    "account",
    "mail",
    "name",
];

fn is_password_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "password" | "passwd" | "pass" | "pwd" | "passphrase"
    ) || n.contains("password")
}

/// The login attempt in `req`, if it is one.
pub fn login_attempt(req: &Request) -> Option<LoginAttempt> {
    if let Some(auth) = req.headers.get("authorization") {
        if let Some((user, _pw)) = basic_credentials(auth) {
            return Some(LoginAttempt {
                account: cap(&user.to_lowercase(), 128),
                password_hash: hash_of(&_pw),
            });
        }
    }
    if req.body.data.is_empty() {
        return None;
    }
    let ctype = req
        .headers
        .get("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let fields: Vec<(String, String)> =
        if ctype.contains("json") || req.body.data.first() == Some(&b'{') {
            json_fields(&req.body.data)
        } else if ctype.contains("x-www-form-urlencoded") || ctype.is_empty() {
            form_fields(&req.body.data)
        } else {
            return None;
        };
    let password = fields
        .iter()
        .find(|(k, v)| is_password_field(k) && !v.is_empty())
        .map(|(_, v)| hash_of(v))?;
    let account = USER_FIELDS
        .iter()
        .find_map(|u| {
            fields
                .iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(u) && !v.is_empty())
        })
        .map(|(_, v)| cap(&v.trim().to_lowercase(), 128))
        .unwrap_or_default();
    Some(LoginAttempt {
        account,
        password_hash: password,
    })
}

/// `name=value` pairs of a urlencoded body (capped at 64 fields).
fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
    text.split('&')
        .take(64)
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((percent_decode(k), percent_decode(v)))
        })
        .collect()
}

/// String and number fields of a JSON object body, at the top level and one object down.
fn json_fields(body: &[u8]) -> Vec<(String, String)> {
    if body.len() > 64 * 1024 {
        return Vec::new();
    }
    let Ok(serde_json::Value::Object(top)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |k: &str, v: &serde_json::Value| match v {
        serde_json::Value::String(s) => out.push((k.to_string(), s.clone())),
        serde_json::Value::Number(n) => out.push((k.to_string(), n.to_string())),
        _ => {}
    };
    for (k, v) in &top {
        if let serde_json::Value::Object(inner) = v {
            for (k2, v2) in inner.iter().take(64) {
                push(k2, v2);
            }
        } else {
            push(k, v);
        }
    }
    out
}

/// `+` and `%XX` decoding; bad escapes are kept as they are.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const ERROR_PHRASES: [&str; 14] = [
    "invalid",
    "incorrect",
    "failed",
    "failure",
    "wrong",
    "denied",
    "unauthorized",
    "bad credentials",
    "not recognized",
    "try again",
    "does not match",
    "doesn't match",
    "locked",
    "unknown user",
];

/// How many bytes of a 200 body are searched for an error phrase.
const BODY_SCAN: usize = 8 * 1024;

/// The result of the login attempt `req` answered by `resp`.
pub fn login_result(req: &Request, resp: Option<&Response>) -> LoginResult {
    let Some(resp) = resp else {
        return LoginResult::Unknown;
    };
    match resp.status {
        401 | 403 => LoginResult::Failed,
        300..=399 => {
            let loc = resp
                .headers
                .get("location")
                .unwrap_or("")
                .to_ascii_lowercase();
            let path = req
                .target
                .split('?')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let back = (!path.is_empty() && path != "/" && loc.contains(&path))
                || ["login", "signin", "sign-in", "error", "fail"]
                    .iter()
                    .any(|w| loc.contains(w));
            if back {
                LoginResult::Failed
            } else {
                LoginResult::Succeeded
            }
        }
        200..=299 => {
            let body = &resp.body.data[..resp.body.data.len().min(BODY_SCAN)];
            let text = String::from_utf8_lossy(body).to_lowercase();
            if ERROR_PHRASES.iter().any(|p| text.contains(p)) {
                LoginResult::Failed
            } else {
                LoginResult::Succeeded
            }
        }
        _ => LoginResult::Unknown,
    }
}

/// Response shapes remembered per login endpoint.
const MAX_SHAPES: usize = 8;
/// (account, password) pairs remembered per shape.
const MAX_PAIRS: usize = 8;

struct Shape {
    shape: u64,
    /// Answered two different passwords of one account: a failure page.
    failure: bool,
    /// Low 32 bits of the account and password hashes that got this shape.
    pairs: Vec<(u32, u32)>,
}

/// Learns each login endpoint's failure page (see the module docs). Endpoints are kept in an
/// LRU table with a cap.
pub struct LoginLearner {
    endpoints: LruCache<u64, Vec<Shape>>,
    /// Endpoints evicted from the full table.
    pub evicted: u64,
}

impl LoginLearner {
    /// A learner following at most `cap` login endpoints.
    pub fn new(cap: NonZeroUsize) -> Self {
        LoginLearner {
            endpoints: LruCache::new(cap),
            evicted: 0,
        }
    }

    /// Endpoints followed.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// True when no endpoint is followed.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// Heap bytes held (an estimate: LRU entries, shapes and pairs).
    pub fn memory_estimate(&self) -> usize {
        self.endpoints
            .iter()
            .map(|(_, shapes)| {
                8 + 24
                    + 41
                    + shapes.capacity() * std::mem::size_of::<Shape>()
                    + shapes.iter().map(|s| s.pairs.capacity() * 8).sum::<usize>()
            })
            .sum()
    }

    /// Judges `attempt` (the request `req` to `endpoint`) from its response, learning as it goes.
    pub fn judge(
        &mut self,
        endpoint: u64,
        attempt: &LoginAttempt,
        req: &Request,
        resp: Option<&Response>,
    ) -> LoginResult {
        let first = login_result(req, resp);
        let Some(resp) = resp else {
            return first;
        };
        if first == LoginResult::Unknown {
            return first;
        }
        let shape = hash_of((
            resp.status,
            resp.body.len / 32,
            resp.headers.get("set-cookie").is_some(),
            resp.headers
                .get("location")
                .map(|l| l.split('?').next().unwrap_or("")),
        ));
        if !self.endpoints.contains(&endpoint)
            && self.endpoints.push(endpoint, Vec::new()).is_some()
        {
            self.evicted += 1;
        }
        let Some(shapes) = self.endpoints.get_mut(&endpoint) else {
            return first;
        };
        let i = match shapes.iter().position(|s| s.shape == shape) {
            Some(i) => i,
            None => {
                if shapes.len() >= MAX_SHAPES {
                    // Forget the least used shape.
                    if let Some(j) = (0..shapes.len()).min_by_key(|&j| shapes[j].pairs.len()) {
                        shapes.swap_remove(j);
                    }
                }
                shapes.push(Shape {
                    shape,
                    failure: false,
                    pairs: Vec::new(),
                });
                shapes.len() - 1
            }
        };
        let s = &mut shapes[i];
        if first == LoginResult::Failed {
            return first;
        }
        let pair = (
            hash_of(&attempt.account) as u32,
            attempt.password_hash as u32,
        );
        if !attempt.account.is_empty() && s.pairs.iter().any(|(a, p)| *a == pair.0 && *p != pair.1)
        {
            s.failure = true;
        }
        if !s.pairs.contains(&pair) && s.pairs.len() < MAX_PAIRS {
            s.pairs.push(pair);
        }
        if s.failure {
            LoginResult::Failed
        } else {
            first
        }
    }
}
