//! Where events are kept: the [`Store`] interface shared by the sensor daemon (which appends) and
//! the REST API (which reads), and its implementations — [`SqliteStore`] (embedded, the default)
//! and [`MemoryStore`] (tests, and runs without a database). A PostgreSQL store, for many sensors
//! sharing one database, goes behind the same interface; [`sqlite`] says what it would need and
//! [`testing`] holds the behavioural checks every store must pass.
//!
//! Events are kept as their JSON (the NDJSON schema of `periscope analyze`), with the columns a
//! query filters on. Every stored record gets a sequence number that only grows; it is the
//! pagination cursor, so a client that follows `next` sees every record once. Events with a key
//! (endpoints, vulnerabilities, incidents: things that are updated as traffic goes on) replace the
//! earlier record with the same type and key and take a new sequence number, so a client
//! following the cursor sees the update.
//!
//! Limits: [`SqliteStore`] keeps what its retention settings allow (age, file size;
//! [`SqliteStore::enforce_retention`]); [`MemoryStore`] keeps a fixed number of records.
//!
//! ```
//! use periscope_store::{testing::record, Query, SqliteConfig, SqliteStore, Store};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("events.db"), SqliteConfig::default())?;
//! store.append(&[
//!     record("attack", 1_700_000_000, None, r#"{"type":"attack"}"#),
//!     record("incident", 1_700_000_000, Some("scan|203.0.113.9"), r#"{"type":"incident"}"#),
//! ])?;
//! let page = store.query(&Query { kind: Some("attack".into()), limit: 100, ..Query::default() })?;
//! assert_eq!(page.items.len(), 1);
//! assert_eq!(page.next, None);
//! # Ok(())
//! # }
//! ```

mod memory;
mod record;
pub mod sqlite;
pub mod testing;

pub use memory::MemoryStore;
pub use record::{NewRecord, Page, Query, Record, StoreStats};
pub use sqlite::{RetentionReport, SqliteConfig, SqliteStore};

/// What went wrong in a store. The daemon logs it, counts it and retries; it never drops a
/// batch it accepted because of it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database is busy or locked by another process; try again later.
    #[error("store busy: {0}")]
    Busy(String),
    /// The disk is full or a size limit was hit.
    #[error("store full: {0}")]
    Full(String),
    /// The database file is damaged or not a database.
    #[error("store corrupt: {0}")]
    Corrupt(String),
    /// A query asked for something invalid (bad cursor, unknown type).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// Anything else (I/O, driver).
    #[error("store error: {0}")]
    Other(String),
}

/// Events in, pages of events out. Implementations are shared between threads (the daemon's
/// writer and the API's handlers), so every method takes `&self`.
pub trait Store: Send + Sync {
    /// Appends a batch atomically: either every record is kept or none (and the error says why).
    fn append(&self, batch: &[NewRecord]) -> Result<(), StoreError>;
    /// Records matching `query`, oldest sequence first, and the cursor of the next page.
    fn query(&self, query: &Query) -> Result<Page, StoreError>;
    /// Record counts per type and the size on disk.
    fn stats(&self) -> Result<StoreStats, StoreError>;
}
