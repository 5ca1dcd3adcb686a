//! The unit the store keeps, and queries over it.

use periscope_model::{Event, Timestamp};

/// An event on its way into the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    /// The event's `"type"` (`attack`, `incident`, `vulnerability`, `endpoint`, `exchange`, `coverage`).
    pub kind: &'static str,
    /// When it happened (capture time): the `since` filter compares with it.
    pub ts: Timestamp,
    /// For events updated as traffic goes on: a later record with the same kind and key replaces
    /// the earlier one.
    pub key: Option<String>,
    /// The event as one JSON object (the NDJSON schema).
    pub json: String,
}

impl NewRecord {
    /// Builds the record of an event: its JSON, its time and its key.
    pub fn from_event(event: &Event) -> Result<NewRecord, serde_json::Error> {
        let (ts, key) = match event {
            Event::Exchange(e) => (e.ts, None),
            Event::Attack(a) => (a.ts, None),
            Event::Coverage(_) => (Timestamp(0), None),
            Event::Endpoint(e) => (
                parse_rfc3339(&e.last_seen),
                Some(format!("{}|{}|{}", e.host, e.method, e.path)),
            ),
            Event::Vulnerability(v) => (v.last_seen, Some(v.key.clone())),
            Event::Incident(i) => (i.last_seen, Some(i.key.clone())),
        };
        Ok(NewRecord {
            kind: event.type_name(),
            ts,
            key,
            json: serde_json::to_string(event)?,
        })
    }
}

/// Reads the RFC 3339 times the endpoint events carry; 0 when unreadable.
fn parse_rfc3339(s: &str) -> Timestamp {
    humantime::parse_rfc3339(s)
        .map(Timestamp::from)
        .unwrap_or_default()
}

/// A kept event.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Sequence number: grows with every append and every update; the pagination cursor.
    pub seq: u64,
    /// The event's `"type"`.
    pub kind: String,
    /// When it happened.
    pub ts: Timestamp,
    /// The event as JSON.
    pub json: String,
}

/// Which records to return.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Only this type, when set.
    pub kind: Option<String>,
    /// Only records whose time is at or after this.
    pub since: Option<Timestamp>,
    /// Only records with a sequence number above this (the cursor of the previous page).
    pub after: Option<u64>,
    /// At most this many (the API caps it).
    pub limit: usize,
}

/// One page of records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Oldest sequence first.
    pub items: Vec<Record>,
    /// Cursor for the next page (`Query::after`), `None` when this page is the last.
    pub next: Option<u64>,
}

/// Counts for `/api/v1/stats` and metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreStats {
    /// Records per type.
    pub records: Vec<(String, u64)>,
    /// Bytes on disk (0 for memory).
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_times_periscope_writes() {
        let t = Timestamp::from_secs_nanos(1_700_000_000, 123_456_000);
        assert_eq!(parse_rfc3339(&t.to_rfc3339()), t);
        assert_eq!(parse_rfc3339("nonsense"), Timestamp(0));
    }
}
