//! Capture files → exchanges, through the real pipeline stages (capture, decode, reassemble,
//! http), for the integration tests and the throughput example.

#![allow(dead_code)]

use periscope_model::Exchange;
use std::path::Path;

/// Every exchange of a capture file, in the order the HTTP tracker emits them.
pub fn exchanges(path: &Path) -> Result<Vec<Exchange>, Box<dyn std::error::Error>> {
    periscope_testkit::exchanges(path)
}

/// The workspace's `tests/data` folder.
pub fn workspace_data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/data")
}

/// This crate's `tests/data` folder (the vulnapp recordings).
pub fn crate_data() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}
