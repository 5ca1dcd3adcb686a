//! The scanner: runs the checks on each exchange and keeps the deduplicated findings.

use crate::checks::errors::ErrorRules;
use crate::checks::jwt::JwtCheck;
use crate::checks::listing::ListingRules;
use crate::checks::secrets::SecretRules;
use crate::checks::version::VersionRules;
use crate::checks::{self, Ctx, Hit, Prefilter, Scope};
use crate::config::{ScannerConfig, TrafficSource};
use crate::error::ConfigError;
use crate::text::{self, BodyKind};
use lru::LruCache;
use periscope_model::{Attack, Event, Exchange, Severity, Timestamp, Vulnerability};
use std::num::NonZeroUsize;

/// Longest `detail` (what tells two findings apart) kept in a key.
const MAX_DETAIL: usize = 128;

/// Counters of a scanner's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScannerStats {
    /// Exchanges looked at.
    pub exchanges: u64,
    /// Response bodies that went through the prefilter.
    pub bodies_scanned: u64,
    /// Body bytes that went through the prefilter.
    pub bytes_scanned: u64,
    /// Bodies in which the prefilter found an anchor (and the checks ran).
    pub prefilter_hits: u64,
    /// Distinct findings created.
    pub findings: u64,
    /// Vulnerability events emitted (first sightings and updates).
    pub events: u64,
    /// Findings evicted from the full table (least recently seen first).
    pub evicted: u64,
}

/// One finding in the table, with what was last emitted of it.
struct Entry {
    vuln: Vulnerability,
    /// Merged bits (missing headers, cookie attributes) for kinds that accumulate.
    bits: u32,
    /// Changed since it was last emitted.
    dirty: bool,
}

/// Passive vulnerability detection over exchanges. See the crate documentation.
pub struct Scanner {
    cfg: ScannerConfig,
    prefilter: Prefilter,
    errors: ErrorRules,
    version: VersionRules,
    secrets: SecretRules,
    listing: ListingRules,
    jwt: JwtCheck,
    scrubber: text::Scrubber,
    table: LruCache<String, Entry>,
    disabled: Vec<&'static str>,
    last_flush: Option<Timestamp>,
    stats: ScannerStats,
    hits: Vec<Hit>,
}

impl Scanner {
    /// Validates the settings and compiles the patterns.
    pub fn new(cfg: ScannerConfig) -> Result<Scanner, ConfigError> {
        cfg.validate()?;
        let cap = NonZeroUsize::new(cfg.max_findings).ok_or(ConfigError::Zero("max_findings"))?;
        let jwt_cache =
            NonZeroUsize::new(cfg.jwt_cache_size).ok_or(ConfigError::Zero("jwt_cache_size"))?;
        let disabled = crate::config::KINDS
            .iter()
            .copied()
            .filter(|k| cfg.disabled_kinds.iter().any(|d| d == k))
            .collect();
        Ok(Scanner {
            prefilter: Prefilter::new()?,
            errors: ErrorRules::new()?,
            version: VersionRules::new()?,
            secrets: SecretRules::new()?,
            listing: ListingRules::new()?,
            jwt: JwtCheck::new(
                &cfg.jwt_extra_secrets,
                cfg.jwt_max_lifetime.as_secs(),
                jwt_cache,
            )?,
            scrubber: text::Scrubber::new()?,
            table: LruCache::new(cap),
            disabled,
            last_flush: None,
            stats: ScannerStats::default(),
            hits: Vec::new(),
            cfg,
        })
    }

    /// Looks at one exchange and the attacks the detector found in it. New findings are pushed
    /// to `out` at once; findings seen again are counted and re-emitted by [`Scanner::tick`] /
    /// [`Scanner::finish`] (also called here with the exchange's time).
    pub fn on_exchange(&mut self, ex: &Exchange, attacks: &[Attack], out: &mut Vec<Event>) {
        self.scan(ex, attacks.iter(), out);
    }

    /// [`Scanner::on_exchange`] for a pipeline that holds the exchange's attacks as events
    /// (`Event::Attack`), as the aggregator's group does: other events are ignored, nothing is
    /// cloned.
    pub fn on_exchange_events(&mut self, ex: &Exchange, events: &[Event], out: &mut Vec<Event>) {
        let attacks = events.iter().filter_map(|e| match e {
            Event::Attack(a) => Some(a.as_ref()),
            _ => None,
        });
        self.scan(ex, attacks, out);
    }

