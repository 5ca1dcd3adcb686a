//! Fuzz target `vulns`: see `periscope_harness::vulns` (here `vulns_reusing`) for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| periscope_harness::vulns_reusing(data));
