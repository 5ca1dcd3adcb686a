//! `forced_browsing`: one source asking for many distinct paths that do not exist (or are
//! refused) within a window. Browser and crawler noise (favicon, robots.txt, source maps,
//! `/.well-known/`) is ignored, and login attempts are counted as logins, not as paths.

use crate::identity::hash_of;
use crate::incidents::{span, Contribution};
use crate::{paths, secs, Behaviour, Ctx};
use periscope_model::{Event, Severity};

impl Behaviour {
    /// `forced_browsing`: distinct missing paths per source and host.
    pub(crate) fn on_missing_path(&mut self, c: &Ctx<'_>, out: &mut Vec<Event>) {
        if !matches!(c.status, Some(401 | 403 | 404 | 410)) || paths::is_incidental_asset(c.path) {
            return;
        }
        let (window, min) = (
            secs(self.cfg.forced_browsing_window_secs),
            self.cfg.forced_browsing_min_paths,
        );
        let key = format!("forced_browsing|{}|{}", c.src_label, c.host);
        let open = self.tracker.is_open(&key, c.ts);
        let missing = &mut self.source(c.src).missing;
        let n = missing.insert(c.ts, hash_of((c.host, c.path)), window, min);
        let since = missing.oldest();
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
                since,
            },
            || {
                (
                    c.incident("forced_browsing", Severity::Medium, Vec::new()),
                    1,
                )
            },
            |inc| {
                inc.summary = format!(
                    "{} requests for missing paths (404/403/401/410) from {} on {} {}",
                    inc.count,
                    c.src_label,
                    c.host,
                    span(inc),
                );
            },
            out,
        );
    }
}
