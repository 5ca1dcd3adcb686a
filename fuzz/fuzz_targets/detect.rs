//! Fuzz target `detect`: see `periscope_harness::detect` for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| periscope_harness::detect(data));
