//! HTTP access to an issuer: discovery document and key set, bounded in size and time.

use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect::Policy;
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use super::{FetchError, KeySet, truncate};
use crate::identity::SigningAlgorithm;

/// Path of the discovery document below the issuer (OpenID Connect Discovery §4).
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path where STS publishes the key set, used when the issuer has no discovery document.
const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Fetches discovery documents and key sets.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    max_bytes: usize,
}

/// The two members of a discovery document this crate uses; STS's document has few others and
/// none is needed, so nothing else is required.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl Fetcher {
    /// A fetcher whose connections must open within `connect_timeout` and whose bodies are read
    /// up to `max_bytes`. The whole fetch is bounded by the caller (the cache), so a timeout
    /// always surfaces as [`FetchError::Timeout`].
    ///
    /// Redirects are not followed: an issuer has no reason to send one, and following it would
    /// let the key set come from elsewhere. Plain http is refused unless `allow_http`.
    pub(crate) fn new(
        connect_timeout: Duration,
        max_bytes: usize,
        allow_http: bool,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .connect_timeout(connect_timeout)
            .https_only(!allow_http)
            .user_agent(concat!("sts-verifier/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, max_bytes })
    }

    /// Finds the key set URL of `issuer` through its discovery document.
    ///
    /// # Errors
    ///
    /// A [`FetchError`] when the document cannot be read, names another issuer or points the key
    /// set to another origin.
    pub(crate) async fn discover(&self, issuer: &str) -> Result<Url, FetchError> {
        let issuer_url = parse_url(issuer)?;
        let discovery_url = parse_url(&format!("{issuer}{DISCOVERY_PATH}"))?;
        let body = match self.get(&discovery_url).await {
            Ok(body) => body,
            Err(FetchError::Status { status: 404, .. }) => {
                tracing::debug!(
                    issuer,
                    "no discovery document; using the well-known key set path"
                );
                return parse_url(&format!("{issuer}{JWKS_PATH}"));
            }
            Err(error) => return Err(error),
        };

        let document: Discovery = serde_json::from_slice(&body).map_err(|_| {
            FetchError::InvalidDiscovery("not json with string issuer and jwks_uri")
        })?;
        if document.issuer != issuer {
            return Err(FetchError::IssuerMismatch {
                found: truncate(&document.issuer, 200),
            });
        }
        let foreign = || FetchError::ForeignJwksUri {
            uri: truncate(&document.jwks_uri, 200),
        };
        let jwks_uri = Url::parse(&document.jwks_uri).map_err(|_| foreign())?;
        let same_origin = jwks_uri.origin() == issuer_url.origin()
            && jwks_uri.username().is_empty()
            && jwks_uri.password().is_none();
        if !same_origin {
            return Err(foreign());
        }
        Ok(jwks_uri)
    }

    /// Fetches and parses the key set at `jwks_uri`, keeping keys of the `allowed` algorithms.
    ///
    /// # Errors
    ///
    /// A [`FetchError`] when the body cannot be read or holds no usable key.
    pub(crate) async fn key_set(
        &self,
        jwks_uri: &Url,
        allowed: &[SigningAlgorithm],
    ) -> Result<KeySet, FetchError> {
        let body = self.get(jwks_uri).await?;
        KeySet::parse(&body, allowed)
    }

    /// GETs `url` and reads its body, refusing any status but 200 and stopping at the size limit.
    async fn get(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        let request_failed = |source| FetchError::Request {
            url: url.to_string(),
            source: Arc::new(source),
        };
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(request_failed)?;
        if response.status() != StatusCode::OK {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
            });
        }

        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit: self.max_bytes,
        };
        if response
            .content_length()
            .is_some_and(|length| length > self.max_bytes as u64)
        {
            return Err(too_large());
        }
        // The length header may be absent or wrong; count what actually arrives.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(request_failed)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn parse_url(text: &str) -> Result<Url, FetchError> {
    Url::parse(text).map_err(|_| FetchError::InvalidDiscovery("issuer does not form a valid url"))
}
