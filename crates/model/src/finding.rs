//! Findings that span more than one request: passive vulnerabilities the application shows in
//! its answers, and incidents (behavioural abuse, and hits grouped into attacks).

use crate::flow::Endpoint;
use crate::time::Timestamp;
use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing (missing hardening headers, version banners).
    Info,
    /// A weakness that needs another flaw to hurt.
    Low,
    /// A weakness an attacker can use directly in some cases.
    Medium,
    /// Directly exploitable or already exploited.
    High,
    /// Confirmed compromise or secrets exposed.
    Critical,
}

/// A weakness the application shows in its answers. Serialized as `{"type":"vulnerability", ...}`.
/// Deduplicated per host, endpoint and kind: a later event with the same [`Vulnerability::key`]
/// replaces the earlier one (counts and last-seen grow).
#[derive(Debug, Clone, Serialize)]
pub struct Vulnerability {
    /// Stable kind name, e.g. `stack_trace`, `sql_error`, `version_disclosure`, `secret_in_response`,
    /// `weak_jwt`, `insecure_cookie`, `cors_misconfiguration`, `missing_security_headers`,
    /// `directory_listing`, `exposed_file`, `open_redirect`, `reflected_xss`, `confirmed_attack`.
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// Host as the clients named it (`Host` header), else the server address.
    pub host: String,
    /// The server that answered.
    pub server: Endpoint,
    /// Request method of the first exchange that showed it (empty for host-wide findings).
    pub method: String,
    /// Path template of the endpoint (`/users/{id}`), or `*` for host-wide findings.
    pub endpoint: String,
    /// What was found, one line, e.g. "Java stack trace (java.lang.NullPointerException)".
    pub title: String,
    /// The text that shows it, capped and with secrets masked.
    pub evidence: String,
    /// The exchange that first showed it.
    pub exchange_id: u64,
    /// First time seen.
    pub first_seen: Timestamp,
    /// Last time seen.
    pub last_seen: Timestamp,
    /// Exchanges that showed it.
    pub count: u64,
    /// Deduplication key (`kind|host|method|endpoint` and whatever else tells two apart).
    pub key: String,
}

/// Something seen across many requests. Serialized as `{"type":"incident", ...}`. An incident
/// that goes on is emitted again with the same [`Incident::key`]; the later one replaces it.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    /// Stable kind name: `attack` (hits of one class from one client against one target, grouped),
    /// `campaign` (attacks of one client grouped), `forced_browsing`, `brute_force`,
    /// `credential_stuffing`, `bola`, `scanner`.
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// Who: the client identity as decided (real IP behind a trusted proxy, API key, JWT subject, ...),
    /// e.g. `ip:203.0.113.9` or `jwt:alice`.
    pub client: String,
    /// The client's IP address (the real one when a trusted proxy said so).
    pub client_ip: std::net::IpAddr,
    /// Host attacked (`Host` header), else the server address.
    pub host: String,
    /// What was targeted: endpoint templates, accounts, paths (capped list).
    pub targets: Vec<String>,
    /// Attack classes involved (for `attack` and `campaign`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// One line a person reads, e.g. "412 missing paths in 60 s".
    pub summary: String,
    /// Requests (or hits) counted.
    pub count: u64,
    /// First time seen.
    pub first_seen: Timestamp,
    /// Last time seen.
    pub last_seen: Timestamp,
    /// Some of the exchanges involved (capped), for drilling down.
    pub exchange_ids: Vec<u64>,
    /// Worst outcome among the grouped attacks (`succeeded` > `unknown` > `failed` > `blocked`), for
    /// `attack` and `campaign`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<crate::attack::Outcome>,
    /// Deduplication key: the same incident going on keeps its key.
    pub key: String,
}
