//! The SQLite store on real files: the shared behavioural checks, restarts, retention, and the
//! faults a deployed sensor meets (a lock held by another process, a full disk, a damaged or
//! foreign file, a read-only directory). Tests that need root (tmpfs mounts) print why they
//! skip.

use periscope_model::Timestamp;
use periscope_store::testing::{self, read_all, record, sample_attack};
use periscope_store::{NewRecord, Query, SqliteConfig, SqliteStore, Store, StoreError};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn all() -> Query {
    Query {
        limit: 1_000,
        ..Query::default()
    }
}

fn count(store: &SqliteStore) -> Result<u64, StoreError> {
    Ok(store.stats()?.records.iter().map(|(_, n)| n).sum())
}

fn attacks(from: u64, n: u64) -> Result<Vec<NewRecord>, StoreError> {
    (from..from + n).map(sample_attack).collect()
}

#[test]
fn passes_the_shared_store_checks() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut n = 0;
    testing::check_store(|| {
        n += 1;
        SqliteStore::open(dir.path().join(format!("{n}.db")), SqliteConfig::default())
    })?;
    Ok(())
}

#[test]
fn restart_keeps_events_and_never_reuses_sequence_numbers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("events.db");
    let config = SqliteConfig {
        retention_max_age: Some(Duration::from_secs(3600)),
        ..SqliteConfig::default()
    };
    let before = {
        let store = SqliteStore::open(&path, config.clone())?;
        store.append(&attacks(0, 50)?)?;
        store.append(&[record("endpoint", 1, Some("h|GET|/"), "e1")])?;
        read_all(&store, &all())?
    };
    assert_eq!(before.len(), 51);
    let store = SqliteStore::open(&path, config.clone())?;
    assert_eq!(
        read_all(&store, &all())?,
        before,
        "same records after reopening"
    );
    store.check_integrity()?;
    let max_seq = before.last().map_or(0, |r| r.seq);

    // Delete everything (all far older than an hour), reopen, append: numbers keep growing, so
    // a client holding an old cursor still sees the new records.
    let far_future = Timestamp::from_secs_nanos(4_000_000_000, 0);
    let report = store.enforce_retention_at(far_future)?;
    assert_eq!(report.deleted_by_age, 51);
    drop(store);
    let store = SqliteStore::open(&path, config)?;
    store.append(&[record("endpoint", 1, Some("h|GET|/"), "e2")])?;
    let after = read_all(&store, &all())?;
    assert_eq!(after.len(), 1);
    assert!(after[0].seq > max_seq, "{} > {max_seq}", after[0].seq);
    let page = store.query(&Query {
        after: Some(max_seq),
        limit: 10,
        ..Query::default()
    })?;
    assert_eq!(page.items.len(), 1);
    Ok(())
}

#[test]
fn retention_by_age_uses_event_time_or_storage_time() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(
        dir.path().join("age.db"),
        SqliteConfig {
            retention_max_age: Some(Duration::from_secs(100)),
            ..SqliteConfig::default()
        },
    )?;
    // Capture times 1 000 .. 1 299 s; one record without a time.
    let batch: Vec<_> = (0..300u64)
        .map(|i| record("exchange", 1_000 + i, None, &i.to_string()))
        .chain([record("coverage", 0, None, "cov")])
        .collect();
    store.append(&batch)?;

    // Now = 1 250 s: keeps times ≥ 1 150 s (150 records). The coverage record was stored "now"
    // by the wall clock, long after 1 250 s, so it stays.
    let report = store.enforce_retention_at(Timestamp::from_secs_nanos(1_250, 0))?;
    assert_eq!(report.deleted_by_age, 150);
    let left = read_all(&store, &all())?;
    assert_eq!(left.len(), 151);
    assert!(left
        .iter()
        .filter(|r| r.kind == "exchange")
        .all(|r| r.ts >= Timestamp::from_secs_nanos(1_150, 0)));

    // Far in the future everything is older than 100 s, including the record without a time.
    let later = Timestamp::from(std::time::SystemTime::now()).plus(Duration::from_secs(101));
    let report = store.enforce_retention_at(later)?;
    assert_eq!(report.deleted_by_age, 151);
    assert_eq!(count(&store)?, 0);
    // A pass with nothing to do deletes nothing.
    assert_eq!(store.enforce_retention_at(later)?.deleted_by_age, 0);
    Ok(())
}

