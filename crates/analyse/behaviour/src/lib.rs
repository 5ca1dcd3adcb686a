//! Behavioural incidents: what only shows across many requests.
//!
//! [`Behaviour`] sees every exchange of a run with the attacks detection found in it, in roughly
//! time order, and emits [`Incident`] events (`{"type":"incident", ...}`):
//!
//! | kind | keyed by | raised when (defaults in [`BehaviourConfig`]) |
//! |---|---|---|
//! | `attack` | source IP, host, class | attack hits of one class (from the first hit) |
//! | `campaign` | source IP | its attacks span ≥ 2 classes or ≥ 2 hosts |
//! | `forced_browsing` | source IP, host | ≥ 20 distinct paths answered 404/403/401/410 in 5 min |
//! | `brute_force` | host, account | ≥ 8 failed logins for one account in 10 min, any source |
//! | `credential_stuffing` | source IP, or fingerprint | failed logins for ≥ 6 accounts from one IP, or ≥ 20 from one User-Agent + header-order fingerprint across ≥ 2 IPs, in 10 min |
//! | `bola` | user, host, endpoint | one authenticated user reads ≥ 25 distinct ids of one templated endpoint in 10 min, mostly 2xx |
//! | `scanner` | source IP | a tool's User-Agent or interaction domain, or ≥ 30 paths answered 4xx plus ≥ 3 attack classes in 5 min |
//!
//! "Source IP" is the real client address (behind a configured trusted proxy, the one it
//! forwarded for), IPv6 grouped per /64; "user" is the JWT subject, session, API key or Basic
//! user. Which identity each kind uses, and why, is described in [`identity`]; `brute_force`
//! is keyed by the account attacked, whoever tries it. Every incident is emitted when it
//! opens, again (same `key`) as it grows — at most once a minute unless its severity or outcome
//! changes — and once more when it closes after 10 idle minutes if it changed: a text reader
//! sees a few lines per incident, not one per request (see [`incidents`]).
//!
//! Time is capture time: `tick` and the exchanges' timestamps move the clock, never the wall
//! clock. Every table keyed by traffic is an LRU with a cap ([`BehaviourConfig`]`::max_*`);
//! [`Behaviour::stats`] counts evictions.
//!
//! ```
//! use periscope_behaviour::{Behaviour, BehaviourConfig};
//! let mut b = Behaviour::new(BehaviourConfig::default())?;
//! let mut out = Vec::new();
//! b.finish(&mut out);
//! assert!(out.is_empty());
//! # Ok::<(), periscope_behaviour::ConfigError>(())
//! ```
//!
//! **BOLA limits.** Without seeing the application's authorization rules, "objects owned by
//! others" is approximated: a user reading far more distinct ids of one endpoint than users do,
//! mostly with 2xx. Object owners are learned (the first ordinary user that reads an object) and
//! the summary says how many of the walked ids were seen read by someone else, but an admin or a
//! support tool that legitimately reads many objects looks the same, and a walker of public,
//! unauthenticated pages (a crawler of `/products/{id}`) is deliberately not reported: only
//! requests that carry a user identity (JWT, session, API key, Basic) count.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod bola;
mod browsing;
mod config;
mod credentials;
mod error;
mod grouping;
pub mod identity;
pub mod incidents;
pub mod login;
pub mod paths;
pub mod scanner;
pub mod window;

pub use config::{BehaviourConfig, MAX_THRESHOLD};
pub use error::ConfigError;

use identity::{hash_of, Cidr, ClientResolver};
use incidents::{blank, Tracker};
use login::{login_attempt, LoginLearner};
use lru::LruCache;
use periscope_model::{Attack, Event, Exchange, Incident, Severity, Timestamp};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::time::Duration;
use window::DistinctWindow;

/// What is remembered about one source address.
#[derive(Default)]
struct SourceState {
    /// Distinct missing paths (forced browsing).
    missing: DistinctWindow,
    /// Distinct accounts with failed logins (credential stuffing).
    failed_accounts: DistinctWindow,
    /// Distinct paths answered 4xx (scanner behaviour).
    error_paths: DistinctWindow,
    /// Distinct attack classes (scanner behaviour).
    classes: DistinctWindow,
    /// Recent attacks, for campaigns; allocated at the first attack.
    attacks: Option<Box<grouping::AttackHistory>>,
    /// A scanner incident was opened for this source (it may have closed since).
    scanner: bool,
}

/// Counters of what the analyser did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BehaviourStats {
    /// Exchanges seen.
    pub exchanges: u64,
    /// Attack hits seen.
    pub attack_hits: u64,
    /// Incident events emitted.
    pub incidents_emitted: u64,
    /// Source addresses evicted from the full table.
    pub evicted_sources: u64,
    /// Accounts evicted.
    pub evicted_accounts: u64,
    /// Fingerprints evicted.
    pub evicted_fingerprints: u64,
    /// (user, endpoint) walkers evicted.
    pub evicted_walkers: u64,
    /// Object owners evicted.
    pub evicted_owners: u64,
    /// Login endpoints evicted.
    pub evicted_login_endpoints: u64,
    /// Open incidents closed early because their table was full.
    pub evicted_incidents: u64,
    /// Exchange times more than an hour ahead of the clock that no other exchange confirmed
    /// (the clock did not follow them).
    pub clock_outliers: u64,
}

