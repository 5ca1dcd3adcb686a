//! Fuzz target `h1`: see `periscope_harness::h1` for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| periscope_harness::h1(data));
