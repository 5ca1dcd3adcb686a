//! Detector configuration.

use serde::{Deserialize, Serialize};

/// Limits and thresholds of the [`crate::Detector`]. Every field has a safe default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectConfig {
    /// Hits below this score (0..1) are not reported. Default 0.5.
    pub min_score: f32,
    /// Most points taken from one request; the rest are counted as dropped. Default 512.
    pub max_points: usize,
    /// Bytes of one value that are scanned. Default 64 KiB.
    pub max_value_len: usize,
    /// Bytes of a body that are parsed (after gunzip, which is capped at this size too). Default 1 MiB.
    pub max_body_len: usize,
    /// How many encodings deep a value is unwrapped (base64 in JSON in a form field = 3). Default 4.
    pub max_decode_depth: usize,
    /// Deepest JSON nesting walked. Default 32.
    pub max_json_depth: usize,
    /// Characters of matched text kept in a hit's excerpt. Default 160.
    pub excerpt_len: usize,
    /// Most hits reported for one request. Default 32.
    pub max_hits: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            min_score: 0.5,
            max_points: 512,
            max_value_len: 64 * 1024,
            max_body_len: 1 << 20,
            max_decode_depth: 4,
            max_json_depth: 32,
            excerpt_len: 160,
            max_hits: 32,
        }
    }
}
