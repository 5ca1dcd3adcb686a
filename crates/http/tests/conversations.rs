//! HTTP conversations from `tests/data/*.txt`, fed at every split size, checked against the
//! expected lines in each file.
//!
//! Fixture format, one directive per line:
//! - `# …` comment; blank lines are ignored.
//! - `@midstream` the connection was picked up mid-stream (`Open { handshake: false }`);
//!   `@noclose` end with `finish()` instead of `Close`; `@body_cap N`, `@pending N`,
//!   `@max_header_bytes N` change the config.
//! - `> text` client bytes followed by CRLF; `>- text` without CRLF. `<` and `<-` likewise for
//!   the server. Escapes: `\r \n \t \\ \xNN`. `{len}` is replaced by the length of the next
//!   `z` line of the same direction.
//! - `>z CODING TEXT` / `<z CODING TEXT` the bytes of TEXT encoded with gzip, deflate (zlib),
//!   rawdeflate, br, zstd, or gzip-zeros (TEXT = byte count of zeros, as 1 MiB gzip members).
//! - `>b HEX` / `<b HEX` raw bytes in hex (with `tlshello HOST` for a TLS ClientHello).
//! - `~> N` / `~< N` a gap of N bytes in that direction.
//! - `+ SECS` advance capture time and call `advance`.
//! - `! line` an expected output line, in order (see `render`).
// Fixture parsing panics on a malformed fixture: that is a test failure, as it should be.
#![allow(clippy::unwrap_used)]

use periscope_http::{HttpConfig, HttpOutput, HttpTracker};
use periscope_model::{
    CloseReason, Direction, Endpoint, Exchange, FlowId, FlowStats, StreamEvent, Timestamp,
    TunnelPath,
};
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone)]
enum Op {
    Data(Direction, Vec<u8>),
    Gap(Direction, u64),
    Advance(u64),
}

struct Fixture {
    ops: Vec<Op>,
    expect: Vec<String>,
    midstream: bool,
    noclose: bool,
    cfg: HttpConfig,
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'x' if i + 3 < b.len() => {
                    let h = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(h, 16).unwrap());
                    i += 4;
                    continue;
                }
                other => panic!("bad escape \\{}", other as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn encode(coding: &str, text: &str) -> Vec<u8> {
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    let data = unescape(text);
    match coding {
        "gzip" => {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        }
        "deflate" => {
            let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        }
        "rawdeflate" => {
            let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                w.write_all(&data).unwrap();
            }
            out
        }
        "zstd" => zstd::encode_all(&data[..], 3).unwrap(),
        "gzip-zeros" => {
            let n: usize = text.trim().parse().unwrap();
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(&vec![0u8; 1 << 20]).unwrap();
            let member = e.finish().unwrap();
            let mut out = Vec::new();
            for _ in 0..n.div_ceil(1 << 20) {
                out.extend_from_slice(&member);
            }
            out
        }
        other => panic!("unknown coding {other}"),
    }
}

