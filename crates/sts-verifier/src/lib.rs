//! Verifies JWTs minted by AWS STS `GetWebIdentityToken` (IAM outbound identity federation) and
//! turns them into a [`VerifiedCaller`].

mod claims;
pub mod config;
pub mod context;
mod error;
mod identity;
pub mod keys;
mod verifier;

pub use claims::{AWS_CLAIMS_KEY, AwsClaims};
pub use config::{ConfigError, VerifierConfig};
pub use error::VerifyError;
pub use identity::{
    AccountId, CallerAssertedTags, RoleArn, RoleArnError, SigningAlgorithm, VerifiedCaller,
};
pub use verifier::Verifier;
