//! The API over real HTTP on loopback: a server from `periscope_serve::serve` on an ephemeral
//! port, a `reqwest` client, a `MemoryStore` (or a store that fails on purpose) behind it.
//! `/metrics` is checked by real parsers: `promtool check metrics` and Python's
//! `prometheus_client` when installed (a skip reason is printed otherwise), and the
//! `prometheus-parse` crate always.

use periscope_model::endpoint::EndpointEvent;
use periscope_model::{Event, Timestamp};
use periscope_serve::{router, serve, ApiState, ApiToken, Metrics, Readiness};
use periscope_store::{
    MemoryStore, NewRecord, Page, Query, SqliteConfig, SqliteStore, Store, StoreError, StoreStats,
};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;
use std::error::Error;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn Error>>;

/// Runs a test case against a `MemoryStore` and against a `SqliteStore` in a temporary file.
macro_rules! on_both_stores {
    ($case:ident) => {
        mod $case {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() -> TestResult {
                super::$case(Arc::new(MemoryStore::new())).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> TestResult {
                let dir = tempfile::tempdir()?;
                let store =
                    SqliteStore::open(dir.path().join("events.db"), SqliteConfig::default())?;
                super::$case(Arc::new(store)).await
            }
        }
    };
}

const TOKEN: &str = "test-token-6f1e0c9a";

/// A running server and what the test needs to poke it.
struct Server {
    base: String,
    http: reqwest::Client,
    metrics: Arc<Metrics>,
    ready: Readiness,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(store: Arc<dyn Store>) -> Result<Server, Box<dyn Error>> {
        let metrics = Arc::new(Metrics::new());
        let token = ApiToken::new(TOKEN, "test")?;
        let state = ApiState::new(store, metrics.clone(), token);
        let ready = state.readiness();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, router(state), async {
            let _ = stopped.await;
        }));
        Ok(Server {
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            metrics,
            ready,
            stop: Some(stop),
            task,
        })
    }

    /// GET with the right token.
    async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(format!("{}{path}", self.base))
            .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
            .send()
            .await
    }

    /// GET with the right token, expecting 200 and JSON.
    async fn get_json(&self, path: &str) -> Result<Value, Box<dyn Error>> {
        let response = self.get(path).await?;
        let status = response.status();
        let body = response.text().await?;
        if status != StatusCode::OK {
            return Err(format!("{path}: {status}: {body}").into());
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// GET with the right token, expecting `status` and a JSON error body; returns its message.
    async fn get_error(&self, path: &str, status: StatusCode) -> Result<String, Box<dyn Error>> {
        let response = self.get(path).await?;
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await?;
        let Some(message) = body["error"].as_str() else {
            return Err(format!("{path}: no error message in {body}").into());
        };
        Ok(message.to_string())
    }

    async fn shutdown(mut self) -> TestResult {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(5), self.task).await???;
        Ok(())
    }
}

fn attack(n: usize, ts: Timestamp) -> NewRecord {
    NewRecord {
        kind: "attack",
        ts,
        key: None,
        json: serde_json::json!({"type": "attack", "n": n, "ts": ts.to_rfc3339()}).to_string(),
    }
}

fn secs(s: u64) -> Timestamp {
    Timestamp::from_secs_nanos(1_790_000_000 + s, 0)
}

