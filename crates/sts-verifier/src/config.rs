//! Verifier configuration, read once at start-up.

/// Placeholder until the configuration lands.
#[derive(Debug, Clone, Default)]
pub struct VerifierConfig {}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}
