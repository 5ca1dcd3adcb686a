//! Fuzz target `wire`: see `periscope_harness::wire` for how the bytes are read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    periscope_harness::wire(data)
});
