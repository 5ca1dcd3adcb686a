//! The `pcap_dir` source watching a directory while files are written into it: slowly written
//! files are read only once complete, in order, once; a restart does not read them again; a
//! damaged file is read up to the damage; finished files can be moved away; and real tcpdump
//! rotation (`-G 1`) of live loopback traffic is read completely.

mod common;

use common::*;
use periscope_sources::{AfterRead, FrameBatch, OwnedFrame, PcapDirConfig, PcapDirSource};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(name)
}

fn temp_dir(tag: &str) -> Result<PathBuf, std::io::Error> {
    let d = std::env::temp_dir().join(format!("periscope-pcapdir-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// Writes `bytes` to `path` in `parts` chunks, `gap` apart, like a capture being recorded.
fn write_slowly(path: &Path, bytes: &[u8], parts: usize, gap: Duration) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    for chunk in bytes.chunks(bytes.len().div_ceil(parts).max(1)) {
        f.write_all(chunk)?;
        f.flush()?;
        std::thread::sleep(gap);
    }
    Ok(())
}

/// Reads the source until `until` says stop or `limit` passes.
fn drain(
    source: &mut PcapDirSource,
    limit: Duration,
    mut until: impl FnMut(&[OwnedFrame]) -> bool,
) -> Result<Vec<OwnedFrame>, periscope_sources::SourceError> {
    let mut batch = FrameBatch::default();
    let mut frames = Vec::new();
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline && !until(&frames) {
        source.next_batch(Duration::from_millis(100), &mut batch)?;
        frames.extend(batch.iter().map(|f| OwnedFrame::from_frame(&f)));
    }
    Ok(frames)
}

#[test]
fn files_written_while_watching_are_read_once_complete() -> TestResult {
    let dir = temp_dir("watch")?;
    let one = std::fs::read(data("rotated-1.pcap"))?;
    let two = std::fs::read(data("rotated-2.pcap"))?;
    let want_one = read_capture(&data("rotated-1.pcap"))?;
    let want_two = read_capture(&data("rotated-2.pcap"))?;

    let mut cfg = PcapDirConfig::new(&dir);
    cfg.settle = Duration::from_secs(2);
    cfg.scan_every = Duration::from_millis(50);
    let mut source = PcapDirSource::open(cfg.clone())?;

    // cap-1 is written in five parts; then cap-2, whose appearance completes cap-1; cap-2
    // completes only by settling.
    let writer_dir = dir.clone();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        write_slowly(
            &writer_dir.join("cap-1.pcap"),
            &one,
            5,
            Duration::from_millis(150),
        )?;
        std::thread::sleep(Duration::from_millis(300));
        write_slowly(
            &writer_dir.join("cap-2.pcap"),
            &two,
            5,
            Duration::from_millis(150),
        )
    });
    let total = want_one.len() + want_two.len();
    let frames = drain(&mut source, Duration::from_secs(20), |f| f.len() >= total)?;
    writer.join().map_err(|_| "writer panicked")??;

    let want: Vec<OwnedFrame> = want_one.into_iter().chain(want_two).collect();
    assert_eq!(frames.len(), want.len());
    assert!(
        frames == want,
        "frames differ from the files' frames, in order"
    );
    let snap = source.stats().snapshot();
    assert_eq!((snap.files_done, snap.errors), (2, 0), "{snap:?}");
    assert_eq!(
        state_names(&dir.join(".periscope-done")),
        ["cap-1.pcap", "cap-2.pcap"]
    );

    // A restart reads nothing again.
    let mut again = PcapDirSource::open(cfg.clone())?;
    assert_eq!(again.done_files().count(), 2);
    let nothing = drain(&mut again, Duration::from_millis(2500), |_| false)?;
    assert!(nothing.is_empty());

    // A damaged file: frames before the damage, one error, and the source goes on.
    std::fs::copy(data("damaged-truncated.pcap"), dir.join("cap-3.pcap"))?;
    let mut expected = 0;
    let mut reader = periscope_capture::open(&data("damaged-truncated.pcap"))?;
    while let Ok(Some(_)) = reader.next_frame() {
        expected += 1;
    }
    assert!(expected > 0);
    let damaged = drain(&mut again, Duration::from_secs(10), |_| {
        again_done(&dir, "cap-3.pcap")
    })?;
    assert_eq!(damaged.len(), expected);
    let snap = again.stats().snapshot();
    assert_eq!((snap.files_done, snap.errors), (1, 1), "{snap:?}");

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn again_done(dir: &Path, name: &str) -> bool {
    state_names(&dir.join(".periscope-done"))
        .iter()
        .any(|n| n == name)
}

/// The file names of a state file (each line: name, then tab-separated mtime and size).
fn state_names(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn finished_files_can_be_moved_away() -> TestResult {
    let dir = temp_dir("move")?;
    let done_dir = dir.join("done");
    std::fs::copy(data("sample.pcap"), dir.join("a.pcap"))?;
    let mut cfg = PcapDirConfig::new(&dir);
    cfg.settle = Duration::ZERO;
    cfg.after_read = AfterRead::MoveTo(done_dir.clone());
    let mut source = PcapDirSource::open(cfg)?;
    let want = read_capture(&data("sample.pcap"))?.len();
    let frames = drain(&mut source, Duration::from_secs(10), |f| f.len() >= want)?;
    // One more call finishes the file (it ended exactly at a batch boundary or not).
    let _ = drain(&mut source, Duration::from_millis(300), |_| false)?;
    assert_eq!(frames.len(), want);
    assert!(!dir.join("a.pcap").exists() && done_dir.join("a.pcap").exists());

    // Deleting instead: the file is gone once read, and its name leaves the state file at the
    // next rewrite (the state stays as small as the directory).
    std::fs::copy(data("sample.pcap"), dir.join("b.pcap"))?;
    std::fs::copy(data("sample.pcap"), dir.join("c.pcap"))?;
    let mut cfg = PcapDirConfig::new(&dir);
    cfg.settle = Duration::ZERO;
    cfg.scan_every = Duration::from_millis(50);
    cfg.after_read = AfterRead::Delete;
    let mut source = PcapDirSource::open(cfg)?;
    let frames = drain(&mut source, Duration::from_secs(10), |f| {
        f.len() >= 2 * want
    })?;
    let _ = drain(&mut source, Duration::from_millis(300), |_| false)?;
    assert_eq!(frames.len(), 2 * want);
    assert!(!dir.join("b.pcap").exists() && !dir.join("c.pcap").exists());
    assert_eq!(source.stats().snapshot().files_done, 2);
    assert_eq!(
        state_names(&dir.join(".periscope-done")),
        ["c.pcap"],
        "names of deleted files are pruned"
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// tcpdump rotating every second (`-G 1`) while curl talks to a Python server on loopback:
/// every frame of every file arrives, each request once.
#[test]
fn real_tcpdump_rotation() -> TestResult {
    if let Some(why) = skip_reason(&["tcpdump", "curl", "python3"]) {
        eprintln!("SKIP real_tcpdump_rotation: {why}");
        return Ok(());
    }
    let dir = temp_dir("tcpdump")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let pattern = dir.join("cap-%s.pcap").display().to_string();
    let mut tcpdump = std::process::Command::new("tcpdump")
        .args([
            "--immediate-mode",
            "-Z",
            "root",
            "-i",
            "lo",
            "-U",
            "-G",
            "1",
            "-w",
            &pattern,
        ])
        .arg(format!("tcp port {port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(800));

    let mut cfg = PcapDirConfig::new(&dir);
    cfg.prefix = Some("cap-".into());
    cfg.settle = Duration::from_secs(2);
    cfg.scan_every = Duration::from_millis(100);
    let mut source = PcapDirSource::open(cfg)?;
    let client = std::thread::spawn(move || -> Result<(), String> {
        for i in 0..15 {
            run(
                "curl",
                &[
                    "-s",
                    "-o",
                    "/dev/null",
                    "--max-time",
                    "5",
                    &format!("http://127.0.0.1:{port}/?r={i}"),
                ],
            )?;
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    });
    // Read while tcpdump writes and rotates.
    let mut frames = drain(&mut source, Duration::from_secs(3), |_| false)?;
    client.join().map_err(|_| "client panicked")??;
    std::thread::sleep(Duration::from_millis(300));
    run("kill", &["-INT", &tcpdump.id().to_string()])?;
    tcpdump.wait()?;
    let _ = server.kill();
    let _ = server.wait();

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("cap-"))
        })
        .collect();
    files.sort();
    let mut want = Vec::new();
    for f in &files {
        want.extend(read_capture(f)?);
    }
    let already = frames.len();
    frames.extend(drain(&mut source, Duration::from_secs(15), |f| {
        already + f.len() >= want.len()
    })?);
    // Let the last file settle and be finished.
    frames.extend(drain(&mut source, Duration::from_secs(3), |_| false)?);
    assert!(files.len() >= 2, "tcpdump wrote {} files", files.len());
    assert_eq!(frames.len(), want.len(), "{} files", files.len());
    let (segs, _) = decode_owned(&frames);
    assert_eq!(starting_with(&segs, b"GET /?r=").len(), 15);
    assert_eq!(source.stats().snapshot().files_done, files.len() as u64);
    eprintln!(
        "tcpdump rotation: {} files, {} frames",
        files.len(),
        frames.len()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A state file kept inside the watched directory under a plain name is not taken for a
/// capture (nor is its temporary copy).
#[test]
fn state_file_inside_the_directory_is_not_read() -> TestResult {
    let dir = temp_dir("state")?;
    std::fs::copy(data("sample.pcap"), dir.join("a.pcap"))?;
    let mut cfg = PcapDirConfig::new(&dir);
    cfg.settle = Duration::ZERO;
    cfg.scan_every = Duration::from_millis(50);
    cfg.state_file = Some(dir.join("done-list.txt"));
    let mut source = PcapDirSource::open(cfg)?;
    let want = read_capture(&data("sample.pcap"))?.len();
    let frames = drain(&mut source, Duration::from_secs(3), |_| false)?;
    assert_eq!(frames.len(), want);
    let snap = source.stats().snapshot();
    assert_eq!((snap.files_done, snap.errors), (1, 0), "{snap:?}");
    assert_eq!(state_names(&dir.join("done-list.txt")), ["a.pcap"]);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Ring rotation (`tcpdump -C … -W N`) writes new captures under old names: a finished name
/// whose file changed is read again, across a restart too; an unchanged one is not.
#[test]
fn a_name_written_again_is_read_again() -> TestResult {
    let dir = temp_dir("ring")?;
    std::fs::copy(data("rotated-1.pcap"), dir.join("ring0.pcap"))?;
    std::fs::copy(data("rotated-2.pcap"), dir.join("ring1.pcap"))?;
    let mut cfg = PcapDirConfig::new(&dir);
    cfg.settle = Duration::ZERO;
    cfg.scan_every = Duration::from_millis(50);
    let one = read_capture(&data("rotated-1.pcap"))?.len();
    let two = read_capture(&data("rotated-2.pcap"))?.len();
    let sample = read_capture(&data("sample.pcap"))?.len();
    let mut source = PcapDirSource::open(cfg.clone())?;
    let first = drain(&mut source, Duration::from_secs(5), |_| false)?;
    assert_eq!(first.len(), one + two);
    drop(source);

    // The writer comes round again and overwrites ring0 with another capture.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::copy(data("sample.pcap"), dir.join("ring0.pcap"))?;
    let mut source = PcapDirSource::open(cfg)?;
    let second = drain(&mut source, Duration::from_secs(5), |_| false)?;
    assert_eq!(second.len(), sample, "only the rewritten file is read");
    assert_eq!(source.stats().snapshot().files_done, 1);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
