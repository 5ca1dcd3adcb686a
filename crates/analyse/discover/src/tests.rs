//! Unit tests of the inventory as a whole: exchanges in, endpoints out.

use crate::testing::exchange;
use crate::*;
use serde_json::json;

fn host(h: &str) -> Vec<(&'static str, String)> {
    vec![("Host", h.to_string())]
}

fn get(inv: &mut Inventory, target: &str) {
    inv.observe(&exchange(
        "GET",
        target,
        &[("Host", "api.test")],
        b"",
        200,
        b"{\"ok\":true}",
    ));
}

fn paths(inv: &Inventory) -> Vec<String> {
    inv.endpoints()
        .into_iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect()
}

#[test]
fn templates_ids_uuids_and_names_them() {
    let mut inv = Inventory::default();
    let _ = host("x");
    for i in 0..30u32 {
        get(
            &mut inv,
            &format!(
                "/api/users/{}/orders/9f3e2a1c-1b2c-4d5e-8f90-{:012x}",
                1000 + i * 7,
                i
            ),
        );
        get(&mut inv, &format!("/api/users/{}", 17 + i));
        get(&mut inv, &format!("/api/reports/2024-01-{:02}", 1 + i % 28));
        get(
            &mut inv,
            &format!(
                "/api/blobs/{:016x}",
                0xdead_beef_0000_u64 + u64::from(i) * 977
            ),
        );
    }
    get(&mut inv, "/api/users/me");
    assert_eq!(
        paths(&inv),
        vec![
            "GET /api/blobs/{blobId}",
            "GET /api/reports/{date}",
            "GET /api/users/me",
            "GET /api/users/{userId}",
            "GET /api/users/{userId}/orders/{orderId}",
        ]
    );
    let e = inv
        .endpoints()
        .into_iter()
        .find(|e| e.path.ends_with("{orderId}"))
        .expect("orders");
    let p: Vec<(String, String, Option<String>)> = e
        .params
        .iter()
        .map(|p| (p.name.clone(), p.ty.clone(), p.format.clone()))
        .collect();
    assert_eq!(
        p,
        vec![
            ("userId".into(), "integer".into(), None),
            ("orderId".into(), "string".into(), Some("uuid".into()))
        ]
    );
}

#[test]
fn learns_high_cardinality_segments_but_keeps_resource_names() {
    let mut inv = Inventory::default();
    let resources = [
        "users", "orders", "products", "carts", "payments", "reviews", "search", "login", "logout",
        "health", "metrics", "settings", "profile", "coupons", "stores",
    ];
    // Names come back again and again; slugs mostly once.
    for round in 0..20 {
        for r in resources {
            get(&mut inv, &format!("/api/{r}"));
        }
        for k in 0..5 {
            get(
                &mut inv,
                &format!(
                    "/api/teams/team-{}-{}/members",
                    ["red", "blue", "green", "gold"][k % 4],
                    round * 5 + k
                ),
            );
        }
    }
    let p = paths(&inv);
    assert!(
        p.contains(&"GET /api/teams/{teamId}/members".to_string()),
        "{p:?}"
    );
    for r in resources {
        assert!(p.contains(&format!("GET /api/{r}")), "{r} lost: {p:?}");
    }
    assert_eq!(p.len(), resources.len() + 1, "{p:?}");
}

#[test]
fn a_hundred_thousand_values_make_one_template() {
    let mut inv = Inventory::default();
    for i in 0..100_000u32 {
        // Words, not ids: only counting can tell.
        let name: String = format!("user{}", i)
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    (b'a' + (c as u8 - b'0')) as char
                } else {
                    c
                }
            })
            .collect();
        inv.observe(&exchange(
            "GET",
            &format!("/u/{name}/profile"),
            &[("Host", "h")],
            b"",
            200,
            b"",
        ));
    }
    assert_eq!(paths(&inv), vec!["GET /u/{id}/profile"]);
    let h = inv.hosts.get("h").expect("host");
    assert!(h.nodes < 10, "nodes {}", h.nodes);
}

