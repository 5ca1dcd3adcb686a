//! OpenAPI 3.1 export of the inventory, as a `serde_json::Value` built by hand (so that
//! every keyword is under our control) and written as YAML or JSON.

use crate::auth::AuthKind;
use crate::inventory::{EndpointSummary, Inventory, Location};
use crate::DiscoverError;
use serde_json::{json, Map, Value};
use std::path::Path;

/// Name of the security scheme for an auth kind in `components.securitySchemes`, with its
/// definition; `None` for "no credentials".
fn security_scheme(a: &AuthKind) -> Option<(String, Value)> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    Some(match a {
        AuthKind::None => return None,
        AuthKind::Basic => (
            "basicAuth".into(),
            json!({"type": "http", "scheme": "basic"}),
        ),
        AuthKind::BearerJwt => (
            "bearerJwt".into(),
            json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}),
        ),
        AuthKind::Bearer => (
            "bearerAuth".into(),
            json!({"type": "http", "scheme": "bearer"}),
        ),
        AuthKind::OtherAuthorization(s) => {
            let scheme = if s.is_empty() {
                "unknown".to_string()
            } else {
                s.to_ascii_lowercase()
            };
            (
                format!("http_{}", clean(&scheme)),
                json!({"type": "http", "scheme": scheme}),
            )
        }
        AuthKind::ApiKeyHeader(n) => (
            format!("apiKeyHeader_{}", clean(n)),
            json!({"type": "apiKey", "in": "header", "name": n}),
        ),
        AuthKind::ApiKeyQuery(n) => (
            format!("apiKeyQuery_{}", clean(n)),
            json!({"type": "apiKey", "in": "query", "name": n}),
        ),
        AuthKind::CookieSession(n) => (
            format!("cookie_{}", clean(n)),
            json!({"type": "apiKey", "in": "cookie", "name": n}),
        ),
    })
}

/// `GET /api/users/{userId}` → `get_api_users_userId`.
fn operation_id(e: &EndpointSummary) -> String {
    let mut id = e.method.to_ascii_lowercase();
    for seg in e.path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.extend(
            seg.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_'),
        );
    }
    id
}

/// An operation object for one endpoint; adds its security schemes to `schemes`.
fn operation(e: &EndpointSummary, schemes: &mut Map<String, Value>) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(operation_id(e)));
    op.insert(
        "summary".into(),
        json!(format!("{} {} (seen {} times)", e.method, e.path, e.hits)),
    );
    let params: Vec<Value> = e
        .params
        .iter()
        .filter(|p| p.location != Location::Body)
        .map(|p| {
            json!({
                "name": p.name,
                "in": p.location.as_str(),
                "required": p.location == Location::Path || p.required,
                "schema": p.schema,
            })
        })
        .collect();
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if !e.request_bodies.is_empty() {
        let mut content = Map::new();
        for b in &e.request_bodies {
            content.insert(b.media_type.clone(), json!({"schema": b.schema}));
        }
        op.insert(
            "requestBody".into(),
            json!({"required": e.requests_with_body >= e.sampled, "content": content}),
        );
    }
    let mut responses = Map::new();
    for r in &e.responses {
        let mut resp = Map::new();
        resp.insert(
            "description".into(),
            json!(format!("Seen {} times", r.count)),
        );
        if !r.bodies.is_empty() {
            let mut content = Map::new();
            for b in &r.bodies {
                content.insert(b.media_type.clone(), json!({"schema": b.schema}));
            }
            resp.insert("content".into(), Value::Object(content));
        }
        responses.insert(r.status.to_string(), Value::Object(resp));
    }
    if responses.is_empty() {
        responses.insert(
            "default".into(),
            json!({"description": "No response was captured"}),
        );
    }
    op.insert("responses".into(), Value::Object(responses));
    let mut security = Vec::new();
    let mut anonymous = false;
    for (a, _) in &e.auth {
        match security_scheme(a) {
            Some((name, def)) => {
                schemes.insert(name.clone(), def);
                let mut req = Map::new();
                req.insert(name, json!([]));
                security.push(Value::Object(req));
            }
            None => anonymous = true,
        }
    }
    if anonymous && !security.is_empty() {
        security.push(json!({}));
    }
    op.insert("security".into(), Value::Array(security));
    let sensitive: Vec<Value> = e
        .sensitive
        .iter()
        .map(|s| json!({"kind": s.kind.as_str(), "place": s.place, "count": s.count}))
        .collect();
    op.insert(
        "x-periscope".into(),
        json!({
            "hits": e.hits,
            "firstSeen": e.first_seen.to_rfc3339(),
            "lastSeen": e.last_seen.to_rfc3339(),
            "risk": e.risk,
            "riskReasons": e.risk_reasons,
            "sensitive": sensitive,
        }),
    );
    Value::Object(op)
}

/// Builds an OpenAPI 3.1 document of `endpoints` served by `hosts`.
pub fn document(endpoints: &[EndpointSummary], hosts: &[String], title: &str) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut schemes = Map::new();
    for e in endpoints {
        let item = paths.entry(e.path.clone()).or_insert_with(|| json!({}));
        let method = e.method.to_ascii_lowercase();
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        // OpenAPI has fixed fields for the standard methods only; others are left out.
        if !matches!(
            method.as_str(),
            "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
        ) {
            continue;
        }
        // With several hosts the same path may appear twice: the first (busiest host order) wins.
        item.entry(method)
            .or_insert_with(|| operation(e, &mut schemes));
    }
    let servers: Vec<Value> = hosts
        .iter()
        .map(|h| json!({"url": format!("http://{h}")}))
        .collect();
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": "discovered",
            "description": "Generated by Periscope from observed traffic. Parameters, schemas and security are inferred, not declared."
        },
        "paths": paths,
    });
    if let Some(obj) = doc.as_object_mut() {
        if !servers.is_empty() {
            obj.insert("servers".into(), Value::Array(servers));
        }
        if !schemes.is_empty() {
            obj.insert("components".into(), json!({"securitySchemes": schemes}));
        }
    }
    doc
}

impl Inventory {
    /// The inventory as an OpenAPI 3.1 document (all hosts; see [`Inventory::to_openapi_host`]).
    pub fn to_openapi(&self) -> Value {
        let hosts = self.hosts();
        let title = match hosts.as_slice() {
            [one] => format!("API of {one} (discovered)"),
            _ => "Discovered API".to_string(),
        };
        document(&self.endpoints(), &hosts, &title)
    }

    /// One host's endpoints as an OpenAPI 3.1 document.
    pub fn to_openapi_host(&self, host: &str) -> Value {
        let eps: Vec<EndpointSummary> = self
            .endpoints()
            .into_iter()
            .filter(|e| e.host == host)
            .collect();
        document(
            &eps,
            &[host.to_string()],
            &format!("API of {host} (discovered)"),
        )
    }

    /// Writes [`Inventory::to_openapi`] to `path`: JSON when it ends in `.json`, YAML otherwise.
    pub fn write_openapi(&self, path: &Path) -> Result<(), DiscoverError> {
        write_document(&self.to_openapi(), path)
    }
}

/// Writes a document as JSON (`.json`) or YAML.
pub fn write_document(doc: &Value, path: &Path) -> Result<(), DiscoverError> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let text = if is_json {
        serde_json::to_string_pretty(doc).map_err(|e| DiscoverError::Format(e.to_string()))?
    } else {
        yaml_serde::to_string(doc).map_err(|e| DiscoverError::Format(e.to_string()))?
    };
    std::fs::write(path, text).map_err(|e| DiscoverError::Io(path.display().to_string(), e))
}
