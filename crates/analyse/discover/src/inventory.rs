//! The inventory: per host, a tree of path segments whose leaves hold per-method statistics.
//!
//! A segment becomes a parameter when it looks like a value (number, UUID, hex, token, date,
//! e-mail, IP; see [`crate::classify::segment_kind`]) or when its position has shown too many
//! distinct literals: at least `param_min_distinct`, mostly seen once (`param_distinct_ratio`),
//! and with siblings that continue alike (the same next segments), which is what ids look
//! like and resource names do not. Past `param_max_distinct` the position becomes a parameter
//! whatever it looks like, so 100 000 user names make one template. The literal subtrees are
//! then merged into the parameter's subtree, statistics included.

use crate::auth::{
    authorization_kind, is_api_key_header, is_api_key_query, is_session_cookie, AuthKind,
};
use crate::classify::{is_uri, segment_kind, singular_camel, SegmentKind};
use crate::config::DiscoverConfig;
use crate::parse::{
    content_type_param, cookie_pairs, decode, form_pairs, media_type, multipart, split_target,
    xml_fields,
};
use crate::schema::{FieldValue, Limits, Schema};
use crate::sensitive::{classify as classify_sensitive, SensitiveKind};
use periscope_model::{Exchange, Headers, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// A path template variable.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
    /// A top-level field of the request body.
    Body,
}

impl Location {
    /// OpenAPI `in` value (`body` has none: it is the request body).
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
            Location::Body => "body",
        }
    }
}

/// Counters of what the inventory saw, dropped and merged.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InventoryStats {
    /// Exchanges given to `observe`.
    pub exchanges: u64,
    /// Exchanges without a request (nothing to learn).
    pub without_request: u64,
    /// Requests counted as static assets or pages.
    pub assets: u64,
    /// Requests dropped because the host cap was reached.
    pub dropped_host_cap: u64,
    /// Requests dropped because their host's endpoint cap was reached.
    pub dropped_endpoint_cap: u64,
    /// Parameters not recorded because of the parameter caps.
    pub dropped_params: u64,
    /// Asset paths not recorded because of the asset cap.
    pub dropped_assets: u64,
    /// Paths cut at `max_segments`.
    pub cut_paths: u64,
    /// Positions turned into parameters while observing, by the hard cap `param_max_distinct`
    /// (the soft rule is applied when the inventory is read).
    pub learned_params: u64,
    /// Request or response bodies announced as JSON that did not parse.
    pub unparsed_bodies: u64,
    /// Bodies skipped for schemas because they were truncated.
    pub truncated_bodies: u64,
}

/// Statistics of one parameter of one operation.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParamStats {
    /// Name as first seen (headers keep their spelling).
    pub name: String,
    pub seen: u64,
    pub schema: Schema,
}

/// One response status of one operation.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseStats {
    pub count: u64,
    pub bodies: BTreeMap<String, Schema>,
}

/// Most media types, statuses, auth kinds and URL parameter names kept per operation.
const MAX_SMALL: usize = 16;

/// What one method on one path template did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Operation {
    pub hits: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    pub params: BTreeMap<(Location, String), ParamStats>,
    pub bodies: BTreeMap<String, Schema>,
    pub with_body: u64,
    pub responses: BTreeMap<u16, ResponseStats>,
    pub answered: u64,
    pub auth: BTreeMap<AuthKind, u64>,
    pub unauth_ok: u64,
    pub sensitive: BTreeMap<(SensitiveKind, String), u64>,
    pub uploads: u64,
    pub url_params: BTreeSet<String>,
    pub server_errors: u64,
    pub attacks: u64,
    /// Requests whose values and bodies were examined (see `sample_first`).
    pub sampled: u64,
}

impl Operation {
    fn merge(&mut self, o: &Operation, lim: &Limits, cfg: &DiscoverConfig) {
        if self.hits == 0 || (o.hits > 0 && o.first < self.first) {
            self.first = o.first;
        }
        self.last = self.last.max(o.last);
        self.hits += o.hits;
        for (k, p) in &o.params {
            if let Some(mine) = self.params.get_mut(k) {
                mine.seen += p.seen;
                mine.schema.merge(&p.schema, lim);
            } else if self.params.len() < cfg.max_params_per_endpoint {
                self.params.insert(k.clone(), p.clone());
            }
        }
        for (m, s) in &o.bodies {
            merge_schema_map(&mut self.bodies, m, s, lim);
        }
        self.with_body += o.with_body;
        for (st, r) in &o.responses {
            if let Some(mine) = self.responses.get_mut(st) {
                mine.count += r.count;
                for (m, s) in &r.bodies {
                    merge_schema_map(&mut mine.bodies, m, s, lim);
                }
            } else if self.responses.len() < MAX_SMALL * 2 {
                self.responses.insert(*st, r.clone());
            }
        }
        self.answered += o.answered;
        for (a, n) in &o.auth {
            if self.auth.len() < MAX_SMALL || self.auth.contains_key(a) {
                *self.auth.entry(a.clone()).or_insert(0) += n;
            }
        }
        self.unauth_ok += o.unauth_ok;
        for (k, n) in &o.sensitive {
            if self.sensitive.len() < cfg.max_sensitive_per_endpoint
                || self.sensitive.contains_key(k)
            {
                *self.sensitive.entry(k.clone()).or_insert(0) += n;
            }
        }
        self.uploads += o.uploads;
        for u in &o.url_params {
            if self.url_params.len() < MAX_SMALL {
                self.url_params.insert(u.clone());
            }
        }
        self.server_errors += o.server_errors;
        self.attacks += o.attacks;
        self.sampled += o.sampled;
    }
}