    fn scan<'a>(
        &mut self,
        ex: &Exchange,
        attacks: impl Iterator<Item = &'a Attack>,
        out: &mut Vec<Event>,
    ) {
        self.stats.exchanges += 1;
        let req = ex.request.as_ref();
        let resp = ex.response.as_ref();
        let host = text::host_of(ex);
        let path = req.map_or("", |r| text::path_of(&r.target));
        let params = req.map(text::request_params).unwrap_or_default();
        let raw_body: &[u8] = resp.map_or(&[], |r| {
            let d = &r.body.data;
            &d[..d.len().min(self.cfg.max_scan_bytes)]
        });
        let body_kind = resp.map_or(BodyKind::Binary, |r| {
            BodyKind::of(text::content_type(r), raw_body)
        });
        let families = if body_kind.is_text() && !raw_body.is_empty() {
            self.stats.bodies_scanned += 1;
            self.stats.bytes_scanned += raw_body.len() as u64;
            self.prefilter.scan(raw_body)
        } else {
            0
        };
        if families != 0 {
            self.stats.prefilter_hits += 1;
        }
        let forwarded = req.is_some_and(text::forwarded_https);
        let tls_port = self.cfg.tls_ports.contains(&ex.flow.server.port);
        let (https, plaintext) = match self.cfg.source {
            TrafficSource::Capture => (forwarded, !forwarded),
            TrafficSource::Agent => (forwarded || tls_port, !(forwarded || tls_port)),
        };
        let ctx = Ctx {
            req,
            resp,
            host: &host,
            path,
            params: &params,
            body: if body_kind.is_text() { raw_body } else { &[] },
            body_kind,
            families,
            https,
            plaintext,
        };
        let mut hits = std::mem::take(&mut self.hits);
        hits.clear();
        if resp.is_some() {
            self.errors.check(&ctx, &mut hits);
            self.version.check(&ctx, &mut hits);
            self.secrets.check(&ctx, &mut hits);
            self.listing.check(&ctx, &mut hits);
            checks::cookies::check(&ctx, &mut hits);
            checks::cors::check(&ctx, &mut hits);
            checks::headers::check(&ctx, &mut hits);
            checks::exposed::check(&ctx, raw_body, &mut hits);
            checks::redirect::check(&ctx, &mut hits);
            checks::xss::check(&ctx, &mut hits);
        }
        checks::transport::check(&ctx, &mut hits);
        let now_secs = ex.ts.as_nanos() / 1_000_000_000;
        self.jwt.check(&ctx, now_secs, &mut hits);
        checks::attacks::check(attacks, &mut hits);
        let method = req.map_or("", |r| r.method.as_str());
        let endpoint = if req.is_some() {
            text::endpoint_template(path)
        } else {
            "/".to_string()
        };
        for hit in hits.drain(..) {
            if self.disabled.contains(&hit.kind.as_str()) {
                continue;
            }
            self.record(ex, &host, method, &endpoint, hit, out);
        }
        self.hits = hits;
        self.tick(ex.ts, out);
    }

    fn record(
        &mut self,
        ex: &Exchange,
        host: &str,
        method: &str,
        endpoint: &str,
        mut hit: Hit,
        out: &mut Vec<Event>,
    ) {
        hit.evidence = self.scrubber.scrub(&hit.evidence);
        // Names from the traffic (parameters, cookies) go into keys: keep them short.
        if hit.detail.len() > MAX_DETAIL {
            let mut cut = MAX_DETAIL;
            while !hit.detail.is_char_boundary(cut) {
                cut -= 1;
            }
            hit.detail.truncate(cut);
        }
        let kind = hit.kind.as_str();
        let key = match hit.scope {
            Scope::Endpoint => format!("{kind}|{host}|{method}|{endpoint}|{}", hit.detail),
            Scope::Host => format!("{kind}|{host}|*|{}", hit.detail),
        };
        let ts = ex.ts;
        if let Some(e) = self.table.get_mut(&key) {
            let v = &mut e.vuln;
            v.count += 1;
            v.last_seen = v.last_seen.max(ts);
            v.first_seen = v.first_seen.min(ts);
            if let Some((bits, merge)) = hit.merge {
                let union = e.bits | bits;
                if union != e.bits {
                    e.bits = union;
                    let (title, severity) = merge(union, &hit.detail);
                    v.title = title;
                    v.severity = severity;
                    v.evidence = hit.evidence;
                }
            } else if hit.severity > v.severity {
                v.severity = hit.severity;
                v.title = hit.title;
                v.evidence = hit.evidence;
            }
            e.dirty = true;
            return;
        }
        let (method, endpoint) = match hit.scope {
            Scope::Endpoint => (method.to_string(), endpoint.to_string()),
            Scope::Host => (String::new(), "*".to_string()),
        };
        let vuln = Vulnerability {
            kind: kind.to_string(),
            severity: hit.severity,
            host: host.to_string(),
            server: ex.flow.server,
            method,
            endpoint,
            title: hit.title,
            evidence: hit.evidence,
            exchange_id: ex.id,
            first_seen: ts,
            last_seen: ts,
            count: 1,
            key: key.clone(),
        };
        self.stats.findings += 1;
        self.emit(&vuln, out);
        let bits = hit.merge.map_or(0, |(b, _)| b);
        if let Some((_, old)) = self.table.push(
            key,
            Entry {
                vuln,
                bits,
                dirty: false,
            },
        ) {
            self.stats.evicted += 1;
            if old.dirty {
                self.emit(&old.vuln, out);
            }
        }
    }

    fn emit(&mut self, v: &Vulnerability, out: &mut Vec<Event>) {
        self.stats.events += 1;
        out.push(Event::Vulnerability(Box::new(v.clone())));
    }

    /// Capture time is `now`: every [`ScannerConfig::reemit_interval`] emits the findings that
    /// changed since they were last emitted.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Event>) {
        let Some(last) = self.last_flush else {
            self.last_flush = Some(now);
            return;
        };
        if now.since(last) >= self.cfg.reemit_interval {
            self.last_flush = Some(now);
            self.flush(out);
        }
    }

    /// End of input: emits the findings that changed since they were last emitted.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.flush(out);
    }

    fn flush(&mut self, out: &mut Vec<Event>) {
        let mut n = 0;
        for (_, e) in self.table.iter_mut() {
            if e.dirty {
                e.dirty = false;
                out.push(Event::Vulnerability(Box::new(e.vuln.clone())));
                n += 1;
            }
        }
        self.stats.events += n;
    }

    /// The findings kept, most recently seen first (for snapshots and the API).
    pub fn findings(&self) -> impl Iterator<Item = &Vulnerability> {
        self.table.iter().map(|(_, e)| &e.vuln)
    }

    /// Counters so far.
    pub fn stats(&self) -> ScannerStats {
        self.stats
    }

    /// The settings in use.
    pub fn config(&self) -> &ScannerConfig {
        &self.cfg
    }

    /// Worst severity among the findings kept, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings().map(|v| v.severity).max()
    }
}
