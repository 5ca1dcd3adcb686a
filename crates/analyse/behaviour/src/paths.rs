//! Hosts, paths and object ids as the detectors see them.

use periscope_model::Exchange;

/// The host as the client named it (`Host`, lower-cased, capped), else the server address.
pub fn host(ex: &Exchange) -> String {
    ex.request
        .as_ref()
        .and_then(|r| r.headers.get("host"))
        .map(|h| crate::identity::cap(&h.trim().to_ascii_lowercase(), 255))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| ex.flow.server.to_string())
}

/// The path of a request-target: no query or fragment; the absolute form loses its scheme and
/// authority.
pub fn path(target: &str) -> &str {
    let t = target.split(['?', '#']).next().unwrap_or("");
    if let Some(rest) = t
        .strip_prefix("http://")
        .or_else(|| t.strip_prefix("https://"))
    {
        return rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    }
    t
}

/// Files browsers and crawlers ask for on their own: a 404 on them says nothing about the client.
pub fn is_incidental_asset(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    let name = p.rsplit('/').next().unwrap_or("");
    p.starts_with("/.well-known/")
        || name.ends_with(".map")
        || name.starts_with("apple-touch-icon")
        || matches!(
            name,
            "favicon.ico"
                | "favicon.png"
                | "favicon.svg"
                | "robots.txt"
                | "sitemap.xml"
                | "humans.txt"
                | "ads.txt"
                | "security.txt"
                | "browserconfig.xml"
                | "manifest.json"
                | "site.webmanifest"
        )
}

/// True when a path segment looks like an object id: a number, a UUID, a long hex string, or a
/// long token mixing letters and at least three digits.
pub fn is_id_segment(s: &str) -> bool {
    let len = s.len();
    if len == 0 || len > 64 {
        return false;
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if digits == len {
        return len <= 20;
    }
    if len == 36 && s.bytes().filter(|b| *b == b'-').count() == 4 {
        return s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    }
    if len >= 16 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    len >= 10
        && digits >= 3
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The path with id segments replaced by `{id}`, and the last id (the one being walked), or
/// `None` when no segment is an id.
pub fn template(path: &str) -> Option<(String, &str)> {
    if !path.split('/').any(is_id_segment) {
        return None;
    }
    let mut last = None;
    let mut out = String::with_capacity(path.len());
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if is_id_segment(seg) {
            out.push_str("{id}");
            last = Some(seg);
        } else {
            out.push_str(seg);
        }
    }
    last.map(|id| (out, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(
            template("/api/orders/42"),
            Some(("/api/orders/{id}".to_string(), "42"))
        );
        assert_eq!(
            template("/api/users/7/orders/123e4567-e89b-12d3-a456-426614174000"),
            Some((
                "/api/users/{id}/orders/{id}".to_string(),
                "123e4567-e89b-12d3-a456-426614174000"
            ))
        );
        assert_eq!(template("/static/app.css"), None);
        assert_eq!(template("/api/orders/latest"), None);
    }

    #[test]
    fn paths() {
        assert_eq!(path("/a/b?x=1"), "/a/b");
        assert_eq!(path("http://h/x?y"), "/x");
        assert!(is_incidental_asset("/favicon.ico"));
        assert!(is_incidental_asset("/static/app.js.map"));
        assert!(!is_incidental_asset("/admin.php"));
    }
}
