//! Fingerprints of attack tools: User-Agent names and out-of-band interaction domains (Burp
//! Collaborator, interactsh, …) planted in requests.

use crate::identity::{self, hash_of};
use crate::incidents::Contribution;
use crate::{secs, Behaviour, Ctx};
use aho_corasick::AhoCorasick;
use periscope_model::{Attack, Event, Request, Severity};

/// Lower-case User-Agent substrings and the tool each names. Order matters: the first match
/// wins (`dirbuster` before `dirb`).
const TOOL_AGENTS: [(&str, &str); 28] = [
    ("sqlmap", "sqlmap"),
    ("nikto", "nikto"),
    ("nuclei", "nuclei"),
    ("gobuster", "gobuster"),
    ("dirbuster", "dirbuster"),
    ("feroxbuster", "feroxbuster"),
    ("dirb", "dirb"),
    ("wfuzz", "wfuzz"),
    ("fuzz faster u fool", "ffuf"),
    ("ffuf", "ffuf"),
    ("zgrab", "zgrab"),
    ("masscan", "masscan"),
    ("nmap scripting engine", "nmap"),
    ("nmap", "nmap"),
    ("acunetix", "acunetix"),
    ("netsparker", "netsparker"),
    ("wpscan", "wpscan"),
    ("openvas", "openvas"),
    ("arachni", "arachni"),
    ("w3af", "w3af"),
    ("skipfish", "skipfish"),
    ("whatweb", "whatweb"),
    ("jaeles", "jaeles"),
    ("commix", "commix"),
    ("hydra", "hydra"),
    ("zap/", "owasp zap"),
    ("burp", "burp"),
    ("xsstrike", "xsstrike"),
];

/// Domains of out-of-band interaction services: a request naming one is a scanner's probe.
const OAST_DOMAINS: [&str; 12] = [
    "burpcollaborator.net",
    "oastify.com",
    "oast.fun",
    "oast.me",
    "oast.pro",
    "oast.live",
    "oast.site",
    "oast.online",
    "interact.sh",
    "interactsh.com",
    "dnslog.cn",
    "canarytokens.com",
];

/// How many bytes of a request body are searched for interaction domains.
const BODY_SCAN: usize = 16 * 1024;

/// Finds tool fingerprints in requests without allocating (case-insensitive automata).
pub struct ToolMatcher {
    agents: Option<AhoCorasick>,
    domains: Option<AhoCorasick>,
}

impl ToolMatcher {
    /// Builds the automata.
    pub fn new() -> Self {
        let build = |pats: &[&str]| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(pats)
        };
        let agents: Vec<&str> = TOOL_AGENTS.iter().map(|(n, _)| *n).collect();
        // The patterns are fixed literals, so building does not fail; if it did, the matcher
        // would match nothing rather than panic.
        ToolMatcher {
            agents: build(&agents).ok(),
            domains: build(&OAST_DOMAINS).ok(),
        }
    }

    /// The tool a request names itself as, or the interaction domain it plants: `(tool, why)`.
    pub fn find(&self, req: &Request) -> Option<(&'static str, &'static str)> {
        if let (Some(ua), Some(agents)) = (req.headers.get("user-agent"), &self.agents) {
            // The earliest pattern in the list wins: `dirbuster` over `dirb`.
            if let Some(m) = agents
                .find_overlapping_iter(ua)
                .min_by_key(|m| m.pattern().as_usize())
            {
                return TOOL_AGENTS
                    .get(m.pattern().as_usize())
                    .map(|(_, tool)| (*tool, "User-Agent"));
            }
        }
        let domains = self.domains.as_ref()?;
        let body = &req.body.data[..req.body.data.len().min(BODY_SCAN)];
        let planted = domains.is_match(&req.target)
            || req.headers.0.iter().any(|(_, v)| domains.is_match(v))
            || domains.is_match(body);
        planted.then_some(("out-of-band probe", "interaction domain"))
    }
}

impl Default for ToolMatcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Behaviour {
    /// `scanner`: a tool fingerprint, or 4xx on many paths plus attacks of many classes. One
    /// incident per source IP, which then counts every request of that source.
    pub(crate) fn on_scanner(&mut self, c: &Ctx<'_>, attacks: &[Attack], out: &mut Vec<Event>) {
        let tool = self.tools.find(c.req());
        let flagged_by_detection = attacks.iter().find(|a| a.class == "scanner");
        let client_error = matches!(c.status, Some(400..=499));
        let other_classes = attacks.iter().any(|a| a.class != "scanner");
        // The common case (an ordinary request of a source not known as a scanner) costs one
        // table lookup and no allocation.
        if tool.is_none() && flagged_by_detection.is_none() && !client_error && !other_classes {
            match self.sources.get(&c.src) {
                Some(s) if s.scanner => {}
                _ => return,
            }
        }
        let key = format!("scanner|{}", c.src_label);
        let open = self.tracker.is_open(&key, c.ts);
        let mut reason = if open {
            None
        } else {
            tool.map(|(tool, why)| format!("{tool} ({why})"))
                .or_else(|| {
                    flagged_by_detection.map(|a| {
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
        let src = self.source(c.src);
        if client_error {
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
            && !open
            && src.error_paths.len() >= min_paths
            && src.classes.len() >= min_classes
        {
            reason = Some(format!(
                "behaviour ({min_paths}+ paths answered 4xx and {min_classes}+ attack classes within {} s)",
                window.as_secs()
            ));
        }
        src.scanner = open || reason.is_some();
        if !src.scanner {
            return;
        }
        // Opened by behaviour: the requests that showed it count, from the first of them.
        let by_behaviour = !open && tool.is_none() && flagged_by_detection.is_none();
        let (count, since) = if by_behaviour {
            (
                src.error_paths.len().max(1) as u64,
                src.error_paths.oldest(),
            )
        } else {
            (1, None)
        };
        self.tracker.add(
            &key,
            Contribution {
                ts: c.ts,
                exchange_id: Some(c.ex.id),
                target: Some(c.path),
                count,
                since,
            },
            || (c.incident("scanner", Severity::Medium, Vec::new()), 1),
            |inc| {
                if let Some(r) = reason {
                    inc.summary = format!("scanner at {}: {r}", c.src_label);
                }
                let head = inc.summary.split("; ").next().unwrap_or("").to_string();
                inc.summary = format!("{head}; {} requests", inc.count);
            },
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use periscope_model::{Body, Headers, HttpVersion, Timestamp};

    fn req(ua: &str, target: &str) -> Request {
        Request {
            ts: Timestamp(0),
            method: "GET".into(),
            target: target.into(),
            version: HttpVersion::Http11,
            headers: Headers(vec![("User-Agent".into(), ua.into())]),
            body: Body::default(),
            trailers: Headers::default(),
        }
    }

    #[test]
    fn tools() {
        let m = ToolMatcher::new();
        assert_eq!(
            m.find(&req("DirBuster-1.0-RC1", "/")).map(|t| t.0),
            Some("dirbuster")
        );
        assert_eq!(
            m.find(&req("Mozilla/5.0 (compatible; Nmap Scripting Engine)", "/"))
                .map(|t| t.0),
            Some("nmap")
        );
        assert_eq!(m.find(&req("Mozilla/5.0 Firefox/128.0", "/")), None);
        assert_eq!(
            m.find(&req("curl/8", "/?u=http://abc.OASTIFY.com"))
                .map(|t| t.1),
            Some("interaction domain")
        );
    }
}