/// Sizes of the tables, for tests and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TableSizes {
    /// Source addresses followed.
    pub sources: usize,
    /// Accounts followed.
    pub accounts: usize,
    /// Fingerprints followed.
    pub fingerprints: usize,
    /// (user, endpoint) walkers followed.
    pub walkers: usize,
    /// Object owners remembered.
    pub owners: usize,
    /// Login endpoints whose failure page is being learned.
    pub login_endpoints: usize,
    /// Open incidents.
    pub open_incidents: usize,
}

/// The behavioural analyser. See the crate docs.
pub struct Behaviour {
    cfg: BehaviourConfig,
    resolver: ClientResolver,
    sources: LruCache<IpAddr, SourceState>,
    accounts: LruCache<u64, credentials::AccountState>,
    fingerprints: LruCache<u64, credentials::FingerprintState>,
    walkers: LruCache<u64, bola::WalkerState>,
    tools: scanner::ToolMatcher,
    owners: LruCache<u64, u64>,
    logins: LoginLearner,
    tracker: Tracker,
    clock: Timestamp,
    /// A time far ahead of the clock, waiting for a second exchange to confirm it.
    pending_jump: Option<Timestamp>,
    next_sweep: Timestamp,
    stats: BehaviourStats,
}

/// The largest forward jump of capture time taken from a single exchange.
const MAX_CLOCK_JUMP: Duration = Duration::from_secs(3600);

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Puts `v` under `k`, counting an eviction when the table was full.
fn put<K: std::hash::Hash + Eq, V>(t: &mut LruCache<K, V>, k: K, v: V, evicted: &mut u64) {
    // Callers put only absent keys, so anything `push` returns was evicted.
    if t.push(k, v).is_some() {
        *evicted += 1;
    }
}

/// Gets the entry of `k`, creating it (and evicting the least recently used one) if needed.
fn entry<'a, K: std::hash::Hash + Eq + Clone, V: Default>(
    t: &'a mut LruCache<K, V>,
    k: &K,
    evicted: &mut u64,
) -> &'a mut V {
    if !t.contains(k) {
        put(t, k.clone(), V::default(), evicted);
    }
    t.get_or_insert_mut(k.clone(), V::default)
}

