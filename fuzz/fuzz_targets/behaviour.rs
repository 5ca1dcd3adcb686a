//! Fuzz target `behaviour`: see `periscope_harness::behaviour` for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| periscope_harness::behaviour(data));
