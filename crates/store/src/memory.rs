//! A store in memory, for tests and for `periscope run` without a database.

use crate::{NewRecord, Page, Query, Record, Store, StoreError, StoreStats};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Keeps every record in memory, with the same semantics as the SQLite store.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_seq: u64,
    by_seq: BTreeMap<u64, Record>,
    /// (kind, key) → seq of the record that holds it now.
    keyed: HashMap<(String, String), u64>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
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
                if let Some(old) = inner.keyed.insert((rec.kind.to_string(), key.clone()), seq) {
                    inner.by_seq.remove(&old);
                }
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
