//! The schema and its migrations, keyed on `PRAGMA user_version`.
//!
//! `user_version` holds how many steps of [`MIGRATIONS`] a database has had. Opening applies the
//! missing ones in order, each in its own transaction with the version bump, so a crash between
//! steps leaves a database at a known version. A database with a higher version was written by a
//! newer Periscope and is refused rather than guessed at. Steps are only ever appended: never edit
//! one that has shipped.

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of Periscope's databases ("PSCP"), so that pointing the store at
/// another program's SQLite file is refused instead of adding tables to it.
pub(crate) const APPLICATION_ID: i32 = 0x5053_4350;

/// The migration steps, in order. Step `i` takes a database from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the events table.
    // - `seq` is AUTOINCREMENT so a number is never reused, even when the newest row is deleted
    //   (an upsert or retention): a client's cursor must never see a new row under an old number.
    // - `ts` is the event's capture time in nanoseconds; `stored_at` the wall-clock time it was
    //   stored, which age-based retention uses for events without a time (ts = 0, coverage).
    // - (kind, seq) serves `?type=` pages, ts serves `since` and age retention, the partial
    //   unique (kind, key) finds the record an update replaces.
    "CREATE TABLE events (
         seq       INTEGER PRIMARY KEY AUTOINCREMENT,
         kind      TEXT    NOT NULL,
         ts        INTEGER NOT NULL,
         key       TEXT,
         stored_at INTEGER NOT NULL,
         json      TEXT    NOT NULL
     );
     CREATE INDEX events_kind_seq ON events (kind, seq);
     CREATE INDEX events_ts ON events (ts);
     CREATE UNIQUE INDEX events_kind_key ON events (kind, key) WHERE key IS NOT NULL;",
];

/// Why a database cannot be brought to the current schema.
#[derive(Debug)]
pub(crate) enum MigrateError {
    /// The database's version is newer than this build knows.
    TooNew { found: i64, known: usize },
    /// The file is a SQLite database of another program.
    Foreign { application_id: i32 },
    /// The driver failed.
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

/// Refuses another program's database and one from a newer Periscope, before anything is
/// changed in it (journal mode, auto-vacuum). Returns the database's version.
pub(crate) fn check(conn: &Connection) -> Result<usize, MigrateError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let application_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let has_tables: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table')",
        [],
        |r| r.get(0),
    )?;
    if application_id != APPLICATION_ID && (version != 0 || has_tables) {
        return Err(MigrateError::Foreign { application_id });
    }
    let applied = usize::try_from(version).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(MigrateError::TooNew {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    Ok(applied)
}

/// Brings the database to the last version of [`MIGRATIONS`]; returns the steps applied.
pub(crate) fn migrate(conn: &mut Connection) -> Result<usize, MigrateError> {
    let applied = check(conn)?;
    for (index, step) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(step)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(index + 1).unwrap_or(i64::MAX),
        )?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.commit()?;
    }
    Ok(MIGRATIONS.len() - applied)
}
