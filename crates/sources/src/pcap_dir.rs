//! A directory of rotated capture files (`tcpdump -G`/`-C`, `dumpcap -b`), read as they are
//! completed.
//!
//! A file is *complete* when a newer file exists in the directory (the writer has moved on) or
//! when its size and modification time have not changed for [`PcapDirConfig::settle`] (the
//! writer stopped). Complete files are read in (modification time, name) order — `-C` rotation
//! names (`cap`, `cap1`, … `cap10`) do not sort by name — through
//! [`periscope_capture::open`] (pcap, pcapng, gzip), frame by frame into the caller's batch.
//! A damaged file is read up to the damage, counted in [`SourceStats::errors`] and logged; the
//! source goes on with the next file.
//!
//! Finished files are recorded, one line per file (name, modification time in nanoseconds and
//! size, tab-separated), in a state file (by default `.periscope-done` in the directory),
//! rewritten atomically after each file, so a restart does not read them again. A file that
//! reappears under a finished name with another modification time or size is new and is read:
//! ring rotation (`tcpdump -C … -W N`) reuses names. Names of files no longer in the directory are dropped from it when
//! it is rewritten, which bounds it by the directory's size. Optionally finished files are
//! deleted or moved elsewhere (off by default).

use crate::{FrameBatch, SourceError, SourceStats};
use periscope_capture::CaptureReader;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Name of the default state file, inside the watched directory.
pub const DEFAULT_STATE_FILE: &str = ".periscope-done";

/// What to do with a file once it has been read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AfterRead {
    /// Leave it (default).
    #[default]
    Keep,
    /// Delete it.
    Delete,
    /// Move it into this directory (same file system: a rename).
    MoveTo(PathBuf),
}

/// Configuration of a [`PcapDirSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapDirConfig {
    /// The directory to watch.
    pub dir: PathBuf,
    /// Only files whose name starts with this (e.g. `eth0-`); `None`: every file not starting
    /// with a dot.
    pub prefix: Option<String>,
    /// A file whose size and modification time have not changed for this long is complete even
    /// when no newer file exists. Default 10 s.
    pub settle: Duration,
    /// Where finished files are recorded; default `DIR/.periscope-done`.
    pub state_file: Option<PathBuf>,
    /// What to do with finished files. Default: keep them.
    pub after_read: AfterRead,
    /// How often the directory is listed while waiting. Default 1 s.
    pub scan_every: Duration,
    /// Most frames returned by one `next_batch` call. Default 4096.
    pub max_batch: usize,
}

impl PcapDirConfig {
    /// Defaults for watching `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        PcapDirConfig {
            dir: dir.into(),
            prefix: None,
            settle: Duration::from_secs(10),
            state_file: None,
            after_read: AfterRead::Keep,
            scan_every: Duration::from_secs(1),
            max_batch: 4096,
        }
    }

    fn state_path(&self) -> PathBuf {
        self.state_file
            .clone()
            .unwrap_or_else(|| self.dir.join(DEFAULT_STATE_FILE))
    }
}

/// What was last seen of a file, to tell when it stopped changing.
#[derive(Debug, Clone, Copy)]
struct Seen {
    size: u64,
    mtime: SystemTime,
    unchanged_since: Instant,
}

/// Modification time (ns since the epoch) and size of a file when it was read; `None` for
/// entries of a state file that recorded names only.
type Stamp = Option<(u64, u64)>;

fn stamp(mtime: SystemTime, size: u64) -> Stamp {
    let ns = mtime
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    Some((ns, size))
}

/// Reads the state file's lines: `name`, or `name<TAB>mtime_ns<TAB>size`.
fn parse_state(text: &str) -> BTreeMap<String, Stamp> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next().unwrap_or_default().to_string();
            let mtime = fields.next().and_then(|f| f.parse().ok());
            let size = fields.next().and_then(|f| f.parse().ok());
            (name, mtime.zip(size))
        })
        .collect()
}

/// The file being read.
struct Current {
    name: String,
    stamp: Stamp,
    reader: CaptureReader,
}

/// Watches a directory and delivers the frames of its completed capture files.
pub struct PcapDirSource {
    cfg: PcapDirConfig,
    state_path: PathBuf,
    done: BTreeMap<String, Stamp>,
    seen: HashMap<String, Seen>,
    current: Option<Current>,
    last_scan: Option<Instant>,
    stats: Arc<SourceStats>,
}

