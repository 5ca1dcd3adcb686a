//! Change tracking across runs through a JSON state file: new endpoints, changed endpoints
//! (parameters added, gone, retyped; new status codes), and endpoints silent since a date.
//! The store will replace the file later; the [`State`] type is what it will hold.

use crate::inventory::EndpointSummary;
use crate::DiscoverError;
use periscope_model::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Format version of the state file.
pub const STATE_VERSION: u32 = 1;

/// Most endpoints a state file keeps; the longest-silent ones are dropped first.
pub const MAX_STATE_ENDPOINTS: usize = 100_000;

/// What is remembered of one endpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StateEndpoint {
    /// First request ever seen (ns since the epoch).
    pub first_seen: u64,
    /// Last request seen (ns since the epoch).
    pub last_seen: u64,
    /// Requests over all runs.
    pub hits: u64,
    /// `location:name` → type.
    pub params: BTreeMap<String, String>,
    /// Status codes seen.
    pub statuses: BTreeSet<u16>,
}

/// The state file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// Endpoints by `host METHOD template`.
    pub endpoints: BTreeMap<String, StateEndpoint>,
}

/// A changed endpoint.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EndpointChange {
    /// `host METHOD template`.
    pub endpoint: String,
    /// Parameters not seen before (`location:name:type`).
    pub added_params: Vec<String>,
    /// Parameters known before and absent from this run.
    pub missing_params: Vec<String>,
    /// Parameters whose type changed (`query:page integer → string`).
    pub retyped_params: Vec<String>,
    /// Status codes not seen before.
    pub new_statuses: Vec<u16>,
}

/// An endpoint silent since the given date.
#[derive(Debug, Clone, Serialize)]
pub struct SilentEndpoint {
    /// `host METHOD template`.
    pub endpoint: String,
    /// Its last request (RFC 3339).
    pub last_seen: String,
}

/// What changed since the previous state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changes {
    /// Endpoints never seen before.
    pub new_endpoints: Vec<String>,
    /// Endpoints whose parameters or statuses changed.
    pub changed: Vec<EndpointChange>,
    /// Endpoints whose last request is older than the date asked for (or, with no date, that
    /// were known and did not appear in this run).
    pub silent: Vec<SilentEndpoint>,
}

impl State {
    /// Reads a state file; a missing file is an empty state (first run).
    pub fn load(path: &Path) -> Result<State, DiscoverError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let s: State = serde_json::from_slice(&bytes)
                    .map_err(|e| DiscoverError::State(format!("{}: {e}", path.display())))?;
                if s.version != STATE_VERSION {
                    return Err(DiscoverError::State(format!(
                        "{}: version {} (expected {STATE_VERSION})",
                        path.display(),
                        s.version
                    )));
                }
                Ok(s)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                version: STATE_VERSION,
                ..Default::default()
            }),
            Err(e) => Err(DiscoverError::Io(path.display().to_string(), e)),
        }
    }

    /// Writes the state atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), DiscoverError> {
        let text =
            serde_json::to_vec_pretty(self).map_err(|e| DiscoverError::Format(e.to_string()))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).map_err(|e| DiscoverError::Io(tmp.display().to_string(), e))?;
        std::fs::rename(&tmp, path).map_err(|e| DiscoverError::Io(path.display().to_string(), e))
    }
}

fn param_map(e: &EndpointSummary) -> BTreeMap<String, String> {
    e.params
        .iter()
        .map(|p| (format!("{}:{}", p.location.as_str(), p.name), p.ty.clone()))
        .collect()
}

/// Compares this run's endpoints with `prev`, and returns the changes and the new state.
pub fn track(
    prev: &State,
    endpoints: &[EndpointSummary],
    silent_since: Option<Timestamp>,
) -> (Changes, State) {
    let mut changes = Changes::default();
    let mut next = prev.clone();
    next.version = STATE_VERSION;
    let mut seen_now = BTreeSet::new();
    for e in endpoints {
        let key = e.key();
        seen_now.insert(key.clone());
        let params = param_map(e);
        let statuses: BTreeSet<u16> = e.responses.iter().map(|r| r.status).collect();
        match prev.endpoints.get(&key) {
            None => changes.new_endpoints.push(key.clone()),
            Some(old) => {
                let mut c = EndpointChange {
                    endpoint: key.clone(),
                    ..Default::default()
                };
                for (k, t) in &params {
                    match old.params.get(k) {
                        None => c.added_params.push(format!("{k}:{t}")),
                        Some(ot) if ot != t => c.retyped_params.push(format!("{k} {ot} → {t}")),
                        Some(_) => {}
                    }
                }
                for (k, t) in &old.params {
                    if !params.contains_key(k) {
                        c.missing_params.push(format!("{k}:{t}"));
                    }
                }
                c.new_statuses = statuses.difference(&old.statuses).copied().collect();
                if !(c.added_params.is_empty()
                    && c.missing_params.is_empty()
                    && c.retyped_params.is_empty()
                    && c.new_statuses.is_empty())
                {
                    changes.changed.push(c);
                }
            }
        }
        let entry = next.endpoints.entry(key).or_insert_with(|| StateEndpoint {
            first_seen: e.first_seen.as_nanos(),
            ..Default::default()
        });
        entry.first_seen = entry.first_seen.min(e.first_seen.as_nanos());
        entry.last_seen = entry.last_seen.max(e.last_seen.as_nanos());
        entry.hits += e.hits;
        for (k, t) in params {
            entry.params.insert(k, t);
        }
        entry.statuses.extend(statuses);
    }
    for (key, ep) in &next.endpoints {
        let silent = match silent_since {
            Some(since) => ep.last_seen < since.as_nanos(),
            None => !seen_now.contains(key),
        };
        if silent {
            changes.silent.push(SilentEndpoint {
                endpoint: key.clone(),
                last_seen: Timestamp(ep.last_seen).to_rfc3339(),
            });
        }
    }
    if next.endpoints.len() > MAX_STATE_ENDPOINTS {
        let mut by_age: Vec<(u64, String)> = next
            .endpoints
            .iter()
            .map(|(k, v)| (v.last_seen, k.clone()))
            .collect();
        by_age.sort();
        let excess = next.endpoints.len() - MAX_STATE_ENDPOINTS;
        for (_, k) in by_age.into_iter().take(excess) {
            next.endpoints.remove(&k);
        }
    }
    (changes, next)
}
