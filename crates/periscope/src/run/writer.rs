//! The store writer thread: batches appends (every `flush_interval` or `batch_size` events),
//! keeps a bounded retry buffer while the store fails (locked, disk full), and writes what it
//! accepted before it exits.

use crossbeam_channel::{Receiver, RecvTimeoutError};
use periscope_model::{Event, Timestamp};
use periscope_serve::Metrics;
use periscope_store::{NewRecord, SqliteStore, Store, StoreError};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Kind of the record holding the discovered OpenAPI document (key `"current"`), read by the
/// API's `/api/v1/openapi.json`.
pub const OPENAPI_KIND: &str = periscope_serve::OPENAPI_KIND;

/// What the writer is sent.
pub enum WriterItem {
    /// An event to append.
    Event(Event),
    /// The inventory's OpenAPI document, replacing the previous one.
    OpenApi {
        /// The document.
        document: serde_json::Value,
        /// Capture time of the snapshot.
        ts: Timestamp,
    },
}

/// What the writer thread needs.
pub struct WriterSetup {
    /// Where records go.
    pub store: Arc<dyn Store>,
    /// The same store when it is SQLite (for retention).
    pub sqlite: Option<Arc<SqliteStore>>,
    /// Longest wait before a write.
    pub flush_interval: Duration,
    /// Records per append.
    pub batch_size: usize,
    /// Records held while the store fails.
    pub retry_buffer: usize,
    /// Its queue.
    pub input: Receiver<WriterItem>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(60);
/// Longest wait between two attempts while the store fails.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long the writer keeps retrying at exit before giving up on what it holds.
const EXIT_RETRY: Duration = Duration::from_secs(15);

/// Runs until its queue closes, then writes what it holds (retrying up to [`EXIT_RETRY`]).
pub fn run(setup: WriterSetup) {
    let mut w = Writer {
        pending: VecDeque::new(),
        failing: None,
        next_attempt: Instant::now(),
        backoff: Duration::from_millis(200),
        last_write: Instant::now(),
        setup,
    };
    let mut last_retention = Instant::now();
    loop {
        match w.setup.input.recv_timeout(w.setup.flush_interval) {
            Ok(item) => {
                w.accept(item);
                let more: Vec<WriterItem> =
                    w.setup.input.try_iter().take(w.setup.batch_size).collect();
                for item in more {
                    w.accept(item);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        w.setup.metrics.queue_depth("store", w.setup.input.len());
        w.setup
            .metrics
            .queue_depth("store_pending", w.pending.len());
        let due = w.pending.len() >= w.setup.batch_size
            || w.last_write.elapsed() >= w.setup.flush_interval;
        if due && !w.pending.is_empty() && Instant::now() >= w.next_attempt {
            w.write_all();
        }
        if last_retention.elapsed() >= RETENTION_EVERY {
            last_retention = Instant::now();
            w.retention();
        }
    }
    let deadline = Instant::now() + EXIT_RETRY;
    while !w.pending.is_empty() {
        w.write_all();
        if w.pending.is_empty() || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(w.backoff.min(Duration::from_secs(1)));
    }
    if !w.pending.is_empty() {
        tracing::error!(
            records = w.pending.len(),
            "store still failing at exit; these records are lost"
        );
        w.setup
            .metrics
            .dropped("store_unavailable", w.pending.len() as u64);
    }
}

struct Writer {
    setup: WriterSetup,
    pending: VecDeque<NewRecord>,
    /// The error kind while the store fails (a line is logged when this changes).
    failing: Option<&'static str>,
    next_attempt: Instant,
    backoff: Duration,
    last_write: Instant,
}

impl Writer {
    fn accept(&mut self, item: WriterItem) {
        let record = match item {
            WriterItem::Event(event) => NewRecord::from_event(&event),
            WriterItem::OpenApi { document, ts } => {
                serde_json::to_string(&document).map(|json| NewRecord {
                    kind: OPENAPI_KIND,
                    ts,
                    key: Some("current".into()),
                    json,
                })
            }
        };
        match record {
            Ok(r) => self.pending.push_back(r),
            Err(e) => {
                tracing::error!(error = %e, "event could not be serialized; skipped");
                self.setup.metrics.dropped("unserializable", 1);
            }
        }
        if self.pending.len() > self.setup.retry_buffer {
            let over = self.pending.len() - self.setup.retry_buffer;
            self.pending.drain(..over);
            self.setup
                .metrics
                .dropped("store_retry_buffer_full", over as u64);
        }
    }

    /// Appends everything pending in batches; stops at the first failure (kept for a retry).
    fn write_all(&mut self) {
        self.last_write = Instant::now();
        while !self.pending.is_empty() {
            let n = self.pending.len().min(self.setup.batch_size);
            let batch: Vec<NewRecord> = self.pending.range(..n).cloned().collect();
            let started = Instant::now();
            match self.setup.store.append(&batch) {
                Ok(()) => {
                    self.setup.metrics.observe_stage("store", started.elapsed());
                    self.pending.drain(..n);
                    if let Some(kind) = self.failing.take() {
                        tracing::info!(was = kind, "store writes work again");
                    }
                    self.backoff = Duration::from_millis(200);
                }
                Err(e) => {
                    self.failed(&e);
                    return;
                }
            }
        }
    }

    fn failed(&mut self, e: &StoreError) {
        self.setup.metrics.store_error(e);
        let kind = periscope_serve::store_error_kind(e);
        if self.failing != Some(kind) {
            tracing::error!(error = %e, held = self.pending.len(),
                "store write failed; holding events and retrying");
            self.failing = Some(kind);
        }
        self.next_attempt = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    fn retention(&mut self) {
        let Some(sqlite) = &self.setup.sqlite else {
            return;
        };
        let config = sqlite.config();
        if config.retention_max_age.is_none() && config.retention_max_bytes.is_none() {
            return;
        }
        match sqlite.enforce_retention() {
            Ok(r) if r.deleted_by_age + r.deleted_by_size > 0 => tracing::info!(
                deleted_by_age = r.deleted_by_age,
                deleted_by_size = r.deleted_by_size,
                bytes_after = r.bytes_after,
                "retention"
            ),
            Ok(_) => {}
            Err(e) => {
                self.setup.metrics.store_error(&e);
                tracing::warn!(error = %e, "retention failed; will try again");
            }
        }
    }
}
