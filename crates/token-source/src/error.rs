//! What can go wrong when minting, in terms a person can act on.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::RequestId;
use aws_sdk_sts::operation::get_web_identity_token::GetWebIdentityTokenError;

use crate::config::TokenParameters;

/// A shareable error source; every waiter of one failed mint receives the same error.
pub type SharedSource = Arc<dyn StdError + Send + Sync + 'static>;

/// Why no token could be obtained.
///
/// Every variant that comes from an STS answer keeps the request id STS returned, which is also
/// the id of the CloudTrail event for the call.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Outbound identity federation is not enabled in the caller's account.
    #[error(
        "outbound identity federation is disabled in this account: enable it once with \
         `aws iam enable-outbound-web-identity-federation` or deploy the template with \
         EnableFederation=true"
    )]
    FederationDisabled {
        /// The STS request id.
        request_id: Option<String>,
    },
    /// No policy allowed the call, or one of its conditions did not match the request.
    #[error(
        "sts:GetWebIdentityToken was denied ({message}); the role's identity policy must allow \
         sts:GetWebIdentityToken on resource \"*\" with conditions this request meets: {request}"
    )]
    AccessDenied {
        /// The message STS returned.
        message: String,
        /// The STS request id.
        request_id: Option<String>,
        /// What was asked for, to compare with the policy's condition keys.
        request: Box<RequestSummary>,
    },
    /// The token would outlive the session of the credentials that asked for it.
    #[error(
        "a token lasting {duration_seconds} s would outlive the caller's own session ({message}); \
         lower TOKEN_DURATION_SECONDS or use credentials with a longer session"
    )]
    SessionDurationEscalation {
        /// The requested token lifetime.
        duration_seconds: u64,
        /// The message STS returned.
        message: String,
        /// The STS request id.
        request_id: Option<String>,
    },
    /// The token's claims would exceed the size STS allows, usually from request tags.
    #[error(
        "the token would be larger than sts allows with {tag_count} request tags ({message}); \
         send fewer or shorter tags in TOKEN_REQUEST_TAGS"
    )]
    PayloadTooLarge {
        /// How many request tags were sent.
        tag_count: usize,
        /// The message STS returned.
        message: String,
        /// The STS request id.
        request_id: Option<String>,
    },
    /// STS kept throttling the call until the retry budget ran out.
    #[error(
        "sts throttled GetWebIdentityToken ({code}) on every one of up to {max_attempts} attempts"
    )]
    Throttled {
        /// The throttling error code, such as `Throttling`.
        code: String,
        /// The configured attempt limit.
        max_attempts: u32,
        /// The STS request id of the last attempt.
        request_id: Option<String>,
    },
    /// STS kept answering with a server error until the retry budget ran out.
    #[error(
        "sts failed with http status {status} ({code}) on every one of up to {max_attempts} attempts"
    )]
    ServiceUnavailable {
        /// The HTTP status of the last answer.
        status: u16,
        /// The error code of the last answer, or `unknown`.
        code: String,
        /// The configured attempt limit.
        max_attempts: u32,
        /// The STS request id of the last attempt.
        request_id: Option<String>,
    },
    /// STS refused the request for a reason not covered above; retrying will not help.
    #[error("sts rejected GetWebIdentityToken with http status {status}, {code}: {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The STS error code, such as `ValidationError`.
        code: String,
        /// The message STS returned.
        message: String,
        /// The STS request id.
        request_id: Option<String>,
    },
    /// The call, with its retries, did not finish within the configured time.
    #[error("GetWebIdentityToken did not complete in time")]
    Timeout {
        /// The SDK's timeout error.
        #[source]
        source: SharedSource,
    },
    /// The STS endpoint could not be reached (DNS, connection, TLS).
    #[error("could not reach the sts endpoint")]
    Unreachable {
        /// The connector error.
        #[source]
        source: SharedSource,
    },
    /// The request could not be built or signed, most often because no credentials were found.
    #[error("could not build or sign the sts request; are AWS credentials available?")]
    Request {
        /// The SDK's construction error.
        #[source]
        source: SharedSource,
    },
    /// STS answered with something that is not a usable `GetWebIdentityToken` response.
    #[error("sts returned an unusable response: {reason}")]
    MalformedResponse {
        /// What was wrong with it.
        reason: &'static str,
        /// The parse error, when there is one.
        #[source]
        source: Option<SharedSource>,
    },
}

impl TokenError {
    /// The STS error code behind this error, when STS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::FederationDisabled { .. } => {
                Some("OutboundWebIdentityFederationDisabledException")
            }
            Self::AccessDenied { .. } => Some("AccessDenied"),
            Self::SessionDurationEscalation { .. } => Some("SessionDurationEscalationException"),
            Self::PayloadTooLarge { .. } => Some("JWTPayloadSizeExceededException"),
            Self::Throttled { code, .. } | Self::Rejected { code, .. } => Some(code),
            Self::ServiceUnavailable { code, .. } => Some(code),
            Self::Timeout { .. }
            | Self::Unreachable { .. }
            | Self::Request { .. }
            | Self::MalformedResponse { .. } => None,
        }
    }

    /// The STS request id of the failed call, when STS answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::FederationDisabled { request_id }
            | Self::AccessDenied { request_id, .. }
            | Self::SessionDurationEscalation { request_id, .. }
            | Self::PayloadTooLarge { request_id, .. }
            | Self::Throttled { request_id, .. }
            | Self::ServiceUnavailable { request_id, .. }
            | Self::Rejected { request_id, .. } => request_id.as_deref(),
            Self::Timeout { .. }
            | Self::Unreachable { .. }
            | Self::Request { .. }
            | Self::MalformedResponse { .. } => None,
        }
    }
}

