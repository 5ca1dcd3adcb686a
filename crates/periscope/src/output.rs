//! Writers for the event stream: NDJSON for machines, a table for people.

use periscope_model::attack::Attack;
use periscope_model::endpoint::EndpointEvent;
use periscope_model::{Coverage, Event, Exchange, Incident, Vulnerability};
use std::collections::HashMap;
use std::io::{self, Write};

/// Output format of `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line, each with a `"type"` (the schema in the README).
    Json,
    /// A readable table of exchanges, then a coverage section.
    Text,
}

/// Writes events as they come. Errors are I/O errors of the output (a closed pipe ends the run).
pub trait EventWriter {
    /// Writes one event.
    fn write(&mut self, event: &Event) -> io::Result<()>;
    /// Writes what was held back and flushes.
    fn finish(&mut self) -> io::Result<()>;
}

/// NDJSON: one event per line.
pub struct JsonWriter<W: Write> {
    out: W,
}

impl<W: Write> JsonWriter<W> {
    /// Writes to `out` (buffer it: one write per event otherwise).
    pub fn new(out: W) -> Self {
        JsonWriter { out }
    }
}

impl<W: Write> EventWriter for JsonWriter<W> {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A table of exchanges as they complete; attacks, the API inventory and coverage at the end.
pub struct TextWriter<W: Write> {
    out: W,
    header_written: bool,
    coverage: Vec<Coverage>,
    attacks: Vec<Attack>,
    endpoints: Vec<EndpointEvent>,
    vulnerabilities: Vec<Vulnerability>,
    incidents: Vec<Incident>,
}

impl<W: Write> TextWriter<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        TextWriter {
            out,
            header_written: false,
            coverage: Vec::new(),
            attacks: Vec::new(),
            endpoints: Vec::new(),
            vulnerabilities: Vec::new(),
            incidents: Vec::new(),
        }
    }

    fn exchange_row(&mut self, ex: &Exchange) -> io::Result<()> {
        if !self.header_written {
            writeln!(
                self.out,
                "{:<15} {:<45} {:<7} {:<50} {:>6} {:>8} {:>8}  FLAGS",
                "TIME", "CLIENT → SERVER", "METHOD", "TARGET", "STATUS", "REQ B", "RESP B"
            )?;
            self.header_written = true;
        }
        let time = ex.ts.to_rfc3339();
        let time = time.get(11..26).unwrap_or(&time);
        let flow = format!("{} → {}", ex.flow.client, ex.flow.server);
        let (method, target, req_len) = match &ex.request {
            Some(r) => (r.method.as_str(), r.target.as_str(), r.body.len.to_string()),
            None => ("-", "(request not captured)", "-".to_string()),
        };
        let (status, resp_len) = match &ex.response {
            Some(r) => (r.status.to_string(), r.body.len.to_string()),
            None => ("-".to_string(), "-".to_string()),
        };
        let flags: Vec<String> = ex.flags.iter().map(name_of).collect();
        let mut tunnel = String::new();
        for t in ex.flow.tunnel.iter() {
            let kind = name_of(&t.kind);
            tunnel.push_str(&format!(" {kind}:{}", t.id));
        }
        writeln!(
            self.out,
            "{time:<15} {flow:<45} {method:<7} {:<50} {status:>6} {req_len:>8} {resp_len:>8}  {}{tunnel}",
            ellipsize(target, 50),
            flags.join(",")
        )
    }

    fn attack_section(&mut self) -> io::Result<()> {
        if self.attacks.is_empty() {
            return Ok(());
        }
        writeln!(self.out, "\nATTACKS ({})", self.attacks.len())?;
        writeln!(
            self.out,
            "{:>6} {:<22} {:<12} {:<28} {:<10} {:<40} EVIDENCE",
            "EXCH", "CLIENT", "CLASS", "POINT", "OUTCOME", "MATCHED"
        )?;
        for a in &self.attacks {
            let outcome = name_of(&a.outcome);
            writeln!(
                self.out,
                "{:>6} {:<22} {:<12} {:<28} {:<10} {:<40} {}",
                a.exchange_id,
                a.client.to_string(),
                a.class,
                ellipsize(&a.point, 28),
                outcome,
                ellipsize(&a.excerpt.replace(['\r', '\n'], " "), 40),
                ellipsize(a.evidence.as_deref().unwrap_or(""), 60),
            )?;
        }
        Ok(())
    }

    fn endpoint_section(&mut self) -> io::Result<()> {
        if self.endpoints.is_empty() {
            return Ok(());
        }
        writeln!(
            self.out,
            "\nAPI INVENTORY ({} endpoints)",
            self.endpoints.len()
        )?;
        writeln!(
            self.out,
            "{:<7} {:<30} {:<50} {:>6} {:>4}  AUTH / SENSITIVE",
            "METHOD", "HOST", "PATH", "HITS", "RISK"
        )?;
        for e in &self.endpoints {
            writeln!(
                self.out,
                "{:<7} {:<30} {:<50} {:>6} {:>4}  {} / {}",
                e.method,
                ellipsize(&e.host, 30),
                ellipsize(&e.path, 50),
                e.hits,
                e.risk,
                e.auth.join(","),
                e.sensitive.join(","),
            )?;
        }
        Ok(())
    }

    fn vulnerability_section(&mut self) -> io::Result<()> {
        if self.vulnerabilities.is_empty() {
            return Ok(());
        }
        let latest = latest_by_key(&self.vulnerabilities, |v| &v.key);
        writeln!(self.out, "\nVULNERABILITIES ({})", latest.len())?;
        writeln!(
            self.out,
            "{:<9} {:<26} {:<30} {:<36} {:>6}  TITLE / EVIDENCE",
            "SEVERITY", "KIND", "HOST", "ENDPOINT", "COUNT"
        )?;
        for v in latest {
            writeln!(
                self.out,
                "{:<9} {:<26} {:<30} {:<36} {:>6}  {} / {}",
                name_of(&v.severity),
                v.kind,
                ellipsize(&v.host, 30),
                ellipsize(&format!("{} {}", v.method, v.endpoint), 36),
                v.count,
                v.title,
                ellipsize(&v.evidence.replace(['\r', '\n'], " "), 60),
            )?;
        }
        Ok(())
    }

    fn incident_section(&mut self) -> io::Result<()> {
        if self.incidents.is_empty() {
            return Ok(());
        }
        let latest = latest_by_key(&self.incidents, |i| &i.key);
        writeln!(self.out, "\nINCIDENTS ({})", latest.len())?;
        writeln!(
            self.out,
            "{:<9} {:<20} {:<28} {:<30} {:>7}  SUMMARY",
            "SEVERITY", "KIND", "CLIENT", "HOST", "COUNT"
        )?;
        for i in latest {
            writeln!(
                self.out,
                "{:<9} {:<20} {:<28} {:<30} {:>7}  {}",
                name_of(&i.severity),
                i.kind,
                ellipsize(&i.client, 28),
                ellipsize(&i.host, 30),
                i.count,
                i.summary,
            )?;
        }
        Ok(())
    }

    fn coverage_section(&mut self) -> io::Result<()> {
        if self.coverage.is_empty() {
            return Ok(());
        }
        writeln!(self.out, "\nCAPTURE COVERAGE")?;
        writeln!(
            self.out,
            "{:<45} {:>6} {:>10} {:>10} {:>9} {:>7}",
            "SERVER", "CONNS", "PKTS →S", "PKTS →C", "EXCHANGES", "LOSS"
        )?;
        for c in &self.coverage {
            let server = c
                .server
                .map(|s| s.to_string())
                .unwrap_or_else(|| "?".into());
            writeln!(
                self.out,
                "{server:<45} {:>6} {:>10} {:>10} {:>9} {:>6.2}%",
                c.connections,
                c.packets[0],
                c.packets[1],
                c.exchanges,
                100.0 * c.loss_rate
            )?;
            for note in &c.notes {
                writeln!(self.out, "    ! {note}")?;
            }
        }
        Ok(())
    }
}

