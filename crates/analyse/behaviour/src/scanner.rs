//! Fingerprints of attack tools: User-Agent names and out-of-band interaction domains (Burp
//! Collaborator, interactsh, …) planted in requests.

use periscope_model::Request;

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

/// The tool a request names itself as, or the interaction domain it plants: `(tool, why)`.
pub fn tool_fingerprint(req: &Request) -> Option<(&'static str, &'static str)> {
    if let Some(ua) = req.headers.get("user-agent") {
        let ua = ua.to_ascii_lowercase();
        if let Some((_, tool)) = TOOL_AGENTS.iter().find(|(needle, _)| ua.contains(needle)) {
            return Some((tool, "User-Agent"));
        }
    }
    let mentions = |text: &str| {
        let t = text.to_ascii_lowercase();
        OAST_DOMAINS.iter().any(|d| t.contains(d))
    };
    if mentions(&req.target) || req.headers.0.iter().any(|(_, v)| mentions(v)) {
        return Some(("out-of-band probe", "interaction domain"));
    }
    let body = &req.body.data[..req.body.data.len().min(BODY_SCAN)];
    if !body.is_empty() && mentions(&String::from_utf8_lossy(body)) {
        return Some(("out-of-band probe", "interaction domain"));
    }
    None
}
