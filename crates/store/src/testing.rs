//! Behavioural checks every [`Store`] must pass, shared by the implementations' tests so that a
//! new store (PostgreSQL) is held to the same semantics as [`crate::MemoryStore`] and
//! [`crate::SqliteStore`]:
//!
//! ```
//! # fn main() -> Result<(), periscope_store::StoreError> {
//! periscope_store::testing::check_store(|| Ok(periscope_store::MemoryStore::new()))
//! # }
//! ```
//!
//! Each check gets a new, empty store from the factory and panics (like `assert!`) when the
//! store misbehaves; store errors are returned.

use crate::{NewRecord, Query, Record, Store, StoreError};
use periscope_model::Timestamp;
use std::collections::HashMap;

/// Runs every check below, each on a fresh store from `fresh`.
pub fn check_store<S: Store>(
    mut fresh: impl FnMut() -> Result<S, StoreError>,
) -> Result<(), StoreError> {
    empty_store(&fresh()?)?;
    records_read_back_as_written(&fresh()?)?;
    pages_return_every_record_once(&fresh()?)?;
    next_only_when_more_records_exist(&fresh()?)?;
    filters_by_kind_and_time(&fresh()?)?;
    updates_replace_and_move_to_the_end(&fresh()?)?;
    pages_during_concurrent_appends(&fresh()?)?;
    stats_count_per_kind(&fresh()?)?;
    Ok(())
}

/// A record of `kind` at time `ts` (seconds), with an optional key.
pub fn record(kind: &'static str, ts_secs: u64, key: Option<&str>, json: &str) -> NewRecord {
    NewRecord {
        kind,
        ts: Timestamp::from_secs_nanos(ts_secs, 0),
        key: key.map(str::to_string),
        json: json.to_string(),
    }
}

/// Follows the cursor from the start with pages of `limit`, checking each page's shape.
pub fn read_all(store: &dyn Store, query: &Query) -> Result<Vec<Record>, StoreError> {
    let mut all = Vec::new();
    let mut q = query.clone();
    loop {
        let page = store.query(&q)?;
        assert!(page.items.len() <= q.limit, "page longer than its limit");
        if let Some(next) = page.next {
            assert_eq!(
                Some(next),
                page.items.last().map(|r| r.seq),
                "next is the last seq of the page"
            );
        }
        all.extend(page.items);
        match page.next {
            Some(next) => q.after = Some(next),
            None => return Ok(all),
        }
    }
}

/// No records, no next page, no counts.
pub fn empty_store(store: &dyn Store) -> Result<(), StoreError> {
    let page = store.query(&Query {
        limit: 10,
        ..Query::default()
    })?;
    assert!(page.items.is_empty() && page.next.is_none());
    assert!(store.stats()?.records.is_empty());
    store.append(&[])?;
    assert!(
        store.stats()?.records.is_empty(),
        "an empty batch adds nothing"
    );
    Ok(())
}