/// The parameters of a denied request, listed against the IAM condition keys that judge them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSummary {
    /// Compared with `sts:IdentityTokenAudience`.
    pub audiences: Vec<String>,
    /// Compared with `sts:SigningAlgorithm`.
    pub algorithm: String,
    /// Compared with `sts:DurationSeconds`.
    pub duration_seconds: u64,
    /// Compared with `aws:TagKeys`; any tag also needs `sts:TagGetWebIdentityToken`.
    pub tag_keys: Vec<String>,
}

impl RequestSummary {
    fn of(parameters: &TokenParameters) -> Self {
        Self {
            audiences: parameters.audiences.clone(),
            algorithm: parameters.algorithm.as_str().to_owned(),
            duration_seconds: parameters.duration.as_secs(),
            tag_keys: parameters.tags.keys().cloned().collect(),
        }
    }
}

impl fmt::Display for RequestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sts:IdentityTokenAudience {:?}, sts:SigningAlgorithm {:?}, sts:DurationSeconds {}",
            self.audiences, self.algorithm, self.duration_seconds
        )?;
        if !self.tag_keys.is_empty() {
            write!(
                f,
                ", and for the request tags the action sts:TagGetWebIdentityToken with \
                 aws:RequestTag/<key> and aws:TagKeys {:?}",
                self.tag_keys
            )?;
        }
        Ok(())
    }
}

/// Error codes the SDK's retry classifier also treats as throttling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
];

/// Maps an SDK failure (after the SDK's own retries) to the error a person can act on.
pub(crate) fn classify(
    err: SdkError<GetWebIdentityTokenError>,
    parameters: &TokenParameters,
    max_attempts: u32,
) -> TokenError {
    match err {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            service_error(context.into_err(), status, parameters, max_attempts)
        }
        SdkError::TimeoutError(_) => TokenError::Timeout {
            source: Arc::new(err),
        },
        SdkError::DispatchFailure(ref failure) if failure.is_timeout() => TokenError::Timeout {
            source: Arc::new(err),
        },
        SdkError::DispatchFailure(_) => TokenError::Unreachable {
            source: Arc::new(err),
        },
        SdkError::ConstructionFailure(_) => TokenError::Request {
            source: Arc::new(err),
        },
        _ => TokenError::MalformedResponse {
            reason: "the response could not be parsed",
            source: Some(Arc::new(err)),
        },
    }
}

fn service_error(
    err: GetWebIdentityTokenError,
    status: u16,
    parameters: &TokenParameters,
    max_attempts: u32,
) -> TokenError {
    let request_id = err.request_id().map(str::to_owned);
    let message = err.message().unwrap_or("no message").to_owned();
    let code = err.code().map(str::to_owned);

    match err {
        GetWebIdentityTokenError::OutboundWebIdentityFederationDisabledException(_) => {
            TokenError::FederationDisabled { request_id }
        }
        GetWebIdentityTokenError::SessionDurationEscalationException(_) => {
            TokenError::SessionDurationEscalation {
                duration_seconds: parameters.duration.as_secs(),
                message,
                request_id,
            }
        }
        GetWebIdentityTokenError::JwtPayloadSizeExceededException(_) => {
            TokenError::PayloadTooLarge {
                tag_count: parameters.tags.len(),
                message,
                request_id,
            }
        }
        _ => match code {
            Some(code) if code == "AccessDenied" || code == "AccessDeniedException" => {
                TokenError::AccessDenied {
                    message,
                    request_id,
                    request: Box::new(RequestSummary::of(parameters)),
                }
            }
            Some(code) if THROTTLING_CODES.contains(&code.as_str()) => TokenError::Throttled {
                code,
                max_attempts,
                request_id,
            },
            code if status >= 500 => TokenError::ServiceUnavailable {
                status,
                code: code.unwrap_or_else(|| "unknown".to_owned()),
                max_attempts,
                request_id,
            },
            code => TokenError::Rejected {
                status,
                code: code.unwrap_or_else(|| "unknown".to_owned()),
                message,
                request_id,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SigningAlgorithm;
    use std::time::Duration;

    #[test]
    fn access_denied_names_every_condition_key_that_applies() {
        let parameters = TokenParameters::validate(
            vec!["api://orders".into()],
            SigningAlgorithm::Es384,
            Duration::from_secs(900),
            vec![("team".into(), "payments".into())],
        )
        .unwrap();
        let err = TokenError::AccessDenied {
            message: "not authorized".into(),
            request_id: None,
            request: Box::new(RequestSummary::of(&parameters)),
        };
        assert_eq!(
            err.to_string(),
            "sts:GetWebIdentityToken was denied (not authorized); the role's identity policy must \
             allow sts:GetWebIdentityToken on resource \"*\" with conditions this request meets: \
             sts:IdentityTokenAudience [\"api://orders\"], sts:SigningAlgorithm \"ES384\", \
             sts:DurationSeconds 900, and for the request tags the action \
             sts:TagGetWebIdentityToken with aws:RequestTag/<key> and aws:TagKeys [\"team\"]"
        );
    }
}