#[test]
fn retention_by_size_keeps_the_newest_and_shrinks_the_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("size.db");
    let max_bytes = 1024 * 1024;
    let store = SqliteStore::open(
        &path,
        SqliteConfig {
            retention_max_bytes: Some(max_bytes),
            ..SqliteConfig::default()
        },
    )?;
    // About 4 MiB of attacks, plus updates of keyed records.
    for b in 0..8 {
        store.append(&attacks(b * 1_000, 1_000)?)?;
        store.append(&[record("incident", 1, Some("scan"), &format!("v{b}"))])?;
    }
    let before = store.stats()?.bytes;
    assert!(
        before > 3 * max_bytes,
        "test data should fill {before} bytes"
    );

    let report = store.enforce_retention()?;
    assert!(report.deleted_by_size > 0);
    assert_eq!(report.bytes_before, before);
    assert!(
        report.bytes_after <= max_bytes,
        "{} > {max_bytes}",
        report.bytes_after
    );
    // It stops near the 90 % mark, not at an empty store.
    assert!(
        report.bytes_after > max_bytes / 2,
        "deleted too much: {} bytes left",
        report.bytes_after
    );
    assert_eq!(store.stats()?.bytes, report.bytes_after);
    // The file on disk shrank too (incremental vacuum + checkpoint), and so did the -wal file.
    let on_disk = std::fs::metadata(&path)?.len();
    assert!(on_disk <= max_bytes, "file is {on_disk} bytes");
    let wal = std::fs::metadata(dir.path().join("size.db-wal")).map_or(0, |m| m.len());
    assert!(wal <= max_bytes, "-wal file is {wal} bytes");

    // What is left is the newest records: attacks up to the last one without a hole, and the
    // last update of the keyed record.
    let left = read_all(&store, &all())?;
    assert_eq!(left.len() as u64 + report.deleted_by_size, 8_001);
    assert_eq!(left.last().map(|r| r.json.as_str()), Some("v7"));
    let ids: Vec<u64> = left
        .iter()
        .filter(|r| r.kind == "attack")
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.json))
        .map(|v| v.map(|v| v["exchange_id"].as_u64().unwrap_or(u64::MAX)))
        .collect::<Result<_, _>>()?;
    let first = ids.first().copied().unwrap_or(0);
    assert_eq!(ids, (first..8_000).collect::<Vec<_>>());

    // Under the limit: a second pass deletes nothing.
    let again = store.enforce_retention()?;
    assert_eq!((again.deleted_by_age, again.deleted_by_size), (0, 0));
    Ok(())
}

#[test]
fn another_process_holding_the_write_lock_gives_busy() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("locked.db");
    let store = SqliteStore::open(
        &path,
        SqliteConfig {
            busy_timeout: Duration::from_millis(200),
            ..SqliteConfig::default()
        },
    )?;
    store.append(&[record("attack", 1, None, "a")])?;
    // A real second process (Python's sqlite3) takes the write lock and holds it until its
    // stdin closes.
    let script = "import sqlite3, sys\n\
                  c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
                  c.execute('BEGIN IMMEDIATE')\n\
                  print('locked', flush=True)\n\
                  sys.stdin.read()\n\
                  c.execute('ROLLBACK')\n";
    let child = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        println!("SKIP: python3 is not installed; it plays the other process holding the lock");
        return Ok(());
    };
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    assert_eq!(line.trim(), "locked", "the locking process did not start");

    let err = store.append(&[record("attack", 2, None, "b")]);
    let Err(StoreError::Busy(msg)) = err else {
        panic!("expected Busy, got {err:?}");
    };
    println!("message: {msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    // Readers are not blocked by the other writer (WAL).
    assert_eq!(count(&store)?, 1);

    drop(child.stdin.take());
    child.wait()?;
    store.append(&[record("attack", 2, None, "b")])?;
    assert_eq!(
        count(&store)?,
        2,
        "the store works again once the lock is gone"
    );
    Ok(())
}