impl std::fmt::Debug for PcapDirSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapDirSource")
            .field("dir", &self.cfg.dir)
            .field("done", &self.done.len())
            .field("current", &self.current.as_ref().map(|c| &c.name))
            .finish_non_exhaustive()
    }
}

impl PcapDirSource {
    /// Checks the directory and loads the state file (a missing state file means nothing was
    /// read yet).
    pub fn open(cfg: PcapDirConfig) -> Result<Self, SourceError> {
        if cfg.max_batch == 0 {
            return Err(SourceError::Config("max_batch must be positive".into()));
        }
        let dir_err = |source| SourceError::Directory {
            path: cfg.dir.clone(),
            source,
        };
        let meta = std::fs::metadata(&cfg.dir).map_err(dir_err)?;
        if !meta.is_dir() {
            return Err(SourceError::Config(format!(
                "{} is not a directory",
                cfg.dir.display()
            )));
        }
        if let AfterRead::MoveTo(to) = &cfg.after_read {
            std::fs::create_dir_all(to).map_err(|source| SourceError::Directory {
                path: to.clone(),
                source,
            })?;
        }
        let state_path = cfg.state_path();
        let done = match std::fs::read_to_string(&state_path) {
            Ok(text) => parse_state(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => {
                return Err(SourceError::Directory {
                    path: state_path,
                    source,
                })
            }
        };
        Ok(PcapDirSource {
            cfg,
            state_path,
            done,
            seen: HashMap::new(),
            current: None,
            last_scan: None,
            stats: Arc::default(),
        })
    }

    /// Counters, shared with the caller ([`SourceStats::files_done`] counts finished files).
    pub fn stats(&self) -> Arc<SourceStats> {
        Arc::clone(&self.stats)
    }

    /// Names of the files read to the end (as in the state file).
    pub fn done_files(&self) -> impl Iterator<Item = &str> {
        self.done.keys().map(String::as_str)
    }

    /// Clears `out` and fills it with frames of the oldest completed file not read yet. When no
    /// file is ready, waits (sleeping, rescanning every [`PcapDirConfig::scan_every`]) up to
    /// `timeout`. Returns the number of frames.
    pub fn next_batch(
        &mut self,
        timeout: Duration,
        out: &mut FrameBatch,
    ) -> Result<usize, SourceError> {
        out.clear();
        let deadline = Instant::now() + timeout;
        loop {
            if self.current.is_none() {
                self.start_next_file()?;
            }
            if self.current.is_some() {
                self.read_frames(out)?;
                if !out.is_empty() {
                    return Ok(out.len());
                }
                // An empty file, or one that failed at once: go on with the next one.
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(0);
            }
            let next_scan = self.last_scan.map_or(now, |t| t + self.cfg.scan_every);
            std::thread::sleep(next_scan.min(deadline).saturating_duration_since(now));
        }
    }

    /// Lists the directory (at most once per `scan_every`) and opens the next complete file.
    fn start_next_file(&mut self) -> Result<(), SourceError> {
        if self
            .last_scan
            .is_some_and(|t| t.elapsed() < self.cfg.scan_every)
        {
            return Ok(());
        }
        self.last_scan = Some(Instant::now());
        let candidates = self.scan()?;
        let Some(last) = candidates.len().checked_sub(1) else {
            return Ok(());
        };
        for (i, (name, mtime, size)) in candidates.iter().enumerate() {
            let stamp = stamp(*mtime, *size);
            // Done, unless a file of that name was written again since (a name-only entry
            // cannot tell, and counts as done).
            if self
                .done
                .get(name)
                .is_some_and(|done| done.is_none() || *done == stamp)
            {
                continue;
            }
            let newer_exists = i < last;
            let settled = self
                .seen
                .get(name)
                .is_some_and(|s| s.unchanged_since.elapsed() >= self.cfg.settle);
            if !newer_exists && !settled {
                // The newest file is still being written: nothing else is ready either.
                return Ok(());
            }
            let path = self.cfg.dir.join(name);
            match periscope_capture::open(&path) {
                Ok(reader) => {
                    tracing::info!(file = %path.display(), "reading capture file");
                    self.current = Some(Current {
                        name: name.clone(),
                        stamp,
                        reader,
                    });
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "capture file skipped");
                    self.stats.errors.fetch_add(1, Relaxed);
                    self.finish_file(name.clone(), stamp)?;
                }
            }
        }
        Ok(())
    }

