//! Did it work? Reads the response for signs of success, failure or blocking, per hit.

use crate::class::Class;
use aho_corasick::AhoCorasick;
use model::{Outcome, Response};
use regex::Regex;

/// Compiled response signatures.
pub(crate) struct OutcomeRules {
    db_errors: AhoCorasick,
    block_pages: AhoCorasick,
    passwd: Regex,
    win_ini: Regex,
    cmd_output: Regex,
    arith: Regex,
}

const DB_ERRORS: &[&str] = &[
    "you have an error in your sql syntax",
    "warning: mysql",
    "mysql_fetch",
    "mysqli_",
    "supplied argument is not a valid mysql",
    "unclosed quotation mark after the character string",
    "quoted string not properly terminated",
    "microsoft ole db provider for sql server",
    "odbc sql server driver",
    "sqlserver jdbc driver",
    "system.data.sqlclient.sqlexception",
    "ora-00933",
    "ora-00921",
    "ora-01756",
    "ora-00936",
    "oracle error",
    "pg_query()",
    "pg_exec()",
    "postgresql query failed",
    "syntax error at or near",
    "unterminated quoted string at or near",
    "psqlexception",
    "sqlstate[",
    "sqlite3.operationalerror",
    "sqlite_error",
    "sqliteexception",
    "near \"",
    "java.sql.sqlexception",
    "java.sql.sqlsyntaxerrorexception",
    "org.hibernate.exception",
    "pdoexception",
    "db2 sql error",
    "sybase message",
    "unknown column '",
    "mongoerror",
    "mongoservererror",
    "castError: cast to objectid failed",
];

const BLOCK_PAGES: &[&str] = &[
    "request rejected",
    "the requested url was rejected",
    "access denied",
    "web application firewall",
    "modsecurity",
    "mod_security",
    "not acceptable!",
    "blocked by",
    "attention required! | cloudflare",
    "sorry, you have been blocked",
    "incapsula incident",
    "request blocked",
    "akamai",
    "aws waf",
    "forbidden",
    "fortiweb",
    "barracuda",
    "wallarm",
    "your request has been blocked",
    "security policy",
];

impl OutcomeRules {
    pub fn new() -> anyhow::Result<Self> {
        Ok(OutcomeRules {
            db_errors: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(DB_ERRORS)?,
            block_pages: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(BLOCK_PAGES)?,
            passwd: Regex::new(r"root:[x*!]?:0:0:|daemon:[x*]:\d+:\d+:|nobody:[x*]:\d+:\d+:")?,
            win_ini: Regex::new(
                r"(?i)\[fonts\]|\[extensions\]|; for 16-bit app support|\[boot loader\]",
            )?,
            cmd_output: Regex::new(
                r"uid=\d+\([\w.-]+\)\s+gid=\d+|(?i)volume serial number is|directory of [a-z]:\\|linux \S+ \d+\.\d+\.\d+\S* #\d|\bWindows IP Configuration\b|inet \d+\.\d+\.\d+\.\d+ netmask",
            )?,
            arith: Regex::new(r"(\d{1,6})\s*\*\s*(\d{1,6})")?,
        })
    }