impl Behaviour {
    /// Builds the analyser; fails with the name of the bad key.
    pub fn new(cfg: BehaviourConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let trusted = cfg
            .trusted_proxies
            .iter()
            .filter_map(|p| Cidr::parse(p).ok())
            .collect();
        Ok(Behaviour {
            resolver: ClientResolver::new(trusted),
            sources: LruCache::new(nz(cfg.max_sources)),
            accounts: LruCache::new(nz(cfg.max_accounts)),
            fingerprints: LruCache::new(nz(cfg.max_fingerprints)),
            walkers: LruCache::new(nz(cfg.max_object_walkers)),
            owners: LruCache::new(nz(cfg.max_object_owners)),
            logins: LoginLearner::new(nz(cfg.max_login_endpoints)),
            tools: scanner::ToolMatcher::new(),
            tracker: Tracker::new(
                nz(cfg.max_open_incidents),
                secs(cfg.idle_gap_secs),
                secs(cfg.reemit_secs),
                cfg.max_targets,
                cfg.max_exchange_ids,
            ),
            clock: Timestamp::default(),
            pending_jump: None,
            next_sweep: Timestamp::default(),
            stats: BehaviourStats::default(),
            cfg,
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> BehaviourStats {
        BehaviourStats {
            incidents_emitted: self.tracker.emitted,
            evicted_incidents: self.tracker.evicted,
            evicted_login_endpoints: self.logins.evicted,
            ..self.stats
        }
    }

    /// Entries in each table.
    pub fn table_sizes(&self) -> TableSizes {
        TableSizes {
            sources: self.sources.len(),
            accounts: self.accounts.len(),
            fingerprints: self.fingerprints.len(),
            walkers: self.walkers.len(),
            owners: self.owners.len(),
            login_endpoints: self.logins.len(),
            open_incidents: self.tracker.len(),
        }
    }

    /// An estimate of the heap the tables hold, in bytes: entries (key, value and the LRU's
    /// node and index overhead) plus the windows' buffers. Walks every table: for tests and
    /// occasional metrics, not per request.
    pub fn memory_estimate(&self) -> usize {
        // lru::LruCache: a boxed node (key, value, two pointers) plus a hash-map slot (pointer
        // key and value, control byte) per entry.
        const NODE: usize = 2 * 8 + 8 + 8 + 1;
        fn table<K, V>(t: &LruCache<K, V>, heap: impl Fn(&V) -> usize) -> usize
        where
            K: std::hash::Hash + Eq,
        {
            t.cap().get().min(t.len().next_power_of_two()) * 17
                + t.iter()
                    .map(|(_, v)| {
                        std::mem::size_of::<K>() + std::mem::size_of::<V>() + NODE + heap(v)
                    })
                    .sum::<usize>()
        }
        table(&self.sources, |s| {
            s.missing.heap_bytes()
                + s.failed_accounts.heap_bytes()
                + s.error_paths.heap_bytes()
                + s.classes.heap_bytes()
                + s.attacks.as_ref().map_or(0, |a| {
                    std::mem::size_of::<grouping::AttackHistory>()
                        + (a.classes.capacity() + a.hosts.capacity()) * 48
                })
        }) + table(&self.accounts, |a| {
            a.failures.heap_bytes() + a.sources.capacity() * 17
        }) + table(&self.fingerprints, |f| {
            f.accounts.heap_bytes() + f.ips.heap_bytes()
        }) + table(&self.walkers, |w| w.ids.heap_bytes())
            + table(&self.owners, |_| 0)
            + self.logins.memory_estimate()
            + self.tracker.memory_estimate()
    }

    /// Looks at one exchange and the attacks detection found in it.
    pub fn on_exchange(&mut self, ex: &Exchange, attacks: &[Attack], out: &mut Vec<Event>) {
        self.stats.exchanges += 1;
        let ts = ex.ts;
        self.advance_by_exchange(ts, out);
        let Some(req) = &ex.request else {
            return;
        };
        let ip = self.resolver.source_ip(ex);
        let source = identity::Source::of(ip, self.cfg.ipv6_source_prefix);
        let host = paths::host(ex);
        let path = paths::path(&req.target);
        let status = ex.response.as_ref().map(|r| r.status);
        let ctx = Ctx {
            ex,
            req,
            ts,
            ip,
            src: source.addr,
            src_label: source,
            host: &host,
            path,
            status,
        };

        for a in attacks {
            self.stats.attack_hits += 1;
            self.on_attack(&ctx, a, out);
        }
        let attempt = login_attempt(req);
        if let Some(attempt) = &attempt {
            let endpoint = hash_of((&host, path));
            let result = self
                .logins
                .judge(endpoint, attempt, req, ex.response.as_ref());
            self.on_login(&ctx, attempt, result, out);
        } else {
            self.on_missing_path(&ctx, out);
        }
        self.on_object_read(&ctx, out);
        self.on_scanner(&ctx, attacks, out);
    }

    /// Capture time has reached `now`: closes the incidents that went idle.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Event>) {
        self.advance(now, out);
    }

    /// End of input: emits every open incident that changed since it was last emitted.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.tracker.finish(out);
    }

    /// Moves the clock to an exchange's time. A jump of more than an hour is believed only when
    /// the next exchange confirms it (within a minute): one packet with a broken timestamp must
    /// not close every incident and make them reopen, line after line.
    fn advance_by_exchange(&mut self, ts: Timestamp, out: &mut Vec<Event>) {
        if self.clock != Timestamp::default() && ts > self.clock.plus(MAX_CLOCK_JUMP) {
            match self.pending_jump {
                Some(p)
                    if ts.since(p) <= Duration::from_secs(60)
                        && p.since(ts) <= Duration::from_secs(60) =>
                {
                    self.pending_jump = None;
                }
                _ => {
                    self.pending_jump = Some(ts);
                    self.stats.clock_outliers += 1;
                    return;
                }
            }
        } else {
            self.pending_jump = None;
        }
        self.advance(ts, out);
    }

    fn advance(&mut self, now: Timestamp, out: &mut Vec<Event>) {
        self.clock = self.clock.max(now);
        if self.clock >= self.next_sweep {
            self.tracker.sweep(self.clock, out);
            self.next_sweep = self.clock.plus(Duration::from_secs(1));
        }
    }

    fn source(&mut self, ip: IpAddr) -> &mut SourceState {
        entry(&mut self.sources, &ip, &mut self.stats.evicted_sources)
    }
}

/// The exchange being looked at, with what every detector needs.
struct Ctx<'a> {
    ex: &'a Exchange,
    req: &'a periscope_model::Request,
    ts: Timestamp,
    /// The client's address.
    ip: IpAddr,
    /// What per-source state and keys use: the address, or its IPv6 network.
    src: IpAddr,
    /// `src` as shown in keys and summaries.
    src_label: identity::Source,
    host: &'a str,
    path: &'a str,
    status: Option<u16>,
}

impl Ctx<'_> {
    fn req(&self) -> &periscope_model::Request {
        self.req
    }

    /// A new incident of `kind` for this source.
    fn incident(&self, kind: &str, severity: Severity, classes: Vec<String>) -> Incident {
        Incident {
            severity,
            client: format!("ip:{}", self.src_label),
            client_ip: self.ip,
            host: self.host.to_string(),
            classes,
            ..blank(kind)
        }
    }
}

#[cfg(test)]
mod tests;