fn tls_hello(host: &str) -> Vec<u8> {
    let name = host.as_bytes();
    let mut sni = Vec::new();
    sni.extend_from_slice(&((3 + name.len()) as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(name);
    let mut exts = Vec::new();
    exts.extend_from_slice(&0u16.to_be_bytes());
    exts.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    exts.extend_from_slice(&sni);
    exts.extend_from_slice(&[0, 43, 0, 3, 2, 3, 4]);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[9u8; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

fn parse(text: &str) -> Fixture {
    let mut ops = Vec::new();
    let mut expect = Vec::new();
    let mut f = Fixture {
        ops: Vec::new(),
        expect: Vec::new(),
        midstream: false,
        noclose: false,
        cfg: HttpConfig::default(),
    };
    // (op index, direction) of data lines holding `{len}`, resolved by the next `z` line.
    let mut pending_len: Vec<(usize, Direction)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        let dir = |c: char| {
            if c == '>' {
                Direction::ToServer
            } else {
                Direction::ToClient
            }
        };
        match tag {
            "@midstream" => f.midstream = true,
            "@noclose" => f.noclose = true,
            "@body_cap" => f.cfg.body_cap = rest.trim().parse().unwrap(),
            "@pending" => f.cfg.max_pending_requests = rest.trim().parse().unwrap(),
            "@max_header_bytes" => f.cfg.max_header_bytes = rest.trim().parse().unwrap(),
            ">" | "<" => {
                let mut b = unescape(rest);
                b.extend_from_slice(b"\r\n");
                if rest.contains("{len}") {
                    pending_len.push((ops.len(), dir(tag.chars().next().unwrap())));
                }
                ops.push(Op::Data(dir(tag.chars().next().unwrap()), b));
            }
            ">-" | "<-" => {
                if rest.contains("{len}") {
                    pending_len.push((ops.len(), dir(tag.chars().next().unwrap())));
                }
                ops.push(Op::Data(dir(tag.chars().next().unwrap()), unescape(rest)));
            }
            ">z" | "<z" => {
                let d = dir(tag.chars().next().unwrap());
                let (coding, text) = rest.split_once(' ').unwrap_or((rest, ""));
                let bytes = encode(coding, text);
                pending_len.retain(|(i, pd)| {
                    if *pd != d {
                        return true;
                    }
                    if let Op::Data(_, b) = &mut ops[*i] {
                        let s =
                            String::from_utf8_lossy(b).replace("{len}", &bytes.len().to_string());
                        *b = s.into_bytes();
                    }
                    false
                });
                ops.push(Op::Data(d, bytes));
            }
            ">b" | "<b" => {
                let d = dir(tag.chars().next().unwrap());
                let bytes = if let Some(host) = rest.strip_prefix("tlshello ") {
                    tls_hello(host.trim())
                } else {
                    let h: String = rest.split_whitespace().collect();
                    (0..h.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                        .collect()
                };
                ops.push(Op::Data(d, bytes));
            }
            "~>" | "~<" => ops.push(Op::Gap(
                dir(tag.chars().nth(1).unwrap()),
                rest.trim().parse().unwrap(),
            )),
            "+" => ops.push(Op::Advance(rest.trim().parse().unwrap())),
            "!" => expect.push(rest.to_string()),
            other => panic!("unknown directive {other:?} in line {line:?}"),
        }
    }
    assert!(pending_len.is_empty(), "unresolved {{len}}");
    f.ops = ops;
    f.expect = expect;
    f
}

fn esc(b: &[u8], max: usize) -> String {
    let mut s = String::new();
    for &c in b.iter().take(max) {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    if b.len() > max {
        s.push('…');
    }
    s
}

/// One line per output:
/// `x METHOD TARGET VERSION -> STATUS [interim=..] req=LEN/KEPT resp=LEN/KEPT[dec] body="…" trailers=.. flags=..`
/// `c PROTOCOL req=N resp=N x=N noresp=N noreq=N err=N [upgraded ub=N] [swapped]`
fn render(o: &HttpOutput) -> String {
    match o {
        HttpOutput::Exchange(x) => render_x(x),
        HttpOutput::Connection(c) => {
            let proto = serde_json::to_string(&c.protocol).unwrap();
            let mut s = format!(
                "c {proto} req={} resp={} x={} noresp={} noreq={} err={}",
                c.requests, c.responses, c.exchanges, c.no_response, c.no_request, c.parse_errors
            );
            if c.upgraded {
                s.push_str(&format!(" upgraded ub={}", c.upgraded_bytes));
            }
            if c.roles_swapped {
                s.push_str(" swapped");
            }
            s
        }
    }
}

fn render_x(x: &Exchange) -> String {
    let mut s = String::from("x");
    match &x.request {
        Some(r) => {
            s.push_str(&format!(
                " {} {} {}",
                r.method,
                esc(r.target.as_bytes(), 200),
                r.version.as_str()
            ));
        }
        None => s.push_str(" -"),
    }
    match &x.response {
        Some(r) => {
            s.push_str(&format!(" -> {}", r.status));
            if !r.interim.is_empty() {
                s.push_str(&format!(" interim={:?}", r.interim));
            }
        }
        None => s.push_str(" -> -"),
    }
    if let Some(r) = &x.request {
        if r.body.len > 0 || !r.body.data.is_empty() {
            s.push_str(&format!(
                " req={}/{} \"{}\"",
                r.body.len,
                r.body.data.len(),
                esc(&r.body.data, 40)
            ));
        }
        if !r.trailers.is_empty() {
            s.push_str(&format!(" rtrailers={:?}", r.trailers.0));
        }
    }
    if let Some(r) = &x.response {
        if r.body.len > 0 || !r.body.data.is_empty() {
            s.push_str(&format!(" resp={}/{}", r.body.len, r.body.data.len()));
            if let Some(d) = &r.body.decoded_from {
                s.push_str(&format!("[{d}]"));
            }
            s.push_str(&format!(" \"{}\"", esc(&r.body.data, 40)));
        }
        if !r.trailers.is_empty() {
            s.push_str(&format!(" trailers={:?}", r.trailers.0));
        }
    }
    if !x.flags.is_empty() {
        let mut names: Vec<String> = x
            .flags
            .iter()
            .map(|f| {
                serde_json::to_string(f)
                    .unwrap()
                    .trim_matches('"')
                    .to_string()
            })
            .collect();
        names.sort();
        s.push_str(&format!(" flags={}", names.join(",")));
    }
    s
}

/// Feeds the fixture with Data events cut into `split`-byte pieces.
fn run(f: &Fixture, split: usize) -> Vec<String> {
    let mut t = HttpTracker::new(f.cfg.clone());
    let mut out = Vec::new();
    let mut ids = Vec::new();
    let mut push = |o: HttpOutput| {
        if let HttpOutput::Exchange(x) = &o {
            ids.push(x.id);
        }
        out.push(render(&o));
    };
    let ep = |a: u8, p| Endpoint::new([10, 0, 0, a].into(), p);
    let flow = FlowId(7);
    let mut now = Timestamp::from_secs_nanos(1_700_000_000, 0);
    t.on_event(
        flow,
        StreamEvent::Open {
            ts: now,
            client: ep(1, 40000),
            server: ep(2, 80),
            tunnel: TunnelPath::default(),
            vlan: None,
            handshake: !f.midstream,
        },
        &mut push,
    );
    for op in &f.ops {
        match op {
            Op::Data(dir, bytes) => {
                for piece in bytes.chunks(split.max(1)) {
                    now = now.plus(std::time::Duration::from_micros(10));
                    t.on_event(
                        flow,
                        StreamEvent::Data {
                            ts: now,
                            dir: *dir,
                            bytes: piece,
                        },
                        &mut push,
                    );
                    t.advance(now, &mut push);
                }
            }
            Op::Gap(dir, len) => t.on_event(
                flow,
                StreamEvent::Gap {
                    ts: now,
                    dir: *dir,
                    len: *len,
                },
                &mut push,
            ),
            Op::Advance(secs) => {
                now = now.plus(std::time::Duration::from_secs(*secs));
                t.advance(now, &mut push);
            }
        }
    }
    if f.noclose {
        t.finish(&mut push);
    } else {
        let stats = FlowStats::default();
        t.on_event(
            flow,
            StreamEvent::Close {
                ts: now,
                reason: CloseReason::Fin,
                stats: &stats,
            },
            &mut push,
        );
    }
    assert_eq!(t.connections(), 0);
    let want: Vec<u64> = (1..=ids.len() as u64).collect();
    assert_eq!(ids, want, "exchange ids must be sequential from 1");
    out
}

fn check(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path).unwrap();
    let f = parse(&text);
    assert!(!f.expect.is_empty(), "{name}: no expected lines");
    let total: usize = f
        .ops
        .iter()
        .map(|o| if let Op::Data(_, b) = o { b.len() } else { 0 })
        .sum();
    for split in [usize::MAX, 1, 2, 7, 1460] {
        // Byte-by-byte feeding of multi-megabyte fixtures is slow in debug builds and adds
        // nothing over 7-byte pieces.
        if split == 1 && total > 200_000 {
            continue;
        }
        let got = run(&f, split);
        assert_eq!(
            got,
            f.expect,
            "{name} fed in pieces of {split} bytes:\n{}",
            got.join("\n")
        );
    }
}

macro_rules! fixtures {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { check(stringify!($name)); } )*
    };
}

fixtures!(
    simple_get,
    keepalive,
    pipelining,
    chunked_trailers,
    gzip_body,
    deflate_bodies,
    br_zstd_stacked,
    close_delimited,
    head_with_length,
    no_body_204_304,
    continue_100,
    upgrade_101,
    upgrade_refused,
    connect_tunnel,
    gap_in_body,
    gap_in_headers,
    gap_unknown_request,
    midstream_body,
    response_without_request,
    request_timeout,
    requests_only,
    decompression_bomb,
    corrupt_encoding,
    smuggling,
    roles_swapped,
    tls_client_hello,
    http2_preface,
    garbage,
    bare_lf_and_folding,
    body_cap,
    pipeline_cap,
    empty,
    header_too_large,
    responses_only_handshake,
    late_request,
    odd_request_bytes,
    gap_lost_request_keepalive,
    gap_lost_response_pipelined,
);

/// Random bytes, random split points, random gaps: must not panic or hang, and the counts
/// must add up.
#[test]
fn random_input_never_panics() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let seeds: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 101 Switching\r\n\r\n",
        b"\x16\x03\x01\x00\x05hello",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
    ];
    for round in 0..3000 {
        let cfg = HttpConfig {
            body_cap: 64,
            max_header_bytes: 256,
            max_pending_requests: 3,
            max_connections: 3,
            ..HttpConfig::default()
        };
        let mut t = HttpTracker::new(cfg);
        let mut exchanges = 0u64;
        let mut summaries = 0u64;
        let mut with_req = 0u64;
        let mut with_resp = 0u64;
        let mut push = |o: HttpOutput| match o {
            HttpOutput::Exchange(x) => {
                exchanges += 1;
                with_req += u64::from(x.request.is_some());
                with_resp += u64::from(x.response.is_some());
                assert!(x.request.is_some() || x.response.is_some());
            }
            HttpOutput::Connection(_) => summaries += 1,
        };
        let ep = |p| Endpoint::new([10, 0, 0, 1].into(), p);
        let mut now = Timestamp(1);
        for flow in 0..4u64 {
            t.on_event(
                FlowId(flow),
                StreamEvent::Open {
                    ts: now,
                    client: ep(1000),
                    server: ep(80),
                    tunnel: TunnelPath::default(),
                    vlan: None,
                    handshake: rnd().is_multiple_of(2),
                },
                &mut push,
            );
        }
        for _ in 0..60 {
            let flow = FlowId(rnd() % 5);
            let dir = if rnd().is_multiple_of(2) {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            now = now.plus(std::time::Duration::from_millis(rnd() % 3000));
            match rnd() % 10 {
                0 => t.on_event(
                    flow,
                    StreamEvent::Gap {
                        ts: now,
                        dir,
                        len: if rnd().is_multiple_of(7) {
                            u64::MAX - rnd() % 3
                        } else {
                            rnd() % 100
                        },
                    },
                    &mut push,
                ),
                1..=4 => {
                    let s = seeds[(rnd() % seeds.len() as u64) as usize];
                    let a = (rnd() as usize) % s.len();
                    let b = a + (rnd() as usize) % (s.len() - a + 1);
                    t.on_event(
                        flow,
                        StreamEvent::Data {
                            ts: now,
                            dir,
                            bytes: &s[a..b],
                        },
                        &mut push,
                    );
                }
                _ => {
                    let n = (rnd() % 64) as usize;
                    let bytes: Vec<u8> = (0..n).map(|_| (rnd() % 256) as u8).collect();
                    t.on_event(
                        flow,
                        StreamEvent::Data {
                            ts: now,
                            dir,
                            bytes: &bytes,
                        },
                        &mut push,
                    );
                }
            }
            t.advance(now, &mut push);
        }
        t.finish(&mut push);
        let st = t.stats().clone();
        assert_eq!(st.exchanges, exchanges, "round {round}");
        assert_eq!(
            st.connections_http1
                + st.connections_tls
                + st.connections_http2
                + st.connections_other
                + st.connections_empty,
            summaries,
            "round {round}"
        );
        assert_eq!(summaries, st.connections);
        // Every request and every final response read is emitted exactly once.
        assert_eq!(st.requests, with_req, "round {round}");
        assert_eq!(st.responses, with_resp, "round {round}");
        assert_eq!(st.no_response, exchanges - with_resp, "round {round}");
    }
}

/// Valid conversations damaged at random (gaps instead of bytes, flipped bytes, random split
/// points): never panics, and every request and response read is emitted exactly once.
#[test]
fn damaged_conversations_keep_counts() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let names = [
        "keepalive",
        "pipelining",
        "chunked_trailers",
        "continue_100",
        "upgrade_refused",
        "gap_in_body",
        "smuggling",
        "bare_lf_and_folding",
        "gzip_body",
    ];
    let fixtures: Vec<Fixture> = names
        .iter()
        .map(|n| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(format!("{n}.txt"));
            parse(&std::fs::read_to_string(path).unwrap())
        })
        .collect();
    let mut total_pairs = 0u64;
    for round in 0..1500 {
        let f = &fixtures[(rnd() % fixtures.len() as u64) as usize];
        let cfg = HttpConfig {
            body_cap: 16,
            max_pending_requests: 2,
            ..HttpConfig::default()
        };
        let mut t = HttpTracker::new(cfg);
        let (mut n, mut req, mut resp, mut pairs) = (0u64, 0u64, 0u64, 0u64);
        let mut push = |o: HttpOutput| {
            if let HttpOutput::Exchange(x) = o {
                n += 1;
                req += u64::from(x.request.is_some());
                resp += u64::from(x.response.is_some());
                pairs += u64::from(x.request.is_some() && x.response.is_some());
            }
        };
        let ep = |p| Endpoint::new([10, 0, 0, 1].into(), p);
        let mut now = Timestamp(1);
        let flow = FlowId(1);
        t.on_event(
            flow,
            StreamEvent::Open {
                ts: now,
                client: ep(1),
                server: ep(80),
                tunnel: TunnelPath::default(),
                vlan: None,
                handshake: !rnd().is_multiple_of(4),
            },
            &mut push,
        );
        let damage = !rnd().is_multiple_of(3);
        for op in &f.ops {
            match op {
                Op::Data(dir, bytes) => {
                    let mut rest: &[u8] = bytes;
                    while !rest.is_empty() {
                        let k = 1 + (rnd() as usize) % rest.len().min(64);
                        let (piece, tail) = rest.split_at(k);
                        rest = tail;
                        now = now.plus(std::time::Duration::from_millis(rnd() % 50));
                        match rnd() % 40 {
                            0 if damage => t.on_event(
                                flow,
                                StreamEvent::Gap {
                                    ts: now,
                                    dir: *dir,
                                    len: k as u64,
                                },
                                &mut push,
                            ),
                            1 if damage => {
                                let mut p = piece.to_vec();
                                let i = (rnd() as usize) % p.len();
                                p[i] ^= 1 << (rnd() % 8);
                                t.on_event(
                                    flow,
                                    StreamEvent::Data {
                                        ts: now,
                                        dir: *dir,
                                        bytes: &p,
                                    },
                                    &mut push,
                                );
                            }
                            _ => t.on_event(
                                flow,
                                StreamEvent::Data {
                                    ts: now,
                                    dir: *dir,
                                    bytes: piece,
                                },
                                &mut push,
                            ),
                        }
                        t.advance(now, &mut push);
                    }
                }
                Op::Gap(dir, len) => t.on_event(
                    flow,
                    StreamEvent::Gap {
                        ts: now,
                        dir: *dir,
                        len: *len,
                    },
                    &mut push,
                ),
                Op::Advance(s) => {
                    now = now.plus(std::time::Duration::from_secs(*s));
                    t.advance(now, &mut push);
                }
            }
        }
        t.finish(&mut push);
        let st = t.stats();
        assert_eq!(st.exchanges, n, "round {round}");
        assert_eq!(st.requests, req, "round {round}");
        assert_eq!(st.responses, resp, "round {round}");
        assert_eq!(st.no_response, n - resp, "round {round}");
        assert_eq!(st.no_request, n - req, "round {round}");
        total_pairs += pairs;
    }
    // The undamaged rounds must have produced real pairs, or this test checks nothing.
    assert!(total_pairs > 500, "{total_pairs}");
}

