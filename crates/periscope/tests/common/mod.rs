//! Helpers of the end-to-end tests: running the binary and tshark over a capture, and reducing
//! both answers to comparable multisets.

pub mod periscope;
pub mod tshark;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// `tests/data` at the repository root.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

/// A fixture by file name.
pub fn fixture(name: &str) -> PathBuf {
    data_dir().join(name)
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// True when running in CI (`CI=true`), where a missing tool is a failure and not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// What a finished command left.
pub struct Output {
    /// Exit status (None when killed at the timeout).
    pub status: Option<ExitStatus>,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Runs `cmd` with a timeout, reading its output on threads so that a full pipe cannot block it.
pub fn run(mut cmd: Command, timeout: Duration) -> Output {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    Output {
        status,
        stdout,
        stderr,
    }
}

/// True when `tool` runs (`tool --version`).
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Returns false (after printing why) when tshark is missing outside CI; panics in CI.
pub fn tshark_available() -> bool {
    if have("tshark") {
        return true;
    }
    assert!(
        !in_ci(),
        "tshark is not installed, and CI=true: scripts/test.sh installs it"
    );
    println!("SKIP: tshark not installed (outside CI; `bash scripts/test.sh` installs it)");
    false
}

/// Multiset difference report: items only in `a`, items only in `b`.
pub fn multiset_diff<T: Ord + Clone + std::fmt::Debug>(a: &[T], b: &[T]) -> (Vec<T>, Vec<T>) {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                only_a.push(x.clone());
                i += 1;
            }
            (Some(_), Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (Some(x), None) => {
                only_a.push(x.clone());
                i += 1;
            }
            (None, Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    (only_a, only_b)
}

/// Panics with both sides' extras when the multisets differ.
pub fn assert_same_multiset<T: Ord + Clone + std::fmt::Debug>(
    what: &str,
    left: (&str, &[T]),
    right: (&str, &[T]),
) {
    let (only_l, only_r) = multiset_diff(left.1, right.1);
    assert!(
        only_l.is_empty() && only_r.is_empty(),
        "{what}: {} has {} items, {} has {}\n  only in {}: {:#?}\n  only in {}: {:#?}",
        left.0,
        left.1.len(),
        right.0,
        right.1.len(),
        left.0,
        only_l,
        right.0,
        only_r
    );
}

#[cfg(test)]
mod tests {
    use super::multiset_diff;

    #[test]
    fn multiset_diff_counts_repeats() {
        let (a, b) = multiset_diff(&[1, 1, 2, 5], &[1, 2, 2, 3]);
        assert_eq!(a, vec![1, 5]);
        assert_eq!(b, vec![2, 3]);
        let (a, b) = multiset_diff::<u8>(&[], &[]);
        assert!(a.is_empty() && b.is_empty());
    }
}
