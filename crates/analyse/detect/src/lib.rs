//! Attack detection: finds attacks in every point of an HTTP request, names the class and
//! the point, and reads the response to say whether they worked.
//!
//! Owns: request points and their nested decoding ([`points`], [`decode`]), the rules
//! ([`Class`]), the outcome from the response, and the labelled-request evaluation
//! ([`run_eval`]).
//!
//! - Input: [`model::Request`] ([`Detector::inspect`]) or [`model::Exchange`]
//!   ([`Detector::analyse`], which also reads `Exchange::flags` for smuggling signs and the
//!   response for the outcome).
//! - Output: [`Hit`]s, or [`model::Attack`] events (`{"type":"attack", ...}`).
//! - Limits ([`DetectConfig`]): points per request, bytes per value and per body (gunzip is
//!   capped at the body limit), decoding depth, JSON depth, hits per request. Reaching a limit
//!   drops the rest and counts it in [`Inspection::dropped_points`]; it never panics, and the
//!   regexes are linear-time.
//!
//! How: for each point, the raw value and its fully decoded form (URL ×3, `%uXXXX`, HTML
//! entities, `\u`/`\x` escapes) are scanned; base64 text, JWTs and JSON inside values become
//! points of their own. An Aho-Corasick prefilter arms only the rules whose trigger strings
//! occur, so clean traffic costs one automaton pass per value.
//!
//! ```
//! use periscope_detect::{Detector, DetectConfig};
//! let d = Detector::new(DetectConfig::default()).unwrap();
//! let req = periscope_detect::request_from_parts("GET", "/item?id=1%27%20OR%201=1--", &[("Host", "x")], b"");
//! let hits = d.inspect(&req);
//! assert!(hits.iter().any(|h| h.class.as_str() == "sqli" && h.point == "query.id"));
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod class;
pub mod config;
pub mod decode;
mod eval;
mod outcome;
pub mod points;
mod rules;

pub use class::Class;
pub use config::DetectConfig;
pub use eval::{run_eval, EvalFormat, EvalSummary};

use model::{Attack, Exchange, Flag, Request};
use std::borrow::Cow;
use std::collections::HashSet;

/// One attack found in one request point.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    /// The class.
    pub class: Class,
    /// Stable dotted point name, e.g. `query.id`.
    pub point: String,
    /// Rule that matched (`sqli_libinjection:s&1c`, `xss_handler`, ...).
    pub rule: String,
    /// Matched text after decoding, capped at [`DetectConfig::excerpt_len`] characters.
    pub excerpt: String,
    /// Confidence, 0..1.
    pub score: f32,
    /// The decoded value of the point (capped at 4 KiB), for judging reflection in the response.
    #[serde(skip)]
    pub value: String,
}

/// The result of inspecting one request, with the work done.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    /// Hits at or above the configured score, best first, one per (class, point).
    pub hits: Vec<Hit>,
    /// Points looked at.
    pub points: usize,
    /// Points not looked at because of [`DetectConfig::max_points`].
    pub dropped_points: usize,
}

/// The detector. Built once; immutable, `Send + Sync`, shared by all worker threads.
pub struct Detector {
    cfg: DetectConfig,
    rules: rules::Rules,
    outcome: outcome::OutcomeRules,
}

