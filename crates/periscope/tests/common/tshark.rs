//! tshark's HTTP dissection of a capture, as the reference the binary is compared with.

use super::{run, Output};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A tunnel layer as `(kind, id)`, kinds spelled as in Periscope's JSON.
pub type Tunnel = (String, u32);

/// One HTTP request as tshark saw it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TsharkRequest {
    /// Method.
    pub method: String,
    /// Request-target (`http.request.uri`).
    pub target: String,
    /// Tunnels of the frame that completed the request, outermost first.
    pub tunnel: Vec<Tunnel>,
    /// Innermost VLAN id.
    pub vlan: Option<u16>,
}

/// tshark's view of one capture.
#[derive(Debug, Default)]
pub struct TsharkView {
    /// Requests, in frame order.
    pub requests: Vec<TsharkRequest>,
    /// Response status codes, 1xx included, in frame order.
    pub statuses: Vec<u16>,
}

const FIELDS: &[&str] = &[
    "frame.protocols",
    "http.request.method",
    "http.request.uri",
    "http.response.code",
    "vxlan.vni",
    "geneve.vni",
    "gre.key",
    "erspan.version",
    "erspan.spanid",
    "vlan.id",
];

/// Runs tshark over `file` (out-of-order TCP reassembly on, as a mirror reorders).
pub fn dissect(file: &Path) -> TsharkView {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n")
        .arg("-r")
        .arg(file)
        .args(["-o", "tcp.reassemble_out_of_order:TRUE"])
        .args(["-Y", "http.request || http.response", "-T", "json"]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = run(cmd, Duration::from_secs(120));
    assert!(
        status.map(|s| s.success()).unwrap_or(false),
        "tshark failed on {}: {status:?}\n{stderr}",
        file.display()
    );
    let frames: Value = serde_json::from_slice(&stdout)
        .unwrap_or_else(|e| panic!("tshark JSON for {}: {e}", file.display()));
    let mut view = TsharkView::default();
    for frame in frames.as_array().map(Vec::as_slice).unwrap_or_default() {
        let layers = &frame["_source"]["layers"];
        let strs = |name: &str| -> Vec<String> {
            layers[name]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let tunnel = tunnel_path(layers);
        let vlan = strs("vlan.id")
            .last()
            .and_then(|v| parse_num(v))
            .map(|v| v as u16);
        let methods = strs("http.request.method");
        let uris = strs("http.request.uri");
        assert_eq!(
            methods.len(),
            uris.len(),
            "tshark frame with methods {methods:?} but URIs {uris:?}"
        );
        for (method, target) in methods.into_iter().zip(uris) {
            view.requests.push(TsharkRequest {
                method,
                target,
                tunnel: tunnel.clone(),
                vlan,
            });
        }
        for code in strs("http.response.code") {
            view.statuses.push(
                code.parse()
                    .unwrap_or_else(|e| panic!("status {code:?}: {e}")),
            );
        }
    }
    view
}

/// Decimal or `0x` hexadecimal (tshark prints GENEVE VNIs and GRE keys in hex).
fn parse_num(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Reads the tunnel layers off `frame.protocols` (e.g. `eth:ethertype:ip:udp:vxlan:eth:…:tcp`)
/// and takes each layer's id from its field, in order.
fn tunnel_path(layers: &Value) -> Vec<Tunnel> {
    let field = |name: &str, i: usize| -> Option<u32> {
        layers[name]
            .as_array()
            .and_then(|a| a.get(i))
            .and_then(Value::as_str)
            .and_then(parse_num)
    };
    let protocols = layers["frame.protocols"][0].as_str().unwrap_or_default();
    let tokens: Vec<&str> = protocols.split(':').take_while(|t| *t != "tcp").collect();
    let (mut vx, mut ge, mut gre, mut er) = (0, 0, 0, 0);
    let mut path = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).copied().unwrap_or_default();
        match *t {
            "vxlan" => {
                path.push((
                    "vxlan".to_owned(),
                    field("vxlan.vni", vx).unwrap_or(u32::MAX),
                ));
                vx += 1;
            }
            "geneve" => {
                path.push((
                    "geneve".to_owned(),
                    field("geneve.vni", ge).unwrap_or(u32::MAX),
                ));
                ge += 1;
            }
            "gre" if next == "erspan" => {
                let kind = match field("erspan.version", er) {
                    Some(1) => "erspan2",
                    Some(2) => "erspan3",
                    other => panic!("ERSPAN version {other:?} in {protocols}"),
                };
                path.push((
                    kind.to_owned(),
                    field("erspan.spanid", er).unwrap_or(u32::MAX),
                ));
                er += 1;
            }
            "gre" => {
                // The key field only exists when the K bit is set: no key means id 0.
                let key = field("gre.key", gre);
                if key.is_some() {
                    gre += 1;
                }
                path.push(("gre".to_owned(), key.unwrap_or(0)));
            }
            "ip" | "ipv6" if next == "ip" || next == "ipv6" => path.push(("ipip".to_owned(), 0)),
            _ => {}
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnel_path_reads_nested_layers() {
        let layers = serde_json::json!({
            "frame.protocols": ["eth:ethertype:ip:udp:geneve:ip:udp:vxlan:eth:ethertype:ip:tcp:http"],
            "geneve.vni": ["0x000000"],
            "vxlan.vni": ["77"],
        });
        assert_eq!(
            tunnel_path(&layers),
            vec![("geneve".into(), 0), ("vxlan".into(), 77)]
        );
        let layers = serde_json::json!({
            "frame.protocols": ["eth:ethertype:ip:gre:ip:tcp:http"],
        });
        assert_eq!(tunnel_path(&layers), vec![("gre".into(), 0)]);
        let layers = serde_json::json!({
            "frame.protocols": ["eth:ethertype:ip:ipv6:tcp:http"],
        });
        assert_eq!(tunnel_path(&layers), vec![("ipip".into(), 0)]);
        assert_eq!(parse_num("0x0000002a"), Some(42));
        assert_eq!(parse_num("bad"), None);
    }
}
