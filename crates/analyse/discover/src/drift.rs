//! Drift between the traffic and a declared OpenAPI 3.0 or 3.1 spec: shadow endpoints (used,
//! undeclared), orphans (declared, never used), zombies (deprecated or superseded versions
//! still called) and mismatches (undocumented parameters and statuses, wrong types).

use crate::inventory::{is_version, EndpointSummary, Inventory, Location};
use crate::DiscoverError;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// Most operations read from a spec.
const MAX_SPEC_OPS: usize = 20_000;

/// A declared parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecParam {
    /// Name.
    pub name: String,
    /// `path`, `query`, `header`, `cookie`, or `body` for a top-level request body property.
    pub location: String,
    /// Declared type, when stated.
    pub ty: Option<String>,
}

/// A declared operation.
#[derive(Debug, Clone, Serialize)]
pub struct SpecOperation {
    /// Full path template (server base path included).
    pub path: String,
    /// Upper-case method.
    pub method: String,
    /// `deprecated: true`.
    pub deprecated: bool,
    /// Parameters, path-level ones included.
    pub params: Vec<SpecParam>,
    /// Response keys (`200`, `4XX`, `default`).
    pub statuses: Vec<String>,
    /// Whether a request body schema with properties was declared (undocumented body fields
    /// are only reported then).
    pub body_declared: bool,
}

/// A spec reduced to what drift needs.
#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    /// `openapi` version string.
    pub version: String,
    /// Operations.
    pub operations: Vec<SpecOperation>,
}

/// An endpoint named in a drift report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DriftEndpoint {
    /// Host (empty for orphans).
    pub host: String,
    /// Method.
    pub method: String,
    /// Observed template (orphans: the spec path).
    pub path: String,
    /// Requests seen.
    pub hits: u64,
    /// Why (zombies), or the spec path it matched.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// What kind of mismatch.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// A parameter sent but not declared.
    UndocumentedParameter,
    /// A status code returned but not declared.
    UndocumentedStatus,
    /// Values that do not fit the declared type.
    TypeMismatch,
}

/// A difference on an endpoint that is in both.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// `host METHOD template`.
    pub endpoint: String,
    /// The spec path it matched.
    pub spec_path: String,
    /// Kind.
    pub kind: MismatchKind,
    /// Human-readable detail.
    pub detail: String,
}

/// The drift report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Drift {
    /// Used but not in the spec.
    pub shadow: Vec<DriftEndpoint>,
    /// In the spec, never seen.
    pub orphan: Vec<DriftEndpoint>,
    /// Deprecated in the spec or an old version, still called.
    pub zombie: Vec<DriftEndpoint>,
    /// Differences on matched endpoints.
    pub mismatches: Vec<Mismatch>,
}

/// Reads an OpenAPI 3.0/3.1 document, YAML or JSON (JSON is YAML).
pub fn load_spec(path: &Path) -> Result<Spec, DiscoverError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| DiscoverError::Io(path.display().to_string(), e))?;
    parse_spec(&text).map_err(|e| match e {
        DiscoverError::Spec(m) => DiscoverError::Spec(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// YAML → JSON value, stringifying non-string keys (`200:` in responses).
fn yaml_to_json(v: yaml_serde::Value, depth: usize) -> Value {
    use yaml_serde::Value as Y;
    if depth > 128 {
        return Value::Null;
    }
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(
            seq.into_iter()
                .map(|x| yaml_to_json(x, depth + 1))
                .collect(),
        ),
        Y::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    _ => continue,
                };
                out.insert(key, yaml_to_json(v, depth + 1));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value, depth + 1),
    }
}

/// Follows local `$ref`s (`#/components/...`), at most 16 hops.
fn resolve<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => match root.pointer(r.trim_start_matches('#')) {
                Some(t) => v = t,
                None => return v,
            },
            _ => return v,
        }
    }
    v
}

/// The declared type of a schema: first non-null entry of a 3.1 type array, or 3.0 `type`.
fn schema_type(root: &Value, s: &Value) -> Option<String> {
    let s = resolve(root, s);
    match s.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(str::to_string),
        _ => {
            // oneOf/anyOf of one type: take the first typed branch.
            for key in ["allOf", "oneOf", "anyOf"] {
                if let Some(Value::Array(xs)) = s.get(key) {
                    if let Some(t) = xs.iter().find_map(|x| schema_type(root, x)) {
                        return Some(t);
                    }
                }
            }
            None
        }
    }
}

