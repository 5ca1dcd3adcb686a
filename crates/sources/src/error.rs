//! What can stop a source.

use std::path::PathBuf;

/// Why a source could not start or had to stop. Bad *traffic* is never an error (it is
/// counted in [`SourceStats`](crate::SourceStats) or in the decoder's statistics); these are
/// configuration and I/O failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The configuration cannot work (empty interface name, zero sizes …).
    #[error("invalid source configuration: {0}")]
    Config(String),
    /// The capture filter did not compile.
    #[error("capture filter {filter:?} does not compile: {message}")]
    Filter {
        /// The filter as configured.
        filter: String,
        /// libpcap's message.
        message: String,
    },
    /// Opening the AF_PACKET capture failed (no such interface, no `CAP_NET_RAW`, ring
    /// allocation). Retry later if the interface may appear.
    #[error("cannot capture on interface {interface}: {source}")]
    Open {
        /// Interface name.
        interface: String,
        /// What netring reported.
        #[source]
        source: netring::Error,
    },
    /// The interface disappeared (deleted, or renamed and replaced) while capturing. The source
    /// is finished: open a new one once the interface is back.
    #[error("interface {interface} disappeared")]
    InterfaceGone {
        /// Interface name.
        interface: String,
    },
    /// An I/O call failed; `what` says which.
    #[error("{what}: {source}")]
    Io {
        /// The operation and its object, e.g. "bind UDP 0.0.0.0:4789".
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The watched directory cannot be read, or the state file cannot be written.
    #[error("capture directory {}: {source}", path.display())]
    Directory {
        /// The directory or state file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    /// True when opening the same source again later may work (the interface is missing or
    /// went away, a transient I/O error), false for configuration mistakes that will fail the
    /// same way every time.
    pub fn is_retryable(&self) -> bool {
        match self {
            SourceError::Config(_) | SourceError::Filter { .. } => false,
            SourceError::Open { source, .. } => !matches!(
                source,
                netring::Error::Config(_) | netring::Error::PermissionDenied
            ),
            SourceError::InterfaceGone { .. }
            | SourceError::Io { .. }
            | SourceError::Directory { .. } => true,
        }
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        SourceError::Io {
            what: what.into(),
            source,
        }
    }
}