#[test]
fn caps_hold_under_garbage() {
    let cfg = DiscoverConfig {
        max_hosts: 2,
        max_endpoints_per_host: 5,
        max_params_per_endpoint: 3,
        ..Default::default()
    };
    let mut inv = Inventory::new(cfg);
    for i in 0..50 {
        inv.observe(&exchange(
            "GET",
            &format!("/a{i}?p{i}=1&q=2&r=3&s=4"),
            &[("Host", &format!("h{}", i % 3))],
            b"",
            200,
            b"",
        ));
        inv.observe(&exchange(
            &format!("M{i}"),
            "/",
            &[("Host", "h0")],
            b"",
            200,
            b"",
        ));
    }
    let eps = inv.endpoints();
    assert!(inv.hosts().len() <= 2);
    for h in inv.hosts() {
        assert!(eps.iter().filter(|e| e.host == h).count() <= 5);
    }
    assert!(eps.iter().all(|e| e
        .params
        .iter()
        .filter(|p| matches!(
            p.location,
            Location::Query | Location::Header | Location::Cookie
        ))
        .count()
        <= 3));
    assert!(
        inv.stats().dropped_host_cap > 0
            && inv.stats().dropped_endpoint_cap > 0
            && inv.stats().dropped_params > 0
    );
    // Hostile targets and bodies must not panic.
    for t in [
        "",
        "*",
        "//",
        "/%",
        "/%zz/%ff%fe",
        "http://",
        "http://h",
        "/a?&&==&",
        "/\u{0}",
        "/..//../",
        "?x",
    ] {
        inv.observe(&exchange(
            "POST",
            t,
            &[("Content-Type", "application/json"), ("Cookie", ";;=;a")],
            b"{\"a\":[1,",
            200,
            b"[[[[[",
        ));
        inv.observe(&exchange(
            "POST",
            t,
            &[("Content-Type", "multipart/form-data; boundary=")],
            b"--\r\n\r\n",
            200,
            b"",
        ));
        inv.observe(&exchange(
            "POST",
            t,
            &[("Content-Type", "text/xml")],
            b"<a><b>",
            200,
            b"",
        ));
    }
    let deep = "[".repeat(5000);
    inv.observe(&exchange(
        "POST",
        "/deep",
        &[("Content-Type", "application/json")],
        deep.as_bytes(),
        200,
        deep.as_bytes(),
    ));
    let _ = inv.to_openapi();
    let _ = text::render(&inv, None, None);
}

#[test]
fn params_bodies_auth_and_sensitive() {
    let mut inv = Inventory::default();
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlMTIz";
    for i in 0..25 {
        let body = json!({"name": format!("n{i}"), "email": format!("u{i}@example.com"), "card": "4111 1111 1111 1111",
            "items": [{"sku": "a1", "qty": i}], "note": if i % 2 == 0 { json!(null) } else { json!("x") }});
        let sort = ["asc", "desc"][i % 2];
        let auth = format!("Bearer {jwt}");
        let mut headers = vec![
            ("Host", "shop"),
            ("Content-Type", "application/json"),
            ("X-Request-Id", "9f3e2a1c-1b2c-4d5e-8f90-123456789abc"),
            ("Cookie", "theme=dark; session=abc"),
        ];
        if i % 5 != 0 {
            headers.push(("Authorization", &auth));
        }
        let target = format!(
            "/api/v1/orders?page={i}&sort={sort}&since=2026-11-25T10:00:00Z&callback=https://h/x"
        );
        let resp = json!({"id": i, "password": "hunter2", "owner": {"phone": "+44 20 7946 0958"}});
        inv.observe(&exchange(
            "POST",
            &target,
            &headers,
            body.to_string().as_bytes(),
            201,
            resp.to_string().as_bytes(),
        ));
    }
    let e = inv.endpoints().pop().expect("endpoint");
    let find = |loc: Location, n: &str| {
        e.params
            .iter()
            .find(|p| p.location == loc && p.name == n)
            .cloned()
    };
    assert_eq!(
        find(Location::Query, "page").map(|p| (p.ty, p.required)),
        Some(("integer".into(), true))
    );
    assert_eq!(
        find(Location::Query, "sort").map(|p| p.schema["enum"].clone()),
        Some(json!(["asc", "desc"]))
    );
    assert_eq!(
        find(Location::Query, "since").and_then(|p| p.format),
        Some("date-time".into())
    );
    assert_eq!(
        find(Location::Header, "X-Request-Id").and_then(|p| p.format),
        Some("uuid".into())
    );
    assert_eq!(
        find(Location::Cookie, "theme").map(|p| p.ty),
        Some("string".into())
    );
    assert!(
        find(Location::Cookie, "session").is_none(),
        "session cookie is auth, not a parameter"
    );
    assert_eq!(
        find(Location::Body, "items").map(|p| p.ty),
        Some("array".into())
    );
    assert_eq!(
        find(Location::Body, "note").map(|p| p.schema["type"].clone()),
        Some(json!(["string", "null"]))
    );
    let kinds: Vec<String> = e.auth.iter().map(|(a, _)| a.label()).collect();
    assert_eq!(kinds, vec!["bearer_jwt", "cookie:session"]);
    let sens: Vec<String> = e
        .sensitive
        .iter()
        .map(|s| format!("{}@{}", s.kind.as_str(), s.place))
        .collect();
    for want in [
        "email@request.body.email",
        "payment_card@request.body.card",
        "password@response.body.password",
        "phone@response.body.owner.phone",
    ] {
        assert!(sens.contains(&want.to_string()), "{want} not in {sens:?}");
    }
    assert!(e.risk >= 7, "risk {} {:?}", e.risk, e.risk_reasons);
    assert!(e.risk_reasons.iter().any(|r| r.contains("SSRF")));
}

