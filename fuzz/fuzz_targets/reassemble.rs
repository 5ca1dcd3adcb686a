//! Fuzz target `reassemble`: see `periscope_harness::reassemble` for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| periscope_harness::reassemble(data));