    /// Candidate files sorted by (mtime, name), updating what was seen of each.
    fn scan(&mut self) -> Result<Vec<(String, SystemTime, u64)>, SourceError> {
        let dir_err = |source| SourceError::Directory {
            path: self.cfg.dir.clone(),
            source,
        };
        // The state file and its temporary copy, when they live in the watched directory.
        let state_names = [
            self.state_path.file_name().map(|n| n.to_owned()),
            tmp_path(&self.state_path).file_name().map(|n| n.to_owned()),
        ];
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.cfg.dir).map_err(dir_err)? {
            let Ok(entry) = entry else { continue };
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.')
                || state_names.contains(&Some(entry.file_name()))
                || self
                    .cfg
                    .prefix
                    .as_ref()
                    .is_some_and(|p| !name.starts_with(p))
            {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            files.push((name, mtime, meta.len()));
        }
        files.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        let now = Instant::now();
        let mut seen = HashMap::with_capacity(files.len());
        for (name, mtime, size) in &files {
            let unchanged_since = match self.seen.get(name) {
                Some(s) if s.size == *size && s.mtime == *mtime => s.unchanged_since,
                _ => now,
            };
            seen.insert(
                name.clone(),
                Seen {
                    size: *size,
                    mtime: *mtime,
                    unchanged_since,
                },
            );
        }
        // Only files present now are remembered: the table is as big as the directory.
        self.seen = seen;
        Ok(files)
    }

    /// Reads frames of the current file into `out` until the batch is full or the file ends.
    fn read_frames(&mut self, out: &mut FrameBatch) -> Result<(), SourceError> {
        let Some(current) = self.current.as_mut() else {
            return Ok(());
        };
        let mut finished = false;
        while out.len() < self.cfg.max_batch {
            match current.reader.next_frame() {
                Ok(Some(frame)) => {
                    out.push_frame(&frame);
                    self.stats.delivered(frame.data.len());
                }
                Ok(None) => {
                    finished = true;
                    break;
                }
                Err(e) => {
                    tracing::warn!(
                        file = %self.cfg.dir.join(&current.name).display(),
                        error = %e,
                        "capture file damaged; frames before the damage were read"
                    );
                    self.stats.errors.fetch_add(1, Relaxed);
                    finished = true;
                    break;
                }
            }
        }
        if finished {
            if let Some(done) = self.current.take() {
                self.finish_file(done.name, done.stamp)?;
            }
        }
        Ok(())
    }

    /// Records a finished file, rewrites the state file, then deletes or moves the file.
    fn finish_file(&mut self, name: String, stamp: Stamp) -> Result<(), SourceError> {
        let path = self.cfg.dir.join(&name);
        self.done.insert(name.clone(), stamp);
        self.stats.files_done.fetch_add(1, Relaxed);
        // Forget names whose files are gone (deleted, moved, or rotated away by the writer).
        let present = &self.seen;
        self.done
            .retain(|n, _| n == &name || present.contains_key(n) || self.cfg.dir.join(n).exists());
        self.write_state()?;
        let result = match &self.cfg.after_read {
            AfterRead::Keep => Ok(()),
            AfterRead::Delete => std::fs::remove_file(&path),
            AfterRead::MoveTo(to) => std::fs::rename(&path, to.join(&name)),
        };
        if let Err(e) = result {
            tracing::warn!(file = %path.display(), error = %e, "cannot delete or move a read file");
            self.stats.errors.fetch_add(1, Relaxed);
        }
        Ok(())
    }

    fn write_state(&self) -> Result<(), SourceError> {
        let state_err = |source| SourceError::Directory {
            path: self.state_path.clone(),
            source,
        };
        let mut text = String::new();
        for (name, stamp) in &self.done {
            text.push_str(name);
            if let Some((mtime, size)) = stamp {
                text.push_str(&format!("\t{mtime}\t{size}"));
            }
            text.push('\n');
        }
        let tmp = tmp_path(&self.state_path);
        std::fs::write(&tmp, text).map_err(state_err)?;
        std::fs::rename(&tmp, &self.state_path).map_err(state_err)
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_lines_with_and_without_stamps() {
        let state =
            parse_state("a.pcap\t1700000000000000000\t4096\nold-format.pcap\n\nbad\tx\ty\n");
        assert_eq!(
            state.get("a.pcap"),
            Some(&Some((1_700_000_000_000_000_000, 4096)))
        );
        assert_eq!(state.get("old-format.pcap"), Some(&None));
        assert_eq!(state.get("bad"), Some(&None));
        assert_eq!(state.len(), 3);
    }
}