/// Every page of `/api/v1/events` with `query`, following `next`.
async fn all_pages(server: &Server, query: &str) -> Result<(Vec<Value>, usize), Box<dyn Error>> {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/events?{query}&cursor={c}"),
            None => format!("/api/v1/events?{query}"),
        };
        let page = server.get_json(&path).await?;
        pages += 1;
        let Some(page_items) = page["items"].as_array() else {
            return Err(format!("no items in {page}").into());
        };
        items.extend(page_items.iter().cloned());
        match &page["next"] {
            Value::Null => return Ok((items, pages)),
            Value::String(next) => cursor = Some(next.clone()),
            other => return Err(format!("next is {other}").into()),
        }
        if pages > 100 {
            return Err("pagination does not end".into());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_routes_need_the_bearer_token_and_probes_do_not() -> TestResult {
    let server = Server::start(Arc::new(MemoryStore::new())).await?;
    let url = |p: &str| format!("{}{p}", server.base);
    for path in [
        "/api/v1/events",
        "/api/v1/endpoints",
        "/api/v1/openapi.json",
        "/api/v1/stats",
        "/api/v2/nothing",
    ] {
        let none = server.http.get(url(path)).send().await?;
        assert_eq!(
            none.status(),
            StatusCode::UNAUTHORIZED,
            "{path} without token"
        );
        let challenge = none.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str());
        assert!(
            matches!(challenge, Some(Ok(c)) if c.starts_with("Bearer")),
            "{path}: {challenge:?}"
        );
        for wrong in [
            format!("Bearer {TOKEN}x"),
            format!("Bearer {}", &TOKEN[1..]),
            "Bearer ".to_string(),
            format!("Basic {TOKEN}"),
            TOKEN.to_string(),
        ] {
            let response = server
                .http
                .get(url(path))
                .header(AUTHORIZATION, &wrong)
                .send()
                .await?;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{path} with {wrong:?}"
            );
            assert!(response.headers().contains_key(WWW_AUTHENTICATE));
            let body: Value = response.json().await?;
            assert!(body["error"].is_string(), "{body}");
        }
    }
    let ok = server.get("/api/v1/events").await?;
    assert_eq!(ok.status(), StatusCode::OK);
    let cache = ok.headers().get(reqwest::header::CACHE_CONTROL).cloned();
    assert_eq!(
        cache.as_ref().map(|v| v.to_str()).transpose()?,
        Some("no-store")
    );
    assert_eq!(server.get("/api/v1/stats").await?.status(), StatusCode::OK);
    // With the token, an unknown API path is a plain 404.
    assert_eq!(
        server.get("/api/v2/nothing").await?.status(),
        StatusCode::NOT_FOUND
    );
    for path in ["/live", "/metrics"] {
        let response = server.http.get(url(path)).send().await?;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    // Every request above is counted by route and status; unknown paths share one series.
    let text = server.metrics.encode();
    for series in [
        r#"periscope_api_requests_total{route="/api/v1/events",status="401"} 6"#,
        r#"periscope_api_requests_total{route="/api/v1/events",status="200"} 1"#,
        r#"periscope_api_requests_total{route="/api/v1/stats",status="401"} 6"#,
        r#"periscope_api_requests_total{route="unmatched",status="401"} 6"#,
        r#"periscope_api_requests_total{route="unmatched",status="404"} 1"#,
        r#"periscope_api_requests_total{route="/live",status="200"} 1"#,
    ] {
        assert!(text.contains(series), "{series}\n{text}");
    }
    server.shutdown().await
}

on_both_stores!(pagination_returns_every_event_once);
async fn pagination_returns_every_event_once(store: Arc<dyn Store>) -> TestResult {
    let batch: Vec<NewRecord> = (0..250).map(|n| attack(n, secs(n as u64))).collect();
    store.append(&batch[..120])?;
    // The daemon's OpenAPI record sits among the events; /events never lists it.
    store.append(&[NewRecord {
        kind: "openapi",
        ts: secs(0),
        key: Some("current".into()),
        json: r#"{"openapi":"3.1.0"}"#.into(),
    }])?;
    store.append(&batch[120..])?;
    let server = Server::start(store).await?;

    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/events?limit=100&cursor={c}"),
            None => "/api/v1/events?limit=100".to_string(),
        };
        let page = server.get_json(&path).await?;
        let items = page["items"].as_array().ok_or("items")?;
        sizes.push(items.len());
        for item in items {
            assert_eq!(item["type"], "attack", "{item}");
            seen.push(item["n"].as_u64().ok_or("n")?);
        }
        match &page["next"] {
            Value::String(next) => cursor = Some(next.clone()),
            Value::Null => break,
            other => return Err(format!("next: {other}").into()),
        }
    }
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(seen, (0..250).collect::<Vec<u64>>());

    // The default page is 100.
    let first = server.get_json("/api/v1/events").await?;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(100));
    // A page that ends exactly at the last event says so.
    let (items, pages) = all_pages(&server, "limit=125").await?;
    assert_eq!((items.len(), pages), (250, 2));
    server.shutdown().await
}

