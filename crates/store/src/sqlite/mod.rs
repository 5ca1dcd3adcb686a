//! The embedded store: one SQLite file, the default.
//!
//! - **Connections.** One writer connection behind a mutex (SQLite has one writer at a time
//!   anyway, and a single writer makes sequence numbers commit in order, which the cursor needs)
//!   and a few reader connections. The file is in WAL mode, so readers run while a batch is being
//!   written and see only committed batches. `synchronous = NORMAL`: a commit survives a crash of
//!   the process; a power cut may lose the last batches but never corrupts the file.
//! - **Batches.** One `BEGIN IMMEDIATE` transaction per [`Store::append`], with cached prepared
//!   statements. An update (a record with a key) deletes the row it replaces and inserts a new
//!   one, so it takes a new `seq` and a client following the cursor sees it.
//! - **Faults** become [`StoreError`]s naming the file: locked by another process → `Busy` (after
//!   the busy timeout), disk full → `Full`, damaged or foreign file → `Corrupt` (at open),
//!   read-only file or directory → `Other`. A failed batch leaves nothing behind.
//! - **Retention** ([`SqliteStore::enforce_retention`]) deletes by age and by size; see
//!   [`retention`] for the vacuum strategy.
//!
//! A PostgreSQL store (many sensors, one database) would keep the same table and indexes
//! (`seq BIGSERIAL`, `json JSONB`), upsert with `DELETE` + `INSERT` in one transaction, and
//! size retention on `pg_total_relation_size`. The one thing that does not carry over is the
//! cursor: PostgreSQL hands out sequence numbers at insert time, not at commit, so with several
//! writers a row with a smaller `seq` can become visible after a client has paged past it. It
//! would need to serialise appends (`LOCK TABLE events IN EXCLUSIVE MODE` per batch, or an
//! advisory lock) or only serve rows below the oldest in-flight transaction's first `seq`.
//! [`crate::testing`] holds the behavioural checks it would have to pass.

mod fault;
pub mod retention;
mod schema;

use crate::{NewRecord, Page, Query, Record, Store, StoreError, StoreStats};
use periscope_model::Timestamp;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

pub use retention::RetentionReport;

/// How the SQLite store is opened and how much it keeps. Build it with
/// `SqliteConfig { retention_max_age: …, ..SqliteConfig::default() }`: fields may be added.
#[derive(Debug, Clone, PartialEq)]
pub struct SqliteConfig {
    /// Records whose time is older than this are deleted by
    /// [`SqliteStore::enforce_retention`]. `None` (default): kept whatever their age.
    pub retention_max_age: Option<Duration>,
    /// When the database file is larger than this, the oldest records are deleted until it is
    /// 90 % of it, and the file is shrunk. `None` (default): no size limit.
    pub retention_max_bytes: Option<u64>,
    /// How long a write waits for a lock held by another process before failing with
    /// [`StoreError::Busy`]. Default 5 s.
    pub busy_timeout: Duration,
    /// Reader connections (API requests run in parallel up to this). Default 2, at least 1.
    pub read_connections: usize,
    /// Bytes of disk kept in reserve in a file beside the database (`<file>-reserve`), given
    /// up when retention cannot delete because the disk is full (deleting needs room in the
    /// -wal file), and taken back after. Default 4 MiB; 0 keeps no reserve.
    pub reserve_bytes: u64,
}

impl SqliteConfig {
    /// The smallest `retention_max_bytes` accepted: below it a store keeps almost nothing,
    /// which is more likely a unit mistake than a wish.
    pub const MIN_MAX_BYTES: u64 = 1024 * 1024;

    /// Checks the settings; [`SqliteStore::open`] calls it, so a bad configuration fails at
    /// start rather than by deleting everything at the first retention pass.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self
            .retention_max_bytes
            .is_some_and(|b| b < Self::MIN_MAX_BYTES)
        {
            return Err(StoreError::Other(format!(
                "store retention max bytes {} is under the minimum of {} (1 MiB)",
                self.retention_max_bytes.unwrap_or(0),
                Self::MIN_MAX_BYTES
            )));
        }
        if self.retention_max_age == Some(Duration::ZERO) {
            return Err(StoreError::Other(
                "store retention max age is 0: every record would be deleted; leave it unset \
                 to keep records whatever their age"
                    .into(),
            ));
        }
        Ok(())
    }
}

