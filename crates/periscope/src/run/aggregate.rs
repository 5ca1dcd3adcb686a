//! The aggregator thread: the workers' event batches through the one [`Aggregator`] (discovery
//! and the analysers that follow clients and endpoints across requests), then to the store
//! writer — only the exchanges the store keeps, and periodic snapshots of the API inventory.

use super::config::KeepExchanges;
use super::writer::WriterItem;
use crate::analysers::Aggregator;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use periscope_model::{Event, Timestamp};
use periscope_serve::Metrics;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// What the aggregator thread needs.
pub struct AggregateSetup {
    /// The analysers.
    pub aggregator: Aggregator,
    /// Which exchanges go to the store.
    pub keep: KeepExchanges,
    /// Time between inventory snapshots.
    pub snapshot_interval: Duration,
    /// Take wall time as "now" (live sources); otherwise the newest event time.
    pub live_clock: bool,
    /// The workers' batches.
    pub input: Receiver<Vec<Event>>,
    /// The store writer's queue.
    pub output: Sender<WriterItem>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

/// How often the analysers are told the time while no batch comes.
const TICK: Duration = Duration::from_millis(100);

/// Runs until every worker is gone, then finishes the analysers and writes a last snapshot.
pub fn run(setup: AggregateSetup) {
    let AggregateSetup {
        mut aggregator,
        keep,
        snapshot_interval,
        live_clock,
        input,
        output,
        metrics,
    } = setup;
    let mut out = Outlet {
        keep,
        held: None,
        output: &output,
        metrics: &metrics,
    };
    let mut newest = Timestamp(0);
    let mut last_tick = Instant::now();
    let mut last_snapshot = Instant::now();
    loop {
        match input.recv_timeout(TICK) {
            Ok(batch) => {
                let started = Instant::now();
                for event in batch {
                    newest = newest.max(event_time(&event));
                    aggregator.on_event(event, &mut |e| out.emit(e));
                }
                metrics.observe_stage("aggregate", started.elapsed());
                metrics.queue_depth("aggregator", input.len());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            let now = if live_clock {
                Timestamp::from(SystemTime::now())
            } else {
                newest
            };
            aggregator.tick(now, &mut |e| out.emit(e));
            out.release();
        }
        if last_snapshot.elapsed() >= snapshot_interval {
            last_snapshot = Instant::now();
            snapshot(&aggregator, &output, newest);
        }
    }
    aggregator.finish(&mut |e| out.emit(e));
    out.release();
    snapshot(&aggregator, &output, newest);
}

/// Endpoint events (upserts) and the OpenAPI document of the inventory so far.
fn snapshot(aggregator: &Aggregator, output: &Sender<WriterItem>, now: Timestamp) {
    let Some(inventory) = aggregator.inventory() else {
        return;
    };
    for e in inventory.endpoint_events() {
        let _ = output.send(WriterItem::Event(Event::Endpoint(Box::new(e))));
    }
    let _ = output.send(WriterItem::OpenApi {
        document: inventory.to_openapi(),
        ts: now,
    });
}

/// The time an event carries, for the analysers' clock on capture files.
fn event_time(event: &Event) -> Timestamp {
    match event {
        Event::Exchange(e) => e.ts,
        Event::Attack(a) => a.ts,
        _ => Timestamp(0),
    }
}

/// Counts events and passes on what the store keeps. An exchange is held until the next event
/// shows whether attacks follow it (the aggregator emits each exchange right before its attacks).
struct Outlet<'a> {
    keep: KeepExchanges,
    held: Option<Event>,
    output: &'a Sender<WriterItem>,
    metrics: &'a Metrics,
}

impl Outlet<'_> {
    fn emit(&mut self, event: Event) {
        self.metrics.events(event.type_name(), 1);
        match (&event, self.keep) {
            (Event::Exchange(_), KeepExchanges::All) => self.pass(event),
            (Event::Exchange(_), KeepExchanges::None) => {}
            (Event::Exchange(_), KeepExchanges::Attacks) => {
                self.held = Some(event);
            }
            (Event::Attack(_), _) => {
                if let Some(ex) = self.held.take() {
                    self.pass(ex);
                }
                self.pass(event);
            }
            _ => {
                self.held = None;
                self.pass(event);
            }
        }
    }

    /// No attack followed the held exchange: it is not kept.
    fn release(&mut self) {
        self.held = None;
    }

    fn pass(&mut self, event: Event) {
        if self.output.send(WriterItem::Event(event)).is_err() {
            self.metrics.dropped("store_writer_gone", 1);
        }
    }
}
