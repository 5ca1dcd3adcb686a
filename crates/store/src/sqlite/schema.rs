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
#[derive(Debug, thiserror::Error)]
pub(crate) enum MigrateError {
    /// The database's version is newer than this build knows.
    #[error("schema version {found} is newer than the {known} this build knows")]
    TooNew { found: i64, known: usize },
    /// The file is a SQLite database of another program.
    #[error("a database of another program (application id {application_id:#x})")]
    Foreign { application_id: i32 },
    /// The driver failed.
    #[error(transparent)]
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
    check_with(conn, MIGRATIONS)
}

fn check_with(conn: &Connection, migrations: &[&str]) -> Result<usize, MigrateError> {
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
    if applied > migrations.len() {
        return Err(MigrateError::TooNew {
            found: version,
            known: migrations.len(),
        });
    }
    Ok(applied)
}

/// Brings the database to the last version of [`MIGRATIONS`]; returns the steps applied.
pub(crate) fn migrate(conn: &mut Connection) -> Result<usize, MigrateError> {
    migrate_with(conn, MIGRATIONS)
}

fn migrate_with(conn: &mut Connection, migrations: &[&str]) -> Result<usize, MigrateError> {
    let applied = check_with(conn, migrations)?;
    for (index, step) in migrations.iter().enumerate().skip(applied) {
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
    Ok(migrations.len() - applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> Result<i64, rusqlite::Error> {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
    }

    #[test]
    fn steps_apply_in_order_once_and_a_failed_step_keeps_the_version_before_it(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let mut conn = Connection::open_in_memory()?;
        let v1 = ["CREATE TABLE a (x INTEGER)"];
        assert_eq!(migrate_with(&mut conn, &v1)?, 1);
        assert_eq!(
            migrate_with(&mut conn, &v1)?,
            0,
            "nothing to do the second time"
        );

        // A later build adds two steps; the first of them depends on step 1's table.
        let v3 = [
            v1[0],
            "ALTER TABLE a ADD COLUMN y TEXT; CREATE INDEX a_y ON a (y)",
            "CREATE TABLE b (z INTEGER)",
        ];
        assert_eq!(migrate_with(&mut conn, &v3)?, 2);
        assert_eq!(version(&conn)?, 3);
        conn.execute("INSERT INTO a (x, y) VALUES (1, 'one')", [])?;

        // A step that fails half-way leaves nothing of itself and the version before it.
        let broken = [
            v3[0],
            v3[1],
            v3[2],
            "CREATE TABLE c (w INTEGER); SELECT * FROM missing",
        ];
        assert!(matches!(
            migrate_with(&mut conn, &broken),
            Err(MigrateError::Sqlite(_))
        ));
        assert_eq!(version(&conn)?, 3);
        let c_exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'c')",
            [],
            |r| r.get(0),
        )?;
        assert!(!c_exists, "the failed step was rolled back");

        // The older build refuses the newer database.
        assert!(matches!(
            migrate_with(&mut conn, &v1),
            Err(MigrateError::TooNew { found: 3, known: 1 })
        ));
        Ok(())
    }
}
