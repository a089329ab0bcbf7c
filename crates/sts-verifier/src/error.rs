//! Why a token was not accepted.

use crate::identity::RoleArnError;

/// Why [`crate::Verifier::verify`] rejected a token.
///
/// Every variant but [`VerifyError::KeysUnavailable`] means the token itself is not acceptable;
/// that one means the issuer's keys could not be had, and says nothing about the token.
/// [`VerifyError::reason`] gives a stable code for logs and for tools that explain a denial.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is longer than the configured limit; it was not parsed.
    #[error("token is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The token is not a compact JWS of three base64url segments with JSON header and payload.
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm that is not allowed (or `none`).
    #[error("algorithm {0:?} is not allowed")]
    AlgorithmNotAllowed(String),
    /// The header has no `kid`.
    #[error("token header has no key id")]
    MissingKeyId,
    /// The header has a `crit` member; no critical extension is understood here (RFC 7515 §4.1.11).
    #[error("token header has critical extensions")]
    CriticalHeader,
    /// The `iss` claim is missing or not a trusted issuer; no key was fetched for it.
    #[error("issuer is not trusted")]
    UntrustedIssuer,
    /// The trusted issuer publishes no usable key with the header's `kid`, even after a refetch.
    #[error("issuer has no key with id {kid:?}")]
    UnknownKey {
        /// The key id the token named (bounded in length before it is stored).
        kid: String,
    },
    /// The header's `alg` is not the algorithm of the key its `kid` names.
    #[error("algorithm does not match the key")]
    AlgorithmMismatch,
    /// The signature does not verify with the issuer's key.
    #[error("signature is invalid")]
    BadSignature,
    /// None of the token's audiences is allowed.
    #[error("audience is not allowed")]
    AudienceNotAllowed,
    /// A claim that must be present is missing or of the wrong type.
    #[error("claim {0} is missing or invalid")]
    InvalidClaim(&'static str),
    /// `exp` is in the past, beyond the leeway.
    #[error("token has expired")]
    Expired,
    /// `iat` is in the future, beyond the leeway.
    #[error("token is issued in the future")]
    IssuedInFuture,
    /// `iat` is older than the configured maximum age.
    #[error("token is older than the maximum age")]
    TooOld,
    /// `nbf` is present and in the future, beyond the leeway.
    #[error("token is not valid yet")]
    NotYetValid,
    /// `sub` is not an IAM role ARN.
    #[error("subject is not an iam role arn: {0}")]
    SubjectNotARole(#[source] RoleArnError),
    /// The `aws_account` claim is missing or differs from the account in `sub`.
    #[error("aws_account does not match the subject's account")]
    AccountMismatch,
    /// The issuer's keys could not be fetched and no usable cached copy is left.
    #[error("keys of issuer {issuer} are unavailable")]
    KeysUnavailable {
        /// The trusted issuer whose keys were wanted.
        issuer: String,
        /// Why the last fetch failed.
        #[source]
        source: crate::keys::FetchError,
    },
}

impl VerifyError {
    /// A stable, lower-case code for this failure, for logs and denial explanations.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "token_too_large",
            Self::Malformed(_) => "malformed_token",
            Self::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            Self::MissingKeyId => "missing_key_id",
            Self::CriticalHeader => "critical_header",
            Self::UntrustedIssuer => "untrusted_issuer",
            Self::UnknownKey { .. } => "unknown_key",
            Self::AlgorithmMismatch => "algorithm_mismatch",
            Self::BadSignature => "bad_signature",
            Self::AudienceNotAllowed => "audience_not_allowed",
            Self::InvalidClaim(_) => "invalid_claim",
            Self::Expired => "token_expired",
            Self::IssuedInFuture => "issued_in_future",
            Self::TooOld => "token_too_old",
            Self::NotYetValid => "token_not_yet_valid",
            Self::SubjectNotARole(_) => "subject_not_a_role",
            Self::AccountMismatch => "account_mismatch",
            Self::KeysUnavailable { .. } => "keys_unavailable",
        }
    }

    /// Whether the failure is operational (the issuer's keys could not be had) rather than a
    /// fault of the token: such a request should fail closed without blaming the caller.
    pub fn is_operational(&self) -> bool {
        matches!(self, Self::KeysUnavailable { .. })
    }
}