fn merge_schema_map(map: &mut BTreeMap<String, Schema>, media: &str, s: &Schema, lim: &Limits) {
    if let Some(mine) = map.get_mut(media) {
        mine.merge(s, lim);
    } else if map.len() < MAX_SMALL {
        map.insert(media.to_string(), s.clone());
    }
}

/// A position of the path tree.
#[derive(Debug, Default, Clone)]
pub(crate) struct Node {
    /// Requests that went on below this position.
    pub through: u64,
    /// Literal children. A B-tree: most positions have a handful of children, where a few
    /// string comparisons beat hashing the segment (measured with callgrind).
    pub literals: BTreeMap<String, Node>,
    pub param: Option<Box<ParamNode>>,
    /// Set once the position was learned to be a parameter: every new segment goes there.
    pub collapsed: bool,
    /// Operations of the path ending here, by method.
    pub ops: BTreeMap<String, Operation>,
}

/// The parameter child of a position.
#[derive(Debug, Default, Clone)]
pub(crate) struct ParamNode {
    pub kinds: BTreeMap<SegmentKind, u64>,
    /// Shortest and longest token or hex value seen here (to recognise their siblings).
    pub token_len: Option<(usize, usize)>,
    pub values: Schema,
    pub node: Node,
}

impl Node {
    fn count(&self) -> (usize, usize) {
        // (nodes, operations) below and including self
        let mut n = (1, self.ops.len());
        for c in self.literals.values() {
            let (a, b) = c.count();
            n.0 += a;
            n.1 += b;
        }
        if let Some(p) = &self.param {
            let (a, b) = p.node.count();
            n.0 += a;
            n.1 += b;
        }
        n
    }

    /// Moves everything of `other` into `self`.
    fn absorb(&mut self, other: Node, lim: &Limits, cfg: &DiscoverConfig) {
        self.through += other.through;
        self.collapsed |= other.collapsed;
        for (m, op) in other.ops {
            match self.ops.get_mut(&m) {
                Some(mine) => mine.merge(&op, lim, cfg),
                None => {
                    self.ops.insert(m, op);
                }
            }
        }
        if let Some(p) = other.param {
            let p = *p;
            let mine = self.param.get_or_insert_with(Default::default);
            for (k, n) in p.kinds {
                *mine.kinds.entry(k).or_insert(0) += n;
            }
            if let Some((lo, hi)) = p.token_len {
                widen(&mut mine.token_len, lo);
                widen(&mut mine.token_len, hi);
            }
            mine.values.merge(&p.values, lim);
            mine.node.absorb(p.node, lim, cfg);
        }
        for (k, child) in other.literals {
            if self.collapsed {
                let mine = self.param.get_or_insert_with(Default::default);
                *mine.kinds.entry(SegmentKind::HighCardinality).or_insert(0) += 1;
                mine.values.observe_string(&k, lim);
                mine.node.absorb(child, lim, cfg);
            } else {
                match self.literals.get_mut(&k) {
                    Some(mine) => mine.absorb(child, lim, cfg),
                    None => {
                        self.literals.insert(k, child);
                    }
                }
            }
        }
    }

    /// Turns this position into a parameter: every literal child is merged into it.
    /// Returns how many nodes fewer the tree has.
    fn collapse(&mut self, lim: &Limits, cfg: &DiscoverConfig) -> usize {
        self.collapsed = true;
        let lits = std::mem::take(&mut self.literals);
        let before = lits.values().map(|c| c.count().0).sum::<usize>()
            + self.param.as_ref().map_or(0, |p| p.node.count().0);
        let p = self.param.get_or_insert_with(Default::default);
        for (k, child) in lits {
            *p.kinds.entry(SegmentKind::HighCardinality).or_insert(0) += 1;
            p.values.observe_string(&k, lim);
            p.node.absorb(child, lim, cfg);
        }
        before.saturating_sub(p.node.count().0)
    }

    /// Applies the soft rule top-down on a copy of the tree, when all the evidence is in:
    /// deciding early would take the first sweep over `/api/{users,orders,...}` for ids.
    fn finalize(&mut self, lim: &Limits, cfg: &DiscoverConfig) -> u64 {
        let mut learned = 0;
        self.absorb_token_like(lim, cfg);
        if !self.collapsed && self.looks_like_values(cfg) {
            let _ = self.collapse(lim, cfg);
            learned += 1;
        }
        for c in self.literals.values_mut() {
            learned += c.finalize(lim, cfg);
        }
        if let Some(p) = &mut self.param {
            learned += p.node.finalize(lim, cfg);
        }
        learned
    }

    /// Literals shaped like the tokens already taken for values at this position (same
    /// length range give or take 2, token characters, mixed case or digits) join them: a random token that
    /// happens to look like a word to [`segment_kind`] is still a token.
    fn absorb_token_like(&mut self, lim: &Limits, cfg: &DiscoverConfig) {
        let Some((lo, hi)) = self.param.as_ref().and_then(|p| p.token_len) else {
            return;
        };
        let keys: Vec<String> = self
            .literals
            .keys()
            .filter(|k| {
                k.len() >= 12 && (lo.saturating_sub(2)..=hi + 2).contains(&k.len()) && token_like(k)
            })
            .cloned()
            .collect();
        for k in keys {
            if let (Some(child), Some(p)) = (self.literals.remove(&k), self.param.as_mut()) {
                *p.kinds.entry(SegmentKind::Token).or_insert(0) += 1;
                p.values.observe_string(&k, lim);
                p.node.absorb(child, lim, cfg);
            }
        }
    }

