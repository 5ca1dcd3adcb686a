//! The short run summary `analyze` prints on stderr.

use crate::analyze::Totals;
use crate::pipeline::PipelineStats;
use std::io::Write;
use std::time::Duration;

/// Writes the summary: what was read, what came out, what was lost, and how fast.
pub fn print(out: &mut impl Write, totals: &Totals, stats: &PipelineStats<'_>, elapsed: Duration) {
    // The summary is best effort: a closed stderr must not fail the run.
    let _ = write_summary(out, totals, stats, elapsed);
}

fn write_summary(
    out: &mut impl Write,
    totals: &Totals,
    stats: &PipelineStats<'_>,
    elapsed: Duration,
) -> std::io::Result<()> {
    let (decode, tcp, http) = (stats.decode, stats.reassembly, stats.http);
    let secs = elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "periscope: {} packets, {} in {:.3} s ({:.2} Gbit/s, {:.0} packets/s){}",
        totals.frames,
        human_bytes(totals.bytes),
        secs,
        totals.bytes as f64 * 8.0 / secs / 1e9,
        totals.frames as f64 / secs,
        if totals.files_failed > 0 {
            format!(", {} file(s) unreadable", totals.files_failed)
        } else {
            String::new()
        },
    )?;
    writeln!(
        out,
        "  decode: {} TCP segments, {} skipped (non-TCP or not ours), {} malformed, {} tunnelled, {} fragments reassembled",
        decode.tcp_segments,
        decode.skipped_total(),
        decode.malformed_total(),
        decode.tunnels_by_kind().map(|(_, n)| n).sum::<u64>(),
        decode.fragments.reassembled,
    )?;
    let closed = &tcp.closed;
    writeln!(
        out,
        "  tcp: {} flows ({} with handshake; closed {} fin, {} rst, {} idle, {} evicted), {} gaps ({} bytes missing), {} retransmitted bytes, {} segments dropped",
        tcp.flows_created,
        tcp.flows_with_handshake,
        closed.fin,
        closed.rst,
        closed.timeout,
        closed.evicted,
        tcp.gaps,
        tcp.gap_bytes,
        tcp.retransmitted_bytes,
        drops_total(tcp),
    )?;
    writeln!(
        out,
        "  http: {} exchanges ({} without response, {} without request), {} connections ({} http, {} tls, {} other), {} parse errors, {} truncated bodies",
        stats.exchanges,
        http.no_response,
        http.no_request,
        http.connections,
        http.connections_http1,
        http.connections_tls,
        http.connections_other + http.connections_http2,
        parse_errors_total(http),
        http.truncated_bodies,
    )?;
    let malformed: Vec<String> = decode
        .malformed_by_kind()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k:?} {n}"))
        .collect();
    if !malformed.is_empty() {
        writeln!(out, "  malformed packets: {}", malformed.join(", "))?;
    }
    Ok(())
}

fn drops_total(tcp: &periscope_reassemble::ReassemblyStats) -> u64 {
    let d = &tcp.drops;
    d.after_close + d.data_after_fin + d.out_of_window + d.rst_without_flow + d.bad_payload_len
}

fn parse_errors_total(http: &periscope_http::HttpStats) -> u64 {
    let p = &http.parse_errors;
    p.bad_start_line + p.malformed_head + p.too_many_headers + p.header_too_large + p.invalid_chunk
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn human_bytes_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
