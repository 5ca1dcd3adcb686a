//! Unit tests: each kind on a hand-made exchange, the false-positive traps, the table's cap and
//! re-emission, and a fuzz-style run over hostile bodies. The tests on real server responses
//! are in `tests/captures.rs`.

use crate::{Scanner, ScannerConfig, TrafficSource};
use periscope_model::exchange::FlowInfo;
use periscope_model::{
    Attack, Body, Endpoint, Event, Exchange, FlowId, Headers, HttpVersion, Outcome, Request,
    Response, Timestamp, TunnelPath, Vulnerability,
};
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const T0: u64 = 1_750_000_000;

fn body(data: &[u8]) -> Body {
    Body {
        len: data.len() as u64,
        data: data.to_vec(),
        decoded_from: None,
        truncated: false,
    }
}

fn headers(h: &[(&str, &str)]) -> Headers {
    Headers(
        h.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// An exchange on plain HTTP port 80 at `T0 + secs`.
#[allow(clippy::too_many_arguments)] // a test builder: every part spelled out at the call
fn ex_at(
    secs: u64,
    method: &str,
    target: &str,
    req_h: &[(&str, &str)],
    req_body: &[u8],
    status: u16,
    resp_h: &[(&str, &str)],
    resp_body: &[u8],
) -> Exchange {
    let ts = Timestamp::from_secs_nanos(T0 + secs, 0);
    let mut rh = vec![("Host", "app.test")];
    rh.extend_from_slice(req_h);
    Exchange {
        id: secs + 1,
        flow_id: FlowId(1),
        ts,
        flow: FlowInfo {
            client: Endpoint::new([10, 0, 0, 1].into(), 40000),
            server: Endpoint::new([10, 0, 0, 2].into(), 80),
            tunnel: TunnelPath::default(),
            vlan: None,
        },
        request: Some(Request {
            ts,
            method: method.into(),
            target: target.into(),
            version: HttpVersion::Http11,
            headers: headers(&rh),
            body: body(req_body),
            trailers: Headers::default(),
        }),
        response: Some(Response {
            ts,
            version: HttpVersion::Http11,
            status,
            reason: String::new(),
            headers: headers(resp_h),
            body: body(resp_body),
            trailers: Headers::default(),
            interim: Vec::new(),
        }),
        flags: Vec::new(),
    }
}

fn get(target: &str, status: u16, resp_h: &[(&str, &str)], resp_body: &[u8]) -> Exchange {
    ex_at(0, "GET", target, &[], b"", status, resp_h, resp_body)
}

fn scan_all(
    exs: &[Exchange],
    attacks: &[Attack],
) -> Result<Vec<Vulnerability>, Box<dyn std::error::Error>> {
    let mut s = Scanner::new(ScannerConfig::default())?;
    let mut out = Vec::new();
    for e in exs {
        s.on_exchange(e, attacks, &mut out);
    }
    s.finish(&mut out);
    Ok(out
        .into_iter()
        .filter_map(|e| match e {
            Event::Vulnerability(v) => Some(*v),
            _ => None,
        })
        .collect())
}

fn kinds(vs: &[Vulnerability]) -> Vec<&str> {
    let mut k: Vec<&str> = vs.iter().map(|v| v.kind.as_str()).collect();
    k.sort();
    k.dedup();
    k
}

fn has(vs: &[Vulnerability], kind: &str) -> bool {
    vs.iter().any(|v| v.kind == kind)
}

const HTML: (&str, &str) = ("Content-Type", "text/html; charset=utf-8");
const JSON: (&str, &str) = ("Content-Type", "application/json");
const SAFE_HEADERS: [(&str, &str); 3] = [
    (
        "Content-Security-Policy",
        "default-src 'self'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    HTML,
];

#[test]
fn stack_traces_of_each_language() -> TestResult {
    let cases: &[(&str, &str)] = &[
        ("Java", "java.lang.NullPointerException: x\n\tat com.shop.web.CartController.add(CartController.java:42)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)\n"),
        ("Python", "Traceback (most recent call last):\n  File \"/app/app.py\", line 12, in handler\n    1/0\nZeroDivisionError: division by zero\n"),
        ("PHP", "<br />\n<b>Fatal error</b>:  Uncaught Error: Call to undefined function foo() in /var/www/html/index.php:3\nStack trace:\n#0 {main}\n  thrown in <b>/var/www/html/index.php</b> on line <b>3</b><br />"),
        (".NET", "Server Error in '/' Application.\n[NullReferenceException: Object reference not set]\n   at Shop.Web.Cart.Add(Int32 id) in C:\\src\\Cart.cs:line 42\n   at Shop.Web.Cart.Post() in C:\\src\\Cart.cs:line 10\n"),
        ("Node.js", "TypeError: Cannot read properties of undefined (reading 'x')\n    at handler (/srv/app/server.js:10:15)\n    at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/layer.js:95:5)\n"),
        ("Go", "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 7 [running]:\nmain.handler(...)\n\t/home/app/main.go:21 +0x1d\nnet/http.HandlerFunc.ServeHTTP(...)\n\t/usr/local/go/src/net/http/server.go:2136 +0x29\n"),
        ("Ruby", "NoMethodError (undefined method `name' for nil:NilClass):\n  app/controllers/users_controller.rb:12:in `show'\n  actionpack (7.0.4) lib/action_controller/metal/basic_implicit_render.rb:6:in `send_action'\n"),
    ];
    for (lang, trace) in cases {
        let vs = scan_all(
            &[get(
                "/err",
                500,
                &[("Content-Type", "text/plain")],
                trace.as_bytes(),
            )],
            &[],
        )?;
        let found: Vec<_> = vs.iter().filter(|v| v.kind == "stack_trace").collect();
        assert_eq!(found.len(), 1, "{lang}: {vs:?}");
        assert!(
            found[0].title.starts_with(lang),
            "{lang}: {}",
            found[0].title
        );
        assert!(found[0].evidence.chars().count() <= 210);
    }
    Ok(())
}

#[test]
fn a_mention_of_an_exception_is_not_a_trace() -> TestResult {
    let page = b"<html><p>If you see java.lang.NullPointerException or a Traceback (most recent call last) line, contact support.</p></html>";
    let vs = scan_all(&[get("/help", 200, &[HTML], page)], &[])?;
    assert!(!has(&vs, "stack_trace"), "{vs:?}");
    Ok(())
}

#[test]
fn trace_in_a_json_docs_page_is_not_a_leak_but_in_an_error_field_it_is() -> TestResult {
    let tb = "Traceback (most recent call last):\n  File \"/app/app.py\", line 3, in <module>\n    main()\n  File \"/app/app.py\", line 2, in main\nValueError: bad";
    let docs = serde_json::json!({"title": "Error handling", "description": format!("When the service fails it logs:\n{tb}"), "examples": [{"error": tb}]});
    let vs = scan_all(
        &[get(
            "/docs/errors",
            200,
            &[JSON],
            docs.to_string().as_bytes(),
        )],
        &[],
    )?;
    assert!(!has(&vs, "stack_trace"), "{vs:?}");
    let leak = serde_json::json!({"error": "internal", "trace": tb});
    let vs = scan_all(
        &[get(
            "/api/orders",
            500,
            &[JSON],
            leak.to_string().as_bytes(),
        )],
        &[],
    )?;
    assert!(has(&vs, "stack_trace"), "{vs:?}");
    Ok(())
}

#[test]
fn sql_errors() -> TestResult {
    let vs = scan_all(
        &[get(
            "/search?q=%27",
            500,
            &[HTML],
            b"<pre>sqlite3.OperationalError: unrecognized token: \"'''\"</pre>",
        )],
        &[],
    )?;
    assert!(
        vs.iter()
            .any(|v| v.kind == "sql_error" && v.title.contains("SQLite")),
        "{vs:?}"
    );
    let vs = scan_all(
        &[get(
            "/search?q=x",
            200,
            &SAFE_HEADERS,
            b"<html><p>No results for your SQL query syntax question.</p></html>",
        )],
        &[],
    )?;
    assert!(!has(&vs, "sql_error"), "{vs:?}");
    Ok(())
}

#[test]
fn version_only_with_a_number() -> TestResult {
    let vs = scan_all(
        &[get(
            "/",
            200,
            &[("Server", "nginx/1.22.1"), ("X-Powered-By", "PHP/8.2.7")],
            b"",
        )],
        &[],
    )?;
    assert_eq!(
        vs.iter().filter(|v| v.kind == "version_disclosure").count(),
        2,
        "{vs:?}"
    );
    let vs = scan_all(
        &[get(
            "/",
            200,
            &[("Server", "nginx"), ("X-Powered-By", "Express")],
            b"",
        )],
        &[],
    )?;
    assert!(!has(&vs, "version_disclosure"), "{vs:?}");
    Ok(())
}

#[test]
fn secrets_are_found_and_masked() -> TestResult {
    let body =
        br#"{"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "db": {"password": "hunter2-prod"}}"#;
    let vs = scan_all(&[get("/config", 200, &[JSON], body)], &[])?;
    let s: Vec<_> = vs
        .iter()
        .filter(|v| v.kind == "secret_in_response")
        .collect();
    assert_eq!(s.len(), 2, "{vs:?}");
    for v in &s {
        assert!(
            !v.evidence.contains("IOSFODNN7EXAMPLE") && !v.evidence.contains("hunter2-prod"),
            "{}",
            v.evidence
        );
    }
    let clean = br#"{"user": "ann", "password": "", "password_hint": null, "other": {"password": "********"}}"#;
    let vs = scan_all(&[get("/config", 200, &[JSON], clean)], &[])?;
    assert!(!has(&vs, "secret_in_response"), "{vs:?}");
    let pem = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----\n";
    let vs = scan_all(
        &[get("/key.txt", 200, &[("Content-Type", "text/plain")], pem)],
        &[],
    )?;
    assert!(
        vs.iter()
            .any(|v| v.kind == "secret_in_response" && v.title.contains("PEM")),
        "{vs:?}"
    );
    Ok(())
}

fn jwt(header: &str, claims: &str, secret: Option<&[u8]>) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let signing = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let sig = match secret {
        Some(k) => {
            let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(k) else {
                return signing;
            };
            mac.update(signing.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        None => String::new(),
    };
    format!("{signing}.{sig}")
}

fn jwt_reasons(token: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let auth = format!("Bearer {token}");
    let e = ex_at(
        0,
        "GET",
        "/api/me",
        &[("Authorization", &auth)],
        b"",
        200,
        &[JSON],
        b"{}",
    );
    let vs = scan_all(&[e], &[])?;
    Ok(vs
        .iter()
        .filter(|v| v.kind == "weak_jwt")
        .map(|v| v.key.rsplit('|').next().unwrap_or("").to_string())
        .collect())
}

#[test]
fn weak_jwts() -> TestResult {
    let iat = T0;
    let good_claims = format!(r#"{{"sub":"ann","iat":{iat},"exp":{}}}"#, iat + 900);
    let hs = r#"{"alg":"HS256","typ":"JWT"}"#;
    assert_eq!(
        jwt_reasons(&jwt(hs, &good_claims, Some(b"secret")))?,
        ["weak_secret"]
    );
    assert_eq!(
        jwt_reasons(&jwt(r#"{"alg":"none"}"#, &good_claims, None))?,
        ["alg_none"]
    );
    assert_eq!(
        jwt_reasons(&jwt(
            hs,
            r#"{"sub":"ann"}"#,
            Some(b"Zq8#x!9vLr2@pT7m$Wn4&Ks1^Hy6*Bd3")
        ))?,
        ["no_exp"]
    );
    let year = format!(
        r#"{{"sub":"ann","iat":{iat},"exp":{}}}"#,
        iat + 365 * 86_400
    );
    assert_eq!(
        jwt_reasons(&jwt(hs, &year, Some(b"Zq8#x!9vLr2@pT7m$Wn4&Ks1^Hy6*Bd3")))?,
        ["long_lifetime"]
    );
    // A strong random secret, a short life: nothing.
    assert!(jwt_reasons(&jwt(
        hs,
        &good_claims,
        Some(b"Zq8#x!9vLr2@pT7m$Wn4&Ks1^Hy6*Bd3")
    ))?
    .is_empty());
    Ok(())
}

#[test]
fn cookies_secure_only_on_https() -> TestResult {
    let set = [("Set-Cookie", "sessionid=abc123def456; Path=/"), HTML];
    let plain = ex_at(0, "GET", "/", &[], b"", 200, &set, b"<html></html>");
    let vs = scan_all(&[plain], &[])?;
    let c: Vec<_> = vs.iter().filter(|v| v.kind == "insecure_cookie").collect();
    assert_eq!(c.len(), 1);
    assert!(
        c[0].title.contains("HttpOnly")
            && c[0].title.contains("SameSite")
            && !c[0].title.contains("Secure,"),
        "{}",
        c[0].title
    );
    let https = ex_at(
        0,
        "GET",
        "/",
        &[("X-Forwarded-Proto", "https")],
        b"",
        200,
        &set,
        b"<html></html>",
    );
    let vs = scan_all(&[https], &[])?;
    assert!(
        vs.iter()
            .any(|v| v.kind == "insecure_cookie" && v.title.contains("Secure")),
        "{vs:?}"
    );
    let good = [
        (
            "Set-Cookie",
            "sessionid=abc123def456; Path=/; Secure; HttpOnly; SameSite=Lax",
        ),
        ("Set-Cookie", "csrftoken=abc; Path=/"),
        ("Set-Cookie", "theme=dark"),
    ];
    let vs = scan_all(
        &[ex_at(
            0,
            "GET",
            "/",
            &[("X-Forwarded-Proto", "https")],
            b"",
            200,
            &good,
            b"",
        )],
        &[],
    )?;
    assert!(!has(&vs, "insecure_cookie"), "{vs:?}");
    Ok(())
}

#[test]
fn cors() -> TestResult {
    let reflect = [
        ("Access-Control-Allow-Origin", "https://evil.example"),
        ("Access-Control-Allow-Credentials", "true"),
    ];
    let e = ex_at(
        0,
        "GET",
        "/api/me",
        &[("Origin", "https://evil.example")],
        b"",
        200,
        &reflect,
        b"{}",
    );
    assert!(has(&scan_all(&[e], &[])?, "cors_misconfiguration"));
    let sibling = [
        ("Access-Control-Allow-Origin", "https://www.app.test"),
        ("Access-Control-Allow-Credentials", "true"),
    ];
    let e = ex_at(
        0,
        "GET",
        "/api/me",
        &[("Origin", "https://www.app.test")],
        b"",
        200,
        &sibling,
        b"{}",
    );
    assert!(!has(&scan_all(&[e], &[])?, "cors_misconfiguration"));
    let no_creds = [("Access-Control-Allow-Origin", "https://evil.example")];
    let e = ex_at(
        0,
        "GET",
        "/api/me",
        &[("Origin", "https://evil.example")],
        b"",
        200,
        &no_creds,
        b"{}",
    );
    assert!(!has(&scan_all(&[e], &[])?, "cors_misconfiguration"));
    Ok(())
}

#[test]
fn missing_headers_grouped_per_host() -> TestResult {
    let exs: Vec<_> = (0..5)
        .map(|i| {
            ex_at(
                i,
                "GET",
                &format!("/page/{i}"),
                &[],
                b"",
                200,
                &[HTML],
                b"<html></html>",
            )
        })
        .collect();
    let vs = scan_all(&exs, &[])?;
    let m: Vec<_> = vs
        .iter()
        .filter(|v| v.kind == "missing_security_headers")
        .collect();
    assert!(
        !m.is_empty() && m.iter().all(|v| v.key == m[0].key && v.endpoint == "*"),
        "{m:?}"
    );
    assert_eq!(m.last().map(|v| v.count), Some(5));
    let vs = scan_all(&[get("/", 200, &SAFE_HEADERS, b"<html></html>")], &[])?;
    assert!(!has(&vs, "missing_security_headers"), "{vs:?}");
    Ok(())
}

#[test]
fn soft_404_does_not_expose_env() -> TestResult {
    let spa = b"<!doctype html><html><head><title>Shop</title></head><body><div id=app></div></body></html>";
    for path in [
        "/.env",
        "/.git/HEAD",
        "/backup.zip",
        "/index.php.bak",
        "/dump.sql",
        "/.DS_Store",
        "/phpmyadmin/",
        "/actuator/env",
    ] {
        let vs = scan_all(&[get(path, 200, &[HTML], spa)], &[])?;
        assert!(
            !has(&vs, "exposed_file") && !has(&vs, "exposed_admin"),
            "{path}: {vs:?}"
        );
    }
    let env = b"# prod\nDB_HOST=db\nDB_PASSWORD=s3cr3t-value\nexport API_KEY=abc\n";
    let vs = scan_all(
        &[get(
            "/.env",
            200,
            &[("Content-Type", "application/octet-stream")],
            env,
        )],
        &[],
    )?;
    assert!(has(&vs, "exposed_file"), "{vs:?}");
    let vs = scan_all(
        &[get(
            "/.git/HEAD",
            200,
            &[("Content-Type", "text/plain")],
            b"ref: refs/heads/main\n",
        )],
        &[],
    )?;
    assert!(has(&vs, "exposed_file"), "{vs:?}");
    let vs = scan_all(
        &[get("/.env", 404, &[("Content-Type", "text/plain")], env)],
        &[],
    )?;
    assert!(!has(&vs, "exposed_file"), "{vs:?}");
    Ok(())
}

#[test]
fn redirects() -> TestResult {
    let e = ex_at(
        0,
        "GET",
        "/login?next=https%3A%2F%2Fevil.example%2Fphish",
        &[],
        b"",
        302,
        &[("Location", "https://evil.example/phish")],
        b"",
    );
    assert!(has(&scan_all(&[e], &[])?, "open_redirect"));
    let same = ex_at(
        0,
        "GET",
        "/login?next=%2Faccount",
        &[],
        b"",
        302,
        &[("Location", "http://app.test/account")],
        b"",
    );
    assert!(!has(&scan_all(&[same], &[])?, "open_redirect"));
    // Another host, but not from a parameter (a fixed SSO redirect).
    let sso = ex_at(
        0,
        "GET",
        "/login?next=%2Faccount",
        &[],
        b"",
        302,
        &[("Location", "https://sso.example/auth")],
        b"",
    );
    assert!(!has(&scan_all(&[sso], &[])?, "open_redirect"));
    Ok(())
}

#[test]
fn reflections() -> TestResult {
    let page = b"<html><body>Results for <script>alert(1)</script></body></html>";
    let e = get(
        "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        200,
        &[HTML],
        page,
    );
    assert!(has(&scan_all(&[e], &[])?, "reflected_xss"));
    let escaped = b"<html><body>Results for &lt;script&gt;alert(1)&lt;/script&gt;</body></html>";
    let e = get(
        "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        200,
        &[HTML],
        escaped,
    );
    assert!(!has(&scan_all(&[e], &[])?, "reflected_xss"));
    // Reflected into JSON: not an HTML context.
    let e = get(
        "/api/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        200,
        &[JSON],
        br#"{"q":"<script>alert(1)</script>"}"#,
    );
    assert!(!has(&scan_all(&[e], &[])?, "reflected_xss"));
    Ok(())
}

#[test]
fn cleartext_depends_on_the_source() -> TestResult {
    let login = |port: u16| {
        let mut e = ex_at(
            0,
            "POST",
            "/login",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", "Basic YWRtaW46aHVudGVyMg=="),
            ],
            b"user=ann&password=hunter2",
            200,
            &[],
            b"",
        );
        e.flow.server.port = port;
        e
    };
    let vs = scan_all(&[login(80)], &[])?;
    let c: Vec<_> = vs
        .iter()
        .filter(|v| v.kind == "cleartext_credentials")
        .collect();
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(c
        .iter()
        .all(|v| !v.evidence.contains("hunter2") && !v.evidence.contains("YWRtaW46aHVudGVyMg==")));
    // The agent on 443 saw TLS plaintext: not cleartext on the wire.
    let cfg = ScannerConfig {
        source: TrafficSource::Agent,
        ..Default::default()
    };
    let mut s = Scanner::new(cfg)?;
    let mut out = Vec::new();
    s.on_exchange(&login(443), &[], &mut out);
    assert!(out.is_empty(), "{out:?}");
    s.on_exchange(&login(8080), &[], &mut out);
    assert!(!out.is_empty());
    // Behind a TLS-terminating proxy: the client's leg was HTTPS.
    let mut e = login(80);
    if let Some(r) = e.request.as_mut() {
        r.headers
            .0
            .push(("X-Forwarded-Proto".into(), "https".into()));
    }
    assert!(!has(&scan_all(&[e], &[])?, "cleartext_credentials"));
    // No credentials: nothing.
    assert!(!has(
        &scan_all(&[get("/", 200, &[], b"")], &[])?,
        "cleartext_credentials"
    ));
    Ok(())
}

fn attack(outcome: Outcome) -> Attack {
    Attack {
        exchange_id: 1,
        ts: Timestamp::from_secs_nanos(T0, 0),
        client: Endpoint::new([10, 0, 0, 1].into(), 40000),
        server: Endpoint::new([10, 0, 0, 2].into(), 80),
        class: "ptrav".into(),
        point: "query.file".into(),
        rule: "ptrav.dotdot".into(),
        excerpt: "../../etc/passwd".into(),
        score: 0.9,
        outcome,
        evidence: Some("root:x:0:0:root:/root:/bin/bash".into()),
        method: "GET".into(),
        target: "/download?file=../../etc/passwd".into(),
        status: Some(200),
    }
}

#[test]
fn confirmed_attacks() -> TestResult {
    let e = get(
        "/download?file=../../etc/passwd",
        200,
        &[("Content-Type", "text/plain")],
        b"root:x:0:0:root:/root:/bin/bash\n",
    );
    let vs = scan_all(std::slice::from_ref(&e), &[attack(Outcome::Succeeded)])?;
    let c: Vec<_> = vs.iter().filter(|v| v.kind == "confirmed_attack").collect();
    assert_eq!(c.len(), 1);
    assert!(
        c[0].title.contains("ptrav") && c[0].evidence.contains("root:x:0:0"),
        "{c:?}"
    );
    assert_eq!(c[0].severity, periscope_model::Severity::Critical);
    let vs = scan_all(std::slice::from_ref(&e), &[attack(Outcome::Failed)])?;
    assert!(!has(&vs, "confirmed_attack"));
    // The same through the event form the aggregator holds.
    let mut s = Scanner::new(ScannerConfig::default())?;
    let mut out = Vec::new();
    let events = [Event::Attack(Box::new(attack(Outcome::Succeeded)))];
    s.on_exchange_events(&e, &events, &mut out);
    assert!(out
        .iter()
        .any(|x| matches!(x, Event::Vulnerability(v) if v.kind == "confirmed_attack")));
    Ok(())
}

#[test]
fn table_is_capped_and_reemits_changes() -> TestResult {
    let cfg = ScannerConfig {
        max_findings: 10,
        reemit_interval: Duration::from_secs(60),
        ..Default::default()
    };
    let mut s = Scanner::new(cfg)?;
    let mut out = Vec::new();
    let trace =
        b"Traceback (most recent call last):\n  File \"/a.py\", line 1, in f\nValueError: x\n";
    for i in 0..100u64 {
        s.on_exchange(
            &ex_at(
                i,
                "GET",
                &format!("/p{i}/x"),
                &[],
                b"",
                500,
                &[("Content-Type", "text/plain")],
                trace,
            ),
            &[],
            &mut out,
        );
    }
    assert_eq!(s.findings().count(), 10);
    assert_eq!(s.stats().evicted, 90);
    // The same endpoint again and again: one finding, re-emitted once per interval.
    out.clear();
    for i in 0..300u64 {
        s.on_exchange(
            &ex_at(
                200 + i,
                "GET",
                "/same/1",
                &[],
                b"",
                500,
                &[("Content-Type", "text/plain")],
                trace,
            ),
            &[],
            &mut out,
        );
    }
    let same: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            Event::Vulnerability(v) if v.endpoint == "/same/{id}" => Some(v.count),
            _ => None,
        })
        .collect();
    assert!(same.len() >= 5 && same.len() <= 7, "{same:?}");
    s.finish(&mut out);
    let last = out.iter().rev().find_map(|e| match e {
        Event::Vulnerability(v) if v.endpoint == "/same/{id}" => Some(v.count),
        _ => None,
    });
    assert_eq!(last, Some(300));
    Ok(())
}

#[test]
fn config_is_validated() {
    assert!(Scanner::new(ScannerConfig {
        max_findings: 0,
        ..Default::default()
    })
    .is_err());
    assert!(Scanner::new(ScannerConfig {
        disabled_kinds: vec!["nope".into()],
        ..Default::default()
    })
    .is_err());
}

/// xorshift: reproducible random bytes without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn hostile_bodies_never_panic_and_stay_fast() -> TestResult {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut s = Scanner::new(ScannerConfig::default())?;
    let mut out = Vec::new();
    let anchors: &[&[u8]] = &[
        b"Traceback (most recent call last):\n  File \"",
        b"eyJ",
        b"password=",
        b".java:",
        b"AKIA",
        b"Index of /",
        b"<script>",
        b"SQLSTATE[",
        b"\xff\xfe\xc3",
        b"\n\tat a.b(",
        b"goroutine 1 [running]:\n",
        b"nginx/",
    ];
    let start = std::time::Instant::now();
    let mut total = 0usize;
    for i in 0..200u64 {
        let len = match i % 4 {
            0 => (rng.next() % 64) as usize,
            1 => (rng.next() % 4096) as usize,
            2 => 200_000,
            _ => (rng.next() % 100_000) as usize,
        };
        let mut b = Vec::with_capacity(len);
        while b.len() < len {
            if rng.next().is_multiple_of(8) {
                b.extend_from_slice(anchors[(rng.next() % anchors.len() as u64) as usize]);
            } else {
                b.push(rng.next() as u8);
            }
        }
        total += b.len();
        let ct = [
            "text/html",
            "application/json",
            "text/plain",
            "",
            "application/octet-stream",
        ][(i % 5) as usize];
        let target = format!(
            "/x{}?q=%3Cscript%3E{}&password=%FF%FE&next=http://%00",
            i % 7,
            i
        );
        let e = ex_at(
            i,
            "POST",
            &target,
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Cookie", "session=eyJhbGciOiJub25lIn0.eyJ."),
            ],
            &b[..b.len().min(5000)],
            (i % 600) as u16,
            &[
                ("Content-Type", ct),
                ("Set-Cookie", "=;;;"),
                ("Location", "//\u{fffd}"),
            ],
            &b,
        );
        s.on_exchange(&e, &[], &mut out);
    }
    // Huge repetitive bodies: worst cases for the regexes.
    for (j, unit) in [
        &b"at a.b(A.java:1)\n"[..],
        b"File \"x\", line 1\n",
        b"password=",
        b"<h1>Index of /",
        b"eyJhbGciOiJIUzI1NiJ9.eyJ",
    ]
    .iter()
    .enumerate()
    {
        let big = unit.repeat(2 * 1024 * 1024 / unit.len());
        total += big.len();
        s.on_exchange(
            &ex_at(
                1000 + j as u64,
                "GET",
                "/big",
                &[],
                b"",
                500,
                &[("Content-Type", "text/html")],
                &big,
            ),
            &[],
            &mut out,
        );
    }
    s.finish(&mut out);
    let took = start.elapsed();
    // Generous bounds (shared 2-core machine; debug regexes are ~20x slower): the point is "no
    // blow-up", i.e. time linear in the capped scan length. Release takes well under a second.
    let limit = Duration::from_secs(if cfg!(debug_assertions) { 60 } else { 10 });
    assert!(took < limit, "took {took:?} for {total} bytes");
    Ok(())
}

#[test]
fn kinds_are_stable_names() -> TestResult {
    let vs = scan_all(
        &[get("/", 200, &[("Server", "Apache/2.4.57 (Debian)")], b"")],
        &[],
    )?;
    assert_eq!(kinds(&vs), ["version_disclosure"]);
    assert!(vs.iter().all(|v| crate::KINDS.contains(&v.kind.as_str())));
    Ok(())
}

#[test]
fn listings_of_other_servers() -> TestResult {
    let apache = b"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n <head>\n  <title>Index of /backup</title>\n </head>\n <body>\n<h1>Index of /backup</h1>\n  <table>\n   <tr><th valign=\"top\"><img src=\"/icons/blank.gif\" alt=\"[ICO]\"></th><th><a href=\"?C=N;O=D\">Name</a></th><th><a href=\"?C=M;O=A\">Last modified</a></th></tr>\n";
    let iis = b"<html><head><title>www.example.com - /files/</title></head><body><H1>www.example.com - /files/</H1><hr>\n\n<pre><A HREF=\"/\">[To Parent Directory]</A><br><br> 3/1/2024  9:12 AM        12 <A HREF=\"/files/a.txt\">a.txt</A><br></pre><hr></body></html>";
    for (server, page) in [("Apache", &apache[..]), ("IIS", &iis[..])] {
        let vs = scan_all(&[get("/backup/", 200, &[HTML], page)], &[])?;
        assert!(
            vs.iter()
                .any(|v| v.kind == "directory_listing" && v.title.contains(server)),
            "{server}: {vs:?}"
        );
    }
    // A page that talks about listings is not one.
    let blog = b"<html><head><title>How to disable Index of / pages</title></head><body>Turn autoindex off.</body></html>";
    let vs = scan_all(&[get("/blog/autoindex", 200, &SAFE_HEADERS, blog)], &[])?;
    assert!(!has(&vs, "directory_listing"), "{vs:?}");
    Ok(())
}

#[test]
fn admin_consoles_by_content() -> TestResult {
    let cases: &[(&str, &[u8])] = &[
        ("/manager/html", b"<html><head><title>/manager</title></head><body><table><tr><td><font size=\"+2\">Tomcat Web Application Manager</font></td></tr></table>"),
        ("/phpmyadmin/", b"<!DOCTYPE HTML><html lang='en' dir='ltr'><head><title>phpMyAdmin</title>"),
        ("/actuator/env", br#"{"activeProfiles":["prod"],"propertySources":[{"name":"server.ports","properties":{}}]}"#),
        ("/server-status", b"<html><head>\n<title>Apache Status</title>\n</head><body>\n<h1>Apache Server Status for localhost (via 127.0.0.1)</h1>"),
    ];
    for (path, body) in cases {
        let vs = scan_all(&[get(path, 200, &[HTML], body)], &[])?;
        assert!(has(&vs, "exposed_admin"), "{path}: {vs:?}");
        let vs = scan_all(&[get(path, 403, &[HTML], body)], &[])?;
        assert!(!has(&vs, "exposed_admin"), "{path} 403: {vs:?}");
    }
    Ok(())
}

#[test]
fn long_names_from_traffic_stay_capped() -> TestResult {
    let name = "n".repeat(10_000);
    let target = format!("/s?{name}=%3Cscript%3Ex%3C%2Fscript%3E");
    let vs = scan_all(
        &[get(
            &target,
            200,
            &[HTML],
            b"<html><script>x</script></html>",
        )],
        &[],
    )?;
    let x: Vec<_> = vs.iter().filter(|v| v.kind == "reflected_xss").collect();
    assert_eq!(x.len(), 1);
    assert!(
        x[0].key.len() < 600 && x[0].title.chars().count() < 300,
        "{}",
        x[0].key.len()
    );
    Ok(())
}

#[test]
fn login_page_script_is_not_a_password_leak() -> TestResult {
    let page = b"<html><form action=\"/login?password=\"><input type=password name=password></form><script>\nvar password = form.password.value;\nlet password=getPassword();\n</script></html>";
    let vs = scan_all(&[get("/login", 200, &SAFE_HEADERS, page)], &[])?;
    assert!(!has(&vs, "secret_in_response"), "{vs:?}");
    let leak = b"<html><pre>db connection: host=db user=app password=Sup3rS3cret!</pre></html>";
    let vs = scan_all(&[get("/debug", 200, &SAFE_HEADERS, leak)], &[])?;
    assert!(has(&vs, "secret_in_response"), "{vs:?}");
    Ok(())
}

#[test]
fn a_changed_finding_is_emitted_before_eviction() -> TestResult {
    let cfg = ScannerConfig {
        max_findings: 2,
        reemit_interval: Duration::from_secs(3600),
        ..Default::default()
    };
    let mut s = Scanner::new(cfg)?;
    let mut out = Vec::new();
    let trace =
        b"Traceback (most recent call last):\n  File \"/a.py\", line 1, in f\nValueError: x\n";
    let at = |i: u64, path: &str| {
        ex_at(
            i,
            "GET",
            path,
            &[],
            b"",
            500,
            &[("Content-Type", "text/plain")],
            trace,
        )
    };
    s.on_exchange(&at(0, "/a"), &[], &mut out);
    s.on_exchange(&at(1, "/a"), &[], &mut out); // /a changed (count 2), not yet re-emitted
    s.on_exchange(&at(2, "/b"), &[], &mut out);
    s.on_exchange(&at(3, "/c"), &[], &mut out); // evicts /a, the least recently seen
    let counts: Vec<(String, u64)> = out
        .iter()
        .filter_map(|e| match e {
            Event::Vulnerability(v) => Some((v.endpoint.clone(), v.count)),
            _ => None,
        })
        .collect();
    let expected = [("/a", 1), ("/b", 1), ("/c", 1), ("/a", 2)].map(|(e, c)| (e.to_string(), c));
    assert_eq!(counts, expected);
    assert_eq!(s.stats().evicted, 1);
    Ok(())
}

#[test]
fn tick_reemits_on_capture_time_only() -> TestResult {
    let mut s = Scanner::new(ScannerConfig::default())?;
    let mut out = Vec::new();
    let e = get("/", 200, &[("Server", "nginx/1.22.1")], b"");
    s.on_exchange(&e, &[], &mut out);
    s.on_exchange(&e, &[], &mut out);
    assert_eq!(out.len(), 1);
    s.tick(Timestamp::from_secs_nanos(T0 + 30, 0), &mut out);
    assert_eq!(out.len(), 1, "too early");
    s.tick(Timestamp::from_secs_nanos(T0 + 61, 0), &mut out);
    assert_eq!(out.len(), 2);
    s.tick(Timestamp::from_secs_nanos(T0 + 200, 0), &mut out);
    s.finish(&mut out);
    assert_eq!(out.len(), 2, "nothing changed since");
    Ok(())
}

#[test]
fn scanner_can_move_to_a_worker_thread() {
    fn is_send<T: Send>() {}
    is_send::<Scanner>();
}