    /// Whether the literal children look like values of one parameter: many, mostly new,
    /// and continuing alike (same next segments, or all leaves).
    fn looks_like_values(&self, cfg: &DiscoverConfig) -> bool {
        let d = self.literals.len();
        if d < cfg.param_min_distinct || (d as f64) < cfg.param_distinct_ratio * self.through as f64
        {
            return false;
        }
        let mut sigs: HashMap<Vec<&str>, usize> = HashMap::new();
        for c in self.literals.values() {
            let mut sig: Vec<&str> = c.literals.keys().map(String::as_str).collect();
            sig.sort_unstable();
            sig.truncate(4);
            if c.param.is_some() {
                sig.push("{}");
            }
            *sigs.entry(sig).or_insert(0) += 1;
        }
        let top = sigs.values().copied().max().unwrap_or(0);
        top * 10 >= d * 7
    }
}

/// A static asset or page path of a host.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AssetStats {
    /// Requests.
    pub hits: u64,
    /// Last response media type.
    pub media_type: String,
}

#[derive(Debug, Default)]
pub(crate) struct HostInventory {
    pub root: Node,
    pub nodes: usize,
    pub ops: usize,
    pub params: usize,
    pub assets: BTreeMap<String, AssetStats>,
}

/// The live API inventory. Feed it exchanges with [`Inventory::observe`]; read it with
/// [`Inventory::endpoints`], [`Inventory::to_openapi`], [`Inventory::drift`].
#[derive(Debug)]
pub struct Inventory {
    pub(crate) cfg: DiscoverConfig,
    pub(crate) lim: Limits,
    pub(crate) hosts: BTreeMap<String, HostInventory>,
    pub(crate) stats: InventoryStats,
}

/// File extensions of static assets.
const ASSET_EXT: [&str; 20] = [
    "js", "mjs", "css", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif", "woff",
    "woff2", "ttf", "eot", "otf", "mp4", "webm", "mp3",
];

/// Request headers every client sends: not API parameters.
fn is_standard_header(name: &str) -> bool {
    const STD: [&str; 40] = [
        "host",
        "user-agent",
        "accept",
        "accept-encoding",
        "accept-language",
        "accept-charset",
        "connection",
        "content-type",
        "content-length",
        "cookie",
        "authorization",
        "cache-control",
        "pragma",
        "origin",
        "referer",
        "upgrade-insecure-requests",
        "te",
        "transfer-encoding",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-range",
        "if-unmodified-since",
        "dnt",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "x-real-ip",
        "forwarded",
        "via",
        "expect",
        "range",
        "upgrade",
        "priority",
        "x-requested-with",
        "content-encoding",
        "trailer",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
    ];
    let prefix = |p: &str| {
        name.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    STD.iter().any(|s| s.eq_ignore_ascii_case(name)) || prefix("sec-") || prefix("x-forwarded-")
}

/// Parameter names that take a URL the server may fetch (SSRF).
fn is_url_param_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['_', '-'], "");
    matches!(
        n.as_str(),
        "url"
            | "uri"
            | "link"
            | "callback"
            | "callbackurl"
            | "webhook"
            | "webhookurl"
            | "redirect"
            | "redirecturl"
            | "redirecturi"
            | "returnurl"
            | "returnto"
            | "next"
            | "dest"
            | "destination"
            | "target"
            | "feed"
            | "imageurl"
            | "src"
            | "source"
            | "host"
            | "endpoint"
            | "proxy"
            | "fetch"
    ) || n.ends_with("url")
}

/// Checks a path: admin- or debug-like paths raise the risk score.
pub(crate) fn admin_like(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    for (needle, what) in [
        ("/admin", "admin path"),
        ("/debug", "debug path"),
        ("/internal", "internal path"),
        ("/actuator", "actuator endpoint"),
        ("/console", "console path"),
        ("/phpinfo", "phpinfo"),
        ("/.env", "environment file"),
        ("/.git", "git metadata"),
        ("/metrics", "metrics endpoint"),
        ("/swagger", "API documentation"),
        ("/graphiql", "GraphQL console"),
        ("/manage", "management path"),
    ] {
        if lower.contains(needle) {
            return Some(what);
        }
    }
    None
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory::new(DiscoverConfig::default())
    }
}

