//! API discovery: builds the inventory of the API really in use from HTTP exchanges.
//!
//! Owns: path templating (ids, UUIDs, hex, tokens, dates, e-mails by shape; other values by
//! counting distinct segments per position), parameter and body schema inference, auth kind
//! per endpoint, sensitive data per field, a 1–10 risk score, the OpenAPI 3.1 export, drift
//! against a declared OpenAPI 3.0/3.1 spec, and change tracking across runs (state file).
//!
//! Input: [`periscope_model::Exchange`]. Output: [`EndpointSummary`] values, an OpenAPI
//! document ([`Inventory::to_openapi`]), a [`Drift`] report, [`Changes`], text for people
//! ([`text::render`]) and `{"type":"endpoint"}` events ([`Inventory::endpoint_events`]).
//!
//! Limits: every table is capped ([`DiscoverConfig`]): hosts, endpoints, path-tree nodes and
//! parameters per host, parameters per endpoint, JSON properties, depth and array elements,
//! enum values, sensitive records, assets. A position with more than `param_max_distinct`
//! distinct literals is a parameter, so 100 000 user names make one template. Truncated bodies
//! are skipped for schemas (counted). Nothing here panics on traffic.
//!
//! Cost: every request is templated and counted (hits, methods, statuses, times), but its
//! parameters, auth, bodies and sensitive data are examined only for a sample per endpoint:
//! the first `sample_first` (64) requests, then one in `sample_every` (64). Examining every
//! JSON body costs several times the HTTP stage. With the sample, `periscope analyze` over a
//! 100 000-exchange capture of the shop app used about 15 % more CPU with discovery than
//! without (see `tests/apps/README.md` for the commands).
//!
//! ```
//! use periscope_discover::{Inventory, testing::exchange};
//! let mut inv = Inventory::default();
//! for id in 1..=5 {
//!     inv.observe(&exchange("GET", &format!("/api/users/{id}?page=2"), &[("Host", "shop")], b"", 200, b"{\"id\":1}"));
//! }
//! let eps = inv.endpoints();
//! assert_eq!(eps.len(), 1);
//! assert_eq!(eps[0].path, "/api/users/{userId}");
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod auth;
pub mod classify;
pub mod config;
pub mod drift;
pub mod inventory;
pub mod openapi;
pub mod parse;
mod risk;
pub mod schema;
pub mod sensitive;
pub mod state;
pub mod testing;
pub mod text;

#[cfg(test)]
mod tests;

pub use auth::AuthKind;
pub use config::DiscoverConfig;
pub use drift::{load_spec, parse_spec, Drift, Spec};
pub use inventory::{EndpointSummary, Inventory, InventoryStats, Location, ParamSummary};
pub use sensitive::SensitiveKind;
pub use state::{Changes, State};

use periscope_model::endpoint::EndpointEvent;
use periscope_model::{Exchange, Timestamp};
use serde::Serialize;
use std::path::PathBuf;

/// Why discovery could not continue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoverError {
    /// A file could not be read or written.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The spec given with `--spec` is not a readable OpenAPI 3.x document.
    #[error("spec: {0}")]
    Spec(String),
    /// The state file is not one we wrote.
    #[error("state file: {0}")]
    State(String),
    /// The configuration is invalid.
    #[error("discover config: {0}")]
    Config(String),
    /// A document could not be serialized.
    #[error("cannot serialize: {0}")]
    Format(String),
}

/// Output format of [`DiscoverReport::render`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// For people.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// What `periscope discover` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// Settings and caps.
    pub config: DiscoverConfig,
    /// Where to write the OpenAPI 3.1 document (`.json` → JSON, else YAML).
    pub openapi: Option<PathBuf>,
    /// A declared spec to compare with.
    pub spec: Option<PathBuf>,
    /// State file for change tracking (read, then rewritten).
    pub state: Option<PathBuf>,
    /// Report endpoints silent since this time (with `state`).
    pub silent_since: Option<Timestamp>,
}

/// The result of a discovery run.
#[derive(Debug, Serialize)]
pub struct DiscoverReport {
    /// Every endpoint.
    pub endpoints: Vec<EndpointSummary>,
    /// Counters.
    pub stats: InventoryStats,
    /// Drift, when a spec was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
    /// Changes, when a state file was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// Text rendering (not serialized).
    #[serde(skip)]
    text: String,
}

impl DiscoverReport {
    /// The report in the asked format.
    pub fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Text => self.text.clone(),
            OutputFormat::Json => serde_json::to_string_pretty(self).unwrap_or_default(),
        }
    }
}

/// Runs discovery over `exchanges`: builds the inventory, writes the OpenAPI document,
/// compares with the spec and updates the state file as `opts` asks. The CLI only parses
/// arguments, reads captures into exchanges and prints [`DiscoverReport::render`].
pub fn run<I>(
    exchanges: I,
    opts: &DiscoverOptions,
) -> Result<(Inventory, DiscoverReport), DiscoverError>
where
    I: IntoIterator<Item = Exchange>,
{
    opts.config.validate()?;
    // Read the spec first so that a bad path fails before the capture is processed.
    let spec = opts.spec.as_deref().map(load_spec).transpose()?;
    let prev = opts.state.as_deref().map(State::load).transpose()?;
    let mut inv = Inventory::new(opts.config.clone());
    for ex in exchanges {
        inv.observe(&ex);
    }
    finish(inv, spec.as_ref(), prev.as_ref(), opts)
}

/// The second half of [`run`], for callers that fed the inventory themselves (`analyze`).
pub fn finish(
    inv: Inventory,
    spec: Option<&Spec>,
    prev: Option<&State>,
    opts: &DiscoverOptions,
) -> Result<(Inventory, DiscoverReport), DiscoverError> {
    if let Some(path) = &opts.openapi {
        inv.write_openapi(path)?;
    }
    let endpoints = inv.endpoints();
    let drift = spec.map(|s| drift::drift(&endpoints, s));
    let changes = match (prev, &opts.state) {
        (Some(prev), Some(path)) => {
            let (changes, next) = state::track(prev, &endpoints, opts.silent_since);
            next.save(path)?;
            Some(changes)
        }
        _ => None,
    };
    let text = text::render(&inv, drift.as_ref(), changes.as_ref());
    let report = DiscoverReport {
        endpoints,
        stats: inv.stats().clone(),
        drift,
        changes,
        text,
    };
    Ok((inv, report))
}

impl Inventory {
    /// The inventory as `{"type":"endpoint"}` events for `periscope analyze` (wrap each in
    /// `model::Event::Endpoint`).
    pub fn endpoint_events(&self) -> Vec<EndpointEvent> {
        self.endpoints()
            .into_iter()
            .map(|e| EndpointEvent {
                params: e
                    .params
                    .iter()
                    .map(|p| format!("{}:{}:{}", p.location.as_str(), p.name, p.ty))
                    .collect(),
                statuses: e.responses.iter().map(|r| r.status).collect(),
                auth: e.auth.iter().map(|(a, _)| a.label()).collect(),
                sensitive: e
                    .sensitive
                    .iter()
                    .map(|s| format!("{}@{}", s.kind.as_str(), s.place))
                    .collect(),
                first_seen: e.first_seen.to_rfc3339(),
                last_seen: e.last_seen.to_rfc3339(),
                host: e.host,
                method: e.method,
                path: e.path,
                hits: e.hits,
                risk: e.risk,
                risk_reasons: e.risk_reasons,
            })
            .collect()
    }
}
