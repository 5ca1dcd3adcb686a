//! Retention: deleting records by age and by file size, and giving the space back.
//!
//! **Age.** Records whose time (`ts`, capture time) is older than `retention_max_age` before now
//! are deleted. Records without a time (`ts = 0`, e.g. coverage) are judged by when they were
//! stored. Replaying an old capture therefore stores records that the next pass deletes: give
//! such runs no age limit.
//!
//! **Size.** When the file is larger than `retention_max_bytes`, the oldest records (lowest
//! `seq`: least recently written) are deleted until the pages in use fit in 90 % of the limit,
//! so a store at its limit does not run a pass after every batch.
//!
//! **Shrinking: incremental vacuum.** The database is created with `auto_vacuum = INCREMENTAL`,
//! so after deleting, `PRAGMA incremental_vacuum` moves the free pages to the end of the file
//! and truncates it, and a `wal_checkpoint(TRUNCATE)` carries that to the file on disk and
//! empties the -wal file. We do not use `VACUUM`: it rewrites the whole database into a copy,
//! so it needs up to twice the space (exactly what is missing when a size limit or a full disk
//! is the reason we are here) and holds the write lock for the whole copy, stalling the sensor.
//! Incremental vacuum does not defragment, which matters little for an append-mostly table. A
//! database without auto-vacuum (created by hand) falls back to `VACUUM`.
//!
//! Deletes run in chunks of [`CHUNK`] rows, each its own transaction, so appends wait at most one
//! chunk.
//!
//! **A full disk.** Deleting writes pages to the -wal file, so on a full disk retention itself
//! can fail with `SQLITE_FULL`. The store keeps `reserve_bytes` in a file beside the database
//! (`<file>-reserve`, written with real bytes so the space is allocated); when a delete fails
//! with a full disk, retention removes that file and retries, then with smaller chunks down to
//! one row. After the pass, the reserve is written again if there is room.

use super::{now, to_sql_int, SqliteStore};
use crate::StoreError;
use periscope_model::Timestamp;
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use std::io::Write;
use std::path::PathBuf;

/// Rows deleted per transaction.
pub const CHUNK: usize = 5_000;

/// Deletes up to `?2` records older than `?1` (event time, or storage time for records
/// without one).
pub(super) const DELETE_OLD_SQL: &str = "DELETE FROM events WHERE seq IN (SELECT seq FROM events \
     WHERE (ts > 0 AND ts < ?1) OR (ts = 0 AND stored_at < ?1) LIMIT ?2)";
/// Deletes the `?2` oldest records (`?1` unused).
pub(super) const DELETE_OLDEST_SQL: &str =
    "DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?2)";

/// What one retention pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Records deleted because they were older than the maximum age.
    pub deleted_by_age: u64,
    /// Records deleted because the file was over the maximum size.
    pub deleted_by_size: u64,
    /// Size of the database file before the pass (page count × page size).
    pub bytes_before: u64,
    /// Size after the pass.
    pub bytes_after: u64,
}

impl SqliteStore {
    /// Deletes what the retention settings say is too old or too much, then shrinks the file.
    /// The daemon calls it periodically; a pass with nothing to do costs a few queries.
    pub fn enforce_retention(&self) -> Result<RetentionReport, StoreError> {
        self.enforce_retention_at(now())
    }

    /// [`enforce_retention`](Self::enforce_retention) with `now` (wall-clock time) given, for
    /// tests and replays.
    pub fn enforce_retention_at(&self, now: Timestamp) -> Result<RetentionReport, StoreError> {
        let mut report = RetentionReport {
            bytes_before: file_bytes(&self.writer()).map_err(|e| self.fail(e))?,
            ..RetentionReport::default()
        };
        if let Some(max_age) = self.config.retention_max_age {
            let cutoff = to_sql_int(now.as_nanos().saturating_sub(duration_nanos(max_age)));
            loop {
                let deleted = self.delete_rows(DELETE_OLD_SQL, cutoff, CHUNK)?;
                report.deleted_by_age += deleted as u64;
                if deleted < CHUNK {
                    break;
                }
            }
        }
        if let Some(max_bytes) = self.config.retention_max_bytes {
            if report.bytes_before > max_bytes {
                let target = max_bytes - max_bytes / 10;
                loop {
                    let (used, rows) = {
                        let conn = self.writer();
                        (
                            used_bytes(&conn).map_err(|e| self.fail(e))?,
                            row_count(&conn).map_err(|e| self.fail(e))?,
                        )
                    };
                    if used <= target || rows == 0 {
                        break;
                    }
                    // Rows are of similar size: delete the share of rows that is over the
                    // target, then look again (partly emptied pages free less than that).
                    let share = (used - target) as f64 / used as f64;
                    let wanted = ((rows as f64 * share).ceil() as usize).clamp(1, CHUNK);
                    let deleted = self.delete_rows(DELETE_OLDEST_SQL, 0, wanted)?;
                    report.deleted_by_size += deleted as u64;
                }
            }
        }
        self.shrink().map_err(|e| self.fail(e))?;
        report.bytes_after = file_bytes(&self.writer()).map_err(|e| self.fail(e))?;
        self.refill_reserve();
        Ok(report)
    }