/// A tmpfs mounted for one test, unmounted when dropped. `None` when mounting is not allowed.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(options: &str) -> Result<Option<Tmpfs>, std::io::Error> {
        let dir = tempfile::tempdir()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status();
        Ok(match status {
            Ok(s) if s.success() => Some(Tmpfs { dir }),
            _ => None,
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, options: &str) -> Result<(), std::io::Error> {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.path())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("remount {options} failed")))
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn full_disk_gives_full_and_loses_no_accepted_batch() -> TestResult {
    // Larger than SQLite's automatic checkpoint (1 000 pages of -wal), so the database file and
    // its -wal file look as they do on a real disk.
    let Some(fs) = Tmpfs::mount("size=16m")? else {
        println!("SKIP: cannot mount a tmpfs (needs root) to fill a disk for real");
        return Ok(());
    };
    let path = fs.path().join("full.db");
    // The size limit is what the operator sets after the disk filled up; retention is not run
    // until then.
    let config = SqliteConfig {
        retention_max_bytes: Some(4 << 20),
        reserve_bytes: 1 << 20,
        ..SqliteConfig::default()
    };
    let store = SqliteStore::open(&path, config.clone())?;
    let reserve = fs.path().join("full.db-reserve");
    assert_eq!(std::fs::metadata(&reserve)?.len(), 1 << 20);
    let mut accepted = 0u64;
    let err = loop {
        match store.append(&attacks(accepted, 100)?) {
            Ok(()) => accepted += 100,
            Err(e) => break e,
        }
        assert!(accepted < 1_000_000, "a 16 MiB file system never filled up");
    };
    let StoreError::Full(msg) = &err else {
        panic!("expected Full, got {err:?}");
    };
    println!("message: {msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(accepted > 0);
    // The failed batch left nothing; what was accepted is readable.
    assert_eq!(count(&store)?, accepted);

    // The way out without a restart: retention gives up the reserve to have room to delete,
    // shrinks the file, takes the reserve back, and appends work again on the same file system.
    let report = store.enforce_retention()?;
    println!("retention on a full disk: {report:?}");
    assert!(report.deleted_by_size > 0 && report.bytes_after <= 4 << 20);
    assert_eq!(std::fs::metadata(&reserve)?.len(), 1 << 20, "reserve back");
    store.append(&attacks(accepted, 100)?)?;
    let kept = count(&store)?;
    drop(store);

    let store = SqliteStore::open(&path, config)?;
    assert_eq!(count(&store)?, kept, "accepted batches survive a restart");
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::File::create(path)?.write_all(bytes)
}

#[test]
fn a_file_that_is_not_a_database_is_refused_at_open() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("notes.db");
    write_file(&path, &b"these are my notes, not a database\n".repeat(200))?;
    let err = SqliteStore::open(&path, SqliteConfig::default());
    let Err(StoreError::Corrupt(msg)) = err else {
        panic!("expected Corrupt, got {err:?}");
    };
    println!("message: {msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(
        msg.contains("move the file aside"),
        "says what to do: {msg}"
    );
    Ok(())
}

#[test]
fn damaged_pages_give_corrupt_not_a_panic() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("damaged.db");
    {
        let store = SqliteStore::open(&path, SqliteConfig::default())?;
        for b in 0..4 {
            store.append(&attacks(b * 500, 500)?)?;
        }
    } // closing checkpoints the WAL into the file
    let mut bytes = std::fs::read(&path)?;
    assert!(bytes.len() > 64 * 4096);
    // Scribble over every page after the first few (headers, schema): b-tree pages now say
    // nonsense.
    for (i, b) in bytes.iter_mut().enumerate().skip(4 * 4096) {
        *b = (i as u8).wrapping_mul(31) ^ 0x5a;
    }
    write_file(&path, &bytes)?;
    // The integrity check finds it without reading records.
    let checked = SqliteStore::open(&path, SqliteConfig::default())?.check_integrity();
    let Err(StoreError::Corrupt(msg)) = checked else {
        panic!("expected Corrupt from the check, got {checked:?}");
    };
    println!("check: {msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    // And so does reading.
    let outcome = SqliteStore::open(&path, SqliteConfig::default()).and_then(|store| {
        read_all(&store, &all())?;
        store.stats()
    });
    let Err(StoreError::Corrupt(msg)) = outcome else {
        panic!("expected Corrupt, got {outcome:?}");
    };
    println!("message: {msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    Ok(())
}

#[test]
fn another_programs_database_and_newer_schemas_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let foreign = dir.path().join("theirs.db");
    {
        let conn = rusqlite::Connection::open(&foreign)?;
        conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);")?;
    }
    let err = SqliteStore::open(&foreign, SqliteConfig::default());
    let Err(StoreError::Corrupt(msg)) = err else {
        panic!("expected Corrupt, got {err:?}");
    };
    println!("message: {msg}");
    assert!(msg.contains("another program"), "{msg}");
    // Their database is untouched: no table of ours, journal mode and vacuum mode unchanged.
    let conn = rusqlite::Connection::open(&foreign)?;
    let tables: i64 = conn.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get(0))?;
    assert_eq!(tables, 1);
    let journal: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    assert_eq!(journal, "delete");
    let auto_vacuum: i64 = conn.pragma_query_value(None, "auto_vacuum", |r| r.get(0))?;
    assert_eq!(auto_vacuum, 0);

    let newer = dir.path().join("newer.db");
    drop(SqliteStore::open(&newer, SqliteConfig::default())?);
    rusqlite::Connection::open(&newer)?.pragma_update(None, "user_version", 99)?;
    let err = SqliteStore::open(&newer, SqliteConfig::default());
    let Err(StoreError::Other(msg)) = err else {
        panic!("expected Other, got {err:?}");
    };
    println!("message: {msg}");
    assert!(msg.contains("newer Periscope"), "{msg}");
    Ok(())
}

