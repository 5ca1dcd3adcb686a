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
//! Which identity each kind uses is described in [`identity`]. Every incident is emitted when it
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

mod config;
mod error;
pub mod identity;
pub mod incidents;
pub mod login;
pub mod paths;
pub mod scanner;
pub mod window;

pub use config::{BehaviourConfig, MAX_THRESHOLD};
pub use error::ConfigError;

use identity::{hash_of, Cidr, ClientResolver};
use incidents::{blank, Contribution, Tracker};
use login::{login_attempt, LoginLearner, LoginResult};
use lru::LruCache;
use periscope_model::{Attack, Event, Exchange, Incident, Outcome, Severity, Timestamp};
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
    attacks: Option<Box<AttackHistory>>,
}

/// Classes and hosts a source attacked recently.
#[derive(Default)]
struct AttackHistory {
    classes: Vec<(String, Timestamp)>,
    hosts: Vec<(String, Timestamp)>,
    hits: u64,
    worst: Option<Outcome>,
}

/// Classes and hosts remembered per source for campaigns.
const MAX_HISTORY: usize = 32;

/// What is remembered about one account.
#[derive(Default)]
struct AccountState {
    failures: DistinctWindow,
    sources: Vec<IpAddr>,
}

/// Source addresses listed per account.
const MAX_ACCOUNT_SOURCES: usize = 8;

/// What is remembered about one client fingerprint.
#[derive(Default)]
struct FingerprintState {
    accounts: DistinctWindow,
    ips: DistinctWindow,
}

/// One user on one templated endpoint.
#[derive(Default)]
struct WalkerState {
    ids: DistinctWindow,
    requests: u32,
    ok: u32,
    foreign: u32,
    sequential: u32,
    last_id: Option<u64>,
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
    accounts: LruCache<u64, AccountState>,
    fingerprints: LruCache<u64, FingerprintState>,
    walkers: LruCache<u64, WalkerState>,
    owners: LruCache<u64, u64>,
    logins: LoginLearner,
    tracker: Tracker,
    clock: Timestamp,
    next_sweep: Timestamp,
    stats: BehaviourStats,
}

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

/// Order of outcomes from least to most worrying.
fn outcome_rank(o: Outcome) -> u8 {
    match o {
        Outcome::Blocked => 0,
        Outcome::Failed => 1,
        Outcome::Unknown => 2,
        Outcome::Succeeded => 3,
    }
}

fn worse(a: Option<Outcome>, b: Outcome) -> Outcome {
    match a {
        Some(a) if outcome_rank(a) >= outcome_rank(b) => a,
        _ => b,
    }
}

