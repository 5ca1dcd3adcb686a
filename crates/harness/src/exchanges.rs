//! Exchanges built from fuzz bytes, for the analysers that read whole request/response pairs
//! (`vulns`, `behaviour`).
//!
//! The input is cut at each `0xff` byte into records, one exchange each. A record is four
//! control bytes, then text cut at `0xfe` into request head, request body, response head and
//! response body (a record with fewer than three parts has no response):
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | bits 0–2 client address (v4, v6, v4-mapped, behind the trusted proxy or not), bits 3–4 server port (80, 443, 8080, 8443) |
//! | 1 | response status (from a list of the statuses analysers care about) |
//! | 2 | capture time step: bits 0–6 × (1 s, or 1 min when bit 7 is set) |
//! | 3 | attacks: 0 none, else class (bits 0–3), outcome (bits 4–5), a second attack of the next class (bit 6), a `Gap` flag (bit 7) |
//!
//! The request head is the target (or `METHOD target`) on its first line, then `name: value`
//! headers; the response head is `name: value` headers. Text is read as UTF-8 with invalid bytes
//! replaced, as the HTTP parser does; bodies stay raw bytes.

use periscope_model::exchange::FlowInfo;
use periscope_model::{
    Attack, Body, Endpoint, Exchange, Flag, FlowId, Headers, HttpVersion, Outcome, Request,
    Response, Timestamp, TunnelPath,
};
use std::net::IpAddr;
use std::time::Duration;

/// Clients: bits 0–2 of the first control byte. `10.0.0.1` and `2001:db8:ffff::1` are in the
/// trusted proxy blocks the `behaviour` target configures, so their forwarding headers count.
const CLIENTS: [&str; 8] = [
    "10.0.0.1",
    "192.0.2.10",
    "192.0.2.11",
    "2001:db8::1",
    "2001:db8:0:0:ffff::9",
    "::ffff:192.0.2.10",
    "2001:db8:ffff::1",
    "198.51.100.7",
];
const SERVER_PORTS: [u16; 4] = [80, 443, 8080, 8443];
const STATUSES: [u16; 16] = [
    200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 410, 429, 500, 502, 101,
];
const CLASSES: [&str; 12] = [
    "sqli",
    "xss",
    "rce",
    "ptrav",
    "ssrf",
    "xxe",
    "ssti",
    "nosqli",
    "crlf",
    "log4shell",
    "scanner",
    "protocol",
];
const OUTCOMES: [Outcome; 4] = [
    Outcome::Succeeded,
    Outcome::Failed,
    Outcome::Blocked,
    Outcome::Unknown,
];

/// One exchange and the attacks "detection" found in it.
pub struct Case {
    /// The exchange.
    pub exchange: Exchange,
    /// Its attacks (none, one or two).
    pub attacks: Vec<Attack>,
}

/// Every record of `data` as an exchange, in order, with ids from 1 and capture time moving
/// forward by each record's step.
pub fn from_bytes(data: &[u8]) -> Vec<Case> {
    let mut ts = Timestamp::from_secs_nanos(1_700_000_000, 0);
    let mut cases = Vec::new();
    for record in data.split(|&b| b == 0xff) {
        let Some((control, text)) = record.split_first_chunk::<4>() else {
            continue;
        };
        let step = u64::from(control[2] & 0x7f);
        let unit = if control[2] & 0x80 != 0 { 60 } else { 1 };
        ts = ts.plus(Duration::from_secs(step * unit));
        let id = cases.len() as u64 + 1;
        cases.push(case(id, ts, *control, text));
    }
    cases
}