on_both_stores!(type_and_since_filter_events);
async fn type_and_since_filter_events(store: Arc<dyn Store>) -> TestResult {
    let mut batch: Vec<NewRecord> = (0..30).map(|n| attack(n, secs(n as u64 * 10))).collect();
    for n in 0..7 {
        batch.push(NewRecord {
            kind: "vulnerability",
            ts: secs(n * 50),
            key: Some(format!("vuln-{n}")),
            json: serde_json::json!({"type": "vulnerability", "n": n}).to_string(),
        });
    }
    store.append(&batch)?;
    let server = Server::start(store).await?;

    let (attacks, _) = all_pages(&server, "type=attack&limit=7").await?;
    assert_eq!(attacks.len(), 30);
    assert!(attacks.iter().all(|e| e["type"] == "attack"));
    let (vulns, _) = all_pages(&server, "type=vulnerability").await?;
    assert_eq!(vulns.len(), 7);
    assert!(vulns.iter().all(|e| e["type"] == "vulnerability"));
    let (none, _) = all_pages(&server, "type=incident").await?;
    assert!(none.is_empty());

    // Attack n is at 10 n seconds: since 150 s keeps n = 15..29.
    let since = secs(150).to_rfc3339();
    let (recent, _) = all_pages(&server, &format!("type=attack&since={since}&limit=4")).await?;
    let ns: Vec<u64> = recent.iter().filter_map(|e| e["n"].as_u64()).collect();
    assert_eq!(ns, (15..30).collect::<Vec<u64>>());
    // The same instant written with an offset (the '+' percent-encoded), and one second later.
    let local = Timestamp::from_secs_nanos(1_790_000_000 + 150 + 7200, 0).to_rfc3339();
    let with_offset = local.replace('Z', "%2B02:00");
    let (same, _) = all_pages(&server, &format!("type=attack&since={with_offset}")).await?;
    assert_eq!(same.len(), 15);
    let later = secs(151).to_rfc3339();
    let (fewer, _) = all_pages(&server, &format!("type=attack&since={later}")).await?;
    assert_eq!(fewer.len(), 14);
    // Without a type, both kinds after the time.
    let (mixed, _) = all_pages(&server, &format!("since={since}")).await?;
    let vulns_after = (0..7).filter(|n| n * 50 >= 150).count();
    assert_eq!(mixed.len(), 15 + vulns_after);
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400_naming_the_parameter() -> TestResult {
    let server = Server::start(Arc::new(MemoryStore::new())).await?;
    for (query, parameter) in [
        ("type=openapi", "type"),
        ("type=attacks", "type"),
        ("type=", "type"),
        ("since=yesterday", "since"),
        ("since=2026-11-25T16:45:46", "since"),
        ("since=2026-02-30T00:00:00Z", "since"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("cursor=abc", "cursor"),
        ("cursor=-1", "cursor"),
        ("typ=attack", "typ"),
        ("limit=5&limit=6", "limit"),
    ] {
        let message = server
            .get_error(&format!("/api/v1/events?{query}"), StatusCode::BAD_REQUEST)
            .await?;
        assert!(message.contains(parameter), "{query}: {message}");
    }
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_follows_the_flag_and_live_always_answers() -> TestResult {
    let server = Server::start(Arc::new(MemoryStore::new())).await?;
    let status = |path: &'static str| {
        let request = server.http.get(format!("{}{path}", server.base));
        async move { request.send().await.map(|r| r.status()) }
    };
    assert_eq!(status("/ready").await?, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(status("/live").await?, StatusCode::OK);
    server.ready.set(true);
    assert_eq!(status("/ready").await?, StatusCode::OK);
    assert_eq!(server.get_json("/api/v1/stats").await?["ready"], true);
    server.ready.set(false);
    assert_eq!(status("/ready").await?, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(status("/live").await?, StatusCode::OK);
    server.shutdown().await
}

fn endpoint(n: usize, hits: u64) -> Result<NewRecord, serde_json::Error> {
    NewRecord::from_event(&Event::Endpoint(Box::new(EndpointEvent {
        host: "shop.example".into(),
        method: "GET".into(),
        path: format!("/api/items/{n}"),
        hits,
        first_seen: secs(0).to_rfc3339(),
        last_seen: secs(hits).to_rfc3339(),
        statuses: vec![200],
        risk: 1,
        ..EndpointEvent::default()
    })))
}

on_both_stores!(endpoints_follow_every_page_and_show_updates_once);
async fn endpoints_follow_every_page_and_show_updates_once(store: Arc<dyn Store>) -> TestResult {
    let first: Vec<NewRecord> = (0..2500)
        .map(|n| endpoint(n, 1))
        .collect::<Result<_, _>>()?;
    store.append(&first)?;
    store.append(&(0..10).map(|n| attack(n, secs(1))).collect::<Vec<_>>())?;
    // Ten endpoints seen again: the store replaces them.
    let again: Vec<NewRecord> = (0..10).map(|n| endpoint(n, 5)).collect::<Result<_, _>>()?;
    store.append(&again)?;
    let server = Server::start(store).await?;

    let list = server.get_json("/api/v1/endpoints").await?;
    let items = list["items"].as_array().ok_or("items")?;
    assert_eq!(items.len(), 2500);
    assert!(list.get("truncated").is_none(), "{}", list["truncated"]);
    let paths: HashSet<&str> = items.iter().filter_map(|e| e["path"].as_str()).collect();
    assert_eq!(paths.len(), 2500);
    assert!(items.iter().all(|e| e["type"] == "endpoint"));
    let updated = items
        .iter()
        .find(|e| e["path"] == "/api/items/3")
        .ok_or("item 3")?;
    assert_eq!(updated["hits"], 5);
    server.shutdown().await
}

on_both_stores!(openapi_serves_the_newest_document_or_404);
async fn openapi_serves_the_newest_document_or_404(store: Arc<dyn Store>) -> TestResult {
    let server = Server::start(store.clone()).await?;
    let message = server
        .get_error("/api/v1/openapi.json", StatusCode::NOT_FOUND)
        .await?;
    assert!(message.contains("OpenAPI"), "{message}");

    for version in ["1", "2"] {
        let doc = serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "discovered", "version": version},
            "paths": {},
        });
        store.append(&[NewRecord {
            kind: "openapi",
            ts: secs(1),
            key: Some("current".into()),
            json: doc.to_string(),
        }])?;
        let response = server.get("/api/v1/openapi.json").await?;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers().get(CONTENT_TYPE).cloned();
        assert_eq!(
            content_type.as_ref().map(|v| v.to_str()).transpose()?,
            Some("application/json")
        );
        let served: Value = response.json().await?;
        assert_eq!(served, doc);
    }
    server.shutdown().await
}

on_both_stores!(stats_count_records_and_show_counters);
async fn stats_count_records_and_show_counters(store: Arc<dyn Store>) -> TestResult {
    store.append(&(0..4).map(|n| attack(n, secs(1))).collect::<Vec<_>>())?;
    store.append(&[endpoint(1, 1)?])?;
    let server = Server::start(store).await?;
    server.metrics.packets("eth0", 10, 1000);
    server.metrics.dropped("queue_full", 3);
    server.metrics.http_exchanges(2);
    let stats = server.get_json("/api/v1/stats").await?;
    assert_eq!(stats["store"]["records"]["attack"], 4, "{stats}");
    assert_eq!(stats["store"]["records"]["endpoint"], 1, "{stats}");
    assert_eq!(stats["counters"]["packets"], 10, "{stats}");
    assert_eq!(stats["counters"]["dropped"], 3, "{stats}");
    assert_eq!(stats["counters"]["http_exchanges"], 2, "{stats}");
    assert_eq!(stats["ready"], false, "{stats}");
    server.shutdown().await
}

/// A store that fails every call, or panics in it.
struct BrokenStore {
    panics: bool,
}

impl BrokenStore {
    fn fail<T>(&self) -> Result<T, StoreError> {
        if self.panics {
            panic!("store bug");
        }
        Err(StoreError::Busy("database is locked".into()))
    }
}

impl Store for BrokenStore {
    fn append(&self, _: &[NewRecord]) -> Result<(), StoreError> {
        self.fail()
    }
    fn query(&self, _: &Query) -> Result<Page, StoreError> {
        self.fail()
    }
    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.fail()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_failures_are_503_with_a_json_error() -> TestResult {
    for panics in [false, true] {
        let server = Server::start(Arc::new(BrokenStore { panics })).await?;
        for path in [
            "/api/v1/events",
            "/api/v1/endpoints",
            "/api/v1/openapi.json",
            "/api/v1/stats",
        ] {
            let response = server.get(path).await?;
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert!(response.headers().contains_key(RETRY_AFTER), "{path}");
            let body: Value = response.json().await?;
            assert!(
                body["error"].as_str().is_some_and(|e| e.contains("store")),
                "{body}"
            );
        }
        let text = server.get("/metrics").await?.text().await?;
        let kind = if panics { "other" } else { "busy" };
        assert!(
            text.contains(&format!(
                "periscope_store_errors_total{{kind=\"{kind}\"}} 4"
            )),
            "{text}"
        );
        // The server is still up.
        assert_eq!(server.get("/live").await?.status(), StatusCode::OK);
        server.shutdown().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_server_promptly() -> TestResult {
    let server = Server::start(Arc::new(MemoryStore::new())).await?;
    // A keep-alive connection open in the client's pool must not hold the shutdown.
    assert_eq!(server.get("/live").await?.status(), StatusCode::OK);
    let base = server.base.clone();
    let started = Instant::now();
    server.shutdown().await?;
    assert!(started.elapsed() < Duration::from_secs(5));
    let after = reqwest::Client::new()
        .get(format!("{base}/live"))
        .send()
        .await;
    assert!(after.is_err(), "still answering after shutdown: {after:?}");
    Ok(())
}

/// Metrics with every family populated, as the daemon would leave them.
fn busy_metrics(metrics: &Metrics) {
    metrics.packets("eth0", 1200, 900_000);
    metrics.packets("mirror-vxlan", 30, 40_000);
    metrics.http_exchanges(77);
    metrics.events("attack", 3);
    metrics.events("endpoint", 12);
    for reason in ["queue_full", "store_unavailable", "kernel", "malformed"] {
        metrics.dropped(reason, 2);
    }
    metrics.queue_depth("exchanges", 17);
    metrics.queue_depth("store", 0);
    for (stage, micros) in [
        ("decode", 3),
        ("http", 40),
        ("detect", 900),
        ("store", 250_000),
    ] {
        metrics.observe_stage(stage, Duration::from_micros(micros));
    }
    metrics.store_error(&StoreError::Full("disk full".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_with_real_prometheus_parsers() -> TestResult {
    let server = Server::start(Arc::new(MemoryStore::new())).await?;
    busy_metrics(&server.metrics);
    // One API request, so that every family has a sample.
    assert_eq!(server.get("/live").await?.status(), StatusCode::OK);

    let response = server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().map(str::to_string))
        .transpose()?;
    assert_eq!(
        content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = response.text().await?;

    let openmetrics = server
        .http
        .get(format!("{}/metrics", server.base))
        .header(
            ACCEPT,
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await?;
    let om_type = openmetrics
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().map(str::to_string))
        .transpose()?;
    assert!(
        om_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{om_type:?}"
    );
    let om_text = openmetrics.text().await?;
    assert!(om_text.ends_with("# EOF\n"), "{om_text}");

    check_with_prometheus_parse(&text)?;
    check_with_promtool(&text)?;
    check_with_python(&text, "text")?;
    check_with_python(&om_text, "openmetrics")?;
    server.shutdown().await
}

/// The `prometheus-parse` crate: every family there, with the right type, labels and values.
fn check_with_prometheus_parse(text: &str) -> TestResult {
    use prometheus_parse::{Scrape, Value as Sample};
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = Scrape::parse(lines)?;
    let find = |name: &str, label: Option<(&str, &str)>| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
    };
    let counter = |name: &str, label: Option<(&str, &str)>| match find(name, label) {
        Some(s) => match s.value {
            Sample::Counter(v) | Sample::Untyped(v) => Some(v),
            _ => None,
        },
        None => None,
    };
    assert_eq!(
        counter("periscope_packets_total", Some(("source", "eth0"))),
        Some(1200.0)
    );
    assert_eq!(
        counter("periscope_bytes_total", Some(("source", "mirror-vxlan"))),
        Some(40_000.0)
    );
    assert_eq!(counter("periscope_http_exchanges_total", None), Some(77.0));
    assert_eq!(
        counter("periscope_events_total", Some(("type", "endpoint"))),
        Some(12.0)
    );
    assert_eq!(
        counter("periscope_dropped_total", Some(("reason", "kernel"))),
        Some(2.0)
    );
    assert_eq!(
        counter("periscope_store_errors_total", Some(("kind", "full"))),
        Some(1.0)
    );
    let gauge = |name: &str, label: (&str, &str)| match find(name, Some(label)).map(|s| &s.value) {
        Some(Sample::Gauge(v)) => Some(*v),
        _ => None,
    };
    assert_eq!(
        gauge("periscope_queue_depth", ("queue", "exchanges")),
        Some(17.0)
    );
    assert_eq!(
        gauge(
            "periscope_build_info",
            ("version", env!("CARGO_PKG_VERSION"))
        ),
        Some(1.0)
    );
    let Some(Sample::Histogram(buckets)) =
        find("periscope_stage_seconds", Some(("stage", "detect"))).map(|s| &s.value)
    else {
        return Err(format!("no detect histogram in {text}").into());
    };
    // 900 µs: above the 500 µs bound, within the 1 ms one.
    let count_at = |bound: f64| {
        buckets
            .iter()
            .find(|b| (b.less_than - bound).abs() < 1e-12)
            .map(|b| b.count)
    };
    assert_eq!(count_at(5e-4), Some(0.0));
    assert_eq!(count_at(1e-3), Some(1.0));
    assert_eq!(count_at(1e-6), Some(0.0));
    assert_eq!(count_at(1.0), Some(1.0));
    Ok(())
}

/// `promtool check metrics`: Prometheus's own parser and its naming lint.
fn check_with_promtool(text: &str) -> TestResult {
    let Some(output) = pipe_to("promtool", &["check", "metrics"], text)? else {
        println!("SKIP promtool check: promtool not installed (Debian package `prometheus`)");
        return Ok(());
    };
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "promtool: {said}\n{text}"
    );
    Ok(())
}

/// Python's `prometheus_client` parsers: the 0.0.4 text parser, and the strict OpenMetrics one.
fn check_with_python(text: &str, format: &str) -> TestResult {
    const SCRIPT: &str = r#"
import sys
fmt = sys.argv[1]
try:
    if fmt == "openmetrics":
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    else:
        from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("SKIP")
    sys.exit(0)
families = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
want = {"periscope_packets": "counter", "periscope_bytes": "counter",
        "periscope_http_exchanges": "counter", "periscope_events": "counter",
        "periscope_dropped": "counter", "periscope_queue_depth": "gauge",
        "periscope_stage_seconds": "histogram", "periscope_store_errors": "counter",
        "periscope_build_info": "gauge", "periscope_api_requests": "counter"}
assert set(families) == set(want), sorted(families)
for name, kind in want.items():
    f = families.get(name)
    assert f is not None, (name, sorted(families))
    assert f.type == kind, (name, f.type)
    assert f.samples, name
drops = {s.labels["reason"]: s.value for s in families["periscope_dropped"].samples
         if s.name == "periscope_dropped_total"}
assert drops == {"queue_full": 2, "store_unavailable": 2, "kernel": 2, "malformed": 2}, drops
print("OK")
"#;
    let Some(output) = pipe_to("python3", &["-c", SCRIPT, format], text)? else {
        println!("SKIP Python prometheus_client check: python3 not installed");
        return Ok(());
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python {format} parser: {stdout}{}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    if stdout.starts_with("SKIP") {
        println!("SKIP Python {format} check: pip package prometheus_client not installed");
    } else {
        assert_eq!(stdout.trim(), "OK");
    }
    Ok(())
}

/// Runs `program args` with `input` on stdin; `None` when the program is not installed.
fn pipe_to(
    program: &str,
    args: &[&str],
    input: &str,
) -> Result<Option<std::process::Output>, Box<dyn Error>> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
    }
    Ok(Some(child.wait_with_output()?))
}

/// Kills the child process when dropped, so a failing test leaves nothing running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_metrics() -> TestResult {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        println!(
            "SKIP real Prometheus scrape: prometheus not installed (Debian package `prometheus`)"
        );
        return Ok(());
    }
    let server = Server::start(Arc::new(MemoryStore::new())).await?;
    busy_metrics(&server.metrics);
    let target = server.base.trim_start_matches("http://").to_string();

    let dir = tempfile::tempdir()?;
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: periscope\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )?;
    let prometheus_addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?
    };
    let _prometheus = KillOnDrop(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={prometheus_addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );

    // Prometheus scrapes every second; wait until it has stored a sample of ours.
    let query = format!(
        "http://{prometheus_addr}/api/v1/query?query=periscope_dropped_total%7Breason%3D%22kernel%22%7D"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let value = loop {
        if Instant::now() > deadline {
            return Err("Prometheus stored no periscope sample within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Ok(response) = server.http.get(&query).send().await else {
            continue; // not listening yet
        };
        let answer: Value = response.json().await?;
        if let Some(value) = answer["data"]["result"][0]["value"][1].as_str() {
            break value.to_string();
        }
    };
    assert_eq!(value, "2");

    // The scrape itself: target up, no error, every sample of ours accepted.
    let targets: Value = server
        .http
        .get(format!("http://{prometheus_addr}/api/v1/targets"))
        .send()
        .await?
        .json()
        .await?;
    let target = &targets["data"]["activeTargets"][0];
    assert_eq!(target["health"], "up", "{targets}");
    assert_eq!(target["lastError"], "", "{targets}");
    let histogram = format!(
        "http://{prometheus_addr}/api/v1/query?query=periscope_stage_seconds_count%7Bstage%3D%22detect%22%7D"
    );
    let answer: Value = server.http.get(&histogram).send().await?.json().await?;
    assert_eq!(answer["data"]["result"][0]["value"][1], "1", "{answer}");
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_capped_and_timed_out() -> TestResult {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let idle_timeout = Duration::from_millis(600);
    let limits = periscope_serve::ServeLimits {
        max_connections: 2,
        idle_timeout,
    };
    let state = ApiState::new(
        Arc::new(MemoryStore::new()),
        Arc::new(Metrics::new()),
        ApiToken::new(TOKEN, "test")?,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(periscope_serve::serve_with_limits(
        listener,
        router(state),
        async {
            let _ = stopped.await;
        },
        limits,
    ));

    // Two clients that start a request and never finish its headers fill every slot.
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /live HTTP/1.1\r\nHost: x\r\n")
            .await?;
        slow.push(stream);
    }
    // A third client is served only once they have been closed for idling.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()?;
    let response = http.get(format!("http://{addr}/live")).send().await?;
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        waited >= idle_timeout.mul_f32(0.8),
        "served after {waited:?}: the cap of 2 connections did not hold"
    );
    for mut stream in slow {
        let mut rest = Vec::new();
        // Closed by the server: EOF (or a reset), never a response.
        let read =
            tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await?;
        assert!(
            read.is_err() || rest.is_empty() || !rest.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&rest)
        );
    }
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    Ok(())
}
