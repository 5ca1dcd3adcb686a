//! An attack seen in a request, with what the response says about its outcome.

use crate::flow::Endpoint;
use crate::time::Timestamp;
use serde::Serialize;

/// What the response says about an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The response shows the attack worked (database error, reflected script, file contents, ...).
    Succeeded,
    /// The application answered and showed no sign of success (e.g. 404, 400, escaped reflection).
    Failed,
    /// A WAF or the application refused the request (403/406, block page).
    Blocked,
    /// No response, or nothing conclusive in it.
    Unknown,
}

/// One attack found in one request point. Serialized as `{"type":"attack", ...}` in [`crate::Event`].
#[derive(Debug, Clone, Serialize)]
pub struct Attack {
    /// The exchange the request belongs to ([`crate::Exchange::id`]).
    pub exchange_id: u64,
    /// Time of the request.
    pub ts: Timestamp,
    /// The client that sent the request.
    pub client: Endpoint,
    /// The server it was sent to.
    pub server: Endpoint,
    /// Stable class name: `sqli`, `xss`, `rce`, `ptrav`, `rfi`, `ssrf`, `xxe`, `ssti`, `nosqli`, `ldapi`,
    /// `xpathi`, `crlf`, `log4shell`, `mail`, `ssi`, `deserialization`, `open_redirect`, `scanner`,
    /// `protocol`.
    pub class: String,
    /// Where in the request, in dotted form (`query.id`, `body.json.user.name`, `header.user-agent`).
    pub point: String,
    /// Name of the rule that matched (stable, for tuning and suppression).
    pub rule: String,
    /// The matched text after decoding, capped.
    pub excerpt: String,
    /// Confidence from 0 to 1.
    pub score: f32,
    /// What the response says.
    pub outcome: Outcome,
    /// Why the outcome was chosen (e.g. the database error text found in the response).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Request method.
    pub method: String,
    /// Request-target, capped.
    pub target: String,
    /// Response status, when a response was captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}
