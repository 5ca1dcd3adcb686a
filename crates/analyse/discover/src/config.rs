//! Configuration of discovery. Every table keyed by traffic has its cap here.

use crate::schema::Limits;
use serde::{Deserialize, Serialize};

/// Settings and caps of the inventory. The defaults suit one sensor watching a few dozen APIs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoverConfig {
    /// Most hosts tracked; requests to further hosts are counted and dropped. Default 256.
    pub max_hosts: usize,
    /// Most endpoints (method + path template) per host; further ones are counted and dropped.
    /// Default 2000.
    pub max_endpoints_per_host: usize,
    /// Most path-tree nodes per host; past it, unseen literal segments are treated as values.
    /// Default 20000.
    pub max_nodes_per_host: usize,
    /// Most parameters (path, query, header, cookie) per endpoint; further ones are counted
    /// and dropped. Default 64.
    pub max_params_per_endpoint: usize,
    /// Most parameters over all endpoints of a host. Default 20000.
    pub max_params_per_host: usize,
    /// Distinct literal values at one path position from which the position may become a
    /// parameter (when they are also mostly seen once or twice, see `param_distinct_ratio`).
    /// Default 12.
    pub param_min_distinct: usize,
    /// Distinct values / requests at a position above which, past `param_min_distinct`, the
    /// position is a parameter: names repeat, ids rarely do. Default 0.5.
    pub param_distinct_ratio: f64,
    /// Distinct literal values at one position that always make it a parameter (the hard
    /// bound: 100 000 user names become one template). Default 200.
    pub param_max_distinct: usize,
    /// Path segments followed per request; deeper paths are cut. Default 24.
    pub max_segments: usize,
    /// Distinct values remembered per field for enum detection. Default 8.
    pub enum_max_values: usize,
    /// Samples needed before a field with few distinct values is reported as an enum. Default 20.
    pub enum_min_samples: u64,
    /// Properties kept per JSON object schema. Default 64.
    pub max_properties: usize,
    /// JSON nesting followed. Default 8.
    pub max_depth: usize,
    /// Elements of one JSON array looked at. Default 16.
    pub max_array_items: usize,
    /// Distinct (kind, place) sensitive-data records per endpoint. Default 32.
    pub max_sensitive_per_endpoint: usize,
    /// Distinct static asset paths counted per host. Default 1000.
    pub max_assets_per_host: usize,
    /// Share of requests in which a parameter must appear to be called required. Default 1.0.
    pub required_ratio: f64,
    /// Requests per endpoint whose parameter values and bodies are all examined (types,
    /// schemas, sensitive data). Presence, methods, statuses and auth count every request.
    /// Default 64.
    pub sample_first: u64,
    /// After `sample_first`, one request in this many is examined (0: none). Default 64.
    pub sample_every: u64,
}

impl Default for DiscoverConfig {
    fn default() -> Self {
        DiscoverConfig {
            max_hosts: 256,
            max_endpoints_per_host: 2000,
            max_nodes_per_host: 20_000,
            max_params_per_endpoint: 64,
            max_params_per_host: 20_000,
            param_min_distinct: 12,
            param_distinct_ratio: 0.5,
            param_max_distinct: 200,
            max_segments: 24,
            enum_max_values: 8,
            enum_min_samples: 20,
            max_properties: 64,
            max_depth: 8,
            max_array_items: 16,
            max_sensitive_per_endpoint: 32,
            max_assets_per_host: 1000,
            required_ratio: 1.0,
            sample_first: 64,
            sample_every: 64,
        }
    }
}

impl DiscoverConfig {
    /// Checks the settings: zero caps and out-of-range ratios are refused at start.
    pub fn validate(&self) -> Result<(), crate::DiscoverError> {
        let bad = |what: &str| Err(crate::DiscoverError::Config(what.to_string()));
        if self.max_hosts == 0 || self.max_endpoints_per_host == 0 || self.max_nodes_per_host < 2 {
            return bad(
                "max_hosts, max_endpoints_per_host and max_nodes_per_host must be positive",
            );
        }
        if self.param_min_distinct < 2 || self.param_max_distinct < self.param_min_distinct {
            return bad("need 2 <= param_min_distinct <= param_max_distinct");
        }
        if !(0.0..=1.0).contains(&self.param_distinct_ratio)
            || !(0.0..=1.0).contains(&self.required_ratio)
        {
            return bad("param_distinct_ratio and required_ratio must lie in 0..=1");
        }
        if self.max_segments == 0 || self.max_depth == 0 {
            return bad("max_segments and max_depth must be positive");
        }
        Ok(())
    }

    pub(crate) fn limits(&self) -> Limits {
        Limits {
            enum_max_values: self.enum_max_values,
            enum_min_samples: self.enum_min_samples,
            max_properties: self.max_properties,
            max_depth: self.max_depth,
            max_array_items: self.max_array_items,
        }
    }
}
