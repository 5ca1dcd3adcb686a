//! Unit tests: hand-built exchanges, with the counts varied around each threshold.

use super::*;
use crate::identity::{Cidr, ClientResolver};
use crate::login::LoginResult;
use base64::Engine;
use periscope_model::Outcome;
use periscope_model::{
    exchange::FlowInfo, Body, Endpoint, FlowId, Headers, HttpVersion, Request, Response, TunnelPath,
};

const T0: u64 = 1_700_000_000;

/// A request/response pair under construction.
struct Ex {
    id: u64,
    ms: u64,
    peer: IpAddr,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: Option<u16>,
    resp_headers: Vec<(String, String)>,
    resp_body: Vec<u8>,
}

fn ip(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

fn get(peer: &str, target: &str, status: u16) -> Ex {
    Ex {
        id: 0,
        ms: 0,
        peer: ip(peer),
        method: "GET".into(),
        target: target.into(),
        headers: vec![
            ("Host".into(), "app.test".into()),
            (
                "User-Agent".into(),
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0".into(),
            ),
        ],
        body: Vec::new(),
        status: Some(status),
        resp_headers: Vec::new(),
        resp_body: Vec::new(),
    }
}

fn form_login(peer: &str, user: &str, status: u16, resp_body: &str) -> Ex {
    let mut e = get(peer, "/login", status);
    e.method = "POST".into();
    e.headers.push((
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    e.body = format!("username={user}&password=hunter{}", user.len()).into_bytes();
    e.resp_body = resp_body.as_bytes().to_vec();
    e
}

impl Ex {
    fn at(mut self, id: u64, ms: u64) -> Self {
        self.id = id;
        self.ms = ms;
        self
    }
    fn header(mut self, n: &str, v: &str) -> Self {
        self.headers.push((n.into(), v.into()));
        self
    }
    fn build(&self) -> Exchange {
        let ts = Timestamp::from_secs_nanos(T0, 0).plus(Duration::from_millis(self.ms));
        let body = |d: &[u8]| Body {
            len: d.len() as u64,
            data: d.to_vec(),
            decoded_from: None,
            truncated: false,
        };
        Exchange {
            id: self.id,
            flow_id: FlowId(self.id),
            ts,
            flow: FlowInfo {
                client: Endpoint::new(self.peer, 40000),
                server: Endpoint::new(ip("10.0.0.80"), 80),
                tunnel: TunnelPath::default(),
                vlan: None,
            },
            request: Some(Request {
                ts,
                method: self.method.clone(),
                target: self.target.clone(),
                version: HttpVersion::Http11,
                headers: Headers(self.headers.clone()),
                body: body(&self.body),
                trailers: Headers::default(),
            }),
            response: self.status.map(|status| Response {
                ts,
                version: HttpVersion::Http11,
                status,
                reason: String::new(),
                headers: Headers(self.resp_headers.clone()),
                body: body(&self.resp_body),
                trailers: Headers::default(),
                interim: Vec::new(),
            }),
            flags: Vec::new(),
        }
    }
}

fn attack(e: &Exchange, class: &str, outcome: Outcome) -> Attack {
    Attack {
        exchange_id: e.id,
        ts: e.ts,
        client: e.flow.client,
        server: e.flow.server,
        class: class.into(),
        point: "query.q".into(),
        rule: format!("{class}_test"),
        excerpt: "x".into(),
        score: 0.9,
        outcome,
        evidence: None,
        method: "GET".into(),
        target: "/".into(),
        status: Some(200),
    }
}

/// Runs the exchanges (with their attacks) through a fresh analyser and returns the incidents.
fn run(
    cfg: BehaviourConfig,
    items: &[(Exchange, Vec<Attack>)],
) -> Result<Vec<Incident>, ConfigError> {
    let mut b = Behaviour::new(cfg)?;
    let mut out = Vec::new();
    for (ex, attacks) in items {
        b.on_exchange(ex, attacks, &mut out);
    }
    b.finish(&mut out);
    Ok(incidents(out))
}

fn incidents(events: Vec<Event>) -> Vec<Incident> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Incident(i) => Some(*i),
            _ => None,
        })
        .collect()
}

fn plain(ex: impl IntoIterator<Item = Ex>) -> Vec<(Exchange, Vec<Attack>)> {
    ex.into_iter().map(|e| (e.build(), Vec::new())).collect()
}

fn kinds(inc: &[Incident]) -> Vec<(String, String)> {
    let mut k: Vec<_> = inc
        .iter()
        .map(|i| (i.kind.clone(), i.key.clone()))
        .collect();
    k.sort();
    k.dedup();
    k
}

fn count_kind(inc: &[Incident], kind: &str) -> usize {
    kinds(inc).iter().filter(|(k, _)| k == kind).count()
}

// --- identity --------------------------------------------------------------------------------

#[test]
fn forwarded_headers_only_from_trusted_proxies() -> Result<(), String> {
    let r = ClientResolver::new(vec![Cidr::parse("10.0.0.0/8")?]);
    let via_proxy = get("10.1.1.1", "/", 200)
        .header("X-Forwarded-For", "6.6.6.6, 203.0.113.9, 10.2.2.2")
        .build();
    // Rightmost untrusted hop: 203.0.113.9 (6.6.6.6 could be forged by the client).
    assert_eq!(r.source_ip(&via_proxy), ip("203.0.113.9"));
    let direct = get("198.51.100.7", "/", 200)
        .header("X-Forwarded-For", "1.2.3.4")
        .build();
    assert_eq!(r.source_ip(&direct), ip("198.51.100.7"));
    let fwd = get("10.1.1.1", "/", 200)
        .header(
            "Forwarded",
            "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\"",
        )
        .build();
    assert_eq!(r.source_ip(&fwd), ip("2001:db8::1"));
    let real = get("10.1.1.1", "/", 200)
        .header("X-Real-IP", "192.0.2.44")
        .build();
    assert_eq!(r.source_ip(&real), ip("192.0.2.44"));
    let garbage = get("10.1.1.1", "/", 200)
        .header("X-Forwarded-For", "not an ip, ,,:::")
        .build();
    assert_eq!(r.source_ip(&garbage), ip("10.1.1.1"));
    Ok(())
}

