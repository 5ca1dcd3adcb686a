//! The sensor's HTTP face: the REST API over the [`periscope_store::Store`], the health probes
//! and the Prometheus metrics.
//!
//! - [`Metrics`]: every counter, gauge and histogram the daemon updates (`Arc<Metrics>`, shared
//!   by its threads), encoded for `/metrics`.
//! - [`router`]: the routes, built from an [`ApiState`] (store, metrics, [`ApiToken`], readiness
//!   flag). It is a plain `axum::Router`, so tests can drive it without a socket.
//! - [`serve`]: runs a router on a listener until a shutdown future completes, with a cap on
//!   connections and an idle timeout ([`ServeLimits`]).
//!
//! | route | token | answer |
//! |---|---|---|
//! | `GET /api/v1/events?type=&since=&limit=&cursor=` | yes | `{"items": [events as stored], "next": cursor or null}` |
//! | `GET /api/v1/endpoints` | yes | `{"items": [every endpoint event]}` |
//! | `GET /api/v1/openapi.json` | yes | the newest discovered OpenAPI document, or 404 |
//! | `GET /api/v1/stats` | yes | record counts, store size, key counters |
//! | `GET /live` | no | 200 while the process runs |
//! | `GET /ready` | no | 200 once the daemon set the flag, else 503 |
//! | `GET /metrics` | no | Prometheus text 0.0.4, or OpenMetrics when asked for |
//!
//! `/api/v1/stats` answers `{"ready": bool, "version": "…", "store": {"records": {"attack": n, …},
//! "bytes": n}, "counters": {"packets", "bytes", "http_exchanges", "events", "dropped",
//! "store_errors", "uptime_seconds"}}`. API answers carry `Cache-Control: no-store`.
//!
//! Metrics (all prefixed `periscope_`): `packets_total{source}`, `bytes_total{source}`,
//! `http_exchanges_total`, `events_total{type}`, `dropped_total{reason}`, `queue_depth{queue}`,
//! `stage_seconds{stage}` (histogram, 1 µs to 1 s), `store_errors_total{kind}`,
//! `api_requests_total{route,status}` and `build_info{version}`.
//!
//! Errors are JSON `{"error": "..."}`: 400 naming the bad parameter, 401 with
//! `WWW-Authenticate: Bearer`, 404, and 503 (with `Retry-After`) when the store fails or is
//! busy. Store calls block, so they run in tokio's blocking pool, at most
//! [`MAX_CONCURRENT_STORE_CALLS`] at once.
//!
//! ```no_run
//! use periscope_serve::{router, serve, ApiState, ApiToken, Metrics};
//! use periscope_store::MemoryStore;
//! use std::sync::Arc;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let token = ApiToken::from_env("PERISCOPE_API_TOKEN")?;
//! let state = ApiState::new(Arc::new(MemoryStore::new()), Arc::new(Metrics::new()), token);
//! state.readiness().set(true);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, router(state), async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod api;
mod error;
mod listener;
mod metrics;
mod params;
mod token;

pub use api::{
    router, ApiState, Readiness, MAX_CONCURRENT_STORE_CALLS, MAX_ENDPOINTS, OPENAPI_KIND,
    STORE_TIMEOUT, STORE_WAIT,
};
pub use error::ApiError;
pub use listener::ServeLimits;
pub use metrics::{
    store_error_kind, CounterTotals, Metrics, SourceCounters, MAX_LABEL_VALUES,
    OPENMETRICS_CONTENT_TYPE, OVERFLOW_LABEL_VALUE, PROMETHEUS_CONTENT_TYPE, STAGE_BUCKETS,
};
pub use params::{parse_rfc3339, DEFAULT_LIMIT, EVENT_TYPES, MAX_LIMIT};
pub use token::{ApiToken, TokenError};

use std::future::Future;
use std::time::Duration;

/// How long [`serve`] lets requests in flight finish once shutdown is asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` with the default [`ServeLimits`] until `shutdown` completes,
/// then stops accepting, lets the requests in flight finish (closing idle keep-alive
/// connections) and returns; connections still busy after [`SHUTDOWN_GRACE`] are dropped.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_with_limits(listener, router, shutdown, ServeLimits::default()).await
}

/// [`serve`] with other connection limits.
pub async fn serve_with_limits<F>(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: F,
    limits: ServeLimits,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown.await;
        tracing::info!("API server shutting down");
        // The receiver lives until this function returns.
        let _ = stopping_tx.send(true);
    };
    let listener = listener::LimitedListener::new(listener, limits);
    let server = axum::serve(listener, router).with_graceful_shutdown(signal);
    let deadline = async move {
        if stopping_rx.wait_for(|stopping| *stopping).await.is_err() {
            // The server ended without a shutdown signal: nothing to time out.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "API requests still running at shutdown were dropped");
            Ok(())
        }
    }
}
