//! One endpoint of the API inventory built by discovery (`{"type":"endpoint", ...}`).

use serde::Serialize;

/// An API endpoint learned from the traffic: a method on a path template of one host.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EndpointEvent {
    /// Host as the clients named it (`Host` header), else the server address.
    pub host: String,
    /// Request method.
    pub method: String,
    /// Path template, e.g. `/api/users/{userId}/orders/{orderId}`.
    pub path: String,
    /// Requests seen.
    pub hits: u64,
    /// First request seen (RFC 3339).
    pub first_seen: String,
    /// Last request seen (RFC 3339).
    pub last_seen: String,
    /// Parameters as `location:name:type`, e.g. `query:page:integer`.
    pub params: Vec<String>,
    /// Response status codes seen.
    pub statuses: Vec<u16>,
    /// Authentication kinds seen (`none`, `basic`, `bearer_jwt`, `bearer`, `api_key_header`, ...).
    pub auth: Vec<String>,
    /// Sensitive data seen, as `kind@where`, e.g. `email@response.body.email`.
    pub sensitive: Vec<String>,
    /// Risk score, 1 (low) to 10 (high).
    pub risk: u8,
    /// Why the risk score is what it is.
    pub risk_reasons: Vec<String>,
}
