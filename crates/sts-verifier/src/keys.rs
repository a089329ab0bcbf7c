//! Issuer key sets: discovery, fetching and caching.

/// Why an issuer's keys could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Placeholder until the key cache lands.
    #[error("not implemented")]
    Pending,
}
