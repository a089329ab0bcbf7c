//! A Lambda function that calls a protected API with nothing but its IAM role.
//!
//! Each invocation mints (or reuses) an STS web identity token through
//! [`token_source::TokenSource`], calls the protected REST or HTTP API with
//! `Authorization: Bearer <token>`, and returns the API's status and body together with the
//! identity the token presents.
//!
//! # Event
//!
//! ```json
//! {"api": "rest", "method": "GET", "path": "/hello", "body": {"optional": "json"}}
//! ```
//!
//! Every field is optional (`rest`, `GET`, `/hello`, no body). `path` is appended to the API's
//! base URL and is restricted so the token can only go there: it must start with `/`, hold only
//! RFC 3986 path characters (no query, fragment, spaces or non-ASCII), and contain no empty, `.`
//! or `..` segments nor encoded dots or slashes. Redirects are not followed.
//!
//! # Output
//!
//! ```json
//! {"status": 200, "body": {"message": "hello"}, "api": "rest", "method": "GET",
//!  "url": "https://…/prod/hello", "calledAs": {"roleArn": "arn:aws:iam::…:role/…", …}}
//! ```
//!
//! A non-2xx answer is returned the same way. A refused event, a token that cannot be minted, or
//! an API that cannot be reached is a function error whose `errorType` names the cause (see
//! [`CallerError::error_type`]).

mod call;
mod config;
mod error;
mod event;
mod identity;

use aws_config::SdkConfig;
use serde::Serialize;
use serde_json::Value;
use token_source::TokenSource;
use tracing::{debug, warn};

pub use call::{MAX_RESPONSE_BYTES, http_client};
pub use config::{BaseUrl, Config, ConfigError, ENV_HTTP_URL, ENV_REST_URL, ENV_TIMEOUT_MS};
pub use error::{CallerError, StartupError};
pub use event::{Api, CallRequest, EventError, MAX_BODY_BYTES, MAX_PATH_BYTES};
pub use identity::CalledAs;

/// What the handler needs, built once per execution environment.
#[derive(Debug, Clone)]
pub struct Deps {
    /// Mints and caches the tokens.
    pub tokens: TokenSource,
    /// The HTTP client, with timeouts and without redirects.
    pub http: reqwest::Client,
    /// Where the protected APIs are.
    pub config: Config,
}

impl Deps {
    /// Reads the token and API settings from the environment and builds the clients.
    ///
    /// # Errors
    ///
    /// A [`StartupError`] naming the invalid setting.
    pub fn from_env(sdk_config: &SdkConfig) -> Result<Self, StartupError> {
        let tokens = TokenSource::from_env(sdk_config)?;
        let config = Config::from_env()?;
        let http = http_client(&config).map_err(StartupError::HttpClient)?;
        Ok(Self {
            tokens,
            http,
            config,
        })
    }
}

/// The function's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallOutcome {
    /// The protected API's HTTP status.
    pub status: u16,
    /// Its body: JSON when it sent JSON, else text, `null` when empty.
    pub body: Value,
    /// Which API was called.
    pub api: &'static str,
    /// The method used.
    pub method: String,
    /// The URL called.
    pub url: String,
    /// The identity the token presented, read from the token (not verified here).
    pub called_as: Option<CalledAs>,
}

/// Handles one invocation: checks the event, gets a token, calls the API, reports the answer.
///
/// # Errors
///
/// A [`CallerError`] when the event is refused, no token can be minted, or the API cannot be
/// reached or answers too much; never for a non-2xx status.
pub async fn handle(event: Value, deps: &Deps) -> Result<CallOutcome, CallerError> {
    let request = CallRequest::from_event(event)
        .inspect_err(|err| warn!(reason = %err, "refused caller event"))?;
    let base = match request.api {
        Api::Rest => &deps.config.rest_api,
        Api::Http => deps
            .config
            .http_api
            .as_ref()
            .ok_or(CallerError::HttpApiNotConfigured)?,
    };
    let url = base
        .join(&request.path)
        .ok_or(CallerError::PathEscapesBase)?;

    let token = deps.tokens.token().await.map_err(CallerError::Token)?;
    let called_as = CalledAs::from_token(token.secret());

    let answer = call::send(&deps.http, &deps.config, url.clone(), &request, &token)
        .await
        .inspect_err(|err| warn!(error = %err, "protected api call failed"))?;
    debug!(
        api = request.api.as_str(),
        method = %request.method,
        url = %url,
        status = answer.status,
        role_arn = called_as.as_ref().and_then(|c| c.role_arn.as_deref()),
        "called protected api"
    );
    Ok(CallOutcome {
        status: answer.status,
        body: answer.body,
        api: request.api.as_str(),
        method: request.method.to_string(),
        url: url.to_string(),
        called_as,
    })
}
