//! The scanner on real server responses: `tests/data/vulnapp.pcap`, recorded by
//! `scripts/record/vulns.sh` (nginx, the vulnapp Python application, `python3 -m http.server`,
//! a Node.js and a Java error page, curl clients; see `tests/data/README.md`). Every weakness
//! has a request whose real response shows it and a twin whose response does not; each
//! exchange goes through a fresh scanner, so a finding belongs to that exchange alone.

mod common;

use periscope_model::{Event, Exchange, Vulnerability};
use periscope_vulns::{Scanner, ScannerConfig, KINDS};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn load() -> Result<Vec<Exchange>, Box<dyn std::error::Error>> {
    common::exchanges(&common::crate_data().join("vulnapp.pcap"))
}

fn scan(ex: &Exchange) -> Result<Vec<Vulnerability>, Box<dyn std::error::Error>> {
    let mut s = Scanner::new(ScannerConfig::default())?;
    let mut out = Vec::new();
    s.on_exchange(ex, &[], &mut out);
    s.finish(&mut out);
    Ok(out
        .into_iter()
        .filter_map(|e| match e {
            Event::Vulnerability(v) => Some(*v),
            _ => None,
        })
        .collect())
}

/// The exchange on `port` whose request target is exactly `target`.
fn find<'a>(all: &'a [Exchange], port: u16, target: &str) -> Result<&'a Exchange, String> {
    all.iter()
        .find(|x| {
            x.flow.server.port == port && x.request.as_ref().is_some_and(|r| r.target == target)
        })
        .ok_or_else(|| format!("no exchange for :{port}{target} in the capture"))
}

/// (port, target, kind, expected, title must contain)
const CASES: &[(u16, &str, &str, bool, &str)] = &[
    (
        80,
        "/",
        "missing_security_headers",
        true,
        "Content-Security-Policy",
    ),
    (8080, "/", "missing_security_headers", false, ""),
    (80, "/", "version_disclosure", true, "nginx/1.22"),
    (8080, "/", "version_disclosure", false, ""),
    (
        80,
        "/static/missing.css",
        "version_disclosure",
        true,
        "nginx/",
    ),
    (8080, "/static/missing.css", "version_disclosure", false, ""),
    (
        80,
        "/error",
        "stack_trace",
        true,
        "Python stack trace (KeyError",
    ),
    (80, "/api/error", "stack_trace", true, "Python"),
    (80, "/docs/errors.json", "stack_trace", false, ""),
    (
        3000,
        "/cart",
        "stack_trace",
        true,
        "Node.js stack trace (TypeError",
    ),
    (3000, "/ok", "stack_trace", false, ""),
    (
        3001,
        "/price",
        "stack_trace",
        true,
        "Java stack trace (java.lang.NullPointerException",
    ),
    (3001, "/ok", "stack_trace", false, ""),
    (
        3002,
        "/error.php",
        "stack_trace",
        true,
        "PHP stack trace (Fatal error",
    ),
    (3002, "/ok.php", "stack_trace", false, ""),
    (3002, "/ok.php", "version_disclosure", true, "PHP/8"),
    (
        3003,
        "/price",
        "stack_trace",
        true,
        "Ruby stack trace (NoMethodError",
    ),
    (3003, "/ok", "stack_trace", false, ""),
    (80, "/search?q=%27", "sql_error", true, "SQLite"),
    (8080, "/search?q=phone", "sql_error", false, ""),
    (
        80,
        "/hello?name=%3Cscript%3Ealert(1)%3C/script%3E",
        "reflected_xss",
        true,
        "name",
    ),
    (
        8080,
        "/hello-safe?name=%3Cscript%3Ealert(1)%3C/script%3E",
        "reflected_xss",
        false,
        "",
    ),
    (
        80,
        "/go?next=https://evil.example/phish",
        "open_redirect",
        true,
        "next",
    ),
    (
        8080,
        "/go-safe?next=https://evil.example/phish",
        "open_redirect",
        false,
        "",
    ),
    (8080, "/go-safe?next=/account", "open_redirect", false, ""),
    (
        80,
        "/login",
        "insecure_cookie",
        true,
        "HttpOnly, SameSite: session",
    ),
    (8080, "/login-safe", "insecure_cookie", false, ""),
    (
        80,
        "/login",
        "cleartext_credentials",
        true,
        "Password parameter password",
    ),
    (8080, "/login-safe", "cleartext_credentials", false, ""),
    (
        80,
        "/api/me",
        "cleartext_credentials",
        true,
        "Basic credentials",
    ),
    (8080, "/api/me", "cleartext_credentials", false, ""),
    (
        80,
        "/api/cors",
        "cors_misconfiguration",
        true,
        "arbitrary Origin",
    ),
    (8080, "/api/cors-safe", "cors_misconfiguration", false, ""),
    (80, "/token/none", "weak_jwt", true, "alg none"),
    (
        80,
        "/token/weak",
        "weak_jwt",
        true,
        "common secret \"changeme\"",
    ),
    (80, "/token/noexp", "weak_jwt", true, "without expiry"),
    (80, "/token/long", "weak_jwt", true, "lifetime 365 days"),
    (8080, "/token/strong", "weak_jwt", false, ""),
    (
        80,
        "/config",
        "secret_in_response",
        true,
        "AWS access key id",
    ),
    (8080, "/config-safe", "secret_in_response", false, ""),
    (80, "/.env", "exposed_file", true, ".env"),
    (80, "/.git/HEAD", "exposed_file", true, ".git"),
    (80, "/.git/config", "exposed_file", true, ".git"),
    (80, "/backup.zip", "exposed_file", true, "backup archive"),
    (80, "/dump.sql", "exposed_file", true, "Database dump"),
    (8080, "/app/.env", "exposed_file", false, ""),
    (8080, "/app/.git/HEAD", "exposed_file", false, ""),
    (8080, "/app/backup.zip", "exposed_file", false, ""),
    (8080, "/app/dump.sql", "exposed_file", false, ""),
    (80, "/nginx_status", "exposed_admin", true, "stub_status"),
    (8080, "/app/server-status", "exposed_admin", false, ""),
    (8080, "/nginx_status", "exposed_admin", false, ""),
    (80, "/files/", "directory_listing", true, "nginx autoindex"),
    (8000, "/", "directory_listing", true, "Python http.server"),
    (8080, "/files/", "directory_listing", false, ""),
    (8000, "/site/", "directory_listing", false, ""),
];

