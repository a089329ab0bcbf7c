//! Why an invocation failed, and the `errorType` Lambda reports for it.

use std::error::Error as StdError;

use lambda_runtime::Diagnostic;
use token_source::TokenError;

use crate::config::ConfigError;
use crate::event::EventError;

/// Why the function could not produce an answer from the protected API.
///
/// A non-2xx answer from the API is not an error: it is returned as data with its status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallerError {
    /// The event was refused before any token was minted.
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] EventError),
    /// The event asked for the HTTP API but none is configured.
    #[error("the http api was requested but PROTECTED_HTTP_API_URL is not set")]
    HttpApiNotConfigured,
    /// The path would leave the configured base URL once joined to it.
    #[error("the path does not stay under the configured base url")]
    PathEscapesBase,
    /// No token could be minted.
    #[error("could not obtain a web identity token: {0}")]
    Token(#[source] TokenError),
    /// The protected API could not be connected to.
    #[error("could not reach the protected api at {url}: {}", chain(.source))]
    ApiUnreachable {
        /// The URL called.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The protected API did not answer within `HTTP_TIMEOUT_MS`.
    #[error("the protected api at {url} did not answer within {timeout_ms} ms")]
    ApiTimeout {
        /// The URL called.
        url: String,
        /// The configured limit.
        timeout_ms: u128,
    },
    /// The call failed after connecting, for example while reading the body.
    #[error("the call to the protected api at {url} failed: {}", chain(.source))]
    ApiRequest {
        /// The URL called.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The answer's body was larger than this function reads.
    #[error("the protected api at {url} answered with more than {limit} bytes")]
    ResponseTooLarge {
        /// The URL called.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
}

impl CallerError {
    /// The stable `errorType` reported to Lambda, naming the cause.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidEvent(_) | Self::PathEscapesBase => "InvalidEvent",
            Self::HttpApiNotConfigured => "NotConfigured",
            Self::Token(err) => token_error_type(err),
            Self::ApiUnreachable { .. } => "ApiUnreachable",
            Self::ApiTimeout { .. } => "ApiTimeout",
            Self::ApiRequest { .. } => "ApiRequestFailed",
            Self::ResponseTooLarge { .. } => "ApiResponseTooLarge",
        }
    }
}

fn token_error_type(err: &TokenError) -> &'static str {
    match err {
        TokenError::FederationDisabled { .. } => "FederationDisabled",
        TokenError::AccessDenied { .. } => "TokenAccessDenied",
        TokenError::SessionDurationEscalation { .. } => "TokenDurationTooLong",
        TokenError::PayloadTooLarge { .. } => "TokenTooLarge",
        TokenError::Throttled { .. } => "StsThrottled",
        TokenError::ServiceUnavailable { .. } => "StsUnavailable",
        TokenError::Timeout { .. } => "StsTimeout",
        TokenError::Unreachable { .. } => "StsUnreachable",
        TokenError::Request { .. } => "StsRequestFailed",
        TokenError::Rejected { .. } => "StsRejected",
        _ => "TokenUnavailable",
    }
}

impl From<CallerError> for Diagnostic {
    fn from(err: CallerError) -> Self {
        Diagnostic {
            error_type: err.error_type().to_owned(),
            error_message: err.to_string(),
        }
    }
}

/// Why the function cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// The token settings are invalid.
    #[error("invalid token settings: {0}")]
    Token(#[from] token_source::ConfigError),
    /// The API settings are invalid.
    #[error("invalid api settings: {0}")]
    Config(#[from] ConfigError),
    /// The HTTP client could not be built.
    #[error("could not build the http client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// An error and its causes, joined by `: `, since reqwest puts the useful part in the sources.
fn chain(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
