//! Fuzz target `vulns`: see `periscope_harness::vulns` for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| periscope_harness::vulns(data));