#[test]
fn forms_multipart_xml_and_assets() {
    let mut inv = Inventory::default();
    inv.observe(&exchange(
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"username=bob&password=x&remember=true",
        302,
        b"",
    ));
    let mp = b"--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n\x00\x01\r\n--B--\r\n";
    inv.observe(&exchange(
        "POST",
        "/upload",
        &[("Content-Type", "multipart/form-data; boundary=B")],
        mp,
        200,
        b"",
    ));
    inv.observe(&exchange(
        "POST",
        "/xml",
        &[("Content-Type", "application/xml")],
        b"<o><id>3</id><n>x</n></o>",
        200,
        b"",
    ));
    inv.observe(&exchange("GET", "/static/app.js", &[], b"", 200, b""));
    inv.observe(&exchange("GET", "/logo.png", &[], b"", 200, b""));
    let eps = inv.endpoints();
    assert_eq!(eps.len(), 3);
    let login = eps.iter().find(|e| e.path == "/login").expect("login");
    assert_eq!(
        login.request_bodies[0].schema["properties"]["remember"]["type"],
        "boolean"
    );
    assert!(login
        .sensitive
        .iter()
        .any(|s| s.kind == SensitiveKind::Password));
    let up = eps.iter().find(|e| e.path == "/upload").expect("upload");
    assert_eq!(
        up.request_bodies[0].schema["properties"]["file"]["contentMediaType"],
        "application/octet-stream"
    );
    assert!(up.risk_reasons.iter().any(|r| r == "file upload"));
    let xml = eps.iter().find(|e| e.path == "/xml").expect("xml");
    assert_eq!(
        xml.request_bodies[0].schema["properties"]["id"]["type"],
        "integer"
    );
    assert_eq!(inv.stats().assets, 2);
}

#[test]
fn openapi_roundtrip_has_no_drift() {
    let mut inv = Inventory::default();
    for i in 0..20 {
        get(&mut inv, &format!("/api/v1/users/{}?page={i}", 100 + i));
        get(&mut inv, "/api/v1/health");
        inv.observe(&exchange(
            "DELETE",
            &format!("/api/v1/users/{}", i + 1),
            &[("Host", "api.test"), ("X-Api-Key", "k")],
            b"",
            204,
            b"",
        ));
    }
    get(&mut inv, "/api/v0/users/5");
    let doc = inv.to_openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    let text = yaml_serde::to_string(&doc).expect("yaml");
    let spec = parse_spec(&text).expect("reads own export");
    let d = inv.drift(&spec);
    assert!(d.shadow.is_empty() && d.orphan.is_empty(), "{d:?}");
    assert!(d.mismatches.is_empty(), "{:?}", d.mismatches);
    assert_eq!(d.zombie.len(), 1, "{:?}", d.zombie);
    assert!(d.zombie[0].note.contains("old version v0"));
}