/// Keep-alive and pipelined conversations where response i has reason phrase `Ri`, with whole
/// segments lost at random in either direction: a pair, when made, is always the right one.
#[test]
fn gaps_never_cause_wrong_pairs() {
    let mut seed = 0x1234_5678_9abc_def1u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut pairs, mut lost) = (0u64, 0u64);
    for round in 0..3000 {
        let mut t = HttpTracker::new(HttpConfig::default());
        let mut wrong = Vec::new();
        let mut log: Vec<String> = Vec::new();
        let mut push = |o: HttpOutput| {
            if let HttpOutput::Exchange(x) = o {
                if let (Some(q), Some(r)) = (&x.request, &x.response) {
                    pairs += 1;
                    let want = q.target.trim_start_matches('/');
                    // The reason phrase names the request: it survives even when a gap cut
                    // the head after the status line.
                    if r.reason.strip_prefix('R') != Some(want) {
                        wrong.push(render_x(&x));
                    }
                } else {
                    lost += 1;
                }
            }
        };
        let ep = |p| Endpoint::new([10, 0, 0, 1].into(), p);
        let flow = FlowId(1);
        let mut now = Timestamp(1);
        t.on_event(
            flow,
            StreamEvent::Open {
                ts: now,
                client: ep(1),
                server: ep(80),
                tunnel: TunnelPath::default(),
                vlan: None,
                handshake: true,
            },
            &mut push,
        );
        let pipeline = rnd().is_multiple_of(3);
        let mut next_req = 0u32;
        let mut answered = 0u32;
        let total = 8 + (rnd() % 8) as u32;
        while answered < total {
            // The client sends one request (several when pipelining) before reading answers.
            let burst = if pipeline { 1 + rnd() % 3 } else { 1 };
            for _ in 0..burst {
                if next_req < total && (pipeline || next_req == answered) {
                    let body_len = (rnd() % 3) * 7;
                    let mut m = format!("POST /{next_req} HTTP/1.1\r\nHost: h\r\nContent-Length: {body_len}\r\n\r\n").into_bytes();
                    m.extend(std::iter::repeat_n(b'q', body_len as usize));
                    send(
                        &mut t,
                        &mut rnd,
                        &mut now,
                        Direction::ToServer,
                        &m,
                        &mut push,
                        &mut log,
                    );
                    next_req += 1;
                }
            }
            if answered < next_req {
                let body = "r".repeat((rnd() % 30) as usize);
                let chunked = rnd().is_multiple_of(2);
                let m = if chunked && body.is_empty() {
                    format!("HTTP/1.1 200 R{answered}\r\nX-Req: {answered}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                } else if chunked {
                    format!("HTTP/1.1 200 R{answered}\r\nX-Req: {answered}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n", body.len())
                } else {
                    format!("HTTP/1.1 200 R{answered}\r\nX-Req: {answered}\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                };
                // Some servers send a stray CRLF after a body.
                let mut m = m.into_bytes();
                if rnd().is_multiple_of(10) {
                    m.extend_from_slice(b"\r\n");
                }
                send(
                    &mut t,
                    &mut rnd,
                    &mut now,
                    Direction::ToClient,
                    &m,
                    &mut push,
                    &mut log,
                );
                answered += 1;
            }
        }
        t.finish(&mut push);
        assert!(
            wrong.is_empty(),
            "round {round}: wrong pairs:\n{}\nevents:\n{}",
            wrong.join("\n"),
            log.join("\n")
        );
    }
    eprintln!("gaps_never_cause_wrong_pairs: {pairs} pairs, {lost} unpaired");
    assert!(
        pairs > 20_000 && lost > 100,
        "pairs {pairs}, unpaired {lost}"
    );
}

/// Sends `m` as 1–3 segments; each segment is lost (a gap) with probability 1/25.
fn send(
    t: &mut HttpTracker,
    rnd: &mut impl FnMut() -> u64,
    now: &mut Timestamp,
    dir: Direction,
    m: &[u8],
    push: &mut impl FnMut(HttpOutput),
    log: &mut Vec<String>,
) {
    let mut rest = m;
    while !rest.is_empty() {
        let k = if rnd().is_multiple_of(2) {
            rest.len()
        } else {
            1 + (rnd() as usize) % rest.len()
        };
        let (seg, tail) = rest.split_at(k);
        rest = tail;
        *now = now.plus(std::time::Duration::from_millis(1));
        let arrow = if dir == Direction::ToServer { ">" } else { "<" };
        if rnd().is_multiple_of(25) {
            log.push(format!("~{arrow} {}", seg.len()));
            t.on_event(
                FlowId(1),
                StreamEvent::Gap {
                    ts: *now,
                    dir,
                    len: seg.len() as u64,
                },
                push,
            );
        } else {
            log.push(format!("{arrow}- {}", esc(seg, 200)));
            t.on_event(
                FlowId(1),
                StreamEvent::Data {
                    ts: *now,
                    dir,
                    bytes: seg,
                },
                push,
            );
        }
        t.advance(*now, push);
    }
}