    fn reserve_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push("-reserve");
        PathBuf::from(name)
    }

    /// Writes the reserve file when it is missing or short. Best effort: without room for it
    /// the store works as before, and the next retention pass tries again.
    pub(super) fn refill_reserve(&self) {
        let want = self.config.reserve_bytes;
        let path = self.reserve_path();
        let have = std::fs::metadata(&path).map_or(0, |m| m.len());
        if want == 0 || have >= want {
            return;
        }
        let written = std::fs::File::create(&path).and_then(|mut file| {
            let zeros = vec![0u8; 64 * 1024];
            let mut left = want;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                file.write_all(&zeros[..n])?;
                left -= n as u64;
            }
            file.sync_all()
        });
        if written.is_err() {
            // A partial reserve would take the last bytes the database needs.
            let _ = std::fs::remove_file(&path);
        }
    }

    /// Gives the reserve's space to the database; true when there was a reserve.
    fn release_reserve(&self) -> bool {
        std::fs::remove_file(self.reserve_path()).is_ok()
    }

    /// Runs `sql` in its own transaction with `?1` = `arg` and `?2` = `limit`; on a full disk,
    /// gives up the reserve, then halves the limit, before failing.
    fn delete_rows(&self, sql: &str, arg: i64, limit: usize) -> Result<usize, StoreError> {
        let mut limit = limit;
        loop {
            match self.delete_rows_once(sql, arg, limit) {
                Err(StoreError::Full(_)) if self.release_reserve() => {
                    // Copy the -wal file into the database so the next write can start it
                    // over, in space it already holds. Failing is fine: we retry anyway.
                    let _ = checkpoint(&self.writer());
                }
                Err(StoreError::Full(_)) if limit > 1 => limit /= 2,
                other => return other,
            }
        }
    }

    fn delete_rows_once(&self, sql: &str, arg: i64, limit: usize) -> Result<usize, StoreError> {
        let mut conn = self.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.fail(e))?;
        let deleted = tx
            .prepare_cached(sql)
            .and_then(|mut s| s.execute((arg, to_sql_int(limit as u64))))
            .map_err(|e| self.fail(e))?;
        tx.commit().map_err(|e| self.fail(e))?;
        Ok(deleted)
    }

    /// Gives free pages back to the file system and empties the -wal file, in steps of at most
    /// [`VACUUM_STEP`] pages each checkpointed before the next, so the -wal file stays small
    /// (on a full disk, smaller steps).
    fn shrink(&self) -> Result<(), rusqlite::Error> {
        let auto_vacuum: i64 = self
            .writer()
            .pragma_query_value(None, "auto_vacuum", |r| r.get(0))?;
        let mut step = VACUUM_STEP;
        loop {
            let conn = self.writer();
            let free: i64 = conn.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
            if free == 0 {
                break;
            }
            if auto_vacuum != 2 {
                conn.execute_batch("VACUUM")?;
                break;
            }
            let pages = step.min(free);
            match incremental_vacuum(&conn, pages) {
                Ok(()) => {}
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::DiskFull) && step > 1 => {
                    step /= 2;
                }
                Err(e) => return Err(e),
            }
            // Carries the truncation to the file and lets the next step reuse the -wal file.
            checkpoint(&conn)?;
        }
        checkpoint(&self.writer())
    }
}

/// Free pages given back per incremental-vacuum step (4 MiB of 4 KiB pages).
const VACUUM_STEP: i64 = 1024;

/// Moves up to `pages` free pages to the end of the file and cuts them off. Each step of the
/// statement frees one page: step it to the end.
fn incremental_vacuum(conn: &Connection, pages: i64) -> Result<(), rusqlite::Error> {
    let mut stmt = conn.prepare(&format!("PRAGMA incremental_vacuum({pages})"))?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

/// Copies the -wal file into the database and empties it. When readers still use old pages it
/// does part of the job and says so; that is not an error, the next pass finishes it.
fn checkpoint(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
}

fn duration_nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Size of the database file: page count × page size (the -wal file is not counted).
pub(crate) fn file_bytes(conn: &Connection) -> Result<u64, rusqlite::Error> {
    let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    Ok(u64::try_from(pages.saturating_mul(page_size)).unwrap_or(0))
}

/// Bytes of the pages that hold data (the file minus its free pages).
fn used_bytes(conn: &Connection) -> Result<u64, rusqlite::Error> {
    let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
    let free: i64 = conn.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    Ok(u64::try_from(pages.saturating_sub(free).saturating_mul(page_size)).unwrap_or(0))
}

fn row_count(conn: &Connection) -> Result<u64, rusqlite::Error> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}
