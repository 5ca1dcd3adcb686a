//! How a request authenticated: the schemes OpenAPI can describe.

use crate::classify::is_jwt;
use serde::{Deserialize, Serialize};

/// One way a request carried credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum AuthKind {
    /// No credentials at all.
    None,
    /// `Authorization: Basic`.
    Basic,
    /// `Authorization: Bearer` with a JWT.
    BearerJwt,
    /// `Authorization: Bearer` with an opaque token.
    Bearer,
    /// Another `Authorization` scheme (Digest, AWS4-HMAC-SHA256, ...), by scheme name.
    OtherAuthorization(String),
    /// An API key in the named header.
    ApiKeyHeader(String),
    /// An API key in the named query parameter.
    ApiKeyQuery(String),
    /// A session cookie of that name.
    CookieSession(String),
}

impl AuthKind {
    /// Short label, e.g. `api_key_header:X-Api-Key`.
    pub fn label(&self) -> String {
        match self {
            AuthKind::None => "none".into(),
            AuthKind::Basic => "basic".into(),
            AuthKind::BearerJwt => "bearer_jwt".into(),
            AuthKind::Bearer => "bearer".into(),
            AuthKind::OtherAuthorization(s) => format!("authorization:{s}"),
            AuthKind::ApiKeyHeader(n) => format!("api_key_header:{n}"),
            AuthKind::ApiKeyQuery(n) => format!("api_key_query:{n}"),
            AuthKind::CookieSession(n) => format!("cookie:{n}"),
        }
    }
}

/// Header names that carry API keys.
pub fn is_api_key_header(name: &str) -> bool {
    const NAMES: [&str; 9] = [
        "x-api-key",
        "api-key",
        "apikey",
        "x-apikey",
        "x-auth-token",
        "x-access-token",
        "x-api-token",
        "x-token",
        "x-key",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Query parameter names that carry API keys or tokens.
pub fn is_api_key_query(name: &str) -> bool {
    const NAMES: [&str; 8] = [
        "api_key",
        "apikey",
        "api-key",
        "key",
        "access_token",
        "token",
        "auth",
        "auth_token",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Cookie names that hold a session.
pub fn is_session_cookie(name: &str) -> bool {
    const NAMES: [&str; 14] = [
        "session",
        "sessionid",
        "session_id",
        "sid",
        "sess",
        "jsessionid",
        "phpsessid",
        "connect.sid",
        "asp.net_sessionid",
        "auth",
        "auth_token",
        "token",
        "jwt",
        "access_token",
    ];
    let suffix = |sfx: &str| {
        name.len() > sfx.len()
            && name
                .get(name.len() - sfx.len()..)
                .is_some_and(|t| t.eq_ignore_ascii_case(sfx))
    };
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
        || suffix("_session")
        || suffix("-session")
        || suffix("_sess")
}

/// The kind an `Authorization` value shows.
pub fn authorization_kind(value: &str) -> AuthKind {
    let v = value.trim();
    let (scheme, cred) = v.split_once(' ').unwrap_or((v, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        AuthKind::Basic
    } else if scheme.eq_ignore_ascii_case("bearer") {
        if is_jwt(cred.trim()) {
            AuthKind::BearerJwt
        } else {
            AuthKind::Bearer
        }
    } else {
        AuthKind::OtherAuthorization(scheme.chars().take(32).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(authorization_kind("Basic dXNlcjpwYXNz"), AuthKind::Basic);
        assert_eq!(
            authorization_kind("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"),
            AuthKind::BearerJwt
        );
        assert_eq!(authorization_kind("bearer abcdef"), AuthKind::Bearer);
        assert_eq!(
            authorization_kind("Digest x"),
            AuthKind::OtherAuthorization("Digest".into())
        );
        assert_eq!(
            authorization_kind(""),
            AuthKind::OtherAuthorization(String::new())
        );
        assert!(is_api_key_header("X-API-Key"));
        assert!(is_session_cookie("JSESSIONID"));
        assert!(is_session_cookie("myapp_session"));
        assert!(!is_session_cookie("theme"));
    }
}
