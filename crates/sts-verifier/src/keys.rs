//! Issuer key sets: parsing a JWKS into ready verification keys, fetching it through OIDC
//! discovery, and caching it per issuer.
//!
//! Keys come from `{iss}/.well-known/openid-configuration`, whose `jwks_uri` must stay on the
//! issuer's own origin. When the issuer has no discovery document (404), the key set is read from
//! `{iss}/.well-known/jwks.json`, where STS publishes it; any other discovery failure is an error,
//! so a broken or hostile discovery document is noticed rather than silently bypassed. The
//! discovered `jwks_uri` is remembered for the life of the process: key rotation changes the key
//! set, not its address.

mod cache;
mod fetch;
mod jwks;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use self::cache::{CachePolicy, KeyCache};
pub(crate) use self::fetch::Fetcher;
pub(crate) use self::jwks::{KeySet, VerificationKey, valid_kid};

/// Why an issuer's keys could not be had.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request failed before a response arrived (connection, TLS, protocol).
    #[error("request to {url} failed")]
    Request {
        /// The URL asked for.
        url: String,
        /// What the HTTP client reported.
        #[source]
        source: Arc<reqwest::Error>,
    },
    /// Discovery and key set together took longer than the fetch timeout.
    #[error("fetching keys took longer than {0:?}")]
    Timeout(Duration),
    /// The issuer answered with a status other than 200; redirects are not followed.
    #[error("{url} answered with status {status}")]
    Status {
        /// The URL asked for.
        url: String,
        /// The status code received.
        status: u16,
    },
    /// The body was larger than the document size limit; reading stopped at the limit.
    #[error("{url} answered with more than {limit} bytes")]
    TooLarge {
        /// The URL asked for.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The discovery document is not JSON with string `issuer` and `jwks_uri` members.
    #[error("discovery document is invalid: {0}")]
    InvalidDiscovery(&'static str),
    /// The discovery document names another issuer (OpenID Connect Discovery §4.3).
    #[error("discovery document names issuer {found:?}")]
    IssuerMismatch {
        /// The `issuer` the document holds (truncated).
        found: String,
    },
    /// The discovery document's `jwks_uri` leaves the issuer's origin (scheme, host and port).
    #[error("jwks_uri {uri:?} is not on the issuer's origin")]
    ForeignJwksUri {
        /// The `jwks_uri` the document holds (truncated).
        uri: String,
    },
    /// The key set is not a JSON object with a `keys` array of at most the allowed length.
    #[error("key set is invalid: {0}")]
    InvalidKeySet(&'static str),
    /// The key set parsed but holds no key this verifier can use.
    #[error("key set holds no usable key")]
    NoUsableKeys,
    /// The cached keys are past the staleness limit and no fetch is allowed yet.
    #[error("cached keys are older than the staleness limit")]
    StaleKeys,
}

/// Keeps untrusted text short enough for an error message or a log line.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
