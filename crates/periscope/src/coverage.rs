//! Capture coverage per server: "why don't I see my traffic?".
//!
//! Built from the HTTP layer's per-connection summaries (which carry the reassembler's
//! counters) and from the exchanges. One `coverage` event per server at the end of the input.

use periscope_http::{ConnectionSummary, Protocol};
use periscope_model::{Coverage, Direction, Endpoint, Event, Exchange, Flag};
use std::collections::HashMap;

/// Servers tracked individually; traffic to more servers than this is counted under the
/// table's overflow counter only (bounded memory on a SPAN port that sees a whole network).
pub const MAX_SERVERS: usize = 4096;

/// Coverage per server endpoint.
#[derive(Debug, Default)]
pub struct CoverageTable {
    servers: HashMap<Endpoint, ServerCoverage>,
    /// Connections or exchanges not tracked because the table was full.
    pub overflow: u64,
}

#[derive(Debug, Default)]
struct ServerCoverage {
    report: Coverage,
    /// Connections that carried data only towards the server / only towards the client.
    one_way: [u64; 2],
    tls_names: Vec<String>,
    other_samples: Vec<String>,
}

impl CoverageTable {
    fn entry(&mut self, server: Endpoint) -> Option<&mut ServerCoverage> {
        if !self.servers.contains_key(&server) && self.servers.len() >= MAX_SERVERS {
            self.overflow += 1;
            return None;
        }
        Some(self.servers.entry(server).or_default())
    }

    /// Records one finished connection.
    pub fn on_connection(&mut self, summary: &ConnectionSummary) {
        let Some(entry) = self.entry(summary.flow.server) else {
            return;
        };
        let report = &mut entry.report;
        if report.server.is_none() {
            report.server = Some(summary.flow.server);
            report.tunnel = summary.flow.tunnel;
        }
        let stats = &summary.stats;
        report.connections += 1;
        for dir in [Direction::ToServer, Direction::ToClient] {
            let i = dir.index();
            report.packets[i] += stats.packets[i];
            report.bytes[i] += stats.bytes[i];
            report.gap_bytes[i] += stats.gap_bytes[i];
        }
        let (to_server, to_client) = (stats.packets[0] > 0, stats.packets[1] > 0);
        if to_server != to_client {
            report.one_way_connections += 1;
            entry.one_way[if to_server { 0 } else { 1 }] += 1;
        }
        if !stats.syn && !stats.syn_ack {
            report.missing_handshakes += 1;
        }
        match &summary.protocol {
            Protocol::Tls { sni, .. } => {
                report.tls_connections += 1;
                if let Some(name) = sni {
                    if entry.tls_names.len() < 5 && !entry.tls_names.contains(name) {
                        entry.tls_names.push(name.clone());
                    }
                }
            }
            Protocol::Other { first_bytes } => {
                report.other_protocol_connections += 1;
                if entry.other_samples.len() < 3 {
                    entry.other_samples.push(first_bytes.clone());
                }
            }
            _ => {}
        }
    }

    /// Records one exchange.
    pub fn on_exchange(&mut self, ex: &Exchange) {
        let Some(entry) = self.entry(ex.flow.server) else {
            return;
        };
        let report = &mut entry.report;
        report.server.get_or_insert(ex.flow.server);
        report.exchanges += 1;
        report.no_response += u64::from(ex.has(Flag::NoResponse));
        report.no_request += u64::from(ex.has(Flag::NoRequest));
        report.truncated_bodies +=
            u64::from(ex.has(Flag::RequestTruncated) || ex.has(Flag::ResponseTruncated));
    }

    /// The coverage reports, servers sorted by address, with their notes written.
    pub fn reports(&self) -> Vec<Coverage> {
        let mut out: Vec<Coverage> = self
            .servers
            .values()
            .map(ServerCoverage::finished)
            .collect();
        out.sort_by_key(|c| c.server);
        out
    }

    /// Takes the coverage events out of the table.
    pub fn drain_events(&mut self) -> Vec<Event> {
        let events = self
            .reports()
            .into_iter()
            .map(|c| Event::Coverage(Box::new(c)))
            .collect();
        self.servers.clear();
        events
    }
}

impl ServerCoverage {
    fn finished(&self) -> Coverage {
        let mut c = self.report.clone();
        let seen: u64 = c.bytes.iter().sum();
        let lost: u64 = c.gap_bytes.iter().sum();
        c.loss_rate = if seen + lost == 0 {
            0.0
        } else {
            lost as f64 / (seen + lost) as f64
        };
        c.notes = self.notes(&c);
        c
    }

    fn notes(&self, c: &Coverage) -> Vec<String> {
        let mut notes = Vec::new();
        let pct = |n: u64, of: u64| {
            if of == 0 {
                0.0
            } else {
                100.0 * n as f64 / of as f64
            }
        };
        if c.connections > 0 && c.one_way_connections == c.connections {
            let which = if self.one_way[0] == c.connections {
                "only client→server packets seen (requests-only or asymmetric mirror)"
            } else if self.one_way[1] == c.connections {
                "only server→client packets seen (asymmetric mirror or routing)"
            } else {
                "every connection one-way, in mixed directions"
            };
            notes.push(format!("one-way mirror: {which}"));
        } else if c.one_way_connections > 0 {
            notes.push(format!(
                "{} of {} connections one-way ({:.0}%)",
                c.one_way_connections,
                c.connections,
                pct(c.one_way_connections, c.connections)
            ));
        }
        if c.missing_handshakes > 0 {
            notes.push(format!(
                "{} of {} connections without a handshake (picked up mid-stream, or SYNs not mirrored)",
                c.missing_handshakes, c.connections
            ));
        }
        if c.gap_bytes.iter().any(|&g| g > 0) {
            notes.push(format!(
                "reassembly gaps: {} bytes to server, {} to client missing (loss {:.2}%)",
                c.gap_bytes[0],
                c.gap_bytes[1],
                100.0 * c.loss_rate
            ));
        }
        if c.truncated_bodies > 0 {
            notes.push(format!(
                "{} exchanges with a truncated body",
                c.truncated_bodies
            ));
        }
        if c.no_response > 0 {
            notes.push(format!("{} requests without a response", c.no_response));
        }
        if c.no_request > 0 {
            notes.push(format!("{} responses without their request", c.no_request));
        }
        if c.tls_connections > 0 {
            let names = if self.tls_names.is_empty() {
                String::new()
            } else {
                format!(" (SNI {})", self.tls_names.join(", "))
            };
            notes.push(format!(
                "TLS seen but not decrypted on {} connections{names}: a mirror carries ciphertext; \
                 use the eBPF agent (OpenSSL uprobes) on the host for plaintext",
                c.tls_connections
            ));
        }
        if c.other_protocol_connections > 0 {
            notes.push(format!(
                "{} connections carry a protocol other than HTTP/1.x (first bytes: {})",
                c.other_protocol_connections,
                self.other_samples.join(" | ")
            ));
        }
        notes
    }
}
