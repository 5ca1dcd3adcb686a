//! The frame sources of `periscope_sources` (interface, VXLAN/GENEVE listeners, a watched
//! capture directory) on a thread each: batches of frames through the source's decode step,
//! the source's own drop counters into the metrics, and an interface that disappears reopened
//! every few seconds.

use super::ingest::FrameIngest;
use periscope_serve::Metrics;
use periscope_sources::{
    FrameBatch, FrameSource, InterfaceConfig, InterfaceSource, SourceError, SourceStats,
    StatsSnapshot,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest wait inside the source before the stop flag is checked again.
const POLL: Duration = Duration::from_millis(100);
/// Wait before reopening an interface that went away.
const REOPEN_EVERY: Duration = Duration::from_secs(3);

/// Publishes the growth of a source's drop counters as `periscope_dropped_total{reason}`.
struct DropReporter {
    stats: Arc<SourceStats>,
    last: StatsSnapshot,
    last_report: Instant,
}

impl DropReporter {
    fn new(stats: Arc<SourceStats>) -> Self {
        DropReporter {
            last: stats.snapshot(),
            stats,
            last_report: Instant::now(),
        }
    }

    fn report(&mut self, metrics: &Metrics, force: bool) {
        if !force && self.last_report.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last_report = Instant::now();
        let now = self.stats.snapshot();
        for ((reason, n), (_, before)) in now
            .drops_by_reason()
            .into_iter()
            .zip(self.last.drops_by_reason())
        {
            if n > before {
                metrics.dropped(reason, n - before);
            }
        }
        if now.errors > self.last.errors {
            metrics.dropped("source_error", now.errors - self.last.errors);
        }
        self.last = now;
    }
}

/// Reads `source` until `stop` is set (Ok) or it fails (the error).
pub fn pump(
    source: &mut dyn FrameSource,
    ingest: &mut FrameIngest,
    stop: &AtomicBool,
    metrics: &Metrics,
) -> Result<(), SourceError> {
    let mut batch = FrameBatch::default();
    let mut drops = DropReporter::new(source.stats());
    let result = loop {
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        match source.next_batch(POLL, &mut batch) {
            Ok(n) => {
                for frame in batch.iter() {
                    ingest.frame(&frame);
                }
                ingest.flush();
                if n == 0 {
                    ingest.report_malformed();
                }
                drops.report(metrics, false);
            }
            Err(e) => break Err(e),
        }
    };
    ingest.report_malformed();
    drops.report(metrics, true);
    result
}

/// Captures on an interface until `stop`; when the interface goes away (or cannot be opened
/// for a reason that may pass), logs once and tries again every few seconds.
pub fn run_interface(
    config: InterfaceConfig,
    first: Option<InterfaceSource>,
    ingest: &mut FrameIngest,
    stop: &AtomicBool,
    metrics: &Metrics,
) {
    let stats = first.as_ref().map(|s| s.stats()).unwrap_or_default();
    let mut source = first;
    let mut failing = false;
    while !stop.load(Ordering::Relaxed) {
        let mut current = match source.take() {
            Some(s) => s,
            None => match InterfaceSource::open_with_stats(config.clone(), stats.clone()) {
                Ok(s) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!(interface = %config.interface, "capturing again");
                    }
                    s
                }
                Err(e) if e.is_retryable() => {
                    if !failing {
                        tracing::warn!(interface = %config.interface, error = %e,
                            "interface unavailable; retrying every {}s", REOPEN_EVERY.as_secs());
                        failing = true;
                    }
                    super::files::sleep_unless_stopped(REOPEN_EVERY, stop);
                    continue;
                }
                Err(e) => {
                    tracing::error!(interface = %config.interface, error = %e,
                        "interface capture failed for good");
                    return;
                }
            },
        };
        match pump(&mut current, ingest, stop, metrics) {
            Ok(()) => return,
            Err(e) if e.is_retryable() => {
                tracing::warn!(interface = %config.interface, error = %e,
                    "interface capture stopped; retrying every {}s", REOPEN_EVERY.as_secs());
                failing = true;
                drop(current);
                super::files::sleep_unless_stopped(REOPEN_EVERY, stop);
            }
            Err(e) => {
                tracing::error!(interface = %config.interface, error = %e,
                    "interface capture failed for good");
                return;
            }
        }
    }
}

/// Reads a frame source that has no reopen policy (tunnel listeners, a capture directory);
/// an error is logged and the source retried after a pause, since it is I/O.
pub fn run_source(
    mut source: Box<dyn FrameSource>,
    what: &str,
    ingest: &mut FrameIngest,
    stop: &AtomicBool,
    metrics: &Metrics,
) {
    let mut last_error: Option<String> = None;
    while !stop.load(Ordering::Relaxed) {
        match pump(source.as_mut(), ingest, stop, metrics) {
            Ok(()) => return,
            Err(e) => {
                let text = e.to_string();
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::warn!(source = what, error = %e, "source error; retrying");
                    last_error = Some(text);
                }
                super::files::sleep_unless_stopped(Duration::from_secs(1), stop);
            }
        }
    }
}