#[test]
fn cidr_parsing() {
    assert!(Cidr::parse("10.0.0.0/8").is_ok_and(|c| c.contains(ip("10.255.0.1"))));
    assert!(Cidr::parse("10.0.0.0/8").is_ok_and(|c| !c.contains(ip("11.0.0.1"))));
    assert!(Cidr::parse("::ffff:0:0/96").is_ok());
    assert!(Cidr::parse("10.0.0.0/33").is_err());
    assert!(Cidr::parse("ten").is_err());
    assert!(Cidr::parse("0.0.0.0/0").is_ok_and(|c| c.contains(ip("8.8.8.8"))));
}

#[test]
fn user_identities() {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt = format!(
        "{}.{}.sig",
        b64(r#"{"alg":"HS256"}"#),
        b64(r#"{"sub":"alice"}"#)
    );
    let h = |n: &str, v: &str| Headers(vec![(n.into(), v.into())]);
    assert_eq!(
        identity::user_identity(&h("Authorization", &format!("Bearer {jwt}"))).as_deref(),
        Some("jwt:alice")
    );
    let basic = base64::engine::general_purpose::STANDARD.encode("bob:pw");
    assert_eq!(
        identity::user_identity(&h("authorization", &format!("Basic {basic}"))).as_deref(),
        Some("basic:bob")
    );
    let s =
        identity::user_identity(&h("Cookie", "theme=dark; sessionid=abc123")).unwrap_or_default();
    assert!(s.starts_with("session:") && !s.contains("abc123"), "{s}");
    let k = identity::user_identity(&h("X-API-Key", "sk_live_secret")).unwrap_or_default();
    assert!(k.starts_with("apikey:") && !k.contains("secret"), "{k}");
    assert_eq!(identity::user_identity(&h("Cookie", "theme=dark")), None);
    assert_eq!(
        identity::user_identity(&h("Authorization", "Bearer a.%%%.c"))
            .map(|s| s.starts_with("token:")),
        Some(true)
    );
}

#[test]
fn config_errors_name_the_key() {
    let bad = [
        BehaviourConfig {
            forced_browsing_min_paths: 0,
            ..Default::default()
        },
        BehaviourConfig {
            trusted_proxies: vec!["10.0.0.0/99".into()],
            ..Default::default()
        },
        BehaviourConfig {
            bola_min_success_ratio: 1.5,
            ..Default::default()
        },
        BehaviourConfig {
            max_sources: 0,
            ..Default::default()
        },
        BehaviourConfig {
            idle_gap_secs: 0,
            ..Default::default()
        },
        BehaviourConfig {
            ipv6_source_prefix: 0,
            ..Default::default()
        },
    ];
    let keys = [
        "forced_browsing_min_paths",
        "trusted_proxies",
        "bola_min_success_ratio",
        "max_sources",
        "idle_gap_secs",
        "ipv6_source_prefix",
    ];
    for (cfg, key) in bad.into_iter().zip(keys) {
        match Behaviour::new(cfg) {
            Err(e) => assert!(e.to_string().contains(key), "{e} should name {key}"),
            Ok(_) => panic!("{key} accepted"),
        }
    }
    assert!(BehaviourConfig::default().validate().is_ok());
}

// --- login -----------------------------------------------------------------------------------

#[test]
fn login_attempts_and_results() {
    let e = form_login(
        "1.1.1.1",
        "Alice%40example.com",
        200,
        "Invalid username or password",
    )
    .build();
    let account = e
        .request
        .as_ref()
        .and_then(login::login_attempt)
        .map(|a| a.account);
    assert_eq!(account.as_deref(), Some("alice@example.com"));
    let r = |e: &Exchange| {
        login::login_result(
            e.request.as_ref().unwrap_or_else(|| unreachable!()),
            e.response.as_ref(),
        )
    };
    assert_eq!(r(&e), LoginResult::Failed);
    assert_eq!(
        r(&form_login("1.1.1.1", "a", 200, "Welcome back").build()),
        LoginResult::Succeeded
    );
    assert_eq!(
        r(&form_login("1.1.1.1", "a", 401, "").build()),
        LoginResult::Failed
    );
    assert_eq!(
        r(&form_login("1.1.1.1", "a", 429, "").build()),
        LoginResult::Unknown
    );
    let mut back = form_login("1.1.1.1", "a", 302, "");
    back.resp_headers
        .push(("Location".into(), "/login?error=1".into()));
    assert_eq!(r(&back.build()), LoginResult::Failed);
    let mut home = form_login("1.1.1.1", "a", 302, "");
    home.resp_headers
        .push(("Location".into(), "/account".into()));
    assert_eq!(r(&home.build()), LoginResult::Succeeded);

    let mut json = get("1.1.1.1", "/api/login", 200);
    json.method = "POST".into();
    json.headers
        .push(("Content-Type".into(), "application/json".into()));
    json.body = br#"{"credentials":{"email":"Bob@x.io","password":"p"}}"#.to_vec();
    let j = json.build();
    assert_eq!(
        j.request
            .as_ref()
            .and_then(login::login_attempt)
            .map(|a| a.account),
        Some("bob@x.io".to_string())
    );
    // Not logins: a search form, a broken JSON body.
    let mut search = get("1.1.1.1", "/search", 200);
    search.body = b"q=password".to_vec();
    assert_eq!(
        search
            .build()
            .request
            .as_ref()
            .and_then(login::login_attempt),
        None
    );
    let mut broken = get("1.1.1.1", "/api/login", 200);
    broken
        .headers
        .push(("Content-Type".into(), "application/json".into()));
    broken.body = br#"{"password": "#.to_vec();
    assert_eq!(
        broken
            .build()
            .request
            .as_ref()
            .and_then(login::login_attempt),
        None
    );
}

#[test]
fn failure_page_without_error_phrase_is_learned() -> Result<(), ConfigError> {
    // An application whose failure page says only "Sign in" again (no error phrase), and whose
    // success sets a session cookie and redirects.
    let quiet_fail = |i: u64, pw: &str| {
        let mut e = form_login(
            "203.0.113.5",
            "admin",
            200,
            "<h1>Sign in</h1><form>...</form>",
        );
        e.body = format!("username=admin&password={pw}").into_bytes();
        e.at(i, i * 500)
    };
    for min in [3usize, 8] {
        let cfg = BehaviourConfig {
            brute_force_min_failures: min,
            ..Default::default()
        };
        // The first attempt teaches nothing; from the second the shape is a known failure.
        let n = min + 1;
        let tries: Vec<_> = (0..n as u64)
            .map(|i| quiet_fail(i + 1, &format!("guess{i}")))
            .collect();
        assert_eq!(
            count_kind(&run(cfg.clone(), &plain(tries))?, "brute_force"),
            1,
            "min {min}"
        );
        let tries: Vec<_> = (0..n as u64 - 1)
            .map(|i| quiet_fail(i + 1, &format!("guess{i}")))
            .collect();
        assert_eq!(
            count_kind(&run(cfg.clone(), &plain(tries))?, "brute_force"),
            0,
            "min {min}"
        );
        // The same password again and again (a form resubmitted) is not learned as failure.
        let same: Vec<_> = (0..3 * n as u64)
            .map(|i| quiet_fail(i + 1, "same"))
            .collect();
        assert_eq!(
            count_kind(&run(cfg.clone(), &plain(same))?, "brute_force"),
            0
        );
    }
    // A success after learned failures is still a success (it differs: cookie and redirect).
    let mut items: Vec<_> = (0..9u64)
        .map(|i| quiet_fail(i + 1, &format!("g{i}")))
        .collect();
    let mut ok = form_login("203.0.113.5", "admin", 302, "");
    ok.resp_headers.push(("Location".into(), "/home".into()));
    ok.resp_headers.push(("Set-Cookie".into(), "sid=1".into()));
    items.push(ok.at(100, 10_000));
    let inc = run(BehaviourConfig::default(), &plain(items))?;
    assert!(
        inc.iter()
            .any(|i| i.kind == "brute_force" && i.severity == Severity::High),
        "{inc:?}"
    );
    Ok(())
}

// --- forced browsing -------------------------------------------------------------------------

#[test]
fn forced_browsing_threshold() -> Result<(), ConfigError> {
    for min in [5usize, 12, 20, 40] {
        let cfg = BehaviourConfig {
            forced_browsing_min_paths: min,
            ..Default::default()
        };
        let walk = |n: usize| {
            plain((0..n).map(|i| {
                get("198.51.100.1", &format!("/admin{i}.php"), 404).at(i as u64 + 1, i as u64 * 200)
            }))
        };
        let below = run(cfg.clone(), &walk(min - 1))?;
        assert_eq!(
            count_kind(&below, "forced_browsing"),
            0,
            "min {min}: {below:?}"
        );
        let at = run(cfg.clone(), &walk(min))?;
        assert_eq!(count_kind(&at, "forced_browsing"), 1, "min {min}");
        // The same missing path over and over is not browsing.
        let same = plain(
            (0..3 * min)
                .map(|i| get("198.51.100.1", "/gone", 404).at(i as u64 + 1, i as u64 * 200)),
        );
        assert_eq!(count_kind(&run(cfg.clone(), &same)?, "forced_browsing"), 0);
        // Browser noise (favicon, source maps, robots) does not count.
        let noise = plain((0..3 * min).map(|i| {
            let p = [
                "/favicon.ico",
                "/robots.txt",
                &format!("/static/app{i}.js.map"),
            ][i % 3]
                .to_string();
            get("198.51.100.1", &p, 404).at(i as u64 + 1, i as u64 * 200)
        }));
        assert_eq!(count_kind(&run(cfg.clone(), &noise)?, "forced_browsing"), 0);
    }
    Ok(())
}

#[test]
fn forced_browsing_spread_beyond_window_is_not_reported() -> Result<(), ConfigError> {
    let cfg = BehaviourConfig::default();
    // 30 distinct 404s, one every 20 s: never 20 within 300 s.
    let slow =
        plain((0..30).map(|i| get("198.51.100.1", &format!("/p{i}"), 404).at(i + 1, i * 20_000)));
    assert_eq!(count_kind(&run(cfg, &slow)?, "forced_browsing"), 0);
    Ok(())
}

// --- logins ----------------------------------------------------------------------------------

#[test]
fn brute_force_threshold_and_success() -> Result<(), ConfigError> {
    for min in [3usize, 8, 15] {
        let cfg = BehaviourConfig {
            brute_force_min_failures: min,
            ..Default::default()
        };
        let fails = |n: usize| {
            (0..n).map(|i| {
                form_login("203.0.113.5", "admin", 200, "Invalid password")
                    .at(i as u64 + 1, i as u64 * 500)
            })
        };
        assert_eq!(
            count_kind(&run(cfg.clone(), &plain(fails(min - 1)))?, "brute_force"),
            0,
            "min {min}"
        );
        let inc = run(cfg.clone(), &plain(fails(min)))?;
        assert_eq!(count_kind(&inc, "brute_force"), 1, "min {min}");
        assert!(inc.iter().all(|i| i.severity == Severity::Medium));
        // Then the password is found: the incident says so, severity up.
        let mut cracked: Vec<_> = fails(min + 2).collect();
        cracked.push(form_login("203.0.113.5", "admin", 200, "Welcome").at(1000, 60_000));
        let inc = run(cfg.clone(), &plain(cracked))?;
        let last = inc.iter().rfind(|i| i.kind == "brute_force");
        assert!(
            last.is_some_and(|i| i.severity == Severity::High && i.summary.contains("succeeded")),
            "{inc:?}"
        );
    }
    Ok(())
}

#[test]
fn mistyped_password_is_not_an_incident() -> Result<(), ConfigError> {
    let cfg = BehaviourConfig::default();
    // Every user of a busy site mistypes twice then logs in, all day long.
    let mut items = Vec::new();
    let mut id = 0;
    for round in 0..20u64 {
        for attempt in 0..3u64 {
            id += 1;
            let ok = attempt == 2;
            let user = format!("user{}", round % 4);
            items.push(
                form_login(
                    "192.0.2.10",
                    &user,
                    200,
                    if ok { "Welcome" } else { "Incorrect password" },
                )
                .at(id, round * 40_000 + attempt * 3000),
            );
        }
    }
    let inc = run(cfg, &plain(items))?;
    assert!(inc.is_empty(), "{inc:?}");
    Ok(())
}

#[test]
fn credential_stuffing_per_ip() -> Result<(), ConfigError> {
    for min in [3usize, 6, 12] {
        let cfg = BehaviourConfig {
            stuffing_min_accounts: min,
            ..Default::default()
        };
        let stuff = |n: usize| {
            plain((0..n).map(|i| {
                form_login("203.0.113.7", &format!("victim{i}"), 401, "")
                    .at(i as u64 + 1, i as u64 * 300)
            }))
        };
        assert_eq!(
            count_kind(&run(cfg.clone(), &stuff(min - 1))?, "credential_stuffing"),
            0
        );
        let inc = run(cfg.clone(), &stuff(min))?;
        assert_eq!(count_kind(&inc, "credential_stuffing"), 1, "{inc:?}");
        assert_eq!(count_kind(&inc, "brute_force"), 0);
    }
    Ok(())
}

#[test]
fn credential_stuffing_by_fingerprint_across_addresses() -> Result<(), ConfigError> {
    let cfg = BehaviourConfig::default();
    let min = cfg.stuffing_min_accounts_fingerprint;
    // A botnet: one tool, a new address per try, so no address reaches the per-IP threshold.
    let stuff = |n: usize| {
        plain((0..n).map(|i| {
            let mut e = form_login(
                &format!("198.18.{}.{}", i / 200, i % 200 + 1),
                &format!("victim{i}"),
                401,
                "",
            );
            e.headers[1].1 = "python-requests/2.31".into();
            e.at(i as u64 + 1, i as u64 * 1000)
        }))
    };
    assert_eq!(
        count_kind(&run(cfg.clone(), &stuff(min - 1))?, "credential_stuffing"),
        0
    );
    let inc = run(cfg, &stuff(min))?;
    assert_eq!(count_kind(&inc, "credential_stuffing"), 1, "{inc:?}");
    assert!(inc.iter().all(|i| i.client.starts_with("fingerprint:")));
    Ok(())
}

// --- bola ------------------------------------------------------------------------------------

fn order_read(user: &str, id: u64, status: u16) -> Ex {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt = format!(
        "{}.{}.sig",
        b64(r#"{"alg":"HS256"}"#),
        b64(&format!(r#"{{"sub":"{user}"}}"#))
    );
    get("192.0.2.50", &format!("/api/orders/{id}"), status)
        .header("Authorization", &format!("Bearer {jwt}"))
}

#[test]
fn bola_threshold() -> Result<(), ConfigError> {
    for min in [5usize, 25, 60] {
        let cfg = BehaviourConfig {
            bola_min_ids: min,
            ..Default::default()
        };
        let walk = |n: usize, status: u16| {
            plain((0..n).map(|i| {
                order_read("mallory", 1000 + i as u64, status).at(i as u64 + 1, i as u64 * 100)
            }))
        };
        assert_eq!(
            count_kind(&run(cfg.clone(), &walk(min - 1, 200))?, "bola"),
            0,
            "min {min}"
        );
        let inc = run(cfg.clone(), &walk(min, 200))?;
        assert_eq!(count_kind(&inc, "bola"), 1, "min {min}");
        assert!(inc
            .iter()
            .any(|i| i.client == "jwt:mallory" && i.summary.contains("sequential")));
        // Refused (403): enumeration the application stopped, not BOLA.
        assert_eq!(
            count_kind(&run(cfg.clone(), &walk(3 * min, 403))?, "bola"),
            0
        );
    }
    Ok(())
}

#[test]
fn bola_needs_a_user_and_notes_foreign_objects() -> Result<(), ConfigError> {
    let cfg = BehaviourConfig::default();
    // A crawler of public pages by id (no user identity) is not BOLA.
    let crawl = plain(
        (0..100).map(|i| get("192.0.2.60", &format!("/products/{i}"), 200).at(i + 1, i * 100)),
    );
    assert_eq!(count_kind(&run(cfg.clone(), &crawl)?, "bola"), 0);
    // Users read their own orders; then mallory reads everybody's.
    let mut items = Vec::new();
    for i in 0..40u64 {
        items.push(order_read(&format!("user{}", i % 8), i, 200).at(i + 1, i * 1000));
    }
    for i in 0..40u64 {
        items.push(order_read("mallory", i, 200).at(100 + i, 50_000 + i * 200));
    }
    let inc = run(cfg, &plain(items))?;
    assert_eq!(kinds(&inc).len(), 1, "{inc:?}");
    assert!(
        inc.iter()
            .any(|i| i.kind == "bola" && i.summary.contains("read earlier by other users")),
        "{inc:?}"
    );
    Ok(())
}

// --- scanner ---------------------------------------------------------------------------------

#[test]
fn scanner_by_user_agent_is_one_incident() -> Result<(), ConfigError> {
    for ua in [
        "sqlmap/1.7.2#stable (https://sqlmap.org)",
        "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)",
        "Fuzz Faster U Fool v2.1.0",
    ] {
        let items = plain((0..50).map(|i| {
            let mut e = get("203.0.113.66", &format!("/x{i}"), 200);
            e.headers[1].1 = ua.into();
            e.at(i + 1, i * 50)
        }));
        let inc = run(BehaviourConfig::default(), &items)?;
        assert_eq!(kinds(&inc).len(), 1, "{ua}: {inc:?}");
        assert!(inc.iter().all(|i| i.kind == "scanner"));
        assert!(inc.iter().map(|i| i.count).max() == Some(50));
    }
    let collab = plain([get("203.0.113.67", "/?url=http://x1.oastify.com/", 200).at(1, 0)]);
    assert_eq!(
        count_kind(&run(BehaviourConfig::default(), &collab)?, "scanner"),
        1
    );
    Ok(())
}

#[test]
fn scanner_by_behaviour() -> Result<(), ConfigError> {
    let cfg = BehaviourConfig::default();
    let classes = ["sqli", "xss", "ptrav", "rce"];
    let scan = |paths: usize, n_classes: usize| {
        let mut items = Vec::new();
        for i in 0..paths as u64 {
            let e = get("203.0.113.70", &format!("/probe{i}"), 404)
                .at(i + 1, i * 100)
                .build();
            let a: Vec<Attack> = classes
                .iter()
                .take(n_classes)
                .filter(|_| i % 5 == 0)
                .map(|c| attack(&e, c, Outcome::Failed))
                .collect();
            items.push((e, a));
        }
        items
    };
    let min_p = cfg.scanner_min_error_paths;
    let min_c = cfg.scanner_min_classes;
    assert_eq!(
        count_kind(&run(cfg.clone(), &scan(min_p - 1, 4))?, "scanner"),
        0
    );
    assert_eq!(
        count_kind(&run(cfg.clone(), &scan(3 * min_p, min_c - 1))?, "scanner"),
        0
    );
    assert_eq!(
        count_kind(&run(cfg.clone(), &scan(min_p + 5, min_c))?, "scanner"),
        1
    );
    Ok(())
}

// --- grouping --------------------------------------------------------------------------------

#[test]
fn ten_thousand_hits_are_a_few_lines() -> Result<(), ConfigError> {
    let mut b = Behaviour::new(BehaviourConfig::default())?;
    let mut out = Vec::new();
    // 10 000 sqli hits over 20 minutes of capture time, one client, one host.
    for i in 0..10_000u64 {
        let e = get("203.0.113.9", &format!("/search?q=' or {i}=1--"), 200)
            .at(i + 1, i * 120)
            .build();
        let a = [attack(&e, "sqli", Outcome::Failed)];
        b.on_exchange(&e, &a, &mut out);
    }
    b.finish(&mut out);
    let inc = incidents(out);
    println!(
        "10 000 attack hits (20 min) -> {} incident events",
        inc.len()
    );
    assert!(inc.len() <= 25, "{} events", inc.len());
    assert_eq!(kinds(&inc).len(), 1);
    let last = inc
        .last()
        .map(|i| (i.count, i.exchange_ids.len(), i.targets.len()));
    assert_eq!(last, Some((10_000, 10, 1)));
    Ok(())
}

#[test]
fn outcome_change_is_emitted_at_once_and_campaign_needs_two_classes() -> Result<(), ConfigError> {
    let mut b = Behaviour::new(BehaviourConfig::default())?;
    let mut out = Vec::new();
    let feed = |b: &mut Behaviour,
                id: u64,
                ms: u64,
                class: &str,
                outcome: Outcome,
                out: &mut Vec<Event>| {
        let e = get("203.0.113.9", "/item?id=1", 200).at(id, ms).build();
        let a = [attack(&e, class, outcome)];
        b.on_exchange(&e, &a, out);
    };
    feed(&mut b, 1, 0, "sqli", Outcome::Failed, &mut out);
    feed(&mut b, 2, 1000, "sqli", Outcome::Failed, &mut out);
    assert_eq!(
        incidents(std::mem::take(&mut out)).len(),
        1,
        "opened once, growth held back"
    );
    feed(&mut b, 3, 2000, "sqli", Outcome::Succeeded, &mut out);
    let inc = incidents(std::mem::take(&mut out));
    assert_eq!(inc.len(), 1);
    assert!(inc[0].outcome == Some(Outcome::Succeeded) && inc[0].severity == Severity::Critical);
    assert!(inc.iter().all(|i| i.kind != "campaign"));
    feed(&mut b, 4, 3000, "xss", Outcome::Failed, &mut out);
    let inc = incidents(std::mem::take(&mut out));
    assert!(
        inc.iter()
            .any(|i| i.kind == "campaign" && i.classes == ["sqli", "xss"] && i.count == 4),
        "{inc:?}"
    );
    // 11 idle minutes later a tick closes everything that changed since its last emission.
    b.tick(Timestamp::from_secs_nanos(T0 + 11 * 60, 0), &mut out);
    b.tick(Timestamp::from_secs_nanos(T0 + 12 * 60, 0), &mut out);
    assert!(b.table_sizes().open_incidents == 0);
    // A new hit after the close opens a new incident with the same key.
    feed(&mut b, 5, 13 * 60_000, "sqli", Outcome::Failed, &mut out);
    let inc = incidents(std::mem::take(&mut out));
    assert!(inc.len() == 1 && inc[0].count == 1, "{inc:?}");
    Ok(())
}

#[test]
fn campaign_across_hosts() -> Result<(), ConfigError> {
    let mut items = Vec::new();
    for (i, host) in ["a.test", "b.test"].iter().enumerate() {
        let e = get("203.0.113.9", "/?q=<script>", 200).header("Host", host);
        let mut e = e;
        e.headers.retain(|(n, v)| n != "Host" || v == host);
        let e = e.at(i as u64 + 1, i as u64 * 1000).build();
        let a = vec![attack(&e, "xss", Outcome::Unknown)];
        items.push((e, a));
    }
    let inc = run(BehaviourConfig::default(), &items)?;
    assert_eq!(count_kind(&inc, "attack"), 2);
    assert_eq!(count_kind(&inc, "campaign"), 1);
    Ok(())
}

// --- bounded state ---------------------------------------------------------------------------

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn a_million_sources_stay_within_the_caps() -> Result<(), ConfigError> {
    let cfg = BehaviourConfig::default();
    let mut b = Behaviour::new(cfg.clone())?;
    let mut out = Vec::new();
    let rss0 = rss_kib();
    let cpu0 = thread_cpu();
    // Built once and readdressed: the test measures the analyser, not exchange building.
    let mut e = get("0.0.0.0", "/missing", 404).build();
    let mut login = form_login("0.0.0.0", "u", 401, "").build();
    for i in 0..1_000_000u32 {
        let addr = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000u32 + i));
        let ts = Timestamp::from_secs_nanos(T0, 0).plus(Duration::from_millis(u64::from(i) / 10));
        // Every source: a 404; one in four an attack hit, one in three a failed login.
        e.flow.client.ip = addr;
        e.id = u64::from(i) + 1;
        e.ts = ts;
        let a = if i % 4 == 0 {
            vec![attack(&e, "sqli", Outcome::Failed)]
        } else {
            Vec::new()
        };
        b.on_exchange(&e, &a, &mut out);
        if i % 3 == 0 {
            login.flow.client.ip = addr;
            login.ts = ts;
            if let Some(r) = login.request.as_mut() {
                r.body.data = format!("username=u{i}&password=x").into_bytes();
            }
            b.on_exchange(&login, &[], &mut out);
        }
        if out.len() > 10_000 {
            out.clear();
        }
    }
    let sizes = b.table_sizes();
    let est = b.memory_estimate();
    let rss1 = rss_kib();
    let cpu = thread_cpu().zip(cpu0).map(|(a, b)| a.saturating_sub(b));
    println!(
        "1 000 000 sources: {cpu:?} CPU, tables {sizes:?}, estimate {:.1} MiB, RSS {:?} -> {:?} KiB; stats {:?}",
        est as f64 / 1048576.0,
        rss0,
        rss1,
        b.stats()
    );
    assert_eq!(sizes.sources, cfg.max_sources);
    assert_eq!(sizes.accounts, cfg.max_accounts);
    assert!(sizes.fingerprints <= cfg.max_fingerprints);
    assert!(sizes.open_incidents <= cfg.max_open_incidents);
    assert!(b.stats().evicted_sources >= 1_000_000 - cfg.max_sources as u64);
    assert!(est < 64 << 20, "estimate {est} bytes");
    Ok(())
}

/// CPU time of this thread (from /proc/thread-self/schedstat), when readable.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace()
        .next()?
        .parse()
        .ok()
        .map(Duration::from_nanos)
}

#[test]
fn ordinary_traffic_raises_nothing_and_is_cheap() -> Result<(), ConfigError> {
    // 200 000 ordinary requests from 1 000 browsing users: pages, assets, their own orders
    // with their session, an occasional 404 and a login. No incident.
    let mut b = Behaviour::new(BehaviourConfig::default())?;
    let mut out = Vec::new();
    let pages = [
        "/",
        "/about",
        "/products",
        "/static/app.css",
        "/static/app.js",
    ];
    let mut ex = Vec::new();
    for u in 0..1000u64 {
        let peer = format!("192.0.2.{}", u % 250 + 1);
        let mut order = order_read(&format!("user{u}"), u * 10, 200);
        order.peer = ip(&peer);
        ex.push(order);
        ex.push(get(&peer, "/nope", 404));
        ex.push(form_login(&peer, &format!("user{u}"), 302, ""));
        for p in pages {
            ex.push(get(&peer, p, 200).header("Cookie", &format!("session=s{u}")));
        }
    }
    let mut built: Vec<Exchange> = ex.iter().map(Ex::build).collect();
    let cpu0 = thread_cpu();
    let mut n = 0u64;
    for round in 0..25u64 {
        for (i, e) in built.iter_mut().enumerate() {
            n += 1;
            e.id = n;
            e.ts = Timestamp::from_secs_nanos(T0 + round * 120 + i as u64 / 100, 0);
            b.on_exchange(e, &[], &mut out);
        }
    }
    let cpu = thread_cpu().zip(cpu0).map(|(a, b)| a.saturating_sub(b));
    b.finish(&mut out);
    println!(
        "{n} ordinary exchanges: {:?} CPU, {:?}",
        cpu,
        b.table_sizes()
    );
    let inc = incidents(out);
    assert!(inc.is_empty(), "{:?}", kinds(&inc));
    Ok(())
}

#[test]
fn small_reordering_gives_the_same_incidents() -> Result<(), ConfigError> {
    // Several workers deliver exchanges slightly out of order: the same incidents with the
    // same final counts must come out.
    let mut items = Vec::new();
    let mut id = 0u64;
    for i in 0..60u64 {
        id += 1;
        items.push((
            get("198.51.100.1", &format!("/p{i}"), 404)
                .at(id, i * 300)
                .build(),
            Vec::new(),
        ));
        id += 1;
        let e = get("198.51.100.2", "/?q=1'--", 200)
            .at(id, i * 300 + 100)
            .build();
        let a = vec![attack(
            &e,
            if i % 2 == 0 { "sqli" } else { "xss" },
            Outcome::Failed,
        )];
        items.push((e, a));
        id += 1;
        items.push((
            form_login("198.51.100.3", "root", 401, "")
                .at(id, i * 300 + 200)
                .build(),
            Vec::new(),
        ));
    }
    let last_counts = |inc: &[Incident]| {
        let mut m: Vec<(String, u64)> = kinds(inc)
            .into_iter()
            .map(|(_, key)| {
                let c = inc
                    .iter()
                    .filter(|i| i.key == key)
                    .map(|i| i.count)
                    .max()
                    .unwrap_or(0);
                (key, c)
            })
            .collect();
        m.sort();
        m
    };
    let ordered = run(BehaviourConfig::default(), &items)?;
    // Swap neighbours in blocks of three: up to 0.6 s of disorder.
    let mut shuffled = items.clone();
    for chunk in shuffled.chunks_mut(3) {
        chunk.reverse();
    }
    let reordered = run(BehaviourConfig::default(), &shuffled)?;
    assert_eq!(last_counts(&ordered), last_counts(&reordered));
    assert!(kinds(&ordered).iter().any(|(k, _)| k == "forced_browsing"));
    assert!(kinds(&ordered).iter().any(|(k, _)| k == "campaign"));
    assert!(kinds(&ordered).iter().any(|(k, _)| k == "brute_force"));
    Ok(())
}

#[test]
fn ipv6_sources_are_counted_per_network() -> Result<(), ConfigError> {
    // A dirbuster that takes a new address in its /64 for every request.
    let walk = plain((0..30u64).map(|i| {
        get(
            &format!("2001:db8:1:2::{:x}", i + 1),
            &format!("/p{i}"),
            404,
        )
        .at(i + 1, i * 100)
    }));
    let inc = run(BehaviourConfig::default(), &walk)?;
    assert_eq!(count_kind(&inc, "forced_browsing"), 1, "{inc:?}");
    assert!(
        inc.iter().all(|i| i.client == "ip:2001:db8:1:2::/64"),
        "{inc:?}"
    );
    let per_address = BehaviourConfig {
        ipv6_source_prefix: 128,
        ..Default::default()
    };
    assert_eq!(count_kind(&run(per_address, &walk)?, "forced_browsing"), 0);
    Ok(())
}

#[test]
fn basic_auth_and_json_brute_force() -> Result<(), ConfigError> {
    let cfg = BehaviourConfig::default();
    let min = cfg.brute_force_min_failures;
    let basic = |n: usize| {
        plain((0..n as u64).map(|i| {
            let cred = base64::engine::general_purpose::STANDARD.encode(format!("admin:pw{i}"));
            get("203.0.113.20", "/admin/", 401)
                .header("Authorization", &format!("Basic {cred}"))
                .at(i + 1, i * 400)
        }))
    };
    assert_eq!(
        count_kind(&run(cfg.clone(), &basic(min - 1))?, "brute_force"),
        0
    );
    let inc = run(cfg.clone(), &basic(min))?;
    assert_eq!(count_kind(&inc, "brute_force"), 1);
    // Basic-auth guesses are logins, not missing paths.
    assert_eq!(count_kind(&inc, "forced_browsing"), 0);
    let json = |n: usize| {
        plain((0..n as u64).map(|i| {
            let mut e = get("203.0.113.21", "/api/login", 401);
            e.method = "POST".into();
            e.headers
                .push(("Content-Type".into(), "application/json".into()));
            e.body =
                format!(r#"{{"email":"CEO@corp.example","password":"guess{i}"}}"#).into_bytes();
            e.at(i + 1, i * 400)
        }))
    };
    assert_eq!(
        count_kind(&run(cfg.clone(), &json(min - 1))?, "brute_force"),
        0
    );
    let inc = run(cfg, &json(min))?;
    assert!(
        inc.iter()
            .any(|i| i.kind == "brute_force" && i.targets == ["ceo@corp.example"]),
        "{inc:?}"
    );
    Ok(())
}

#[test]
fn config_reads_from_a_file_and_names_unknown_keys() {
    let cfg: Result<BehaviourConfig, _> = serde_json::from_str(
        r#"{"trusted_proxies": ["10.0.0.0/8"], "brute_force_min_failures": 5}"#,
    );
    assert!(cfg.is_ok_and(|c| c.brute_force_min_failures == 5 && c.bola_min_ids == 25));
    let typo: Result<BehaviourConfig, _> = serde_json::from_str(r#"{"brute_force_min": 5}"#);
    assert!(typo.is_err_and(|e| e.to_string().contains("brute_force_min")));
}

#[test]
fn the_analyser_can_move_to_another_thread() {
    fn send<T: Send>() {}
    send::<Behaviour>();
}

#[test]
fn a_full_incident_table_closes_its_oldest_incident() -> Result<(), ConfigError> {
    let cfg = BehaviourConfig {
        max_open_incidents: 2,
        ..Default::default()
    };
    let mut b = Behaviour::new(cfg)?;
    let mut out = Vec::new();
    for (i, who) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        .iter()
        .enumerate()
    {
        let e = get(who, "/?q=<svg onload=x>", 200)
            .at(i as u64 + 1, i as u64 * 1000)
            .build();
        b.on_exchange(&e, &[attack(&e, "xss", Outcome::Failed)], &mut out);
        // A second hit, held back by the re-emission rate limit.
        let e = get(who, "/?q=<svg onload=y>", 200)
            .at(i as u64 + 10, i as u64 * 1000 + 500)
            .build();
        b.on_exchange(&e, &[attack(&e, "xss", Outcome::Failed)], &mut out);
    }
    assert_eq!(b.table_sizes().open_incidents, 2);
    assert_eq!(b.stats().evicted_incidents, 1);
    let inc = incidents(out);
    // Three openings, plus the first incident's final state when it was pushed out.
    assert_eq!(inc.len(), 4, "{inc:?}");
    assert!(
        inc[2].client == "ip:203.0.113.1" && inc[2].count == 2,
        "pushed out before the third opens: {inc:?}"
    );
    Ok(())
}

#[test]
fn hostile_requests_do_not_panic() -> Result<(), ConfigError> {
    // Random headers, targets and bodies (a small xorshift generator, fixed seed) through every
    // detector, with trusted proxies so that forwarding headers are parsed too.
    let cfg = BehaviourConfig {
        trusted_proxies: vec!["0.0.0.0/0".into(), "::/0".into()],
        ..Default::default()
    };
    let mut b = Behaviour::new(cfg)?;
    let mut out = Vec::new();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet: &[u8] = b"aZ09 ,;:=/.[]%+\"{}@-_\x00\xff\xe2\x82";
    let text = |n: usize, next: &mut dyn FnMut() -> u64| -> Vec<u8> {
        (0..n)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect()
    };
    let names = [
        "X-Forwarded-For",
        "Forwarded",
        "X-Real-IP",
        "Authorization",
        "Cookie",
        "X-API-Key",
        "Content-Type",
        "User-Agent",
        "Host",
    ];
    for i in 0..5000u64 {
        let mut e = get("198.51.100.9", "/", 200);
        e.target = String::from_utf8_lossy(&text((next() % 80) as usize, &mut next)).into_owned();
        e.headers.clear();
        for _ in 0..(next() % 8) {
            let name = names[(next() % names.len() as u64) as usize];
            let mut v = text((next() % 120) as usize, &mut next);
            if next() % 3 == 0 {
                let prefix: &[u8] = [
                    b"Basic ".as_slice(),
                    b"Bearer ey.ey.x",
                    b"session=",
                    b"application/json",
                ][(next() % 4) as usize];
                v.splice(0..0, prefix.iter().copied());
            }
            e.headers
                .push((name.into(), String::from_utf8_lossy(&v).into_owned()));
        }
        e.method = "POST".into();
        e.body = text((next() % 300) as usize, &mut next);
        if next() % 2 == 0 {
            e.body
                .splice(0..0, br#"{"user":"a","password":"#.iter().copied());
        }
        e.status = [None, Some(200), Some(302), Some(401), Some(404)][(next() % 5) as usize];
        let ex = e.at(i + 1, i * 10).build();
        let a = if next() % 4 == 0 {
            vec![attack(&ex, "sqli", Outcome::Unknown)]
        } else {
            Vec::new()
        };
        b.on_exchange(&ex, &a, &mut out);
    }
    b.finish(&mut out);
    Ok(())
}

#[test]
fn one_broken_timestamp_does_not_close_everything() -> Result<(), ConfigError> {
    let mut items = Vec::new();
    for i in 0..200u64 {
        let mut e = get("203.0.113.9", "/?q=' or 1=1--", 200)
            .at(i + 1, i * 1000)
            .build();
        if i == 50 {
            // One packet from the year 2096.
            e.ts = Timestamp::from_secs_nanos(4_000_000_000, 0);
        }
        let a = vec![attack(&e, "sqli", Outcome::Failed)];
        items.push((e, a));
    }
    let mut b = Behaviour::new(BehaviourConfig::default())?;
    let mut out = Vec::new();
    for (e, a) in &items {
        b.on_exchange(e, a, &mut out);
    }
    b.finish(&mut out);
    let inc = incidents(out);
    assert_eq!(b.stats().clock_outliers, 1);
    assert!(inc.len() <= 6, "{} lines: {inc:?}", inc.len());
    // A real jump (two exchanges agree) is followed: the old incident closes, a new one opens.
    let mut b = Behaviour::new(BehaviourConfig::default())?;
    let mut out = Vec::new();
    for (i, (e, a)) in items.iter().take(40).enumerate() {
        let mut e = e.clone();
        if i >= 20 {
            e.ts = e.ts.plus(Duration::from_secs(86_400));
        }
        b.on_exchange(&e, a, &mut out);
    }
    assert_eq!(b.stats().clock_outliers, 1);
    assert_eq!(b.table_sizes().open_incidents, 1);
    assert_eq!(incidents(out).iter().filter(|i| i.count == 1).count(), 2);
    Ok(())
}
