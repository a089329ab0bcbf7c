//! The verification pipeline.

use crate::{ConfigError, VerifiedCaller, VerifierConfig, VerifyError};

/// Verifies tokens against the configured issuers and audiences.
#[derive(Debug, Clone)]
pub struct Verifier {}

impl Verifier {
    /// Builds a verifier.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the configuration cannot be used.
    pub fn new(_config: VerifierConfig) -> Result<Self, ConfigError> {
        Ok(Self {})
    }

    /// Fetches every trusted issuer's keys ahead of the first request.
    ///
    /// # Errors
    ///
    /// [`VerifyError::KeysUnavailable`] for the first issuer whose keys could not be fetched.
    pub async fn prefetch(&self) -> Result<(), VerifyError> {
        Ok(())
    }

    /// Verifies a compact JWS token.
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] naming the first check that failed.
    pub async fn verify(&self, _token: &str) -> Result<VerifiedCaller, VerifyError> {
        Err(VerifyError::Malformed("verifier not implemented"))
    }
}