impl Detector {
    /// Compiles the rules. Fails only on an invalid configuration.
    pub fn new(cfg: DetectConfig) -> anyhow::Result<Self> {
        if !(0.0..=1.0).contains(&cfg.min_score) {
            anyhow::bail!("min_score must be within 0..1, got {}", cfg.min_score);
        }
        if cfg.max_points == 0 || cfg.max_value_len == 0 {
            anyhow::bail!("max_points and max_value_len must be positive");
        }
        Ok(Detector {
            rules: rules::Rules::new()?,
            outcome: outcome::OutcomeRules::new()?,
            cfg,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &DetectConfig {
        &self.cfg
    }

    /// Finds the attacks in a request.
    pub fn inspect(&self, req: &Request) -> Vec<Hit> {
        self.inspect_detailed(req).hits
    }

    /// [`Detector::inspect`], with counts of the work done.
    pub fn inspect_detailed(&self, req: &Request) -> Inspection {
        let mut found = Vec::new();
        let mut hits: Vec<Hit> = Vec::new();
        let mut points = 0usize;
        // Each point is scanned where it is found: values are lent by the extractor, and
        // only a hit copies its name and value.
        let dropped = points::visit(req, &self.cfg, &mut |name, value, kind| {
            points += 1;
            found.clear();
            self.rules.scan(
                value,
                kind,
                name,
                self.cfg.excerpt_len,
                self.cfg.min_score,
                &mut found,
            );
            let full = full_decode(value);
            if matches!(full, Cow::Owned(_)) && full != value {
                self.rules.scan(
                    &full,
                    kind,
                    name,
                    self.cfg.excerpt_len,
                    self.cfg.min_score,
                    &mut found,
                );
            }
            for f in found.drain(..) {
                if f.score < self.cfg.min_score {
                    continue;
                }
                match hits
                    .iter_mut()
                    .find(|h| h.class == f.class && h.point == name)
                {
                    Some(h) if h.score >= f.score => {}
                    Some(h) => {
                        h.score = f.score;
                        h.rule = f.rule;
                        h.excerpt = f.excerpt;
                    }
                    None => hits.push(Hit {
                        class: f.class,
                        point: name.to_owned(),
                        rule: f.rule,
                        excerpt: f.excerpt,
                        score: f.score,
                        value: points::cap_str(&full, 4096).to_owned(),
                    }),
                }
            }
        });
        // A payload found in the whole path and in one segment is reported at the segment.
        let seg_classes: Vec<Class> = hits
            .iter()
            .filter(|h| h.point.starts_with("path."))
            .map(|h| h.class)
            .collect();
        hits.retain(|h| h.point != "path" || !seg_classes.contains(&h.class));
        hits.extend(protocol_hits(req));
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(self.cfg.max_hits);
        Inspection {
            hits,
            points,
            dropped_points: dropped,
        }
    }

    /// Finds the attacks in an exchange's request, adds the smuggling signs the HTTP layer
    /// flagged, and judges each hit's outcome from the response.
    pub fn analyse(&self, ex: &Exchange) -> Vec<Attack> {
        let mut hits = match &ex.request {
            Some(r) => self.inspect(r),
            None => Vec::new(),
        };
        let flagged: Vec<(Flag, &str)> = [
            (
                Flag::ContentLengthWithChunked,
                "Content-Length with Transfer-Encoding: chunked",
            ),
            (
                Flag::ConflictingContentLength,
                "conflicting Content-Length fields",
            ),
            (
                Flag::DuplicateContentLength,
                "duplicate Content-Length fields",
            ),
            (Flag::InvalidContentLength, "invalid Content-Length"),
            (Flag::InvalidChunk, "invalid chunked framing"),
            (Flag::UnusualTransferEncoding, "unusual Transfer-Encoding"),
        ]
        .into_iter()
        .filter(|(f, _)| ex.has(*f))
        .collect();
        for (flag, what) in flagged {
            let rule = format!(
                "protocol_{}",
                serde_json::to_value(flag)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            );
            if !hits
                .iter()
                .any(|h| h.class == Class::Protocol && h.rule == rule)
            {
                hits.push(Hit {
                    class: Class::Protocol,
                    point: "framing".into(),
                    rule,
                    excerpt: what.into(),
                    score: 0.8,
                    value: String::new(),
                });
            }
        }
        let resp = ex.response.as_ref();
        let (method, target) = ex
            .request
            .as_ref()
            .map_or((String::new(), String::new()), |r| {
                (r.method.clone(), points::cap_str(&r.target, 512).to_owned())
            });
        hits.into_iter()
            .map(|h| {
                let (outcome, evidence) = self.outcome.judge(h.class, &h.excerpt, &h.value, resp);
                Attack {
                    exchange_id: ex.id,
                    ts: ex.ts,
                    client: ex.flow.client,
                    server: ex.flow.server,
                    class: h.class.as_str().to_owned(),
                    point: h.point,
                    rule: h.rule,
                    excerpt: h.excerpt,
                    score: h.score,
                    outcome,
                    evidence,
                    method: method.clone(),
                    target: target.clone(),
                    status: resp.map(|r| r.status),
                }
            })
            .collect()
    }
}

/// Every decoding layer at once: URL (up to three times, for double encoding), HTML entities,
/// backslash escapes, then URL again; NUL bytes and `<x>`-style filler tags removed.
fn full_decode(v: &str) -> Cow<'_, str> {
    // No escape introducer, NUL or filler tag: every layer below would return its input.
    if !v.contains(['%', '&', '\\', '\0', '<']) {
        return Cow::Borrowed(v);
    }
    let mut s = v.to_owned();
    for _ in 0..3 {
        let d = decode::url_decode(&s, false);
        if d == s {
            break;
        }
        s = d.into_owned();
    }
    let s = decode::html_decode(&s).into_owned();
    let s = decode::backslash_decode(&s).into_owned();
    let s = decode::html_decode(&s).into_owned();
    let mut s = decode::url_decode(&s, false).into_owned();
    s.retain(|c| c != '\0');
    // `o<x>nfocus` and `al<x>ert`: filler tags splitting keywords.
    if s.contains("<x>") || s.contains("<X>") {
        s = s.replace("<x>", "").replace("<X>", "");
    }
    Cow::Owned(s)
}

/// Request smuggling signs visible in the headers themselves (the HTTP layer flags more).
fn protocol_hits(req: &Request) -> Vec<Hit> {
    let mut out = Vec::new();
    let cls: Vec<&str> = req.headers.get_all("content-length").collect();
    let tes: Vec<&str> = req.headers.get_all("transfer-encoding").collect();
    let mut push = |rule: &str, ex: String, score: f32| {
        out.push(Hit {
            class: Class::Protocol,
            point: "framing".into(),
            rule: rule.into(),
            excerpt: ex,
            score,
            value: String::new(),
        })
    };
    if !cls.is_empty() && !tes.is_empty() {
        push(
            "protocol_content_length_with_chunked",
            format!(
                "Content-Length: {}; Transfer-Encoding: {}",
                cls.join(","),
                tes.join(",")
            ),
            0.85,
        );
    }
    let distinct: HashSet<&str> = cls.iter().map(|v| v.trim()).collect();
    if distinct.len() > 1
        || cls.iter().any(|v| {
            v.contains(',') && v.split(',').map(str::trim).collect::<HashSet<_>>().len() > 1
        })
    {
        push("protocol_conflicting_content_length", cls.join(", "), 0.9);
    } else if cls.len() > 1 {
        push("protocol_duplicate_content_length", cls.join(", "), 0.6);
    }
    for te in &tes {
        let t = te.trim().to_ascii_lowercase();
        if t != "chunked"
            && t != "identity"
            && !t
                .split(',')
                .all(|p| matches!(p.trim(), "gzip" | "deflate" | "chunked" | "br" | "compress"))
        {
            push(
                "protocol_obfuscated_transfer_encoding",
                format!("Transfer-Encoding: {te}"),
                0.85,
            );
        }
    }
    if tes.len() > 1 {
        push("protocol_duplicate_transfer_encoding", tes.join(", "), 0.8);
    }
    // Hop-by-hop abuse: `Connection` names the headers a proxy must drop before forwarding.
    // Naming one that carries identity (credentials, tokens, the client address) makes the
    // proxy strip it, so the back end sees a request without it (CVE-2022-1388 style).
    for conn in req.headers.get_all("connection") {
        if conn
            .split(',')
            .any(|t| identity_header(&t.trim().to_ascii_lowercase()))
        {
            push(
                "protocol_hop_by_hop_identity",
                format!("Connection: {}", points::cap_str(conn, 120)),
                0.8,
            );
            break;
        }
    }
    out
}

/// A header that carries who the client is: credentials, tokens, forwarding addresses.
fn identity_header(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "proxy-authorization" | "cookie" | "x-real-ip" | "forwarded"
    ) || name.starts_with("x-forwarded-")
        || (name.starts_with("x-")
            && (name.contains("auth") || name.contains("token") || name.contains("user")))
}

/// Builds a [`Request`] from its parts (for tests, examples and [`run_eval`]).
pub fn request_from_parts(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Request {
    Request {
        ts: model::Timestamp(0),
        method: method.to_owned(),
        target: target.to_owned(),
        version: model::HttpVersion::Http11,
        headers: model::Headers(
            headers
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        ),
        body: model::Body {
            len: body.len() as u64,
            data: body.to_vec(),
            decoded_from: None,
            truncated: false,
        },
        trailers: model::Headers::default(),
    }
}

#[cfg(test)]
mod tests;