/// What goes in comes out: kind, time and JSON byte for byte (quotes, Unicode, SQL), with
/// growing sequence numbers.
pub fn records_read_back_as_written(store: &dyn Store) -> Result<(), StoreError> {
    let batch = [
        record("attack", 1_700_000_000, None, r#"{"a":"x' OR 1=1 --"}"#),
        record("exchange", 1_700_000_001, None, r#"{"t":"é ✓ \u0000"}"#),
        record(
            "endpoint",
            0,
            Some("h|GET|/a'; DROP TABLE events; --"),
            "{}",
        ),
    ];
    store.append(&batch)?;
    let got = read_all(
        store,
        &Query {
            limit: 100,
            ..Query::default()
        },
    )?;
    assert_eq!(got.len(), batch.len());
    for (rec, want) in got.iter().zip(&batch) {
        assert_eq!(
            (rec.kind.as_str(), rec.ts, rec.json.as_str()),
            (want.kind, want.ts, want.json.as_str())
        );
    }
    assert!(got.windows(2).all(|w| w[0].seq < w[1].seq), "seq grows");
    Ok(())
}

/// Every page size from 1 to past the end returns every record once, in order.
pub fn pages_return_every_record_once(store: &dyn Store) -> Result<(), StoreError> {
    let kinds = ["attack", "exchange", "incident"];
    let batch: Vec<_> = (0..23)
        .map(|i| {
            record(
                kinds[i % 3],
                1_000 + i as u64,
                None,
                &format!("{{\"n\":{i}}}"),
            )
        })
        .collect();
    store.append(&batch[..10])?;
    store.append(&batch[10..])?;
    let want: Vec<&str> = batch.iter().map(|r| r.json.as_str()).collect();
    for limit in 1..=25 {
        let got = read_all(
            store,
            &Query {
                limit,
                ..Query::default()
            },
        )?;
        let got: Vec<&str> = got.iter().map(|r| r.json.as_str()).collect();
        assert_eq!(got, want, "pages of {limit}");
    }
    Ok(())
}

/// `next` is set only when another record follows; a cursor past the end and a zero limit give
/// empty pages.
pub fn next_only_when_more_records_exist(store: &dyn Store) -> Result<(), StoreError> {
    let batch: Vec<_> = (0..10)
        .map(|i| record("attack", 1, None, &i.to_string()))
        .collect();
    store.append(&batch)?;
    let first = store.query(&Query {
        limit: 5,
        ..Query::default()
    })?;
    assert_eq!(first.items.len(), 5);
    assert!(first.next.is_some());
    let second = store.query(&Query {
        limit: 5,
        after: first.next,
        ..Query::default()
    })?;
    assert_eq!(second.items.len(), 5);
    assert_eq!(second.next, None, "exactly at the end: no next page");
    let past = store.query(&Query {
        limit: 5,
        after: second.items.last().map(|r| r.seq),
        ..Query::default()
    })?;
    assert!(past.items.is_empty() && past.next.is_none());
    let far = store.query(&Query {
        limit: 5,
        after: Some(u64::MAX),
        ..Query::default()
    })?;
    assert!(far.items.is_empty() && far.next.is_none());
    let zero = store.query(&Query {
        limit: 0,
        ..Query::default()
    })?;
    assert!(zero.items.is_empty() && zero.next.is_none());
    let huge = store.query(&Query {
        limit: usize::MAX,
        ..Query::default()
    })?;
    assert_eq!(huge.items.len(), 10);
    assert_eq!(huge.next, None);
    Ok(())
}

/// `kind` and `since` filter, alone and together, across pages.
pub fn filters_by_kind_and_time(store: &dyn Store) -> Result<(), StoreError> {
    let batch: Vec<_> = (0..30u64)
        .map(|i| {
            let kind = if i % 3 == 0 { "attack" } else { "exchange" };
            record(kind, 100 + i, None, &i.to_string())
        })
        .collect();
    store.append(&batch)?;
    let since = Timestamp::from_secs_nanos(115, 0);
    for (kind, since) in [
        (Some("attack"), None),
        (None, Some(since)),
        (Some("attack"), Some(since)),
        (Some("vulnerability"), None),
    ] {
        let got = read_all(
            store,
            &Query {
                kind: kind.map(str::to_string),
                since,
                limit: 4,
                ..Query::default()
            },
        )?;
        let want: Vec<&str> = batch
            .iter()
            .filter(|r| kind.is_none_or(|k| r.kind == k) && since.is_none_or(|s| r.ts >= s))
            .map(|r| r.json.as_str())
            .collect();
        let got: Vec<&str> = got.iter().map(|r| r.json.as_str()).collect();
        assert_eq!(got, want, "kind {kind:?} since {since:?}");
    }
    Ok(())
}

/// A keyed record replaces the earlier one of the same kind and key and takes a new, higher
/// sequence number, so a client that already paged past the old one sees the update. The same
/// key under another kind, and records without a key, are separate records.
pub fn updates_replace_and_move_to_the_end(store: &dyn Store) -> Result<(), StoreError> {
    store.append(&[
        record("vulnerability", 10, Some("k1"), "v1"),
        record("incident", 10, Some("k1"), "i1"),
        record("attack", 10, None, "a1"),
        record("vulnerability", 10, Some("k2"), "w1"),
    ])?;
    let before = read_all(
        store,
        &Query {
            limit: 2,
            ..Query::default()
        },
    )?;
    let cursor = before.last().map(|r| r.seq);
    store.append(&[
        record("vulnerability", 20, Some("k1"), "v2"),
        record("attack", 20, None, "a1"),
    ])?;
    // Two updates of one key in one batch: the last wins.
    store.append(&[
        record("vulnerability", 30, Some("k2"), "w2"),
        record("vulnerability", 31, Some("k2"), "w3"),
    ])?;
    let after = read_all(
        store,
        &Query {
            limit: 2,
            after: cursor,
            ..Query::default()
        },
    )?;
    let after: Vec<&str> = after.iter().map(|r| r.json.as_str()).collect();
    assert_eq!(after, ["v2", "a1", "w3"], "the updates follow the cursor");
    // Updating the newest record still moves it past a cursor that points at it (a store
    // that reuses the number of a deleted newest row fails this).
    let newest = store.query(&Query {
        after: cursor,
        limit: 100,
        ..Query::default()
    })?;
    let newest_seq = newest.items.last().map(|r| r.seq);
    store.append(&[record("vulnerability", 32, Some("k2"), "w4")])?;
    let page = store.query(&Query {
        after: newest_seq,
        limit: 100,
        ..Query::default()
    })?;
    let page: Vec<&str> = page.items.iter().map(|r| r.json.as_str()).collect();
    assert_eq!(
        page,
        ["w4"],
        "an update of the newest record follows its cursor"
    );
    let all = read_all(
        store,
        &Query {
            limit: 100,
            ..Query::default()
        },
    )?;
    let all: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.kind.as_str(), r.json.as_str()))
        .collect();
    assert_eq!(
        all,
        [
            ("incident", "i1"),
            ("attack", "a1"),
            ("vulnerability", "v2"),
            ("attack", "a1"),
            ("vulnerability", "w4"),
        ]
    );
    Ok(())
}