/// Parses the text of an OpenAPI document.
pub fn parse_spec(text: &str) -> Result<Spec, DiscoverError> {
    let y: yaml_serde::Value =
        yaml_serde::from_str(text).map_err(|e| DiscoverError::Spec(e.to_string()))?;
    let root = yaml_to_json(y, 0);
    let version = root
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !version.starts_with("3.") {
        return Err(DiscoverError::Spec(format!(
            "not an OpenAPI 3.x document (openapi: {version:?})"
        )));
    }
    let base = root
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .map(server_base_path)
        .unwrap_or_default();
    let mut operations = Vec::new();
    let Some(paths) = root.get("paths").and_then(Value::as_object) else {
        return Ok(Spec {
            version,
            operations,
        });
    };
    for (p, item) in paths {
        let item = resolve(&root, item);
        let path_params: Vec<SpecParam> = params_of(&root, item.get("parameters"));
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            let Some(op) = item.get(method) else { continue };
            if operations.len() >= MAX_SPEC_OPS {
                break;
            }
            let mut params = params_of(&root, op.get("parameters"));
            for pp in &path_params {
                if !params
                    .iter()
                    .any(|q| q.name == pp.name && q.location == pp.location)
                {
                    params.push(pp.clone());
                }
            }
            let mut body_declared = false;
            if let Some(content) = op
                .get("requestBody")
                .map(|b| resolve(&root, b))
                .and_then(|b| b.get("content"))
                .and_then(Value::as_object)
            {
                for media in content.values() {
                    let Some(schema) = media.get("schema").map(|s| resolve(&root, s)) else {
                        continue;
                    };
                    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                        body_declared = true;
                        for (name, ps) in props {
                            if !params
                                .iter()
                                .any(|q| q.location == "body" && q.name == *name)
                            {
                                params.push(SpecParam {
                                    name: name.clone(),
                                    location: "body".into(),
                                    ty: schema_type(&root, ps),
                                });
                            }
                        }
                    }
                }
            }
            let statuses = op
                .get("responses")
                .and_then(Value::as_object)
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            operations.push(SpecOperation {
                path: join_path(&base, p),
                method: method.to_ascii_uppercase(),
                deprecated: op
                    .get("deprecated")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                params,
                statuses,
                body_declared,
            });
        }
    }
    Ok(Spec {
        version,
        operations,
    })
}

fn params_of(root: &Value, list: Option<&Value>) -> Vec<SpecParam> {
    let Some(Value::Array(list)) = list else {
        return Vec::new();
    };
    list.iter()
        .map(|p| resolve(root, p))
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?.to_string();
            let location = p.get("in")?.as_str()?.to_string();
            let ty = p.get("schema").and_then(|s| schema_type(root, s));
            Some(SpecParam { name, location, ty })
        })
        .collect()
}

/// The path part of a server URL (`https://h/api/v1` → `/api/v1`); empty for templated ones.
fn server_base_path(url: &str) -> String {
    let rest = match url.split_once("://") {
        Some((_, after)) => after
            .find('/')
            .and_then(|i| after.get(i..))
            .unwrap_or_default(),
        None => url,
    };
    if rest.contains('{') {
        return String::new();
    }
    rest.trim_end_matches('/').to_string()
}

fn join_path(base: &str, p: &str) -> String {
    if base.is_empty() {
        p.to_string()
    } else {
        format!("{base}/{}", p.trim_start_matches('/'))
    }
}

/// Path segments, `None` for a template variable.
fn segments(p: &str) -> Vec<Option<&str>> {
    p.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                None
            } else {
                Some(s)
            }
        })
        .collect()
}

/// How well an observed template matches a spec path: `None` when it does not; higher when
/// more segments agree literally.
fn match_score(observed: &[Option<&str>], spec: &[Option<&str>]) -> Option<usize> {
    if observed.len() != spec.len() {
        return None;
    }
    let mut score = 0;
    for (o, s) in observed.iter().zip(spec) {
        match (o, s) {
            (Some(a), Some(b)) if a == b => score += 2,
            (None, None) => score += 2,
            // A literal the spec declares as a variable (`/users/me` under `/users/{id}`).
            (Some(_), None) => score += 1,
            _ => return None,
        }
    }
    Some(score)
}

