//! Mints short-lived web identity tokens for the caller's IAM role with STS
//! `GetWebIdentityToken`, and caches them.
//!
//! A service that calls another service's API with nothing but its IAM role embeds a
//! [`TokenSource`], asks it for a [`Token`] before each call, and sends the token as
//! `Authorization: Bearer <token>`. The receiver verifies it against the caller account's issuer
//! (its OIDC discovery and JWKS).
//!
//! - **Parameters** (audiences, signing algorithm, lifetime, request tags) are checked against
//!   the STS limits when the source is built, so a bad setting fails at start-up.
//! - **Caching**: a token is reused until a margin before its expiration; concurrent callers share
//!   one STS call.
//! - **Retries**: throttling, 5xx answers and transient connection errors are retried by the SDK
//!   (standard mode, exponential backoff with jitter), bounded by an attempt count and an overall
//!   timeout.
//! - **Errors** ([`TokenError`]) say what to change: enable outbound federation, which IAM
//!   condition keys must match, or which setting is too large.
//! - **Secrecy**: [`Token`]'s `Debug` and `Display` redact it, and this crate never logs it.
//!
//! # Endpoint
//!
//! `GetWebIdentityToken` is served by the regional STS endpoints
//! (`https://sts.<region>.amazonaws.com`), not by the global `sts.amazonaws.com`. The SDK resolves
//! the regional endpoint from the configured region (Lambda sets `AWS_REGION`), which is why a
//! region is required. `AWS_ENDPOINT_URL_STS` or the loader's `endpoint_url` overrides it, for
//! example to point at a local STS.
//!
//! # IAM
//!
//! The role needs `sts:GetWebIdentityToken` on `"*"`, ideally conditioned on
//! `sts:IdentityTokenAudience` (with `ForAllValues:StringEquals`), `sts:SigningAlgorithm` and
//! `sts:DurationSeconds`; request tags additionally need `sts:TagGetWebIdentityToken`, constrained
//! with `aws:RequestTag/<key>` and `aws:TagKeys`.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use token_source::{SigningAlgorithm, TokenSource};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let sdk_config = aws_config::load_from_env().await;
//! let tokens = TokenSource::builder(&sdk_config)
//!     .audience("https://orders.example.com")
//!     .signing_algorithm(SigningAlgorithm::Es384)
//!     .duration(Duration::from_secs(600))
//!     .build()?;
//!
//! let token = tokens.token().await?;
//! let authorization = format!("Bearer {}", token.secret());
//! # let _ = authorization;
//! # Ok(())
//! # }
//! ```
//!
//! [`TokenSource::from_env`] reads the same settings from `TOKEN_AUDIENCE`, `SIGNING_ALGORITHM`,
//! `TOKEN_DURATION_SECONDS` and `TOKEN_REQUEST_TAGS`.

mod config;
mod error;
mod source;
mod token;

pub use config::{
    ConfigError, DEFAULT_DURATION, ENV_AUDIENCE, ENV_DURATION_SECONDS, ENV_REQUEST_TAGS,
    ENV_SIGNING_ALGORITHM, MAX_AUDIENCE_CHARS, MAX_AUDIENCES, MAX_DURATION, MAX_TAG_KEY_CHARS,
    MAX_TAG_VALUE_CHARS, MAX_TAGS, MIN_DURATION, SigningAlgorithm,
};
pub use error::{RequestSummary, SharedSource, TokenError};
pub use source::{TokenSource, TokenSourceBuilder};
pub use token::Token;
