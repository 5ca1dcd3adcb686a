//! Reassembles every TCP connection of a classic pcap file (Ethernet, IPv4/IPv6) and prints
//! one line per connection and direction: length and FNV-1a hash of the delivered bytes, gap
//! bytes, and how it closed. `compare_tshark.py` checks the same numbers against tshark's
//! "follow tcp" output. Decoding here is a minimal stand-in (etherparse, no tunnels): the
//! pipeline uses the `decode` crate.
//!
//! `cargo run -p periscope-reassemble --example pcap_streams -- FILE.pcap`

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use periscope_model::{
    Direction, Endpoint, FlowId, Segment, StreamEvent, TcpFlags, Timestamp, TunnelPath,
};
use periscope_reassemble::{Reassembler, ReassemblyConfig, StreamSink};
use std::collections::HashMap;
use std::net::IpAddr;

#[derive(Default)]
struct Stream {
    client: Option<Endpoint>,
    server: Option<Endpoint>,
    len: [u64; 2],
    hash: [u64; 2],
    gap: [u64; 2],
}

#[derive(Default)]
struct Printer {
    open: HashMap<u64, Stream>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

impl StreamSink for Printer {
    fn on_event(&mut self, flow: FlowId, ev: StreamEvent<'_>) {
        match ev {
            StreamEvent::Open { client, server, .. } => {
                let s = Stream {
                    client: Some(client),
                    server: Some(server),
                    hash: [FNV_OFFSET; 2],
                    ..Default::default()
                };
                self.open.insert(flow.0, s);
            }
            StreamEvent::Data { dir, bytes, .. } => {
                if let Some(s) = self.open.get_mut(&flow.0) {
                    let d = dir.index();
                    s.len[d] += bytes.len() as u64;
                    for &b in bytes {
                        s.hash[d] = (s.hash[d] ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
                    }
                }
            }
            StreamEvent::Gap { dir, len, .. } => {
                if let Some(s) = self.open.get_mut(&flow.0) {
                    s.gap[dir.index()] += len;
                }
            }
            StreamEvent::Close { reason, stats, .. } => {
                if let Some(s) = self.open.remove(&flow.0) {
                    for dir in [Direction::ToServer, Direction::ToClient] {
                        let d = dir.index();
                        let (from, to) = match dir {
                            Direction::ToServer => (s.client, s.server),
                            Direction::ToClient => (s.server, s.client),
                        };
                        println!(
                            "flow={} from={} to={} len={} fnv={:016x} gap={} close={:?} retrans={} ooo={}",
                            flow.0,
                            from.map(|e| e.to_string()).unwrap_or_default(),
                            to.map(|e| e.to_string()).unwrap_or_default(),
                            s.len[d],
                            s.hash[d],
                            s.gap[d],
                            reason,
                            stats.retransmitted_bytes[d],
                            stats.out_of_order[d],
                        );
                    }
                }
            }
        }
    }
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: pcap_streams FILE.pcap");
        std::process::exit(2);
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let cap = match pcap_parser::parse_pcap(&data) {
        Ok((_, c)) => c,
        Err(e) => {
            eprintln!("{path}: not a classic pcap: {e:?}");
            std::process::exit(1);
        }
    };
    let nanos = matches!(cap.header.magic_number, 0xa1b2_3c4d | 0x4d3c_b2a1);
    let mut r = Reassembler::new(ReassemblyConfig::default());
    let mut out = Printer::default();
    let mut skipped = 0u64;
    for b in &cap.blocks {
        let sub = if nanos {
            b.ts_usec
        } else {
            b.ts_usec.saturating_mul(1000)
        };
        let ts = Timestamp::from_secs_nanos(u64::from(b.ts_sec), sub);
        let Ok(p) = LaxSlicedPacket::from_ethernet(b.data) else {
            skipped += 1;
            continue;
        };
        let (Some(net), Some(TransportSlice::Tcp(tcp))) = (&p.net, &p.transport) else {
            skipped += 1;
            continue;
        };
        let hdr = u32::from(tcp.data_offset()) * 4;
        let (src, dst, ip_payload) = match net {
            LaxNetSlice::Ipv4(v4) => {
                let h = v4.header();
                let l = u32::from(h.total_len()).saturating_sub(u32::from(h.ihl()) * 4);
                (
                    IpAddr::V4(h.source_addr()),
                    IpAddr::V4(h.destination_addr()),
                    l,
                )
            }
            LaxNetSlice::Ipv6(v6) => {
                let h = v6.header();
                (
                    IpAddr::V6(h.source_addr()),
                    IpAddr::V6(h.destination_addr()),
                    u32::from(h.payload_length()),
                )
            }
            LaxNetSlice::Arp(_) => {
                skipped += 1;
                continue;
            }
        };
        let payload = tcp.payload();
        let seg = Segment {
            ts,
            src: Endpoint::new(src, tcp.source_port()),
            dst: Endpoint::new(dst, tcp.destination_port()),
            tunnel: TunnelPath::default(),
            vlan: None,
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: TcpFlags(
                u8::from(tcp.fin())
                    | u8::from(tcp.syn()) << 1
                    | u8::from(tcp.rst()) << 2
                    | u8::from(tcp.psh()) << 3
                    | u8::from(tcp.ack()) << 4,
            ),
            window: tcp.window_size(),
            payload,
            payload_len: ip_payload.saturating_sub(hdr).max(payload.len() as u32),
        };
        r.process(&seg, &mut out);
    }
    r.finish(&mut out);
    eprintln!("skipped {skipped} non-TCP frames; stats: {:?}", r.stats());
}
