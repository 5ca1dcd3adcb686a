//! A worker thread: one [`Pipeline`] with [`Detection`], fed the flows its shard owns, sending
//! its events to the aggregator in per-feed batches (an exchange and its attacks always travel
//! together).

use super::shard::WorkItem;
use crate::analysers::Detection;
use crate::pipeline::{EventSink, Pipeline, PipelineConfig};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use periscope_model::{Event, Timestamp};
use periscope_serve::Metrics;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Collects what the pipeline emits until the worker sends it on.
#[derive(Default)]
pub struct Collect {
    events: Vec<Event>,
}

impl EventSink for Collect {
    fn event(&mut self, event: Event) {
        // Coverage is per worker (a server's flows are spread over workers), so it is not
        // meaningful as a daemon-wide event; the metrics carry the counts instead.
        if !matches!(event, Event::Coverage(_)) {
            self.events.push(event);
        }
    }
}

/// What one worker needs.
pub struct WorkerSetup {
    /// Worker number, from 0.
    pub index: usize,
    /// Number of workers (the exchange id step).
    pub count: usize,
    /// Stage settings.
    pub config: PipelineConfig,
    /// Attack detection on.
    pub detect: bool,
    /// Move the clock with wall time while idle (live sources).
    pub live_clock: bool,
    /// Its queue.
    pub input: Receiver<WorkItem>,
    /// The aggregator's queue.
    pub output: Sender<Vec<Event>>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

/// How long a worker waits for work before moving its clock (live sources).
const IDLE_TICK: Duration = Duration::from_millis(100);
/// Queue items (segment batches, agent events, exchanges) handled between two sends to the
/// aggregator and two latency samples.
const DRAIN: usize = 16;

/// Builds the pipeline (so configuration errors surface before threads start).
pub fn build(setup: &WorkerSetup) -> anyhow::Result<Pipeline<Collect>> {
    let mut pipeline = Pipeline::with_exchange_ids(
        setup.config.clone(),
        Collect::default(),
        setup.index as u64 + 1,
        setup.count as u64,
    )?;
    if setup.detect {
        pipeline.add_consumer(Box::new(Detection::new()?));
    }
    Ok(pipeline)
}

/// Runs until every sender of its queue is gone, then finishes the pipeline.
pub fn run(setup: WorkerSetup, mut pipeline: Pipeline<Collect>) {
    let mut exchanges_before = 0u64;
    loop {
        let first = match setup.input.recv_timeout(IDLE_TICK) {
            Ok(item) => item,
            Err(RecvTimeoutError::Timeout) => {
                if setup.live_clock {
                    pipeline.advance_clock(Timestamp::from(SystemTime::now()));
                }
                send(&setup, &mut pipeline, &mut exchanges_before);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let started = Instant::now();
        feed(&mut pipeline, first);
        for item in setup.input.try_iter().take(DRAIN - 1) {
            feed(&mut pipeline, item);
        }
        setup.metrics.observe_stage("pipeline", started.elapsed());
        send(&setup, &mut pipeline, &mut exchanges_before);
    }
    pipeline.finish();
    send(&setup, &mut pipeline, &mut exchanges_before);
}

fn feed(pipeline: &mut Pipeline<Collect>, item: WorkItem) {
    match item {
        WorkItem::Segments(batch) => {
            for s in &batch {
                pipeline.feed_segment(&s.as_segment());
            }
        }
        WorkItem::Stream(w) => {
            let (flow, ev) = w.as_stream_event();
            pipeline.feed_stream_event(flow, ev);
        }
        WorkItem::Exchange(ex) => pipeline.feed_exchange(ex),
    }
}

/// Hands the collected events to the aggregator. Waits when its queue is full: the sources in
/// front of this worker drop (and count) instead, so nothing accepted is lost here.
fn send(setup: &WorkerSetup, pipeline: &mut Pipeline<Collect>, exchanges_before: &mut u64) {
    let exchanges = pipeline.stats().exchanges;
    setup
        .metrics
        .http_exchanges(exchanges.saturating_sub(*exchanges_before));
    *exchanges_before = exchanges;
    let events = &mut pipeline.sink_mut().events;
    if events.is_empty() {
        return;
    }
    let batch = std::mem::take(events);
    if setup.output.send(batch).is_err() {
        tracing::error!(worker = setup.index, "aggregator is gone; events lost");
    }
}
