//! Every way a request can fail, and the one place that turns it into a response: a status
//! and a JSON body `{"error": "..."}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use periscope_store::StoreError;

/// Seconds a client is told to wait after a 503.
const RETRY_AFTER_SECS: &str = "5";

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A query parameter is missing, unknown or malformed (400).
    #[error("parameter `{parameter}`: {message}")]
    BadParameter {
        /// Its name.
        parameter: String,
        /// What is wrong with it.
        message: String,
    },
    /// The query string could not be read at all, or names an unknown parameter (400).
    #[error("bad query string: {0}")]
    BadQuery(String),
    /// No `Authorization: Bearer` header (401).
    #[error("this route needs an `Authorization: Bearer <token>` header")]
    MissingToken,
    /// A bearer token that is not the API's (401).
    #[error("the bearer token is not valid")]
    WrongToken,
    /// Nothing here (404).
    #[error("{0}")]
    NotFound(String),
    /// The store failed (503; 400 for a query it refused). Its message names the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Too many store queries are running, or one took too long (503).
    #[error("store busy: {0}")]
    StoreBusy(&'static str),
}

impl ApiError {
    /// A 400 naming `parameter`.
    pub fn bad_parameter(parameter: &str, message: String) -> Self {
        ApiError::BadParameter {
            parameter: parameter.to_string(),
            message,
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } | ApiError::BadQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::Store(StoreError::InvalidQuery(_)) => StatusCode::BAD_REQUEST,
            ApiError::MissingToken | ApiError::WrongToken => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Store(_) | ApiError::StoreBusy(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// The error body.
#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "API request failed");
        }
        let parameter = match &self {
            ApiError::BadParameter { parameter, .. } => Some(parameter.as_str()),
            _ => None,
        };
        let body = ErrorBody {
            error: self.to_string(),
            parameter,
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            // RFC 6750 §3: a challenge on every 401, with the error code when a token was sent.
            ApiError::MissingToken => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"periscope\""),
                );
            }
            ApiError::WrongToken => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"periscope\", error=\"invalid_token\""),
                );
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECS),
                );
            }
            _ => {}
        }
        response
    }
}
