//! `bola`: one user walking object ids on a templated endpoint (`/api/orders/{id}`) and
//! getting 2xx. See the crate docs for the heuristic's limits.

use crate::identity::{self, hash_of};
use crate::incidents::{span, Contribution};
use crate::window::DistinctWindow;
use crate::{entry, paths, put, secs, Behaviour, Ctx};
use periscope_model::{Event, Severity};

/// One user on one templated endpoint.
#[derive(Default)]
pub(crate) struct WalkerState {
    pub(crate) ids: DistinctWindow,
    pub(crate) requests: u32,
    pub(crate) ok: u32,
    pub(crate) foreign: u32,
    pub(crate) sequential: u32,
    pub(crate) last_id: Option<u64>,
}

impl Behaviour {
    /// `bola`: one user reading many distinct ids of one templated endpoint.
    pub(crate) fn on_object_read(&mut self, c: &Ctx<'_>, out: &mut Vec<Event>) {
        let Some(status) = c.status else {
            return;
        };
        let Some((template, id)) = paths::template(c.path) else {
            return;
        };
        let Some(user) = identity::user_identity(&c.req().headers) else {
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
        let since = w.ids.oldest();
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
        let open = self.tracker.is_open(&key, c.ts);
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
                since,
            },
            || {
                let mut inc = c.incident("bola", Severity::High, Vec::new());
                inc.client = user.clone();
                (inc, 1)
            },
            |inc| {
                inc.summary = format!(
                    "{} read {}+ distinct ids of {} on {} {} ({} of {} requests 2xx{}{})",
                    user,
                    min,
                    endpoint,
                    c.host,
                    span(inc),
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
}
