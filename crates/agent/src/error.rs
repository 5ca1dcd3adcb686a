//! Why the agent cannot start or continue.

use std::path::PathBuf;

/// An error of the agent. Anomalies in the captured traffic are counters in
/// [`AgentStats`](crate::AgentStats), not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The configuration is invalid.
    #[error("agent config: {field}: {why}")]
    Config {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// Not running as root (or without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN).
    #[error("the eBPF agent must run as root or with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (effective uid is {uid})")]
    NotRoot {
        /// The effective user id.
        uid: u32,
    },
    /// The kernel exposes no BTF, which the CO-RE object needs.
    #[error(
        "kernel BTF missing: {path} does not exist (build the kernel with CONFIG_DEBUG_INFO_BTF=y)"
    )]
    NoBtf {
        /// Where BTF was looked for.
        path: PathBuf,
    },
    /// A pseudo file system could not be mounted.
    #[error("cannot mount {fs} at {path}: {source}")]
    Mount {
        /// `bpf` or `tracefs`.
        fs: &'static str,
        /// The mount point.
        path: PathBuf,
        /// The system error.
        source: nix::Error,
    },
    /// The kernel refused to load the object (a map or the verifier).
    #[error("the kernel refused the BPF object: {0}")]
    Load(#[source] Box<aya::EbpfError>),
    /// One program could not be loaded or attached: the kernel refuses the program type,
    /// the verifier rejected it, or the attach point does not exist.
    #[error("BPF program {program} ({kind} {attach}) refused: {source}")]
    Program {
        /// Program name in the object.
        program: &'static str,
        /// Program type.
        kind: &'static str,
        /// Tracepoint or symbol.
        attach: String,
        /// What the kernel said.
        #[source]
        source: Box<aya::programs::ProgramError>,
    },
    /// A map the object should contain is missing or has the wrong type.
    #[error("BPF map {name}: {why}")]
    Map {
        /// Map name.
        name: &'static str,
        /// What went wrong.
        why: String,
    },
    /// Waiting on the ring buffer failed.
    #[error("polling the ring buffer: {0}")]
    Poll(#[source] nix::Error),
    /// Reading /proc or /sys failed where it must not.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}