/// Whether observed values of type `seen` fit a declared type.
fn type_fits(declared: &str, seen: &str) -> bool {
    match declared {
        "integer" => seen == "integer",
        "number" => seen == "integer" || seen == "number",
        "boolean" => seen == "boolean",
        "string" => !matches!(seen, "object" | "array"),
        "object" => seen == "object",
        "array" => seen == "array" || seen != "object",
        _ => true,
    }
}

fn status_documented(statuses: &[String], code: u16) -> bool {
    let exact = code.to_string();
    let range = format!("{}XX", code / 100);
    statuses
        .iter()
        .any(|s| *s == exact || s.eq_ignore_ascii_case(&range) || s == "default")
}

impl Inventory {
    /// Compares the inventory with a declared spec.
    pub fn drift(&self, spec: &Spec) -> Drift {
        drift(&self.endpoints(), spec)
    }
}

/// Compares endpoints with a declared spec.
pub fn drift(endpoints: &[EndpointSummary], spec: &Spec) -> Drift {
    let mut d = Drift::default();
    let spec_segs: Vec<Vec<Option<&str>>> =
        spec.operations.iter().map(|o| segments(&o.path)).collect();
    let mut used = vec![false; spec.operations.len()];
    for e in endpoints {
        let segs = segments(&e.path);
        let best = spec
            .operations
            .iter()
            .enumerate()
            .filter(|(_, o)| o.method == e.method)
            .filter_map(|(i, _)| Some((i, match_score(&segs, spec_segs.get(i)?)?)))
            .max_by_key(|(_, s)| *s);
        let Some((i, _)) = best else {
            d.shadow.push(DriftEndpoint {
                host: e.host.clone(),
                method: e.method.clone(),
                path: e.path.clone(),
                hits: e.hits,
                note: String::new(),
            });
            continue;
        };
        let Some(op) = spec.operations.get(i) else {
            continue;
        };
        if let Some(u) = used.get_mut(i) {
            *u = true;
        }
        if op.deprecated {
            d.zombie.push(DriftEndpoint {
                host: e.host.clone(),
                method: e.method.clone(),
                path: e.path.clone(),
                hits: e.hits,
                note: format!("deprecated in the spec ({})", op.path),
            });
        }
        for p in &e.params {
            let loc = p.location.as_str();
            if p.location == Location::Path {
                continue; // names are ours; the match above already checked the shape
            }
            let declared = op.params.iter().find(|q| {
                q.location == loc
                    && if p.location == Location::Header {
                        q.name.eq_ignore_ascii_case(&p.name)
                    } else {
                        q.name == p.name
                    }
            });
            match declared {
                None if p.location != Location::Body || op.body_declared => {
                    d.mismatches.push(Mismatch {
                        endpoint: e.key(),
                        spec_path: op.path.clone(),
                        kind: MismatchKind::UndocumentedParameter,
                        detail: format!(
                            "{loc} parameter {:?} ({}) is not in the spec",
                            p.name, p.ty
                        ),
                    })
                }
                Some(q) => {
                    if let Some(t) = &q.ty {
                        if !type_fits(t, &p.ty) {
                            d.mismatches.push(Mismatch {
                                endpoint: e.key(),
                                spec_path: op.path.clone(),
                                kind: MismatchKind::TypeMismatch,
                                detail: format!(
                                    "{loc} parameter {:?} declared {t}, seen {}",
                                    p.name, p.ty
                                ),
                            });
                        }
                    }
                }
                None => {}
            }
        }
        for r in &e.responses {
            if !status_documented(&op.statuses, r.status) {
                d.mismatches.push(Mismatch {
                    endpoint: e.key(),
                    spec_path: op.path.clone(),
                    kind: MismatchKind::UndocumentedStatus,
                    detail: format!("status {} ({} times) is not in the spec", r.status, r.count),
                });
            }
        }
    }
    // Old versions: /v1/x still called while /v2/x (or higher) exists, in traffic or spec.
    let known: Vec<Vec<Option<&str>>> = endpoints
        .iter()
        .map(|e| segments(&e.path))
        .chain(spec_segs.iter().cloned())
        .collect();
    for e in endpoints {
        let segs = segments(&e.path);
        for (pos, s) in segs.iter().enumerate() {
            let Some(v) = s.filter(|s| is_version(s)) else {
                continue;
            };
            let Some(n) = version_number(v) else { continue };
            let newer = known.iter().find_map(|k| {
                if k.len() != segs.len() {
                    return None;
                }
                let kv = k
                    .get(pos)
                    .copied()
                    .flatten()
                    .filter(|x| is_version(x))
                    .and_then(version_number)?;
                let same_rest = k
                    .iter()
                    .zip(&segs)
                    .enumerate()
                    .all(|(i, (a, b))| i == pos || a == b || a.is_none() || b.is_none());
                (kv > n && same_rest).then_some(kv)
            });
            if let Some(kv) = newer {
                if !d
                    .zombie
                    .iter()
                    .any(|z| z.method == e.method && z.path == e.path && z.host == e.host)
                {
                    d.zombie.push(DriftEndpoint {
                        host: e.host.clone(),
                        method: e.method.clone(),
                        path: e.path.clone(),
                        hits: e.hits,
                        note: format!("old version {v} still called while v{kv} exists"),
                    });
                }
            }
        }
    }
    for (op, u) in spec.operations.iter().zip(&used) {
        if !u {
            d.orphan.push(DriftEndpoint {
                host: String::new(),
                method: op.method.clone(),
                path: op.path.clone(),
                hits: 0,
                note: if op.deprecated {
                    "deprecated".into()
                } else {
                    String::new()
                },
            });
        }
    }
    d
}

