//! Fuzz target `decode`: see `periscope_harness::decode` for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| periscope_harness::decode(data));