impl Inventory {
    /// An empty inventory. Call [`DiscoverConfig::validate`] first on user-supplied settings.
    pub fn new(cfg: DiscoverConfig) -> Self {
        let lim = cfg.limits();
        Inventory {
            cfg,
            lim,
            hosts: BTreeMap::new(),
            stats: InventoryStats::default(),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &DiscoverConfig {
        &self.cfg
    }

    /// Counters.
    pub fn stats(&self) -> &InventoryStats {
        &self.stats
    }

    /// Learns from one exchange.
    pub fn observe(&mut self, ex: &Exchange) {
        self.observe_flagged(ex, 0);
    }

    /// Learns from one exchange on which detection reported `attacks` findings (they raise
    /// the endpoint's risk score).
    pub fn observe_flagged(&mut self, ex: &Exchange, attacks: u32) {
        self.stats.exchanges += 1;
        let Some(req) = &ex.request else {
            self.stats.without_request += 1;
            return;
        };
        let (abs_host, raw_path, query) = split_target(&req.target);
        // Lookups borrow; a host or method is only allocated the first time it is seen.
        let named = abs_host.or_else(|| req.headers.get("host"));
        let host_ref = named.map(str::trim).filter(|h| is_host_key(h));
        let h = match host_ref.and_then(|k| self.hosts.get_mut(k)) {
            Some(h) => h,
            None => {
                let host = host_key(named, ex);
                if !self.hosts.contains_key(&host) && self.hosts.len() >= self.cfg.max_hosts {
                    self.stats.dropped_host_cap += 1;
                    return;
                }
                self.hosts.entry(host).or_insert_with(|| HostInventory {
                    nodes: 1,
                    ..Default::default()
                })
            }
        };
        let (cfg, lim) = (&self.cfg, self.lim);
        let stats = &mut self.stats;

        // Static assets and pages are kept apart from the API.
        let method = req.method.as_str();
        let is_get = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
        if is_get {
            let last = raw_path.rsplit('/').next().unwrap_or_default();
            let ext = last.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
            let resp_ct = ex
                .response
                .as_ref()
                .and_then(|r| r.headers.get("content-type"))
                .unwrap_or_default();
            let ok = ex.response.as_ref().is_some_and(|r| r.status < 400);
            if ASSET_EXT.iter().any(|a| a.eq_ignore_ascii_case(ext)) || is_asset_media(resp_ct, ok)
            {
                stats.assets += 1;
                let path = decode(raw_path, false);
                if let Some(a) = h.assets.get_mut(path.as_ref()) {
                    a.hits += 1;
                } else if h.assets.len() < cfg.max_assets_per_host {
                    h.assets.insert(
                        path.into_owned(),
                        AssetStats {
                            hits: 1,
                            media_type: media_type(resp_ct),
                        },
                    );
                } else {
                    stats.dropped_assets += 1;
                }
                return;
            }
        }

        // Walk (and grow) the path tree.
        let mut node = &mut h.root;
        let mut segs = raw_path.split('/').filter(|s| !s.is_empty());
        for (i, raw) in segs.by_ref().enumerate() {
            if i >= cfg.max_segments {
                stats.cut_paths += 1;
                break;
            }
            let seg = decode(raw, false);
            node = match step(node, &seg, &mut h.nodes, stats, cfg, &lim) {
                Some(n) => n,
                None => return, // cannot happen: `step` only looks up what it checked
            };
        }
        let upper = method.bytes().all(|c| !c.is_ascii_lowercase());
        let known_op = upper && node.ops.contains_key(method);
        if !known_op {
            let m = method.to_ascii_uppercase();
            if !node.ops.contains_key(&m) {
                if h.ops >= cfg.max_endpoints_per_host {
                    stats.dropped_endpoint_cap += 1;
                    return;
                }
                h.ops += 1;
                node.ops.insert(m.clone(), Operation::default());
            }
            if !upper {
                // Rare: a lower-case method. Record it under its upper-case spelling.
                if let Some(op) = node.ops.get_mut(&m) {
                    record(op, ex, query, &mut h.params, stats, cfg, &lim, attacks);
                }
                return;
            }
        }
        let Some(op) = node.ops.get_mut(method) else {
            return;
        };
        record(op, ex, query, &mut h.params, stats, cfg, &lim, attacks);
        // A collapse elsewhere may have merged operations: recount now and then, cheaply.
        if stats.learned_params > 0 && h.ops >= cfg.max_endpoints_per_host {
            let (nodes, ops) = h.root.count();
            h.nodes = nodes;
            h.ops = ops;
        }
    }
}

/// True when a `Host` value can be used as the key as it is: lower case, no default port.
fn is_host_key(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && !h.bytes().any(|c| c.is_ascii_uppercase())
        && !h.ends_with(":80")
}

/// Static content by response media type (pages count when they were served fine).
fn is_asset_media(ct: &str, ok: bool) -> bool {
    let mt = ct.split(';').next().unwrap_or_default().trim();
    let starts = |p: &str| mt.get(..p.len()).is_some_and(|x| x.eq_ignore_ascii_case(p));
    let ends = |p: &str| {
        mt.len() >= p.len()
            && mt
                .get(mt.len() - p.len()..)
                .is_some_and(|x| x.eq_ignore_ascii_case(p))
    };
    starts("image/")
        || starts("font/")
        || mt.eq_ignore_ascii_case("text/css")
        || ends("javascript")
        || (ok && mt.eq_ignore_ascii_case("text/html"))
}

/// Host name as clients wrote it, lower-cased, default port removed; the server address
/// when the request named none.
fn host_key(named: Option<&str>, ex: &Exchange) -> String {
    match named.map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => {
            let h = h.to_ascii_lowercase();
            let h = h.strip_suffix(":80").unwrap_or(&h);
            h.chars().take(255).collect()
        }
        None => ex.flow.server.to_string(),
    }
}

/// One step down the tree for segment `seg`, deciding literal or parameter.
fn step<'n>(
    node: &'n mut Node,
    seg: &str,
    nodes: &mut usize,
    stats: &mut InventoryStats,
    cfg: &DiscoverConfig,
    lim: &Limits,
) -> Option<&'n mut Node> {
    node.through += 1;
    if let Some(kind) = segment_kind(seg) {
        return Some(to_param(node, seg, kind, nodes, lim));
    }
    if node.collapsed {
        return Some(to_param(
            node,
            seg,
            SegmentKind::HighCardinality,
            nodes,
            lim,
        ));
    }
    if node.literals.contains_key(seg) {
        // Two lookups: returning the result of a first `get_mut` only when it is `Some`
        // is refused by the borrow checker (NLL problem case 3).
        return node.literals.get_mut(seg);
    }
    if *nodes >= cfg.max_nodes_per_host || node.literals.len() + 1 >= cfg.param_max_distinct {
        stats.learned_params += 1;
        *nodes = nodes.saturating_sub(node.collapse(lim, cfg));
        return Some(to_param(
            node,
            seg,
            SegmentKind::HighCardinality,
            nodes,
            lim,
        ));
    }
    *nodes += 1;
    Some(node.literals.entry(seg.to_string()).or_default())
}