fn case(id: u64, ts: Timestamp, control: [u8; 4], text: &[u8]) -> Case {
    let [who, status, _, attack] = control;
    let client_ip: IpAddr = CLIENTS[usize::from(who & 7)]
        .parse()
        .unwrap_or(IpAddr::from([10, 0, 0, 1]));
    let client = Endpoint::new(client_ip, 40_000 + u16::from(who & 7));
    let server = Endpoint::new(
        IpAddr::from([10, 1, 0, 80]),
        SERVER_PORTS[usize::from((who >> 3) & 3)],
    );
    let mut parts = text.splitn(4, |&b| b == 0xfe);
    let req_head = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let req_body = parts.next().unwrap_or_default();
    let resp_head = parts.next();
    let resp_body = parts.next().unwrap_or_default();

    let mut lines = req_head.lines();
    let first = lines.next().unwrap_or("/");
    let (method, target) = match first.split_once(' ') {
        Some((m, t)) if !m.is_empty() => (m.to_string(), t.to_string()),
        _ if req_body.is_empty() => ("GET".to_string(), first.to_string()),
        _ => ("POST".to_string(), first.to_string()),
    };
    let request = Request {
        ts,
        method,
        target,
        version: HttpVersion::Http11,
        headers: headers(lines),
        body: body(req_body),
        trailers: Headers::default(),
    };
    let response = resp_head.map(|head| Response {
        ts: ts.plus(Duration::from_millis(5)),
        version: HttpVersion::Http11,
        status: STATUSES[usize::from(status & 15)],
        reason: String::new(),
        headers: headers(String::from_utf8_lossy(head).lines()),
        body: body(resp_body),
        trailers: Headers::default(),
        interim: Vec::new(),
    });
    let mut flags = Vec::new();
    if response.is_none() {
        flags.push(Flag::NoResponse);
    }
    if attack & 0x80 != 0 {
        flags.push(Flag::Gap);
    }
    let exchange = Exchange {
        id,
        flow_id: FlowId(u64::from(who & 7)),
        ts,
        flow: FlowInfo {
            client,
            server,
            tunnel: TunnelPath::default(),
            vlan: None,
        },
        request: Some(request),
        response,
        flags,
    };
    let attacks = attacks(&exchange, attack);
    Case { exchange, attacks }
}

fn headers<'a>(lines: impl Iterator<Item = &'a str>) -> Headers {
    Headers(
        lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect(),
    )
}

fn body(data: &[u8]) -> Body {
    Body {
        len: data.len() as u64,
        data: data.to_vec(),
        decoded_from: None,
        truncated: false,
    }
}

/// Attacks as the detector reports them: class, point and outcome from the control byte, the
/// target as excerpt, the response body's start as evidence of a success.
fn attacks(ex: &Exchange, control: u8) -> Vec<Attack> {
    if control & 0x7f == 0 {
        return Vec::new();
    }
    let count = if control & 0x40 != 0 { 2 } else { 1 };
    let outcome = OUTCOMES[usize::from((control >> 4) & 3)];
    let (method, target) = ex
        .request
        .as_ref()
        .map_or(("GET", ""), |r| (r.method.as_str(), r.target.as_str()));
    let evidence = ex.response.as_ref().and_then(|r| {
        (outcome == Outcome::Succeeded).then(|| {
            String::from_utf8_lossy(&r.body.data[..r.body.data.len().min(64)]).into_owned()
        })
    });
    (0..count)
        .map(|i| Attack {
            exchange_id: ex.id,
            ts: ex.ts,
            client: ex.flow.client,
            server: ex.flow.server,
            class: CLASSES[(usize::from(control & 15) + i) % CLASSES.len()].to_string(),
            point: if i == 0 {
                "query.id"
            } else {
                "header.user-agent"
            }
            .to_string(),
            rule: format!("fuzz-{i}"),
            excerpt: target.chars().take(64).collect(),
            score: 0.9,
            outcome,
            evidence: evidence.clone(),
            method: method.to_string(),
            target: target.chars().take(256).collect(),
            status: ex.response.as_ref().map(|r| r.status),
        })
        .collect()
}

