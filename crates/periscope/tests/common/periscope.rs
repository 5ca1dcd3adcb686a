//! Running `periscope analyze FILE --format json` and reading its NDJSON.

use super::run;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// One exchange reduced to the fields the tests compare.
#[derive(Debug, Clone)]
pub struct Ex {
    /// `flow_id`.
    pub flow_id: u64,
    /// `flow.client` as `ip:port`-ish text.
    pub client: String,
    /// `flow.server`.
    pub server: String,
    /// `flow.tunnel` as `(kind, id)`.
    pub tunnel: Vec<(String, u32)>,
    /// `flow.vlan`.
    pub vlan: Option<u16>,
    /// `request.method` (None without a request).
    pub method: Option<String>,
    /// `request.target`.
    pub target: Option<String>,
    /// `request.version`.
    pub version: Option<String>,
    /// `response.status` (None without a response).
    pub status: Option<u16>,
    /// `response.interim`.
    pub interim: Vec<u16>,
    /// `flags`.
    pub flags: Vec<String>,
    /// The whole event, for checks on headers and bodies.
    pub raw: Value,
}

impl Ex {
    /// True when `flag` is among the flags.
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// A request as `(method, target, tunnel path, VLAN)`: the shape tshark's view is reduced to.
pub type RequestKey = (String, String, Vec<(String, u32)>, Option<u16>);

/// What one run printed.
pub struct Run {
    /// Exit code (None: killed by a signal or the timeout).
    pub code: Option<i32>,
    /// `"type":"exchange"` events in output order.
    pub exchanges: Vec<Ex>,
    /// `"type":"coverage"` events.
    pub coverage: Vec<Value>,
    /// Standard error (summary, warnings).
    pub stderr: String,
}

impl Run {
    /// Requests as `(method, target)`.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.exchanges
            .iter()
            .filter_map(|e| Some((e.method.clone()?, e.target.clone()?)))
            .collect()
    }

    /// Requests as `(method, target, tunnel, vlan)`, the shape of tshark's view.
    pub fn requests_with_tunnel(&self) -> Vec<RequestKey> {
        self.exchanges
            .iter()
            .filter_map(|e| {
                Some((
                    e.method.clone()?,
                    e.target.clone()?,
                    e.tunnel.clone(),
                    e.vlan,
                ))
            })
            .collect()
    }

    /// Every status code seen, interim (1xx) codes included, as tshark counts them.
    pub fn all_statuses(&self) -> Vec<u16> {
        self.exchanges
            .iter()
            .flat_map(|e| e.interim.iter().copied().chain(e.status))
            .collect()
    }
}

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_periscope")
}

/// Runs `periscope analyze FILE --format json` and parses what it printed. Panics when it
/// panicked, timed out or printed a line that is not JSON.
pub fn analyze(file: &Path) -> Run {
    let mut cmd = Command::new(binary());
    cmd.arg("analyze").arg(file).args(["--format", "json"]);
    let out = run(cmd, Duration::from_secs(120));
    let status = out
        .status
        .unwrap_or_else(|| panic!("periscope timed out on {}", file.display()));
    assert!(
        !out.stderr.contains("panicked"),
        "periscope panicked on {}:\n{}",
        file.display(),
        out.stderr
    );
    parse_ndjson(file, &out.stdout, status.code(), out.stderr)
}

/// Parses the NDJSON `periscope analyze` printed for `file` (named in panic messages).
pub fn parse_ndjson(file: &Path, stdout: &[u8], code: Option<i32>, stderr: String) -> Run {
    let stdout = std::str::from_utf8(stdout)
        .unwrap_or_else(|e| panic!("periscope stdout on {} is not UTF-8: {e}", file.display()));
    let mut exchanges = Vec::new();
    let mut coverage = Vec::new();
    for (n, line) in stdout.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!("{} line {}: not JSON ({e}): {line}", file.display(), n + 1)
        });
        match v["type"].as_str() {
            Some("exchange") => exchanges.push(exchange(&v)),
            Some("coverage") => coverage.push(v),
            Some(_) => {}
            None => panic!("{} line {}: no \"type\": {line}", file.display(), n + 1),
        }
    }
    Run {
        code,
        exchanges,
        coverage,
        stderr,
    }
}

fn endpoint(v: &Value) -> String {
    format!("{}:{}", v["ip"].as_str().unwrap_or("?"), v["port"])
}

fn exchange(v: &Value) -> Ex {
    let req = &v["request"];
    let resp = &v["response"];
    let s = |x: &Value| x.as_str().map(str::to_owned);
    Ex {
        flow_id: v["flow_id"].as_u64().unwrap_or(u64::MAX),
        client: endpoint(&v["flow"]["client"]),
        server: endpoint(&v["flow"]["server"]),
        tunnel: v["flow"]["tunnel"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| {
                        (
                            t["kind"].as_str().unwrap_or("?").to_owned(),
                            t["id"].as_u64().unwrap_or(u64::MAX) as u32,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        vlan: v["flow"]["vlan"].as_u64().map(|x| x as u16),
        method: s(&req["method"]),
        target: s(&req["target"]),
        version: s(&req["version"]),
        status: resp["status"].as_u64().map(|x| x as u16),
        interim: resp["interim"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_u64().map(|x| x as u16))
                    .collect()
            })
            .unwrap_or_default(),
        flags: v["flags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        raw: v.clone(),
    }
}