fn version_number(v: &str) -> Option<u32> {
    let digits: String = v.chars().skip(1).take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_30_and_31_with_refs_and_base() {
        let y = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "https://api.example.com/api/v1"}]
components:
  parameters:
    Page: {name: page, in: query, schema: {type: integer}}
paths:
  /users/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get:
      parameters: [{$ref: "#/components/parameters/Page"}]
      responses: {200: {description: ok}, 4XX: {description: bad}}
    delete:
      deprecated: true
      responses: {default: {description: x}}
"##;
        let s = parse_spec(y).expect("spec");
        assert_eq!(s.operations.len(), 2);
        let get = s
            .operations
            .iter()
            .find(|o| o.method == "GET")
            .expect("get");
        assert_eq!(get.path, "/api/v1/users/{id}");
        assert_eq!(get.statuses, vec!["200".to_string(), "4XX".to_string()]);
        assert!(get
            .params
            .iter()
            .any(|p| p.name == "page" && p.ty.as_deref() == Some("integer")));
        assert!(get
            .params
            .iter()
            .any(|p| p.name == "id" && p.location == "path"));
        assert!(s
            .operations
            .iter()
            .any(|o| o.method == "DELETE" && o.deprecated));
        let j = r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"type":"object","properties":{"n":{"type":["integer","null"]}}}}}}}}}}"#;
        let s = parse_spec(j).expect("json spec");
        assert_eq!(
            s.operations[0].params,
            vec![SpecParam {
                name: "n".into(),
                location: "body".into(),
                ty: Some("integer".into())
            }]
        );
        assert!(parse_spec("swagger: '2.0'").is_err());
        assert!(parse_spec(":::").is_err());
        assert!(parse_spec("openapi: 3.0.0").is_ok());
    }

    #[test]
    fn scores() {
        let o = segments("/users/me");
        assert!(
            match_score(&o, &segments("/users/{id}")) < match_score(&o, &segments("/users/me"))
        );
        assert_eq!(
            match_score(&segments("/users/{x}"), &segments("/users/me")),
            None
        );
        assert!(status_documented(&["4XX".into()], 404));
        assert!(!status_documented(&["200".into()], 500));
        assert_eq!(server_base_path("https://h/api/v1/"), "/api/v1");
        assert_eq!(server_base_path("/v2"), "/v2");
        assert_eq!(server_base_path("https://{env}.h/x{y}"), "");
    }
}