#[test]
fn drift_finds_shadow_orphan_zombie_and_mismatch() {
    let spec = parse_spec(
        r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /users/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
        - {name: page, in: query, schema: {type: integer}}
      responses: {"200": {description: ok}}
  /old:
    get: {deprecated: true, responses: {"200": {description: ok}}}
  /never:
    post: {responses: {"200": {description: ok}}}
"#,
    )
    .expect("spec");
    let mut inv = Inventory::default();
    get(&mut inv, "/users/7?page=abc&extra=1");
    get(&mut inv, "/old");
    get(&mut inv, "/secret");
    inv.observe(&exchange(
        "GET",
        "/users/8",
        &[("Host", "api.test")],
        b"",
        500,
        b"",
    ));
    let d = inv.drift(&spec);
    assert_eq!(
        d.shadow.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        vec!["/secret"]
    );
    assert_eq!(
        d.orphan.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        vec!["/never"]
    );
    assert_eq!(
        d.zombie.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        vec!["/old"]
    );
    let kinds: Vec<_> = d.mismatches.iter().map(|m| m.kind).collect();
    assert!(kinds.contains(&drift::MismatchKind::UndocumentedParameter));
    assert!(kinds.contains(&drift::MismatchKind::TypeMismatch));
    assert!(kinds.contains(&drift::MismatchKind::UndocumentedStatus));
}

#[test]
fn change_tracking_across_runs() {
    let dir = std::env::temp_dir().join(format!("periscope-discover-state-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("state.json");
    let _ = std::fs::remove_file(&path);
    let opts = DiscoverOptions {
        state: Some(path.clone()),
        ..Default::default()
    };
    let run1 = vec![
        exchange("GET", "/a?x=1", &[], b"", 200, b""),
        exchange("GET", "/b", &[], b"", 200, b""),
    ];
    let (_, r1) = run(run1, &opts).expect("run 1");
    assert_eq!(r1.changes.as_ref().map(|c| c.new_endpoints.len()), Some(2));
    let run2 = vec![
        exchange("GET", "/a?x=abc&y=2", &[], b"", 404, b""),
        exchange("GET", "/c", &[], b"", 200, b""),
    ];
    let (_, r2) = run(run2, &opts).expect("run 2");
    let c = r2.changes.expect("changes");
    assert_eq!(c.new_endpoints, vec!["10.0.0.2:80 GET /c".to_string()]);
    assert_eq!(c.changed.len(), 1);
    assert_eq!(
        c.changed[0].added_params,
        vec!["query:y:integer".to_string()]
    );
    assert_eq!(
        c.changed[0].retyped_params,
        vec!["query:x integer → string".to_string()]
    );
    assert_eq!(c.changed[0].new_statuses, vec![404]);
    assert_eq!(
        c.silent
            .iter()
            .map(|s| s.endpoint.as_str())
            .collect::<Vec<_>>(),
        vec!["10.0.0.2:80 GET /b"]
    );
    std::fs::write(&path, b"not json").expect("write");
    assert!(run(Vec::new(), &opts).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn endpoint_events_and_json_report() {
    let mut inv = Inventory::default();
    get(&mut inv, "/items/1");
    let ev = inv.endpoint_events();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].path, "/items/{itemId}");
    let v = serde_json::to_value(&ev[0]).expect("json");
    assert_eq!(v["params"], json!(["path:itemId:integer"]));
}

#[test]
fn token_shaped_literals_join_the_tokens_beside_them() {
    let mut inv = Inventory::default();
    for t in [
        "aGVsbG8gd29ybGQ1MjM0NTY",
        "Zm9vYmFyYmF6cXV4MTIzNDU",
        "SvsXqwpzai_cKXl0cqcdAazZ",
    ] {
        get(&mut inv, &format!("/invites/{t}"));
    }
    get(&mut inv, "/invites/pending");
    assert_eq!(
        paths(&inv),
        vec!["GET /invites/pending", "GET /invites/{inviteId}"]
    );
}