/// Writes `ex` as one record that [`from_bytes`] reads back (for seeds made from recorded
/// traffic): `client` is the index into the client list, `step` the control byte for the time
/// since the previous exchange, `attacks` the attacks found in it (the first one's class and
/// outcome are kept). Bytes `0xfe`/`0xff` of the texts and bodies, which would end a part or a
/// record, are dropped; bodies are cut at `max_body` bytes.
pub fn record(ex: &Exchange, client: u8, step: u8, attacks: &[Attack], max_body: usize) -> Vec<u8> {
    let port = SERVER_PORTS
        .iter()
        .position(|&p| p == ex.flow.server.port)
        .unwrap_or(0) as u8;
    let status = ex.response.as_ref().map_or(200, |r| r.status);
    let status_index = STATUSES
        .iter()
        .position(|&s| s == status)
        .or_else(|| STATUSES.iter().position(|&s| s / 100 == status / 100))
        .unwrap_or(0) as u8;
    let attack = attacks.first().map_or(0, |a| {
        let class = CLASSES.iter().position(|&c| c == a.class).unwrap_or(0) as u8;
        let outcome = OUTCOMES.iter().position(|&o| o == a.outcome).unwrap_or(3) as u8;
        // Class 0 with no other bit would read as "no attack": set the outcome bits apart.
        (class & 15) | (outcome << 4) | u8::from(class == 0 && outcome == 0) << 6
    });
    let mut out = vec![(client & 7) | (port << 3), status_index, step, attack];
    let clean = |b: &[u8], out: &mut Vec<u8>| {
        out.extend(b.iter().copied().filter(|&c| c < 0xfe));
    };
    if let Some(req) = &ex.request {
        clean(
            format!("{} {}", req.method, req.target).as_bytes(),
            &mut out,
        );
        for (name, value) in &req.headers.0 {
            clean(format!("\n{name}: {value}").as_bytes(), &mut out);
        }
        out.push(0xfe);
        clean(
            &req.body.data[..req.body.data.len().min(max_body)],
            &mut out,
        );
    } else {
        out.push(0xfe);
    }
    if let Some(resp) = &ex.response {
        out.push(0xfe);
        for (i, (name, value)) in resp.headers.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "\n" };
            clean(format!("{sep}{name}: {value}").as_bytes(), &mut out);
        }
        out.push(0xfe);
        clean(
            &resp.body.data[..resp.body.data.len().min(max_body)],
            &mut out,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record written by [`record`] reads back as the same request and response.
    #[test]
    fn records_read_back() {
        let source = from_bytes(
            b"\x0b\x09\x05\x41POST /login?x=1\nHost: shop.example\nCookie: a=b\xfeuser=bob&pass=x\xfe\
Content-Type: text/html\nSet-Cookie: s=1\xfe<h1>no</h1>",
        );
        let [Case { exchange, attacks }] = &source[..] else {
            panic!("one record expected, got {}", source.len());
        };
        assert_eq!(attacks.len(), 2);
        let again = from_bytes(&record(exchange, 3, 5, attacks, 1024));
        let [Case { exchange: copy, .. }] = &again[..] else {
            panic!("one record expected, got {}", again.len());
        };
        let (Some(req), Some(copy_req)) = (&exchange.request, &copy.request) else {
            panic!("requests expected");
        };
        assert_eq!(req.method, "POST");
        assert_eq!(req.target, "/login?x=1");
        assert_eq!(req.headers.get("cookie"), Some("a=b"));
        assert_eq!(
            (
                &copy_req.method,
                &copy_req.target,
                &copy_req.headers,
                &copy_req.body
            ),
            (&req.method, &req.target, &req.headers, &req.body)
        );
        let (Some(resp), Some(copy_resp)) = (&exchange.response, &copy.response) else {
            panic!("responses expected");
        };
        assert_eq!(resp.status, 404);
        assert_eq!(exchange.flow.server.port, 443);
        assert_eq!(
            (copy_resp.status, &copy_resp.headers, &copy_resp.body),
            (resp.status, &resp.headers, &resp.body)
        );
        assert_eq!(copy.flow, exchange.flow);
    }

    /// Without a third part there is no response, and short records are skipped.
    #[test]
    fn records_without_response() {
        let cases = from_bytes(b"\x00\x00\x00\x00/a\xfe\xff\x01\x02\xff\x01\x00\x80\x00/b");
        assert_eq!(cases.len(), 2);
        assert!(cases.iter().all(|c| c.exchange.response.is_none()));
        assert_eq!(
            cases[1].exchange.ts.since(cases[0].exchange.ts),
            Duration::from_secs(0)
        );
    }
}
