//! The routes: `/api/v1/*` behind the bearer token, and `/live`, `/ready`, `/metrics` without.

use crate::error::ApiError;
use crate::metrics::{Metrics, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};
use crate::params::{encode_cursor, EventsParams, RawEventsParams};
use crate::token::ApiToken;
use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use periscope_store::{Query as StoreQuery, Record, Store, StoreError};
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Store calls that may run at once; further API requests wait (up to [`STORE_WAIT`]) for one
/// to finish, so a burst of requests cannot fill the blocking thread pool.
pub const MAX_CONCURRENT_STORE_CALLS: usize = 4;

/// How long a request waits for a free store slot before a 503.
pub const STORE_WAIT: Duration = Duration::from_secs(5);

/// How long a request waits for its store call before a 503 (the call itself runs to its end).
pub const STORE_TIMEOUT: Duration = Duration::from_secs(15);

/// Most endpoint events `/api/v1/endpoints` returns; past it the answer says `"truncated": true`.
pub const MAX_ENDPOINTS: usize = 50_000;

/// Record kinds the daemon keeps for the API's own use, never listed by `/api/v1/events`.
const INTERNAL_KINDS: [&str; 1] = [OPENAPI_KIND];

/// The record kind and key under which the daemon keeps the discovered OpenAPI document.
pub const OPENAPI_KIND: &str = "openapi";

/// Store queries one `/api/v1/events` request may make while skipping internal records.
const MAX_QUERIES_PER_PAGE: usize = 16;

/// Page size used when a route reads every page itself.
const INTERNAL_PAGE: usize = 1000;

/// Whether the daemon is ready to serve (`/ready`). Cloning gives another handle on the same flag.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Sets the flag: the daemon calls `set(true)` once its sources and store are up, and
    /// `set(false)` when it starts shutting down.
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }

    /// The flag.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// What the handlers share: the store, the metrics, the token and the readiness flag.
#[derive(Clone)]
pub struct ApiState {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    token: ApiToken,
    ready: Readiness,
    store_slots: Arc<Semaphore>,
}

impl ApiState {
    /// State for [`router`]; not ready until [`Readiness::set`] is called on [`ApiState::readiness`].
    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, token: ApiToken) -> Self {
        ApiState {
            store,
            metrics,
            token,
            ready: Readiness::default(),
            store_slots: Arc::new(Semaphore::new(MAX_CONCURRENT_STORE_CALLS)),
        }
    }

    /// The readiness flag, for the daemon to set.
    pub fn readiness(&self) -> Readiness {
        self.ready.clone()
    }

    /// The metrics the API reports.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Runs `call` on the store in the blocking pool, at most [`MAX_CONCURRENT_STORE_CALLS`]
    /// at once; errors are counted and become 503s.
    async fn with_store<T, F>(&self, call: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = tokio::time::timeout(STORE_WAIT, self.store_slots.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::StoreBusy("too many API queries at once"))?
            .map_err(|_| ApiError::StoreBusy("shutting down"))?;
        let store = self.store.clone();
        let job = tokio::task::spawn_blocking(move || {
            // Held until the call returns, even when the request gave up waiting for it.
            let _permit = permit;
            call(&*store)
        });
        let result = match tokio::time::timeout(STORE_TIMEOUT, job).await {
            Err(_) => return Err(ApiError::StoreBusy("the store query timed out")),
            Ok(Err(join_error)) => {
                tracing::error!(error = %join_error, "store call panicked");
                Err(StoreError::Other(
                    "the store query failed unexpectedly".into(),
                ))
            }
            Ok(Ok(result)) => result,
        };
        result.map_err(|e| {
            self.metrics.store_error(&e);
            ApiError::Store(e)
        })
    }
}

/// Every route, ready to serve: `/api/v1/{events,endpoints,openapi.json,stats}` with the bearer
/// token, `/live`, `/ready` and `/metrics` without.
pub fn router(state: ApiState) -> Router {
    let v1 = Router::new()
        .route("/events", get(events))
        .route("/endpoints", get(endpoints))
        .route("/openapi.json", get(openapi))
        .route("/stats", get(stats));
    // The token guards everything under /api/, unknown paths included.
    let api = Router::new()
        .nest("/v1", v1)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .nest("/api", api)
        .route("/live", get(live))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// The routes as `periscope_api_requests_total{route}` names them; anything else is `unmatched`.
const ROUTES: [&str; 7] = [
    "/api/v1/events",
    "/api/v1/endpoints",
    "/api/v1/openapi.json",
    "/api/v1/stats",
    "/live",
    "/ready",
    "/metrics",
];

/// Counts every request by route and status.
async fn count_request(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|matched| ROUTES.iter().copied().find(|r| *r == matched.as_str()))
        .unwrap_or("unmatched");
    let response = next.run(request).await;
    state.metrics.api_request(route, response.status().as_u16());
    response
}

