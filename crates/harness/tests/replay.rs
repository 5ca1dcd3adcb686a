//! Replays every committed fuzz seed and every input a fuzzer once crashed on through its
//! target, on stable Rust. The fuzzers themselves run with `cargo +nightly fuzz run <target>`
//! (see `fuzz/README.md`).

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `fuzz/<kind>/<target>/` (none when the folder does not exist).
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let data = std::fs::read(path)?;
    let started = std::time::Instant::now();
    assert!(
        periscope_harness::run(target, &data),
        "unknown target {target}"
    );
    // A fuzz input that takes seconds is a hang the fuzzer would report (-timeout).
    let took = started.elapsed();
    assert!(
        took.as_secs() < 20,
        "{} took {took:?} in target {target}",
        path.display()
    );
    Ok(())
}

/// Every target has seeds, and every seed and past crash replays without a panic.
#[test]
fn replay_seeds_and_regressions() -> Result<(), Box<dyn std::error::Error>> {
    let mut replayed = 0;
    for target in periscope_harness::TARGETS {
        let seeds = inputs("seeds", target);
        assert!(
            !seeds.is_empty(),
            "target {target} has no seeds under {}",
            fuzz_dir().join("seeds").join(target).display()
        );
        assert!(
            fuzz_dir()
                .join("fuzz_targets")
                .join(format!("{target}.rs"))
                .is_file(),
            "target {target} has no fuzz_targets/{target}.rs"
        );
        for path in seeds.iter().chain(&inputs("regressions", target)) {
            replay(target, path)?;
            replayed += 1;
        }
    }
    println!("replayed {replayed} inputs");
    Ok(())
}

/// Inputs that crash code owned elsewhere, kept until it is fixed (`fuzz/pending/<target>/`).
/// Not part of CI: `cargo test -p periscope-harness -- --ignored` shows which still crash;
/// once one passes, move it to `fuzz/regressions/<target>/`.
#[test]
#[ignore = "known crashes in other crates, waiting for their fix"]
fn replay_pending() -> Result<(), Box<dyn std::error::Error>> {
    let mut still_crashing = Vec::new();
    for target in periscope_harness::TARGETS {
        for path in inputs("pending", target) {
            let data = std::fs::read(&path)?;
            if std::panic::catch_unwind(|| periscope_harness::run(target, &data)).is_err() {
                still_crashing.push(path.display().to_string());
            }
        }
    }
    assert!(
        still_crashing.is_empty(),
        "still crashing: {still_crashing:#?}"
    );
    Ok(())
}

#[test]
fn targets_survive_edge_inputs() {
    for target in periscope_harness::TARGETS {
        for data in [&b""[..], &[0u8; 1], &[0xff; 64], &[0xfe, 0xff, 0xfe]] {
            assert!(periscope_harness::run(target, data));
        }
    }
}
