//! SQLite errors turned into [`StoreError`]s a person can act on: each message names the file
//! and says what to do.

use crate::StoreError;
use rusqlite::ErrorCode;
use std::path::Path;

/// Maps a driver error met while working on the database at `path`.
pub(crate) fn store_error(path: &Path, err: rusqlite::Error) -> StoreError {
    let file = path.display();
    let Some(code) = err.sqlite_error_code() else {
        return StoreError::Other(format!("{file}: {err}"));
    };
    match code {
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy(format!(
            "{file} is locked by another process or connection ({err}); nothing was written: \
             try again later, and check that no other program keeps a transaction open on this \
             file"
        )),
        ErrorCode::DiskFull => StoreError::Full(format!(
            "the disk holding {file} is full ({err}); nothing was written: free space or lower \
             the store's retention (max bytes / max age)"
        )),
        ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreError::Corrupt(format!(
            "{file} is damaged or is not a SQLite database ({err}): stop Periscope, move the file \
             aside (with its -wal and -shm files) so a new one is created, or restore a backup; \
             `sqlite3 FILE .recover` can salvage rows from a damaged database"
        )),
        ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied => {
            StoreError::Other(format!(
                "cannot write {file} ({err}): the file or its directory is read-only or missing; \
                 the store needs to write the file and its -wal and -shm files beside it"
            ))
        }
        ErrorCode::SystemIoFailure => StoreError::Other(format!(
            "I/O error on {file} ({err}, extended code {}): check the disk and the kernel log",
            extended_code(&err)
        )),
        _ => StoreError::Other(format!("{file}: {err}")),
    }
}

fn extended_code(err: &rusqlite::Error) -> i32 {
    match err {
        rusqlite::Error::SqliteFailure(e, _) => e.extended_code,
        _ => 0,
    }
}
