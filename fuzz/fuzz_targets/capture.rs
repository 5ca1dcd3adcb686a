//! Fuzz target `capture`: see `periscope_harness::capture` for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| periscope_harness::capture(data));