fn to_param<'n>(
    node: &'n mut Node,
    seg: &str,
    kind: SegmentKind,
    nodes: &mut usize,
    lim: &Limits,
) -> &'n mut Node {
    if node.param.is_none() {
        *nodes += 1;
    }
    let p = node.param.get_or_insert_with(Default::default);
    *p.kinds.entry(kind).or_insert(0) += 1;
    if matches!(kind, SegmentKind::Token | SegmentKind::Hex) {
        widen(&mut p.token_len, seg.len());
    }
    // Values typed for a sample, like every other parameter (the kind counts all).
    let n = p.kinds.values().sum::<u64>();
    if n > 64 && !n.is_multiple_of(32) {
        return &mut p.node;
    }
    if kind == SegmentKind::HighCardinality {
        p.values.observe_string(seg, lim);
    } else {
        p.values.observe_text(seg, lim);
    }
    &mut p.node
}

fn widen(range: &mut Option<(usize, usize)>, len: usize) {
    *range = Some(match *range {
        Some((lo, hi)) => (lo.min(len), hi.max(len)),
        None => (len, len),
    });
}

/// Token characters only, with mixed case or digits.
fn token_like(s: &str) -> bool {
    let b = s.as_bytes();
    let chars = b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'));
    let upper = b.iter().any(u8::is_ascii_uppercase);
    let lower = b.iter().any(u8::is_ascii_lowercase);
    chars && ((upper && lower) || b.iter().any(u8::is_ascii_digit))
}

/// Everything one request/response adds to its operation.
#[allow(clippy::too_many_arguments)]
fn record(
    op: &mut Operation,
    ex: &Exchange,
    query: Option<&str>,
    host_params: &mut usize,
    stats: &mut InventoryStats,
    cfg: &DiscoverConfig,
    lim: &Limits,
    attacks: u32,
) {
    let Some(req) = &ex.request else { return };
    if op.hits == 0 || ex.ts < op.first {
        op.first = ex.ts;
    }
    op.last = op.last.max(ex.ts);
    op.hits += 1;
    op.attacks += u64::from(attacks);
    // Parameters, auth, bodies and sensitive data are examined for a sample only: all of the
    // first `sample_first` requests of the endpoint, then one in `sample_every`. Schemas and
    // auth kinds converge fast, and examining every request would cost as much as the whole
    // HTTP stage (measured: see the crate docs). Hits, times and statuses count every request.
    let deep = op.hits <= cfg.sample_first
        || (cfg.sample_every > 0 && op.hits.is_multiple_of(cfg.sample_every));
    if !deep {
        if let Some(resp) = &ex.response {
            op.answered += 1;
            if resp.status >= 500 {
                op.server_errors += 1;
            }
            if let Some(r) = op.responses.get_mut(&resp.status) {
                r.count += 1;
            } else if op.responses.len() < MAX_SMALL * 2 {
                op.responses.entry(resp.status).or_default().count += 1;
            }
        }
        return;
    }
    op.sampled += 1;
    let mut auth: Vec<AuthKind> = Vec::new();
    let mut sens = SensitiveSink {
        op_len_cap: cfg.max_sensitive_per_endpoint,
        found: Vec::new(),
    };
    let mut add_param =
        |op: &mut Operation, loc: Location, name: &str, value: &str, sens: &mut SensitiveSink| {
            let key = (
                loc,
                if loc == Location::Header {
                    name.to_ascii_lowercase()
                } else {
                    name.to_string()
                },
            );
            if !op.params.contains_key(&key) {
                if op.params.len() >= cfg.max_params_per_endpoint
                    || *host_params >= cfg.max_params_per_host
                {
                    stats.dropped_params += 1;
                    return;
                }
                *host_params += 1;
            }
            let p = op.params.entry(key).or_insert_with(|| ParamStats {
                name: name.to_string(),
                ..Default::default()
            });
            // Count presence once per request even when repeated (`a=1&a=2`).
            if p.seen < op.sampled {
                p.seen += 1;
            }
            p.schema.observe_text(value, lim);
            if (is_url_param_name(name) || is_uri(value)) && op.url_params.len() < MAX_SMALL {
                op.url_params.insert(format!("{}:{name}", loc.as_str()));
            }
            sens.check(name, value, || format!("request.{}.{name}", loc.as_str()));
        };

    if let Some(q) = query {
        for (k, v) in form_pairs(q) {
            if is_api_key_query(&k) {
                auth.push(AuthKind::ApiKeyQuery(k.to_string()));
                continue;
            }
            add_param(op, Location::Query, &k, &v, &mut sens);
        }
    }
    for (name, value) in &req.headers.0 {
        if name.eq_ignore_ascii_case("authorization") {
            auth.push(authorization_kind(value));
        } else if name.eq_ignore_ascii_case("cookie") {
            for (k, v) in cookie_pairs(value) {
                if is_session_cookie(k) {
                    auth.push(AuthKind::CookieSession(k.to_string()));
                } else {
                    add_param(op, Location::Cookie, k, v, &mut sens);
                }
            }
        } else if is_api_key_header(name) {
            auth.push(AuthKind::ApiKeyHeader(canonical_header(name)));
        } else if !is_standard_header(name) {
            add_param(op, Location::Header, name, value, &mut sens);
        }
    }
    if auth.is_empty() {
        auth.push(AuthKind::None);
    }
    auth.sort();
    auth.dedup();
    let unauth = auth == [AuthKind::None];
    for a in auth {
        if op.auth.len() < MAX_SMALL || op.auth.contains_key(&a) {
            *op.auth.entry(a).or_insert(0) += 1;
        }
    }

    // Request body: its schema is built in place (no per-request schema to merge).
    let ct = req.headers.get("content-type").unwrap_or_default();
    if !req.body.data.is_empty() {
        op.with_body += 1;
        let media = media_type(ct);
        let media = if media.is_empty() {
            "application/octet-stream".to_string()
        } else {
            media
        };
        if req.body.truncated {
            stats.truncated_bodies += 1;
        } else if op.bodies.contains_key(&media) || op.bodies.len() < MAX_SMALL {
            let target = op.bodies.entry(media.clone()).or_default();
            body_schema(
                &media,
                ct,
                &req.body.data,
                lim,
                &mut sens,
                "request.body",
                stats,
                &mut op.uploads,
                target,
            );
        }
    }

    // Response.
    if let Some(resp) = &ex.response {
        op.answered += 1;
        if resp.status >= 500 {
            op.server_errors += 1;
        }
        if unauth && (200..300).contains(&resp.status) {
            op.unauth_ok += 1;
        }
        let rct = resp.headers.get("content-type").unwrap_or_default();
        let media = media_type(rct);
        let known = op.responses.contains_key(&resp.status);
        if known || op.responses.len() < MAX_SMALL * 2 {
            let r = op.responses.entry(resp.status).or_default();
            r.count += 1;
            if !media.is_empty() && (r.bodies.contains_key(&media) || r.bodies.len() < MAX_SMALL) {
                let target = r.bodies.entry(media.clone()).or_default();
                if resp.body.truncated {
                    stats.truncated_bodies += 1;
                } else if !resp.body.data.is_empty() {
                    body_schema(
                        &media,
                        rct,
                        &resp.body.data,
                        lim,
                        &mut sens,
                        "response.body",
                        stats,
                        &mut op.uploads,
                        target,
                    );
                }
            }
        }
    }
    for (k, place) in sens.found {
        if op.sensitive.len() < sens.op_len_cap || op.sensitive.contains_key(&(k, place.clone())) {
            *op.sensitive.entry((k, place)).or_insert(0) += 1;
        }
    }
}

