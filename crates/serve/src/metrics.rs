//! The sensor's Prometheus metrics: one [`Metrics`] value, shared as `Arc<Metrics>` by the
//! daemon's threads (which update it) and the `/metrics` route (which encodes it).
//!
//! Every update is an atomic add on a counter found in a read-locked map, so it is cheap from
//! many threads; call sites that update one series per packet batch can keep its handle
//! ([`Metrics::source_counters`], [`Metrics::stage_timer`]) and skip the lookup.
//!
//! Label values come from the daemon (source names, stage names, drop reasons), never from
//! traffic. Still, each labelled family keeps at most [`MAX_LABEL_VALUES`] series; values
//! beyond that are counted under `other`, so a bug that labels by something unbounded cannot
//! grow the registry without limit.

use periscope_store::StoreError;
use prometheus_client::encoding::{prometheus_text, text as openmetrics_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::ops::Deref;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most distinct label values one family keeps; further values are counted as `other`.
pub const MAX_LABEL_VALUES: usize = 64;

/// The label value that stands for every value past [`MAX_LABEL_VALUES`].
pub const OVERFLOW_LABEL_VALUE: &str = "other";

/// Upper bounds of the `periscope_stage_seconds` buckets: 1-2.5-5 steps from 1 µs to 1 s.
pub const STAGE_BUCKETS: [f64; 19] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0,
];

/// Labels of `periscope_api_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiRequestLabels {
    route: &'static str,
    status: u16,
}