/// Lets the request through when it carries `Authorization: Bearer <the token>`.
/// API answers hold traffic data: no cache may keep them.
async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let mut response = match bearer_token(request.headers()) {
        None => ApiError::MissingToken.into_response(),
        Some(presented) if state.token.matches(presented) => next.run(request).await,
        Some(_) => {
            tracing::debug!("API request with a wrong bearer token");
            ApiError::WrongToken.into_response()
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer_token(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || !rest.starts_with(b" ") {
        return None;
    }
    Some(rest.trim_ascii_start())
}

/// A page of `/api/v1/events`.
#[derive(Serialize)]
struct EventsPage {
    items: Vec<Box<RawValue>>,
    next: Option<String>,
}

/// `GET /api/v1/events?type=&since=&limit=&cursor=`
async fn events(
    State(state): State<ApiState>,
    query: Result<Query<RawEventsParams>, QueryRejection>,
) -> Result<Json<EventsPage>, ApiError> {
    let Query(raw) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let params = raw.check()?;
    let (records, next) = state
        .with_store(move |store| events_page(store, &params))
        .await?;
    Ok(Json(EventsPage {
        items: records.into_iter().map(record_json).collect(),
        next: next.map(encode_cursor),
    }))
}

/// Up to `limit` records after the cursor, internal kinds left out, and the next cursor.
///
/// When internal records fill part of a store page, the next store page tops it up, so a page
/// is short only at the end (or after [`MAX_QUERIES_PER_PAGE`] queries, with a cursor to go on).
fn events_page(
    store: &dyn Store,
    params: &EventsParams,
) -> Result<(Vec<Record>, Option<u64>), StoreError> {
    let mut items = Vec::with_capacity(params.limit);
    let mut after = params.after;
    for _ in 0..MAX_QUERIES_PER_PAGE {
        let page = store.query(&StoreQuery {
            kind: params.kind.map(str::to_string),
            since: params.since,
            after,
            limit: params.limit - items.len(),
        })?;
        items.extend(
            page.items
                .into_iter()
                .filter(|r| !INTERNAL_KINDS.contains(&r.kind.as_str())),
        );
        match page.next {
            None => return Ok((items, None)),
            Some(next) if items.len() >= params.limit => return Ok((items, Some(next))),
            Some(next) => after = Some(next),
        }
    }
    Ok((items, after))
}

/// A stored event's JSON, passed through as stored. A record that is not valid JSON (a damaged
/// store) is replaced by an object saying so, so that the page and the pages after it still load.
fn record_json(record: Record) -> Box<RawValue> {
    let seq = record.seq;
    let kind = record.kind.clone();
    RawValue::from_string(record.json).unwrap_or_else(|e| {
        tracing::warn!(seq, kind, error = %e, "stored event is not valid JSON");
        let placeholder = serde_json::json!({
            "type": kind,
            "error": format!("stored record {seq} is not valid JSON"),
        });
        // A json! object always serializes into valid JSON.
        serde_json::value::to_raw_value(&placeholder).unwrap_or_default()
    })
}

/// `/api/v1/endpoints`.
#[derive(Serialize)]
struct EndpointList {
    items: Vec<Box<RawValue>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

/// `GET /api/v1/endpoints`: every endpoint event, reading all pages.
async fn endpoints(State(state): State<ApiState>) -> Result<Json<EndpointList>, ApiError> {
    let (records, truncated) = state
        .with_store(|store| {
            let mut records = Vec::new();
            let mut after = None;
            loop {
                let page = store.query(&StoreQuery {
                    kind: Some("endpoint".into()),
                    since: None,
                    after,
                    limit: INTERNAL_PAGE.min(MAX_ENDPOINTS - records.len()),
                })?;
                records.extend(page.items);
                match page.next {
                    None => return Ok((records, false)),
                    Some(_) if records.len() >= MAX_ENDPOINTS => return Ok((records, true)),
                    Some(next) => after = Some(next),
                }
            }
        })
        .await?;
    Ok(Json(EndpointList {
        items: records.into_iter().map(record_json).collect(),
        truncated,
    }))
}

/// `GET /api/v1/openapi.json`: the newest OpenAPI document the daemon stored.
async fn openapi(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let newest = state
        .with_store(|store| {
            // The document is kept under one key, so there is one record; the loop keeps the
            // newest should a store ever hold more.
            let mut newest = None;
            let mut after = None;
            loop {
                let page = store.query(&StoreQuery {
                    kind: Some(OPENAPI_KIND.into()),
                    since: None,
                    after,
                    limit: INTERNAL_PAGE,
                })?;
                if let Some(last) = page.items.into_iter().last() {
                    newest = Some(last);
                }
                match page.next {
                    None => return Ok(newest),
                    Some(next) => after = Some(next),
                }
            }
        })
        .await?;
    let Some(record) = newest else {
        return Err(ApiError::NotFound(
            "no OpenAPI document yet: the sensor has not discovered an API".into(),
        ));
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        record.json,
    )
        .into_response())
}

/// `/api/v1/stats`.
#[derive(Serialize)]
struct Stats {
    ready: bool,
    version: &'static str,
    store: StoreSummary,
    counters: crate::metrics::CounterTotals,
}

#[derive(Serialize)]
struct StoreSummary {
    records: serde_json::Map<String, serde_json::Value>,
    bytes: u64,
}

/// `GET /api/v1/stats`: record counts per type, store size and the key counters.
async fn stats(State(state): State<ApiState>) -> Result<Json<Stats>, ApiError> {
    let store_stats = state.with_store(|store| store.stats()).await?;
    let records = store_stats
        .records
        .into_iter()
        .map(|(kind, n)| (kind, serde_json::Value::from(n)))
        .collect();
    Ok(Json(Stats {
        ready: state.ready.is_ready(),
        version: env!("CARGO_PKG_VERSION"),
        store: StoreSummary {
            records,
            bytes: store_stats.bytes,
        },
        counters: state.metrics.totals(),
    }))
}

/// `GET /live`: the process answers.
async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "live": true }))
}