/// `x-api-key` → `X-Api-Key`.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Sensitive findings of one exchange, deduplicated before they reach the operation.
struct SensitiveSink {
    op_len_cap: usize,
    found: Vec<(SensitiveKind, String)>,
}

impl SensitiveSink {
    fn check(&mut self, name: &str, value: &str, place: impl FnOnce() -> String) {
        if self.found.len() >= self.op_len_cap {
            return;
        }
        if let Some(k) = classify_sensitive(name, value) {
            let place = place();
            if !self.found.iter().any(|(fk, fp)| *fk == k && *fp == place) {
                self.found.push((k, place));
            }
        }
    }

    /// Walks a JSON document's leaves, naming each by its path (`items[].email`).
    fn walk(&mut self, v: &Value, path: &mut String, key: &str, depth: usize) {
        if depth > 16 || self.found.len() >= self.op_len_cap {
            return;
        }
        match v {
            Value::String(s) => {
                let p = &*path;
                self.check(key, s, || p.clone())
            }
            Value::Number(n) if n.is_u64() => {
                // Card numbers are sometimes sent as JSON numbers.
                if let Some(u) = n.as_u64().filter(|u| *u >= 1_000_000_000_000) {
                    let p = &*path;
                    self.check(key, &u.to_string(), || p.clone())
                }
            }
            Value::Array(items) => {
                let len = path.len();
                path.push_str("[]");
                for it in items.iter().take(16) {
                    self.walk(it, path, key, depth + 1);
                }
                path.truncate(len);
            }
            Value::Object(map) => {
                for (k, child) in map.iter().take(128) {
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    self.walk(child, path, k, depth + 1);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
}

/// Adds a body to the schema of its media type (JSON, form, multipart, simple XML; other
/// media types have no schema). A body that does not parse leaves the schema untouched.
#[allow(clippy::too_many_arguments)]
fn body_schema(
    media: &str,
    content_type: &str,
    data: &[u8],
    lim: &Limits,
    sens: &mut SensitiveSink,
    place: &str,
    stats: &mut InventoryStats,
    uploads: &mut u64,
    schema: &mut Schema,
) {
    if media == "application/json" || media.ends_with("+json") {
        match serde_json::from_slice::<Value>(data) {
            Ok(v) => {
                schema.observe_json(&v, lim);
                let mut path = place.to_string();
                sens.walk(&v, &mut path, "", 0);
            }
            Err(_) => stats.unparsed_bodies += 1,
        }
    } else if media == "application/x-www-form-urlencoded" {
        let text = String::from_utf8_lossy(data);
        let pairs = form_pairs(&text);
        for (k, v) in &pairs {
            sens.check(k, v, || format!("{place}.{k}"));
        }
        schema.observe_fields(
            pairs
                .iter()
                .map(|(k, v)| (k.as_ref(), FieldValue::Text(v.as_ref()))),
            lim,
        );
    } else if media == "multipart/form-data" {
        let boundary = content_type_param(content_type, "boundary").unwrap_or_default();
        let parts = multipart(data, boundary);
        let texts: Vec<(String, Option<String>)> = parts
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.filename
                        .is_none()
                        .then(|| String::from_utf8_lossy(p.data).into_owned()),
                )
            })
            .collect();
        if parts.iter().any(|p| p.filename.is_some()) {
            *uploads += 1;
        }
        for (k, v) in &texts {
            if let Some(v) = v {
                sens.check(k, v, || format!("{place}.{k}"));
            }
        }
        schema.observe_fields(
            texts.iter().map(|(k, v)| {
                (
                    k.as_str(),
                    v.as_deref().map_or(FieldValue::File, FieldValue::Text),
                )
            }),
            lim,
        );
    } else if media == "application/xml" || media == "text/xml" || media.ends_with("+xml") {
        let text = String::from_utf8_lossy(data);
        let fields = xml_fields(&text);
        for (k, v) in &fields {
            sens.check(k, v, || format!("{place}.{k}"));
        }
        schema.observe_fields(
            fields
                .iter()
                .map(|(k, v)| (k.as_str(), FieldValue::Text(v.as_str()))),
            lim,
        );
    }
}

/// A parameter of an endpoint, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ParamSummary {
    /// Name (header names as first seen).
    pub name: String,
    /// Where it travels.
    pub location: Location,
    /// JSON-Schema type: `integer`, `number`, `boolean`, `string`, `object`, `array`.
    #[serde(rename = "type")]
    pub ty: String,
    /// String format, when every value had it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Seen in (nearly) every request.
    pub required: bool,
    /// Requests in which it was present.
    pub seen: u64,
    /// The full JSON Schema.
    pub schema: Value,
}