#[test]
fn a_read_only_directory_gives_an_error_naming_the_file() -> TestResult {
    // Root ignores permission bits, so as root the directory is a read-only mount.
    let (dir, _mount): (PathBuf, Option<Tmpfs>) = match Tmpfs::mount("size=1m")? {
        Some(fs) => {
            // An existing store first, then the file system goes read-only under it.
            {
                let store = SqliteStore::open(fs.path().join("old.db"), SqliteConfig::default())?;
                store.append(&[record("attack", 1, None, "a")])?;
            }
            fs.remount("ro")?;
            (fs.path().to_path_buf(), Some(fs))
        }
        None => {
            use std::os::unix::fs::PermissionsExt;
            let d = tempfile::tempdir()?.keep();
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o555))?;
            if std::fs::File::create(d.join("probe")).is_ok() {
                println!("SKIP: cannot make a directory read-only for this user");
                return Ok(());
            }
            (d, None)
        }
    };
    let path = dir.join("new.db");
    let err = SqliteStore::open(&path, SqliteConfig::default());
    let Err(StoreError::Other(msg)) = err else {
        panic!("expected Other, got {err:?}");
    };
    println!("message: {msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("read-only"), "{msg}");

    if _mount.is_some() {
        let old = dir.join("old.db");
        match SqliteStore::open(&old, SqliteConfig::default()) {
            // Opening may work (reads); writing must fail cleanly.
            Ok(store) => {
                let err = store.append(&[record("attack", 2, None, "b")]);
                let Err(e) = err else {
                    panic!("wrote to a read-only file system");
                };
                println!("append on a read-only file system: {e}");
                assert!(e.to_string().contains(&old.display().to_string()), "{e}");
            }
            Err(e) => {
                println!("open on a read-only file system: {e}");
                assert!(e.to_string().contains(&old.display().to_string()), "{e}");
            }
        }
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

#[test]
fn readers_and_writer_share_the_store_across_threads() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = std::sync::Arc::new(SqliteStore::open(
        dir.path().join("threads.db"),
        SqliteConfig::default(),
    )?);
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || -> Result<(), StoreError> {
            for b in 0..20 {
                store.append(&attacks(b * 100, 100)?)?;
            }
            Ok(())
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || -> Result<(), StoreError> {
                for _ in 0..50 {
                    let n: u64 = store.stats()?.records.iter().map(|(_, n)| n).sum();
                    // Whole batches only: a reader never sees half a batch.
                    assert_eq!(n % 100, 0, "saw {n} records");
                }
                Ok(())
            })
        })
        .collect();
    for r in readers {
        r.join().map_err(|_| "reader panicked")??;
    }
    writer.join().map_err(|_| "writer panicked")??;
    assert_eq!(count(&store)?, 2_000);
    Ok(())
}

#[test]
fn settings_that_would_delete_everything_are_refused_at_open() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("config.db");
    for config in [
        SqliteConfig {
            retention_max_bytes: Some(100),
            ..SqliteConfig::default()
        },
        SqliteConfig {
            retention_max_age: Some(Duration::ZERO),
            ..SqliteConfig::default()
        },
    ] {
        let err = SqliteStore::open(&path, config.clone());
        assert!(err.is_err(), "{config:?} accepted");
    }
    assert!(
        !path.exists(),
        "nothing created for a refused configuration"
    );
    SqliteStore::open(
        &path,
        SqliteConfig {
            retention_max_bytes: Some(SqliteConfig::MIN_MAX_BYTES),
            retention_max_age: Some(Duration::from_secs(1)),
            ..SqliteConfig::default()
        },
    )?;
    Ok(())
}
