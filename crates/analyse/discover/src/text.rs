//! The inventory, drift and changes as text for a person.

use crate::drift::Drift;
use crate::inventory::Inventory;
use crate::state::Changes;
use std::fmt::Write;

/// Renders the inventory (and drift and changes when given).
pub fn render(inv: &Inventory, drift: Option<&Drift>, changes: Option<&Changes>) -> String {
    let mut out = String::new();
    let eps = inv.endpoints();
    for host in inv.hosts() {
        let mine: Vec<_> = eps.iter().filter(|e| e.host == host).collect();
        let assets = inv.assets(&host);
        let _ = writeln!(
            out,
            "{host}: {} endpoints, {} static assets/pages",
            mine.len(),
            assets.len()
        );
        for e in mine {
            let auth: Vec<String> = e.auth.iter().map(|(a, _)| a.label()).collect();
            let statuses: Vec<String> = e.responses.iter().map(|r| r.status.to_string()).collect();
            let _ = writeln!(
                out,
                "  {:<7} {}  hits={} risk={} auth={} status={}",
                e.method,
                e.path,
                e.hits,
                e.risk,
                auth.join(","),
                statuses.join(",")
            );
            for p in &e.params {
                let fmt = p
                    .format
                    .as_deref()
                    .map(|f| format!("/{f}"))
                    .unwrap_or_default();
                let req = if p.required { " required" } else { "" };
                let _ = writeln!(
                    out,
                    "      {:<6} {}: {}{}{}",
                    p.location.as_str(),
                    p.name,
                    p.ty,
                    fmt,
                    req
                );
            }
            for s in &e.sensitive {
                let _ = writeln!(
                    out,
                    "      sensitive {} at {} ({}x)",
                    s.kind.as_str(),
                    s.place,
                    s.count
                );
            }
            for r in &e.risk_reasons {
                let _ = writeln!(out, "      risk: {r}");
            }
        }
        if !assets.is_empty() {
            let total: u64 = assets.iter().map(|(_, a)| a.hits).sum();
            let _ = writeln!(out, "  static: {} paths, {} requests", assets.len(), total);
        }
    }
    let s = inv.stats();
    let _ = writeln!(
        out,
        "exchanges={} without_request={} assets={} learned_params={} dropped(host={}, endpoint={}, param={}) unparsed_bodies={}",
        s.exchanges, s.without_request, s.assets, s.learned_params, s.dropped_host_cap, s.dropped_endpoint_cap, s.dropped_params, s.unparsed_bodies
    );
    if let Some(d) = drift {
        let _ = writeln!(
            out,
            "\ndrift: {} shadow, {} orphan, {} zombie, {} mismatches",
            d.shadow.len(),
            d.orphan.len(),
            d.zombie.len(),
            d.mismatches.len()
        );
        for e in &d.shadow {
            let _ = writeln!(
                out,
                "  shadow  {} {} {} ({} hits)",
                e.host, e.method, e.path, e.hits
            );
        }
        for e in &d.orphan {
            let _ = writeln!(out, "  orphan  {} {}", e.method, e.path);
        }
        for e in &d.zombie {
            let _ = writeln!(
                out,
                "  zombie  {} {} {}: {}",
                e.host, e.method, e.path, e.note
            );
        }
        for m in &d.mismatches {
            let _ = writeln!(out, "  mismatch {}: {}", m.endpoint, m.detail);
        }
    }
    if let Some(c) = changes {
        let _ = writeln!(
            out,
            "\nchanges: {} new, {} changed, {} silent",
            c.new_endpoints.len(),
            c.changed.len(),
            c.silent.len()
        );
        for e in &c.new_endpoints {
            let _ = writeln!(out, "  new     {e}");
        }
        for ch in &c.changed {
            let _ = writeln!(
                out,
                "  changed {}: +{:?} -{:?} retyped {:?} new statuses {:?}",
                ch.endpoint, ch.added_params, ch.missing_params, ch.retyped_params, ch.new_statuses
            );
        }
        for s in &c.silent {
            let _ = writeln!(out, "  silent  {} since {}", s.endpoint, s.last_seen);
        }
    }
    out
}