/// A request or response body of an endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct BodySummary {
    /// Media type.
    pub media_type: String,
    /// Inferred JSON Schema (empty object when none could be inferred).
    pub schema: Value,
}

/// One response status of an endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseSummary {
    /// Status code.
    pub status: u16,
    /// Responses with that status.
    pub count: u64,
    /// Bodies by media type.
    pub bodies: Vec<BodySummary>,
}

/// Sensitive data of one kind seen at one place of an endpoint's traffic.
#[derive(Debug, Clone, Serialize)]
pub struct SensitiveSummary {
    /// What kind.
    pub kind: SensitiveKind,
    /// Where, e.g. `response.body.items[].email`, `request.query.email`.
    pub place: String,
    /// Exchanges in which it was seen.
    pub count: u64,
}

/// One endpoint (method + path template of one host) with all that was learned about it.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointSummary {
    /// Host.
    pub host: String,
    /// Method.
    pub method: String,
    /// Path template, e.g. `/api/users/{userId}`.
    pub path: String,
    /// Requests.
    pub hits: u64,
    /// First request.
    pub first_seen: Timestamp,
    /// Last request.
    pub last_seen: Timestamp,
    /// Parameters: path first, then query, header, cookie, body fields.
    pub params: Vec<ParamSummary>,
    /// Request bodies by media type.
    pub request_bodies: Vec<BodySummary>,
    /// Requests examined in full (parameters, auth, bodies): see `sample_first`.
    pub sampled: u64,
    /// Examined requests that had a body.
    pub requests_with_body: u64,
    /// Responses by status.
    pub responses: Vec<ResponseSummary>,
    /// Authentication kinds and how many requests used each.
    pub auth: Vec<(AuthKind, u64)>,
    /// Sensitive data seen.
    pub sensitive: Vec<SensitiveSummary>,
    /// Risk score, 1–10.
    pub risk: u8,
    /// Reasons for the score.
    pub risk_reasons: Vec<String>,
    /// Attacks reported by detection on this endpoint.
    pub attacks: u64,
}

impl EndpointSummary {
    /// `host METHOD path`, the key used in state files and drift reports.
    pub fn key(&self) -> String {
        format!("{} {} {}", self.host, self.method, self.path)
    }
}

impl Inventory {
    /// Hosts seen, sorted.
    pub fn hosts(&self) -> Vec<String> {
        self.hosts.keys().cloned().collect()
    }

