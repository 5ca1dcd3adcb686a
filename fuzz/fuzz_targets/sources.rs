//! Fuzz target `sources`: see `periscope_harness::sources` for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| periscope_harness::sources(data));