impl Default for SqliteConfig {
    fn default() -> Self {
        SqliteConfig {
            retention_max_age: None,
            retention_max_bytes: None,
            busy_timeout: Duration::from_secs(5),
            read_connections: 2,
            reserve_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Events in one SQLite file. `Send + Sync`: share it in an `Arc`.
pub struct SqliteStore {
    path: PathBuf,
    config: SqliteConfig,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (not its directory) when missing, and brings
    /// its schema up to date. Refuses a file that is damaged or not a database
    /// ([`StoreError::Corrupt`]), another program's SQLite database, and a database written by a
    /// newer Periscope.
    pub fn open(path: impl AsRef<Path>, config: SqliteConfig) -> Result<SqliteStore, StoreError> {
        config.validate()?;
        let path = path.as_ref().to_path_buf();
        let fail = |e| fault::store_error(&path, e);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut writer = Connection::open_with_flags(&path, flags).map_err(fail)?;
        writer.busy_timeout(config.busy_timeout).map_err(fail)?;
        let schema_error = |e| match e {
            schema::MigrateError::Sqlite(e) => fail(e),
            schema::MigrateError::TooNew { found, known } => StoreError::Other(format!(
                "{} has schema version {found}, written by a newer Periscope (this one knows \
                 versions up to {known}): upgrade Periscope, or point it at another file",
                path.display()
            )),
            schema::MigrateError::Foreign { application_id } => StoreError::Corrupt(format!(
                "{} is a SQLite database of another program (application id {application_id:#x}), \
                 not Periscope's: point the store at a new file",
                path.display()
            )),
        };
        // Reading the header first also refuses a file that is not a database.
        schema::check(&writer).map_err(schema_error)?;
        // Before any table exists, so that retention can give pages back to the file system
        // without a full VACUUM (a no-op on an existing database).
        writer
            .pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(fail)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Other(format!(
                "{}: cannot switch to WAL mode (journal mode stays {mode:?}); the store needs \
                 a local file system that supports shared memory",
                path.display()
            )));
        }
        writer
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        // Keep the -wal file from staying at its largest size after a burst.
        writer
            .pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(fail)?;
        schema::migrate(&mut writer).map_err(schema_error)?;
        writer.set_prepared_statement_cache_capacity(32);

        let mut readers = Vec::new();
        for _ in 0..config.read_connections.max(1) {
            let reader = Connection::open_with_flags(&path, flags).map_err(fail)?;
            reader.busy_timeout(config.busy_timeout).map_err(fail)?;
            reader
                .pragma_update(None, "query_only", true)
                .map_err(fail)?;
            readers.push(Mutex::new(reader));
        }
        let store = SqliteStore {
            path,
            config,
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        };
        store.refill_reserve();
        Ok(store)
    }

    /// Reads the whole database and checks its structure (`PRAGMA quick_check`): damage
    /// inside a file whose header is sound only shows when a damaged page is read, so this is
    /// the check to run after a crash of the machine or before a backup. Takes time in
    /// proportion to the file (about a second per few hundred MB) and only blocks other readers
    /// of its connection, not the writer.
    pub fn check_integrity(&self) -> Result<(), StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare("PRAGMA quick_check(10)")
            .map_err(|e| self.fail(e))?;
        let problems: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| self.fail(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.fail(e))?;
        if problems.len() == 1 && problems[0] == "ok" {
            return Ok(());
        }
        Err(StoreError::Corrupt(format!(
            "{} is damaged ({}): stop Periscope, move the file aside (with its -wal and -shm \
             files) so a new one is created, or restore a backup; `sqlite3 FILE .recover` can \
             salvage rows",
            self.path.display(),
            problems.join("; ").replace('\n', " ")
        )))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &SqliteConfig {
        &self.config
    }

    fn fail(&self, e: rusqlite::Error) -> StoreError {
        fault::store_error(&self.path, e)
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable (an open transaction
        // was rolled back when it was dropped), so a poisoned lock is taken over.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A free reader connection or, when all are busy, the next one in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for reader in &self.readers {
            if let Ok(guard) = reader.try_lock() {
                return guard;
            }
        }
        let turn = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        self.readers[turn].lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Deletes the record an update replaces.
const REPLACE_SQL: &str = "DELETE FROM events WHERE kind = ?1 AND key = ?2";
/// Stores one record.
const INSERT_SQL: &str =
    "INSERT INTO events (kind, ts, key, stored_at, json) VALUES (?1, ?2, ?3, ?4, ?5)";
/// Records per kind (a scan of the small `events_kind_seq` index).
const COUNT_SQL: &str = "SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY kind";

/// The page query for the filters given: `:after` and `:fetch` always, `:kind` and `:since`
/// when filtered on. Four fixed texts, so each stays in the prepared-statement cache.
fn select_sql(by_kind: bool, since: bool) -> &'static str {
    match (by_kind, since) {
        (false, false) => {
            "SELECT seq, kind, ts, json FROM events WHERE seq > :after ORDER BY seq LIMIT :fetch"
        }
        (true, false) => {
            "SELECT seq, kind, ts, json FROM events WHERE seq > :after AND kind = :kind \
             ORDER BY seq LIMIT :fetch"
        }
        (false, true) => {
            "SELECT seq, kind, ts, json FROM events WHERE seq > :after AND ts >= :since \
             ORDER BY seq LIMIT :fetch"
        }
        (true, true) => {
            "SELECT seq, kind, ts, json FROM events WHERE seq > :after AND kind = :kind \
             AND ts >= :since ORDER BY seq LIMIT :fetch"
        }
    }
}

/// SQLite integers are signed: times and cursors beyond `i64::MAX` (year 2262) are clamped.
fn to_sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn from_sql_int(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn now() -> Timestamp {
    Timestamp::from(SystemTime::now())
}

impl Store for SqliteStore {
    fn append(&self, batch: &[NewRecord]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let stored_at = to_sql_int(now().as_nanos());
        let mut conn = self.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.fail(e))?;
        {
            let mut replace = tx.prepare_cached(REPLACE_SQL).map_err(|e| self.fail(e))?;
            let mut insert = tx.prepare_cached(INSERT_SQL).map_err(|e| self.fail(e))?;
            for rec in batch {
                if let Some(key) = &rec.key {
                    replace.execute((rec.kind, key)).map_err(|e| self.fail(e))?;
                }
                insert
                    .execute((
                        rec.kind,
                        to_sql_int(rec.ts.as_nanos()),
                        rec.key.as_deref(),
                        stored_at,
                        rec.json.as_str(),
                    ))
                    .map_err(|e| self.fail(e))?;
            }
        }
        // Dropping `tx` on an error above rolls the whole batch back.
        tx.commit().map_err(|e| self.fail(e))
    }

    fn query(&self, q: &Query) -> Result<Page, StoreError> {
        if q.limit == 0 {
            return Ok(Page::default());
        }
        let after = to_sql_int(q.after.unwrap_or(0));
        // One more row than asked tells whether there is a next page.
        let fetch = to_sql_int(u64::try_from(q.limit).unwrap_or(u64::MAX)).saturating_add(1);
        let since = q.since.map(|s| to_sql_int(s.as_nanos()));
        let mut params: Vec<(&str, &dyn rusqlite::ToSql)> =
            vec![(":after", &after), (":fetch", &fetch)];
        if let Some(kind) = &q.kind {
            params.push((":kind", kind));
        }
        if let Some(since) = &since {
            params.push((":since", since));
        }
        let sql = select_sql(q.kind.is_some(), since.is_some());

        let conn = self.reader();
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params.as_slice(), |row| {
                Ok(Record {
                    seq: from_sql_int(row.get(0)?),
                    kind: row.get(1)?,
                    ts: Timestamp(from_sql_int(row.get(2)?)),
                    json: row.get(3)?,
                })
            })
            .map_err(|e| self.fail(e))?;
        let mut items = Vec::new();
        let mut more = false;
        for row in rows {
            let record = row.map_err(|e| self.fail(e))?;
            if items.len() == q.limit {
                more = true;
                break;
            }
            items.push(record);
        }
        let next = if more {
            items.last().map(|r| r.seq)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(COUNT_SQL).map_err(|e| self.fail(e))?;
        let records = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, from_sql_int(row.get(1)?)))
            })
            .map_err(|e| self.fail(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.fail(e))?;
        let bytes = retention::file_bytes(&conn).map_err(|e| self.fail(e))?;
        Ok(StoreStats { records, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every statement finds its rows through the index meant for it and never sorts: a
    /// schema or query change that loses an index fails here, not on a big database.
    #[test]
    fn every_statement_uses_its_index() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = SqliteStore::open(dir.path().join("plan.db"), SqliteConfig::default())?;
        let conn = store.writer();
        let rowid = "INTEGER PRIMARY KEY";
        let expected = [
            (
                REPLACE_SQL,
                "USING INDEX events_kind_key (kind=? AND key=?)",
            ),
            (
                COUNT_SQL,
                "SCAN events USING COVERING INDEX events_kind_seq",
            ),
            (
                retention::DELETE_OLD_SQL,
                "USING INDEX events_ts (ts>? AND ts<?)",
            ),
            // In seq order, stopping at the limit.
            (retention::DELETE_OLDEST_SQL, "SCAN events"),
            (select_sql(false, false), rowid),
            (select_sql(false, true), rowid),
            (
                select_sql(true, false),
                "USING INDEX events_kind_seq (kind=? AND seq>?)",
            ),
            (
                select_sql(true, true),
                "USING INDEX events_kind_seq (kind=? AND seq>?)",
            ),
        ];
        for (sql, want) in expected {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
            let plan: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))?
                .collect::<Result<_, _>>()?;
            assert!(
                plan.iter().any(|step| step.contains(want)),
                "{sql}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "{sql}: {plan:?}"
            );
        }
        Ok(())
    }
}
