//! Open incidents and when to emit them.
//!
//! An incident is emitted when it opens (once its count reaches the kind's minimum), again with
//! the same key as it grows — at most every `reemit` of capture time, or at once when its
//! severity or outcome changes — and a last time when it closes (no addition for `idle_gap`)
//! if it changed since it was last emitted. A reader therefore sees a handful of lines per
//! incident however many requests it spans. The table is an LRU with a cap: when full, the
//! least recently updated incident is closed early (emitted if it changed).

use lru::LruCache;
use periscope_model::{Event, Incident, Outcome, Severity, Timestamp};
use std::num::NonZeroUsize;
use std::time::Duration;

/// What one request or hit adds to an incident.
pub struct Contribution<'a> {
    /// Time of the request.
    pub ts: Timestamp,
    /// The exchange (none for a change that is not a request).
    pub exchange_id: Option<u64>,
    /// A target to list (path, account, id), if any.
    pub target: Option<&'a str>,
    /// How much `count` grows.
    pub count: u64,
    /// When what opens the incident began (the oldest entry of the detector's window), if
    /// earlier than `ts`.
    pub since: Option<Timestamp>,
}

struct Open {
    incident: Incident,
    /// Emit only once `count` reaches this.
    min_count: u64,
    emitted: Option<Emitted>,
    /// Changed since last emitted.
    dirty: bool,
}

#[derive(Clone, Copy)]
struct Emitted {
    at: Timestamp,
    count: u64,
    severity: Severity,
    outcome: Option<Outcome>,
}

/// The open incidents, keyed by [`Incident::key`].
pub struct Tracker {
    open: LruCache<String, Open>,
    idle_gap: Duration,
    reemit: Duration,
    max_targets: usize,
    max_exchange_ids: usize,
    /// Incident events emitted so far.
    pub emitted: u64,
    /// Incidents closed early because the table was full.
    pub evicted: u64,
}

impl Tracker {
    /// An empty table.
    pub fn new(
        cap: NonZeroUsize,
        idle_gap: Duration,
        reemit: Duration,
        max_targets: usize,
        max_exchange_ids: usize,
    ) -> Self {
        Tracker {
            open: LruCache::new(cap),
            idle_gap,
            reemit,
            max_targets,
            max_exchange_ids,
            emitted: 0,
            evicted: 0,
        }
    }

    /// True when an incident with this key is open and was added to within the idle gap
    /// before `now` (a stale one is closed by the next [`Tracker::add`] or sweep).
    pub fn is_open(&self, key: &str, now: Timestamp) -> bool {
        self.open
            .peek(key)
            .is_some_and(|o| now.since(o.incident.last_seen) <= self.idle_gap)
    }

    /// Open incidents.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Heap bytes held by the open incidents (an estimate: entries and their strings).
    pub fn memory_estimate(&self) -> usize {
        self.open
            .iter()
            .map(|(k, o)| {
                let i = &o.incident;
                std::mem::size_of::<Open>()
                    + 2 * 8
                    + 8
                    + k.capacity()
                    + i.kind.capacity()
                    + i.client.capacity()
                    + i.host.capacity()
                    + i.summary.capacity()
                    + i.key.capacity()
                    + i.targets.iter().map(|t| t.capacity() + 24).sum::<usize>()
                    + i.classes.iter().map(|t| t.capacity() + 24).sum::<usize>()
                    + i.exchange_ids.capacity() * 8
            })
            .sum()
    }

