//! Errors of this crate: only configuration can fail; traffic never does.

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `key` has a bad value.
    #[error("behaviour config: {key}: {reason}")]
    Invalid {
        /// The config key, as spelled in the config file.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}