/// `GET /ready`: 200 once the daemon said so, 503 before and while shutting down.
async fn ready(State(state): State<ApiState>) -> (StatusCode, Json<serde_json::Value>) {
    let ready = state.ready.is_ready();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(serde_json::json!({ "ready": ready })))
}

/// `GET /metrics`: OpenMetrics when the scraper asks for it (Prometheus does), else the
/// Prometheus text format 0.0.4.
async fn metrics(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let wants_openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let (content_type, body) = if wants_openmetrics {
        (OPENMETRICS_CONTENT_TYPE, state.metrics.encode_openmetrics())
    } else {
        (PROMETHEUS_CONTENT_TYPE, state.metrics.encode())
    };
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// Unknown paths.
async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_records_are_skipped_and_pages_stay_full() -> Result<(), StoreError> {
        use periscope_model::Timestamp;
        use periscope_store::{MemoryStore, NewRecord};
        let rec = |kind: &'static str, key: Option<String>, n: usize| NewRecord {
            kind,
            ts: Timestamp(1),
            key,
            json: format!("{n}"),
        };
        let store = MemoryStore::new();
        store.append(&(0..5).map(|n| rec("attack", None, n)).collect::<Vec<_>>())?;
        // More internal records than one request may skip (16 queries of 3).
        let internal: Vec<_> = (0..60)
            .map(|n| rec(OPENAPI_KIND, Some(format!("k{n}")), 1000 + n))
            .collect();
        store.append(&internal)?;
        store.append(&(5..10).map(|n| rec("attack", None, n)).collect::<Vec<_>>())?;

        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut params = EventsParams {
            kind: None,
            since: None,
            limit: 3,
            after: None,
        };
        for _ in 0..20 {
            let (items, next) = events_page(&store, &params)?;
            sizes.push(items.len());
            seen.extend(items.into_iter().map(|r| r.json));
            match next {
                Some(n) => params.after = Some(n),
                None => break,
            }
        }
        let expected: Vec<String> = (0..10).map(|n| n.to_string()).collect();
        assert_eq!(seen, expected);
        // Full pages, except where the skipping budget ran out, and the last one.
        assert_eq!(sizes.first(), Some(&3));
        assert!(sizes.iter().all(|&n| n <= 3), "{sizes:?}");
        assert!(sizes.len() <= 6, "{sizes:?}");
        Ok(())
    }

    #[test]
    fn bearer_header_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        for (value, expected) in [
            ("Bearer abc", Some(&b"abc"[..])),
            ("bearer   abc", Some(&b"abc"[..])),
            ("Basic abc", None),
            ("Bearerabc", None),
            ("Bearer", None),
            ("Bear", None),
        ] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer_token(&h), expected, "{value}");
        }
    }
}
