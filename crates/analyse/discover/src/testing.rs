//! Builders of exchanges for tests, examples and benches (not for production paths).

use periscope_model::exchange::FlowInfo;
use periscope_model::{
    Body, Endpoint, Exchange, FlowId, Headers, HttpVersion, Request, Response, Timestamp,
    TunnelPath,
};
use std::net::{IpAddr, Ipv4Addr};

/// An exchange with a request and a response whose `Content-Type` is JSON when the body
/// starts with `{` or `[`. Request headers are given; add a `Content-Type` there for bodies.
pub fn exchange(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    req_body: &[u8],
    status: u16,
    resp_body: &[u8],
) -> Exchange {
    let mut resp_headers = Vec::new();
    if matches!(resp_body.first(), Some(b'{' | b'[')) {
        resp_headers.push(("Content-Type".to_string(), "application/json".to_string()));
    }
    exchange_full(
        1,
        Timestamp(1_700_000_000_000_000_000),
        method,
        target,
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        req_body.to_vec(),
        Some((status, resp_headers, resp_body.to_vec())),
    )
}

/// A response as (status, headers, body).
pub type ResponseParts = (u16, Vec<(String, String)>, Vec<u8>);

/// An exchange with every part given.
pub fn exchange_full(
    id: u64,
    ts: Timestamp,
    method: &str,
    target: &str,
    headers: Vec<(String, String)>,
    req_body: Vec<u8>,
    response: Option<ResponseParts>,
) -> Exchange {
    let body = |data: Vec<u8>| Body {
        len: data.len() as u64,
        data,
        decoded_from: None,
        truncated: false,
    };
    let request = Request {
        ts,
        method: method.to_string(),
        target: target.to_string(),
        version: HttpVersion::Http11,
        headers: Headers(headers),
        body: body(req_body),
        trailers: Headers::default(),
    };
    let response = response.map(|(status, headers, data)| Response {
        ts,
        version: HttpVersion::Http11,
        status,
        reason: String::new(),
        headers: Headers(headers),
        body: body(data),
        trailers: Headers::default(),
        interim: Vec::new(),
    });
    Exchange {
        id,
        flow_id: FlowId(id),
        ts,
        flow: FlowInfo {
            client: Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000),
            server: Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80),
            tunnel: TunnelPath::default(),
            vlan: None,
        },
        request: Some(request),
        response,
        flags: Vec::new(),
    }
}

/// Reads the JSON lines written by `tests/apps/shop/generate.py` (one exchange per line:
/// `ts`, `method`, `target`, `headers`, `body` (base64), `status`, `resp_headers`,
/// `resp_body` (base64)) into exchanges. Lines that do not parse are skipped and counted.
pub fn load_jsonl(text: &str) -> (Vec<Exchange>, usize) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let pairs = |v: &serde_json::Value| -> Vec<(String, String)> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        Some((
                            p.get(0)?.as_str()?.to_string(),
                            p.get(1)?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut bad = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            bad += 1;
            continue;
        };
        let s = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let (Ok(body), Ok(resp_body)) = (b64.decode(s("body")), b64.decode(s("resp_body"))) else {
            bad += 1;
            continue;
        };
        let status = v
            .get("status")
            .and_then(|x| x.as_u64())
            .and_then(|x| u16::try_from(x).ok())
            .unwrap_or(0);
        out.push(exchange_full(
            out.len() as u64 + 1,
            Timestamp(v.get("ts").and_then(|x| x.as_u64()).unwrap_or(0)),
            &s("method"),
            &s("target"),
            pairs(&v["headers"]),
            body,
            Some((status, pairs(&v["resp_headers"]), resp_body)),
        ));
    }
    (out, bad)
}