#[test]
fn each_kind_on_real_responses() -> TestResult {
    let all = load()?;
    let mut failures = Vec::new();
    for &(port, target, kind, expected, title) in CASES {
        let ex = find(&all, port, target)?;
        let found: Vec<_> = scan(ex)?.into_iter().filter(|v| v.kind == kind).collect();
        let ok = if expected {
            found.iter().any(|v| v.title.contains(title))
        } else {
            found.is_empty()
        };
        if !ok {
            failures.push(format!(
                ":{port}{target} {kind} expected={expected} title~{title:?}: {found:#?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
    Ok(())
}

/// The whole capture through one scanner: every finding is deduplicated, each kind the
/// vulnapp shows is there, secrets are masked, and no finding points at a safe twin.
#[test]
fn whole_capture_through_one_scanner() -> TestResult {
    let all = load()?;
    let mut s = Scanner::new(ScannerConfig::default())?;
    let mut out = Vec::new();
    for ex in &all {
        s.on_exchange(ex, &[], &mut out);
    }
    s.finish(&mut out);
    let findings: Vec<&Vulnerability> = s.findings().collect();
    for v in &findings {
        println!(
            "{:<26} {:<8} {:<22} {:<28} {}",
            v.kind,
            format!("{:?}", v.severity),
            v.host,
            v.endpoint,
            v.title
        );
    }
    let mut keys: Vec<&str> = findings.iter().map(|v| v.key.as_str()).collect();
    keys.sort_unstable();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "duplicate keys");
    // Every kind but `confirmed_attack`, which needs the detector (tests/confirmed.rs).
    for &kind in KINDS.iter().filter(|k| **k != "confirmed_attack") {
        assert!(findings.iter().any(|v| v.kind == kind), "{kind} missing");
    }
    for v in &findings {
        for secret in [
            "hunter2",
            "Tr0ub4dor-and-3",
            "IOSFODNN7EXAMPLE",
            "YW5uOmh1bnRlcjI=",
        ] {
            assert!(
                !v.evidence.contains(secret) && !v.title.contains(secret),
                "{secret} shown in {v:?}"
            );
        }
        assert!(
            !v.endpoint.starts_with("/app/") && !v.endpoint.contains("-safe"),
            "finding on a safe twin: {v:?}"
        );
    }
    // One finding per host for the header check; the hardened host has none.
    let headers: Vec<_> = findings
        .iter()
        .filter(|v| v.kind == "missing_security_headers")
        .collect();
    assert!(
        headers.iter().all(|v| !v.host.ends_with(":8080")),
        "{headers:?}"
    );
    Ok(())
}
