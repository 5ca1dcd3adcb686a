//! Failed logins: `brute_force` (one account, any source) and `credential_stuffing` (many
//! accounts from one source IP, or from one client fingerprint across addresses). What a
//! login attempt and its result are is decided in [`crate::login`].

use crate::identity::{self, hash_of};
use crate::incidents::{span, Contribution};
use crate::login::{self, LoginResult};
use crate::window::DistinctWindow;
use crate::{entry, secs, Behaviour, Ctx};
use periscope_model::{Event, Incident, Severity, Timestamp};
use std::net::IpAddr;

/// What is remembered about one account.
#[derive(Default)]
pub(crate) struct AccountState {
    pub(crate) failures: DistinctWindow,
    pub(crate) sources: Vec<IpAddr>,
}

/// Source addresses listed per account.
pub(crate) const MAX_ACCOUNT_SOURCES: usize = 8;

/// What is remembered about one client fingerprint.
#[derive(Default)]
pub(crate) struct FingerprintState {
    pub(crate) accounts: DistinctWindow,
    pub(crate) ips: DistinctWindow,
}

impl Behaviour {
    /// `brute_force` per account and `credential_stuffing` per source IP and per fingerprint.
    pub(crate) fn on_login(
        &mut self,
        c: &Ctx<'_>,
        attempt: &login::LoginAttempt,
        result: LoginResult,
        out: &mut Vec<Event>,
    ) {
        let account = if attempt.account.is_empty() {
            format!("(unnamed, from {})", c.src_label)
        } else {
            attempt.account.clone()
        };
        let bf_key = format!("brute_force|{}|{}", c.host, account);
        let cs_key = format!("credential_stuffing|ip:{}", c.src_label);
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
                if !self.tracker.is_open(&bf_key, c.ts) {
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
        let since = st.failures.oldest();
        let open = self.tracker.is_open(key, c.ts);
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
                since,
            },
            || (c.incident("brute_force", Severity::Medium, Vec::new()), 1),
            |inc| {
                let success = inc.severity >= Severity::High;
                inc.summary = format!(
                    "{} failed logins for account {:?} on {} {} from {}{} source{}{}",
                    inc.count,
                    account,
                    c.host,
                    span(inc),
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
        let failed = &mut self.source(c.src).failed_accounts;
        let n = failed.insert(c.ts, account_hash, window, min);
        let since = failed.oldest();
        let open = self.tracker.is_open(ip_key, c.ts);
        if open || n >= min {
            let count = if open { 1 } else { n as u64 };
            let opening = Opening { count, since, min };
            self.add_stuffing(c, account, ip_key, opening, None, out);
        }
        // Per fingerprint, across source IPs.
        let min = self.cfg.stuffing_min_accounts_fingerprint;
        let st = entry(
            &mut self.fingerprints,
            &fp,
            &mut self.stats.evicted_fingerprints,
        );
        let n = st.accounts.insert(c.ts, account_hash, window, min);
        let ips = st.ips.insert(c.ts, hash_of(c.src), window, 16);
        let since = st.accounts.oldest();
        let open = self.tracker.is_open(fp_key, c.ts);
        if open || (n >= min && ips >= 2) {
            let count = if open { 1 } else { n as u64 };
            let opening = Opening { count, since, min };
            self.add_stuffing(c, account, fp_key, opening, Some(fp), out);
        }
    }

    fn add_stuffing(
        &mut self,
        c: &Ctx<'_>,
        account: &str,
        key: &str,
        opening: Opening,
        fingerprint: Option<u64>,
        out: &mut Vec<Event>,
    ) {
        self.tracker.add(
            key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(account),
                count: opening.count,
                since: opening.since,
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
                    None => c.src_label.to_string(),
                };
                inc.summary = format!(
                    "{} failed logins for {}+ distinct accounts on {} from {} {}{}",
                    inc.count,
                    opening.min,
                    c.host,
                    from,
                    span(inc),
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
}

/// How a stuffing incident opens: the count so far (distinct accounts; each had a failure),
/// since when, and the threshold it crossed.
struct Opening {
    count: u64,
    since: Option<Timestamp>,
    min: usize,
}