    /// The outcome of one hit of class `class` whose matched text is `excerpt`.
    pub fn judge(
        &self,
        class: Class,
        excerpt: &str,
        value: &str,
        resp: Option<&Response>,
    ) -> (Outcome, Option<String>) {
        let Some(r) = resp else {
            return (Outcome::Unknown, Some("no response captured".into()));
        };
        let body = String::from_utf8_lossy(
            r.body
                .data
                .get(..(256 * 1024).min(r.body.data.len()))
                .unwrap_or(&[]),
        );
        let ct = r
            .headers
            .get("content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        // Success signatures first: a WAF in block mode does not print /etc/passwd.
        let found = |re: &Regex| re.find(&body).map(|m| m.as_str().to_owned());
        let success = match class {
            Class::Sqli | Class::Nosqli => self.db_errors.find(body.as_ref()).map(|m| {
                format!(
                    "database error in response: {:?}",
                    snippet(&body, m.start(), 80)
                )
            }),
            Class::Ptrav | Class::Xxe | Class::Rfi => found(&self.passwd)
                .or_else(|| found(&self.win_ini))
                .map(|m| format!("file contents in response: {m:?}")),
            Class::Rce | Class::Ssi | Class::Deserialization | Class::Log4shell => {
                found(&self.cmd_output)
                    .or_else(|| found(&self.passwd))
                    .or_else(|| self.arith_result(value, &body))
                    .map(|m| format!("command output in response: {m:?}"))
            }
            Class::Ssti => self
                .arith_result(value, &body)
                .map(|m| format!("template evaluated: {m} in response")),
            Class::Xss => {
                // The whole decoded value, or at least the matched markup, echoed as sent.
                let v = value.trim();
                let reflected = (v.len() >= 8 && body.contains(v))
                    || (excerpt.len() >= 8 && body.contains(excerpt.trim_end_matches('…')));
                (reflected && (ct.contains("html") || ct.is_empty()))
                    .then(|| "payload reflected unescaped in an HTML response".to_owned())
            }
            Class::Crlf => {
                let injected = r.headers.0.iter().find(|(n, v)| {
                    let l = excerpt.to_ascii_lowercase();
                    l.contains(&n.to_ascii_lowercase())
                        && !v.is_empty()
                        && l.contains(&v.to_ascii_lowercase())
                });
                injected.map(|(n, v)| format!("injected header in response: {n}: {v}"))
            }
            Class::OpenRedirect => {
                let loc = r.headers.get("location").unwrap_or("");
                let l = excerpt.trim_end_matches('…');
                ((300..400).contains(&r.status) && !l.is_empty() && loc.starts_with(l))
                    .then(|| format!("redirected to {loc:?}"))
            }
            Class::Ssrf => {
                let l = body.to_ascii_lowercase();
                (l.contains("ami-id")
                    || l.contains("instance-id")
                    || l.contains("accesskeyid")
                    || l.contains("computemetadata"))
                .then(|| "cloud metadata in response".to_owned())
            }
            _ => None,
        };
        if let Some(ev) = success {
            return (Outcome::Succeeded, Some(ev));
        }
        if matches!(r.status, 403 | 406 | 419 | 429 | 451 | 501)
            || r.status == 400 && self.block_pages.is_match(body.as_ref())
        {
            let page = self
                .block_pages
                .find(body.as_ref())
                .map(|m| snippet(&body, m.start(), 60));
            let ev = match page {
                Some(p) => format!("status {} with block page: {p:?}", r.status),
                None => format!("status {}", r.status),
            };
            return (Outcome::Blocked, Some(ev));
        }
        if r.status >= 500 {
            return (
                Outcome::Unknown,
                Some(format!(
                    "status {}: the payload reached code that failed",
                    r.status
                )),
            );
        }
        match r.status {
            404 | 405 | 400 | 401 | 410 | 422 => {
                (Outcome::Failed, Some(format!("status {}", r.status)))
            }
            _ => match class {
                // Reflection classes can be judged from a page that does not reflect.
                Class::Xss if ct.contains("html") => {
                    (Outcome::Failed, Some("not reflected unescaped".into()))
                }
                Class::OpenRedirect if !(300..400).contains(&r.status) => (
                    Outcome::Failed,
                    Some(format!("status {}, no redirect", r.status)),
                ),
                _ => (Outcome::Unknown, None),
            },
        }
    }

    /// `7*7` in the payload and `49` in the body (but not `7*7` itself).
    fn arith_result(&self, excerpt: &str, body: &str) -> Option<String> {
        for c in self.arith.captures_iter(excerpt).take(4) {
            let a: u64 = c.get(1)?.as_str().parse().ok()?;
            let b: u64 = c.get(2)?.as_str().parse().ok()?;
            let p = (a * b).to_string();
            if p.len() >= 3 && body.contains(&p) {
                return Some(p);
            }
        }
        None
    }
}

fn snippet(s: &str, start: usize, n: usize) -> String {
    let mut st = start;
    while st > 0 && !s.is_char_boundary(st) {
        st -= 1;
    }
    s.get(st..).unwrap_or("").chars().take(n).collect()
}