/// The content type of [`Metrics::encode`]'s output (Prometheus text format 0.0.4).
pub const PROMETHEUS_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The content type of [`Metrics::encode_openmetrics`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One label: its name (fixed per family) and its value.
type Label = [(&'static str, String); 1];

fn stage_histogram() -> Histogram {
    Histogram::new(STAGE_BUCKETS)
}

/// Every metric the sensor exports, registered in one registry.
///
/// ```
/// use periscope_serve::Metrics;
/// use std::time::Duration;
///
/// let metrics = Metrics::new();
/// metrics.packets("eth0", 10, 15_000);
/// metrics.dropped("queue_full", 2);
/// metrics.observe_stage("detect", Duration::from_micros(40));
/// assert!(metrics.encode().contains("periscope_dropped_total{reason=\"queue_full\"} 2"));
/// ```
pub struct Metrics {
    registry: Registry,
    packets: Bounded<Counter>,
    bytes: Bounded<Counter>,
    http_exchanges: Counter,
    events: Bounded<Counter>,
    dropped: Bounded<Counter>,
    queue_depth: Bounded<Gauge>,
    stage_seconds: Bounded<Histogram>,
    store_errors: Bounded<Counter>,
    api_requests: Family<ApiRequestLabels, Counter>,
    started: Instant,
}

/// The key counters summed over their labels, as `/api/v1/stats` shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CounterTotals {
    /// Packets read, all sources.
    pub packets: u64,
    /// Bytes read, all sources.
    pub bytes: u64,
    /// HTTP exchanges produced.
    pub http_exchanges: u64,
    /// Events emitted, all types.
    pub events: u64,
    /// Items dropped, all reasons.
    pub dropped: u64,
    /// Store errors, all kinds.
    pub store_errors: u64,
    /// Seconds since the metrics were created (the daemon's uptime).
    pub uptime_seconds: u64,
}

/// The packet and byte counters of one source, kept by a capture loop so that counting a
/// batch is two atomic adds.
#[derive(Clone)]
pub struct SourceCounters {
    packets: Counter,
    bytes: Counter,
}

impl SourceCounters {
    /// Counts `packets` packets of `bytes` bytes in all.
    pub fn add(&self, packets: u64, bytes: u64) {
        self.packets.inc_by(packets);
        self.bytes.inc_by(bytes);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, and `periscope_build_info{version}` set to this build's version.
    pub fn new() -> Self {
        Self::with_version(env!("CARGO_PKG_VERSION"))
    }

    /// As [`Metrics::new`], with the version `periscope_build_info` reports.
    pub fn with_version(version: &str) -> Self {
        let mut registry = Registry::with_prefix("periscope");
        let packets = Bounded::new("source");
        let bytes = Bounded::new("source");
        let http_exchanges = Counter::default();
        let events = Bounded::new("type");
        let dropped = Bounded::new("reason");
        let queue_depth = Bounded::new("queue");
        let stage_seconds = Bounded::with_family(
            "stage",
            Family::new_with_constructor(stage_histogram as fn() -> Histogram),
        );
        let store_errors = Bounded::new("kind");
        let api_requests = Family::<ApiRequestLabels, Counter>::default();
        let build_info = Family::<Label, Gauge>::default();
        build_info
            .get_or_create(&[("version", version.to_string())])
            .set(1);

        registry.register(
            "packets",
            "Packets read, per source (interface, file, mirror, agent)",
            packets.family.clone(),
        );
        registry.register(
            "bytes",
            "Bytes of packets read, per source",
            bytes.family.clone(),
        );
        registry.register(
            "http_exchanges",
            "HTTP request/response exchanges produced",
            http_exchanges.clone(),
        );
        registry.register(
            "events",
            "Events emitted, per event type",
            events.family.clone(),
        );
        registry.register(
            "dropped",
            "Items dropped, per reason (queue_full, store_unavailable, kernel, malformed, ...)",
            dropped.family.clone(),
        );
        registry.register(
            "queue_depth",
            "Items waiting in each internal queue",
            queue_depth.family.clone(),
        );
        registry.register_with_unit(
            "stage",
            "Time spent in each pipeline stage, per batch or item",
            Unit::Seconds,
            stage_seconds.family.clone(),
        );
        registry.register(
            "store_errors",
            "Store errors, per kind (busy, full, corrupt, invalid_query, other)",
            store_errors.family.clone(),
        );
        registry.register(
            "api_requests",
            "Requests to the sensor's own HTTP API, per route and status",
            api_requests.clone(),
        );
        registry.register(
            "build_info",
            "Always 1; the version label names the running build",
            build_info,
        );

        Metrics {
            registry,
            packets,
            bytes,
            http_exchanges,
            events,
            dropped,
            queue_depth,
            stage_seconds,
            store_errors,
            api_requests,
            started: Instant::now(),
        }
    }

    /// Counts `packets` packets and `bytes` bytes read from `source`.
    pub fn packets(&self, source: &str, packets: u64, bytes: u64) {
        self.packets.series(source).inc_by(packets);
        self.bytes.series(source).inc_by(bytes);
    }

    /// The counters of one source, to keep in a capture loop.
    pub fn source_counters(&self, source: &str) -> SourceCounters {
        SourceCounters {
            packets: self.packets.series(source).clone(),
            bytes: self.bytes.series(source).clone(),
        }
    }

    /// Counts `n` HTTP exchanges produced.
    pub fn http_exchanges(&self, n: u64) {
        self.http_exchanges.inc_by(n);
    }

    /// Counts `n` events of type `event_type` (`attack`, `endpoint`, …) emitted.
    pub fn events(&self, event_type: &str, n: u64) {
        self.events.series(event_type).inc_by(n);
    }

    /// Counts `n` items dropped for `reason` (`queue_full`, `store_unavailable`, `kernel`,
    /// `malformed`, …).
    pub fn dropped(&self, reason: &str, n: u64) {
        self.dropped.series(reason).inc_by(n);
    }

    /// Sets the number of items waiting in `queue`.
    pub fn queue_depth(&self, queue: &str, depth: usize) {
        let depth = i64::try_from(depth).unwrap_or(i64::MAX);
        self.queue_depth.series(queue).set(depth);
    }

    /// Records that one pass of `stage` (`decode`, `reassemble`, `http`, `detect`, `store`, …)
    /// took `elapsed`.
    pub fn observe_stage(&self, stage: &str, elapsed: Duration) {
        self.stage_seconds
            .series(stage)
            .observe(elapsed.as_secs_f64());
    }

    /// The histogram of one stage, to keep in a worker loop.
    pub fn stage_timer(&self, stage: &str) -> Histogram {
        self.stage_seconds.series(stage).clone()
    }

    /// Counts one store error, labelled with its kind ([`store_error_kind`]).
    pub fn store_error(&self, error: &StoreError) {
        self.store_errors_of_kind(store_error_kind(error), 1);
    }

    /// Counts `n` store errors of `kind`.
    pub fn store_errors_of_kind(&self, kind: &str, n: u64) {
        self.store_errors.series(kind).inc_by(n);
    }

    /// Counts one request to the API. `route` is the matched route template (a fixed set),
    /// `status` the response's code, so the series stay few whatever clients send.
    pub(crate) fn api_request(&self, route: &'static str, status: u16) {
        self.api_requests
            .get_or_create(&ApiRequestLabels { route, status })
            .inc();
    }

    /// The key counters summed over their labels.
    pub fn totals(&self) -> CounterTotals {
        CounterTotals {
            packets: self.packets.total(),
            bytes: self.bytes.total(),
            http_exchanges: self.http_exchanges.get(),
            events: self.events.total(),
            dropped: self.dropped.total(),
            store_errors: self.store_errors.total(),
            uptime_seconds: self.started.elapsed().as_secs(),
        }
    }

    /// Every metric in the Prometheus text format 0.0.4 ([`PROMETHEUS_CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail; the encoder's fmt::Error would only come from the writer.
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }

    /// Every metric in the OpenMetrics text format ([`OPENMETRICS_CONTENT_TYPE`]).
    pub fn encode_openmetrics(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        if let Err(e) = openmetrics_text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// The `kind` label of a store error.
pub fn store_error_kind(error: &StoreError) -> &'static str {
    match error {
        StoreError::Busy(_) => "busy",
        StoreError::Full(_) => "full",
        StoreError::Corrupt(_) => "corrupt",
        StoreError::InvalidQuery(_) => "invalid_query",
        StoreError::Other(_) => "other",
    }
}

/// A family with one label, holding at most [`MAX_LABEL_VALUES`] series (plus `other`).
struct Bounded<M, C = fn() -> M> {
    family: Family<Label, M, C>,
    /// The label's name (`source`, `reason`, …).
    name: &'static str,
    /// A handle on every series created, in creation order: counts them for the cap and sums
    /// them for [`Metrics::totals`] without touching the update path. Locked only on creation.
    created: Mutex<Vec<M>>,
}

impl<M: Default + Clone> Bounded<M> {
    fn new(name: &'static str) -> Self {
        Self::with_family(name, Family::default())
    }
}

impl<M: Clone, C: MetricConstructor<M>> Bounded<M, C> {
    fn with_family(name: &'static str, family: Family<Label, M, C>) -> Self {
        Bounded {
            family,
            name,
            created: Mutex::new(Vec::new()),
        }
    }

    /// The series labelled `value`, or `other` once the family is full and `value` is new.
    fn series(&self, value: &str) -> impl Deref<Target = M> + '_ {
        let label = [(self.name, value.to_string())];
        if let Some(existing) = self.family.get(&label) {
            return existing;
        }
        // Creation is rare and serialized, so the list holds each series once.
        let mut created = self.created.lock().unwrap_or_else(PoisonError::into_inner);
        let label = if self.family.get(&label).is_some() || created.len() < MAX_LABEL_VALUES {
            label
        } else {
            [(self.name, OVERFLOW_LABEL_VALUE.to_string())]
        };
        if self.family.get(&label).is_none() {
            created.push(self.family.get_or_create_owned(&label));
        }
        drop(created);
        self.family.get_or_create(&label)
    }

    /// Handles on every series.
    fn all(&self) -> Vec<M> {
        self.created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Bounded<Counter> {
    /// The sum of every series.
    fn total(&self) -> u64 {
        self.all().iter().map(Counter::get).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_carry_their_labels_and_totals_sum_them() {
        let m = Metrics::with_version("9.9.9");
        m.packets("eth0", 3, 300);
        m.packets("eth1", 1, 100);
        m.dropped("queue_full", 2);
        m.dropped("kernel", 5);
        m.events("attack", 1);
        m.http_exchanges(4);
        m.store_error(&StoreError::Busy("locked".into()));
        let text = m.encode();
        assert!(
            text.contains("periscope_packets_total{source=\"eth0\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("periscope_bytes_total{source=\"eth1\"} 100"),
            "{text}"
        );
        assert!(
            text.contains("periscope_dropped_total{reason=\"kernel\"} 5"),
            "{text}"
        );
        assert!(
            text.contains("periscope_store_errors_total{kind=\"busy\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("periscope_build_info{version=\"9.9.9\"} 1"),
            "{text}"
        );
        let t = m.totals();
        assert_eq!((t.packets, t.bytes, t.dropped, t.events), (4, 400, 7, 1));
        assert_eq!((t.http_exchanges, t.store_errors), (4, 1));
    }

    #[test]
    fn stage_latency_lands_in_the_right_bucket() {
        let m = Metrics::new();
        m.observe_stage("detect", Duration::from_micros(30));
        let text = m.encode();
        // 30 µs is above 25 µs and at most 50 µs.
        for (bound, count) in [("2.5e-05", 0), ("5e-05", 1), ("1", 1), ("+Inf", 1)] {
            let line = format!(
                "periscope_stage_seconds_bucket{{stage=\"detect\",le=\"{bound}\"}} {count}\n"
            );
            assert!(text.contains(&line), "{line}{text}");
        }
        assert!(
            text.contains("periscope_stage_seconds_count{stage=\"detect\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn label_values_past_the_cap_are_counted_as_other() {
        let m = Metrics::new();
        for i in 0..MAX_LABEL_VALUES + 10 {
            m.dropped(&format!("reason{i}"), 1);
        }
        // A value already present keeps its own series.
        m.dropped("reason0", 1);
        let text = m.encode();
        assert!(
            text.contains("periscope_dropped_total{reason=\"reason0\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("periscope_dropped_total{reason=\"other\"} 10"),
            "{text}"
        );
        assert!(
            !text.contains(&format!("reason=\"reason{MAX_LABEL_VALUES}\"")),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.packets("odd \"name\"\\\n", 1, 1);
        let text = m.encode();
        assert!(text.contains(r#"source="odd \"name\"\\\n""#), "{text}");
    }

    #[test]
    fn handles_update_the_same_series() {
        let m = Metrics::new();
        m.source_counters("pcap").add(2, 20);
        m.stage_timer("http").observe(0.5);
        m.packets("pcap", 1, 5);
        assert_eq!((m.totals().packets, m.totals().bytes), (3, 25));
        let text = m.encode();
        assert!(
            text.contains("periscope_packets_total{source=\"pcap\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("periscope_stage_seconds_count{stage=\"http\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn threads_creating_series_at_once_count_each_once() {
        let m = Metrics::new();
        std::thread::scope(|scope| {
            for t in 0..8 {
                let m = &m;
                scope.spawn(move || {
                    for i in 0..200 {
                        m.dropped(&format!("r{}", (i + t) % 100), 1);
                    }
                });
            }
        });
        assert_eq!(m.totals().dropped, 8 * 200);
        let text = m.encode();
        let series = text
            .lines()
            .filter(|l| l.starts_with("periscope_dropped_total{"))
            .count();
        assert_eq!(series, MAX_LABEL_VALUES + 1, "{text}");
    }
}
