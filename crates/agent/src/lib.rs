//! Periscope's eBPF agent: a host's HTTP traffic, TLS plaintext included, without a mirror.
//!
//! **Owns** the BPF program (`bpf/periscope.bpf.c`, compiled object committed as
//! `bpf/periscope.bpf.o`, rebuilt and checked by `bpf/build.sh`), its loader (aya 0.14), the
//! ring buffer reader and the per-connection tracker. **Input:** the host's syscalls
//! (tracepoints on read/write/recvfrom/sendto/readv/writev/recvmsg/sendmsg/sendfile,
//! accept/connect/close) and OpenSSL's `SSL_read`/`SSL_write` (and `_ex`, plus
//! `SSL_do_handshake` to tie an SSL object to its socket) via uprobes on every libssl the
//! running processes map. **Output:** [`StreamEvent`](periscope_model::StreamEvent)s per
//! connection — `Open{handshake: true}` when accept/connect fixed the roles, `Data` in
//! order per direction, `Gap` where chunks were lost or truncated, `Close` — exactly what
//! the reassembler would hand to the HTTP tracker. This crate does not parse HTTP.
//!
//! **Direction:** by default only the server side (connections accepted by a local process)
//! is reported, so a request between two local processes appears once. TLS connections
//! deliver OpenSSL plaintext only; their ciphertext is dropped in the kernel once OpenSSL
//! touched the socket, and in userspace when the first bytes are a TLS record.
//!
//! **Limits:** kprobes/fentry/LSM are not used (refused by the target kernels). Payload per
//! call is capped (`max_payload_per_event * max_chunks_per_call`); the rest becomes a gap,
//! as do lost ring buffer records and `sendfile` bodies. Processes using Go's crypto/tls,
//! or a statically linked OpenSSL/BoringSSL, are listed in
//! [`AgentStats::uninstrumentable`]; their TLS is not decrypted. Connections made before
//! the agent started are picked up at their next call, with roles guessed from listening
//! ports (`handshake: false`). Connections of the agent itself are never captured.
//!
//! ```no_run
//! use periscope_agent::{Agent, AgentConfig};
//! use std::time::Duration;
//! let mut agent = Agent::start(AgentConfig { ports: vec![8080], ..Default::default() })?;
//! agent.poll(Duration::from_millis(100), &mut |flow, ev| println!("{flow:?} {ev:?}"))?;
//! let stats = agent.stop(&mut |_, _| {});
//! println!("lost {}", stats.lost_events());
//! # Ok::<(), periscope_agent::AgentError>(())
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod agent;
mod config;
mod error;
mod event;
mod k8s;
mod procfs;
mod tracker;
pub mod wire;

pub use agent::{Agent, AgentStats};
pub use config::{
    AgentConfig, CaptureDirection, TlsProbeScope, MAX_CHUNKS_PER_CALL, MAX_PAYLOAD_PER_EVENT,
};
pub use error::AgentError;
pub use procfs::{ProcessCoverage, TlsCoverage};
pub use tracker::{OpaqueTls, TrackerStats};
