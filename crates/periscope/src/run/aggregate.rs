//! The aggregator thread: the workers' event batches through the one [`Aggregator`] (discovery
//! and the analysers that follow clients and endpoints across requests), then to the store
//! writer — only the exchanges the store keeps, and periodic snapshots of the API inventory.

use super::config::KeepExchanges;
use super::writer::WriterItem;
use crate::analysers::Aggregator;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use periscope_model::{Event, Timestamp};
use periscope_serve::Metrics;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
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
    let mut written = Written::default();
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
            snapshot(&aggregator, &output, newest, &mut written);
        }
    }
    // The inventory's endpoint events come out of `finish`; noted as written so that the last
    // snapshot does not write them twice.
    aggregator.finish(&mut |e| {
        if let Event::Endpoint(ep) = &e {
            written.note(ep);
        }
        out.emit(e)
    });
    out.release();
    snapshot(&aggregator, &output, newest, &mut written);
}

/// What the previous snapshots wrote, so that only what changed is written again (each write
/// of a keyed record gives it a new sequence number, which API clients following the cursor
/// would see as an update). One entry per endpoint of the inventory, which has its own cap.
#[derive(Default)]
struct Written {
    /// Hash of the endpoint's key → hash of its JSON.
    endpoints: HashMap<u64, u64>,
    openapi: u64,
}

impl Written {
    /// Records `e` as written; true when it differs from what was written before.
    fn note(&mut self, e: &periscope_model::endpoint::EndpointEvent) -> bool {
        let key = hash_of(&(&e.host, &e.method, &e.path));
        let body = serde_json::to_string(e).map(|j| hash_of(&j)).unwrap_or(0);
        self.endpoints.insert(key, body) != Some(body)
    }
}

fn hash_of(v: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Endpoint events (upserts) and the OpenAPI document of the inventory, where they changed.
fn snapshot(
    aggregator: &Aggregator,
    output: &Sender<WriterItem>,
    now: Timestamp,
    written: &mut Written,
) {
    let Some(inventory) = aggregator.inventory() else {
        return;
    };
    let events = inventory.endpoint_events();
    if events.len() < written.endpoints.len() {
        written.endpoints.clear(); // the inventory evicted endpoints
    }
    for e in events {
        if written.note(&e) {
            let _ = output.send(WriterItem::Event(Event::Endpoint(Box::new(e))));
        }
    }
    let document = inventory.to_openapi();
    let body = hash_of(&document.to_string());
    if body != written.openapi {
        written.openapi = body;
        let _ = output.send(WriterItem::OpenApi { document, ts: now });
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use periscope_model::endpoint::EndpointEvent;

    #[test]
    fn an_endpoint_is_written_again_only_when_it_changed() {
        let mut written = Written::default();
        let mut e = EndpointEvent {
            host: "shop.test".into(),
            method: "GET".into(),
            path: "/api/users/{id}".into(),
            hits: 1,
            ..EndpointEvent::default()
        };
        assert!(written.note(&e));
        assert!(!written.note(&e));
        e.hits = 2;
        assert!(written.note(&e));
        let other = EndpointEvent {
            path: "/api/items".into(),
            ..e.clone()
        };
        assert!(written.note(&other));
        assert!(!written.note(&e));
    }
}
