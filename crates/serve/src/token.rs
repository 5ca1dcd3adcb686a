//! The bearer token that guards `/api/`. There is no default token: the daemon must be given
//! one, in a file or an environment variable, and an empty or missing one is an error that
//! names where it was looked for.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The API's bearer token. `Debug` does not show it.
#[derive(Clone)]
pub struct ApiToken(Arc<str>);

/// Why no token could be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token file could not be read.
    #[error("cannot read the API token file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The environment variable is not set.
    #[error("the API token environment variable {var} is not set")]
    MissingVariable {
        /// The variable.
        var: String,
    },
    /// The environment variable is not valid Unicode.
    #[error("the API token environment variable {var} is not valid UTF-8")]
    NotUnicode {
        /// The variable.
        var: String,
    },
    /// The token is empty (or only whitespace).
    #[error("the API token from {source_name} is empty")]
    Empty {
        /// Where it came from (`file /etc/…`, `environment variable …`).
        source_name: String,
    },
    /// The token holds characters a client cannot send in an `Authorization` header.
    #[error(
        "the API token from {source_name} holds a character other than printable ASCII \
         (no spaces or control characters)"
    )]
    InvalidCharacter {
        /// Where it came from.
        source_name: String,
    },
}

impl ApiToken {
    /// A token given directly; `source_name` says where it came from, for the error.
    /// Surrounding whitespace (a trailing newline in a file) is removed.
    pub fn new(token: &str, source_name: &str) -> Result<Self, TokenError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(TokenError::Empty {
                source_name: source_name.to_string(),
            });
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::InvalidCharacter {
                source_name: source_name.to_string(),
            });
        }
        Ok(ApiToken(Arc::from(token)))
    }

    /// Reads the token from a file (its whole content, surrounding whitespace removed).
    pub fn from_file(path: &Path) -> Result<Self, TokenError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(&text, &format!("file {}", path.display()))
    }

    /// Reads the token from the environment variable `var`.
    pub fn from_env(var: &str) -> Result<Self, TokenError> {
        match std::env::var(var) {
            Ok(text) => Self::new(&text, &format!("environment variable {var}")),
            Err(std::env::VarError::NotPresent) => Err(TokenError::MissingVariable {
                var: var.to_string(),
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(TokenError::NotUnicode {
                var: var.to_string(),
            }),
        }
    }

    /// Whether `presented` is this token, in time that does not depend on where they differ
    /// (only on their lengths).
    pub fn matches(&self, presented: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(presented).into()
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_missing_tokens_are_errors_naming_their_source() {
        let err = ApiToken::new(" \n", "file /etc/periscope/token").err();
        assert!(
            matches!(&err, Some(TokenError::Empty { source_name }) if source_name.contains("/etc/periscope/token")),
            "{err:?}"
        );
        let err = ApiToken::from_env("PERISCOPE_TEST_TOKEN_THAT_IS_NEVER_SET").err();
        assert!(
            err.as_ref().is_some_and(|e| e
                .to_string()
                .contains("PERISCOPE_TEST_TOKEN_THAT_IS_NEVER_SET")),
            "{err:?}"
        );
        let err = ApiToken::from_file(Path::new("/nonexistent/periscope-token")).err();
        assert!(
            err.as_ref()
                .is_some_and(|e| e.to_string().contains("/nonexistent/periscope-token")),
            "{err:?}"
        );
        assert!(matches!(
            ApiToken::new("two words", "test"),
            Err(TokenError::InvalidCharacter { .. })
        ));
    }

    #[test]
    fn matches_only_the_exact_token() -> Result<(), TokenError> {
        let token = ApiToken::new("s3cret-token\n", "test")?;
        assert!(token.matches(b"s3cret-token"));
        assert!(!token.matches(b"s3cret-tokeN"));
        assert!(!token.matches(b"s3cret-token2"));
        assert!(!token.matches(b"s3cret"));
        assert!(!token.matches(b""));
        assert!(!format!("{token:?}").contains("s3cret"));
        Ok(())
    }
}