/// Severity of one attack hit.
fn attack_severity(class: &str, outcome: Outcome) -> Severity {
    let grave = matches!(
        class,
        "sqli"
            | "rce"
            | "log4shell"
            | "deserialization"
            | "xxe"
            | "ssti"
            | "ptrav"
            | "rfi"
            | "ssrf"
    );
    match outcome {
        Outcome::Succeeded if grave => Severity::Critical,
        Outcome::Succeeded => Severity::High,
        Outcome::Blocked => Severity::Low,
        _ if matches!(class, "scanner" | "protocol") => Severity::Low,
        _ => Severity::Medium,
    }
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
            tracker: Tracker::new(
                nz(cfg.max_open_incidents),
                secs(cfg.idle_gap_secs),
                secs(cfg.reemit_secs),
                cfg.max_targets,
                cfg.max_exchange_ids,
            ),
            clock: Timestamp::default(),
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
                    std::mem::size_of::<AttackHistory>()
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
        self.advance(ts, out);
        let Some(req) = &ex.request else {
            return;
        };
        let ip = self.resolver.source_ip(ex);
        let host = paths::host(ex);
        let path = paths::path(&req.target);
        let status = ex.response.as_ref().map(|r| r.status);
        let ctx = Ctx {
            ex,
            req,
            ts,
            ip,
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

    /// `attack` per (source, host, class) and `campaign` per source.
    fn on_attack(&mut self, c: &Ctx<'_>, a: &Attack, out: &mut Vec<Event>) {
        let key = format!("attack|{}|{}|{}", c.ip, c.host, a.class);
        let severity = attack_severity(&a.class, a.outcome);
        let min = self.cfg.attack_min_hits;
        self.tracker.add(
            &key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(c.path),
                count: 1,
            },
            || (c.incident("attack", severity, vec![a.class.clone()]), min),
            |inc| {
                inc.severity = inc.severity.max(severity);
                inc.outcome = Some(worse(inc.outcome, a.outcome));
                inc.summary = format!(
                    "{} {} hits from {} against {} ({} targets listed), worst outcome {}",
                    inc.count,
                    a.class,
                    c.ip,
                    c.host,
                    inc.targets.len(),
                    outcome_name(inc.outcome),
                );
            },
            out,
        );

        // Campaign: the source's recent classes and hosts.
        let idle = secs(self.cfg.idle_gap_secs);
        let (min_classes, min_hosts) = (self.cfg.campaign_min_classes, self.cfg.campaign_min_hosts);
        let src = self.source(c.ip);
        let h = src.attacks.get_or_insert_with(Default::default);
        h.classes.retain(|(_, t)| c.ts.since(*t) <= idle);
        h.hosts.retain(|(_, t)| c.ts.since(*t) <= idle);
        if h.classes.is_empty() && h.hosts.is_empty() {
            h.hits = 0;
            h.worst = None;
        }
        remember(&mut h.classes, &a.class, c.ts);
        remember(&mut h.hosts, c.host, c.ts);
        h.hits += 1;
        h.worst = Some(worse(h.worst, a.outcome));
        if h.classes.len() < min_classes && h.hosts.len() < min_hosts {
            return;
        }
        let classes: Vec<String> = h.classes.iter().map(|(c, _)| c.clone()).collect();
        let hosts: Vec<String> = h.hosts.iter().map(|(h, _)| h.clone()).collect();
        let (hits, worst) = (h.hits, h.worst);
        let key = format!("campaign|{}", c.ip);
        let count = if self.tracker.is_open(&key) { 1 } else { hits };
        self.tracker.add(
            &key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(c.path),
                count,
            },
            || (c.incident("campaign", Severity::Medium, Vec::new()), 1),
            |inc| {
                for cl in &classes {
                    if !inc.classes.contains(cl) && inc.classes.len() < MAX_HISTORY {
                        inc.classes.push(cl.clone());
                    }
                }
                if let Some(w) = worst {
                    inc.outcome = Some(worse(inc.outcome, w));
                }
                inc.severity = match inc.outcome {
                    Some(Outcome::Succeeded) => Severity::High,
                    _ => Severity::Medium,
                };
                inc.summary = format!(
                    "{} attack hits from {} in {} classes ({}) against {} hosts ({})",
                    inc.count,
                    c.ip,
                    inc.classes.len(),
                    inc.classes.join(", "),
                    hosts.len(),
                    hosts.join(", "),
                );
            },
            out,
        );
    }

    /// `forced_browsing`: distinct missing paths per source and host.
    fn on_missing_path(&mut self, c: &Ctx<'_>, out: &mut Vec<Event>) {
        if !matches!(c.status, Some(401 | 403 | 404 | 410)) || paths::is_incidental_asset(c.path) {
            return;
        }
        let (window, min) = (
            secs(self.cfg.forced_browsing_window_secs),
            self.cfg.forced_browsing_min_paths,
        );
        let key = format!("forced_browsing|{}|{}", c.ip, c.host);
        let open = self.tracker.is_open(&key);
        let n = self
            .source(c.ip)
            .missing
            .insert(c.ts, hash_of((c.host, c.path)), window, min);
        if !open && n < min {
            return;
        }
        let count = if open { 1 } else { n as u64 };
        self.tracker.add(
            &key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(c.path),
                count,
            },
            || (c.incident("forced_browsing", Severity::Medium, Vec::new()), 1),
            |inc| {
                inc.summary = format!(
                    "{} requests from {} for missing paths on {} ({} distinct within {} s at the start)",
                    inc.count,
                    c.ip,
                    c.host,
                    min,
                    window.as_secs()
                );
            },
            out,
        );
    }

    /// `brute_force` per account and `credential_stuffing` per source IP and per fingerprint.
    fn on_login(
        &mut self,
        c: &Ctx<'_>,
        attempt: &login::LoginAttempt,
        result: LoginResult,
        out: &mut Vec<Event>,
    ) {
        let account = if attempt.account.is_empty() {
            format!("(unnamed, from {})", c.ip)
        } else {
            attempt.account.clone()
        };
        let bf_key = format!("brute_force|{}|{}", c.host, account);
        let cs_key = format!("credential_stuffing|ip:{}", c.ip);
        let headers = &c.req().headers;
        let fp = identity::fingerprint(headers);
        let fp_key = format!("credential_stuffing|fp:{fp:016x}");
        match result {
            LoginResult::Unknown => {}
            LoginResult::Succeeded => {
                // A success after failures: the incidents say so (severity up). An ordinary
                // user who mistyped starts afresh.
                let noted = |inc: &mut Incident| {
                    inc.severity = inc.severity.max(if inc.kind == "brute_force" {
                        Severity::High
                    } else {
                        Severity::Critical
                    });
                    if !inc.summary.contains("succeeded") {
                        inc.summary.push_str("; then a login succeeded");
                    }
                };
                for key in [&bf_key, &cs_key, &fp_key] {
                    self.tracker.touch(key, c.ts, noted, out);
                }
                if !self.tracker.is_open(&bf_key) {
                    self.accounts.pop(&hash_of((c.host, &account)));
                }
            }
            LoginResult::Failed => {
                self.brute_force(c, &account, &bf_key, out);
                self.stuffing(c, &account, &cs_key, fp, &fp_key, out);
            }
        }
    }

    fn brute_force(&mut self, c: &Ctx<'_>, account: &str, key: &str, out: &mut Vec<Event>) {
        let (window, min) = (
            secs(self.cfg.login_window_secs),
            self.cfg.brute_force_min_failures,
        );
        let st = entry(
            &mut self.accounts,
            &hash_of((c.host, account)),
            &mut self.stats.evicted_accounts,
        );
        let n = st.failures.insert(c.ts, c.ex.id, window, min);
        if !st.sources.contains(&c.ip) && st.sources.len() < MAX_ACCOUNT_SOURCES {
            st.sources.push(c.ip);
        }
        let sources = st.sources.len();
        let open = self.tracker.is_open(key);
        if !open && n < min {
            return;
        }
        let count = if open { 1 } else { n as u64 };
        self.tracker.add(
            key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(account),
                count,
            },
            || (c.incident("brute_force", Severity::Medium, Vec::new()), 1),
            |inc| {
                let success = inc.severity >= Severity::High;
                inc.summary = format!(
                    "{} failed logins for account {:?} on {} from {}{} source{}{}",
                    inc.count,
                    account,
                    c.host,
                    sources,
                    if sources >= MAX_ACCOUNT_SOURCES {
                        "+"
                    } else {
                        ""
                    },
                    if sources == 1 { "" } else { "s" },
                    if success {
                        "; then a login succeeded"
                    } else {
                        ""
                    },
                );
            },
            out,
        );
    }

    fn stuffing(
        &mut self,
        c: &Ctx<'_>,
        account: &str,
        ip_key: &str,
        fp: u64,
        fp_key: &str,
        out: &mut Vec<Event>,
    ) {
        let window = secs(self.cfg.login_window_secs);
        let account_hash = hash_of((c.host, account));
        // Per source IP.
        let min = self.cfg.stuffing_min_accounts;
        let n = self
            .source(c.ip)
            .failed_accounts
            .insert(c.ts, account_hash, window, min);
        let open = self.tracker.is_open(ip_key);
        if open || n >= min {
            self.add_stuffing(
                c,
                account,
                ip_key,
                if open { 1 } else { n as u64 },
                None,
                out,
            );
        }
        // Per fingerprint, across source IPs.
        let min = self.cfg.stuffing_min_accounts_fingerprint;
        let st = entry(
            &mut self.fingerprints,
            &fp,
            &mut self.stats.evicted_fingerprints,
        );
        let n = st.accounts.insert(c.ts, account_hash, window, min);
        let ips = st.ips.insert(c.ts, hash_of(c.ip), window, 16);
        let open = self.tracker.is_open(fp_key);
        if open || (n >= min && ips >= 2) {
            self.add_stuffing(
                c,
                account,
                fp_key,
                if open { 1 } else { n as u64 },
                Some(fp),
                out,
            );
        }
    }

    fn add_stuffing(
        &mut self,
        c: &Ctx<'_>,
        account: &str,
        key: &str,
        count: u64,
        fingerprint: Option<u64>,
        out: &mut Vec<Event>,
    ) {
        self.tracker.add(
            key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(account),
                count,
            },
            || {
                let mut inc = c.incident("credential_stuffing", Severity::High, Vec::new());
                if let Some(fp) = fingerprint {
                    inc.client = format!("fingerprint:{fp:016x}");
                }
                (inc, 1)
            },
            |inc| {
                let success = inc.severity >= Severity::Critical;
                let from = match fingerprint {
                    Some(_) => format!(
                        "one client fingerprint (User-Agent {:?}) over several addresses",
                        identity::cap(c.req().headers.get("user-agent").unwrap_or(""), 60)
                    ),
                    None => c.ip.to_string(),
                };
                inc.summary = format!(
                    "{} failed logins across many accounts on {} from {}{}",
                    inc.count,
                    c.host,
                    from,
                    if success {
                        "; then a login succeeded"
                    } else {
                        ""
                    },
                );
            },
            out,
        );
    }

    /// `bola`: one user reading many distinct ids of one templated endpoint.
    fn on_object_read(&mut self, c: &Ctx<'_>, out: &mut Vec<Event>) {
        let Some(status) = c.status else {
            return;
        };
        let Some(user) = identity::user_identity(&c.req().headers) else {
            return;
        };
        let Some((template, id)) = paths::template(c.path) else {
            return;
        };
        let method = c.req().method.as_str();
        let (window, min, ratio) = (
            secs(self.cfg.bola_window_secs),
            self.cfg.bola_min_ids,
            self.cfg.bola_min_success_ratio,
        );
        let user_hash = hash_of(&user);
        let object = hash_of((c.host, &template, id));
        let ok = (200..300).contains(&status);
        let w = entry(
            &mut self.walkers,
            &hash_of((&user, c.host, method, &template)),
            &mut self.stats.evicted_walkers,
        );
        w.ids.expire(c.ts, window);
        if w.ids.is_empty() {
            *w = WalkerState::default();
        }
        w.requests = w.requests.saturating_add(1);
        let num = id.parse::<u64>().ok();
        if let (Some(n), Some(prev)) = (num, w.last_id) {
            if n.abs_diff(prev) == 1 {
                w.sequential = w.sequential.saturating_add(1);
            }
        }
        w.last_id = num;
        if !ok {
            return;
        }
        w.ok = w.ok.saturating_add(1);
        let n = w.ids.insert(c.ts, hash_of(id), window, min);
        // Ownership: the first ordinary reader of an object owns it; a walker claims nothing.
        let walking = n * 2 >= min;
        let owner = self.owners.get(&object).copied();
        match owner {
            Some(o) if o != user_hash => w.foreign = w.foreign.saturating_add(1),
            Some(_) => {}
            None if !walking => put(
                &mut self.owners,
                object,
                user_hash,
                &mut self.stats.evicted_owners,
            ),
            None => {}
        }
        let (requests, oks, foreign, sequential) = (w.requests, w.ok, w.foreign, w.sequential);
        let endpoint = format!("{method} {template}");
        let key = format!("bola|{user}|{}|{endpoint}", c.host);
        let open = self.tracker.is_open(&key);
        if !open && (n < min || f64::from(oks) < ratio * f64::from(requests)) {
            return;
        }
        let count = if open { 1 } else { u64::from(oks) };
        self.tracker.add(
            &key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(&endpoint),
                count,
            },
            || {
                let mut inc = c.incident("bola", Severity::High, Vec::new());
                inc.client = user.clone();
                (inc, 1)
            },
            |inc| {
                inc.summary = format!(
                    "{} read {}+ distinct ids of {} on {} within {} s ({} of {} requests 2xx{}{})",
                    user,
                    min,
                    endpoint,
                    c.host,
                    window.as_secs(),
                    oks,
                    requests,
                    if sequential * 2 >= requests {
                        ", ids sequential"
                    } else {
                        ""
                    },
                    if foreign > 0 {
                        format!(", {foreign} read earlier by other users")
                    } else {
                        String::new()
                    }
                );
            },
            out,
        );
    }

    /// `scanner`: a tool fingerprint, or 4xx on many paths plus attacks of many classes.
    fn on_scanner(&mut self, c: &Ctx<'_>, attacks: &[Attack], out: &mut Vec<Event>) {
        let key = format!("scanner|{}", c.ip);
        let mut reason = if self.tracker.is_open(&key) {
            None
        } else {
            scanner::tool_fingerprint(c.req())
                .map(|(tool, why)| format!("{tool} ({why})"))
                .or_else(|| {
                    attacks.iter().find(|a| a.class == "scanner").map(|a| {
                        format!(
                            "{} (detection rule {})",
                            identity::cap(&a.excerpt, 40),
                            a.rule
                        )
                    })
                })
        };
        let (window, min_paths, min_classes) = (
            secs(self.cfg.scanner_window_secs),
            self.cfg.scanner_min_error_paths,
            self.cfg.scanner_min_classes,
        );
        let src = self.source(c.ip);
        if matches!(c.status, Some(400..=499)) {
            src.error_paths
                .insert(c.ts, hash_of((c.host, c.path)), window, min_paths);
        }
        for a in attacks.iter().filter(|a| a.class != "scanner") {
            src.classes
                .insert(c.ts, hash_of(&a.class), window, min_classes);
        }
        src.error_paths.expire(c.ts, window);
        src.classes.expire(c.ts, window);
        if reason.is_none()
            && src.error_paths.len() >= min_paths
            && src.classes.len() >= min_classes
        {
            reason = Some(format!(
                "behaviour ({min_paths}+ paths answered 4xx and {min_classes}+ attack classes within {} s)",
                window.as_secs()
            ));
        }
        if reason.is_none() && !self.tracker.is_open(&key) {
            return;
        }
        self.tracker.add(
            &key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(c.path),
                count: 1,
            },
            || (c.incident("scanner", Severity::Medium, Vec::new()), 1),
            |inc| {
                if let Some(r) = reason {
                    inc.summary = format!("scanner at {}: {r}", c.ip);
                }
                let head = inc.summary.split("; ").next().unwrap_or("").to_string();
                inc.summary = format!("{head}; {} requests", inc.count);
            },
            out,
        );
    }
}

fn remember(list: &mut Vec<(String, Timestamp)>, name: &str, ts: Timestamp) {
    if let Some(e) = list.iter_mut().find(|(n, _)| n == name) {
        e.1 = e.1.max(ts);
    } else if list.len() < MAX_HISTORY {
        list.push((name.to_string(), ts));
    }
}

fn outcome_name(o: Option<Outcome>) -> &'static str {
    match o {
        Some(Outcome::Succeeded) => "succeeded",
        Some(Outcome::Failed) => "failed",
        Some(Outcome::Blocked) => "blocked",
        Some(Outcome::Unknown) | None => "unknown",
    }
}

/// The exchange being looked at, with what every detector needs.
struct Ctx<'a> {
    ex: &'a Exchange,
    req: &'a periscope_model::Request,
    ts: Timestamp,
    ip: IpAddr,
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
            client: format!("ip:{}", self.ip),
            client_ip: self.ip,
            host: self.host.to_string(),
            classes,
            ..blank(kind)
        }
    }
}

#[cfg(test)]
mod tests;