impl<W: Write> EventWriter for TextWriter<W> {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Exchange(ex) => self.exchange_row(ex),
            Event::Coverage(c) => {
                self.coverage.push((**c).clone());
                Ok(())
            }
            Event::Attack(a) => {
                self.attacks.push((**a).clone());
                Ok(())
            }
            Event::Endpoint(e) => {
                self.endpoints.push((**e).clone());
                Ok(())
            }
            Event::Vulnerability(v) => {
                self.vulnerabilities.push((**v).clone());
                Ok(())
            }
            Event::Incident(i) => {
                self.incidents.push((**i).clone());
                Ok(())
            }
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.attack_section()?;
        self.vulnerability_section()?;
        self.incident_section()?;
        self.endpoint_section()?;
        self.coverage_section()?;
        self.out.flush()
    }
}

/// The last event of each key (findings are re-emitted as they grow), in order of first appearance.
fn latest_by_key<T>(items: &[T], key: impl Fn(&T) -> &String) -> Vec<&T> {
    let mut index: HashMap<&String, usize> = HashMap::new();
    let mut latest: Vec<&T> = Vec::new();
    for item in items {
        match index.get(key(item)) {
            Some(&i) => latest[i] = item,
            None => {
                index.insert(key(item), latest.len());
                latest.push(item);
            }
        }
    }
    latest
}

/// The serialized name of a unit enum value (`high`, `succeeded`, `vxlan`), `?` if it has none.
fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".to_string())
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsize_counts_characters() {
        assert_eq!(ellipsize("abc", 5), "abc");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
        assert_eq!(ellipsize("ééééé", 3), "éé…");
    }
}