/// A client paging while batches are appended sees every record exactly once: the pages it
/// has read never gain a record behind its cursor.
pub fn pages_during_concurrent_appends(store: &dyn Store) -> Result<(), StoreError> {
    const BATCHES: usize = 50;
    const PER_BATCH: usize = 20;
    store.append(&[record("attack", 1, None, "before")])?;
    let mut seen: Vec<String> = Vec::new();
    let writer_result = std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Result<(), StoreError> {
            for b in 0..BATCHES {
                let batch: Vec<_> = (0..PER_BATCH)
                    .map(|i| record("attack", 2, None, &format!("{b}-{i}")))
                    .collect();
                store.append(&batch)?;
                std::thread::yield_now();
            }
            Ok(())
        });
        let mut after = None;
        // Page until the writer is done and the last page said there is nothing more.
        loop {
            let done = writer.is_finished();
            let page = store.query(&Query {
                after,
                limit: 7,
                ..Query::default()
            })?;
            seen.extend(page.items.iter().map(|r| r.json.clone()));
            if let Some(last) = page.items.last() {
                after = Some(last.seq);
            }
            if page.next.is_none() && done {
                break;
            }
            if page.next.is_none() {
                std::thread::yield_now();
            }
        }
        writer
            .join()
            .unwrap_or_else(|_| Err(StoreError::Other("writer thread panicked".into())))
    });
    writer_result?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for json in &seen {
        *counts.entry(json.as_str()).or_default() += 1;
    }
    assert_eq!(seen.len(), 1 + BATCHES * PER_BATCH, "every record once");
    assert!(counts.values().all(|&n| n == 1), "no record twice");
    assert_eq!(seen.first().map(String::as_str), Some("before"));
    Ok(())
}

/// Counts per kind follow appends and updates.
pub fn stats_count_per_kind(store: &dyn Store) -> Result<(), StoreError> {
    store.append(&[
        record("attack", 1, None, "a"),
        record("attack", 1, None, "b"),
        record("endpoint", 1, Some("e"), "e1"),
    ])?;
    store.append(&[record("endpoint", 2, Some("e"), "e2")])?;
    let mut counts = store.stats()?.records;
    counts.sort();
    assert_eq!(
        counts,
        [("attack".to_string(), 2), ("endpoint".to_string(), 1)]
    );
    Ok(())
}

/// The record of a realistic attack event (SQL injection with its evidence, about 600 bytes of
/// JSON), the `n`th of a run: for benchmarks and size tests.
pub fn sample_attack(n: u64) -> Result<NewRecord, StoreError> {
    use periscope_model::{Attack, Endpoint, Event, Outcome};
    use std::net::{IpAddr, Ipv4Addr};
    let octet = (n % 250) as u8;
    let attack = Attack {
        exchange_id: n,
        ts: Timestamp::from_secs_nanos(1_764_950_400 + n / 100, (n % 100) as u32 * 10_000_000),
        client: Endpoint::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, octet)), 40_000 + (n % 20_000) as u16),
        server: Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 8)), 443),
        class: "sqli".into(),
        point: "query.id".into(),
        rule: "sqli.union_select".into(),
        excerpt: format!("1 UNION SELECT username,password FROM users WHERE id={n}--"),
        score: 0.93,
        outcome: Outcome::Succeeded,
        evidence: Some(
            "You have an error in your SQL syntax; check the manual that corresponds to your \
             MySQL server version for the right syntax to use near 'UNION SELECT' at line 1"
                .into(),
        ),
        method: "GET".into(),
        target: format!(
            "/shop/product.php?id=1%20UNION%20SELECT%20username,password%20FROM%20users%20WHERE%20id={n}--&sort=price"
        ),
        status: Some(500),
    };
    NewRecord::from_event(&Event::Attack(Box::new(attack)))
        .map_err(|e| StoreError::Other(format!("serializing the sample attack: {e}")))
}