    /// True when no incident is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Adds `c` to the incident `key` (opening it with `open()` when it is not open: `open`
    /// returns the incident with its kind, client, host …, and the count at which it is first
    /// emitted), lets `update` adjust it (summary, severity, outcome, classes), and emits it when
    /// due.
    pub fn add(
        &mut self,
        key: &str,
        c: Contribution<'_>,
        open: impl FnOnce() -> (Incident, u64),
        update: impl FnOnce(&mut Incident),
        out: &mut Vec<Event>,
    ) {
        // Idle for longer than the gap (not swept yet: sweeps run on the clock, which a
        // reordered or jumping capture may not have moved): that incident is over.
        if !self.is_open(key, c.ts) {
            if let Some(stale) = self.open.pop(key) {
                self.close(stale, out);
            }
        }
        if !self.open.contains(key) {
            if self.open.len() == self.open.cap().get() {
                if let Some((_, old)) = self.open.pop_lru() {
                    self.evicted += 1;
                    self.close(old, out);
                }
            }
            let (mut incident, min_count) = open();
            incident.key = key.to_string();
            incident.first_seen = c.since.map_or(c.ts, |s| s.min(c.ts));
            incident.last_seen = c.ts;
            self.open.put(
                key.to_string(),
                Open {
                    incident,
                    min_count,
                    emitted: None,
                    dirty: true,
                },
            );
        }
        let Some(o) = self.open.get_mut(key) else {
            return;
        };
        let inc = &mut o.incident;
        inc.count = inc.count.saturating_add(c.count);
        inc.first_seen = inc.first_seen.min(c.ts);
        inc.last_seen = inc.last_seen.max(c.ts);
        if let Some(t) = c.target {
            if inc.targets.len() < self.max_targets && !inc.targets.iter().any(|x| x == t) {
                inc.targets.push(t.to_string());
            }
        }
        if let Some(id) = c.exchange_id {
            if inc.exchange_ids.len() < self.max_exchange_ids && !inc.exchange_ids.contains(&id) {
                inc.exchange_ids.push(id);
            }
        }
        update(inc);
        o.dirty = true;
        let due = match o.emitted {
            _ if inc.count < o.min_count => false,
            None => true,
            Some(e) => {
                e.severity != inc.severity
                    || e.outcome != inc.outcome
                    || (e.count != inc.count && c.ts.since(e.at) >= self.reemit)
            }
        };
        if due {
            Self::emit(o, c.ts, out);
            self.emitted += 1;
        }
    }

    /// Changes an open incident without counting a request (e.g. a success noted after failures).
    pub fn touch(
        &mut self,
        key: &str,
        ts: Timestamp,
        update: impl FnOnce(&mut Incident),
        out: &mut Vec<Event>,
    ) {
        if !self.is_open(key, ts) {
            return;
        }
        self.add(
            key,
            Contribution {
                ts,
                exchange_id: None,
                target: None,
                count: 0,
                since: None,
            },
            unreachable_open,
            update,
            out,
        );
    }

    fn emit(o: &mut Open, now: Timestamp, out: &mut Vec<Event>) {
        o.emitted = Some(Emitted {
            at: now,
            count: o.incident.count,
            severity: o.incident.severity,
            outcome: o.incident.outcome,
        });
        o.dirty = false;
        out.push(Event::Incident(Box::new(o.incident.clone())));
    }

    fn close(&mut self, mut o: Open, out: &mut Vec<Event>) {
        if o.dirty && o.incident.count >= o.min_count {
            let at = o.incident.last_seen;
            Self::emit(&mut o, at, out);
            self.emitted += 1;
        }
    }

    /// Closes the incidents with nothing added for the idle gap before `now`.
    pub fn sweep(&mut self, now: Timestamp, out: &mut Vec<Event>) {
        // LRU order is update order, which is time order up to small reordering: stop at the
        // first incident that is still active.
        while let Some((_, o)) = self.open.peek_lru() {
            if now.since(o.incident.last_seen) <= self.idle_gap {
                break;
            }
            if let Some((_, o)) = self.open.pop_lru() {
                self.close(o, out);
            }
        }
    }

    /// Closes every open incident (end of input).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        while let Some((_, o)) = self.open.pop_lru() {
            self.close(o, out);
        }
    }
}

/// `touch` only runs on open incidents, so its opener is never called; this one returns a
/// placeholder rather than panicking.
fn unreachable_open() -> (Incident, u64) {
    (blank("unknown"), u64::MAX)
}

/// How long an incident has lasted, for summaries: `in 12 s`, `in 7 min`, `in 2 h`.
pub fn span(inc: &Incident) -> String {
    let s = inc.last_seen.since(inc.first_seen).as_secs();
    match s {
        0..=119 => format!("in {s} s"),
        120..=7199 => format!("in {} min", s / 60),
        _ => format!("in {} h", s / 3600),
    }
}

/// An incident of `kind` with empty fields, for openers to fill in.
pub fn blank(kind: &str) -> Incident {
    Incident {
        kind: kind.to_string(),
        severity: Severity::Medium,
        client: String::new(),
        client_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        host: String::new(),
        targets: Vec::new(),
        classes: Vec::new(),
        summary: String::new(),
        count: 0,
        first_seen: Timestamp::default(),
        last_seen: Timestamp::default(),
        exchange_ids: Vec::new(),
        outcome: None,
        key: String::new(),
    }
}
