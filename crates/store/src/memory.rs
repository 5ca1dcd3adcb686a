//! A store in memory, for tests and for `periscope run` without a database.

use crate::{NewRecord, Page, Query, Record, Store, StoreError, StoreStats};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Keeps records in memory, with the same semantics as the SQLite store. It holds at most
/// [`max_records`](Self::max_records); past that the oldest (lowest sequence number) are
/// evicted, as SQLite's size retention does, and counted in [`evicted`](Self::evicted).
pub struct MemoryStore {
    inner: Mutex<Inner>,
    max_records: usize,
}

#[derive(Default)]
struct Inner {
    next_seq: u64,
    by_seq: BTreeMap<u64, Record>,
    /// (kind, key) → seq of the record that holds it now.
    keyed: HashMap<(String, String), u64>,
    /// seq → (kind, key) of keyed records, to forget the key when the record is evicted.
    keys_by_seq: HashMap<u64, (String, String)>,
    evicted: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_max_records(Self::DEFAULT_MAX_RECORDS)
    }
}

impl MemoryStore {
    /// Records kept by [`MemoryStore::new`].
    pub const DEFAULT_MAX_RECORDS: usize = 100_000;

    /// An empty store keeping at most [`DEFAULT_MAX_RECORDS`](Self::DEFAULT_MAX_RECORDS).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store keeping at most `max_records` (at least 1).
    pub fn with_max_records(max_records: usize) -> Self {
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            max_records: max_records.max(1),
        }
    }

    /// How many records it keeps at most.
    pub fn max_records(&self) -> usize {
        self.max_records
    }

    /// Records evicted because the store was full.
    pub fn evicted(&self) -> u64 {
        self.inner.lock().map_or(0, |inner| inner.evicted)
    }
}

impl Store for MemoryStore {
    fn append(&self, batch: &[NewRecord]) -> Result<(), StoreError> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| StoreError::Other("poisoned lock".into()))?;
        for rec in batch {
            inner.next_seq += 1;
            let seq = inner.next_seq;
            if let Some(key) = &rec.key {
                let id = (rec.kind.to_string(), key.clone());
                if let Some(old) = inner.keyed.insert(id.clone(), seq) {
                    inner.by_seq.remove(&old);
                    inner.keys_by_seq.remove(&old);
                }
                inner.keys_by_seq.insert(seq, id);
            }
            inner.by_seq.insert(
                seq,
                Record {
                    seq,
                    kind: rec.kind.to_string(),
                    ts: rec.ts,
                    json: rec.json.clone(),
                },
            );
        }
        while inner.by_seq.len() > self.max_records {
            let Some((oldest, _)) = inner.by_seq.pop_first() else {
                break;
            };
            if let Some(id) = inner.keys_by_seq.remove(&oldest) {
                inner.keyed.remove(&id);
            }
            inner.evicted += 1;
        }
        Ok(())
    }

    fn query(&self, q: &Query) -> Result<Page, StoreError> {
        let inner = self
            .inner
            .lock()
            .map_err(|_| StoreError::Other("poisoned lock".into()))?;
        let start = q.after.map_or(0, |a| a.saturating_add(1));
        let mut matching = inner.by_seq.range(start..).map(|(_, r)| r).filter(|r| {
            q.kind.as_deref().is_none_or(|k| r.kind == k) && q.since.is_none_or(|s| r.ts >= s)
        });
        let items: Vec<Record> = matching.by_ref().take(q.limit).cloned().collect();
        let next = match (items.last(), matching.next()) {
            (Some(last), Some(_)) => Some(last.seq),
            _ => None,
        };
        Ok(Page { items, next })
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        let inner = self
            .inner
            .lock()
            .map_err(|_| StoreError::Other("poisoned lock".into()))?;
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for r in inner.by_seq.values() {
            *counts.entry(r.kind.as_str()).or_default() += 1;
        }
        Ok(StoreStats {
            records: counts
                .into_iter()
                .map(|(k, n)| (k.to_string(), n))
                .collect(),
            bytes: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use periscope_model::Timestamp;

    fn rec(kind: &'static str, key: Option<&str>, json: &str) -> NewRecord {
        NewRecord {
            kind,
            ts: Timestamp(1),
            key: key.map(str::to_string),
            json: json.into(),
        }
    }

    #[test]
    fn passes_the_shared_store_checks() -> Result<(), StoreError> {
        crate::testing::check_store(|| Ok(MemoryStore::new()))
    }

    #[test]
    fn evicts_the_oldest_past_its_cap_and_forgets_their_keys() -> Result<(), StoreError> {
        let store = MemoryStore::with_max_records(3);
        store.append(&[rec("incident", Some("k"), "i1"), rec("attack", None, "a1")])?;
        store.append(&[rec("attack", None, "a2"), rec("attack", None, "a3")])?;
        assert_eq!(store.evicted(), 1);
        // The evicted keyed record's key is free again: this is a new record, nothing replaced.
        store.append(&[rec("incident", Some("k"), "i2")])?;
        let page = store.query(&Query {
            limit: 10,
            ..Query::default()
        })?;
        let kept: Vec<&str> = page.items.iter().map(|r| r.json.as_str()).collect();
        assert_eq!(kept, ["a2", "a3", "i2"]);
        assert_eq!(store.evicted(), 2);
        let inner = store
            .inner
            .lock()
            .map_err(|_| StoreError::Other("lock".into()))?;
        assert_eq!(
            (inner.keyed.len(), inner.keys_by_seq.len()),
            (1, 1),
            "no stale keys"
        );
        Ok(())
    }

    #[test]
    fn pages_return_every_record_once_and_updates_move_to_the_end() -> Result<(), StoreError> {
        let store = MemoryStore::new();
        let batch: Vec<_> = (0..5)
            .map(|i| rec("attack", None, &format!("{i}")))
            .collect();
        store.append(&batch)?;
        store.append(&[rec("endpoint", Some("k"), "v1")])?;
        store.append(&[rec("endpoint", Some("k"), "v2")])?;
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store.query(&Query {
                after,
                limit: 2,
                ..Query::default()
            })?;
            seen.extend(page.items.iter().map(|r| r.json.clone()));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ["0", "1", "2", "3", "4", "v2"]);
        Ok(())
    }
}
