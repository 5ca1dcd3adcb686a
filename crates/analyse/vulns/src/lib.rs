//! Passive vulnerability detection: weaknesses the application shows in its answers.
//!
//! **Input:** each [`Exchange`](periscope_model::Exchange) of a run with the
//! [`Attack`](periscope_model::Attack)s the detector found in it. **Output:**
//! [`Event::Vulnerability`](periscope_model::Event::Vulnerability) events, deduplicated: a
//! finding is keyed by kind, host, method and endpoint template (or host-wide, see below) and
//! what tells two apart (cookie name, header, parameter, rule); the first sighting is emitted
//! at once, later ones raise `count`/`last_seen` and are re-emitted with the same `key` at most
//! every [`ScannerConfig::reemit_interval`] of capture time and at [`Scanner::finish`].
//!
//! | kind | scope | what |
//! |---|---|---|
//! | `stack_trace` | endpoint, language | Java, Python, PHP, .NET, Node.js, Go, Ruby traces |
//! | `sql_error` | endpoint, database | MySQL, PostgreSQL, SQLite, Oracle, SQL Server … messages |
//! | `version_disclosure` | host, header + product | a version number in `Server`, `X-Powered-By` …, or error-page banners |
//! | `secret_in_response` | endpoint, secret kind | AWS/GCP/Azure keys, PEM keys, Slack/GitHub/Stripe tokens, passwords |
//! | `cleartext_credentials` | host (headers, cookies) or endpoint (passwords) | credentials over plain HTTP |
//! | `weak_jwt` | host, reason | `alg_none`, `weak_secret` (signature verifies), `no_exp`, `long_lifetime` |
//! | `insecure_cookie` | host, cookie name | session cookie without Secure (HTTPS only) / HttpOnly / SameSite |
//! | `cors_misconfiguration` | endpoint | another site's Origin reflected with credentials, or `null` |
//! | `missing_security_headers` | host | CSP, frame protection, nosniff, HSTS (HTTPS) on 2xx HTML |
//! | `directory_listing` | endpoint | nginx, Apache, IIS, Tomcat, lighttpd, Python index pages |
//! | `exposed_file` / `exposed_admin` | endpoint | `.git`, `.env`, backups, dumps / phpMyAdmin, Tomcat manager, actuator, status pages, each checked by content |
//! | `open_redirect` | endpoint, parameter | 3xx to another host named in a parameter |
//! | `reflected_xss` | endpoint, parameter | an HTML-special parameter value echoed unescaped into HTML |
//! | `confirmed_attack` | endpoint, class + point | attacks marked `succeeded` |
//!
//! Each check's module documents its rules and the false positives it avoids.
//!
//! **Endpoint template:** our own small templater ([`endpoint_template`]: numeric ids, UUIDs,
//! hashes, long tokens, e-mail addresses become `{id}`), since analysers do not import each other.
//!
//! **Decisions worth knowing:** *plain HTTP* — from a mirror or a file every parsed exchange was
//! plaintext on the wire, except requests a TLS-terminating proxy marked
//! (`X-Forwarded-Proto: https`); from the eBPF agent, ports in [`ScannerConfig::tls_ports`] are
//! HTTPS (see [`TrafficSource`]). A session cookie's missing `Secure` and a missing HSTS header
//! are reported only for exchanges known to be HTTPS (on plain HTTP the finding is
//! `cleartext_credentials`); `HttpOnly` and `SameSite` always. Exposed files count only when the
//! body looks like the file (soft-404 pages do not); stack traces in JSON count only under
//! error-like keys, never under documentation keys; a JWT secret is weak only when the
//! signature verifies with it. Evidence is capped near 200 characters, secrets keep a short
//! prefix, and `name=value` assignments of secret-looking names are masked in every excerpt.
//!
//! **Time:** new findings are emitted at once; re-emission of changed ones runs on capture
//! time, from [`Scanner::tick`] and from each exchange's timestamp. **Limits:** the findings table holds
//! [`ScannerConfig::max_findings`] entries (LRU eviction, a changed entry is emitted before it
//! goes); bodies are scanned up to [`ScannerConfig::max_scan_bytes`], only when they are text
//! (HTML, JSON, XML, JavaScript, plain), and only the checks whose anchor strings one
//! Aho-Corasick pass found run their regular expressions. JWT verdicts are cached per token.
//! Nothing in the traffic can make the scanner fail or panic.
//!
//! ```
//! use periscope_vulns::{Scanner, ScannerConfig};
//! let mut scanner = Scanner::new(ScannerConfig::default())?;
//! let mut out = Vec::new();
//! // for each exchange: scanner.on_exchange(&exchange, &attacks, &mut out);
//! scanner.finish(&mut out);
//! assert!(out.is_empty());
//! # Ok::<(), periscope_vulns::ConfigError>(())
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod checks;
mod config;
mod error;
mod scanner;
mod text;

#[cfg(test)]
mod tests;

pub use checks::jwt::COMMON_SECRETS;
pub use config::{ScannerConfig, TrafficSource, KINDS};
pub use error::ConfigError;
pub use scanner::{Scanner, ScannerStats};
pub use text::endpoint_template;
