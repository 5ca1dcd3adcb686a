//! The analysers, in two layers so that the sensor daemon can spread the first over worker
//! threads and keep the second in one place:
//!
//! - [`Detection`] runs inside each pipeline: attack detection looks at one exchange at a time.
//! - [`Aggregator`] runs on the merged event stream: API discovery, passive vulnerabilities and
//!   behaviour follow endpoints and clients across requests, so they see every exchange of a host.
//!
//! `analyze` chains both in one thread; `run` has one pipeline per worker and one aggregator.

use crate::pipeline::{EventSink, ExchangeConsumer};
use periscope_behaviour::{Behaviour, BehaviourConfig};
use periscope_detect::{DetectConfig, Detector};
use periscope_discover::{DiscoverConfig, Inventory};
use periscope_model::{Attack, Event, Exchange, Timestamp};
use periscope_vulns::{Scanner, ScannerConfig};

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

/// Settings of the analysers that see the whole event stream.
#[derive(Debug, Clone)]
pub struct AggregatorConfig {
    /// API discovery (endpoint events, OpenAPI).
    pub discover: bool,
    /// Passive vulnerability detection; `None` switches it off.
    pub vulnerabilities: Option<ScannerConfig>,
    /// Behavioural incidents and the grouping of hits into attacks; `None` switches them off.
    pub behaviour: Option<BehaviourConfig>,
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        AggregatorConfig {
            discover: true,
            vulnerabilities: Some(ScannerConfig::default()),
            behaviour: Some(BehaviourConfig::default()),
        }
    }
}

/// The analysers that see the whole event stream: discovery (which counts attacks per endpoint
/// for its risk score), passive vulnerabilities (deduplicated per endpoint) and behaviour
/// (incidents across requests, hits grouped into attacks).
/// Events pass through in order, each exchange followed by its attacks and then by what the
/// aggregator found.
pub struct Aggregator {
    inventory: Option<Inventory>,
    scanner: Option<Scanner>,
    behaviour: Option<Behaviour>,
    /// The exchange being looked at and its attacks: the pipeline emits an exchange's attacks
    /// right after it, so the group is complete when the next non-attack event comes.
    exchange: Option<Box<Exchange>>,
    attacks: Vec<Attack>,
    /// Events the analysers produced (reused buffer).
    found: Vec<Event>,
}

impl Aggregator {
    /// Builds the analysers that are switched on; fails when a setting is invalid (the error
    /// names it).
    pub fn with_config(config: AggregatorConfig) -> anyhow::Result<Self> {
        Ok(Aggregator {
            inventory: config
                .discover
                .then(|| Inventory::new(DiscoverConfig::default())),
            scanner: config.vulnerabilities.map(Scanner::new).transpose()?,
            behaviour: config.behaviour.map(Behaviour::new).transpose()?,
            exchange: None,
            attacks: Vec::new(),
            found: Vec::new(),
        })
    }

    /// Takes one event of the pipeline's stream.
    pub fn on_event(&mut self, event: Event, emit: &mut impl FnMut(Event)) {
        match event {
            Event::Attack(attack) if self.exchange.is_some() => self.attacks.push(*attack),
            Event::Exchange(ex) => {
                self.flush_group(emit);
                self.exchange = Some(ex);
            }
            other => {
                self.flush_group(emit);
                emit(other);
            }
        }
    }

    /// Capture time has moved to `now` (live sources call it while no traffic comes): closes
    /// what is due.
    pub fn tick(&mut self, now: Timestamp, emit: &mut impl FnMut(Event)) {
        self.flush_group(emit);
        if let Some(scanner) = &mut self.scanner {
            scanner.tick(now, &mut self.found);
        }
        if let Some(behaviour) = &mut self.behaviour {
            behaviour.tick(now, &mut self.found);
        }
        self.found.drain(..).for_each(emit);
    }

    /// The API inventory built so far (for the daemon's periodic snapshots: endpoint events and
    /// `Inventory::to_openapi`), when discovery is on.
    pub fn inventory(&self) -> Option<&Inventory> {
        self.inventory.as_ref()
    }

    /// End of input: emits what was held back (changed findings, open incidents, the inventory).
    pub fn finish(&mut self, emit: &mut impl FnMut(Event)) {
        self.flush_group(emit);
        if let Some(scanner) = &mut self.scanner {
            scanner.finish(&mut self.found);
        }
        if let Some(behaviour) = &mut self.behaviour {
            behaviour.finish(&mut self.found);
        }
        self.found.drain(..).for_each(&mut *emit);
        if let Some(inventory) = &self.inventory {
            for e in inventory.endpoint_events() {
                emit(Event::Endpoint(Box::new(e)));
            }
        }
    }

    fn flush_group(&mut self, emit: &mut impl FnMut(Event)) {
        let Some(ex) = self.exchange.take() else {
            return;
        };
        if let Some(inventory) = &mut self.inventory {
            let n = u32::try_from(self.attacks.len()).unwrap_or(u32::MAX);
            inventory.observe_flagged(&ex, n);
        }
        if let Some(scanner) = &mut self.scanner {
            scanner.on_exchange(&ex, &self.attacks, &mut self.found);
        }
        if let Some(behaviour) = &mut self.behaviour {
            behaviour.on_exchange(&ex, &self.attacks, &mut self.found);
        }
        emit(Event::Exchange(ex));
        for attack in self.attacks.drain(..) {
            emit(Event::Attack(Box::new(attack)));
        }
        self.found.drain(..).for_each(emit);
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
