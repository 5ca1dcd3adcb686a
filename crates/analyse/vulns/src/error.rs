//! Errors of the scanner: only configuration can fail; traffic never does.

/// A setting the scanner cannot run with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A cap or size set to zero.
    #[error("vulns config: {0} must be greater than zero")]
    Zero(&'static str),
    /// `disabled_kinds` names a kind that does not exist.
    #[error("vulns config: unknown kind {0:?} in disabled_kinds")]
    UnknownKind(String),
    /// A built-in pattern failed to compile (a bug, reported rather than panicking).
    #[error("vulns: built-in pattern does not compile: {0}")]
    Pattern(String),
}

impl From<regex::Error> for ConfigError {
    fn from(e: regex::Error) -> Self {
        ConfigError::Pattern(e.to_string())
    }
}

impl From<aho_corasick::BuildError> for ConfigError {
    fn from(e: aho_corasick::BuildError) -> Self {
        ConfigError::Pattern(e.to_string())
    }
}
