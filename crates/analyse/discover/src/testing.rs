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
