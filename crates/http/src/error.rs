//! Errors of the HTTP stage. Traffic never produces an error (anomalies are flags and
//! counters); only a bad configuration does.

use thiserror::Error;

/// A configuration value that cannot work.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A limit was zero.
    #[error("http config: `{field}` must be greater than zero")]
    Zero {
        /// The field's name.
        field: &'static str,
    },
    /// A limit was above what the implementation supports.
    #[error("http config: `{field}` is {value}, at most {max} is supported")]
    TooLarge {
        /// The field's name.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The largest value supported.
        max: u64,
    },
}
