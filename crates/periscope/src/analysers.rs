//! The analysers `analyze` runs on every exchange: attack detection, then API discovery
//! (which counts the attacks per endpoint for its risk score).

use crate::pipeline::ExchangeConsumer;
use periscope_detect::{DetectConfig, Detector};
use periscope_discover::{DiscoverConfig, Inventory};
use periscope_model::{Event, Exchange};

/// Detection and discovery over the exchange stream.
pub struct Analysers {
    detector: Option<Detector>,
    inventory: Option<Inventory>,
}

impl Analysers {
    /// Builds the analysers that are switched on.
    pub fn new(detect: bool, discover: bool) -> anyhow::Result<Self> {
        Ok(Analysers {
            detector: detect
                .then(|| Detector::new(DetectConfig::default()))
                .transpose()?,
            inventory: discover.then(|| Inventory::new(DiscoverConfig::default())),
        })
    }
}

impl ExchangeConsumer for Analysers {
    fn on_exchange(&mut self, ex: &Exchange, out: &mut Vec<Event>) {
        let attacks = self
            .detector
            .as_ref()
            .map(|d| d.analyse(ex))
            .unwrap_or_default();
        if let Some(inventory) = &mut self.inventory {
            inventory.observe_flagged(ex, u32::try_from(attacks.len()).unwrap_or(u32::MAX));
        }
        out.extend(attacks.into_iter().map(|a| Event::Attack(Box::new(a))));
    }

    fn finish(&mut self, out: &mut Vec<Event>) {
        if let Some(inventory) = &self.inventory {
            out.extend(
                inventory
                    .endpoint_events()
                    .into_iter()
                    .map(|e| Event::Endpoint(Box::new(e))),
            );
        }
    }
}