    /// Static asset and page paths of a host.
    pub fn assets(&self, host: &str) -> Vec<(String, AssetStats)> {
        self.hosts
            .get(host)
            .map(|h| {
                h.assets
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every endpoint, sorted by host, path and method.
    pub fn endpoints(&self) -> Vec<EndpointSummary> {
        let mut out = Vec::new();
        for (host, h) in &self.hosts {
            let mut path = Vec::new();
            let mut root = h.root.clone();
            root.finalize(&self.lim, &self.cfg);
            self.collect(host, &root, &mut path, &mut out);
        }
        out.sort_by(|a, b| (&a.host, &a.path, &a.method).cmp(&(&b.host, &b.path, &b.method)));
        out
    }

    fn collect<'a>(
        &'a self,
        host: &str,
        node: &'a Node,
        path: &mut Vec<(String, Option<&'a ParamNode>)>,
        out: &mut Vec<EndpointSummary>,
    ) {
        if !node.ops.is_empty() {
            let (template, path_params) = render(path, &self.lim);
            for (method, op) in &node.ops {
                out.push(self.summary(host, method, &template, &path_params, op));
            }
        }
        let mut lits: Vec<(&String, &Node)> = node.literals.iter().collect();
        lits.sort_by(|a, b| a.0.cmp(b.0));
        for (k, child) in lits {
            path.push((k.clone(), None));
            self.collect(host, child, path, out);
            path.pop();
        }
        if let Some(p) = &node.param {
            path.push((String::new(), Some(p)));
            self.collect(host, &p.node, path, out);
            path.pop();
        }
    }

    fn summary(
        &self,
        host: &str,
        method: &str,
        template: &str,
        path_params: &[ParamSummary],
        op: &Operation,
    ) -> EndpointSummary {
        let mut params: Vec<ParamSummary> = path_params.to_vec();
        let req_ratio = self.cfg.required_ratio;
        for ((loc, _), p) in &op.params {
            params.push(ParamSummary {
                name: p.name.clone(),
                location: *loc,
                ty: p.schema.type_name().to_string(),
                format: p.schema.format().map(|f| f.as_str().to_string()),
                required: op.sampled > 0 && p.seen as f64 >= req_ratio * op.sampled as f64,
                seen: p.seen,
                schema: p.schema.to_json_schema(&self.lim),
            });
        }
        // Top-level body fields are parameters too (for people and for drift).
        for schema in op.bodies.values() {
            if let Some(o) = &schema.object {
                for (k, s) in &o.props {
                    if params
                        .iter()
                        .any(|p| p.location == Location::Body && p.name == *k)
                    {
                        continue;
                    }
                    params.push(ParamSummary {
                        name: k.clone(),
                        location: Location::Body,
                        ty: s.type_name().to_string(),
                        format: s.format().map(|f| f.as_str().to_string()),
                        required: s.seen >= o.seen,
                        seen: s.seen,
                        schema: s.to_json_schema(&self.lim),
                    });
                }
            }
        }
        let request_bodies = op
            .bodies
            .iter()
            .map(|(m, s)| BodySummary {
                media_type: m.clone(),
                schema: s.to_json_schema(&self.lim),
            })
            .collect();
        let responses = op
            .responses
            .iter()
            .map(|(st, r)| ResponseSummary {
                status: *st,
                count: r.count,
                bodies: r
                    .bodies
                    .iter()
                    .map(|(m, s)| BodySummary {
                        media_type: m.clone(),
                        schema: if s.seen == 0 {
                            Value::Object(Default::default())
                        } else {
                            s.to_json_schema(&self.lim)
                        },
                    })
                    .collect(),
            })
            .collect();
        let sensitive: Vec<SensitiveSummary> = op
            .sensitive
            .iter()
            .map(|((k, place), n)| SensitiveSummary {
                kind: *k,
                place: place.clone(),
                count: *n,
            })
            .collect();
        let mut e = EndpointSummary {
            host: host.to_string(),
            method: method.to_string(),
            path: template.to_string(),
            hits: op.hits,
            first_seen: op.first,
            last_seen: op.last,
            params,
            request_bodies,
            sampled: op.sampled,
            requests_with_body: op.with_body,
            responses,
            auth: op.auth.iter().map(|(a, n)| (a.clone(), *n)).collect(),
            sensitive,
            risk: 1,
            risk_reasons: Vec::new(),
            attacks: op.attacks,
        };
        let (risk, reasons) = crate::risk::score(&e, op);
        e.risk = risk;
        e.risk_reasons = reasons;
        e
    }
}

/// `v1`, `v2beta`: a version prefix, not a collection name.
pub(crate) fn is_version(seg: &str) -> bool {
    let b = seg.as_bytes();
    matches!(b.first(), Some(b'v' | b'V')) && b.get(1).is_some_and(u8::is_ascii_digit)
}

/// Builds the template string and the path parameters of a path in the tree.
fn render(path: &[(String, Option<&ParamNode>)], lim: &Limits) -> (String, Vec<ParamSummary>) {
    let mut template = String::new();
    let mut params: Vec<ParamSummary> = Vec::new();
    let mut prev_literal: Option<&str> = None;
    for (lit, p) in path {
        template.push('/');
        match p {
            None => {
                template.push_str(lit);
                prev_literal = Some(lit);
            }
            Some(p) => {
                let kind = p
                    .kinds
                    .iter()
                    .max_by_key(|(_, n)| **n)
                    .map(|(k, _)| *k)
                    .unwrap_or(SegmentKind::HighCardinality);
                let base = match (kind, prev_literal) {
                    (SegmentKind::Date, _) => "date".to_string(),
                    (SegmentKind::Email, _) => "email".to_string(),
                    (SegmentKind::Ip, _) => "ip".to_string(),
                    (_, Some(prev)) if singular_camel(prev).len() >= 2 && !is_version(prev) => {
                        format!("{}Id", singular_camel(prev))
                    }
                    _ => "id".to_string(),
                };
                let mut name = base.clone();
                let mut n = 2;
                while params.iter().any(|q| q.name == name) {
                    name = format!("{base}{n}");
                    n += 1;
                }
                template.push('{');
                template.push_str(&name);
                template.push('}');
                let mut schema = p.values.to_json_schema(lim);
                if let Some(obj) = schema.as_object_mut() {
                    obj.remove("enum");
                }
                params.push(ParamSummary {
                    name,
                    location: Location::Path,
                    ty: p.values.type_name().to_string(),
                    format: p.values.format().map(|f| f.as_str().to_string()),
                    required: true,
                    seen: p.values.seen,
                    schema,
                });
                prev_literal = None;
            }
        }
    }
    if template.is_empty() {
        template.push('/');
    }
    (template, params)
}

/// Headers as a helper for tests and examples.
#[doc(hidden)]
pub fn headers(pairs: &[(&str, &str)]) -> Headers {
    Headers(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}
