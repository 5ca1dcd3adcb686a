//! Replays every committed fuzz seed and every input a fuzzer once crashed on through its
//! target, on stable Rust. The fuzzers themselves run with `cargo +nightly fuzz run <target>`
//! (see `fuzz/README.md`).

use std::path::Path;

#[test]
fn replay_seeds_and_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for target in periscope_harness::TARGETS {
        for kind in ["seeds", "regressions"] {
            let dir = root.join(kind).join(target);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let data = std::fs::read(entry.path()).unwrap_or_default();
                assert!(periscope_harness::run(target, &data));
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0, "no seeds found under {}", root.display());
    println!("replayed {replayed} inputs");
}

#[test]
fn targets_survive_edge_inputs() {
    for target in periscope_harness::TARGETS {
        for data in [&b""[..], &[0u8; 1], &[0xff; 64], &[0xfe, 0xff, 0xfe]] {
            assert!(periscope_harness::run(target, data));
        }
    }
}
