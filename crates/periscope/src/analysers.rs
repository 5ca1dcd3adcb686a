//! The analysers, in two layers so that the sensor daemon can spread the first over worker
//! threads and keep the second in one place:
//!
//! - [`Detection`] runs inside each pipeline: attack detection looks at one exchange at a time.
//! - [`Aggregator`] runs on the merged event stream: API discovery (and the analysers that follow
//!   clients and endpoints across requests) need to see every exchange of a host.
//!
//! `analyze` chains both in one thread; `run` has one pipeline per worker and one aggregator.

use crate::pipeline::{EventSink, ExchangeConsumer};
use periscope_detect::{DetectConfig, Detector};
use periscope_discover::{DiscoverConfig, Inventory};
use periscope_model::{Event, Exchange, Timestamp};

/// Attack detection on every exchange, in the pipeline.
pub struct Detection {
    detector: Detector,
}

impl Detection {
    /// Builds the detector.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Detection {
            detector: Detector::new(DetectConfig::default())?,
        })
    }
}

impl ExchangeConsumer for Detection {
    fn on_exchange(&mut self, ex: &Exchange, out: &mut Vec<Event>) {
        out.extend(
            self.detector
                .analyse(ex)
                .into_iter()
                .map(|a| Event::Attack(Box::new(a))),
        );
    }
}

/// The analysers that see the whole event stream: discovery (which counts attacks per endpoint
/// for its risk score). Events pass through in order, each exchange followed by its attacks and
/// then by what the aggregator found.
pub struct Aggregator {
    inventory: Option<Inventory>,
    /// The exchange being looked at and its attacks: the pipeline emits an exchange's attacks
    /// right after it, so the group is complete when the next non-attack event comes.
    group: Vec<Event>,
}

impl Aggregator {
    /// Builds the analysers that are switched on.
    pub fn new(discover: bool) -> Self {
        Aggregator {
            inventory: discover.then(|| Inventory::new(DiscoverConfig::default())),
            group: Vec::new(),
        }
    }

    /// Takes one event of the pipeline's stream.
    pub fn on_event(&mut self, event: Event, emit: &mut impl FnMut(Event)) {
        match event {
            Event::Attack(_) if !self.group.is_empty() => self.group.push(event),
            Event::Exchange(_) => {
                self.flush_group(emit);
                self.group.push(event);
            }
            other => {
                self.flush_group(emit);
                emit(other);
            }
        }
    }

    /// Capture time has moved to `now` with no traffic (live sources): closes what is due.
    pub fn tick(&mut self, _now: Timestamp, emit: &mut impl FnMut(Event)) {
        self.flush_group(emit);
    }

    /// The API inventory built so far (for the daemon's periodic snapshots: endpoint events and
    /// `Inventory::to_openapi`), when discovery is on.
    pub fn inventory(&self) -> Option<&Inventory> {
        self.inventory.as_ref()
    }

    /// End of input: emits what was held back (the inventory).
    pub fn finish(&mut self, emit: &mut impl FnMut(Event)) {
        self.flush_group(emit);
        if let Some(inventory) = &self.inventory {
            for e in inventory.endpoint_events() {
                emit(Event::Endpoint(Box::new(e)));
            }
        }
    }

    fn flush_group(&mut self, emit: &mut impl FnMut(Event)) {
        let mut group = std::mem::take(&mut self.group).into_iter();
        let Some(Event::Exchange(ex)) = group.next() else {
            return;
        };
        let attacks: Vec<Event> = group.collect();
        if let Some(inventory) = &mut self.inventory {
            inventory.observe_flagged(&ex, u32::try_from(attacks.len()).unwrap_or(u32::MAX));
        }
        emit(Event::Exchange(ex));
        attacks.into_iter().for_each(emit);
    }
}

/// A sink that runs the [`Aggregator`] on the events before handing them to `sink`.
pub struct Aggregated<S: EventSink> {
    /// The cross-request analysers.
    pub aggregator: Aggregator,
    /// Where the events go afterwards.
    pub sink: S,
}

impl<S: EventSink> EventSink for Aggregated<S> {
    fn event(&mut self, event: Event) {
        let sink = &mut self.sink;
        self.aggregator.on_event(event, &mut |e| sink.event(e));
    }

    fn tick(&mut self, now: Timestamp) {
        let sink = &mut self.sink;
        self.aggregator.tick(now, &mut |e| sink.event(e));
        self.sink.tick(now);
    }

    fn finish(&mut self) {
        let sink = &mut self.sink;
        self.aggregator.finish(&mut |e| sink.event(e));
        self.sink.finish();
    }
}
